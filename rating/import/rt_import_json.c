/*
 * The carrier's pricing API for Elastic SIP Trunking, one country per
 * document, read with jansson:
 *   {"country": ..., "iso_country": ..., "price_unit": "USD",
 *    "originating_call_prices": [{"number_type", "base_price",
 *                                 "current_price"}],
 *    "terminating_prefix_prices": [{"origination_prefixes": ["ALL"],
 *        "destination_prefixes": [...], "base_price", "current_price",
 *        "friendly_name"}], ...}
 * jansson reads a JSON number as a double, which cannot hold every
 * decimal price: a price must be a JSON string, and a number is refused,
 * never converted.  Keys the importer does not use (url ...) are ignored:
 * the API adds fields, and none of them changes a price.
 */
#include "rating/import/rt_import_int.h"

#include "cdr/util/cdr_yaml.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RT_JSON_PATH 96

struct rt_json {
    struct rt_import *im;
    size_t file;
    struct rt_import_item item;
    char label[RT_DECK_MAX_DESCRIPTION + 1]; /* the country's name */
    int nomem;
};

/* A member's path: "at.key" ("key" at the top), or an element's:
 * "at[i]".  Cut to fit: a diagnostic's field holds 64 bytes anyway. */
static const char *
key_path(char buf[RT_JSON_PATH], const char *at, const char *key)
{
    if (snprintf(buf, RT_JSON_PATH, "%s%s%s", at, at[0] ? "." : "", key) < 0)
        buf[0] = '\0';
    return buf;
}

static const char *
index_path(char buf[RT_JSON_PATH], const char *at, size_t i)
{
    if (snprintf(buf, RT_JSON_PATH, "%s[%zu]", at, i) < 0)
        buf[0] = '\0';
    return buf;
}

static const char *
kind_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static void
problem(struct rt_json *j, const char *path, const char *value, size_t vlen,
        const char *what)
{
    rt_import_problem(j->im, j->file, 0, 0, path, value, vlen, "%s", what);
}

/* obj's key as a string: 0 with *s (NULL when absent or null), or -1
 * after a problem (another type). */
static int
string_member(struct rt_json *j, const json_t *obj, const char *at,
              const char *key, const char **s, size_t *n)
{
    char path[RT_JSON_PATH];
    const json_t *v = json_object_get(obj, key);
    *s = NULL;
    *n = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        rt_import_problem(j->im, j->file, 0, 0, key_path(path, at, key), NULL,
                          0, "expected a string, not %s", kind_of(v));
        return -1;
    }
    *s = json_string_value(v);
    *n = json_string_length(v);
    return 0;
}

/* A price member: a JSON string when given.  A number is refused here
 * whether or not it would be the price used: the file was written by
 * something that treats money as binary floating point. */
static int
price_member(struct rt_json *j, const json_t *obj, const char *at,
             const char *key, const char **s, size_t *n)
{
    const json_t *v = json_object_get(obj, key);
    if (v != NULL && json_is_number(v)) {
        char path[RT_JSON_PATH];
        problem(j, key_path(path, at, key), NULL, 0,
                "a price must be a JSON string (\"0.0085\"), not a number: "
                "a JSON number is read as binary floating point, which "
                "cannot hold every decimal price");
        *s = NULL;
        *n = 0;
        return -1;
    }
    return string_member(j, obj, at, key, s, n);
}

/* What is charged: current_price, else base_price.  0 or -1. */
static int
item_price(struct rt_json *j, const json_t *obj, const char *at)
{
    const char *cur, *base;
    size_t cur_n, base_n;
    int ok = price_member(j, obj, at, "current_price", &cur, &cur_n) == 0;
    ok &= price_member(j, obj, at, "base_price", &base, &base_n) == 0;
    if (!ok)
        return -1;
    const char *key = cur != NULL ? "current_price" : "base_price";
    const char *s = cur != NULL ? cur : base;
    size_t n = cur != NULL ? cur_n : base_n;
    char path[RT_JSON_PATH];
    key_path(path, at, key);
    const char *why;
    if (s == NULL) {
        problem(j, path, NULL, 0, "no current_price or base_price");
        return -1;
    }
    if (rt_import_price(s, n, &j->item.rate_nano, &why) != 0) {
        problem(j, path, s, n, why);
        return -1;
    }
    j->item.rate = s;
    j->item.rate_len = n;
    return 0;
}

