/*
 * A small SIP message parser for the capture feeder.
 *
 * Zero-copy: every slice points into the caller's buffer and lives as long as
 * that buffer.  One pass over the message finds the start line, the headers
 * the tracker needs (value slices only, their inner syntax is parsed lazily by
 * the helpers below) and the body.  The parser takes (p, end), never reads
 * past end and never needs a NUL terminator.  Anything it cannot parse gives
 * a negative CAP_SIP_E_* code; the caller counts it and moves on.
 */
#ifndef REFEREE_CAP_SIP_H
#define REFEREE_CAP_SIP_H

#include "cdr/record/cdr_record.h"

#include <stddef.h>
#include <stdint.h>

/* Bounds on one message. */
#define CAP_SIP_MAX_MSG 65535   /* bytes, start line to end of body */
#define CAP_SIP_MAX_HEADERS 128 /* header lines (all, known or not) */
#define CAP_SIP_MAX_JUNK 512    /* bytes skipped looking for a start line */

enum cap_sip_err {
    CAP_SIP_OK = 0,
    CAP_SIP_E_EMPTY = -1,      /* nothing but keep-alive CRLFs / spaces */
    CAP_SIP_E_START_LINE = -2, /* no request or status line */
    CAP_SIP_E_HEADER = -3,     /* malformed header line */
    CAP_SIP_E_TRUNCATED = -4,  /* no end of headers, or body shorter than
                                  Content-Length */
    CAP_SIP_E_CONTENT_LENGTH = -5,
    CAP_SIP_E_TOO_BIG = -6, /* more than CAP_SIP_MAX_MSG or _HEADERS */
    CAP_SIP_E_MISSING = -7, /* Call-ID, CSeq, From or To absent */
    CAP_SIP_E_CSEQ = -8,    /* malformed CSeq */
};

/* Short fixed text for a CAP_SIP_E_* code; never NULL. */
const char *cap_sip_strerror(int code);

enum cap_sip_method {
    CAP_SIP_OTHER = 0, /* an extension method: see method_text */
    CAP_SIP_INVITE,
    CAP_SIP_ACK,
    CAP_SIP_BYE,
    CAP_SIP_CANCEL,
    CAP_SIP_REFER,
    CAP_SIP_NOTIFY,
    CAP_SIP_SUBSCRIBE,
    CAP_SIP_OPTIONS,
    CAP_SIP_REGISTER,
    CAP_SIP_UPDATE,
    CAP_SIP_PRACK,
    CAP_SIP_INFO,
    CAP_SIP_MESSAGE,
    CAP_SIP_PUBLISH,
};

/* The method of a token (case-sensitive, as RFC 3261 says). */
enum cap_sip_method cap_sip_method_of(const char *p, size_t n);
const char *cap_sip_method_name(enum cap_sip_method m); /* "INVITE", "?" */

/* The headers the tracker uses.  Compact forms map onto these. */
enum cap_sip_hdr {
    CAP_H_CALL_ID, /* i */
    CAP_H_CSEQ,
    CAP_H_FROM,        /* f */
    CAP_H_TO,          /* t */
    CAP_H_VIA,         /* v */
    CAP_H_CONTACT,     /* m */
    CAP_H_REFER_TO,    /* r */
    CAP_H_REFERRED_BY, /* b */
    CAP_H_EVENT,       /* o */
    CAP_H_SUBSCRIPTION_STATE,
    CAP_H_CONTENT_TYPE,   /* c */
    CAP_H_CONTENT_LENGTH, /* l */
    CAP_H_REFER_SUB,
    CAP_H_REPLACES,
    CAP_H__COUNT,
    CAP_H_UNKNOWN = CAP_H__COUNT,
};

/* Which known header a name is (any case, compact forms too). */
enum cap_sip_hdr cap_sip_hdr_of(const char *p, size_t n);

struct cap_sip_header {
    enum cap_sip_hdr id; /* CAP_H_UNKNOWN for the others */
    struct cdr_slice name;
    struct cdr_slice value; /* trimmed; may contain folded CRLF+WS inside */
};

/*
 * A parsed message.  All slices borrow from the buffer given to
 * cap_sip_parse().  hdr[id] is the first occurrence of a known header
 * (n == 0 and p == NULL when absent), nhdr[id] how many lines carried it.
 */
