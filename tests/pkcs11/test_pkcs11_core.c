/* PKCS #11 token: library, slot, session, digest, random, login (suite pkcs11_core). */
#include "tests/support/test_pkcs11.h"

#include <string.h>

START_TEST(function_list_complete)
{
    ck_assert_int_eq(C_GetFunctionList(NULL), CKR_ARGUMENTS_BAD);
    CK_FUNCTION_LIST_PTR fl = NULL;
    ck_assert_int_eq(C_GetFunctionList(&fl), CKR_OK);
    ck_assert_int_eq(fl->version.major, 2);
    /* Every slot after the version is a function pointer: none may be NULL. */
    void *const *fn = (void *const *)((const char *)fl + sizeof(CK_VERSION) +
                                      (sizeof(void *) - sizeof(CK_VERSION) % sizeof(void *)) %
                                          sizeof(void *));
    size_t n = (sizeof(*fl) - ((const char *)fn - (const char *)fl)) / sizeof(void *);
    ck_assert_uint_eq(n, 68);
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(fn[i] != NULL, "function list entry %zu is NULL", i);
    }
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_MECHANISM mech = {CKM_RSA_X_509, NULL, 0};
    ck_assert_int_eq(fl->C_SignRecoverInit(s, &mech, 1), CKR_FUNCTION_NOT_SUPPORTED);
    ck_assert_int_eq(fl->C_VerifyRecoverInit(s, &mech, 1), CKR_FUNCTION_NOT_SUPPORTED);
    ck_assert_int_eq(fl->C_DigestKey(s, 1), CKR_FUNCTION_NOT_SUPPORTED);
    ck_assert_int_eq(fl->C_WaitForSlotEvent(0, NULL, NULL), CKR_FUNCTION_NOT_SUPPORTED);
    ck_assert_int_eq(fl->C_GetFunctionStatus(s), CKR_FUNCTION_NOT_PARALLEL);
    ck_assert_int_eq(fl->C_CloseSession(s), CKR_OK);
}
END_TEST

START_TEST(initialize_finalize_rules)
{
    ck_assert_int_eq(C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
    CK_C_INITIALIZE_ARGS bad = {0};
    bad.pReserved = &bad;
    ck_assert_int_eq(C_Initialize(&bad), CKR_ARGUMENTS_BAD);
    CK_C_INITIALIZE_ARGS os = {0};
    os.flags = CKF_OS_LOCKING_OK;
    ck_assert_int_eq(C_Initialize(&os), CKR_OK);
    ck_assert_int_eq(C_Initialize(NULL), CKR_CRYPTOKI_ALREADY_INITIALIZED);
    int dummy = 0;
    ck_assert_int_eq(C_Finalize(&dummy), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    ck_assert_int_eq(C_Finalize(NULL), CKR_CRYPTOKI_NOT_INITIALIZED);
    CK_INFO info;
    ck_assert_int_eq(C_GetInfo(&info), CKR_CRYPTOKI_NOT_INITIALIZED);
}
END_TEST

START_TEST(finalize_closes_sessions)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_MECHANISM sha = {CKM_SHA256, NULL, 0};
    ck_assert_int_eq(C_DigestInit(s, &sha), CKR_OK);
    ck_assert_int_eq(C_FindObjectsInit(s, NULL, 0), CKR_OK);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s),
                     CKR_CRYPTOKI_NOT_INITIALIZED);
    ck_assert_int_eq(C_CloseSession(s), CKR_CRYPTOKI_NOT_INITIALIZED);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    ck_assert_int_eq(C_CloseSession(s), CKR_SESSION_HANDLE_INVALID);
    CK_TOKEN_INFO ti;
    ck_assert_int_eq(C_GetTokenInfo(0, &ti), CKR_OK);
    ck_assert_uint_eq(ti.ulSessionCount, 0);
}
END_TEST

