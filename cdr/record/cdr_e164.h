/*
 * The E.164 number a record's address stands for, the form the price
 * lists are keyed by.  A number written with its '+' is one already; a
 * number in a local form (no '+') is one only through the dialling plan
 * of its trunk (struct cdr_dialling): an international prefix dropped
 * (011 44 20..., 00 49 30...), or the national prefix replaced by the
 * country code (030 123... at country code 49).  Anything else (112,
 * 911, a national number on a trunk without a country code) is not a
 * number that can be priced by prefix and is refused: priced as it
 * stands, 112 would match the prefix 1 (the US).
 */
#ifndef REFEREE_CDR_E164_H
#define REFEREE_CDR_E164_H

#include "cdr/record/cdr_addr.h"
#include "cdr/record/cdr_trunk.h"

#include <stddef.h>

/*
 * The E.164 digits (without '+') of a, a number (a->ndigits > 0), under
 * dp (NULL: none) into buf (CDR_E164_MAX_DIGITS + 1 bytes at least):
 * their count, or -1 with *why saying what is missing.
 */
int cdr_e164(const struct cdr_addr *a, const struct cdr_dialling *dp, char *buf,
             size_t size, const char **why);

#endif
