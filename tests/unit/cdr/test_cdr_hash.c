/*
 * The one hash function and hash map: pinned hash values, and the map's
 * put/get/replace/remove under collisions, wrap-around and growth,
 * checked against a plain array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cdr/util/cdr_hash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
    char key[16];
    size_t n;
    int value;
};

static int
item_eq(const void *entry, const void *key, size_t n)
{
    const struct item *it = entry;
    return it->n == n && memcmp(it->key, key, n) == 0;
}

/* The values are part of the contract (see cdr_hash.h): a change here
 * changes which child labels a parent in a tie. */
static void
test_hash_values_are_fixed(void **state)
{
    (void)state;
    assert_true(cdr_hash("", 0) == UINT64_C(0x0a3f46e79293b578));
    assert_true(cdr_hash("CA0000000000000000000000000000000001", 36) ==
                UINT64_C(0xc68a886a8a0ad7dd));
    assert_true(cdr_hash("a", 1) != cdr_hash("b", 1));
    assert_true(cdr_hash("abcdefgh", 8) != cdr_hash("abcdefgh\0", 9));
}

static void
test_put_get_and_duplicates(void **state)
{
    (void)state;
    struct cdr_hmap m;
    assert_int_equal(cdr_hmap_init(&m, 0), 0);
    struct item a = {"alpha", 5, 1}, b = {"alpha", 5, 2};
    void *found = NULL;
    assert_int_equal(
        cdr_hmap_put(&m, cdr_hash("alpha", 5), "alpha", 5, item_eq, &a, &found),
        0);
    assert_int_equal(
        cdr_hmap_put(&m, cdr_hash("alpha", 5), "alpha", 5, item_eq, &b, &found),
        1);
    assert_ptr_equal(found, &a);
    assert_ptr_equal(
        cdr_hmap_get(&m, cdr_hash("alpha", 5), "alpha", 5, item_eq), &a);
    assert_null(cdr_hmap_get(&m, cdr_hash("beta", 4), "beta", 4, item_eq));
    assert_int_equal(
        cdr_hmap_replace(&m, cdr_hash("alpha", 5), "alpha", 5, item_eq, &b), 0);
    assert_ptr_equal(
        cdr_hmap_get(&m, cdr_hash("alpha", 5), "alpha", 5, item_eq), &b);
    assert_int_equal(
        cdr_hmap_replace(&m, cdr_hash("beta", 4), "beta", 4, item_eq, &a), -1);
    cdr_hmap_free(&m);
}

/* Hashes chosen by the test: a few home slots, so runs collide, wrap
 * around the end of the table and are cut by removals everywhere. */
static uint64_t
crowded_hash(int k, size_t cap)
{
    return (uint64_t)((size_t)(k * 7) % 3 + cap - 2) ^
           ((uint64_t)k << 40); /* equal low bits, different hashes */
}

static void
test_remove_keeps_every_other_key_reachable(void **state)
{
    (void)state;
    enum { N = 40 };
    struct item items[N];
    for (int round = 0; round < N; round++) {
        struct cdr_hmap m;
        assert_int_equal(cdr_hmap_init(&m, N), 0);
        size_t cap = m.cap;
        for (int i = 0; i < N; i++) {
            items[i].n =
                (size_t)snprintf(items[i].key, sizeof items[i].key, "k%d", i);
            items[i].value = i;
            assert_int_equal(cdr_hmap_put(&m, crowded_hash(i, cap),
                                          items[i].key, items[i].n, item_eq,
                                          &items[i], NULL),
                             0);
        }
        assert_int_equal(m.cap, cap); /* reserved: no growth */
        /* remove every third key starting at `round`, then check all */
        int gone[N] = {0};
        for (int i = round % 3; i < N; i += 3) {
            assert_ptr_equal(cdr_hmap_remove(&m, crowded_hash(i, cap),
                                             items[i].key, items[i].n, item_eq),
                             &items[i]);
            gone[i] = 1;
        }
        for (int i = 0; i < N; i++) {
            void *e = cdr_hmap_get(&m, crowded_hash(i, cap), items[i].key,
                                   items[i].n, item_eq);
            if (gone[i])
                assert_null(e);
            else
                assert_ptr_equal(e, &items[i]);
        }
        assert_null(cdr_hmap_remove(&m, crowded_hash(round % 3, cap),
                                    items[round % 3].key, items[round % 3].n,
                                    item_eq));
        cdr_hmap_free(&m);
    }
}

static void
test_growth_and_walk_see_every_entry_once(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct item *items = calloc(N, sizeof *items);
    assert_non_null(items);
    struct cdr_hmap m;
    assert_int_equal(cdr_hmap_init(&m, 0), 0);
    for (int i = 0; i < N; i++) {
        items[i].n =
            (size_t)snprintf(items[i].key, sizeof items[i].key, "sid%d", i);
        items[i].value = i;
        assert_int_equal(cdr_hmap_put(&m, cdr_hash(items[i].key, items[i].n),
                                      items[i].key, items[i].n, item_eq,
                                      &items[i], NULL),
                         0);
    }
    assert_int_equal(m.count, N);
    assert_true(m.count * 10 < m.cap * 7);
    int *seen = calloc(N, sizeof *seen);
    assert_non_null(seen);
    size_t i = 0, walked = 0;
    struct item *it;
    while ((it = cdr_hmap_next(&m, &i)) != NULL) {
        seen[it->value]++;
        walked++;
    }
    assert_int_equal(walked, N);
    for (int k = 0; k < N; k++)
        assert_int_equal(seen[k], 1);
    assert_int_equal(cdr_hmap_memory(&m), m.cap * sizeof *m.slots);
    free(seen);
    free(items);
    cdr_hmap_free(&m);
    struct cdr_hmap empty = {0};
    assert_null(cdr_hmap_get(&empty, 1, "x", 1, item_eq));
    assert_null(cdr_hmap_remove(&empty, 1, "x", 1, item_eq));
    cdr_hmap_free(&empty);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_values_are_fixed),
        cmocka_unit_test(test_put_get_and_duplicates),
        cmocka_unit_test(test_remove_keeps_every_other_key_reachable),
        cmocka_unit_test(test_growth_and_walk_see_every_entry_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
