/* SHA-256 through libcrypto: the NIST vectors fed in pieces, and files. */
#include "cdr/util/cdr_digest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static const struct {
    const char *msg;
    const char *hex;
} vectors[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
};

static void
test_vectors_in_any_pieces(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        size_t n = strlen(vectors[i].msg);
        for (size_t piece = 1; piece <= 70; piece += 3) {
            struct cdr_digest *dg = cdr_digest_new();
            assert_non_null(dg);
            for (size_t off = 0; off < n; off += piece)
                cdr_digest_update(dg, vectors[i].msg + off,
                                  n - off < piece ? n - off : piece);
            char hex[CDR_DIGEST_HEX];
            uint64_t size = 99;
            assert_int_equal(cdr_digest_final(dg, hex, &size), 0);
            assert_string_equal(hex, vectors[i].hex);
            assert_int_equal(size, n);
            cdr_digest_free(dg);
        }
    }
    cdr_digest_free(NULL);
}

static void
test_file_digest_and_size(void **state)
{
    (void)state;
    char path[] = "/tmp/referee-digest-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    assert_int_equal(write(fd, a, 1000000), 1000000);
    close(fd);
    char hex[CDR_DIGEST_HEX];
    uint64_t size = 0;
    assert_int_equal(cdr_digest_file(path, hex, &size), 0);
    assert_string_equal(
        hex,
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    assert_int_equal(size, 1000000);
    unlink(path);
    assert_int_equal(cdr_digest_file(path, hex, &size), -1);
    free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_in_any_pieces),
        cmocka_unit_test(test_file_digest_and_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
