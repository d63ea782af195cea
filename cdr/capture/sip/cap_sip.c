/*
 * SIP message parser: one bounded pass, slices into the caller's buffer.
 * Kamailio's parser is the model: find header boundaries first, look inside
 * a header only when someone asks.
 */
#include "cdr/capture/sip/cap_sip.h"

#include "cdr/record/cdr_addr.h"

#include <string.h>

const char *
cap_sip_strerror(int code)
{
    switch (code) {
    case CAP_SIP_OK: return "ok";
    case CAP_SIP_E_EMPTY: return "no message (keep-alive)";
    case CAP_SIP_E_START_LINE: return "no SIP start line";
    case CAP_SIP_E_HEADER: return "malformed header line";
    case CAP_SIP_E_TRUNCATED: return "truncated message";
    case CAP_SIP_E_CONTENT_LENGTH: return "bad Content-Length";
    case CAP_SIP_E_TOO_BIG: return "message too big";
    case CAP_SIP_E_MISSING: return "mandatory header missing";
    case CAP_SIP_E_CSEQ: return "malformed CSeq";
    default: return "unknown SIP parse error";
    }
}

static int
lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int
is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 3261 token characters: alphanumerics and -.!%*_+`'~ */
static const unsigned char token_tab[256] = {
    ['-'] = 1, ['.'] = 1, ['!'] = 1,  ['%'] = 1, ['*'] = 1, ['_'] = 1,
    ['+'] = 1, ['`'] = 1, ['\''] = 1, ['~'] = 1, ['0'] = 1, ['1'] = 1,
    ['2'] = 1, ['3'] = 1, ['4'] = 1,  ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['a'] = 1,  ['b'] = 1, ['c'] = 1, ['d'] = 1,
    ['e'] = 1, ['f'] = 1, ['g'] = 1,  ['h'] = 1, ['i'] = 1, ['j'] = 1,
    ['k'] = 1, ['l'] = 1, ['m'] = 1,  ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1,  ['t'] = 1, ['u'] = 1, ['v'] = 1,
    ['w'] = 1, ['x'] = 1, ['y'] = 1,  ['z'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1,  ['F'] = 1, ['G'] = 1, ['H'] = 1,
    ['I'] = 1, ['J'] = 1, ['K'] = 1,  ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1,  ['R'] = 1, ['S'] = 1, ['T'] = 1,
    ['U'] = 1, ['V'] = 1, ['W'] = 1,  ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
};

static int
is_token(char c)
{
    return token_tab[(unsigned char)c];
}

static int
ieq(const char *p, size_t n, const char *lit)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (lit[i] == '\0' ||
            lower((unsigned char)p[i]) != lower((unsigned char)lit[i]))
            return 0;
    }
    return lit[i] == '\0';
}

int
cap_sip_eq(struct cdr_slice s, const char *lit)
{
    return s.p != NULL && ieq(s.p, s.n, lit);
}

static const char *const method_names[] = {
    [CAP_SIP_OTHER] = "?",         [CAP_SIP_INVITE] = "INVITE",
    [CAP_SIP_ACK] = "ACK",         [CAP_SIP_BYE] = "BYE",
    [CAP_SIP_CANCEL] = "CANCEL",   [CAP_SIP_REFER] = "REFER",
    [CAP_SIP_NOTIFY] = "NOTIFY",   [CAP_SIP_SUBSCRIBE] = "SUBSCRIBE",
    [CAP_SIP_OPTIONS] = "OPTIONS", [CAP_SIP_REGISTER] = "REGISTER",
    [CAP_SIP_UPDATE] = "UPDATE",   [CAP_SIP_PRACK] = "PRACK",
    [CAP_SIP_INFO] = "INFO",       [CAP_SIP_MESSAGE] = "MESSAGE",
    [CAP_SIP_PUBLISH] = "PUBLISH",
};

