/*
 * Billing increments: see rt_increment.h.
 */
#include "rating/deck/rt_increment.h"

#define RT_INCREMENT_MAX 86400u

/* 1..86400, digits only, no leading '+', at most 5 digits read. */
static int
rt_increment_number(const char *p, const char *end, uint32_t *out)
{
    uint32_t v = 0;
    if (p == end || end - p > 5)
        return -1;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10u + (uint32_t)(*p - '0');
    }
    if (v < 1 || v > RT_INCREMENT_MAX)
        return -1;
    *out = v;
    return 0;
}

int
rt_increment_parse(const char *s, size_t n, struct rt_increment *out)
{
    const char *end = s + n;
    const char *slash = s;
    while (slash < end && *slash != '/')
        slash++;
    if (slash == end)
        return -1;
    struct rt_increment inc;
    if (rt_increment_number(s, slash, &inc.first) != 0 ||
        rt_increment_number(slash + 1, end, &inc.next) != 0)
        return -1;
    *out = inc;
    return 0;
}

int64_t
rt_increment_billable(struct rt_increment inc, int64_t duration)
{
    int64_t first = inc.first > 0 ? (int64_t)inc.first : 1;
    int64_t next = inc.next > 0 ? (int64_t)inc.next : 1;
    if (duration <= 0)
        return 0;
    if (duration <= first)
        return first;
    /* rest > 0; ceil(rest / next) whole increments, saturating. */
    int64_t rest = duration - first;
    int64_t steps = rest / next + (rest % next != 0);
    if (steps > (INT64_MAX - first) / next)
        return INT64_MAX;
    return first + steps * next;
}
