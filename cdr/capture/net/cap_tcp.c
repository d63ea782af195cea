/*
 * TCP stream reassembly and SIP framing.  See cap_tcp.h.
 *
 * Each direction of a connection is its own stream: SIP framing only needs
 * the bytes one side sends.  A stream keeps the next expected sequence
 * number, the bytes of a message not yet complete, and a bounded list of
 * out-of-order segments.  When the bounds are hit the missing bytes are given
 * up (counted as a gap) and the framer resynchronises on the next start line.
 */
#include "cdr/capture/net/cap_tcp.h"
#include "cdr/util/cdr_hash.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---------------------------------------------------------------- framer */

static int
is_token_char(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9'))
        return 1;
    return c == '-' || c == '.' || c == '!' || c == '%' || c == '*' ||
           c == '_' || c == '+' || c == '`' || c == '\'' || c == '~';
}

static int
ci_prefix(const uint8_t *p, const uint8_t *end, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        uint8_t l = (uint8_t)lit[i];
        if (l >= 'A' && l <= 'Z')
            l = (uint8_t)(l + 32);
        if (c != l)
            return 0;
    }
    return 1;
}

int
cap_stream_is_start_line(const uint8_t *p, const uint8_t *end)
{
    if (end > p && end[-1] == '\r')
        end--;
    if (ci_prefix(p, end, "SIP/2.0 ")) {
        /* status line: three digits */
        if (end - p < 11)
            return 0;
        for (int i = 8; i < 11; i++)
            if (p[i] < '0' || p[i] > '9')
                return 0;
        return end - p == 11 || p[11] == ' ';
    }
    const uint8_t *q = p;
    while (q < end && is_token_char(*q))
        q++;
    if (q == p || q - p > 32 || q >= end || *q != ' ')
        return 0;
    /* "METHOD SP uri SP SIP/2.0" */
    if (end - q < 10)
        return 0;
    return ci_prefix(end - 8, end, " SIP/2.0") && end - 8 > q + 1;
}

/*
 * Content-Length in the header block [p, end) (after the start line, before
 * the empty line).  1 and *out when found and valid, 0 when absent, -1 when
 * malformed or repeated with different values.
 */
static int
content_length(const uint8_t *p, const uint8_t *end, size_t *out)
{
    int found = 0;
    size_t value = 0;
    while (p < end) {
        const uint8_t *eol = memchr(p, '\n', (size_t)(end - p));
        if (eol == NULL)
            eol = end;
        const uint8_t *q = p;
        const uint8_t *name_end;
        if (ci_prefix(q, eol, "content-length"))
            name_end = q + 14;
        else if (q < eol && (*q == 'l' || *q == 'L'))
            name_end = q + 1;
        else
            goto next;
        q = name_end;
        while (q < eol && (*q == ' ' || *q == '\t'))
            q++;
        if (q >= eol || *q != ':')
            goto next; /* another header, e.g. "Location" or "lr" */
        q++;
        while (q < eol && (*q == ' ' || *q == '\t'))
            q++;
        {
            size_t v = 0;
            int digits = 0;
            while (q < eol && *q >= '0' && *q <= '9') {
                if (digits >= 9)
                    return -1;
                v = v * 10 + (size_t)(*q - '0');
                digits++;
                q++;
            }
            while (q < eol && (*q == ' ' || *q == '\t' || *q == '\r'))
                q++;
            if (digits == 0 || q != eol)
                return -1;
            if (found && v != value)
                return -1;
            found = 1;
            value = v;
        }
    next:
        p = eol < end ? eol + 1 : end;
    }
    if (found)
        *out = value;
    return found;
}

/* End of the header block: index just after the empty line, or 0. */
static size_t
headers_end(const uint8_t *p, const uint8_t *end)
{
    const uint8_t *q = p;
    while (q < end) {
        const uint8_t *lf = memchr(q, '\n', (size_t)(end - q));
        if (lf == NULL)
            return 0;
        const uint8_t *n = lf + 1;
        if (n < end && *n == '\n')
            return (size_t)(n + 1 - p);
        if (n + 1 < end && n[0] == '\r' && n[1] == '\n')
            return (size_t)(n + 2 - p);
        if (n >= end || (n + 1 >= end && *n == '\r'))
            return 0; /* the next line is not there yet */
        q = n;
    }
    return 0;
}

