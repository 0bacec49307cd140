/*
 * Suite "pkcs11_random": C_SeedRandom / C_GenerateRandom (PKCS #11 v2.40
 * 5.15, issue 18 item 8).  The seed is mixed into the token's CTR_DRBG
 * (a reseed with the seed as additional input): it changes the stream and
 * never replaces the token's own entropy.
 */
#include "tests/support/test_pkcs11.h"

#include <check.h>
#include <string.h>

/* FIPS 140-2 monobit test on 20000 bits: 9725 < ones < 10275. */
static void assert_monobit(const uint8_t *buf)
{
    int ones = 0;
    for (size_t i = 0; i < 2500; i++) {
        ones += __builtin_popcount(buf[i]);
    }
    ck_assert_int_gt(ones, 9725);
    ck_assert_int_lt(ones, 10275);
}

/* v2.40 5.15 C_SeedRandom "mixes additional seed material into the
 * token's random number generator": CKR_OK, the next output differs from
 * what it would have been, and it still passes the monobit test. */
START_TEST(seed_mixes_in)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    static uint8_t a[2500], b[2500];
    ck_assert_int_eq(C_GenerateRandom(s, a, sizeof(a)), CKR_OK);
    static uint8_t seed[1000]; /* longer than one reseed's additional input */
    memset(seed, 0x5A, sizeof(seed));
    ck_assert_int_eq(C_SeedRandom(s, seed, sizeof(seed)), CKR_OK);
    ck_assert_int_eq(C_GenerateRandom(s, b, sizeof(b)), CKR_OK);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    assert_monobit(a);
    assert_monobit(b);
    ck_assert_int_eq(C_SeedRandom(s, seed, 0), CKR_OK);
}
END_TEST

/* The seed never replaces the entropy: the same seed given to two fresh
 * token instances still yields different output. */
START_TEST(same_seed_different_output)
{
    static uint8_t out[2][64];
    static const uint8_t seed[32] = {1, 2, 3};
    for (int i = 0; i < 2; i++) {
        if (i == 1) {
            ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
            ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
        }
        CK_SESSION_HANDLE s = lwss_p11t_session();
        ck_assert_int_eq(C_SeedRandom(s, (CK_BYTE_PTR)seed, sizeof(seed)), CKR_OK);
        ck_assert_int_eq(C_GenerateRandom(s, out[i], sizeof(out[i])), CKR_OK);
    }
    ck_assert(memcmp(out[0], out[1], sizeof(out[0])) != 0);
}
END_TEST

/* v2.40 5.15: bad arguments and sessions. */
START_TEST(seed_random_errors)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    ck_assert_int_eq(C_SeedRandom(s, NULL, 4), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_SeedRandom(0x4242, (CK_BYTE_PTR) "seed", 4), CKR_SESSION_HANDLE_INVALID);
    ck_assert_int_eq(C_GenerateRandom(s, NULL, 4), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    ck_assert_int_eq(C_SeedRandom(s, (CK_BYTE_PTR) "seed", 4), CKR_CRYPTOKI_NOT_INITIALIZED);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
}
END_TEST

Suite *pkcs11_random_suite(void);

Suite *pkcs11_random_suite(void)
{
    Suite *su = suite_create("pkcs11_random");
    TCase *tc = tcase_create("random");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_add_test(tc, seed_mixes_in);
    tcase_add_test(tc, same_seed_different_output);
    tcase_add_test(tc, seed_random_errors);
    suite_add_tcase(su, tc);
    return su;
}