struct cap_sip_msg {
    struct cdr_slice raw; /* start line to end of body (junk skipped) */
    int is_request;
    /* request */
    enum cap_sip_method method;
    struct cdr_slice method_text, ruri;
    /* response */
    int status; /* 100..699 */
    struct cdr_slice reason;
    /* headers */
    struct cdr_slice hdr[CAP_H__COUNT];
    unsigned nhdr[CAP_H__COUNT];
    struct cap_sip_header headers[CAP_SIP_MAX_HEADERS];
    size_t nheaders;
    /* CSeq, parsed eagerly because every message needs it */
    uint32_t cseq;
    enum cap_sip_method cseq_method;
    struct cdr_slice cseq_method_text;
    /* body: Content-Length bytes, or the rest when there is no
       Content-Length (UDP) */
    struct cdr_slice body;
    int has_content_length;
};

/*
 * Parse one message from [p, end).  Leading CRLF keep-alives, spaces and up
 * to CAP_SIP_MAX_JUNK bytes of junk lines are skipped.  Bytes after the body
 * (a second message in the same buffer) are left: m->raw says where this one
 * ends.  0 or a CAP_SIP_E_* code; *m is undefined on error.
 */
int cap_sip_parse(const char *p, const char *end, struct cap_sip_msg *m);

/* ---- lazy helpers: all take slices (or p, end) and never read past them. */

/* Trim spaces, tabs and folding (CR LF followed by SP/HT) at both ends. */
struct cdr_slice cap_sip_trim(struct cdr_slice s);

/* Case-insensitive comparison of a slice with a NUL-terminated literal. */
int cap_sip_eq(struct cdr_slice s, const char *lit);

/*
 * Split a header value on commas that are not inside quotes or <>.  *rest is
 * the text after the comma (n == 0 at the end).  Returns 0, or -1 when s
 * holds no value.
 */
int cap_sip_first_value(struct cdr_slice s, struct cdr_slice *value,
                        struct cdr_slice *rest);

/*
 * name-addr or addr-spec with parameters, as in From, To, Contact, Refer-To,
 * Referred-By:  "Bob" <sip:bob@biloxi.com;transport=tcp>;tag=a6c85cf
 * uri is the bare URI (without <>), params the header parameters after it
 * (starting after the first ';', n == 0 if none), tag the tag parameter.
 */
struct cap_sip_nameaddr {
    struct cdr_slice display;
    struct cdr_slice uri;
    struct cdr_slice params;
    struct cdr_slice tag;
};
int cap_sip_nameaddr(struct cdr_slice s, struct cap_sip_nameaddr *out);

/*
 * Value of parameter name in a ';'-separated list ("tag=1;lr;expires=60").
 * A parameter without '=' gives an empty slice with p != NULL.  0 if found,
 * -1 if not.
 */
int cap_sip_param(struct cdr_slice params, const char *name,
                  struct cdr_slice *value);

/*
 * sip:, sips: or tel: URI:  sip:user:password@host:port;params?headers
 * user (may be empty: no user part), host, port (0 if none), params (after
 * the first ';' of the host part), headers (after '?').  tel: puts the number
 * in user and leaves host empty.  0 or -1 (unknown scheme, no host).
 */
struct cap_sip_uri {
    struct cdr_slice scheme, user, host, params, headers;
    unsigned port;
};
int cap_sip_uri(struct cdr_slice s, struct cap_sip_uri *out);

/*
 * The value of header name ("Replaces") in a URI's ?headers part, still
 * %-escaped.  0 if found, -1 if not.
 */
int cap_sip_uri_header(struct cdr_slice headers, const char *name,
                       struct cdr_slice *value);

/*
 * Percent-decode s into buf (size bytes, NUL-terminated).  Returns the
 * decoded length, or -1 if it does not fit or an escape is malformed.
 */
int cap_sip_unescape(struct cdr_slice s, char *buf, size_t size);

/*
 * First token of a header value and its parameters: "refer;id=93809824",
 * "terminated;reason=noresource", "false".
 */
int cap_sip_token(struct cdr_slice s, struct cdr_slice *token,
                  struct cdr_slice *params);

/*
 * The status code of a message/sipfrag body whose first line is a status
 * line ("SIP/2.0 200 OK", LF or CRLF or no line end).  Leading blank lines
 * are skipped.  0 and *status, or -1.
 */
int cap_sip_sipfrag_status(struct cdr_slice body, int *status);

#endif
