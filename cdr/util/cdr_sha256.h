/*
 * SHA-256 (FIPS 180-4) for the input files' and deck's fingerprints in the
 * run summary and for "this file was already loaded" checks.  None of the
 * project's approved libraries offers it; uses the CPU's SHA extensions when
 * present (x86-64 SHA-NI), portable C otherwise.
 */
#ifndef REFEREE_CDR_SHA256_H
#define REFEREE_CDR_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct cdr_sha256 {
    uint32_t h[8];
    uint64_t total; /* bytes */
    uint8_t buf[64];
    size_t nbuf;
};

void cdr_sha256_init(struct cdr_sha256 *s);
void cdr_sha256_update(struct cdr_sha256 *s, const void *data, size_t n);
/* 32-byte digest into out; hex (65 bytes with NUL) if hex != NULL. */
void cdr_sha256_final(struct cdr_sha256 *s, uint8_t out[32], char *hex);

/* Hash a whole file; 0 or -1 (errno set). hex gets 64 chars + NUL. */
int cdr_sha256_file(const char *path, char hex[65], uint64_t *size);

/* 1 when the accelerated path is in use (for tests and the bench). */
int cdr_sha256_accelerated(void);
/* Choose the path (tests compare both); returns the path now in use.
 * REFEREE_SHA256_PORTABLE in the environment also turns acceleration off. */
int cdr_sha256_set_accelerated(int on);

#endif