int
cap_stream_frame(const uint8_t *p, const uint8_t *end, size_t max_message,
                 struct cap_frame *out)
{
    size_t i = 0, n = (size_t)(end - p);
    memset(out, 0, sizeof *out);
    for (;;) {
        while (i < n && (p[i] == '\r' || p[i] == '\n'))
            i++;
        if (i == n) {
            out->skip = i;
            return CAP_FRAME_MORE;
        }
        size_t window = n - i < max_message ? n - i : max_message;
        const uint8_t *lf = memchr(p + i, '\n', window);
        if (lf == NULL) {
            if (n - i >= max_message) { /* a line longer than any message */
                out->junk += n - i;
                out->skip = n;
                out->reason = CAP_FRAME_OVERSIZE;
                return CAP_FRAME_SKIP;
            }
            out->skip = i;
            return CAP_FRAME_MORE;
        }
        if (cap_stream_is_start_line(p + i, lf))
            break;
        size_t next = (size_t)(lf + 1 - p);
        out->junk += next - i;
        i = next;
    }
    const uint8_t *start = p + i;
    const uint8_t *line_end = memchr(start, '\n', n - i);
    size_t first_line = (size_t)(line_end + 1 - start);
    size_t hdr = headers_end(start, end);
    if (hdr == 0) {
        if (n - i > max_message) {
            out->skip = i + first_line;
            out->reason = CAP_FRAME_OVERSIZE;
            return CAP_FRAME_SKIP;
        }
        out->skip = i;
        return CAP_FRAME_MORE;
    }
    size_t cl = 0;
    int rc = content_length(line_end + 1, start + hdr, &cl);
    if (rc < 0) {
        out->skip = i + first_line;
        out->reason = CAP_FRAME_BAD_CONTENT_LENGTH;
        return CAP_FRAME_SKIP;
    }
    if (hdr + cl > max_message) {
        out->skip = i + first_line;
        out->reason = CAP_FRAME_OVERSIZE;
        return CAP_FRAME_SKIP;
    }
    if (n - i < hdr + cl) {
        out->skip = i;
        return CAP_FRAME_MORE;
    }
    out->skip = i;
    out->len = hdr + cl;
    return CAP_FRAME_MESSAGE;
}

/* --------------------------------------------------------------- streams */

struct held {
    struct held *next;
    uint32_t seq;
    size_t len;
    int64_t ts_sec; /* when these bytes came: a message they end is dated so */
    int32_t ts_usec;
    uint8_t data[];
};

struct stream {
    uint64_t hash;                /* of its addresses: stream_hash */
    struct stream *older, *newer; /* LRU list */
    struct cap_addr src, dst;
    int64_t last_sec;
    uint32_t next_seq;
    int synced;
    uint8_t *buf;
    size_t len, cap;
    struct held *held; /* sorted by seq */
    uint32_t nheld;
    size_t held_bytes;
};

/*
 * A segment this far before or after the next expected byte is not a
 * retransmission or reordering of this connection (windows are far
 * smaller): it is a new connection on the same addresses whose SYN was not
 * captured.  Start again there rather than ignore it for ever.
 */
#define SEQ_FAR (16 * 1024 * 1024)

struct cap_tcp {
    const struct cap_net_config *cfg;
    struct cap_net_stats *st;
    cap_message_fn fn;
    void *ctx;
    struct cdr_hmap map; /* struct stream * by its two addresses */
    struct stream *oldest, *newest;
    uint32_t count;
    size_t bytes; /* buffers + held segments of all streams */
};

struct cap_tcp *
cap_tcp_new(const struct cap_net_config *cfg, struct cap_net_stats *stats,
            cap_message_fn fn, void *ctx)
{
    struct cap_tcp *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    if (cdr_hmap_init(&t->map, 64) != 0) {
        free(t);
        return NULL;
    }
    t->cfg = cfg;
    t->st = stats;
    t->fn = fn;
    t->ctx = ctx;
    return t;
}

