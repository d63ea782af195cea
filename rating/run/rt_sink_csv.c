#include "rating/run/rt_sink_csv.h"

#include "cdr/csv/cdr_csv_writer.h"
#include "cdr/csv/cdr_record_writer.h"
#include "cdr/util/cdr_decimal.h"
#include "cdr/util/cdr_time.h"
#include "cdr/util/cdr_utf8.h"
#include "rating/price/rt_money.h"
#include "rating/run/rt_out_folder.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { F_CHARGES, F_REJECTS, F_PENDING, F_SUMMARY, F_COUNT };
static const char *const file_names[F_COUNT] = {"charges.csv", "rejects.csv",
                                                "pending.csv", "summary.json"};

struct csv_sink {
    char *folder;
    struct rt_out_folder *out; /* this run's, published at commit */
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
                                            "carrier_price_unit",
                                            "plan",
                                            "sell_matched_prefix",
                                            "sell_rate",
                                            "sell_billable_seconds",
                                            "sell_amount",
                                            "sell_currency",
                                            "target_caller_id"};
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

/* The sell side of a component: empty without plans. */
static void
sell_fields(struct cdr_writer *w, const struct rt_call *call,
            const struct rt_component *c)
{
    if (call->plan_deck == NULL) {
        for (int i = 0; i < 6; i++)
            cdr_writer_field(w, "", 0);
        return;
    }
    char amount[48];
    cdr_decimal_format(c->sell.amount_nano, 9,
                       rt_deck_decimals(call->plan_deck), amount,
                       sizeof amount);
    cdr_writer_field_str(w, call->plan);
    cdr_writer_field_str(w, c->sell.matched);
    cdr_writer_field_str(w, c->sell.rate_text);
    cdr_writer_field_int(w, c->sell.billable_seconds);
    cdr_writer_field_str(w, amount);
    cdr_writer_field_str(w, rt_deck_currency(call->plan_deck));
}

