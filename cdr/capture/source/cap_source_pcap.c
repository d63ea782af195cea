/*
 * libpcap source.  See cap_source_pcap.h.
 */
#include "cdr/capture/source/cap_source_pcap.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

struct cap_pcap {
    pcap_t *p;
    int dlt;
    int live;
    unsigned tick_ms;
    uint64_t packets;
};

int
cap_pcap_datalink(const struct cap_pcap *src)
{
    return src->dlt;
}

static int
fail(struct cdr_diag *d, int code, const char *what, const char *detail)
{
    cdr_diag_set(d, code, NULL, NULL, 0, "%s", what);
    if (detail && *detail)
        cdr_diag_detail(d, "%s", detail);
    return code;
}

/* The helpers below leave what they opened in s; the caller closes it when
 * one fails. */

static int
open_file(const struct cap_pcap_config *cfg, struct cap_pcap *s,
          struct cdr_diag *d)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    s->p = pcap_open_offline_with_tstamp_precision(
        cfg->file, PCAP_TSTAMP_PRECISION_MICRO, eb);
    if (s->p == NULL) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot read %s", cfg->file);
        cdr_diag_detail(d, "%s", eb);
        return CDR_E_IO;
    }
    return 0;
}

/* A live capture, non-blocking, whose read timeout is at most 250 ms so
 * that ticks come at least that often. */
static int
open_live(const struct cap_pcap_config *cfg, struct cap_pcap *s,
          struct cdr_diag *d)
{
    char eb[PCAP_ERRBUF_SIZE] = "";
    s->live = 1;
    s->p = pcap_create(cfg->device, eb);
    if (s->p == NULL) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot open %s", cfg->device);
        cdr_diag_detail(d, "%s", eb);
        return CDR_E_IO;
    }
    int snaplen = cfg->snaplen > 0 ? cfg->snaplen : CAP_NET_SNAPLEN;
    unsigned to = s->tick_ms < 250 ? s->tick_ms : 250;
    pcap_set_snaplen(s->p, snaplen);
    pcap_set_promisc(s->p, cfg->promisc ? 1 : 0);
    pcap_set_timeout(s->p, (int)to);
    if (cfg->buffer_bytes > 0)
        pcap_set_buffer_size(s->p, cfg->buffer_bytes);
    int rc = pcap_activate(s->p);
    if (rc < 0) {
        cdr_diag_set(d, CDR_E_IO, NULL, NULL, 0, "cannot capture on %s",
                     cfg->device);
        cdr_diag_detail(d, "%s%s%s", pcap_statustostr(rc),
                        *pcap_geterr(s->p) ? ": " : "", pcap_geterr(s->p));
        return CDR_E_IO;
    }
    if (pcap_setnonblock(s->p, 1, eb) < 0)
        return fail(d, CDR_E_IO, "cannot make the capture non-blocking", eb);
    return 0;
}

static int
check_datalink(struct cap_pcap *s, struct cdr_diag *d)
{
    s->dlt = pcap_datalink(s->p);
    if (cap_net_dlt_supported(s->dlt))
        return 0;
    const char *name = pcap_datalink_val_to_name(s->dlt);
    cdr_diag_set(d, CDR_E_USAGE, NULL, NULL, 0, "unsupported link type %d (%s)",
                 s->dlt, name ? name : "unknown");
    return CDR_E_USAGE;
}

/* The BPF filter (NULL: the default; empty: none).  One that does not
 * compile is the user's mistake; one the kernel refuses is not. */