static const unsigned char method_len[] = {
    [CAP_SIP_OTHER] = 1,    [CAP_SIP_INVITE] = 6,    [CAP_SIP_ACK] = 3,
    [CAP_SIP_BYE] = 3,      [CAP_SIP_CANCEL] = 6,    [CAP_SIP_REFER] = 5,
    [CAP_SIP_NOTIFY] = 6,   [CAP_SIP_SUBSCRIBE] = 9, [CAP_SIP_OPTIONS] = 7,
    [CAP_SIP_REGISTER] = 8, [CAP_SIP_UPDATE] = 6,    [CAP_SIP_PRACK] = 5,
    [CAP_SIP_INFO] = 4,     [CAP_SIP_MESSAGE] = 7,   [CAP_SIP_PUBLISH] = 7,
};

enum cap_sip_method
cap_sip_method_of(const char *p, size_t n)
{
    if (n < 3 || n > 9)
        return CAP_SIP_OTHER;
    for (size_t i = 1; i < sizeof method_names / sizeof method_names[0]; i++) {
        if (method_names[i][0] == p[0] && method_len[i] == n &&
            memcmp(method_names[i], p, n) == 0)
            return (enum cap_sip_method)i;
    }
    return CAP_SIP_OTHER;
}

const char *
cap_sip_method_name(enum cap_sip_method m)
{
    if ((size_t)m >= sizeof method_names / sizeof method_names[0])
        return "?";
    return method_names[m];
}

enum cap_sip_hdr
cap_sip_hdr_of(const char *p, size_t n)
{
    static const struct {
        const char *name;
        char compact;
        enum cap_sip_hdr id;
    } tab[] = {
        {"call-id", 'i', CAP_H_CALL_ID},
        {"cseq", 0, CAP_H_CSEQ},
        {"from", 'f', CAP_H_FROM},
        {"to", 't', CAP_H_TO},
        {"via", 'v', CAP_H_VIA},
        {"contact", 'm', CAP_H_CONTACT},
        {"refer-to", 'r', CAP_H_REFER_TO},
        {"referred-by", 'b', CAP_H_REFERRED_BY},
        {"event", 'o', CAP_H_EVENT},
        {"subscription-state", 0, CAP_H_SUBSCRIPTION_STATE},
        {"content-type", 'c', CAP_H_CONTENT_TYPE},
        {"content-length", 'l', CAP_H_CONTENT_LENGTH},
        {"refer-sub", 0, CAP_H_REFER_SUB},
        {"replaces", 0, CAP_H_REPLACES},
    };
    if (n == 0)
        return CAP_H_UNKNOWN;
    int c0 = lower((unsigned char)p[0]);
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        if (n == 1) {
            if (tab[i].compact == c0)
                return tab[i].id;
        } else if (tab[i].name[0] == c0 && ieq(p, n, tab[i].name)) {
            return tab[i].id;
        }
    }
    return CAP_H_UNKNOWN;
}

/* End of the line starting at p: the position of its LF (or CR LF), or end.
 * *next is set past the line terminator. */
static const char *
line_end(const char *p, const char *end, const char **next)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    if (lf == NULL) {
        *next = end;
        return end;
    }
    *next = lf + 1;
    if (lf > p && lf[-1] == '\r')
        return lf - 1;
    return lf;
}

static int
is_version(const char *p, const char *end)
{
    return end - p == 7 && ieq(p, 7, "SIP/2.0");
}