static int
csv_begin(void *self, const struct rt_run_info *run, struct cdr_diag *d)
{
    struct csv_sink *s = self;
    s->run = run;
    int rc = rt_out_folder_open(&s->out, s->folder, file_names, F_COUNT, d);
    for (int i = 0; rc == 0 && i < F_COUNT; i++)
        rc = cdr_writer_open(&s->w[i],
                             rt_out_folder_path(s->out, file_names[i]), d);
    if (rc != 0)
        return rc;
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
        sell_fields(w, call, c);
        slice(w, call->target_caller_id);
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

/* A JSON string of s: invalid UTF-8 (a path's bytes) becomes U+FFFD, as
 * jansson takes only valid strings. */
static json_t *
jstr(const char *s)
{
    size_t n = strlen(s);
    char stack[512];
    char *buf = 3 * n + 1 <= sizeof stack ? stack : malloc(3 * n + 1);
    if (buf == NULL)
        return NULL;
    int len = cdr_utf8_clean(s, n, buf, 3 * n + 1);
    json_t *j = len < 0 ? NULL : json_stringn(buf, (size_t)len);
    if (buf != stack)
        free(buf);
    return j;
}

/* An exact amount with the deck's places, as a string. */
static json_t *
jmoney(int64_t nano, int decimals)
{
    char buf[48];
    if (cdr_decimal_format(nano, 9, decimals, buf, sizeof buf) < 0)
        return NULL;
    return json_string(buf);
}

static json_t *
summary_deck(const struct rt_run_info *run)
{
    return json_pack("{s:o*, s:s?, s:o*, s:i}", "name", jstr(run->deck_name),
                     "sha256", run->deck_sha256, "currency",
                     jstr(run->currency), "decimals", run->decimals);
}

static json_t *
summary_inputs(const struct rt_run_info *run)
{
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < run->n_files; i++) {
        const struct rt_input_file *f = &run->files[i];
        json_t *o =
            json_pack("{s:o*, s:s, s:I, s:I, s:b}", "path", jstr(f->path),
                      "sha256", f->sha256, "bytes", (json_int_t)f->size, "rows",
                      (json_int_t)f->rows, "skipped", f->skipped);
        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static json_t *
summary_totals(const struct rt_summary *sum, int decimals)
{
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < sum->n_totals; i++) {
        const struct rt_totals *t = &sum->totals[i];
        json_t *o =
            json_pack("{s:o*, s:s, s:I, s:o*}", "currency", jstr(t->currency),
                      "scenario", rt_scenario_name(t->scenario), "components",
                      (json_int_t)t->components, "amount",
                      jmoney(t->amount_nano, decimals));
        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static json_t *
summary_sell(const struct rt_summary *sum)
{
    json_t *list = json_array();
    for (size_t i = 0; list != NULL && i < sum->n_sell; i++) {
        const struct rt_sell_total *t = &sum->sell[i];
        json_t *o = json_pack("{s:s, s:I, s:o*}", "currency", t->currency,
                              "components", (json_int_t)t->components, "amount",
                              jmoney(t->amount_nano, t->decimals));
        if (o == NULL || json_array_append_new(list, o) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* summary.json's document (fields: rating/README.md); NULL on no memory. */
static json_t *
summary_json(const struct csv_sink *s, const struct rt_summary *sum)
{
    const struct rt_run_info *run = s->run;
    char when[32];
    cdr_time_format(run->started_at, when, sizeof when);
    json_t *counts = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rows",
        (json_int_t)sum->rows_read, "calls", (json_int_t)sum->calls,
        "components", (json_int_t)sum->components, "rejects",
        (json_int_t)sum->rejects, "duplicates", (json_int_t)sum->duplicates,
        "pending", (json_int_t)sum->pending, "skipped_files",
        (json_int_t)sum->skipped_files);
    json_t *total = json_pack("{s:o*, s:o*}", "currency", jstr(run->currency),
                              "amount", jmoney(sum->total_nano, run->decimals));
    const struct rt_warnings *w = &sum->warnings;
    json_t *warnings = json_pack(
        "{s:I, s:I, s:I, s:I}", "child_late", (json_int_t)w->child_late,
        "child_other_account", (json_int_t)w->child_other_account,
        "carrier_price_precise", (json_int_t)w->price_precise,
        "carrier_price_unreadable", (json_int_t)w->price_unreadable);
    /* "o" takes each reference over, NULL included (the pack then fails
     * and frees the rest) */
    json_t *plans = run->plans_sha256 == NULL
                        ? json_null()
                        : json_pack("{s:s}", "sha256", run->plans_sha256);
    return json_pack(
        "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}", "started_at",
        when, "deck", summary_deck(run), "plans", plans, "inputs",
        summary_inputs(run), "counts", counts, "warnings", warnings, "total",
        total, "totals", summary_totals(sum, run->decimals), "sell_totals",
        summary_sell(sum), "elapsed_ms", (json_int_t)sum->elapsed_ms);
}

static int
write_summary(struct csv_sink *s, const struct rt_summary *sum,
              struct cdr_diag *d)
{
    json_t *doc = summary_json(s, sum);
    char *text =
        doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(doc);
    if (text == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0,
                            "cannot build summary.json");
    cdr_writer_raw(s->w[F_SUMMARY], text, strlen(text));
    cdr_writer_raw(s->w[F_SUMMARY], "\n", 1);
    free(text);
    return 0;
}

static int
csv_commit(void *self, const struct rt_summary *sum, struct cdr_diag *d)
{
    struct csv_sink *s = self;
    int rc = write_summary(s, sum, d);
    if (rc != 0)
        return rc;
    /* Every file complete in the run's folder, then the folder published
     * in one rename: the earlier output stays whole until then. */
    for (int i = 0; i < F_COUNT; i++)
        if ((rc = cdr_writer_commit(s->w[i], d)) != 0)
            return rc;
    return rt_out_folder_publish(s->out, d);
}

/* The run's writers and folder go; nothing of it outlives the run. */
static void
end_run(struct csv_sink *s)
{
    for (int i = 0; i < F_COUNT; i++) {
        cdr_writer_free(s->w[i]);
        s->w[i] = NULL;
    }
    rt_out_folder_free(s->out);
    s->out = NULL;
}

static void
csv_abort(void *self)
{
    end_run(self);
}

static void
csv_free(void *self)
{
    struct csv_sink *s = self;
    if (s == NULL)
        return;
    end_run(s);
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
    struct csv_sink *s = calloc(1, sizeof *s);
    if (s == NULL || (s->folder = strdup(folder)) == NULL) {
        free(s);
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    }
    out->ops = &csv_ops;
    out->self = s;
    return 0;
}
