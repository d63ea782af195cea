#include "cdr/util/cdr_yaml.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
cdr_yaml_read_file(const char *path, const char *what, size_t max, char **text,
                   size_t *len, struct cdr_diag *d)
{
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    struct stat st;
    int rc = 0;
    if (f == NULL)
        rc = cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot open %s: %s",
                          what, strerror(errno));
    else if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))
        rc = cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0,
                          "%s is not a regular file", what);
    else if ((uint64_t)st.st_size > max)
        rc = cdr_diag_set(d, CDR_E_LIMIT, NULL, NULL, 0,
                          "%s larger than %zu bytes", what, max);
    char *buf = NULL;
    size_t n = 0;
    if (rc == 0 && (buf = malloc((size_t)st.st_size + 1)) == NULL)
        rc = cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    if (rc == 0) {
        /* one byte more than the size: a file that grows is refused */
        n = fread(buf, 1, (size_t)st.st_size + 1, f);
        if (ferror(f))
            rc = cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot read %s: %s",
                              what, strerror(errno));
        else if (n > (size_t)st.st_size)
            rc = cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0,
                              "%s changed while it was read", what);
    }
    if (f != NULL)
        fclose(f);
    if (rc != 0) {
        free(buf);
        cdr_diag_at(d, path, 0, 0);
        return rc;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
}

void
cdr_yaml_error(struct cdr_yaml *y, const yaml_node_t *n, int code,
               const char *field, const char *value, size_t vlen,
               const char *fmt, ...)
{
    char msg[CDR_DIAG_TEXT];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cdr_problem(y->probs, y->file, n ? (long)n->start_mark.line + 1 : 0,
                n ? (long)n->start_mark.column + 1 : 0, code, field, value,
                vlen, "%s", msg);
}

/* The reader (encoding) reports a byte offset, not a mark: the line and
 * column (in bytes) of that offset. */
