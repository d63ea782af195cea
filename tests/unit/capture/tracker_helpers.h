/*
 * Test helpers for the tracker: a trunk config, SIP messages from compact
 * templates (LF in the source, CRLF on the wire) fed as cap_message_fn calls,
 * and the records collected as one line each:
 *   sid|parent|direction|from|to|start|end|duration|status|trunk|target|xstatus
 */
#ifndef REFEREE_TEST_TRACKER_HELPERS_H
#define REFEREE_TEST_TRACKER_HELPERS_H

#include "cdr/capture/track/cap_config.h"
#include "cdr/capture/track/cap_tracker.h"
#include "cdr/util/cdr_hash.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PBX "127.0.0.1"
#define CARRIER "127.0.0.2"
#define OTHER "192.0.2.77"
#define T0 1778400000 /* 2026-05-10T08:00:00Z */

static const char test_deck[] =
    "deck: test\n"
    "currency: USD\n"
    "termination:\n"
    "  - { prefix: \"1\", rate: \"0.0045\" }\n"
    "trunks:\n"
    "  - sid: TK0001\n"
    "    transfers: true\n"
    "    termination_domain: MyTrunk.pstn.twilio.com\n"
    "    carrier_addresses: [127.0.0.2, \"10.9.0.0/16\"]\n";

/* Parse a deck; its first problem, if any, in *first (may be NULL). */
static inline int
parse_config(struct cap_config **c, const char *text, struct cdr_diag *first)
{
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    int rc = cap_config_parse(c, text, strlen(text), "deck.yaml", &errs);
    if (first != NULL && errs.count > 0)
        *first = errs.items[0];
    cdr_diag_list_free(&errs);
    return rc;
}

struct collected {
    char lines[64][512];
    size_t n;
};

#define S(x) (int)(x).n, (x).p

static inline int
collect(void *ctx, const struct cdr_record *r)
{
    struct collected *c = ctx;
    if (c->n == 64)
        return -1;
    /* one vocabulary: the text is the status's name; no account, no price */
    if (strlen(cdr_status_name(r->status)) != r->status_text.n ||
        memcmp(cdr_status_name(r->status), r->status_text.p,
               r->status_text.n) != 0 ||
        r->account_sid.n || r->price.n || r->price_unit.n)
        return -1;
    char end[32] = "", dur[32] = "";
    if (r->has_end_time)
        snprintf(end, sizeof end, "%lld", (long long)(r->end_time - T0));
    if (r->has_duration)
        snprintf(dur, sizeof dur, "%lld", (long long)r->duration);
    snprintf(c->lines[c->n++], sizeof c->lines[0],
             "%.*s|%.*s|%s|%.*s|%.*s|%lld|%s|%s|%.*s|%.*s|%.*s|%.*s", S(r->sid),
             S(r->parent_call_sid), cdr_direction_name(r->direction),
             S(r->from), S(r->to), (long long)(r->start_time - T0), end, dur,
             S(r->status_text), S(r->trunk_sid), S(r->transfer_target),
             S(r->transfer_status));
    return 0;
}

static inline void
set_addr(struct cap_addr *a, const char *ip, uint16_t port)
{
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, ip, a->ip) == 1) {
        a->family = AF_INET;
    } else {
        a->family = AF_INET6;
        inet_pton(AF_INET6, ip, a->ip);
    }
    a->port = port;
}

/* Feed one message at T0 + ms milliseconds.  Content-Length is computed
 * when the template has "Content-Length: %%LEN%%"-free bodies: the helper
 * appends it for the body after the first empty line. */
static inline int feed(struct cap_tracker *t, long ms, const char *src,
                       const char *dst, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static inline int
feed(struct cap_tracker *t, long ms, const char *src, const char *dst,
     const char *fmt, ...)
{
    char tmp[4096], wire[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    /* split head / body at the first empty line */
    char *sep = strstr(tmp, "\n\n");
    const char *body = "";
    if (sep != NULL) {
        sep[1] = '\0';
        body = sep + 2;
    }
    size_t o = 0;
    for (const char *p = tmp; *p && o + 2 < sizeof wire; p++) {
        if (*p == '\n')
            wire[o++] = '\r';
        wire[o++] = *p;
    }
    size_t blen = 0;
    char bbuf[2048];
    for (const char *p = body; *p && blen + 2 < sizeof bbuf; p++) {
        if (*p == '\n')
            bbuf[blen++] = '\r';
        bbuf[blen++] = *p;
    }
    o += (size_t)snprintf(wire + o, sizeof wire - o,
                          "Content-Length: %zu\r\n\r\n", blen);
    memcpy(wire + o, bbuf, blen);
    o += blen;
    struct cap_meta m;
    memset(&m, 0, sizeof m);
    m.ts_sec = T0 + ms / 1000;
    m.ts_usec = (int32_t)((ms % 1000) * 1000);
    set_addr(&m.src, src, 5060);
    set_addr(&m.dst, dst, 5060);
    m.transport = CAP_TRANSPORT_UDP;
    return cap_tracker_message(t, &m, (const uint8_t *)wire, o);
}

#endif
