/*
 * referee-capture: options, wiring (source -> packet path -> tracker ->
 * record files), signals and statistics.  The only place that prints.
 *
 * Signals only set flags; the work (flush, rotate, print) is done from the
 * source's tick callback or after the run loop, outside the handler.
 */
#include "cdr/capture/cap_cli.h"
#include "cdr/capture/track/cap_config.h"
#include "cdr/capture/net/cap_net.h"
#include "cdr/capture/source/cap_source_hep.h"
#include "cdr/capture/source/cap_source_pcap.h"
#include "cdr/capture/track/cap_tracker.h"
#include "cdr/capture/write/cap_writer.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t sig_stop, sig_rotate, sig_stats;

static void
on_signal(int sig)
{
    if (sig == SIGHUP)
        sig_rotate = 1;
    else if (sig == SIGUSR1)
        sig_stats = 1;
    else
        sig_stop = 1;
}

static const char usage_text[] =
    "Usage: referee-capture --config DECK.yaml SOURCE --out DIR [OPTIONS]\n"
    "Turn SIP REFER transfer flows seen on the wire into call records that\n"
    "referee-rate reads (CSV, one file per period, written atomically).\n"
    "\n"
    "Source (exactly one):\n"
    "  -i, --interface IFACE     live capture on IFACE (\"any\" for all)\n"
    "  -r, --read FILE           read a pcap/pcapng file (\"-\" for stdin)\n"
    "      --hep HOST:PORT       receive HEPv3 over UDP (\":9060\" for all)\n"
    "\n"
    "Required:\n"
    "  -c, --config DECK.yaml    deck whose trunks: section names the trunks\n"
    "                            (sid, termination_domain, carrier_addresses)\n"
    "  -o, --out DIR             folder for the record files (must exist)\n"
    "\n"
    "Options:\n"
    "  -f, --filter BPF          capture filter (default "
    "\"" CAP_NET_DEFAULT_FILTER "\")\n"
    "      --rotate SECONDS      one file per period (default 3600)\n"
    "  -Z, --user USER           drop privileges to USER after opening the\n"
    "                            capture\n"
    "      --max-dialogs N       calls followed at once (default 200000)\n"
    "      --invite-timeout S    unanswered INVITE given up after S (300)\n"
    "      --dialog-timeout S    answered call without BYE written as\n"
    "                            in-progress after S of silence (14400)\n"
    "      --transfer-window S   look for the INVITE to a transfer target and\n"
    "                            wait for the outcome this long (120)\n"
    "      --buffer-size BYTES   live: kernel capture buffer\n"
    "      --state FILE          live: calls open at shutdown are kept here\n"
    "                            and resumed at the next start (default\n"
    "                            DIR/.referee-capture.state)\n"
    "      --no-state            live: write open calls as in-progress at\n"
    "                            shutdown instead\n"
    "  -q, --quiet               no statistics at exit\n"
    "  -h, --help                this text\n"
    "  -V, --version             version\n"
    "\n"
    "Signals: SIGTERM/SIGINT flush and stop (open calls go to the state file\n"
    "when live, else are written as in-progress), SIGHUP closes the current "
    "file and starts a new one,\n"
    "SIGUSR1 prints statistics.\n"
    "\n"
    "Exit status:\n"
    "  0   capture ended and every record was committed\n"
    "  1   runtime failure (source, output folder, disk, privileges)\n"
    "  2   invalid deck (trunks: section)\n"
    "  64  bad command line\n";

struct opts {
    const char *config, *iface, *file, *hep, *out, *filter, *user, *state;
    int no_state;
    char state_buf[4096];
    int64_t rotate;
    int64_t buffer_size;
    int quiet;
    struct cap_tracker_opts tr;
};

struct run {
    struct opts o;
    struct cap_config *cfg;
    struct cap_tracker *tracker;
    struct cap_writer *writer;
    struct cap_net *net;
    struct cap_pcap *pcap;
    struct cap_hep *hep;
    struct cap_hep_listener *listener;
    int failed;
};

static int
usage_error(const char *fmt, const char *arg)
{
    fputs("referee-capture: ", stderr);
    fprintf(stderr, "%s", fmt);
    if (arg != NULL)
        fprintf(stderr, " \"%s\"", arg);
    fputs("\nTry \"referee-capture --help\".\n", stderr);
    return CAP_EXIT_USAGE;
}

