#include "cdr/util/cdr_diag.h"

#include "cdr/util/cdr_array.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one table of codes: number, stable name, short text. */
static const struct {
    int code;
    const char *name, *text;
} codes[] = {
    {CDR_OK, "ok", "success"},
    {CDR_E_NOMEM, "no_memory", "out of memory"},
    {CDR_E_IO, "io", "I/O error"},
    {CDR_E_CSV, "csv", "malformed CSV"},
    {CDR_E_MISSING, "missing", "missing required field"},
    {CDR_E_BAD_TIME, "bad_time", "invalid timestamp"},
    {CDR_E_BAD_NUMBER, "bad_number", "invalid number"},
    {CDR_E_BAD_DIRECTION, "bad_direction", "not a trunk call"},
    {CDR_E_BAD_URI, "bad_address", "malformed address"},
    {CDR_E_TOO_LONG, "too_long", "field too long"},
    {CDR_E_DUPLICATE, "duplicate", "duplicate call sid"},
    {CDR_E_FIELD_COUNT, "field_count", "wrong number of fields"},
    {CDR_E_UNOBSERVED, "unobserved", "leg not observed"},
    {CDR_E_NO_RATE, "no_rate", "no rate in force"},
    {CDR_E_TRANSFER, "transfer_refused", "transfer not allowed"},
    {CDR_E_DECK, "deck", "rate deck error"},
    {CDR_E_DB, "database", "database error"},
    {CDR_E_USAGE, "usage", "usage error"},
    {CDR_E_LIMIT, "limit", "limit reached"},
    {CDR_E_BAD_VALUE, "bad_value", "invalid value"},
    {CDR_E_TOO_MANY_REJECTS, "too_many_rejects", "too many rejects"},
    {CDR_E_NO_PLAN, "no_plan", "no price plan"},
    {CDR_E_NOT_E164, "not_e164", "number not in E.164"},
};

const char *
cdr_strerror(int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code)
            return codes[i].text;
    return "unknown error";
}

const char *
cdr_code_name(int code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (codes[i].code == code)
            return codes[i].name;
    return NULL;
}

void
cdr_diag_clear(struct cdr_diag *d)
{
    /* Empty strings rather than a memset of the whole struct: the rater
     * clears one per record. */
    d->code = 0;
    d->file[0] = d->field[0] = d->value[0] = '\0';
    d->message[0] = d->detail[0] = '\0';
    d->line = d->column = 0;
    d->has_value = 0;
}

/* Printable ASCII stays, the rest becomes \xNN; quotes and backslashes are
 * escaped so the quoted value in a message is unambiguous. */
static void
escape_value(char *out, size_t outsz, const char *v, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        char tmp[5];
        size_t n;
        if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            n = 2;
        } else if (c < 0x20 || c >= 0x7f) {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            n = 4;
        } else {
            tmp[0] = (char)c;
            n = 1;
        }
        if (o + n + 4 > outsz) { /* room for "..." and NUL */
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(out + o, tmp, n);
        o += n;
    }
    out[o] = '\0';
}

int
cdr_diag_set(struct cdr_diag *d, int code, const char *field, const char *value,
             size_t len, const char *fmt, ...)
{
    d->code = code;
    snprintf(d->field, sizeof d->field, "%s", field ? field : "");
    d->has_value = value != NULL;
    if (value != NULL)
        escape_value(d->value, sizeof d->value, value, len);
    else
        d->value[0] = '\0';
    d->detail[0] = '\0';
    if (fmt != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->message, sizeof d->message, fmt, ap);
        va_end(ap);
    } else {
        snprintf(d->message, sizeof d->message, "%s", cdr_strerror(code));
    }
    return code;
}

void
cdr_diag_at(struct cdr_diag *d, const char *file, long line, long column)
{
    if (file != NULL)
        snprintf(d->file, sizeof d->file, "%s", file);
    d->line = line;
    d->column = column;
}

int
cdr_diag_io(struct cdr_diag *d, const char *path, const char *what, int errnum)
{
    cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "%s: %s", what, strerror(errnum));
    cdr_diag_at(d, path, 0, 0);
    return CDR_E_IO;
}

void
cdr_diag_detail(struct cdr_diag *d, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->detail, sizeof d->detail, fmt, ap);
    va_end(ap);
}

int
cdr_diag_reason(const struct cdr_diag *d, char *buf, size_t size)
{
    if (d->has_value)
        return snprintf(buf, size, "%s \"%s\"", d->message, d->value);
    return snprintf(buf, size, "%s", d->message);
}

int
cdr_diag_format(const struct cdr_diag *d, char *buf, size_t size)
{
    char pos[CDR_DIAG_FILE + 48] = "";
    if (d->file[0] != '\0') {
        if (d->line > 0 && d->column > 0)
            snprintf(pos, sizeof pos, "%s:%ld:%ld: ", d->file, d->line,
                     d->column);
        else if (d->line > 0)
            snprintf(pos, sizeof pos, "%s:%ld: ", d->file, d->line);
        else
            snprintf(pos, sizeof pos, "%s: ", d->file);
    }
    char reason[CDR_DIAG_TEXT + CDR_DIAG_VALUE + 8];
    cdr_diag_reason(d, reason, sizeof reason);
    if (d->detail[0] != '\0')
        return snprintf(buf, size, "%s%s%s%s\n  detail: %s", pos, d->field,
                        d->field[0] ? ": " : "", reason, d->detail);
    return snprintf(buf, size, "%s%s%s%s", pos, d->field,
                    d->field[0] ? ": " : "", reason);
}

void
cdr_diag_list_init(struct cdr_diag_list *l)
{
    memset(l, 0, sizeof *l);
}

void
cdr_diag_list_free(struct cdr_diag_list *l)
{
    free(l->items);
    memset(l, 0, sizeof *l);
}

void
cdr_diag_list_add(struct cdr_diag_list *l, const struct cdr_diag *d)
{
    if (cdr_array_grow((void **)&l->items, &l->cap, l->count + 1,
                       sizeof *l->items, 8) != 0) {
        l->dropped++;
        return;
    }
    l->items[l->count++] = *d;
}

void
cdr_problem(struct cdr_problems *p, const char *file, long line, long column,
            int code, const char *field, const char *value, size_t vlen,
            const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cdr_problemv(p, file, line, column, code, field, value, vlen, fmt, ap);
    va_end(ap);
}

void
cdr_problemv(struct cdr_problems *p, const char *file, long line, long column,
             int code, const char *field, const char *value, size_t vlen,
             const char *fmt, va_list ap)
{
    p->count++;
    if (p->max > 0 && p->count > p->max)
        return;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    cdr_diag_set(&d, code, field, value, vlen, NULL);
    vsnprintf(d.message, sizeof d.message, fmt, ap);
    cdr_diag_at(&d, file, line, column);
    cdr_diag_list_add(p->list, &d);
}

void
cdr_problems_finish(struct cdr_problems *p, const char *file)
{
    if (p->max == 0 || p->count <= p->max)
        return;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    cdr_diag_set(&d, CDR_E_LIMIT, NULL, NULL, 0,
                 "too many problems: %zu more not shown", p->count - p->max);
    cdr_diag_at(&d, file, 0, 0);
    cdr_diag_list_add(p->list, &d);
}