static void
offset_position(const char *text, size_t len, size_t off, long *line, long *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

static void
syntax_error(struct cdr_yaml *y, const yaml_parser_t *parser, const char *text,
             size_t len)
{
    const char *problem = parser->problem ? parser->problem : "unknown";
    long line, col;
    if (parser->error == YAML_READER_ERROR) {
        size_t off = parser->problem_offset;
        offset_position(text, len, off, &line, &col);
        cdr_problem(y->probs, y->file, line, col, y->code, NULL, NULL, 0,
                    "invalid YAML: %s at byte %zu", problem, off);
        return;
    }
    line = (long)parser->problem_mark.line + 1;
    col = (long)parser->problem_mark.column + 1;
    if (parser->context != NULL)
        cdr_problem(y->probs, y->file, line, col, y->code, NULL, NULL, 0,
                    "invalid YAML: %s (%s at line %lu)", problem,
                    parser->context,
                    (unsigned long)parser->context_mark.line + 1);
    else
        cdr_problem(y->probs, y->file, line, col, y->code, NULL, NULL, 0,
                    "invalid YAML: %s", problem);
}

/* A first pass over the events: the bounds, before libyaml builds the
 * document (deep flow nesting is slow to build, aliases multiply the
 * walk).  0, or -1 after reporting what was too much where. */
static int
check_bounds(struct cdr_yaml *y, const char *text, size_t len)
{
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return 0; /* the load reports it */
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    long depth = 0, aliases = 0, nodes = 0;
    int rc = 0, done = 0;
    while (!done && rc == 0) {
        yaml_event_t e;
        if (!yaml_parser_parse(&parser, &e))
            break; /* a syntax error: the load reports it */
        const char *what = NULL;
        switch (e.type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (++depth > CDR_YAML_MAX_DEPTH)
                what = "is nested deeper than 64 levels";
            nodes++;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: depth--; break;
        case YAML_ALIAS_EVENT:
            if (++aliases > CDR_YAML_MAX_ALIASES)
                what = "has more than 100 aliases";
            break;
        case YAML_SCALAR_EVENT: nodes++; break;
        case YAML_STREAM_END_EVENT: done = 1; break;
        default: break;
        }
        if (what == NULL && nodes > CDR_YAML_MAX_NODES)
            what = "has more than 10000000 values";
        if (what != NULL) {
            cdr_problem(y->probs, y->file, (long)e.start_mark.line + 1,
                        (long)e.start_mark.column + 1, CDR_E_LIMIT, NULL, NULL,
                        0, "%s %s", y->what, what);
            rc = -1;
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&parser);
    return rc;
}

int
cdr_yaml_load(struct cdr_yaml *y, const char *text, size_t len)
{
    yaml_parser_t parser;
    y->loaded = 0;
    if (check_bounds(y, text, len) != 0)
        return -1;
    if (!yaml_parser_initialize(&parser)) {
        cdr_problem(y->probs, y->file, 0, 0, CDR_E_NOMEM, NULL, NULL, 0,
                    "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = -1;
    if (!yaml_parser_load(&parser, &y->doc)) {
        syntax_error(y, &parser, text, len);
    } else if (yaml_document_get_root_node(&y->doc) == NULL) {
        y->loaded = 1;
        cdr_problem(y->probs, y->file, 0, 0, y->code, NULL, NULL, 0, "empty %s",
                    y->what);
    } else {
        y->loaded = 1;
        rc = 0;
        yaml_document_t more;
        if (!yaml_parser_load(&parser, &more)) {
            syntax_error(y, &parser, text, len);
            rc = -1;
        } else {
            yaml_node_t *r2 = yaml_document_get_root_node(&more);
            if (r2 != NULL) {
                cdr_yaml_error(y, r2, y->code, NULL, NULL, 0,
                               "more than one YAML document");
                rc = -1;
            }
            yaml_document_delete(&more);
        }
    }
    yaml_parser_delete(&parser);
    return rc;
}

void
cdr_yaml_free(struct cdr_yaml *y)
{
    if (y->loaded)
        yaml_document_delete(&y->doc);
    y->loaded = 0;
}

yaml_node_t *
cdr_yaml_root(struct cdr_yaml *y)
{
    return y->loaded ? yaml_document_get_root_node(&y->doc) : NULL;
}

int
cdr_yaml_expect(struct cdr_yaml *y, const yaml_node_t *n, yaml_node_type_t t,
                const char *field, const char *what)
{
    if (n->type == t)
        return 0;
    cdr_yaml_error(y, n, y->code, field, NULL, 0, "expected %s", what);
    return -1;
}

int
cdr_yaml_scalar(struct cdr_yaml *y, const yaml_node_t *n, const char *field,
                const char **s, size_t *len)
{
    if (n->type != YAML_SCALAR_NODE) {
        cdr_yaml_error(y, n, y->code, field, NULL, 0,
                       "expected a single value, not a %s",
                       n->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
        return -1;
    }
    *s = (const char *)n->data.scalar.value;
    *len = n->data.scalar.length;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (*len == 0 || (*len == 1 && **s == '~') ||
         (*len == 4 && memcmp(*s, "null", 4) == 0))) {
        cdr_yaml_error(y, n, y->code, field, NULL, 0, "missing value");
        return -1;
    }
    return 0;
}

int
cdr_yaml_bool(struct cdr_yaml *y, const yaml_node_t *n, const char *field,
              int *out)
{
    const char *s;
    size_t len;
    if (cdr_yaml_scalar(y, n, field, &s, &len) != 0)
        return -1;
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (len == 4 && memcmp(s, "true", 4) == 0) {
            *out = 1;
            return 0;
        }
        if (len == 5 && memcmp(s, "false", 5) == 0) {
            *out = 0;
            return 0;
        }
    }
    cdr_yaml_error(y, n, y->code, field, s, len, "expected true or false");
    return -1;
}

int
cdr_yaml_key(struct cdr_yaml *y, const yaml_node_t *key,
             const char *const *keys, size_t nkeys, unsigned *seen)
{
    if (key->type != YAML_SCALAR_NODE) {
        cdr_yaml_error(y, key, y->code, NULL, NULL, 0, "expected a key name");
        return -1;
    }
    const char *s = (const char *)key->data.scalar.value;
    size_t len = key->data.scalar.length;
    for (size_t i = 0; i < nkeys && i < 32; i++) {
        if (strlen(keys[i]) == len && memcmp(keys[i], s, len) == 0) {
            if (*seen & (1u << i)) {
                cdr_yaml_error(y, key, y->code, keys[i], s, len,
                               "duplicate key");
                return -1;
            }
            *seen |= 1u << i;
            return (int)i;
        }
    }
    cdr_yaml_error(y, key, y->code, NULL, s, len, "unknown key");
    return -1;
}

void
cdr_yaml_nomem(struct cdr_yaml *y, const yaml_node_t *n)
{
    cdr_yaml_error(y, n, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
}
