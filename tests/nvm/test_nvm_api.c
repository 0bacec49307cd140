/* nvm suite, part 1: the lwss_nvm_* and PKCS11_PAL_* calls, good and bad. */
#include "tests/support/lwss_test.h"
#include "tests/support/nvm_util.h"

#include "core_pkcs11_pal.h"
#include "lwss/port.h"
#include "pal/crc32.h"
#include "pal/flash.h"
#include "pal/layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

START_TEST(test_create_mode_and_roundtrip)
{
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    struct stat st;
    ck_assert_int_eq(stat(lwss_tnvm_path(), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(st.st_size, LWSS_NVM_DEFAULT_SIZE);

    lwss_nvm_meta m = lwss_tnvm_meta("key one", CKO_PRIVATE_KEY, 1);
    m.key_type = CKK_EC;
    m.id_len = 3;
    memcpy(m.id, "\x01\x02\x03", 3);
    uint8_t val[300];
    lwss_tnvm_pattern(val, sizeof(val), 7);
    uint32_t h = lwss_nvm_save(&m, val, sizeof(val));
    ck_assert_uint_ne(h, 0);
    ck_assert_uint_eq(lwss_nvm_find(m.label, m.label_len, CKO_PRIVATE_KEY), h);
    ck_assert_uint_eq(lwss_nvm_find(m.label, m.label_len, LWSS_NVM_ANY_CLASS), h);
    ck_assert_uint_eq(lwss_nvm_find(m.label, m.label_len, CKO_PUBLIC_KEY), 0);
    ck_assert_uint_eq(lwss_nvm_find(m.label, m.label_len - 1, LWSS_NVM_ANY_CLASS), 0);

    /* Same label, other class: a separate object. */
    lwss_nvm_meta pub = lwss_tnvm_meta("key one", CKO_PUBLIC_KEY, 0);
    uint32_t hp = lwss_nvm_save(&pub, val, 10);
    ck_assert_uint_ne(hp, 0);
    ck_assert_uint_ne(hp, h);
    lwss_nvm_close();

    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    h = lwss_nvm_find(m.label, m.label_len, CKO_PRIVATE_KEY);
    ck_assert_uint_ne(h, 0);
    lwss_nvm_meta got;
    ck_assert_int_eq(lwss_nvm_get_meta(h, &got), 0);
    ck_assert_uint_eq(got.cls, CKO_PRIVATE_KEY);
    ck_assert_uint_eq(got.key_type, CKK_EC);
    ck_assert_uint_eq(got.is_private, 1);
    ck_assert_uint_eq(got.id_len, 3);
    ck_assert_mem_eq(got.id, "\x01\x02\x03", 3);
    uint8_t *data = NULL;
    size_t len = 0;
    ck_assert_int_eq(lwss_nvm_get_value(h, &data, &len), 0);
    ck_assert_uint_eq(len, sizeof(val));
    ck_assert_mem_eq(data, val, len);
    lwss_nvm_free_value(data, len);

    /* Replace keeps the handle; destroy removes, twice is fine. */
    ck_assert_uint_eq(lwss_nvm_save(&m, val, 20), h);
    size_t count = 0;
    uint32_t handles[4];
    ck_assert_int_eq(lwss_nvm_list(handles, 4, &count), 0);
    ck_assert_uint_eq(count, 2);
    ck_assert_int_eq(lwss_nvm_destroy(h), 0);
    ck_assert_int_eq(lwss_nvm_destroy(h), 0);
    ck_assert_uint_eq(lwss_nvm_find(m.label, m.label_len, CKO_PRIVATE_KEY), 0);
    ck_assert_int_eq(lwss_nvm_get_value(h, &data, &len), LWSS_ERR_INVAL);
    lwss_nvm_close();
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    ck_assert_uint_eq(lwss_nvm_find(m.label, m.label_len, CKO_PRIVATE_KEY), 0);
    ck_assert_uint_ne(lwss_nvm_find(pub.label, pub.label_len, CKO_PUBLIC_KEY), 0);
    ck_assert_int_eq(lwss_nvm_list(NULL, 0, &count), 0);
    ck_assert_uint_eq(count, 1);
}
END_TEST

START_TEST(test_pal_reference_labels)
{
    static const struct {
        const char *label;
        CK_BBOOL priv;
    } refs[] = {
        {pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS, CK_TRUE},
        {pkcs11configLABEL_DEVICE_PUBLIC_KEY_FOR_TLS, CK_FALSE},
        {pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS, CK_FALSE},
        {pkcs11configLABEL_CODE_VERIFICATION_KEY, CK_FALSE},
        {pkcs11configLABEL_HMAC_KEY, CK_TRUE},
        {pkcs11configLABEL_CMAC_KEY, CK_TRUE},
        {pkcs11configLABEL_CLAIM_PRIVATE_KEY, CK_TRUE},
        {pkcs11configLABEL_CLAIM_CERTIFICATE, CK_FALSE},
        {pkcs11configLABEL_JITP_CERTIFICATE, CK_FALSE},
        {pkcs11configLABEL_ROOT_CERTIFICATE, CK_FALSE},
        {"my own data", CK_FALSE},
    };
    const size_t n = sizeof(refs) / sizeof(refs[0]);
    ck_assert_int_eq(PKCS11_PAL_Initialize(), CKR_OK);
    CK_OBJECT_HANDLE handles[16];
    for (size_t i = 0; i < n; i++) {
        uint8_t val[1200];
        lwss_tnvm_pattern(val, 100 + i * 100, (uint32_t)i);
        CK_ATTRIBUTE label = {CKA_LABEL, (void *)refs[i].label, strlen(refs[i].label)};
        handles[i] = PKCS11_PAL_SaveObject(&label, val, 100 + i * 100);
        ck_assert_uint_ne(handles[i], CK_INVALID_HANDLE);
    }
    lwss_nvm_close();
    ck_assert_int_eq(PKCS11_PAL_Initialize(), CKR_OK);
    for (size_t i = 0; i < n; i++) {
        /* Some callers count the NUL: both lengths find the object. */
        CK_OBJECT_HANDLE h = PKCS11_PAL_FindObject((CK_BYTE_PTR)refs[i].label,
                                                   strlen(refs[i].label) + 1);
        ck_assert_uint_ne(h, CK_INVALID_HANDLE);
        ck_assert_uint_eq(PKCS11_PAL_FindObject((CK_BYTE_PTR)refs[i].label,
                                                strlen(refs[i].label)), h);
        CK_BYTE_PTR data = NULL;
        CK_ULONG len = 0;
        CK_BBOOL priv = 7;
        ck_assert_uint_eq(PKCS11_PAL_GetObjectValue(h, &data, &len, &priv), CKR_OK);
        uint8_t want[1200];
        lwss_tnvm_pattern(want, 100 + i * 100, (uint32_t)i);
        ck_assert_uint_eq(len, 100 + i * 100);
        ck_assert_mem_eq(data, want, len);
        ck_assert_uint_eq(priv, refs[i].priv);
        PKCS11_PAL_GetObjectValueCleanup(data, len);
    }
    CK_OBJECT_HANDLE h = PKCS11_PAL_FindObject((CK_BYTE_PTR) "Root Cert", 9);
    ck_assert_uint_eq(PKCS11_PAL_DestroyObject(h), CKR_OK);
    ck_assert_uint_eq(PKCS11_PAL_FindObject((CK_BYTE_PTR) "Root Cert", 9), CK_INVALID_HANDLE);
    ck_assert_uint_eq(PKCS11_PAL_DestroyObject(h), CKR_OK); /* already gone */
    /* Prefixes are not matches (a reference defect). */
    ck_assert_uint_eq(PKCS11_PAL_FindObject((CK_BYTE_PTR) "Device", 6), CK_INVALID_HANDLE);
}
END_TEST

START_TEST(test_pal_bad_arguments)
{
    ck_assert_int_eq(PKCS11_PAL_Initialize(), CKR_OK);
    uint8_t val[64] = {1, 2, 3};
    CK_ATTRIBUTE keep = {CKA_LABEL, "Device Cert", 11};
    CK_OBJECT_HANDLE kept = PKCS11_PAL_SaveObject(&keep, val, sizeof(val));
    ck_assert_uint_ne(kept, 0);

    CK_ATTRIBUTE nolabel = {CKA_LABEL, NULL, 5};
    CK_ATTRIBUTE empty = {CKA_LABEL, "", 0};
    CK_ATTRIBUTE longl = {CKA_LABEL, "0123456789012345678901234567890123456789012345678901234567"
                                     "890123456789", 70};
    ck_assert_uint_eq(PKCS11_PAL_SaveObject(NULL, val, sizeof(val)), 0);
    ck_assert_uint_eq(PKCS11_PAL_SaveObject(&nolabel, val, sizeof(val)), 0);
    ck_assert_uint_eq(PKCS11_PAL_SaveObject(&empty, val, sizeof(val)), 0);
    ck_assert_uint_eq(PKCS11_PAL_SaveObject(&longl, val, sizeof(val)), 0);
    ck_assert_uint_eq(PKCS11_PAL_SaveObject(&keep, NULL, sizeof(val)), 0);
    ck_assert_uint_eq(PKCS11_PAL_SaveObject(&keep, val, 0), 0);
    /* Larger than a sector can hold: refused, the old value stays. */
    size_t big = LWSS_NVM_DEFAULT_SECTOR;
    uint8_t *huge = calloc(1, big);
    ck_assert_ptr_nonnull(huge);
    ck_assert_uint_eq(PKCS11_PAL_SaveObject(&keep, huge, big), 0);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "too large"));
    free(huge);

    ck_assert_uint_eq(PKCS11_PAL_FindObject(NULL, 4), 0);
    ck_assert_uint_eq(PKCS11_PAL_FindObject((CK_BYTE_PTR) "x", 0), 0);
    ck_assert_uint_eq(PKCS11_PAL_FindObject((CK_BYTE_PTR) "nothing", 7), 0);

    CK_BYTE_PTR data = (CK_BYTE_PTR)val;
    CK_ULONG len = 0;
    CK_BBOOL priv;
    ck_assert_uint_eq(PKCS11_PAL_GetObjectValue(kept, NULL, &len, &priv), CKR_ARGUMENTS_BAD);
    ck_assert_uint_eq(PKCS11_PAL_GetObjectValue(kept, &data, NULL, &priv), CKR_ARGUMENTS_BAD);
    ck_assert_uint_eq(PKCS11_PAL_GetObjectValue(kept, &data, &len, NULL), CKR_ARGUMENTS_BAD);
    ck_assert_uint_eq(PKCS11_PAL_GetObjectValue(0, &data, &len, &priv),
                      CKR_OBJECT_HANDLE_INVALID);
    ck_assert_uint_eq(PKCS11_PAL_GetObjectValue(999, &data, &len, &priv),
                      CKR_OBJECT_HANDLE_INVALID);
    ck_assert_ptr_null(data);
    ck_assert_uint_eq(PKCS11_PAL_DestroyObject(0), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_uint_eq(PKCS11_PAL_DestroyObject(999), CKR_OBJECT_HANDLE_INVALID);
    PKCS11_PAL_GetObjectValueCleanup(NULL, 0);

    /* Nothing else was lost. */
    lwss_nvm_close();
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    ck_assert_uint_eq(PKCS11_PAL_GetObjectValue(PKCS11_PAL_FindObject((CK_BYTE_PTR) "Device Cert",
                                                                      11),
                                                &data, &len, &priv),
                      CKR_OK);
    ck_assert_uint_eq(len, sizeof(val));
    ck_assert_mem_eq(data, val, len);
    PKCS11_PAL_GetObjectValueCleanup(data, len);
}
END_TEST

START_TEST(test_nvm_bad_arguments_and_state)
{
    uint8_t val[8] = {0};
    lwss_nvm_meta m = lwss_tnvm_meta("x", CKO_DATA, 0);
    ck_assert_uint_eq(lwss_nvm_save(&m, val, sizeof(val)), 0);
    ck_assert_int_eq(lwss_nvm_last_status(), LWSS_ERR_STATE);
    uint8_t *data;
    size_t len;
    ck_assert_int_eq(lwss_nvm_get_value(1, &data, &len), LWSS_ERR_STATE);
    ck_assert_int_eq(lwss_nvm_destroy(1), LWSS_ERR_STATE);

    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    ck_assert_int_eq(lwss_nvm_open(NULL), 0); /* idempotent */
    ck_assert_int_eq(lwss_nvm_set_path("/tmp/other"), LWSS_ERR_BUSY);
    ck_assert_uint_eq(lwss_nvm_save(NULL, val, sizeof(val)), 0);
    ck_assert_int_eq(lwss_nvm_last_status(), LWSS_ERR_INVAL);
    lwss_nvm_meta bad = m;
    bad.label_len = 0;
    ck_assert_uint_eq(lwss_nvm_save(&bad, val, sizeof(val)), 0);
    bad.label_len = LWSS_NVM_LABEL_MAX + 1;
    ck_assert_uint_eq(lwss_nvm_save(&bad, val, sizeof(val)), 0);
    bad = m;
    bad.id_len = LWSS_NVM_ID_MAX + 1;
    ck_assert_uint_eq(lwss_nvm_save(&bad, val, sizeof(val)), 0);
    bad = m;
    bad.cls = LWSS_NVM_ANY_CLASS; /* the wildcard of finds is no class */
    ck_assert_uint_eq(lwss_nvm_save(&bad, val, sizeof(val)), 0);
    ck_assert_int_eq(lwss_nvm_last_status(), LWSS_ERR_INVAL);
    ck_assert_uint_eq(lwss_nvm_save(&m, NULL, 4), 0);
    ck_assert_uint_eq(lwss_nvm_save(&m, val, 0), 0);
    ck_assert_uint_eq(lwss_nvm_find(NULL, 3, CKO_DATA), 0);
    ck_assert_int_eq(lwss_nvm_get_value(77, &data, &len), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_nvm_get_value(1, NULL, &len), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_nvm_get_meta(1, NULL), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_nvm_destroy(0), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_nvm_list(NULL, 3, &len), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_nvm_list(NULL, 0, NULL), LWSS_ERR_INVAL);
    lwss_nvm_close();
    lwss_nvm_close(); /* safe when closed */
}
END_TEST

START_TEST(test_full_image_loses_nothing)
{
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    char label[16];
    int saved = 0;
    for (int i = 0; i < 100; i++) {
        snprintf(label, sizeof(label), "obj%d", i);
        uint8_t val[300];
        lwss_tnvm_pattern(val, sizeof(val), (uint32_t)i);
        lwss_nvm_meta m = lwss_tnvm_meta(label, CKO_DATA, 0);
        if (lwss_nvm_save(&m, val, sizeof(val)) == 0) {
            ck_assert_int_eq(lwss_nvm_last_status(), LWSS_NVM_ERR_FULL);
            ck_assert_ptr_nonnull(strstr(lwss_last_error(), "full"));
            break;
        }
        saved++;
    }
    ck_assert_int_gt(saved, 5);
    ck_assert_int_lt(saved, 100);
    /* Replacing an existing object on a full image may fail, never lose it. */
    for (int v = 0; v < 20; v++) {
        uint8_t val[300];
        lwss_tnvm_pattern(val, sizeof(val), 1000u + (uint32_t)v);
        lwss_nvm_meta m = lwss_tnvm_meta("obj0", CKO_DATA, 0);
        (void)lwss_nvm_save(&m, val, sizeof(val));
    }
    lwss_nvm_close();
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
    for (int i = 1; i < saved; i++) {
        snprintf(label, sizeof(label), "obj%d", i);
        ck_assert_msg(lwss_tnvm_has(label, 300, (uint32_t)i), "%s lost", label);
    }
    int obj0 = lwss_tnvm_has("obj0", 300, 0);
    for (uint32_t v = 0; v < 20; v++) {
        obj0 |= lwss_tnvm_has("obj0", 300, 1000u + v);
    }
    ck_assert_msg(obj0, "obj0 lost");
    /* Destroying makes room again. */
    for (int i = 1; i < saved; i++) {
        snprintf(label, sizeof(label), "obj%d", i);
        ck_assert_int_eq(lwss_nvm_destroy(lwss_nvm_find((uint8_t *)label, strlen(label),
                                                        CKO_DATA)),
                         0);
    }
    lwss_tnvm_put("after", 400, 5);
    ck_assert(lwss_tnvm_has("after", 400, 5));
}
END_TEST

START_TEST(test_object_limit)
{
    setenv("LWSS_NVM_MAX_OBJECTS", "4", 1);
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    for (uint32_t i = 0; i < 4; i++) {
        char label[8];
        snprintf(label, sizeof(label), "o%u", i);
        lwss_tnvm_put(label, 10, i);
    }
    lwss_nvm_meta m = lwss_tnvm_meta("o4", CKO_DATA, 0);
    ck_assert_uint_eq(lwss_nvm_save(&m, (const uint8_t *)"abc", 3), 0);
    ck_assert_int_eq(lwss_nvm_last_status(), LWSS_NVM_ERR_FULL);
    lwss_tnvm_put("o1", 10, 9); /* replacing stays possible */
    ck_assert(lwss_tnvm_has("o1", 10, 9));
    unsetenv("LWSS_NVM_MAX_OBJECTS");
}
END_TEST

START_TEST(test_geometry_and_version_refused)
{
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    lwss_tnvm_put("keep", 40, 1);
    lwss_nvm_close();
    lwss_nvm_geometry other = {LWSS_NVM_DEFAULT_SIZE, LWSS_NVM_DEFAULT_SECTOR};
    ck_assert_int_eq(lwss_nvm_open(&other), LWSS_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "geometry"));
    setenv("LWSS_NVM_SECTOR", "1024", 1);
    ck_assert_int_eq(lwss_nvm_open(NULL), LWSS_ERR_INVAL);
    unsetenv("LWSS_NVM_SECTOR");
    lwss_nvm_geometry silly = {1000, 300};
    ck_assert_int_eq(lwss_nvm_open(&silly), LWSS_ERR_INVAL);

    size_t len;
    uint8_t *img = lwss_tnvm_read_image(&len);
    uint8_t *patched = malloc(len);
    ck_assert_ptr_nonnull(patched);
    memcpy(patched, img, len);
    for (size_t s = 0; s < len; s += 512) {
        patched[s + 4] = 2; /* format version 2, with a matching CRC */
        lwss_put_le32(patched + s + 20, lwss_crc32(0, patched + s, 20));
    }
    lwss_tnvm_write_image(patched, len);
    ck_assert_int_eq(lwss_nvm_open(NULL), LWSS_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "version 2"));
    size_t len2;
    uint8_t *after = lwss_tnvm_read_image(&len2);
    ck_assert_uint_eq(len2, len);
    ck_assert_mem_eq(after, patched, len); /* refused, untouched */
    free(after);

    /* Not an image at all: refused, untouched. */
    memset(patched, 0x5A, len);
    lwss_tnvm_write_image(patched, len);
    ck_assert_int_eq(lwss_nvm_open(NULL), LWSS_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "not an lwss NVM image"));
    after = lwss_tnvm_read_image(&len2);
    ck_assert_mem_eq(after, patched, len);
    free(after);

    /* All zeros (or zeros and 0xFF) is no image and no erased flash:
     * refused, never formatted (issue 14). */
    memset(patched, 0x00, len);
    memset(patched, 0xFF, len / 3);
    lwss_tnvm_write_image(patched, len);
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), LWSS_ERR_INVAL);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "not an lwss NVM image"));
    memset(patched, 0x00, len);
    lwss_tnvm_write_image(patched, len);
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), LWSS_ERR_INVAL);
    after = lwss_tnvm_read_image(&len2);
    ck_assert_mem_eq(after, patched, len);
    free(after);

    /* A creation cut half-way (a shorter file of 0xFF): finished and formatted. */
    memset(patched, 0xFF, len);
    lwss_tnvm_write_image(patched, len / 3);
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    lwss_tnvm_put("fresh", 40, 2);
    lwss_nvm_close();
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
    ck_assert(lwss_tnvm_has("fresh", 40, 2));
    lwss_nvm_close();

    lwss_tnvm_write_image(img, len);
    ck_assert_int_eq(lwss_nvm_open(NULL), 0); /* adopts the image's own geometry */
    ck_assert(lwss_tnvm_has("keep", 40, 1));
    free(img);
    free(patched);
}
END_TEST

