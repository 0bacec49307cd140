/*
 * token_store suite: the token's storage seam (src/pkcs11/token_store.h,
 * pal/token_store.c).  The seam's contract is its header: every result is
 * already a CK_RV, translated there once, and the values below are the ones
 * it documents.
 */
#include "tests/support/lwss_test.h"
#include "tests/support/nvm_util.h"

#include "src/pkcs11/token_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "@return CKR_OK ... CKR_DEVICE_ERROR": the store is not open yet. */
START_TEST(test_closed_store_is_a_device_error)
{
    size_t n = 0;
    lwss_nvm_meta m;
    ck_assert_uint_eq(lwss_token_store_list(NULL, 0, &n), CKR_DEVICE_ERROR);
    ck_assert_uint_eq(lwss_token_store_get_meta(1, &m), CKR_DEVICE_ERROR);
    lwss_nvm_meta w = lwss_tnvm_meta("a", CKO_DATA, 0);
    ck_assert_uint_eq(lwss_token_store_save(&w, (const uint8_t *)"x", 1, NULL), CKR_DEVICE_ERROR);
}
END_TEST

/* Round trip, and the handle rules: "CKR_OBJECT_HANDLE_INVALID (unknown or
 * destroyed)", destroy "CKR_OK also when already gone". */
START_TEST(test_roundtrip_and_handles)
{
    ck_assert_uint_eq(lwss_token_store_open(), CKR_OK);
    ck_assert_uint_eq(lwss_token_store_open(), CKR_OK); /* idempotent */
    lwss_nvm_meta w = lwss_tnvm_meta("key", CKO_SECRET_KEY, 1);
    uint32_t h = 0;
    ck_assert_uint_eq(lwss_token_store_save(&w, (const uint8_t *)"secret", 6, &h), CKR_OK);
    ck_assert_uint_ne(h, 0);
    ck_assert_uint_eq(lwss_token_store_find(w.label, w.label_len, CKO_SECRET_KEY), h);
    ck_assert_uint_eq(lwss_token_store_find(w.label, w.label_len, CKO_DATA), 0);

    lwss_nvm_meta r;
    ck_assert_uint_eq(lwss_token_store_get_meta(h, &r), CKR_OK);
    ck_assert_uint_eq(r.cls, CKO_SECRET_KEY);
    ck_assert_int_eq(r.is_private, 1);
    uint8_t *val = NULL;
    size_t len = 0;
    ck_assert_uint_eq(lwss_token_store_get_value(h, &val, &len), CKR_OK);
    ck_assert_uint_eq(len, 6);
    ck_assert_mem_eq(val, "secret", 6);
    lwss_token_store_free_value(val, len);
    lwss_token_store_free_value(NULL, 0);

    size_t n = 0;
    uint32_t list[4] = {0};
    ck_assert_uint_eq(lwss_token_store_list(list, 4, &n), CKR_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(list[0], h);

    ck_assert_uint_eq(lwss_token_store_destroy(h), CKR_OK);
    ck_assert_uint_eq(lwss_token_store_destroy(h), CKR_OK); /* already gone */
    ck_assert_uint_eq(lwss_token_store_get_meta(h, &r), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_uint_eq(lwss_token_store_get_value(h, &val, &len), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_uint_eq(lwss_token_store_get_meta(999, &r), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_uint_eq(lwss_token_store_destroy(999), CKR_OBJECT_HANDLE_INVALID);
    lwss_token_store_close();
}
END_TEST

/* "CKR_DEVICE_MEMORY (store full, nothing lost)"; a record the store cannot
 * hold at all (empty value) is a device error, not a handle error. */
START_TEST(test_full_store_is_device_memory)
{
    setenv("LWSS_NVM_MAX_OBJECTS", "2", 1);
    ck_assert_uint_eq(lwss_token_store_open(), CKR_OK);
    unsetenv("LWSS_NVM_MAX_OBJECTS");
    lwss_tnvm_put("o0", 10, 0);
    lwss_tnvm_put("o1", 10, 1);
    lwss_nvm_meta w = lwss_tnvm_meta("o2", CKO_DATA, 0);
    uint32_t h = 0;
    ck_assert_uint_eq(lwss_token_store_save(&w, (const uint8_t *)"abc", 3, &h), CKR_DEVICE_MEMORY);
    ck_assert_uint_eq(h, 0);
    ck_assert(lwss_tnvm_has("o0", 10, 0));
    ck_assert(lwss_tnvm_has("o1", 10, 1));
    ck_assert_uint_eq(lwss_token_store_save(&w, (const uint8_t *)"abc", 0, &h), CKR_DEVICE_ERROR);
    lwss_token_store_close();
}
END_TEST

Suite *token_store_suite(void);
Suite *token_store_suite(void)
{
    Suite *s = suite_create("token_store");
    TCase *tc = tcase_create("seam");
    tcase_add_checked_fixture(tc, lwss_tnvm_setup, lwss_tnvm_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_closed_store_is_a_device_error);
    tcase_add_test(tc, test_roundtrip_and_handles);
    tcase_add_test(tc, test_full_store_is_device_memory);
    suite_add_tcase(s, tc);
    return s;
}
