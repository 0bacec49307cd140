/* PKCS #11 token: login and PIN policy (a test case of suite pkcs11_core). */
#include "tests/support/test_pkcs11.h"

#include <string.h>

#define PIN(s) (CK_UTF8CHAR_PTR)(s), (CK_ULONG)strlen(s)

START_TEST(default_pin_and_wrong_pin)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    ck_assert_int_eq(C_Logout(s), CKR_USER_NOT_LOGGED_IN);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("1234")), CKR_PIN_INCORRECT);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("")), CKR_PIN_INCORRECT);
    ck_assert_int_eq(C_Login(s, 77, PIN("0000")), CKR_USER_TYPE_INVALID);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("0000")), CKR_OK);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("0000")), CKR_USER_ALREADY_LOGGED_IN);
    ck_assert_int_eq(C_Login(s, CKU_SO, PIN("0000")), CKR_USER_ANOTHER_ALREADY_LOGGED_IN);
    CK_SESSION_INFO si;
    ck_assert_int_eq(C_GetSessionInfo(s, &si), CKR_OK);
    ck_assert_uint_eq(si.state, CKS_RW_USER_FUNCTIONS);
    ck_assert_int_eq(C_Logout(s), CKR_OK);
    ck_assert_int_eq(C_GetSessionInfo(s, &si), CKR_OK);
    ck_assert_uint_eq(si.state, CKS_RW_PUBLIC_SESSION);
}
END_TEST

/* SO sets a user PIN: from then on private objects need login. */
START_TEST(user_pin_hides_private_objects)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE key = lwss_p11t_import_key(s, "k", lwss_p11t_ec_key_pem, LWSS_PKCS11_PRIVATE);
    lwss_p11t_import_key(s, "k", lwss_p11t_ec_key_pem, LWSS_PKCS11_PUBLIC);
    ck_assert_int_eq(C_InitPIN(s, PIN("123456")), CKR_USER_NOT_LOGGED_IN);
    ck_assert_int_eq(C_Login(s, CKU_SO, PIN("0000")), CKR_OK);
    CK_SESSION_HANDLE ro = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro),
                     CKR_SESSION_READ_WRITE_SO_EXISTS);
    ck_assert_int_eq(C_InitPIN(s, PIN("12")), CKR_PIN_LEN_RANGE);
    ck_assert_int_eq(C_InitPIN(s, PIN("123456")), CKR_OK);
    ck_assert_int_eq(C_Logout(s), CKR_OK);
    /* persistent: survives a restart of the library */
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    s = lwss_p11t_session();
    CK_TOKEN_INFO ti;
    ck_assert_int_eq(C_GetTokenInfo(0, &ti), CKR_OK);
    ck_assert(ti.flags & CKF_LOGIN_REQUIRED);
    CK_OBJECT_HANDLE found[4];
    ck_assert_uint_eq(lwss_p11t_find(s, "k", CK_UNAVAILABLE_INFORMATION, found, 4), 1);
    ck_assert_uint_eq(lwss_p11t_find(s, "k", CKO_PRIVATE_KEY, found, 4), 0);
    CK_ATTRIBUTE a = {CKA_CLASS, NULL, 0};
    ck_assert_int_eq(C_GetAttributeValue(s, key, &a, 1), CKR_OBJECT_HANDLE_INVALID);
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &ecdsa, key), CKR_KEY_HANDLE_INVALID);
    ck_assert_int_eq(C_DestroyObject(s, key), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("0000")), CKR_PIN_INCORRECT);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("123456")), CKR_OK);
    ck_assert_uint_eq(lwss_p11t_find(s, "k", CKO_PRIVATE_KEY, found, 4), 1);
    ck_assert_int_eq(C_SignInit(s, &ecdsa, key), CKR_OK);
    /* closing the last session logs out */
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);
    s = lwss_p11t_session();
    ck_assert_uint_eq(lwss_p11t_find(s, "k", CKO_PRIVATE_KEY, found, 4), 0);
}
END_TEST

START_TEST(set_pin)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    ck_assert_int_eq(C_SetPIN(s, PIN("9999"), PIN("abcdef")), CKR_PIN_INCORRECT);
    ck_assert_int_eq(C_SetPIN(s, PIN("0000"), PIN("abc")), CKR_PIN_LEN_RANGE);
    ck_assert_int_eq(C_SetPIN(s, PIN("0000"), PIN("abcdef")), CKR_OK);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("0000")), CKR_PIN_INCORRECT);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("abcdef")), CKR_OK);
    CK_SESSION_HANDLE ro = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    ck_assert_int_eq(C_SetPIN(ro, PIN("abcdef"), PIN("ghijkl")), CKR_SESSION_READ_ONLY);
    ck_assert_int_eq(C_Logout(s), CKR_OK);
    ck_assert_int_eq(C_Login(s, CKU_SO, PIN("0000")), CKR_SESSION_READ_ONLY_EXISTS);
}
END_TEST

START_TEST(init_token)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    lwss_p11t_import_cert(s, "c", lwss_p11t_ec_crt_pem);
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    memcpy(label, "fresh", 5);
    ck_assert_int_eq(C_InitToken(0, PIN("0000"), label), CKR_SESSION_EXISTS);
    /* the SO PIN is "0000" until changed: C_InitToken checks it (v2.40 C_InitToken) */
    ck_assert_int_eq(C_Login(s, CKU_SO, PIN("0000")), CKR_OK);
    ck_assert_int_eq(C_SetPIN(s, PIN("0000"), PIN("so-pin-1")), CKR_OK);
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);
    ck_assert_int_eq(C_InitToken(0, PIN("0000"), label), CKR_PIN_INCORRECT);
    ck_assert_int_eq(C_InitToken(0, PIN("so-pin-1"), label), CKR_OK);
    CK_TOKEN_INFO ti;
    ck_assert_int_eq(C_GetTokenInfo(0, &ti), CKR_OK);
    ck_assert_mem_eq(ti.label, label, 32);
    s = lwss_p11t_session();
    CK_OBJECT_HANDLE found[4];
    ck_assert_uint_eq(lwss_p11t_find(s, NULL, CK_UNAVAILABLE_INFORMATION, found, 4), 0);
    lwss_p11t_import_cert(s, "c2", lwss_p11t_ec_crt_pem);
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);
    /* the SO PIN is now set: a wrong one changes nothing */
    ck_assert_int_eq(C_InitToken(0, PIN("0000"), label), CKR_PIN_INCORRECT);
    s = lwss_p11t_session();
    ck_assert_uint_eq(lwss_p11t_find(s, "c2", CKO_CERTIFICATE, found, 4), 1);
    ck_assert_int_eq(C_Login(s, CKU_SO, PIN("0000")), CKR_PIN_INCORRECT);
    ck_assert_int_eq(C_Login(s, CKU_SO, PIN("so-pin-1")), CKR_OK);
}
END_TEST

TCase *lwss_p11t_login_tcase(void)
{
    TCase *tc = tcase_create("login");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_add_test(tc, default_pin_and_wrong_pin);
    tcase_add_test(tc, user_pin_hides_private_objects);
    tcase_add_test(tc, set_pin);
    tcase_add_test(tc, init_token);
    return tc;
}
