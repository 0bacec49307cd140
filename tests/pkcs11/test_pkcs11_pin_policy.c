/*
 * Suite "pkcs11_pin_policy": the PIN try counter (issue 18 item 7).
 * PKCS #11 v2.40 5.6 C_Login / C_SetPIN / 5.5 C_InitToken:
 * CKR_PIN_INCORRECT for a wrong PIN, CKR_PIN_LOCKED once locked;
 * v2.40 3.2 CK_TOKEN_INFO flags CKF_USER_PIN_COUNT_LOW ("an incorrect user
 * login PIN has been entered at least once since the last successful
 * authentication"), CKF_USER_PIN_FINAL_TRY ("supplying an incorrect user
 * PIN will cause it to become locked"), CKF_USER_PIN_LOCKED and the SO_
 * ones; the count lives in the image (restarts, power cuts).
 */
#include "tests/support/test_pkcs11.h"
#include "lwss/config_defaults.h" /* LWSS_P11_PIN_MAX_TRIES */
#include "pal/flash.h" /* power-cut hooks (test builds) */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIN(s) (CK_UTF8CHAR_PTR)(s), (CK_ULONG)strlen(s)
#define TRIES LWSS_P11_PIN_MAX_TRIES

static CK_FLAGS token_flags(void)
{
    CK_TOKEN_INFO ti;
    ck_assert_int_eq(C_GetTokenInfo(0, &ti), CKR_OK);
    return ti.flags;
}

#define USER_FLAGS (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_LOCKED)
#define SO_FLAGS (CKF_SO_PIN_COUNT_LOW | CKF_SO_PIN_FINAL_TRY | CKF_SO_PIN_LOCKED)

/* The SO sets user PIN "123456". */
static void set_user_pin(CK_SESSION_HANDLE s, const char *pin)
{
    ck_assert_int_eq(C_Login(s, CKU_SO, PIN("0000")), CKR_OK);
    ck_assert_int_eq(C_InitPIN(s, PIN(pin)), CKR_OK);
    ck_assert_int_eq(C_Logout(s), CKR_OK);
}

/* v2.40 3.2 flags through the count; 5.6 C_Login: CKR_PIN_INCORRECT up to
 * the limit, then CKR_PIN_LOCKED even for the right PIN, after a restart
 * too; C_SetPIN with the old PIN is CKR_PIN_LOCKED as well; only the SO's
 * C_InitPIN unlocks it. */
START_TEST(user_pin_locks_and_so_unlocks)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    set_user_pin(s, "123456");
    ck_assert_uint_eq(token_flags() & (USER_FLAGS | SO_FLAGS), 0);
    for (int i = 1; i <= TRIES; i++) {
        ck_assert_int_eq(C_Login(s, CKU_USER, PIN("999999")), CKR_PIN_INCORRECT);
        CK_FLAGS f = token_flags();
        if (i < TRIES) {
            ck_assert(f & CKF_USER_PIN_COUNT_LOW);
            ck_assert(!(f & CKF_USER_PIN_LOCKED));
            ck_assert_int_eq(!!(f & CKF_USER_PIN_FINAL_TRY), i == TRIES - 1);
        } else {
            ck_assert(f & CKF_USER_PIN_LOCKED);
        }
        ck_assert_uint_eq(f & SO_FLAGS, 0);
    }
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("123456")), CKR_PIN_LOCKED);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    s = lwss_p11t_session();
    ck_assert(token_flags() & CKF_USER_PIN_LOCKED);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("123456")), CKR_PIN_LOCKED);
    ck_assert_int_eq(C_SetPIN(s, PIN("123456"), PIN("654321")), CKR_PIN_LOCKED);
    set_user_pin(s, "777777"); /* the SO unlocks with a new PIN */
    ck_assert_uint_eq(token_flags() & USER_FLAGS, 0);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("123456")), CKR_PIN_INCORRECT);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("777777")), CKR_OK);
    ck_assert_uint_eq(token_flags() & USER_FLAGS, 0); /* a right PIN clears the count */
}
END_TEST

/* The default PIN of a fresh image ("0000", no PIN set) is counted too. */
START_TEST(default_pin_counted)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    for (int i = 0; i < TRIES; i++) {
        ck_assert_int_eq(C_Login(s, CKU_USER, PIN("1111")), CKR_PIN_INCORRECT);
    }
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("0000")), CKR_PIN_LOCKED);
    ck_assert(token_flags() & CKF_USER_PIN_LOCKED);
    set_user_pin(s, "0000");
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("0000")), CKR_OK);
}
END_TEST