START_TEST(info_slots_token)
{
    CK_INFO info;
    ck_assert_int_eq(C_GetInfo(&info), CKR_OK);
    ck_assert_int_eq(info.cryptokiVersion.major, 2);
    CK_ULONG n = 0;
    ck_assert_int_eq(C_GetSlotList(CK_TRUE, NULL, &n), CKR_OK);
    ck_assert_uint_eq(n, 1);
    CK_SLOT_ID slots[2] = {99, 99};
    n = 0;
    ck_assert_int_eq(C_GetSlotList(CK_TRUE, slots, &n), CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(n, 1);
    n = 2;
    ck_assert_int_eq(C_GetSlotList(CK_FALSE, slots, &n), CKR_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(slots[0], 0);
    ck_assert_int_eq(C_GetSlotList(CK_TRUE, slots, NULL), CKR_ARGUMENTS_BAD);
    CK_SLOT_INFO si;
    ck_assert_int_eq(C_GetSlotInfo(0, &si), CKR_OK);
    ck_assert(si.flags & CKF_TOKEN_PRESENT);
    ck_assert_int_eq(C_GetSlotInfo(1, &si), CKR_SLOT_ID_INVALID);
    CK_TOKEN_INFO ti;
    ck_assert_int_eq(C_GetTokenInfo(0, &ti), CKR_OK);
    ck_assert(ti.flags & CKF_TOKEN_INITIALIZED);
    ck_assert(ti.flags & CKF_RNG);
    ck_assert(!(ti.flags & CKF_LOGIN_REQUIRED));
    ck_assert_int_eq(memcmp(ti.label, "lwss ", 5), 0);
    ck_assert_uint_eq(ti.ulMinPinLen, 4);
}
END_TEST

START_TEST(mechanisms_agree)
{
    CK_ULONG n = 0;
    ck_assert_int_eq(C_GetMechanismList(0, NULL, &n), CKR_OK);
    ck_assert_uint_ge(n, 8); /* each row is checked against the README in pkcs11_mechtable */
    ck_assert_uint_le(n, 128);
    CK_MECHANISM_TYPE list[128];
    CK_ULONG small = 2;
    ck_assert_int_eq(C_GetMechanismList(0, list, &small), CKR_BUFFER_TOO_SMALL);
    ck_assert_int_eq(C_GetMechanismList(0, list, &n), CKR_OK);
    const CK_MECHANISM_TYPE want[] = {CKM_EC_KEY_PAIR_GEN, CKM_ECDSA,     CKM_RSA_PKCS_KEY_PAIR_GEN,
                                      CKM_RSA_PKCS,        CKM_RSA_X_509, CKM_SHA256,
                                      CKM_SHA256_HMAC,     CKM_AES_CMAC};
    for (size_t i = 0; i < 8; i++) {
        int seen = 0;
        for (size_t j = 0; j < n; j++) {
            seen |= list[j] == want[i];
        }
        ck_assert_msg(seen, "mechanism 0x%lx missing", want[i]);
        CK_MECHANISM_INFO mi;
        ck_assert_int_eq(C_GetMechanismInfo(0, want[i], &mi), CKR_OK);
    }
    CK_MECHANISM_INFO mi;
    ck_assert_int_eq(C_GetMechanismInfo(0, CKM_ECDSA, &mi), CKR_OK);
    ck_assert(mi.flags & CKF_SIGN && mi.flags & CKF_VERIFY);
    ck_assert_uint_eq(mi.ulMinKeySize, 256);
    ck_assert_int_eq(C_GetMechanismInfo(0, CKM_RSA_PKCS, &mi), CKR_OK);
    ck_assert_uint_eq(mi.ulMaxKeySize, 4096); /* generated keys: 2048, 3072, 4096 */
    ck_assert_int_eq(C_GetMechanismInfo(0, CKM_EC_KEY_PAIR_GEN, &mi), CKR_OK);
    ck_assert(mi.flags & CKF_GENERATE_KEY_PAIR);
    ck_assert_int_eq(C_GetMechanismInfo(0, CKM_SHA256, &mi), CKR_OK);
    ck_assert(mi.flags & CKF_DIGEST);
    ck_assert_int_eq(C_GetMechanismInfo(0, CKM_DSA, &mi), CKR_MECHANISM_INVALID);
    ck_assert_int_eq(C_GetMechanismInfo(0, CKM_MD5, &mi), CKR_MECHANISM_INVALID);
}
END_TEST

START_TEST(sessions_open_close_info)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, 0, NULL, NULL, &s), CKR_SESSION_PARALLEL_NOT_SUPPORTED);
    ck_assert_int_eq(C_OpenSession(3, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_SLOT_ID_INVALID);
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, NULL), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
    CK_SESSION_HANDLE rw = lwss_p11t_session();
    ck_assert(s != rw);
    CK_SESSION_INFO si;
    ck_assert_int_eq(C_GetSessionInfo(s, &si), CKR_OK);
    ck_assert_uint_eq(si.state, CKS_RO_PUBLIC_SESSION);
    ck_assert_int_eq(C_GetSessionInfo(rw, &si), CKR_OK);
    ck_assert_uint_eq(si.state, CKS_RW_PUBLIC_SESSION);
    ck_assert(si.flags & CKF_RW_SESSION);
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);
    ck_assert_int_eq(C_CloseSession(s), CKR_SESSION_HANDLE_INVALID);
    ck_assert_int_eq(C_GetSessionInfo(s, &si), CKR_SESSION_HANDLE_INVALID);
    /* a stale handle never names the next session opened in the same slot */
    CK_SESSION_HANDLE again = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &again), CKR_OK);
    ck_assert(again != s);
    ck_assert_int_eq(C_CloseAllSessions(0), CKR_OK);
    ck_assert_int_eq(C_GetSessionInfo(rw, &si), CKR_SESSION_HANDLE_INVALID);
    ck_assert_int_eq(C_GetSessionInfo(again, &si), CKR_SESSION_HANDLE_INVALID);
}
END_TEST