/* Strict positive decimal within max. 0 or -1. */
static int
parse_num(const char *s, int64_t max, int64_t *out)
{
    int64_t v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
        if (v > max)
            return -1;
    }
    if (v == 0)
        return -1;
    *out = v;
    return 0;
}

static void
print_diag(const struct cdr_diag *d)
{
    char buf[1024];
    cdr_diag_format(d, buf, sizeof buf);
    fprintf(stderr, "referee-capture: %s\n", buf);
}

/* The deck's trunks, or every problem with the deck printed: 0, or the
 * exit code. */
static int
load_config(struct run *r)
{
    struct cdr_diag_list errs;
    cdr_diag_list_init(&errs);
    int rc = cap_config_load(&r->cfg, r->o.config, &errs);
    for (size_t i = 0; i < errs.count; i++)
        print_diag(&errs.items[i]);
    if (errs.dropped > 0)
        fprintf(stderr,
                "referee-capture: %zu more problem(s) not listed (out of "
                "memory)\n",
                errs.dropped);
    cdr_diag_list_free(&errs);
    if (rc == 0)
        return 0;
    return rc == CDR_E_IO || rc == CDR_E_NOMEM ? CAP_EXIT_FAILURE
                                               : CAP_EXIT_CONFIG;
}

static void
print_stats(struct run *r)
{
    const struct cap_stats *s = cap_tracker_stats(r->tracker);
    uint64_t packets = 0, recv = 0, drop = 0, ifdrop = 0;
    if (r->pcap != NULL) {
        struct cap_pcap_stats ps;
        cap_pcap_get_stats(r->pcap, &ps);
        packets = ps.packets;
        recv = ps.received;
        drop = ps.dropped;
        ifdrop = ps.if_dropped;
    } else if (r->hep != NULL) {
        packets = cap_hep_stats(r->hep)->packets;
    }
    fprintf(
        stderr,
        "referee-capture: packets %" PRIu64 " (libpcap received %" PRIu64
        ", dropped %" PRIu64 ", interface dropped %" PRIu64 ")\n"
        "referee-capture: SIP messages %" PRIu64 ", parse errors %" PRIu64
        ", unmatched %" PRIu64 "\n"
        "referee-capture: dialogs %" PRIu64 " (open %" PRIu64
        ", ignored %" PRIu64 ", dropped at max %" PRIu64 ", timed out %" PRIu64
        ")\n"
        "referee-capture: transfers %" PRIu64 " (children linked %" PRIu64 ")\n"
        "referee-capture: records %" PRIu64 " in %" PRIu64 " files\n",
        packets, recv, drop, ifdrop, s->messages, s->parse_errors, s->unmatched,
        s->dialogs, s->open_dialogs, s->ignored, s->dialogs_dropped,
        s->dialogs_timed_out, s->transfers, s->children_linked,
        cap_writer_records(r->writer), cap_writer_files(r->writer));
    if (r->hep != NULL) {
        const struct cap_hep_stats *h = cap_hep_stats(r->hep);
        fprintf(stderr,
                "referee-capture: HEP packets %" PRIu64 ", not HEP %" PRIu64
                ", malformed %" PRIu64 ", not SIP %" PRIu64
                ", inflated %" PRIu64 ", inflate errors %" PRIu64
                ", oversize %" PRIu64 ", stamped ahead %" PRIu64 "\n",
                h->packets, h->not_hep,
                h->truncated + h->bad_length + h->missing + h->bad_family,
                h->not_sip, h->inflated, h->inflate_errors, h->oversize,
                h->ahead);
    }
    if (r->net != NULL) {
        const struct cap_net_stats *n = cap_net_stats(r->net);
        fprintf(stderr,
                "referee-capture: frames %" PRIu64 ", truncated %" PRIu64
                ", malformed %" PRIu64 ", fragments timed out %" PRIu64
                ", TCP streams %" PRIu64 " (timed out %" PRIu64
                ", gaps %" PRIu64 ")\n",
                n->frames, n->truncated, n->malformed, n->frag_timeouts,
                n->tcp_streams, n->tcp_timeouts, n->tcp_gaps);
    }
}

/* Every SIP message: the writer's clock follows capture time. */
static int
on_message(void *ctx, const struct cap_meta *meta, const uint8_t *data,
           size_t len)
{
    struct run *r = ctx;
    int rc = cap_writer_set_time(r->writer, meta->ts_sec);
    if (rc != 0)
        return rc;
    return cap_tracker_message(r->tracker, meta, data, len);
}

