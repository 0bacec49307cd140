/* PKCS #11 token: many sessions across many threads (suite pkcs11_threads). */
#include "tests/support/test_pkcs11.h"

#include <pthread.h>
#include <string.h>

#define THREADS 8
#define ROUNDS 25

typedef struct worker {
    int index;
    CK_RV first_error;     /* CKR_OK when every call did what it should */
    const char *failed_at; /* the call that did not */
    uint8_t random[32];
} worker;

static void check(worker *w, CK_RV got, CK_RV want, const char *what)
{
    if (got != want && w->first_error == CKR_OK) {
        w->first_error = got == CKR_OK ? CKR_GENERAL_ERROR : got;
        w->failed_at = what;
    }
}

/* One round: find the key pair and the cert by label+class, read the EC
 * point, sign with the private key, verify with the public one, and check
 * that a tampered signature fails. */
static void one_round(worker *w, CK_SESSION_HANDLE s)
{
    CK_OBJECT_CLASS priv_c = CKO_PRIVATE_KEY;
    CK_OBJECT_CLASS pub_c = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE fp[] = {{CKA_LABEL, "ec", 2}, {CKA_CLASS, &priv_c, sizeof(priv_c)}};
    CK_ATTRIBUTE fq[] = {{CKA_LABEL, "ec", 2}, {CKA_CLASS, &pub_c, sizeof(pub_c)}};
    CK_OBJECT_HANDLE priv = 0;
    CK_OBJECT_HANDLE pub = 0;
    CK_ULONG n = 0;
    check(w, C_FindObjectsInit(s, fp, 2), CKR_OK, "FindObjectsInit");
    check(w, C_FindObjects(s, &priv, 1, &n), CKR_OK, "FindObjects");
    check(w, n == 1 ? CKR_OK : CKR_GENERAL_ERROR, CKR_OK, "find count");
    check(w, C_FindObjectsFinal(s), CKR_OK, "FindObjectsFinal");
    check(w, C_FindObjectsInit(s, fq, 2), CKR_OK, "FindObjectsInit");
    check(w, C_FindObjects(s, &pub, 1, &n), CKR_OK, "FindObjects");
    check(w, C_FindObjectsFinal(s), CKR_OK, "FindObjectsFinal");
    uint8_t point[67];
    CK_ATTRIBUTE a = {CKA_EC_POINT, point, sizeof(point)};
    check(w, C_GetAttributeValue(s, pub, &a, 1), CKR_OK, "GetAttributeValue");
    uint8_t hash[32];
    uint8_t sig[64];
    CK_ULONG sig_len = sizeof(sig);
    check(w, C_GenerateRandom(s, hash, sizeof(hash)), CKR_OK, "GenerateRandom");
    memcpy(w->random, hash, sizeof(hash));
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    check(w, C_SignInit(s, &ecdsa, priv), CKR_OK, "SignInit");
    check(w, C_Sign(s, hash, 32, sig, &sig_len), CKR_OK, "Sign");
    check(w, C_VerifyInit(s, &ecdsa, pub), CKR_OK, "VerifyInit");
    check(w, C_Verify(s, hash, 32, sig, 64), CKR_OK, "Verify");
    sig[10] ^= 1;
    check(w, C_VerifyInit(s, &ecdsa, pub), CKR_OK, "VerifyInit");
    check(w, C_Verify(s, hash, 32, sig, 64), CKR_SIGNATURE_INVALID, "Verify tampered");
}

static void *work(void *arg)
{
    worker *w = arg;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    check(w, C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK, "OpenSession");
    for (int i = 0; i < ROUNDS && w->first_error == CKR_OK; i++) {
        one_round(w, s);
        /* churn: a short-lived session of our own beside the long one */
        CK_SESSION_HANDLE t = CK_INVALID_HANDLE;
        check(w, C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &t), CKR_OK, "OpenSession 2");
        check(w, C_CloseSession(t), CKR_OK, "CloseSession 2");
    }
    check(w, C_CloseSession(s), CKR_OK, "CloseSession");
    return NULL;
}

START_TEST(sign_verify_find_across_threads)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem, LWSS_PKCS11_PRIVATE);
    lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem, LWSS_PKCS11_PUBLIC);
    static worker workers[THREADS];
    pthread_t tids[THREADS];
    memset(workers, 0, sizeof(workers));
    for (int i = 0; i < THREADS; i++) {
        workers[i].index = i;
        ck_assert_int_eq(pthread_create(&tids[i], NULL, work, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(tids[i], NULL), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        ck_assert_msg(workers[i].first_error == CKR_OK, "thread %d: %s gave 0x%lx", i,
                      workers[i].failed_at, workers[i].first_error);
        for (int j = i + 1; j < THREADS; j++) { /* one DRBG, distinct draws */
            ck_assert(memcmp(workers[i].random, workers[j].random, 32) != 0);
        }
    }
    CK_TOKEN_INFO ti;
    ck_assert_int_eq(C_GetTokenInfo(0, &ti), CKR_OK);
    ck_assert_uint_eq(ti.ulSessionCount, 1);
}
END_TEST

static void *create_destroy(void *arg)
{
    worker *w = arg;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    check(w, C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK,
          "OpenSession");
    char label[16];
    snprintf(label, sizeof(label), "t%d", w->index);
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, label, strlen(label)},
                        {CKA_VALUE, label, strlen(label)}};
    for (int i = 0; i < 10 && w->first_error == CKR_OK; i++) {
        CK_OBJECT_HANDLE h = 0;
        check(w, C_CreateObject(s, t, 3, &h), CKR_OK, "CreateObject");
        char buf[16];
        CK_ATTRIBUTE a = {CKA_VALUE, buf, sizeof(buf)};
        check(w, C_GetAttributeValue(s, h, &a, 1), CKR_OK, "GetAttributeValue");
        check(w, a.ulValueLen == strlen(label) && memcmp(buf, label, a.ulValueLen) == 0
                     ? CKR_OK : CKR_GENERAL_ERROR, CKR_OK, "value");
        check(w, C_DestroyObject(s, h), CKR_OK, "DestroyObject");
    }
    check(w, C_CloseSession(s), CKR_OK, "CloseSession");
    return NULL;
}

START_TEST(create_destroy_across_threads)
{
    static worker workers[THREADS];
    pthread_t tids[THREADS];
    memset(workers, 0, sizeof(workers));
    for (int i = 0; i < THREADS; i++) {
        workers[i].index = i;
        ck_assert_int_eq(pthread_create(&tids[i], NULL, create_destroy, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        ck_assert_int_eq(pthread_join(tids[i], NULL), 0);
        ck_assert_msg(workers[i].first_error == CKR_OK, "thread %d: %s gave 0x%lx", i,
                      workers[i].failed_at, workers[i].first_error);
    }
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE f[4];
    ck_assert_uint_eq(lwss_p11t_find(s, NULL, CK_UNAVAILABLE_INFORMATION, f, 4), 0);
}
END_TEST

Suite *pkcs11_threads_suite(void);

Suite *pkcs11_threads_suite(void)
{
    Suite *su = suite_create("pkcs11_threads");
    TCase *tc = tcase_create("threads");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_add_test(tc, sign_verify_find_across_threads);
    tcase_add_test(tc, create_destroy_across_threads);
    suite_add_tcase(su, tc);
    return su;
}