/* A save cut inside its body (a power loss) leaves a record the store
 * skips: reported as an interrupted write, not as damage, both before and
 * after the retry that reuses its sequence number.  A bit flip in a
 * committed record still counts as damage. */
START_TEST(test_interrupted_write_is_not_damage)
{
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    lwss_tnvm_put("a", 120, 1);
    lwss_tnvm_put("b", 120, 1);
    /* header (1 op) + label (1 op) + data: cut 10 bytes into the data */
    lwss_flash_fault_arm(2, 10);
    uint8_t buf[120];
    lwss_tnvm_pattern(buf, sizeof(buf), 2);
    lwss_nvm_meta m = lwss_tnvm_meta("a", CKO_DATA, 0);
    ck_assert_uint_eq(lwss_nvm_save(&m, buf, sizeof(buf)), 0);
    ck_assert(lwss_flash_fault_tripped());
    lwss_flash_fault_disarm();
    lwss_nvm_close();

    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0); /* the newest write, cut: not damage */
    ck_assert(lwss_tnvm_has("a", 120, 1));          /* the old version is in force */
    lwss_tnvm_put("a", 120, 2);                    /* the retry reuses the sequence */
    lwss_nvm_close();
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
    ck_assert(lwss_tnvm_has("a", 120, 2));
    ck_assert(lwss_tnvm_has("b", 120, 1));
    lwss_nvm_close();

    /* flip one bit in the middle of b's committed body */
    size_t len;
    uint8_t *img = lwss_tnvm_read_image(&len);
    uint8_t want[120];
    lwss_tnvm_pattern(want, sizeof(want), 1);
    uint8_t *at = memmem(img, len, want, sizeof(want));
    ck_assert_ptr_nonnull(at);
    at[60] ^= 0x10;
    lwss_tnvm_write_image(img, len);
    free(img);
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    ck_assert_uint_gt(lwss_nvm_damage_count(), 0);
    lwss_nvm_close();
}
END_TEST

