/*
 * Digit trie: see rt_prefix.h.
 */
#include "rating/deck/rt_prefix.h"

#include "cdr/util/cdr_array.h"

#include <stdlib.h>
#include <string.h>

static int32_t
rt_prefix_new_node(struct rt_prefix *t)
{
    /* nodes are named by int32 indexes */
    if (t->count >= (size_t)INT32_MAX ||
        cdr_array_grow((void **)&t->nodes, &t->cap, t->count + 1,
                       sizeof *t->nodes, 256) != 0)
        return -1;
    struct rt_prefix_node *node = &t->nodes[t->count];
    memset(node->child, 0, sizeof node->child);
    node->head = -1;
    return (int32_t)t->count++;
}

int
rt_prefix_init(struct rt_prefix *t)
{
    memset(t, 0, sizeof *t);
    return rt_prefix_new_node(t) == 0 ? 0 : -1;
}

void
rt_prefix_free(struct rt_prefix *t)
{
    free(t->nodes);
    memset(t, 0, sizeof *t);
}

int32_t
rt_prefix_insert(struct rt_prefix *t, const char *digits, size_t n)
{
    if (t->count == 0 || n == 0 || n > RT_PREFIX_MAX)
        return -1;
    int32_t cur = 0;
    for (size_t i = 0; i < n; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            return -1;
        int d = digits[i] - '0';
        int32_t next = t->nodes[cur].child[d];
        if (next == 0) {
            next = rt_prefix_new_node(t); /* may move t->nodes */
            if (next < 0)
                return -1;
            t->nodes[cur].child[d] = next;
        }
        cur = next;
    }
    return cur;
}

size_t
rt_prefix_path(const struct rt_prefix *t, const char *digits, size_t n,
               int32_t *out, size_t max)
{
    if (t->count == 0)
        return 0;
    int32_t cur = 0;
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            break;
        cur = t->nodes[cur].child[digits[i] - '0'];
        if (cur == 0)
            break;
        out[k++] = cur;
    }
    return k;
}
