#include "cdr/util/cdr_sha256.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void
hash_in_pieces(const char *data, size_t n, size_t piece, char hex[65])
{
    struct cdr_sha256 s;
    uint8_t out[32];
    cdr_sha256_init(&s);
    for (size_t off = 0; off < n; off += piece)
        cdr_sha256_update(&s, data + off, n - off < piece ? n - off : piece);
    cdr_sha256_final(&s, out, hex);
}

/* FIPS 180-4 / NIST example vectors. */
static const struct {
    const char *msg;
    const char *hex;
} vectors[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
     "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
};

static void
check_vectors(void)
{
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        size_t n = strlen(vectors[i].msg);
        for (size_t piece = 1; piece <= 130; piece += 3) {
            char hex[65];
            hash_in_pieces(vectors[i].msg, n, piece, hex);
            assert_string_equal(hex, vectors[i].hex);
        }
    }
}

static void
check_million_a(void)
{
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    char hex[65];
    hash_in_pieces(a, 1000000, 4093, hex);
    assert_string_equal(
        hex,
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

static void
test_portable_path_matches_nist_vectors(void **state)
{
    (void)state;
    cdr_sha256_set_accelerated(0);
    check_vectors();
    check_million_a();
}

static void
test_accelerated_path_matches_nist_vectors(void **state)
{
    (void)state;
    if (!cdr_sha256_set_accelerated(1))
        skip();
    check_vectors();
    check_million_a();
}

static void
test_paths_agree_on_every_length_up_to_300(void **state)
{
    (void)state;
    char data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + 3);
    for (size_t n = 0; n <= sizeof data; n++) {
        char a[65], b[65];
        cdr_sha256_set_accelerated(0);
        hash_in_pieces(data, n, 17, a);
        if (!cdr_sha256_set_accelerated(1))
            skip();
        hash_in_pieces(data, n, 64, b);
        assert_string_equal(a, b);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_portable_path_matches_nist_vectors),
        cmocka_unit_test(test_accelerated_path_matches_nist_vectors),
        cmocka_unit_test(test_paths_agree_on_every_length_up_to_300),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