/* Sector 0's header gone and a forged header of another geometry inside
 * it: the geometry the other sectors agree on still wins. */
START_TEST(test_geometry_by_majority)
{
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    for (uint32_t i = 0; i < 12; i++) {
        char label[8];
        snprintf(label, sizeof(label), "g%u", i);
        lwss_tnvm_put(label, 900, i);
    }
    lwss_nvm_close();
    size_t len;
    uint8_t *img = lwss_tnvm_read_image(&len);
    memset(img, 0, LWSS_NVM_SHDR_OBSOLETE_OFF); /* header gone, not marked obsolete */
    lwss_shdr_encode_static(img + 512, (uint32_t)len, 512, 0);
    lwss_tnvm_write_image(img, len);
    free(img);
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    ck_assert_uint_gt(lwss_nvm_damage_count(), 0);
    int found = 0;
    for (uint32_t i = 0; i < 12; i++) {
        char label[8];
        snprintf(label, sizeof(label), "g%u", i);
        found += lwss_tnvm_has(label, 900, i);
    }
    /* The forged header overwrote part of one record; sector 0's other
     * records are recovered from behind its broken header. */
    ck_assert_int_eq(found, 11);
    for (uint32_t v = 0; v < 80; v++) {
        lwss_tnvm_put("later", 900, 99 + v); /* collections run, sector 0 included */
    }
    lwss_nvm_close();
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
    ck_assert(lwss_tnvm_has("later", 900, 178));
    found = 0;
    for (uint32_t i = 0; i < 12; i++) {
        char label[8];
        snprintf(label, sizeof(label), "g%u", i);
        found += lwss_tnvm_has(label, 900, i);
    }
    ck_assert_int_eq(found, 11);
}
END_TEST

