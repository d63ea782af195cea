/*
 * The values both readers check, by the deck's own rules, so that what is
 * imported is what --check-deck accepts: prefixes, prices, and the text
 * shown to a reviewer.
 */
#include "rating/import/rt_import_int.h"

#include "cdr/util/cdr_array.h"
#include "cdr/util/cdr_ascii.h"
#include "cdr/util/cdr_decimal.h"
#include "cdr/util/cdr_utf8.h"

#include <stdlib.h>
#include <string.h>

int
rt_import_prefix(const char *s, size_t n, char out[RT_PREFIX_MAX + 1],
                 const char **why)
{
    /* E.164 is written with a '+'; the deck's prefixes are its digits */
    if (n > 0 && s[0] == '+') {
        s++;
        n--;
    }
    if (n == 0) {
        *why = "empty prefix";
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!cdr_is_digit(s[i])) {
            *why = "a prefix is digits only (a leading + is dropped)";
            return -1;
        }
    }
    if (n > RT_PREFIX_MAX) {
        *why = "prefix longer than 32 digits";
        return -1;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return 0;
}

int
rt_import_price(const char *s, size_t n, int64_t *nano, const char **why)
{
    int err = cdr_decimal_parse(s, n, 9, 9, 0, nano);
    switch (err) {
    case 0: break;
    case CDR_DEC_EMPTY: *why = "empty price"; return -1;
    case CDR_DEC_NEGATIVE: *why = "a price cannot be negative"; return -1;
    case CDR_DEC_PLACES:
        *why = "price with more than 9 decimal places";
        return -1;
    case CDR_DEC_RANGE: *why = "price too large"; return -1;
    default:
        *why = "a price is an exact decimal (0.0085; not .5, 1e-3, $0.50)";
        return -1;
    }
    if (n > RT_DECK_MAX_TEXT) { /* only zero padding gets here */
        *why = "price longer than 64 characters";
        return -1;
    }
    return 0;
}

/* The bytes of a character YAML reads as a line break, or that a
 * reviewer's terminal would act on: C0 controls, DEL, U+0085, U+2028,
 * U+2029. */
static int
is_break_or_control(const unsigned char *c, size_t len)
{
    if (len == 1)
        return c[0] < 0x20 || c[0] == 0x7f;
    if (len == 2)
        return c[0] == 0xc2 && c[1] == 0x85;
    return len == 3 && c[0] == 0xe2 && c[1] == 0x80 &&
           (c[2] == 0xa8 || c[2] == 0xa9);
}

size_t
rt_import_clean(const char *s, size_t n, char *out, size_t outsz)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0, i = 0;
    while (i < n) {
        size_t len = cdr_utf8_len(u + i, n - i);
        const char *put = s + i;
        size_t put_len = len;
        if (len == 0) { /* one invalid byte */
            put = CDR_UTF8_REPLACEMENT;
            put_len = 3;
            len = 1;
        } else if (is_break_or_control(u + i, len)) {
            put = " ";
            put_len = 1;
        }
        i += len;
        if (put_len == 1 && put[0] == ' ' && (o == 0 || out[o - 1] == ' '))
            continue; /* no leading or doubled spaces */
        if (o + put_len >= outsz)
            break;
        memcpy(out + o, put, put_len);
        o += put_len;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (outsz > 0)
        out[o] = '\0';
    return o;
}

int
rt_import_prefixes_add(struct rt_import_prefixes *l,
                       const char digits[RT_PREFIX_MAX + 1])
{
    if (cdr_array_grow((void **)&l->p, &l->cap, l->n + 1, sizeof *l->p, 16) !=
        0)
        return CDR_E_NOMEM;
    memcpy(l->p[l->n++], digits, sizeof *l->p);
    return 0;
}

void
rt_import_item_reset(struct rt_import_item *it)
{
    it->line = 0;
    it->where = "";
    it->dest.n = 0;
    it->orig.n = 0;
    it->rate = NULL;
    it->rate_len = 0;
    it->rate_nano = 0;
    it->desc[0] = '\0';
}

void
rt_import_item_free(struct rt_import_item *it)
{
    free(it->dest.p);
    free(it->orig.p);
    memset(it, 0, sizeof *it);
}
