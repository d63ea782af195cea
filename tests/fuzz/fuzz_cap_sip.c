/*
 * Fuzz target: bytes -> SIP parser (and every lazy helper on every slice it
 * returns) -> tracker.  The input is cut at NUL bytes into messages; the
 * first byte of each chooses the direction (PBX -> carrier or back) and how
 * far capture time moves, so sequences reach REFER / NOTIFY / child linking,
 * timeouts and the bounds of a small table.  Records go to a sink that only
 * checks them.
 */
#include "cdr/capture/track/cap_config.h"
#include "cdr/capture/sip/cap_sip.h"
#include "cdr/capture/track/cap_tracker.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char deck[] = "trunks:\n"
                           "  - sid: TK1\n"
                           "    termination_domain: mytrunk.pstn.twilio.com\n"
                           "    carrier_addresses: [127.0.0.2, \"::2/128\"]\n";

static struct cap_config *cfg;

static size_t
bytes(struct cdr_slice s)
{
    size_t n = 0;
    for (size_t i = 0; i < s.n; i++) /* every byte must be readable */
        n += (unsigned char)s.p[i] != 0;
    return n;
}

static int
sink(void *ctx, const struct cdr_record *r)
{
    size_t *n = ctx;
    *n += bytes(r->sid) + bytes(r->parent_call_sid) + bytes(r->from) +
          bytes(r->to) + bytes(r->status_text) + bytes(r->trunk_sid) +
          bytes(r->transfer_target) + bytes(r->transfer_status) +
          strlen(cdr_direction_name(r->direction));
    if (r->has_duration && r->duration < 0)
        abort();
    if (cdr_status_of(r->status_text) != r->status)
        abort();
    return 0;
}

static void
helpers(const struct cap_sip_msg *m)
{
    for (size_t i = 0; i < m->nheaders; i++) {
        struct cdr_slice v = m->headers[i].value, first, rest, tok, params, x;
        struct cap_sip_nameaddr na;
        struct cap_sip_uri u;
        char buf[64];
        int guard = 0;
        while (cap_sip_first_value(v, &first, &rest) == 0 && guard++ < 16) {
            if (cap_sip_nameaddr(first, &na) == 0 &&
                cap_sip_uri(na.uri, &u) == 0) {
                (void)cap_sip_param(u.params, "user", &x);
                if (cap_sip_uri_header(u.headers, "Replaces", &x) == 0)
                    (void)cap_sip_unescape(x, buf, sizeof buf);
                (void)cap_record_addr(na.uri.p, na.uri.n, buf, sizeof buf);
            }
            v = rest;
        }
        if (cap_sip_token(m->headers[i].value, &tok, &params) == 0)
            (void)cap_sip_param(params, "id", &x);
    }
    int st;
    (void)cap_sip_sipfrag_status(m->body, &st);
    struct cap_sip_uri u;
    (void)cap_sip_uri(m->ruri, &u);
}

static int
load_deck(void)
{
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    int rc = cap_config_parse(&cfg, deck, strlen(deck), "fuzz", &errs);
    cdr_diag_list_free(&errs);
    return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (cfg == NULL && load_deck() != 0)
        abort();

    /* The whole input as one message, in an exact-size copy so any read
       past the end is caught. */
    char *copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    if (size > 0)
        memcpy(copy, data, size);
    static struct cap_sip_msg m;
    if (cap_sip_parse(copy, copy + size, &m) == 0)
        helpers(&m);
    free(copy);

    struct cap_tracker_opts o;
    cap_tracker_opts_default(&o);
    o.max_dialogs = 8;
    o.linger = 2;
    o.xfer_window = 5;
    o.invite_timeout = 10;
    o.dialog_timeout = 30;
    size_t out = 0;
    struct cap_tracker *t = cap_tracker_new(cfg, &o, sink, &out);
    if (t == NULL)
        return 0;
    struct cap_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.ts_sec = 1778400000;
    meta.src.family = meta.dst.family = 2; /* AF_INET */
    size_t i = 0;
    while (i < size) {
        size_t j = i;
        while (j < size && data[j] != 0)
            j++;
        if (j > i) {
            uint8_t ctl = data[i];
            int fwd = ctl & 1;
            meta.src.ip[0] = meta.dst.ip[0] = 127;
            meta.src.ip[3] = fwd ? 1 : 2;
            meta.dst.ip[3] = fwd ? 2 : 1;
            meta.ts_sec += (ctl >> 1) & 7;
            meta.ts_usec = (int32_t)((ctl >> 4) * 1000);
            size_t n = j - i - 1;
            char *msg = malloc(n ? n : 1);
            if (msg == NULL)
                break;
            if (n > 0)
                memcpy(msg, data + i + 1, n);
            (void)cap_tracker_message(t, &meta, (const uint8_t *)msg, n);
            free(msg);
        }
        i = j + 1;
    }
    (void)cap_tracker_tick(t, meta.ts_sec + 3);
    (void)cap_tracker_flush(t);
    if (cap_tracker_stats(t)->open_dialogs != 0)
        abort();
    cap_tracker_free(t);
    return 0;
}
