/*
 * ASCII classes for the parsers, independent of the locale (ctype's
 * isdigit and friends follow LC_CTYPE and take only unsigned char values).
 */
#ifndef REFEREE_CDR_ASCII_H
#define REFEREE_CDR_ASCII_H

#include <stddef.h>

static inline int
cdr_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline int
cdr_is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
cdr_is_alnum(char c)
{
    return cdr_is_digit(c) || cdr_is_alpha(c);
}

static inline int
cdr_is_hex(char c)
{
    return cdr_is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The value of a hex digit, or -1. */
static inline int
cdr_hex_value(char c)
{
    if (cdr_is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline char
cdr_to_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does [p, end) start with the n bytes of w, in any case? */
static inline int
cdr_starts_ieq(const char *p, const char *end, const char *w, size_t n)
{
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (cdr_to_lower(p[i]) != cdr_to_lower(w[i]))
            return 0;
    return 1;
}

#endif
