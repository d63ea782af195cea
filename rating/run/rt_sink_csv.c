#include "rating/run/rt_sink_csv.h"

#include "cdr/csv/cdr_csv_writer.h"
#include "cdr/csv/cdr_record_writer.h"
#include "cdr/util/cdr_decimal.h"
#include "cdr/util/cdr_time.h"
#include "rating/price/rt_money.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { F_CHARGES, F_REJECTS, F_PENDING, F_SUMMARY, F_COUNT };
static const char *const file_names[F_COUNT] = {"charges.csv", "rejects.csv",
                                                "pending.csv", "summary.json"};

struct csv_sink {
    char *folder;
    struct cdr_writer *w[F_COUNT];
    const struct rt_run_info *run;
};

static const char *const charge_header[] = {"call_sid",
                                            "parent_call_sid",
                                            "leg",
                                            "scenario",
                                            "component",
                                            "service",
                                            "from",
                                            "to",
                                            "matched_prefix",
                                            "rate",
                                            "duration",
                                            "billable_seconds",
                                            "amount",
                                            "currency",
                                            "deck",
                                            "carrier_price",
                                            "carrier_price_unit"};
static const char *const reject_header[] = {"file",   "line", "sid", "field",
                                            "reason", "raw",  "code"};

static int
header(struct cdr_writer *w, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cdr_writer_field_str(w, names[i]);
    return cdr_writer_end_row(w);
}

static int
slice(struct cdr_writer *w, struct cdr_slice s)
{
    return cdr_writer_field(w, s.p ? s.p : "", s.n);
}

static int
csv_begin(void *self, const struct rt_run_info *run, struct cdr_diag *d)
{
    struct csv_sink *s = self;
    s->run = run;
    for (int i = 0; i < F_COUNT; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", s->folder, file_names[i]);
        int rc = cdr_writer_open(&s->w[i], path, d);
        if (rc != 0)
            return rc;
    }
    header(s->w[F_CHARGES], charge_header,
           sizeof charge_header / sizeof charge_header[0]);
    header(s->w[F_REJECTS], reject_header,
           sizeof reject_header / sizeof reject_header[0]);
    return cdr_record_write_header(s->w[F_PENDING]);
}

static int
csv_call(void *self, const struct rt_call *call, struct cdr_diag *d)
{
    struct csv_sink *s = self;
    struct cdr_writer *w = s->w[F_CHARGES];
    const struct cdr_record *r = call->rec;
    (void)d;
    if (call->relabel_only)
        return 0; /* nothing stored here from earlier runs */
    for (int i = 0; i < call->n_components; i++) {
        const struct rt_component *c = &call->comp[i];
        char amount[48];
        cdr_decimal_format(c->amount_nano, 9, s->run->decimals, amount,
                           sizeof amount);
        slice(w, r->sid);
        slice(w, r->parent_call_sid);
        cdr_writer_field_str(w, rt_leg_name(call->leg));
        cdr_writer_field_str(w, rt_scenario_name(call->scenario));
        cdr_writer_field_int(w, c->index);
        cdr_writer_field_str(w, rt_service_name(c->service));
        slice(w, c->from);
        slice(w, c->to);
        cdr_writer_field_str(w, c->matched);
        cdr_writer_field_str(w, c->rate_text);
        cdr_writer_field_int(w, c->duration);
        cdr_writer_field_int(w, c->billable_seconds);
        cdr_writer_field_str(w, amount);
        cdr_writer_field_str(w, s->run->currency);
        cdr_writer_field_str(w, s->run->deck_name);
        slice(w, r->price);
        slice(w, r->price_unit);
        cdr_writer_end_row(w);
    }
    return 0;
}

static int
csv_reject(void *self, const struct rt_reject *rej, struct cdr_diag *d)
{
    struct csv_sink *s = self;
    struct cdr_writer *w = s->w[F_REJECTS];
    (void)d;
    cdr_writer_field_str(w, rej->file);
    cdr_writer_field_int(w, rej->line);
    slice(w, rej->sid);
    cdr_writer_field_str(w, rej->field);
    cdr_writer_field_str(w, rej->reason);
    slice(w, rej->raw);
    cdr_writer_field_int(w, rej->code);
    return cdr_writer_end_row(w);
}

static int
csv_pending(void *self, const struct cdr_record *r, struct cdr_diag *d)
{
    struct csv_sink *s = self;
    (void)d;
    return cdr_record_write(s->w[F_PENDING], r);
}

/* JSON string with the escapes RFC 8259 requires. */
static void
json_str(struct cdr_writer *w, const char *s)
{
    char buf[8];
    cdr_writer_raw(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            buf[0] = '\\';
            buf[1] = (char)*p;
            cdr_writer_raw(w, buf, 2);
        } else if (*p < 0x20) {
            int n = snprintf(buf, sizeof buf, "\\u%04x", *p);
            cdr_writer_raw(w, buf, (size_t)n);
        } else {
            cdr_writer_raw(w, (const char *)p, 1);
        }
    }
    cdr_writer_raw(w, "\"", 1);
}