static int
on_tick(void *ctx, int64_t now_sec, int32_t now_usec)
{
    struct run *r = ctx;
    (void)now_usec;
    int rc = cap_tracker_tick(r->tracker, now_sec);
    if (rc == 0)
        rc = cap_writer_set_time(r->writer, now_sec);
    if (rc == 0 && sig_rotate) {
        sig_rotate = 0;
        rc = cap_writer_rotate(r->writer);
    }
    if (sig_stats) {
        sig_stats = 0;
        print_stats(r);
    }
    return rc;
}

enum {
    OPT_HEP = 256,
    OPT_ROTATE,
    OPT_MAX_DIALOGS,
    OPT_INVITE_TIMEOUT,
    OPT_DIALOG_TIMEOUT,
    OPT_XFER_WINDOW,
    OPT_BUFFER,
    OPT_STATE,
    OPT_NO_STATE,
};

static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"interface", required_argument, NULL, 'i'},
    {"read", required_argument, NULL, 'r'},
    {"hep", required_argument, NULL, OPT_HEP},
    {"out", required_argument, NULL, 'o'},
    {"filter", required_argument, NULL, 'f'},
    {"rotate", required_argument, NULL, OPT_ROTATE},
    {"user", required_argument, NULL, 'Z'},
    {"max-dialogs", required_argument, NULL, OPT_MAX_DIALOGS},
    {"invite-timeout", required_argument, NULL, OPT_INVITE_TIMEOUT},
    {"dialog-timeout", required_argument, NULL, OPT_DIALOG_TIMEOUT},
    {"transfer-window", required_argument, NULL, OPT_XFER_WINDOW},
    {"buffer-size", required_argument, NULL, OPT_BUFFER},
    {"state", required_argument, NULL, OPT_STATE},
    {"no-state", no_argument, NULL, OPT_NO_STATE},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/* An option that takes a number, each with its own upper bound. */
static int
set_number_option(int c, const char *a, struct opts *o)
{
    int64_t v;
    switch (c) {
    case OPT_ROTATE:
        if (parse_num(a, 366 * 86400, &o->rotate) != 0)
            return usage_error("--rotate: expected seconds (1..31622400)", a);
        break;
    case OPT_MAX_DIALOGS:
        if (parse_num(a, 50000000, &v) != 0)
            return usage_error("--max-dialogs: expected 1..50000000", a);
        o->tr.max_dialogs = (size_t)v;
        break;
    case OPT_INVITE_TIMEOUT:
        if (parse_num(a, 86400, &o->tr.invite_timeout) != 0)
            return usage_error("--invite-timeout: expected seconds", a);
        break;
    case OPT_DIALOG_TIMEOUT:
        if (parse_num(a, 7 * 86400, &o->tr.dialog_timeout) != 0)
            return usage_error("--dialog-timeout: expected seconds", a);
        break;
    case OPT_XFER_WINDOW:
        if (parse_num(a, 3600, &o->tr.xfer_window) != 0)
            return usage_error("--transfer-window: expected seconds", a);
        break;
    case OPT_BUFFER:
        if (parse_num(a, INT32_MAX, &o->buffer_size) != 0)
            return usage_error("--buffer-size: expected bytes", a);
        break;
    }
    return 0;
}

/* One option from getopt_long into o: 0, -1 after --help or --version
 * (printed: the caller exits with success), or the usage exit code. */
static int
set_option(int c, const char *a, struct opts *o, char **argv)
{
    switch (c) {
    case 'c': o->config = a; break;
    case 'i': o->iface = a; break;
    case 'r': o->file = a; break;
    case OPT_HEP: o->hep = a; break;
    case 'o': o->out = a; break;
    case 'f': o->filter = a; break;
    case 'Z': o->user = a; break;
    case 'q': o->quiet = 1; break;
    case 'h': fputs(usage_text, stdout); return -1;
    case 'V': printf("referee-capture %s\n", REFEREE_VERSION); return -1;
    case OPT_ROTATE:
    case OPT_MAX_DIALOGS:
    case OPT_INVITE_TIMEOUT:
    case OPT_DIALOG_TIMEOUT:
    case OPT_XFER_WINDOW:
    case OPT_BUFFER: return set_number_option(c, a, o);
    case OPT_STATE: o->state = a; break;
    case OPT_NO_STATE: o->no_state = 1; break;
    case ':': return usage_error("option needs a value:", argv[optind - 1]);
    default: return usage_error("unknown option", argv[optind - 1]);
    }
    return 0;
}

