#include "cdr/util/cdr_digest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <unistd.h>

struct cdr_digest {
    EVP_MD_CTX *ctx;
    uint64_t bytes;
    int failed;
};

struct cdr_digest *
cdr_digest_new(void)
{
    struct cdr_digest *dg = calloc(1, sizeof *dg);
    if (dg == NULL)
        return NULL;
    dg->ctx = EVP_MD_CTX_new();
    if (dg->ctx == NULL ||
        EVP_DigestInit_ex(dg->ctx, EVP_sha256(), NULL) != 1) {
        cdr_digest_free(dg);
        return NULL;
    }
    return dg;
}

void
cdr_digest_update(struct cdr_digest *dg, const void *p, size_t n)
{
    if (dg->failed || n == 0)
        return;
    if (EVP_DigestUpdate(dg->ctx, p, n) != 1)
        dg->failed = 1;
    dg->bytes += n;
}

int
cdr_digest_final(struct cdr_digest *dg, char hex[CDR_DIGEST_HEX],
                 uint64_t *size)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    hex[0] = '\0';
    if (size != NULL)
        *size = dg->bytes;
    if (dg->failed || EVP_DigestFinal_ex(dg->ctx, md, &len) != 1 || len != 32)
        return -1;
    for (unsigned i = 0; i < len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

void
cdr_digest_free(struct cdr_digest *dg)
{
    if (dg == NULL)
        return;
    EVP_MD_CTX_free(dg->ctx);
    free(dg);
}

int
cdr_digest_file(const char *path, char hex[CDR_DIGEST_HEX], uint64_t *size)
{
    enum { CHUNK = 1 << 20 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    unsigned char *buf = malloc(CHUNK);
    struct cdr_digest *dg = cdr_digest_new();
    int rc = 0, e = ENOMEM;
    if (buf == NULL || dg == NULL)
        rc = -1;
    ssize_t n;
    while (rc == 0 && (n = read(fd, buf, CHUNK)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            e = errno;
            rc = -1;
        } else {
            cdr_digest_update(dg, buf, (size_t)n);
        }
    }
    if (rc == 0 && cdr_digest_final(dg, hex, size) != 0) {
        e = EIO;
        rc = -1;
    }
    cdr_digest_free(dg);
    free(buf);
    close(fd);
    if (rc != 0)
        errno = e;
    return rc;
}