START_TEST(session_table_full)
{
    static CK_SESSION_HANDLE hs[300];
    size_t opened = 0;
    CK_RV rv = CKR_OK;
    while (opened < 300 &&
           (rv = C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &hs[opened])) == CKR_OK) {
        opened++;
    }
    ck_assert_uint_eq(opened, 256);
    ck_assert_int_eq(rv, CKR_SESSION_COUNT);
    ck_assert_int_eq(C_CloseSession(hs[17]), CKR_OK);
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &hs[17]), CKR_OK);
}
END_TEST

/* NIST FIPS 180-2 example: SHA-256("abc"). */
static const uint8_t g_abc_sha256[32] = {
    0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
    0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};

START_TEST(digest_single_and_multi)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_MECHANISM sha = {CKM_SHA256, NULL, 0};
    uint8_t out[64];
    CK_ULONG len = 0;
    ck_assert_int_eq(C_DigestInit(s, &sha), CKR_OK);
    ck_assert_int_eq(C_Digest(s, (CK_BYTE_PTR) "abc", 3, NULL, &len), CKR_OK);
    ck_assert_uint_eq(len, 32);
    len = sizeof(out); /* larger than needed: accepted (the reference demanded exactly 32) */
    ck_assert_int_eq(C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len), CKR_OK);
    ck_assert_uint_eq(len, 32);
    ck_assert_mem_eq(out, g_abc_sha256, 32);
    /* multi-part, with a too-small buffer that keeps the operation */
    ck_assert_int_eq(C_DigestInit(s, &sha), CKR_OK);
    ck_assert_int_eq(C_DigestUpdate(s, (CK_BYTE_PTR) "a", 1), CKR_OK);
    ck_assert_int_eq(C_DigestUpdate(s, (CK_BYTE_PTR) "bc", 2), CKR_OK);
    len = 31;
    ck_assert_int_eq(C_DigestFinal(s, out, &len), CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(len, 32);
    len = 40;
    ck_assert_int_eq(C_DigestFinal(s, out, &len), CKR_OK);
    ck_assert_mem_eq(out, g_abc_sha256, 32);
    ck_assert_int_eq(C_DigestFinal(s, out, &len), CKR_OPERATION_NOT_INITIALIZED);
}
END_TEST