/* Where open calls are kept at shutdown, if anywhere. */
static int
choose_state_file(struct opts *o)
{
    if (o->state != NULL && o->no_state)
        return usage_error("--state and --no-state exclude each other", NULL);
    if (o->file != NULL) {
        /* a file has an end: what is open then is written as in-progress */
        if (o->state != NULL)
            return usage_error("--state applies to live sources only", NULL);
        o->no_state = 1;
    } else if (!o->no_state && o->state == NULL) {
        int n = snprintf(o->state_buf, sizeof o->state_buf,
                         "%s/.referee-capture.state", o->out);
        if (n < 0 || (size_t)n >= sizeof o->state_buf)
            return usage_error("--out: path too long", o->out);
        o->state = o->state_buf;
    }
    return 0;
}

/* What no single option can tell: the required ones, the sources, and the
 * options that go together or not. */
static int
check_options(int argc, char **argv, struct opts *o)
{
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (o->config == NULL)
        return usage_error("--config DECK.yaml is required", NULL);
    if (o->out == NULL)
        return usage_error("--out DIR is required", NULL);
    int sources = (o->iface != NULL) + (o->file != NULL) + (o->hep != NULL);
    if (sources != 1)
        return usage_error("give exactly one source: -i IFACE, -r FILE or "
                           "--hep HOST:PORT",
                           NULL);
    if (o->hep != NULL && o->filter != NULL)
        return usage_error("-f applies to -i and -r only", NULL);
    return choose_state_file(o);
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    o->rotate = 3600;
    cap_tracker_opts_default(&o->tr);
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":c:i:r:o:f:Z:qhV", longopts, NULL)) !=
           -1) {
        int rc = set_option(c, optarg, o, argv);
        if (rc != 0)
            return rc;
    }
    return check_options(argc, argv, o);
}

static void
install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: let blocking reads return */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Open the source (before dropping privileges). 0 or a CDR_E_* code. */
static int
open_source(struct run *r, struct cdr_diag *d)
{
    if (r->o.hep != NULL) {
        r->hep = cap_hep_new(on_message, r, 0);
        if (r->hep == NULL)
            return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
        return cap_hep_listener_open(r->o.hep, &r->listener, d);
    }
    r->net = cap_net_new(NULL, on_message, r);
    if (r->net == NULL)
        return cdr_diag_set(d, CDR_E_NOMEM, NULL, NULL, 0, "out of memory");
    struct cap_pcap_config pc;
    memset(&pc, 0, sizeof pc);
    pc.device = r->o.iface;
    pc.file = r->o.file;
    pc.filter = r->o.filter;
    pc.promisc = 0;
    pc.buffer_bytes = (int)r->o.buffer_size;
    pc.tick_ms = 1000;
    return cap_pcap_open(&pc, &r->pcap, d);
}

static int
run_source(struct run *r, struct cdr_diag *d)
{
    if (r->listener != NULL)
        return cap_hep_listener_run(r->listener, r->hep, &sig_stop, 1000,
                                    on_tick, r, d);
    return cap_pcap_run(r->pcap, r->net, &sig_stop, on_tick, r, d);
}

static void
close_source(struct run *r)
{
    cap_hep_listener_close(r->listener);
    cap_hep_free(r->hep);
    if (r->pcap != NULL)
        cap_pcap_close(r->pcap);
    cap_net_free(r->net);
    r->listener = NULL;
    r->hep = NULL;
    r->pcap = NULL;
    r->net = NULL;
}

/*
 * Resume the calls a previous run left open.  A state file that cannot be
 * read is set aside (.bad), never deleted, and the capture starts anyway.
 */
static int
resume(struct run *r)
{
    struct stat st;
    if (stat(r->o.state, &st) != 0)
        return 0;
    struct cdr_diag d;
    int n = cap_tracker_load(r->tracker, r->o.state, &d);
    if (n < 0) {
        print_diag(&d);
        char bad[4200];
        snprintf(bad, sizeof bad, "%s.bad", r->o.state);
        if (rename(r->o.state, bad) != 0) {
            fprintf(stderr, "referee-capture: %s: cannot set aside: %s\n",
                    r->o.state, strerror(errno));
            return -1;
        }
        fprintf(stderr, "referee-capture: state file set aside as %s\n", bad);
        return 0;
    }
    if (unlink(r->o.state) != 0) {
        /* resumed calls would be resumed twice at the next start */
        fprintf(stderr, "referee-capture: %s: cannot remove: %s\n", r->o.state,
                strerror(errno));
        return -1;
    }
    if (!r->o.quiet)
        fprintf(stderr, "referee-capture: resumed %d open calls from %s\n", n,
                r->o.state);
    return 0;
}

