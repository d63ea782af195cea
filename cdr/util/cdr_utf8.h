/*
 * UTF-8 as the outputs need it: PostgreSQL text and JSON strings can hold
 * neither a NUL byte nor an invalid sequence, and one bad byte in a
 * rejected record's text must not fail a whole run.  Such bytes become
 * U+FFFD, the same way in every output.
 */
#ifndef REFEREE_CDR_UTF8_H
#define REFEREE_CDR_UTF8_H

#include <stddef.h>

/* U+FFFD REPLACEMENT CHARACTER, 3 bytes. */
#define CDR_UTF8_REPLACEMENT "\xef\xbf\xbd"

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid: NUL,
 * overlong forms, surrogates, code points above U+10FFFF, a cut or bad
 * continuation. */
size_t cdr_utf8_len(const unsigned char *s, size_t n);

/* How many leading bytes, in whole 8-byte words, are 0x01..0x7f (need no
 * cleaning): the fast path for the sids, numbers and names that nearly
 * every value is. */
size_t cdr_utf8_ascii_prefix(const unsigned char *s, size_t n);

/*
 * s[0..n) with every invalid byte (and NUL) replaced by U+FFFD, into out
 * (at most 3 * n + 1 bytes needed; NUL-terminated).  Its length, or -1
 * when outsz is too small.
 */
int cdr_utf8_clean(const char *s, size_t n, char *out, size_t outsz);

#endif