/* Try the line [p, e) as a start line. 0 or -1. */
static int
parse_start_line(const char *p, const char *e, struct cap_sip_msg *m)
{
    const char *sp1 = memchr(p, ' ', (size_t)(e - p));
    if (sp1 == NULL)
        return -1;
    if (is_version(p, sp1)) {
        const char *q = sp1 + 1;
        if (e - q < 3 || !is_digit(q[0]) || !is_digit(q[1]) ||
            !is_digit(q[2]) || (e - q > 3 && q[3] != ' '))
            return -1;
        int st = (q[0] - '0') * 100 + (q[1] - '0') * 10 + (q[2] - '0');
        if (st < 100 || st > 699)
            return -1;
        m->is_request = 0;
        m->status = st;
        q += 3;
        if (q < e)
            q++;
        m->reason = (struct cdr_slice){q, (size_t)(e - q)};
        return 0;
    }
    for (const char *q = p; q < sp1; q++) {
        if (!is_token(*q))
            return -1;
    }
    if (sp1 == p)
        return -1;
    const char *u = sp1 + 1;
    const char *sp2 = memchr(u, ' ', (size_t)(e - u));
    if (sp2 == NULL || sp2 == u || !is_version(sp2 + 1, e))
        return -1;
    m->is_request = 1;
    m->method_text = (struct cdr_slice){p, (size_t)(sp1 - p)};
    m->method = cap_sip_method_of(p, (size_t)(sp1 - p));
    m->ruri = (struct cdr_slice){u, (size_t)(sp2 - u)};
    return 0;
}

struct cdr_slice
cap_sip_trim(struct cdr_slice s)
{
    if (s.p == NULL)
        return s;
    const char *p = s.p, *e = s.p + s.n;
    for (;;) {
        if (p < e && (is_ws(*p) || *p == '\r' || *p == '\n'))
            p++;
        else
            break;
    }
    while (e > p && (is_ws(e[-1]) || e[-1] == '\r' || e[-1] == '\n'))
        e--;
    return (struct cdr_slice){p, (size_t)(e - p)};
}

/* Strict unsigned decimal with a bound. 0 or -1. */
static int
parse_uint(const char *p, const char *e, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (p == e)
        return -1;
    for (; p < e; p++) {
        if (!is_digit(*p))
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > max)
            return -1;
    }
    *out = v;
    return 0;
}

static int
parse_cseq(struct cap_sip_msg *m)
{
    struct cdr_slice v = cap_sip_trim(m->hdr[CAP_H_CSEQ]);
    const char *p = v.p, *e = v.p + v.n, *q = p;
    uint64_t n;
    while (q < e && is_digit(*q))
        q++;
    if (parse_uint(p, q, UINT32_MAX, &n) != 0)
        return CAP_SIP_E_CSEQ;
    const char *t = q;
    while (t < e && (is_ws(*t) || *t == '\r' || *t == '\n'))
        t++;
    if (t == q || t == e)
        return CAP_SIP_E_CSEQ;
    const char *te = t;
    while (te < e && is_token(*te))
        te++;
    if (te != e)
        return CAP_SIP_E_CSEQ;
    m->cseq = (uint32_t)n;
    m->cseq_method_text = (struct cdr_slice){t, (size_t)(te - t)};
    m->cseq_method = cap_sip_method_of(t, (size_t)(te - t));
    return 0;
}

/* The start line, after at most CAP_SIP_MAX_JUNK bytes of junk lines
 * (from start).  Its beginning, or NULL; *next is the line after it. */
static const char *
find_start_line(const char *start, const char *p, const char *end,
                struct cap_sip_msg *m, const char **next)
{
    for (;;) {
        const char *e = line_end(p, end, next);
        if (parse_start_line(p, e, m) == 0)
            return p;
        if (*next == end || *next - start > CAP_SIP_MAX_JUNK)
            return NULL;
        p = *next;
    }
}

/* Header lines from *pp up to the empty line, which *pp then follows.
 * 0, 1 when the message ends before an empty line, or a CAP_SIP_E_*
 * code. */