static void
report_recovered(const struct run *r)
{
    uint64_t files, rows;
    cap_writer_recovered(r->writer, &files, &rows);
    if (files > 0)
        fprintf(stderr,
                "referee-capture: %s: committed %" PRIu64
                " file(s) a killed run left open (%" PRIu64 " records)\n",
                r->o.out, files, rows);
}

/* The record files and the tracker that fills them: 0, or the exit code
 * with the writer closed again. */
static int
open_output(struct run *r, struct cdr_diag *d)
{
    if (cap_writer_new(&r->writer, r->o.out, r->o.rotate, d) != 0) {
        print_diag(d);
        return CAP_EXIT_FAILURE;
    }
    report_recovered(r);
    /* a file can be read again; live traffic cannot */
    cap_writer_flush_each(r->writer, r->o.file == NULL);
    r->tracker =
        cap_tracker_new(r->cfg, &r->o.tr, cap_writer_record, r->writer);
    if (r->tracker == NULL) {
        fprintf(stderr, "referee-capture: out of memory\n");
        cap_writer_close(r->writer, NULL);
        return CAP_EXIT_FAILURE;
    }
    return 0;
}

/* Open the source, drop privileges and read until the end or a stop. */
static int
capture(struct run *r, struct cdr_diag *d)
{
    if (open_source(r, d) != 0 || cap_drop_privileges(r->o.user, d) != 0) {
        print_diag(d);
        return CAP_EXIT_FAILURE;
    }
    if (run_source(r, d) != 0) {
        if (cap_writer_error(r->writer)->code != 0)
            print_diag(cap_writer_error(r->writer));
        else
            print_diag(d);
        return CAP_EXIT_FAILURE;
    }
    return CAP_EXIT_OK;
}

static void
save_state(struct run *r)
{
    struct cdr_diag sd;
    cdr_diag_clear(&sd);
    if (cap_tracker_save(r->tracker, r->o.state, &sd) != 0) {
        print_diag(&sd);
        fprintf(stderr, "referee-capture: open calls written as "
                        "in-progress instead\n");
    }
}

/* Whatever happened: nothing complete is lost, open calls are kept in the
 * state file or written as in-progress, the current file is committed.
 * Frees everything; CAP_EXIT_OK or CAP_EXIT_FAILURE. */
static int
finish(struct run *r)
{
    int exit_code = CAP_EXIT_OK;
    if (!r->o.no_state)
        save_state(r);
    if (cap_tracker_flush(r->tracker) != 0)
        exit_code = CAP_EXIT_FAILURE;
    struct cdr_diag wd;
    cdr_diag_clear(&wd);
    if (cap_writer_rotate(r->writer) != 0)
        exit_code = CAP_EXIT_FAILURE; /* reported by close below */
    if (!r->o.quiet)
        print_stats(r);
    close_source(r);
    if (cap_writer_close(r->writer, &wd) != 0) {
        print_diag(&wd);
        exit_code = CAP_EXIT_FAILURE;
    }
    cap_tracker_free(r->tracker);
    cap_config_free(r->cfg);
    return exit_code;
}

int
cap_cli_main(int argc, char **argv)
{
    struct run r;
    struct cdr_diag d;
    memset(&r, 0, sizeof r);
    cdr_diag_clear(&d);
    int rc = parse_args(argc, argv, &r.o);
    if (rc != 0)
        return rc < 0 ? CAP_EXIT_OK : rc;

    if ((rc = load_config(&r)) != 0)
        return rc;
    if ((rc = open_output(&r, &d)) != 0) {
        cap_config_free(r.cfg);
        return rc;
    }
    install_signals();
    if (!r.o.no_state && resume(&r) != 0) {
        cap_tracker_free(r.tracker);
        cap_writer_close(r.writer, NULL);
        cap_config_free(r.cfg);
        return CAP_EXIT_FAILURE;
    }
    int exit_code = capture(&r, &d);
    if (finish(&r) != CAP_EXIT_OK)
        exit_code = CAP_EXIT_FAILURE;
    return exit_code;
}
