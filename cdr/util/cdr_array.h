/*
 * Growing arrays: the one doubling rule every growing table of the
 * project uses, with its overflow checks in one place.
 */
#ifndef REFEREE_CDR_ARRAY_H
#define REFEREE_CDR_ARRAY_H

#include <stddef.h>

/*
 * Make room for `need` elements of `elem` bytes in *p, whose capacity is
 * *cap elements: the capacity doubles from `first` until it holds them.
 * 0, or -1 when memory is short or the size overflows (*p and *cap are
 * then untouched).  p is the address of the array's pointer, cast to
 * void ** (object pointers share one representation on every platform
 * referee builds on).
 */
int cdr_array_grow_to(void **p, size_t *cap, size_t need, size_t elem,
                      size_t first);

/* The check inline: it runs for every field of every row read. */
static inline int
cdr_array_grow(void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
    return need <= *cap ? 0 : cdr_array_grow_to(p, cap, need, elem, first);
}

#endif