static int
read_headers(const char **pp, const char *end, struct cap_sip_msg *m)
{
    const char *p = *pp, *next, *e;
    struct cap_sip_header *cur = NULL;
    while (p < end) {
        e = line_end(p, end, &next);
        if (e == p) { /* empty line: end of headers */
            *pp = next;
            return 0;
        }
        if (next == end && e == end) /* last line cut before its LF */
            return CAP_SIP_E_TRUNCATED;
        if (is_ws(*p)) { /* folded continuation of the previous header */
            if (cur == NULL)
                return CAP_SIP_E_HEADER;
            cur->value.n = (size_t)(e - cur->value.p);
            p = next;
            continue;
        }
        const char *n0 = p, *n1 = p;
        while (n1 < e && is_token(*n1))
            n1++;
        const char *c = n1;
        while (c < e && is_ws(*c))
            c++;
        if (n1 == n0 || c == e || *c != ':')
            return CAP_SIP_E_HEADER;
        if (m->nheaders == CAP_SIP_MAX_HEADERS)
            return CAP_SIP_E_TOO_BIG;
        cur = &m->headers[m->nheaders++];
        cur->name = (struct cdr_slice){n0, (size_t)(n1 - n0)};
        cur->id = cap_sip_hdr_of(n0, (size_t)(n1 - n0));
        cur->value = (struct cdr_slice){c + 1, (size_t)(e - (c + 1))};
        p = next;
    }
    return 1;
}

/* Values trimmed; the first of each known header, and how many. */
static void
index_headers(struct cap_sip_msg *m)
{
    for (size_t i = 0; i < m->nheaders; i++) {
        struct cap_sip_header *h = &m->headers[i];
        h->value = cap_sip_trim(h->value);
        if (h->id == CAP_H_UNKNOWN)
            continue;
        if (m->nhdr[h->id]++ == 0)
            m->hdr[h->id] = h->value;
    }
}

/* The body from p: Content-Length bytes (every Content-Length agreeing),
 * else the rest.  too_big: the message was cut at CAP_SIP_MAX_MSG. */
static int
read_body(const char *p, const char *end, int too_big, struct cap_sip_msg *m)
{
    if (m->nhdr[CAP_H_CONTENT_LENGTH] == 0) {
        m->body = (struct cdr_slice){p, (size_t)(end - p)};
        return 0;
    }
    struct cdr_slice v = m->hdr[CAP_H_CONTENT_LENGTH];
    uint64_t cl;
    if (parse_uint(v.p, v.p + v.n, CAP_SIP_MAX_MSG, &cl) != 0)
        return CAP_SIP_E_CONTENT_LENGTH;
    for (size_t i = 0; i < m->nheaders; i++) {
        struct cdr_slice w = m->headers[i].value;
        uint64_t c2;
        if (m->headers[i].id != CAP_H_CONTENT_LENGTH)
            continue;
        if (parse_uint(w.p, w.p + w.n, CAP_SIP_MAX_MSG, &c2) != 0 || c2 != cl)
            return CAP_SIP_E_CONTENT_LENGTH;
    }
    if ((uint64_t)(end - p) < cl)
        return too_big ? CAP_SIP_E_TOO_BIG : CAP_SIP_E_TRUNCATED;
    m->has_content_length = 1;
    m->body = (struct cdr_slice){p, (size_t)cl};
    return 0;
}

int
cap_sip_parse(const char *p, const char *end, struct cap_sip_msg *m)
{
    memset(m, 0, offsetof(struct cap_sip_msg, headers));
    m->nheaders = 0;
    m->cseq = 0;
    m->cseq_method = CAP_SIP_OTHER;
    m->cseq_method_text = (struct cdr_slice){NULL, 0};
    m->body = (struct cdr_slice){NULL, 0};
    m->has_content_length = 0;

    if (p == NULL || end <= p)
        return CAP_SIP_E_EMPTY;
    const char *start = p;
    while (p < end && (*p == '\r' || *p == '\n' || is_ws(*p) || *p == '\0'))
        p++;
    if (p == end)
        return CAP_SIP_E_EMPTY;
    const char *next;
    const char *msg_start = find_start_line(start, p, end, m, &next);
    if (msg_start == NULL)
        return CAP_SIP_E_START_LINE;
    if (end - msg_start > CAP_SIP_MAX_MSG)
        end = msg_start + CAP_SIP_MAX_MSG; /* judged again below */
    int too_big = end - msg_start >= CAP_SIP_MAX_MSG;
    p = next;
    int rc = read_headers(&p, end, m);
    if (rc == 1)
        return too_big ? CAP_SIP_E_TOO_BIG : CAP_SIP_E_TRUNCATED;
    if (rc != 0)
        return rc;
    index_headers(m);
    if ((rc = read_body(p, end, too_big, m)) != 0)
        return rc;
    m->raw = (struct cdr_slice){msg_start,
                                (size_t)(m->body.p + m->body.n - msg_start)};
    if (m->nhdr[CAP_H_CALL_ID] == 0 || m->nhdr[CAP_H_CSEQ] == 0 ||
        m->nhdr[CAP_H_FROM] == 0 || m->nhdr[CAP_H_TO] == 0 ||
        m->hdr[CAP_H_CALL_ID].n == 0)
        return CAP_SIP_E_MISSING;
    return parse_cseq(m);
}

