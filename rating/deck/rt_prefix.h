/*
 * A digit trie for longest-prefix lookups: one node per digit, ten child
 * slots each, so a lookup is one array step per digit and allocates
 * nothing.  Each node carries `head`, an index the owner uses (the deck
 * links its price entries from there); the trie itself only maps digit
 * strings to node indices.
 */
#ifndef REFEREE_RT_PREFIX_H
#define REFEREE_RT_PREFIX_H

#include <stddef.h>
#include <stdint.h>

#define RT_PREFIX_MAX 32 /* digits in a prefix; E.164 has at most 15 */

struct rt_prefix_node {
    int32_t child[10]; /* node index, 0 = none (the root is nobody's child) */
    int32_t head;      /* owner's data, -1 when unused */
};

struct rt_prefix {
    struct rt_prefix_node *nodes; /* owned; nodes[0] is the root */
    size_t count, cap;
};

/* An empty trie (root only).  0 or -1 (no memory). */
int rt_prefix_init(struct rt_prefix *t);
void rt_prefix_free(struct rt_prefix *t);

/* Node for digits[0..n) ('0'..'9', 1..RT_PREFIX_MAX of them), created with
 * head -1 if new.  The node index, or -1 (bad input or no memory). */
int32_t rt_prefix_insert(struct rt_prefix *t, const char *digits, size_t n);

/*
 * The nodes along digits[0..n), root excluded: out[i] is the node of the
 * first i+1 digits.  Stops at the first digit with no node (or a non-digit,
 * or after max nodes).  Returns how many were written.
 */
size_t rt_prefix_path(const struct rt_prefix *t, const char *digits, size_t n,
                      int32_t *out, size_t max);

#endif
