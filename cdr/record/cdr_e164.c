#include "cdr/record/cdr_e164.h"

#include <string.h>

static int
starts_with(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return k <= n && memcmp(s, prefix, k) == 0;
}

/* cc then digits[0..n) into buf: the count, or -1 when too long. */
static int
put(const char *cc, const char *digits, size_t n, char *buf, size_t size)
{
    size_t k = strlen(cc);
    if (n == 0 || k + n > CDR_E164_MAX_DIGITS || k + n + 1 > size)
        return -1;
    memcpy(buf, cc, k);
    memcpy(buf + k, digits, n);
    buf[k + n] = '\0';
    return (int)(k + n);
}

int
cdr_e164(const struct cdr_addr *a, const struct cdr_dialling *dp, char *buf,
         size_t size, const char **why)
{
    const char *d = a->digits;
    size_t n = a->ndigits;
    *why = "more than 15 digits";
    if (a->global)
        return put("", d, n, buf, size);
    /* the longest international prefix first: 0011 before 00 */
    size_t best = 0;
    for (size_t i = 0; dp != NULL && i < dp->n_intl; i++)
        if (starts_with(d, n, dp->intl[i]) && strlen(dp->intl[i]) > best)
            best = strlen(dp->intl[i]);
    if (best > 0) {
        *why = "no number after the international prefix, or more than 15 "
               "digits";
        return put("", d + best, n - best, buf, size);
    }
    if (dp != NULL && dp->country_code[0] != '\0' &&
        starts_with(d, n, dp->national_prefix)) {
        size_t k = strlen(dp->national_prefix);
        *why = "no number after the national prefix, or more than 15 digits";
        return put(dp->country_code, d + k, n - k, buf, size);
    }
    *why = dp != NULL && dp->country_code[0] != '\0'
               ? "not E.164: no '+', and neither the trunk's international "
                 "nor its national prefix"
               : "not E.164: no '+', and the trunk gives no country_code or "
                 "international_prefixes to read it by";
    return -1;
}