static size_t
addr_len(const struct cap_addr *a)
{
    return a->family == AF_INET6 ? 16u : 4u;
}

/* A direction's key: its source and destination. */
struct stream_key {
    const struct cap_addr *src, *dst;
};

/* cdr_hash of the addresses and ports, packed without padding. */
static uint64_t
stream_hash(const struct cap_addr *s, const struct cap_addr *d)
{
    uint8_t k[2 * 16 + 4];
    size_t n = addr_len(s), o = 0;
    memcpy(k + o, s->ip, n);
    o += n;
    memcpy(k + o, d->ip, n);
    o += n;
    k[o++] = (uint8_t)(s->port >> 8);
    k[o++] = (uint8_t)s->port;
    k[o++] = (uint8_t)(d->port >> 8);
    k[o++] = (uint8_t)d->port;
    return cdr_hash(k, o);
}

static int
addr_eq(const struct cap_addr *a, const struct cap_addr *b)
{
    return a->family == b->family && a->port == b->port &&
           memcmp(a->ip, b->ip, addr_len(a)) == 0;
}

static int
stream_eq(const void *entry, const void *key, size_t n)
{
    const struct stream *s = entry;
    const struct stream_key *k = key;
    (void)n;
    return addr_eq(&s->src, k->src) && addr_eq(&s->dst, k->dst);
}

static void
lru_unlink(struct cap_tcp *t, struct stream *s)
{
    if (s->older)
        s->older->newer = s->newer;
    else
        t->oldest = s->newer;
    if (s->newer)
        s->newer->older = s->older;
    else
        t->newest = s->older;
    s->older = s->newer = NULL;
}

static void
lru_push(struct cap_tcp *t, struct stream *s)
{
    s->older = t->newest;
    s->newer = NULL;
    if (t->newest)
        t->newest->newer = s;
    else
        t->oldest = s;
    t->newest = s;
}

static void
drop_held(struct cap_tcp *t, struct stream *s)
{
    struct held *h = s->held;
    while (h) {
        struct held *n = h->next;
        t->bytes -= h->len;
        free(h);
        h = n;
    }
    s->held = NULL;
    s->nheld = 0;
    s->held_bytes = 0;
}

static void
buf_release(struct cap_tcp *t, struct stream *s)
{
    t->bytes -= s->cap;
    free(s->buf);
    s->buf = NULL;
    s->len = s->cap = 0;
}

static void
stream_remove(struct cap_tcp *t, struct stream *s)
{
    struct stream_key k = {&s->src, &s->dst};
    cdr_hmap_remove(&t->map, s->hash, &k, sizeof k, stream_eq);
    lru_unlink(t, s);
    drop_held(t, s);
    buf_release(t, s);
    free(s);
    t->count--;
    t->st->tcp_active = t->count;
}

void
cap_tcp_free(struct cap_tcp *t)
{
    if (t == NULL)
        return;
    cap_tcp_flush(t);
    cdr_hmap_free(&t->map);
    free(t);
}

void
cap_tcp_flush(struct cap_tcp *t)
{
    while (t->oldest)
        stream_remove(t, t->oldest);
}

void
cap_tcp_expire(struct cap_tcp *t, int64_t now_sec)
{
    while (t->oldest &&
           t->oldest->last_sec + (int64_t)t->cfg->stream_timeout_sec <
               now_sec) {
        t->st->tcp_timeouts++;
        stream_remove(t, t->oldest);
    }
}

/* Drop least recently used streams (never keep) until extra bytes fit. */
static void
make_room(struct cap_tcp *t, struct stream *keep, size_t extra)
{
    while (t->bytes + extra > t->cfg->max_stream_bytes && t->oldest &&
           t->oldest != keep) {
        t->st->tcp_evicted++;
        stream_remove(t, t->oldest);
    }
}