/* One element of a prefix list; ALL is allowed (alone) in the origins. */
static int
prefix_element(struct rt_json *j, const json_t *v, const char *path,
               struct rt_import_prefixes *out, size_t count, int origins)
{
    char digits[RT_PREFIX_MAX + 1];
    const char *why;
    if (!json_is_string(v)) {
        rt_import_problem(j->im, j->file, 0, 0, path, NULL, 0,
                          "a prefix must be a JSON string, not %s", kind_of(v));
        return -1;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (origins && n == 3 && memcmp(s, "ALL", 3) == 0) {
        if (count == 1)
            return 0; /* every origin: no from_prefix */
        problem(j, path, s, n, "ALL stands alone in origination_prefixes");
        return -1;
    }
    if (rt_import_prefix(s, n, digits, &why) != 0) {
        problem(j, path, s, n, why);
        return -1;
    }
    if (rt_import_prefixes_add(out, digits) != 0)
        j->nomem = 1;
    return 0;
}

/* destination_prefixes (required) or origination_prefixes (absent or
 * ["ALL"]: every origin).  0 or -1. */
static int
item_prefixes(struct rt_json *j, const json_t *obj, const char *at,
              const char *key, struct rt_import_prefixes *out, int origins)
{
    char path[RT_JSON_PATH];
    key_path(path, at, key);
    const json_t *v = json_object_get(obj, key);
    if ((v == NULL || json_is_null(v)) && origins)
        return 0;
    if (v == NULL || !json_is_array(v) || json_array_size(v) == 0) {
        problem(j, path, NULL, 0,
                v == NULL ? "missing: the item prices no prefix"
                          : "expected a list of prefixes ([\"1907\"])");
        return -1;
    }
    int ok = 1;
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        char epath[RT_JSON_PATH];
        ok &= prefix_element(j, e, index_path(epath, path, i), out,
                             json_array_size(v), origins) == 0;
    }
    return ok ? 0 : -1;
}

/* terminating_prefix_prices[i]: its entries, when all of it is right. */
static void
term_item(struct rt_json *j, const json_t *obj, size_t i)
{
    char at[RT_JSON_PATH];
    index_path(at, "terminating_prefix_prices", i);
    if (!json_is_object(obj)) {
        problem(j, at, NULL, 0, "expected an object");
        return;
    }
    struct rt_import_item *it = &j->item;
    rt_import_item_reset(it);
    it->where = at;
    const char *name;
    size_t name_n;
    int ok =
        item_prefixes(j, obj, at, "destination_prefixes", &it->dest, 0) == 0;
    ok &= item_prefixes(j, obj, at, "origination_prefixes", &it->orig, 1) == 0;
    ok &= item_price(j, obj, at) == 0;
    ok &= string_member(j, obj, at, "friendly_name", &name, &name_n) == 0;
    if (!ok)
        return;
    if (name != NULL)
        rt_import_clean(name, name_n, it->desc, sizeof it->desc);
    else
        memcpy(it->desc, j->label, sizeof it->desc);
    if (rt_import_add_item(j->im, j->file, it) != 0)
        j->nomem = 1;
}

/* originating_call_prices[i]: a price by number type, kept as a note. */
static void
orig_item(struct rt_json *j, const json_t *obj, size_t i)
{
    char at[RT_JSON_PATH], type[RT_DECK_MAX_DESCRIPTION + 1];
    index_path(at, "originating_call_prices", i);
    if (!json_is_object(obj)) {
        problem(j, at, NULL, 0, "expected an object");
        return;
    }
    const char *s;
    size_t n;
    rt_import_item_reset(&j->item);
    int ok = string_member(j, obj, at, "number_type", &s, &n) == 0;
    if (ok && s == NULL) {
        char path[RT_JSON_PATH];
        problem(j, key_path(path, at, "number_type"), NULL, 0,
                "missing: what the price is for");
        ok = 0;
    }
    ok &= item_price(j, obj, at) == 0;
    if (!ok)
        return;
    size_t tn = rt_import_clean(s, n, type, sizeof type);
    if (rt_import_add_note(j->im, j->file, type, tn, j->item.rate,
                           j->item.rate_len) != 0)
        j->nomem = 1;
}

