/*
 * Transitional: the strict parsers now live in cdr/util/cdr_decimal.h
 * (numbers), cdr/util/cdr_time.h (times) and cdr/record/cdr_addr.h
 * (addresses).  The names below forward to them until every caller uses
 * those headers; this header then goes.
 */
#ifndef REFEREE_CDR_PARSE_H
#define REFEREE_CDR_PARSE_H

#include "cdr/record/cdr_addr.h"
#include "cdr/util/cdr_decimal.h"
#include "cdr/util/cdr_time.h"

#include <stdint.h>

/* Non-negative decimal integer, no sign, no spaces, no overflow. 0 or -1. */
int cdr_parse_uint64(const char *p, const char *end, uint64_t *out);

/* The same with an optional leading '-', within -INT64_MAX..INT64_MAX. */
int cdr_parse_int64(const char *p, const char *end, int64_t *out);

/* Exact decimal to a count of 10^-9 units (at most 9 decimals). 0 or -1. */
int cdr_parse_decimal_nano(const char *p, const char *end, int64_t *out);

#define cdr_parse_time cdr_time_parse
#define cdr_format_time cdr_time_format

#endif