static struct stream *
stream_get(struct cap_tcp *t, const struct cap_meta *m, int create)
{
    struct stream_key k = {&m->src, &m->dst};
    uint64_t h = stream_hash(&m->src, &m->dst);
    struct stream *s = cdr_hmap_get(&t->map, h, &k, sizeof k, stream_eq);
    if (s != NULL) {
        lru_unlink(t, s);
        lru_push(t, s);
        s->last_sec = m->ts_sec;
        return s;
    }
    if (!create)
        return NULL;
    if (t->count >= t->cfg->max_streams && t->oldest) {
        t->st->tcp_evicted++;
        stream_remove(t, t->oldest);
    }
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->src = m->src;
    s->dst = m->dst;
    s->last_sec = m->ts_sec;
    s->hash = h;
    k = (struct stream_key){&s->src, &s->dst};
    if (cdr_hmap_put(&t->map, h, &k, sizeof k, stream_eq, s, NULL) != 0) {
        free(s); /* no memory: this segment is not followed */
        return NULL;
    }
    lru_push(t, s);
    t->count++;
    t->st->tcp_streams++;
    t->st->tcp_active = t->count;
    if (t->count > t->st->tcp_active_max)
        t->st->tcp_active_max = t->count;
    return s;
}

/*
 * Frame what can be framed from [p, end).  Returns the number of bytes used
 * (the rest must be kept), or a negative stop value in *stop.
 */
static size_t
frame_bytes(struct cap_tcp *t, const struct cap_meta *m, const uint8_t *p,
            const uint8_t *end, int *stop)
{
    const uint8_t *start = p;
    while (p < end) {
        struct cap_frame f;
        int rc = cap_stream_frame(p, end, t->cfg->max_message, &f);
        t->st->sip_junk_bytes += f.junk;
        if (rc == CAP_FRAME_MORE) {
            p += f.skip;
            break;
        }
        if (rc == CAP_FRAME_SKIP) {
            if (f.reason == CAP_FRAME_BAD_CONTENT_LENGTH)
                t->st->sip_bad_content_length++;
            else if (f.reason == CAP_FRAME_OVERSIZE)
                t->st->sip_oversize++;
            p += f.skip;
            continue;
        }
        t->st->messages++;
        t->st->messages_tcp++;
        int r = t->fn(t->ctx, m, p + f.skip, f.len);
        p += f.skip + f.len;
        if (r < 0) {
            *stop = r;
            break;
        }
    }
    return (size_t)(p - start);
}

/* Append in-order bytes to the stream and deliver whole messages. */
static int
stream_data(struct cap_tcp *t, struct stream *s, const struct cap_meta *m,
            const uint8_t *p, size_t len)
{
    int stop = 0;
    s->next_seq += (uint32_t)len;
    if (s->len == 0) {
        /* fast path: frame straight from the segment */
        size_t used = frame_bytes(t, m, p, p + len, &stop);
        p += used;
        len -= used;
        if (len == 0 || stop)
            return stop;
    }
    if (s->len + len > s->cap) {
        size_t nc = s->cap ? s->cap : 2048;
        while (nc < s->len + len)
            nc *= 2;
        make_room(t, s, nc - s->cap);
        uint8_t *nb = realloc(s->buf, nc);
        if (nb == NULL) { /* lose this stream's partial message */
            t->st->tcp_gaps += s->len + len;
            buf_release(t, s);
            return 0;
        }
        t->bytes += nc - s->cap;
        s->buf = nb;
        s->cap = nc;
    }
    memcpy(s->buf + s->len, p, len);
    s->len += len;
    size_t used = frame_bytes(t, m, s->buf, s->buf + s->len, &stop);
    if (used == s->len) {
        buf_release(t, s);
    } else if (used > 0) {
        memmove(s->buf, s->buf + used, s->len - used);
        s->len -= used;
    }
    return stop;
}

/* Deliver held segments that have become in order. */
static int
drain_held(struct cap_tcp *t, struct stream *s, const struct cap_meta *m)
{
    int stop = 0;
    while (s->held && !stop) {
        struct held *h = s->held;
        int32_t d = (int32_t)(h->seq - s->next_seq);
        if (d > 0)
            break;
        s->held = h->next;
        s->nheld--;
        s->held_bytes -= h->len;
        t->bytes -= h->len;
        if ((int64_t)h->len + d > 0) {
            size_t skip = (size_t)(-(int64_t)d);
            struct cap_meta hm = *m;
            hm.ts_sec = h->ts_sec;
            hm.ts_usec = h->ts_usec;
            stop = stream_data(t, s, &hm, h->data + skip, h->len - skip);
        }
        free(h);
    }
    return stop;
}

