/*
 * libpcap source on files this test writes with pcap_dump: filter, ticks,
 * stop flag, link types, errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "cdr/capture/source/cap_source_pcap.h"
#include "net_build.h"

static const char MSG[] = "OPTIONS sip:a@127.0.0.2 SIP/2.0\r\n"
                          "Call-ID: pcap@x\r\nContent-Length: 0\r\n\r\n";

static struct nb frame;
static struct nb_sink sink;
static char path[256];

static void
dump_frame(pcap_dumper_t *dp, int64_t sec)
{
    struct pcap_pkthdr h;
    memset(&h, 0, sizeof h);
    h.ts.tv_sec = (time_t)sec;
    h.ts.tv_usec = 5;
    h.caplen = h.len = (bpf_u_int32)frame.len;
    pcap_dump((u_char *)dp, &h, nb_data(&frame));
}

/* A file of 10 SIP datagrams on 5060, one per second, and 5 on port 9999. */
static void
write_file(int dlt)
{
    snprintf(path, sizeof path, "/tmp/referee-test-%ld.pcap", (long)getpid());
    pcap_t *dead = pcap_open_dead(dlt, 65535);
    pcap_dumper_t *dp = pcap_dump_open(dead, path);
    assert_non_null(dp);
    for (int i = 0; i < 15; i++) {
        nb_init(&frame);
        nb_append(&frame, MSG, sizeof MSG - 1);
        nb_udp(&frame, i < 10 ? 5060 : 9999, 5080);
        nb_ipv4(&frame, 0x7f000001, 0x7f000002, 17, 1, 0, 0);
        nb_eth(&frame, 0x0800);
        dump_frame(dp, 1700000000 + i);
    }
    pcap_dump_close(dp);
    pcap_close(dead);
}

static int ticks;
static int64_t last_tick;
static volatile sig_atomic_t stop_flag;

static int
on_tick(void *ctx, int64_t sec, int32_t usec)
{
    (void)ctx;
    (void)usec;
    ticks++;
    last_tick = sec;
    return 0;
}

static int
stop_after_three(void *ctx, const struct cap_meta *m, const uint8_t *p,
                 size_t len)
{
    (void)m;
    (void)p;
    (void)len;
    int *n = ctx;
    if (++*n == 3)
        stop_flag = 1;
    return 0;
}

static void
run_file(const char *filter, size_t expect)
{
    struct cap_pcap_config cfg = {0};
    cfg.file = path;
    cfg.filter = filter;
    struct cap_pcap *src;
    struct cdr_diag d;
    assert_int_equal(cap_pcap_open(&cfg, &src, &d), 0);
    assert_int_equal(cap_pcap_datalink(src), CAP_DLT_EN10MB);
    nb_sink_reset(&sink);
    struct cap_net *net = cap_net_new(NULL, nb_collect, &sink);
    ticks = 0;
    assert_int_equal(cap_pcap_run(src, net, NULL, on_tick, NULL, &d), 0);
    assert_int_equal(sink.count, expect);
    struct cap_pcap_stats st;
    cap_pcap_get_stats(src, &st);
    assert_int_equal(st.packets, expect == 10 ? 10 : 15);
    assert_false(st.live);
    cap_net_free(net);
    cap_pcap_close(src);
}

static void
test_default_filter_keeps_the_sip_ports(void **state)
{
    (void)state;
    write_file(DLT_EN10MB);
    run_file(NULL, 10);
    /* one tick per second of packet time after the first */
    assert_int_equal(ticks, 9);
    assert_int_equal(last_tick, 1700000009);
    run_file("", 15);
    run_file("udp", 15);
    unlink(path);
}

static void
test_stop_flag_ends_the_run(void **state)
{
    (void)state;
    write_file(DLT_EN10MB);
    struct cap_pcap_config cfg = {0};
    cfg.file = path;
    cfg.filter = "";
    struct cap_pcap *src;
    struct cdr_diag d;
    assert_int_equal(cap_pcap_open(&cfg, &src, &d), 0);
    int n = 0;
    struct cap_net *net = cap_net_new(NULL, stop_after_three, &n);
    stop_flag = 0;
    assert_int_equal(cap_pcap_run(src, net, &stop_flag, NULL, NULL, &d), 0);
    /* checked every 1024 packets: all 15 of this small file are read */
    assert_true(n >= 3);
    cap_net_free(net);
    cap_pcap_close(src);
    unlink(path);
}

static void
test_errors_are_reported(void **state)
{
    (void)state;
    struct cap_pcap_config cfg = {0};
    struct cap_pcap *src;
    struct cdr_diag d;
    assert_int_equal(cap_pcap_open(&cfg, &src, &d), CDR_E_USAGE);
    cfg.file = "/nonexistent/x.pcap";
    assert_int_equal(cap_pcap_open(&cfg, &src, &d), CDR_E_IO);
    assert_null(src);
    write_file(DLT_EN10MB);
    cfg.file = path;
    cfg.filter = "port port port";
    assert_int_equal(cap_pcap_open(&cfg, &src, &d), CDR_E_USAGE);
    assert_string_equal(d.field, "filter");
    unlink(path);
    write_file(105); /* 802.11 */
    cfg.filter = NULL;
    assert_int_equal(cap_pcap_open(&cfg, &src, &d), CDR_E_USAGE);
    unlink(path);
    assert_int_equal(cap_drop_privileges(NULL, &d), 0);
    assert_int_equal(cap_drop_privileges("no-such-user-referee", &d),
                     CDR_E_USAGE);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_filter_keeps_the_sip_ports),
        cmocka_unit_test(test_stop_flag_ends_the_run),
        cmocka_unit_test(test_errors_are_reported),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    nb_sink_reset(&sink);
    return rc;
}
