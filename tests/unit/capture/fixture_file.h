/*
 * Reading a fixture of the source tree (REFEREE_SOURCE_DIR, set by ctest)
 * in a cmocka test.  Header-only: each test program includes it once.
 */
#ifndef REFEREE_TEST_FIXTURE_FILE_H
#define REFEREE_TEST_FIXTURE_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Up to cap bytes of tests/fixtures/<rel> into buf; their count.  Fails
 * the test when the file cannot be opened. */
static size_t
read_fixture(const char *rel, uint8_t *buf, size_t cap)
{
    const char *root = getenv("REFEREE_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fixtures/%s", root ? root : ".", rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        fail_msg("cannot open %s", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

#endif