/* Give up the bytes before the first held segment. */
static int
jump_gap(struct cap_tcp *t, struct stream *s, const struct cap_meta *m)
{
    if (s->held == NULL)
        return 0;
    t->st->tcp_gaps += (uint32_t)(s->held->seq - s->next_seq);
    if (s->buf)
        buf_release(t, s);
    s->next_seq = s->held->seq;
    return drain_held(t, s, m);
}

static void
hold(struct cap_tcp *t, struct stream *s, const struct cap_meta *m,
     uint32_t seq, const uint8_t *p, size_t len)
{
    struct held **pp = &s->held;
    while (*pp && (int32_t)((*pp)->seq - seq) < 0)
        pp = &(*pp)->next;
    if (*pp && (*pp)->seq == seq && (*pp)->len >= len) {
        t->st->tcp_retransmits++;
        return;
    }
    make_room(t, s, len);
    struct held *h = malloc(sizeof *h + len);
    if (h == NULL) {
        t->st->tcp_ooo_dropped++;
        return;
    }
    h->seq = seq;
    h->len = len;
    h->ts_sec = m->ts_sec;
    h->ts_usec = m->ts_usec;
    memcpy(h->data, p, len);
    h->next = *pp;
    *pp = h;
    s->nheld++;
    s->held_bytes += len;
    t->bytes += len;
    t->st->tcp_out_of_order++;
}

int
cap_tcp_segment(struct cap_tcp *t, const struct cap_meta *m, uint32_t seq,
                unsigned flags, const uint8_t *p, size_t len)
{
    int stop = 0;
    int closing = (flags & (CAP_TCP_FIN | CAP_TCP_RST)) != 0;
    struct stream *s = stream_get(t, m, len > 0 || (flags & CAP_TCP_SYN));
    if (s == NULL)
        return 0;
    if (flags & CAP_TCP_SYN) {
        int32_t back = (int32_t)(s->next_seq - (seq + 1));
        if (!s->synced || back < 0 || back > SEQ_FAR) {
            /* a new connection (not a retransmitted SYN of this one) */
            drop_held(t, s);
            if (s->buf)
                buf_release(t, s);
            s->next_seq = seq + 1;
            s->synced = 1;
        }
        seq++;
    } else if (!s->synced) {
        /* joined mid-stream: start here; the framer finds a start line */
        s->next_seq = seq;
        s->synced = 1;
    }
    if (len > 0 && !(flags & CAP_TCP_RST)) {
        int32_t d = (int32_t)(seq - s->next_seq);
        if (d < -SEQ_FAR || d > SEQ_FAR) {
            t->st->tcp_resyncs++;
            drop_held(t, s);
            if (s->buf)
                buf_release(t, s);
            s->next_seq = seq;
            d = 0;
        }
        if (d < 0 && (int64_t)len + d <= 0) {
            t->st->tcp_retransmits++;
        } else if (d <= 0) {
            size_t skip = (size_t)(-(int64_t)d);
            stop = stream_data(t, s, m, p + skip, len - skip);
            if (!stop)
                stop = drain_held(t, s, m);
        } else if (s->nheld < t->cfg->max_stream_segments &&
                   s->held_bytes + len <= t->cfg->max_stream_pending) {
            hold(t, s, m, seq, p, len);
        } else {
            /* bounds reached: the missing bytes are not coming */
            hold(t, s, m, seq, p, len);
            stop = jump_gap(t, s, m);
            if (s->nheld >= t->cfg->max_stream_segments ||
                s->held_bytes > t->cfg->max_stream_pending) {
                t->st->tcp_ooo_dropped += s->nheld;
                drop_held(t, s);
            }
        }
    }
    if (closing) {
        /* bytes missing before held ones will not come now: give them
         * up and deliver what was held, rather than drop it with the
         * stream */
        if (!stop && s->held != NULL)
            stop = jump_gap(t, s, m);
        t->st->tcp_closed++;
        stream_remove(t, s);
    }
    return stop;
}