/* ---- lazy helpers ---- */

int
cap_sip_first_value(struct cdr_slice s, struct cdr_slice *value,
                    struct cdr_slice *rest)
{
    if (s.p == NULL)
        return -1;
    const char *p = s.p, *e = s.p + s.n;
    int quoted = 0, angle = 0;
    const char *q = p;
    for (; q < e; q++) {
        if (quoted) {
            if (*q == '\\' && q + 1 < e)
                q++;
            else if (*q == '"')
                quoted = 0;
        } else if (*q == '"') {
            quoted = 1;
        } else if (*q == '<') {
            angle = 1;
        } else if (*q == '>') {
            angle = 0;
        } else if (*q == ',' && !angle) {
            break;
        }
    }
    *value = cap_sip_trim((struct cdr_slice){p, (size_t)(q - p)});
    if (q < e)
        *rest = (struct cdr_slice){q + 1, (size_t)(e - q - 1)};
    else
        *rest = (struct cdr_slice){e, 0};
    return value->n > 0 ? 0 : -1;
}

int
cap_sip_param(struct cdr_slice params, const char *name,
              struct cdr_slice *value)
{
    if (params.p == NULL)
        return -1;
    const char *p = params.p, *e = params.p + params.n;
    while (p < e) {
        const char *se = memchr(p, ';', (size_t)(e - p));
        if (se == NULL)
            se = e;
        const char *eq = memchr(p, '=', (size_t)(se - p));
        struct cdr_slice k =
            cap_sip_trim((struct cdr_slice){p, (size_t)((eq ? eq : se) - p)});
        if (k.n > 0 && ieq(k.p, k.n, name)) {
            if (eq != NULL) {
                struct cdr_slice v = cap_sip_trim(
                    (struct cdr_slice){eq + 1, (size_t)(se - eq - 1)});
                if (v.n >= 2 && v.p[0] == '"' && v.p[v.n - 1] == '"')
                    v = (struct cdr_slice){v.p + 1, v.n - 2};
                *value = v;
            } else {
                *value = (struct cdr_slice){se, 0};
            }
            return 0;
        }
        p = se < e ? se + 1 : e;
    }
    return -1;
}