START_TEST(test_path_from_env)
{
    lwss_nvm_set_path(NULL);
    setenv("LWSS_NVM", lwss_tnvm_path(), 1);
    ck_assert_str_eq(lwss_nvm_path(), lwss_tnvm_path());
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    lwss_tnvm_put("env", 5, 1);
    lwss_nvm_close();
    unsetenv("LWSS_NVM");
    ck_assert_str_eq(lwss_nvm_path(), "lwss-nvm.img");
    ck_assert_int_eq(lwss_nvm_set_path(lwss_tnvm_path()), 0);
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    ck_assert(lwss_tnvm_has("env", 5, 1));
}
END_TEST

void lwss_tnvm_add_api(Suite *s)
{
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, lwss_tnvm_setup, lwss_tnvm_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_create_mode_and_roundtrip);
    tcase_add_test(tc, test_pal_reference_labels);
    tcase_add_test(tc, test_pal_bad_arguments);
    tcase_add_test(tc, test_nvm_bad_arguments_and_state);
    tcase_add_test(tc, test_full_image_loses_nothing);
    tcase_add_test(tc, test_object_limit);
    tcase_add_test(tc, test_geometry_and_version_refused);
    tcase_add_test(tc, test_geometry_by_majority);
    tcase_add_test(tc, test_interrupted_write_is_not_damage);
    tcase_add_test(tc, test_path_from_env);
    suite_add_tcase(s, tc);
}