START_TEST(digest_errors)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_MECHANISM bad = {CKM_MD5, NULL, 0};
    CK_MECHANISM sha = {CKM_SHA256, NULL, 0};
    uint8_t out[32];
    CK_ULONG len = sizeof(out);
    ck_assert_int_eq(C_DigestInit(s, &bad), CKR_MECHANISM_INVALID);
    ck_assert_int_eq(C_DigestInit(s + 12345, &sha), CKR_SESSION_HANDLE_INVALID);
    ck_assert_int_eq(C_DigestInit(s, NULL), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_DigestUpdate(s, (CK_BYTE_PTR) "abc", 3), CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_int_eq(C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len), CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_int_eq(C_DigestInit(s, &sha), CKR_OK);
    ck_assert_int_eq(C_DigestInit(s, &sha), CKR_OPERATION_ACTIVE);
    len = 31;
    ck_assert_int_eq(C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len), CKR_BUFFER_TOO_SMALL);
    len = 32; /* still active after BUFFER_TOO_SMALL, and still correct */
    ck_assert_int_eq(C_Digest(s, (CK_BYTE_PTR) "abc", 3, out, &len), CKR_OK);
    ck_assert_mem_eq(out, g_abc_sha256, 32);
    ck_assert_int_eq(C_DigestInit(s, &sha), CKR_OK);
    ck_assert_int_eq(C_CloseSession(s), CKR_OK); /* active digest freed by close */
}
END_TEST

START_TEST(random_draws)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    ck_assert_int_eq(C_GenerateRandom(s, NULL, 0), CKR_OK);
    uint8_t a[32];
    uint8_t b[32];
    ck_assert_int_eq(C_GenerateRandom(s, a, 0), CKR_OK);
    ck_assert_int_eq(C_GenerateRandom(s, a, sizeof(a)), CKR_OK);
    ck_assert_int_eq(C_GenerateRandom(s, b, sizeof(b)), CKR_OK);
    ck_assert(memcmp(a, b, sizeof(a)) != 0);
    static uint8_t big[5000];
    ck_assert_int_eq(C_GenerateRandom(s, big, sizeof(big)), CKR_OK);
    size_t zeros = 0;
    for (size_t i = 0; i < sizeof(big); i++) {
        zeros += big[i] == 0;
    }
    ck_assert_uint_lt(zeros, 100); /* ~20 expected from a uniform source */
    ck_assert_int_eq(C_GenerateRandom(s, NULL, 4), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_SeedRandom(s, (CK_BYTE_PTR) "seed", 4), CKR_OK);
    ck_assert_int_eq(C_GenerateRandom(s + 1, a, 4), CKR_SESSION_HANDLE_INVALID);
}
END_TEST

Suite *pkcs11_core_suite(void);

Suite *pkcs11_core_suite(void)
{
    Suite *su = suite_create("pkcs11_core");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_add_test(tc, function_list_complete);
    tcase_add_test(tc, finalize_closes_sessions);
    tcase_add_test(tc, info_slots_token);
    tcase_add_test(tc, mechanisms_agree);
    tcase_add_test(tc, sessions_open_close_info);
    tcase_add_test(tc, session_table_full);
    tcase_add_test(tc, digest_single_and_multi);
    tcase_add_test(tc, digest_errors);
    tcase_add_test(tc, random_draws);
    suite_add_tcase(su, tc);
    TCase *init = tcase_create("init");
    tcase_add_checked_fixture(init, lwss_p11t_setup_uninit, lwss_p11t_teardown);
    tcase_add_test(init, initialize_finalize_rules);
    suite_add_tcase(su, init);
    suite_add_tcase(su, lwss_p11t_login_tcase());
    return su;
}
