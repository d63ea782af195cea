/*
 * ASCII classes for the parsers, independent of the locale (ctype's
 * isdigit and friends follow LC_CTYPE and take only unsigned char values).
 */
#ifndef REFEREE_CDR_ASCII_H
#define REFEREE_CDR_ASCII_H

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

#endif
