/*
 * SHA-256 fingerprints of the files a run reads (its inputs, the deck and
 * the deck's price lists), through OpenSSL's libcrypto (EVP): stored with
 * each run, they tell an auditor which bytes were rated, and a store uses
 * them to see that a file was loaded before.
 */
#ifndef REFEREE_CDR_DIGEST_H
#define REFEREE_CDR_DIGEST_H

#include <stddef.h>
#include <stdint.h>

/* Hex digest: 64 lower-case hex digits and a NUL. */
#define CDR_DIGEST_HEX 65

struct cdr_digest;

/* A SHA-256 in progress, for the caller to free with cdr_digest_free().
 * NULL when libcrypto cannot set one up (no memory). */
struct cdr_digest *cdr_digest_new(void);

/* Add n bytes.  A failure is sticky: cdr_digest_final reports it. */
void cdr_digest_update(struct cdr_digest *dg, const void *p, size_t n);

/* The digest of everything added, as hex; the bytes added so far in *size
 * (may be NULL).  0, or -1 when libcrypto failed (hex is then "").  The
 * digest is finished: only cdr_digest_free may follow. */
int cdr_digest_final(struct cdr_digest *dg, char hex[CDR_DIGEST_HEX],
                     uint64_t *size);

/* NULL is a no-op. */
void cdr_digest_free(struct cdr_digest *dg);

/* The digest of a whole file and its size.  0, or -1 with errno set. */
int cdr_digest_file(const char *path, char hex[CDR_DIGEST_HEX], uint64_t *size);

#endif
