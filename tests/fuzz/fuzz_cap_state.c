/*
 * Fuzz the state file reader: the input is a state file.  Whatever it
 * holds, load refuses it or resumes calls within the bounds; calls it
 * resumed save to a file that loads again with the same count; the
 * trackers then flush and free cleanly.
 */
#include "cdr/capture/track/cap_config.h"
#include "cdr/capture/track/cap_tracker.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char deck[] = "trunks:\n"
                           "  - sid: TK0001\n"
                           "    termination_domain: mytrunk.pstn.twilio.com\n"
                           "    carrier_addresses: [127.0.0.2]\n";

static struct cap_config *cfg;
static char in_path[64], out_path[80];

static void
remove_files(void)
{
    unlink(in_path);
    unlink(out_path);
}

static int
sink(void *ctx, const struct cdr_record *r)
{
    size_t *n = ctx;
    *n += r->sid.n + r->from.n + r->to.n + r->transfer_target.n;
    if (r->has_duration && r->duration < 0)
        abort();
    return 0;
}

static struct cap_tracker *
tracker(size_t *records)
{
    struct cap_tracker_opts o;
    cap_tracker_opts_default(&o);
    o.max_dialogs = 16;
    return cap_tracker_new(cfg, &o, sink, records);
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
    struct cdr_diag d;
    if (cfg == NULL) {
        if (load_deck() != 0)
            abort();
        snprintf(in_path, sizeof in_path, "/tmp/referee-fuzz-state-%ld",
                 (long)getpid());
        snprintf(out_path, sizeof out_path, "%s.out", in_path);
        atexit(remove_files);
    }
    FILE *f = fopen(in_path, "wb");
    if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size)) {
        if (f != NULL)
            fclose(f);
        return 0;
    }
    fclose(f);
    size_t records = 0;
    struct cap_tracker *t = tracker(&records);
    if (t == NULL)
        return 0;
    int n = cap_tracker_load(t, in_path, &d);
    if (n > 16 || cap_tracker_stats(t)->open_dialogs > 16)
        abort();
    if (n >= 0 && cap_tracker_save(t, out_path, &d) == 0) {
        struct cap_tracker *t2 = tracker(&records);
        if (t2 != NULL && cap_tracker_load(t2, out_path, &d) != n)
            abort();
        (void)cap_tracker_flush(t2);
        cap_tracker_free(t2);
    }
    (void)cap_tracker_flush(t);
    cap_tracker_free(t);
    return 0;
}
