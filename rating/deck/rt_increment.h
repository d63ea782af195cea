/*
 * Billing increments "first/next" in seconds (60/60, 1/1, 60/6).
 * Billable seconds: 0 for 0; else at least `first`, then whole `next`
 * increments: 61 s at 60/6 -> 66; 59 s at 60/60 -> 60; 61 s at 60/60 -> 120.
 */
#ifndef REFEREE_RT_INCREMENT_H
#define REFEREE_RT_INCREMENT_H

#include <stddef.h>
#include <stdint.h>

struct rt_increment {
    uint32_t first, next; /* both >= 1 */
};

/* "60/60" -> {60, 60}; both 1..86400, digits only, no spaces.  0 or -1
 * (*out untouched). */
int rt_increment_parse(const char *s, size_t n, struct rt_increment *out);

/* Billable seconds for duration >= 0 (a negative duration gives 0;
 * saturates at INT64_MAX instead of overflowing). */
int64_t rt_increment_billable(struct rt_increment inc, int64_t duration);

#endif