static int
install_filter(struct cap_pcap *s, const char *filter, struct cdr_diag *d)
{
    if (filter == NULL)
        filter = CAP_NET_DEFAULT_FILTER;
    if (*filter == 0)
        return 0;
    struct bpf_program prog;
    if (pcap_compile(s->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        cdr_diag_set(d, CDR_E_USAGE, "filter", filter, strlen(filter),
                     "invalid capture filter");
        cdr_diag_detail(d, "%s", pcap_geterr(s->p));
        return CDR_E_USAGE;
    }
    int rc = pcap_setfilter(s->p, &prog);
    pcap_freecode(&prog);
    if (rc < 0) {
        cdr_diag_set(d, CDR_E_IO, "filter", filter, strlen(filter),
                     "cannot install the capture filter");
        cdr_diag_detail(d, "%s", pcap_geterr(s->p));
        return CDR_E_IO;
    }
    return 0;
}

int
cap_pcap_open(const struct cap_pcap_config *cfg, struct cap_pcap **out,
              struct cdr_diag *d)
{
    *out = NULL;
    if ((cfg->device == NULL) == (cfg->file == NULL))
        return fail(d, CDR_E_USAGE, "give either an interface or a file", NULL);
    struct cap_pcap *s = calloc(1, sizeof *s);
    if (s == NULL)
        return fail(d, CDR_E_NOMEM, "out of memory", NULL);
    s->tick_ms = cfg->tick_ms ? cfg->tick_ms : 1000;
    int rc = cfg->file ? open_file(cfg, s, d) : open_live(cfg, s, d);
    if (rc == 0)
        rc = check_datalink(s, d);
    if (rc == 0)
        rc = install_filter(s, cfg->filter, d);
    if (rc != 0) {
        cap_pcap_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void
cap_pcap_close(struct cap_pcap *s)
{
    if (s == NULL)
        return;
    if (s->p)
        pcap_close(s->p);
    free(s);
}

void
cap_pcap_get_stats(struct cap_pcap *s, struct cap_pcap_stats *out)
{
    memset(out, 0, sizeof *out);
    out->packets = s->packets;
    out->live = s->live;
    struct pcap_stat ps;
    if (s->live && pcap_stats(s->p, &ps) == 0) {
        out->received = ps.ps_recv;
        out->dropped = ps.ps_drop;
        out->if_dropped = ps.ps_ifdrop;
    }
}

static void
now_wall(int64_t *sec, int32_t *usec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *sec = (int64_t)ts.tv_sec;
    *usec = (int32_t)(ts.tv_nsec / 1000);
}

struct run {
    struct cap_pcap *s;
    struct cap_net *net;
    int rc;
};

static void
on_packet(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct run *r = (struct run *)(void *)user;
    r->s->packets++;
    int rc = cap_net_frame(r->net, r->s->dlt, (int64_t)h->ts.tv_sec,
                           (int32_t)h->ts.tv_usec, bytes, h->caplen);
    if (rc < 0 && r->rc == 0) {
        r->rc = rc;
        pcap_breakloop(r->s->p);
    }
}

static int
run_offline(struct cap_pcap *s, struct cap_net *net,
            volatile sig_atomic_t *stop, cap_tick_fn tick, void *tick_ctx,
            struct cdr_diag *d)
{
    struct pcap_pkthdr *h;
    const u_char *bytes;
    int64_t next_tick = INT64_MIN;
    int64_t tick_sec = (int64_t)(s->tick_ms / 1000 ? s->tick_ms / 1000 : 1);
    for (uint64_t i = 0;; i++) {
        if (stop && (i & 1023) == 0 && *stop)
            return 0;
        int rc = pcap_next_ex(s->p, &h, &bytes);
        if (rc == PCAP_ERROR_BREAK)
            return 0;
        if (rc < 0)
            return fail(d, CDR_E_IO, "error reading the capture file",
                        pcap_geterr(s->p));
        if (rc == 0)
            continue;
        int64_t sec = (int64_t)h->ts.tv_sec;
        if (sec >= next_tick) {
            if (next_tick != INT64_MIN) {
                cap_net_expire(net, sec);
                if (tick &&
                    (rc = tick(tick_ctx, sec, (int32_t)h->ts.tv_usec)) < 0)
                    return rc;
            }
            next_tick = sec + tick_sec;
        }
        s->packets++;
        rc = cap_net_frame(net, s->dlt, sec, (int32_t)h->ts.tv_usec, bytes,
                           h->caplen);
        if (rc < 0)
            return rc;
    }
}

static int
run_live(struct cap_pcap *s, struct cap_net *net, volatile sig_atomic_t *stop,
         cap_tick_fn tick, void *tick_ctx, struct cdr_diag *d)
{
    struct run r = {s, net, 0};
    int fd = pcap_get_selectable_fd(s->p);
    int64_t last_sec, sec;
    int32_t usec;
    now_wall(&last_sec, &usec);
    while (stop == NULL || !*stop) {
        if (fd >= 0) {
            struct pollfd pfd = {fd, POLLIN, 0};
            int prc = poll(&pfd, 1, (int)s->tick_ms);
            if (prc < 0 && errno != EINTR)
                return fail(d, CDR_E_IO, "poll on the capture failed",
                            strerror(errno));
        }
        /* read what is there, but at most 64 x 256 packets before looking
         * at the clock: under constant traffic the tick must still come */
        int n, rounds = 0;
        do {
            n = pcap_dispatch(s->p, 256, on_packet, (u_char *)(void *)&r);
        } while (n > 0 && r.rc == 0 && ++rounds < 64 &&
                 (stop == NULL || !*stop));
        if (r.rc < 0)
            return r.rc;
        if (n == PCAP_ERROR)
            return fail(d, CDR_E_IO, "capture failed", pcap_geterr(s->p));
        if (fd < 0 && n == 0)
            usleep(10000);
        now_wall(&sec, &usec);
        if ((sec - last_sec) * 1000 >= (int64_t)s->tick_ms || sec < last_sec) {
            last_sec = sec;
            cap_net_expire(net, sec);
            if (tick) {
                int rc = tick(tick_ctx, sec, usec);
                if (rc < 0)
                    return rc;
            }
        }
    }
    return 0;
}

int
cap_pcap_run(struct cap_pcap *s, struct cap_net *net,
             volatile sig_atomic_t *stop, cap_tick_fn tick, void *tick_ctx,
             struct cdr_diag *d)
{
    if (s->live)
        return run_live(s, net, stop, tick, tick_ctx, d);
    return run_offline(s, net, stop, tick, tick_ctx, d);
}

int
cap_drop_privileges(const char *user, struct cdr_diag *d)
{
    if (user == NULL)
        return 0;
    errno = 0;
    struct passwd *pw = getpwnam(user);
    if (pw == NULL) {
        cdr_diag_set(d, CDR_E_USAGE, "user", user, strlen(user),
                     "unknown user");
        if (errno)
            cdr_diag_detail(d, "%s", strerror(errno));
        return CDR_E_USAGE;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
        setuid(pw->pw_uid) != 0) {
        cdr_diag_set(d, CDR_E_IO, "user", user, strlen(user),
                     "cannot drop privileges");
        cdr_diag_detail(d, "%s", strerror(errno));
        return CDR_E_IO;
    }
    if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        cdr_diag_set(d, CDR_E_IO, "user", user, strlen(user),
                     "could regain root after dropping privileges");
        return CDR_E_IO;
    }
    return 0;
}
