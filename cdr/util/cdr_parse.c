/* Transitional forwards: see cdr_parse.h. */
#include "cdr/util/cdr_parse.h"

int
cdr_parse_uint64(const char *p, const char *end, uint64_t *out)
{
    int64_t v;
    if (cdr_decimal_parse(p, (size_t)(end - p), 0, 0, 0, &v) != 0)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int
cdr_parse_int64(const char *p, const char *end, int64_t *out)
{
    return cdr_decimal_parse(p, (size_t)(end - p), 0, 0, 1, out) == 0 ? 0 : -1;
}

int
cdr_parse_decimal_nano(const char *p, const char *end, int64_t *out)
{
    return cdr_decimal_parse(p, (size_t)(end - p), 9, 9, 1, out) == 0 ? 0 : -1;
}
