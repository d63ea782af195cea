/*
 * Bytes -> reader (over fmemopen) -> validate every row, and re-encode the
 * raw text of each.  Also parses every field with the address and time
 * parsers, so their (p, end) bounds are exercised on odd input.  The first
 * byte picks the reader's chunk size, so chunk boundaries fall anywhere; the
 * same bytes read with the default buffer must give the same results.
 */
#include "cdr/csv/cdr_record_reader.h"
#include "cdr/record/cdr_addr.h"
#include "cdr/util/cdr_decimal.h"
#include "cdr/util/cdr_time.h"
#include "cdr/record/cdr_validate.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* FNV-1a over what a read returned. */
static uint64_t
mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211u;
    return h;
}

static uint64_t read_all(const uint8_t *data, size_t size, size_t chunk);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t chunk = (size_t)data[0] + 1;
    if (read_all(data + 1, size - 1, chunk) != read_all(data + 1, size - 1, 0))
        __builtin_trap();
    return 0;
}

static uint64_t
read_all(const uint8_t *data, size_t size, size_t chunk)
{
    uint64_t h = 14695981039346656037u;
    static char empty[1];
    FILE *f = size > 0 ? fmemopen((void *)(uintptr_t)data, size, "rb")
                       : fmemopen(empty, 1, "rb");
    if (f == NULL)
        return 0;
    struct cdr_reader *r;
    struct cdr_diag d;
    cdr_diag_clear(&d);
    if (cdr_reader_open_stream(&r, f, "fuzz.csv", &d) != 0) {
        fclose(f);
        return 0;
    }
    if (chunk > 0)
        cdr_reader_set_chunk_size(r, chunk);
    for (;;) {
        struct cdr_row row;
        int rc = cdr_reader_next(r, &row, &d);
        h = mix(h, &rc, sizeof rc);
        if (rc == 0 || (rc < 0 && !cdr_reader_row_error(rc))) {
            h = mix(h, &d.line, sizeof d.line);
            break;
        }
        struct cdr_slice raw = cdr_reader_raw(r);
        if (raw.p == NULL || strlen(raw.p) > raw.n)
            __builtin_trap();
        h = mix(h, raw.p, raw.n);
        h = mix(h, &row.line, sizeof row.line);
        h = mix(h, &row.record, sizeof row.record);
        if (rc < 0)
            continue;
        struct cdr_record rec;
        char text[1024];
        if (cdr_validate(&row, &rec, &d) != 0)
            cdr_diag_format(&d, text, sizeof text);
        else if (rec.duration < 0 || rec.start_time < 0)
            __builtin_trap();
        for (int c = 0; c < CDR_COL__COUNT; c++) {
            struct cdr_slice s = row.field[c];
            if (!row.present[c])
                continue;
            struct cdr_addr a;
            int64_t t, v;
            if (cdr_parse_addr(s.p, s.p + s.n, &a) == 0) {
                /* digits: NUL-terminated, only 0-9, ndigits long; slices
                 * inside the field */
                if (a.ndigits >= sizeof a.digits ||
                    strlen(a.digits) != a.ndigits ||
                    strspn(a.digits, "0123456789") != a.ndigits)
                    __builtin_trap();
                if (a.user.n > 0 &&
                    (a.user.p < s.p || a.user.p + a.user.n > s.p + s.n))
                    __builtin_trap();
                if (a.host.n > 0 &&
                    (a.host.p < s.p || a.host.p + a.host.n > s.p + s.n))
                    __builtin_trap();
            }
            if (cdr_time_parse(s.p, s.p + s.n, &t) == 0) {
                char buf[32];
                cdr_time_format(t, buf, sizeof buf);
                int64_t back;
                if (cdr_time_parse(buf, buf + strlen(buf), &back) != 0 ||
                    back != t)
                    __builtin_trap();
            }
            if (cdr_decimal_parse(s.p, s.n, 9, 9, 1, &v) == 0) {
                char buf[48];
                int64_t back;
                if (cdr_decimal_format(v, 9, 9, buf, sizeof buf) < 0 ||
                    cdr_decimal_parse(buf, strlen(buf), 9, 9, 1, &back) != 0 ||
                    back != v)
                    __builtin_trap();
            }
        }
    }
    cdr_reader_close(r);
    fclose(f);
    return h;
}