/* A list member: each item through fn.  Absent: a problem if required. */
static void
each_item(struct rt_json *j, const json_t *root, const char *key, int required,
          void (*fn)(struct rt_json *, const json_t *, size_t))
{
    const json_t *v = json_object_get(root, key);
    if (v == NULL || json_is_null(v)) {
        if (required)
            problem(j, key, NULL, 0, "missing: no termination prices");
        return;
    }
    if (!json_is_array(v)) {
        problem(j, key, NULL, 0, "expected a list");
        return;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
    {
        fn(j, e, i);
    }
}

/* "United States (US)", from country and iso_country, for descriptions
 * and comments. */
static void
take_label(struct rt_json *j, const json_t *root)
{
    const char *c, *iso;
    size_t cn, isn;
    char raw[2 * RT_DECK_MAX_DESCRIPTION];
    if (string_member(j, root, "", "country", &c, &cn) != 0 ||
        string_member(j, root, "", "iso_country", &iso, &isn) != 0)
        return;
    /* jansson's strings hold no NUL (JSON_ALLOW_NUL is not given) */
    if (c != NULL && iso != NULL)
        snprintf(raw, sizeof raw, "%s (%s)", c, iso);
    else
        snprintf(raw, sizeof raw, "%s", c ? c : iso ? iso : "");
    rt_import_clean(raw, strlen(raw), j->label, sizeof j->label);
    size_t off = rt_import_text_add(j->im, j->label, strlen(j->label));
    if (off == RT_TEXT_NONE)
        j->nomem = 1;
    else
        j->im->files[j->file].label = off;
}

static void
read_document(struct rt_json *j, const json_t *root)
{
    if (!json_is_object(root)) {
        problem(j, NULL, NULL, 0,
                "expected a JSON object: one country's prices");
        return;
    }
    const char *unit;
    size_t unit_n;
    if (string_member(j, root, "", "price_unit", &unit, &unit_n) == 0) {
        if (unit == NULL)
            problem(j, "price_unit", NULL, 0, "missing: the prices' currency");
        else
            rt_import_take_currency(j->im, j->file, "price_unit", unit, unit_n);
    }
    take_label(j, root);
    each_item(j, root, "terminating_prefix_prices", 1, term_item);
    each_item(j, root, "originating_call_prices", 0, orig_item);
}

int
rt_import_read_json(struct rt_import *im, size_t file, const char *path,
                    struct cdr_diag *d)
{
    char *text;
    size_t len;
    int rc = cdr_yaml_read_file(path, "price list", RT_IMPORT_MAX_JSON, &text,
                                &len, d);
    if (rc == CDR_E_LIMIT) { /* the content's problem, not the disk's */
        rt_import_problem(im, file, 0, 0, NULL, NULL, 0, "%s", d->message);
        return 0;
    }
    if (rc != 0)
        return rc;
    /* a byte order mark, which jansson does not take, as the CSV reader
     * and the sniffing skip it */
    size_t bom = len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    json_error_t jerr;
    /* a key given twice would leave one of two prices unseen */
    json_t *root =
        json_loadb(text + bom, len - bom, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (root == NULL) {
        rt_import_problem(im, file, jerr.line > 0 ? jerr.line : 0,
                          jerr.column > 0 ? jerr.column : 0, NULL, NULL, 0,
                          "invalid JSON: %s", jerr.text);
        return 0;
    }
    struct rt_json j;
    memset(&j, 0, sizeof j);
    j.im = im;
    j.file = file;
    read_document(&j, root);
    json_decref(root);
    rt_import_item_free(&j.item);
    if (j.nomem)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, NULL);
    return 0;
}