/* The SO PIN has its own count: locked, C_Login(CKU_SO), C_InitToken are
 * CKR_PIN_LOCKED (v2.40 5.5, 5.6) and the user PIN still works. */
START_TEST(so_pin_locks)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    set_user_pin(s, "123456");
    ck_assert_int_eq(C_Login(s, CKU_SO, PIN("9999")), CKR_PIN_INCORRECT);
    ck_assert(token_flags() & CKF_SO_PIN_COUNT_LOW);
    ck_assert_uint_eq(token_flags() & USER_FLAGS, 0);
    ck_assert_int_eq(C_Login(s, CKU_SO, PIN("0000")), CKR_OK); /* clears it */
    ck_assert_int_eq(C_Logout(s), CKR_OK);
    ck_assert_uint_eq(token_flags() & SO_FLAGS, 0);
    for (int i = 0; i < TRIES; i++) {
        ck_assert_int_eq(C_Login(s, CKU_SO, PIN("9999")), CKR_PIN_INCORRECT);
    }
    ck_assert(token_flags() & CKF_SO_PIN_LOCKED);
    ck_assert_int_eq(C_Login(s, CKU_SO, PIN("0000")), CKR_PIN_LOCKED);
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);
    unsigned char label[32];
    memset(label, ' ', sizeof(label));
    ck_assert_int_eq(C_InitToken(0, PIN("0000"), label), CKR_PIN_LOCKED);
    s = lwss_p11t_session();
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("123456")), CKR_OK);
}
END_TEST

/* Wrong user PINs still allowed: log in with wrong PINs until locked. */
static int tries_left(CK_SESSION_HANDLE s)
{
    int n = 0;
    while (C_Login(s, CKU_USER, PIN("999999")) == CKR_PIN_INCORRECT) {
        n++;
        ck_assert_int_le(n, TRIES);
    }
    return n;
}

/* Power-loss safety: a cut at every flash operation of a C_Login leaves a
 * count that is never lower than before a wrong PIN (no free try), and
 * before a right PIN either the old count, the charged one or zero. */
static void login_under_cut(const char *pin, int right)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    set_user_pin(s, "123456");
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("999999")), CKR_PIN_INCORRECT);
    ck_assert_int_eq(C_Login(s, CKU_USER, PIN("999999")), CKR_PIN_INCORRECT);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    size_t img_len = 0;
    uint8_t *img = lwss_p11t_read_file(lwss_p11t_image(), &img_len);
    ck_assert_ptr_nonnull(img);
    uint64_t ops = 0;
    int seen[TRIES + 1] = {0};
    for (uint64_t op = 0; op <= ops; op++) {
        FILE *f = fopen(lwss_p11t_image(), "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(img, 1, img_len, f), img_len);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
        s = lwss_p11t_session();
        lwss_flash_fault_arm(op == 0 ? UINT64_MAX : op - 1, 3);
        CK_RV rv = C_Login(s, CKU_USER, PIN(pin));
        if (op == 0) {
            ops = lwss_flash_fault_ops();
            ck_assert_int_eq(rv, right ? CKR_OK : CKR_PIN_INCORRECT);
        }
        lwss_flash_fault_disarm();
        (void)C_Finalize(NULL);
        ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
        s = lwss_p11t_session();
        int used = TRIES - tries_left(s);
        if (right) {
            ck_assert_msg(used == 0 || used == 2 || used == 3, "op %llu: count %d",
                          (unsigned long long)op, used);
        } else {
            ck_assert_msg(used == 2 || used == 3, "op %llu: count %d", (unsigned long long)op,
                          used);
        }
        seen[used]++;
        ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    }
    free(img);
    ck_assert_uint_ge(ops, right ? 2 : 1);
    ck_assert_int_gt(seen[3], 0); /* some cuts fell after the charge */
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
}

START_TEST(wrong_pin_power_cut)
{
    login_under_cut("999999", 0);
}
END_TEST

START_TEST(right_pin_power_cut)
{
    login_under_cut("123456", 1);
}
END_TEST

Suite *pkcs11_pin_policy_suite(void);

Suite *pkcs11_pin_policy_suite(void)
{
    Suite *su = suite_create("pkcs11_pin_policy");
    TCase *tc = tcase_create("pin_policy");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, user_pin_locks_and_so_unlocks);
    tcase_add_test(tc, default_pin_counted);
    tcase_add_test(tc, so_pin_locks);
    tcase_add_test(tc, wrong_pin_power_cut);
    tcase_add_test(tc, right_pin_power_cut);
    suite_add_tcase(su, tc);
    return su;
}
