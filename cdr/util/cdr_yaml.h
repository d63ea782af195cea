/*
 * Reading the project's YAML files (the rate deck with its trunks, and
 * whatever else is configured in YAML) through libyaml's document API,
 * with every problem reported at its line and column and nothing returned
 * until all of it has been checked.  The files are small and their shape
 * is fixed (mappings, lists, scalars), so the walks never recurse.
 */
#ifndef REFEREE_CDR_YAML_H
#define REFEREE_CDR_YAML_H

#include "cdr/util/cdr_diag.h"

#include <stddef.h>
#include <yaml.h>

/* Bounds on a YAML file, checked on libyaml's events before the document
 * is built (a file past them costs nothing): nesting, aliases (each one
 * makes the walk visit its node again) and nodes. */
#define CDR_YAML_MAX_DEPTH 64
#define CDR_YAML_MAX_ALIASES 100
#define CDR_YAML_MAX_NODES 10000000L

struct cdr_yaml {
    yaml_document_t doc;
    int loaded;
    const char *file;           /* borrowed: names every problem */
    const char *what;           /* the kind of file: "rate deck" */
    int code;                   /* of its problems: CDR_E_DECK */
    struct cdr_problems *probs; /* borrowed */
};

/*
 * Read a whole regular file of at most max bytes into *text (for the
 * caller to free; NUL-terminated), its length in *len.  0, or CDR_E_IO /
 * CDR_E_LIMIT / CDR_E_NOMEM with d naming the file; what names the kind
 * of file in the message ("cannot open rate deck: ...").
 */
int cdr_yaml_read_file(const char *path, const char *what, size_t max,
                       char **text, size_t *len, struct cdr_diag *d);

/*
 * Parse text[0..len) as exactly one YAML document (y->file, y->what,
 * y->code and y->probs set by the caller first).  Syntax errors (with
 * their line and column), a file past the bounds above, an empty file and
 * a second document are reported.  0 with the document loaded, or -1.
 * Free with cdr_yaml_free either way.
 */
int cdr_yaml_load(struct cdr_yaml *y, const char *text, size_t len);
void cdr_yaml_free(struct cdr_yaml *y);

yaml_node_t *cdr_yaml_root(struct cdr_yaml *y);

/* A problem at node n (its line and column; n may be NULL: the file). */
void cdr_yaml_error(struct cdr_yaml *y, const yaml_node_t *n, int code,
                    const char *field, const char *value, size_t vlen,
                    const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* n must be of type t; else a problem "expected <what>".  0 or -1. */
int cdr_yaml_expect(struct cdr_yaml *y, const yaml_node_t *n,
                    yaml_node_type_t t, const char *field, const char *what);

/* A scalar with a value (a plain empty, ~ or null is "missing value").
 * 0 with *s, *len (borrowed from the document), or -1 with a problem. */
int cdr_yaml_scalar(struct cdr_yaml *y, const yaml_node_t *n, const char *field,
                    const char **s, size_t *len);

/* Plain true or false.  0 with *out, or -1 with a problem. */
int cdr_yaml_bool(struct cdr_yaml *y, const yaml_node_t *n, const char *field,
                  int *out);

/*
 * The index of key among keys[0..nkeys) (at most 32), reporting an
 * unknown key and one given twice (seen: the caller's bit set, 0 at the
 * start of the mapping).  The index, or -1 with a problem.
 */
int cdr_yaml_key(struct cdr_yaml *y, const yaml_node_t *key,
                 const char *const *keys, size_t nkeys, unsigned *seen);

/* "out of memory" at n. */
void cdr_yaml_nomem(struct cdr_yaml *y, const yaml_node_t *n);

/* Each key and value of mapping `map`, and each item of list `seq`. */
#define CDR_YAML_FOR_PAIRS(y, map, p, k, v)                                    \
    for (yaml_node_pair_t *p = (map)->data.mapping.pairs.start;                \
         p < (map)->data.mapping.pairs.top; p++)                               \
        for (yaml_node_t *k = yaml_document_get_node(&(y)->doc, p->key),       \
                         *v = yaml_document_get_node(&(y)->doc, p->value);     \
             k != NULL && v != NULL; k = v = NULL)

#define CDR_YAML_FOR_ITEMS(y, seq, it, v)                                      \
    for (yaml_node_item_t *it = (seq)->data.sequence.items.start;              \
         it < (seq)->data.sequence.items.top; it++)                            \
        for (yaml_node_t *v = yaml_document_get_node(&(y)->doc, *it);          \
             v != NULL; v = NULL)

#endif
