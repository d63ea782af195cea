/*
 * Trunk settings from the deck YAML: the file through cdr_yaml (bounds,
 * syntax errors at their line and column), the `trunks:` value through
 * cdr_trunks_read, the rater's reader.
 */
#include "cdr/capture/track/cap_config.h"

#include "cdr/util/cdr_yaml.h"

#include <stdlib.h>
#include <string.h>

void
cap_config_free(struct cap_config *c)
{
    if (c == NULL)
        return;
    cdr_trunks_free(&c->trunks);
    free(c);
}

const struct cdr_trunk *
cap_config_trunk_by_addr(const struct cap_config *c, const struct cap_addr *a)
{
    return cdr_trunks_by_address(&c->trunks, a->family, a->ip);
}

const struct cdr_trunk *
cap_config_trunk_by_domain(const struct cap_config *c, const char *host,
                           size_t n)
{
    return cdr_trunks_by_domain(&c->trunks, host, n);
}

/* The `trunks:` value of the root mapping; the other keys are the
 * rater's. */
static const yaml_node_t *
trunks_node(struct cdr_yaml *y)
{
    yaml_node_t *root = cdr_yaml_root(y);
    if (cdr_yaml_expect(y, root, YAML_MAPPING_NODE, NULL,
                        "a mapping of deck settings") != 0)
        return NULL;
    CDR_YAML_FOR_PAIRS(y, root, p, k, v)
    {
        if (k->type == YAML_SCALAR_NODE && k->data.scalar.length == 6 &&
            memcmp(k->data.scalar.value, "trunks", 6) == 0)
            return v;
    }
    cdr_yaml_error(y, root, y->code, "trunks", NULL, 0,
                   "no trunks section: nothing to capture");
    return NULL;
}

int
cap_config_parse(struct cap_config **out, const char *text, size_t len,
                 const char *name, struct cdr_diag_list *errs)
{
    *out = NULL;
    struct cdr_problems probs = {errs, 0, CAP_CONFIG_MAX_ERRORS};
    struct cap_config *c = calloc(1, sizeof *c);
    if (c == NULL) {
        cdr_problem(&probs, name, 0, 0, CDR_E_NOMEM, NULL, NULL, 0,
                    "out of memory");
        return CDR_E_NOMEM;
    }
    struct cdr_yaml y;
    memset(&y, 0, sizeof y);
    y.file = name;
    y.what = "deck";
    y.code = CDR_E_DECK;
    y.probs = &probs;
    if (cdr_yaml_load(&y, text, len) == 0) {
        const yaml_node_t *list = trunks_node(&y);
        if (list != NULL && cdr_trunks_read(&c->trunks, &y, list) == 0 &&
            c->trunks.n == 0)
            cdr_yaml_error(&y, list, y.code, "trunks", NULL, 0,
                           "empty list: nothing to capture");
    }
    cdr_yaml_free(&y);
    cdr_problems_finish(&probs, name);
    if (probs.count > 0) {
        cap_config_free(c);
        return CDR_E_DECK;
    }
    *out = c;
    return 0;
}

int
cap_config_load(struct cap_config **out, const char *path,
                struct cdr_diag_list *errs)
{
    *out = NULL;
    struct cdr_diag d;
    char *text;
    size_t len;
    cdr_diag_clear(&d);
    if (cdr_yaml_read_file(path, "deck", CAP_CONFIG_MAX_FILE, &text, &len,
                           &d) != 0) {
        cdr_diag_list_add(errs, &d);
        return d.code;
    }
    int rc = cap_config_parse(out, text, len, path, errs);
    free(text);
    return rc;
}