static void json_printf(struct cdr_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
json_printf(struct cdr_writer *w, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        cdr_writer_raw(w, buf,
                       (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void
write_summary(struct csv_sink *s, const struct rt_summary *sum)
{
    struct cdr_writer *w = s->w[F_SUMMARY];
    const struct rt_run_info *run = s->run;
    char when[32], money[48];
    cdr_time_format(run->started_at, when, sizeof when);
    json_printf(w,
                "{\n  \"started_at\": \"%s\",\n  \"deck\": {\"name\": ", when);
    json_str(w, run->deck_name);
    json_printf(w, ", \"sha256\": \"%s\", \"currency\": ", run->deck_sha256);
    json_str(w, run->currency);
    json_printf(w, ", \"decimals\": %d},\n  \"inputs\": [", run->decimals);
    for (size_t i = 0; i < run->n_files; i++) {
        const struct rt_input_file *f = &run->files[i];
        json_printf(w, "%s\n    {\"path\": ", i ? "," : "");
        json_str(w, f->path);
        json_printf(w,
                    ", \"sha256\": \"%s\", \"bytes\": %llu, \"rows\": %ld, "
                    "\"skipped\": %s}",
                    f->sha256, (unsigned long long)f->size, f->rows,
                    f->skipped ? "true" : "false");
    }
    json_printf(w,
                "\n  ],\n  \"counts\": {\"rows\": %ld, \"calls\": %ld, "
                "\"components\": %ld, \"rejects\": %ld, \"duplicates\": %ld, "
                "\"pending\": %ld, \"skipped_files\": %ld},\n",
                sum->rows_read, sum->calls, sum->components, sum->rejects,
                sum->duplicates, sum->pending, sum->skipped_files);
    cdr_decimal_format(sum->total_nano, 9, run->decimals, money, sizeof money);
    json_printf(w, "  \"total\": {\"currency\": ");
    json_str(w, run->currency);
    json_printf(w, ", \"amount\": \"%s\"},\n  \"totals\": [", money);
    for (size_t i = 0; i < sum->n_totals; i++) {
        const struct rt_totals *t = &sum->totals[i];
        cdr_decimal_format(t->amount_nano, 9, run->decimals, money,
                           sizeof money);
        json_printf(w, "%s\n    {\"currency\": ", i ? "," : "");
        json_str(w, t->currency);
        json_printf(w,
                    ", \"scenario\": \"%s\", \"components\": %ld, "
                    "\"amount\": \"%s\"}",
                    rt_scenario_name(t->scenario), t->components, money);
    }
    json_printf(w, "\n  ],\n  \"elapsed_ms\": %lld\n}\n",
                (long long)sum->elapsed_ms);
}

static int
csv_commit(void *self, const struct rt_summary *sum, struct cdr_diag *d)
{
    struct csv_sink *s = self;
    write_summary(s, sum);
    /* Every file on disk first: a write error (a full disk) must fail the
     * run before any old file is replaced. */
    for (int i = 0; i < F_COUNT; i++) {
        int rc = cdr_writer_prepare(s->w[i], d);
        if (rc != 0)
            return rc;
    }
    for (int i = 0; i < F_COUNT; i++) { /* summary.json last */
        int rc = cdr_writer_commit(s->w[i], d);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void
csv_abort(void *self)
{
    struct csv_sink *s = self;
    for (int i = 0; i < F_COUNT; i++)
        cdr_writer_abort(s->w[i]);
}

static void
csv_free(void *self)
{
    struct csv_sink *s = self;
    if (s == NULL)
        return;
    for (int i = 0; i < F_COUNT; i++)
        cdr_writer_free(s->w[i]);
    free(s->folder);
    free(s);
}

static const struct rt_sink_ops csv_ops = {
    .begin = csv_begin,
    .call = csv_call,
    .reject = csv_reject,
    .pending = csv_pending,
    .commit = csv_commit,
    .abort = csv_abort,
    .free = csv_free,
};

int
rt_sink_csv_open(struct rt_sink *out, const char *folder, struct cdr_diag *d)
{
    if (mkdir(folder, 0777) != 0 && errno != EEXIST) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0,
                     "cannot create output folder: %s", strerror(errno));
        cdr_diag_at(d, folder, 0, 0);
        return CDR_E_IO;
    }
    struct csv_sink *s = calloc(1, sizeof *s);
    if (s == NULL || (s->folder = strdup(folder)) == NULL) {
        free(s);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    out->ops = &csv_ops;
    out->self = s;
    return 0;
}