int
cap_sip_nameaddr(struct cdr_slice s, struct cap_sip_nameaddr *out)
{
    memset(out, 0, sizeof *out);
    s = cap_sip_trim(s);
    if (s.p == NULL || s.n == 0)
        return -1;
    const char *p = s.p, *e = s.p + s.n;
    const char *q = p;
    /* Find '<' outside quotes: then it is a name-addr. */
    int quoted = 0;
    const char *lt = NULL;
    for (; q < e; q++) {
        if (quoted) {
            if (*q == '\\' && q + 1 < e)
                q++;
            else if (*q == '"')
                quoted = 0;
        } else if (*q == '"') {
            quoted = 1;
        } else if (*q == '<') {
            lt = q;
            break;
        }
    }
    const char *after;
    if (lt != NULL) {
        const char *gt = memchr(lt + 1, '>', (size_t)(e - lt - 1));
        if (gt == NULL)
            return -1;
        struct cdr_slice d =
            cap_sip_trim((struct cdr_slice){p, (size_t)(lt - p)});
        if (d.n >= 2 && d.p[0] == '"' && d.p[d.n - 1] == '"')
            d = (struct cdr_slice){d.p + 1, d.n - 2};
        out->display = d;
        out->uri =
            cap_sip_trim((struct cdr_slice){lt + 1, (size_t)(gt - lt - 1)});
        after = gt + 1;
    } else {
        if (quoted)
            return -1;
        /* addr-spec: the URI ends at the first ';' (RFC 3261 20.10), or
           at whitespace. */
        q = p;
        while (q < e && *q != ';' && !is_ws(*q) && *q != '\r' && *q != '\n')
            q++;
        out->uri = (struct cdr_slice){p, (size_t)(q - p)};
        after = q;
    }
    if (out->uri.n == 0)
        return -1;
    while (after < e && (is_ws(*after) || *after == '\r' || *after == '\n'))
        after++;
    if (after < e) {
        if (*after != ';')
            return -1;
        out->params = (struct cdr_slice){after + 1, (size_t)(e - after - 1)};
        struct cdr_slice tag;
        if (cap_sip_param(out->params, "tag", &tag) == 0)
            out->tag = tag;
    }
    return 0;
}

int
cap_sip_uri(struct cdr_slice s, struct cap_sip_uri *out)
{
    memset(out, 0, sizeof *out);
    s = cap_sip_trim(s);
    struct cdr_uri u;
    if (s.p == NULL || cdr_uri_split(s, &u) != 0)
        return -1;
    out->scheme = u.scheme;
    out->user = u.has_user ? u.user : (struct cdr_slice){u.host.p, 0};
    out->host = u.host;
    out->params = u.params;
    out->headers = u.headers;
    out->port = u.port;
    return 0;
}

int
cap_sip_uri_header(struct cdr_slice headers, const char *name,
                   struct cdr_slice *value)
{
    if (headers.p == NULL)
        return -1;
    const char *p = headers.p, *e = headers.p + headers.n;
    while (p < e) {
        const char *amp = memchr(p, '&', (size_t)(e - p));
        if (amp == NULL)
            amp = e;
        const char *eq = memchr(p, '=', (size_t)(amp - p));
        if (eq != NULL && ieq(p, (size_t)(eq - p), name)) {
            *value = (struct cdr_slice){eq + 1, (size_t)(amp - eq - 1)};
            return 0;
        }
        p = amp < e ? amp + 1 : e;
    }
    return -1;
}

int
cap_sip_unescape(struct cdr_slice s, char *buf, size_t size)
{
    return cdr_uri_unescape(s, buf, size);
}

int
cap_sip_token(struct cdr_slice s, struct cdr_slice *token,
              struct cdr_slice *params)
{
    s = cap_sip_trim(s);
    if (s.p == NULL || s.n == 0)
        return -1;
    const char *p = s.p, *e = s.p + s.n;
    const char *q = p;
    while (q < e && is_token(*q))
        q++;
    if (q == p)
        return -1;
    *token = (struct cdr_slice){p, (size_t)(q - p)};
    while (q < e && is_ws(*q))
        q++;
    if (q < e && *q == ';')
        *params = (struct cdr_slice){q + 1, (size_t)(e - q - 1)};
    else
        *params = (struct cdr_slice){e, 0};
    return 0;
}

int
cap_sip_sipfrag_status(struct cdr_slice body, int *status)
{
    if (body.p == NULL)
        return -1;
    const char *p = body.p, *e = body.p + body.n;
    while (p < e && (*p == '\r' || *p == '\n' || is_ws(*p)))
        p++;
    const char *next;
    const char *le = line_end(p, e, &next);
    struct cap_sip_msg m;
    memset(&m, 0, offsetof(struct cap_sip_msg, headers));
    if (parse_start_line(p, le, &m) != 0 || m.is_request)
        return -1;
    *status = m.status;
    return 0;
}
