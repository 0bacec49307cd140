/* PKCS #11 token: objects, finds, attributes, persistence (suite pkcs11_objects). */
#include "tests/support/test_pkcs11.h"
#include "src/pkcs11/token.h"

#include <mbedtls/ecp.h>
#include <mbedtls/x509_crt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LBL_PRIV pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS
#define LBL_PUB pkcs11configLABEL_DEVICE_PUBLIC_KEY_FOR_TLS
#define LBL_CERT pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS

static void cert_der(const char *pem, mbedtls_x509_crt *crt)
{
    mbedtls_x509_crt_init(crt);
    ck_assert_int_eq(mbedtls_x509_crt_parse(crt, (const unsigned char *)pem, strlen(pem) + 1), 0);
}

static CK_OBJECT_HANDLE create_data(CK_SESSION_HANDLE s, const char *label, const char *val)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_LABEL, (void *)label, strlen(label)},
                        {CKA_VALUE, (void *)val, strlen(val)}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_CreateObject(s, t, 3, &h), CKR_OK);
    return h;
}

START_TEST(find_exact_label_and_class)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE priv = lwss_p11t_import_key(s, LBL_PRIV, lwss_p11t_ec_key_pem,
                                                 LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE pub = lwss_p11t_import_key(s, LBL_PUB, lwss_p11t_ec_key_pem,
                                                LWSS_PKCS11_PUBLIC);
    CK_OBJECT_HANDLE cert = lwss_p11t_import_cert(s, LBL_CERT, lwss_p11t_ec_crt_pem);
    CK_OBJECT_HANDLE f[4];
    ck_assert_uint_eq(lwss_p11t_find(s, LBL_PRIV, CKO_PRIVATE_KEY, f, 4), 1);
    ck_assert_uint_eq(f[0], priv);
    ck_assert_uint_eq(lwss_p11t_find(s, LBL_PUB, CKO_PUBLIC_KEY, f, 4), 1);
    ck_assert_uint_eq(f[0], pub);
    ck_assert_uint_eq(lwss_p11t_find(s, LBL_CERT, CKO_CERTIFICATE, f, 4), 1);
    ck_assert_uint_eq(f[0], cert);
    /* labels are not prefixes (reference defect), classes are respected */
    ck_assert_uint_eq(lwss_p11t_find(s, "Device Cer", CK_UNAVAILABLE_INFORMATION, f, 4), 0);
    ck_assert_uint_eq(lwss_p11t_find(s, "Device Cert ", CK_UNAVAILABLE_INFORMATION, f, 4), 0);
    ck_assert_uint_eq(lwss_p11t_find(s, "Device", CK_UNAVAILABLE_INFORMATION, f, 4), 0);
    ck_assert_uint_eq(lwss_p11t_find(s, LBL_CERT, CKO_PRIVATE_KEY, f, 4), 0);
    ck_assert_uint_eq(lwss_p11t_find(s, LBL_PRIV, CKO_PUBLIC_KEY, f, 4), 0);
    ck_assert_uint_eq(lwss_p11t_find(s, "Missing", CKO_CERTIFICATE, f, 4), 0);
    /* one label shared by the two halves of a pair: told apart by class */
    CK_OBJECT_HANDLE kp = lwss_p11t_import_key(s, "pair", lwss_p11t_ec_key_pem,
                                               LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE kq = lwss_p11t_import_key(s, "pair", lwss_p11t_ec_key_pem,
                                               LWSS_PKCS11_PUBLIC);
    ck_assert(kp != kq);
    ck_assert_uint_eq(lwss_p11t_find(s, "pair", CK_UNAVAILABLE_INFORMATION, f, 4), 2);
    ck_assert_uint_eq(lwss_p11t_find(s, "pair", CKO_PRIVATE_KEY, f, 4), 1);
    ck_assert_uint_eq(f[0], kp);
    ck_assert_uint_eq(lwss_p11t_find(s, NULL, CKO_PUBLIC_KEY, f, 4), 2);
}
END_TEST

START_TEST(find_cursor_ends)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    char label[16];
    for (int i = 0; i < 7; i++) {
        snprintf(label, sizeof(label), "data-%d", i);
        create_data(s, label, "v");
    }
    CK_OBJECT_HANDLE h[16];
    CK_ULONG got = 0;
    ck_assert_int_eq(C_FindObjects(s, h, 1, &got), CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_int_eq(C_FindObjectsInit(s, NULL, 0), CKR_OK);
    ck_assert_int_eq(C_FindObjectsInit(s, NULL, 0), CKR_OPERATION_ACTIVE);
    size_t total = 0;
    for (int i = 0; i < 7; i++) {
        ck_assert_int_eq(C_FindObjects(s, h + total, 1, &got), CKR_OK);
        ck_assert_uint_eq(got, 1);
        total += got;
    }
    for (int i = 0; i < 3; i++) { /* ends at 0, and stays there */
        ck_assert_int_eq(C_FindObjects(s, h, 5, &got), CKR_OK);
        ck_assert_uint_eq(got, 0);
    }
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OK);
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OPERATION_NOT_INITIALIZED);
    for (size_t i = 0; i < total; i++) {
        for (size_t j = i + 1; j < total; j++) {
            ck_assert(h[i] != h[j]);
        }
    }
    ck_assert_int_eq(C_FindObjectsInit(s, NULL, 0), CKR_OK);
    ck_assert_int_eq(C_FindObjects(s, h, 16, &got), CKR_OK);
    ck_assert_uint_eq(got, 7);
    ck_assert_int_eq(C_FindObjects(s, h, 16, &got), CKR_OK);
    ck_assert_uint_eq(got, 0);
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OK);
    /* find by value */
    CK_ATTRIBUTE by_val = {CKA_VALUE, "v", 1};
    ck_assert_int_eq(C_FindObjectsInit(s, &by_val, 1), CKR_OK);
    ck_assert_int_eq(C_FindObjects(s, h, 16, &got), CKR_OK);
    ck_assert_uint_eq(got, 7);
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OK);
}
END_TEST

START_TEST(find_by_id_and_key_type)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    const unsigned char id[] = {0x01, 0x02};
    CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
    ck_assert_int_eq(lwss_pkcs11_import_key(s, "ec", id, sizeof(id),
                                            (const unsigned char *)lwss_p11t_ec_key_pem,
                                            strlen(lwss_p11t_ec_key_pem), LWSS_PKCS11_PRIVATE,
                                            &priv),
                     CKR_OK);
    lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem, LWSS_PKCS11_PRIVATE);
    CK_KEY_TYPE kt = CKK_RSA;
    CK_ATTRIBUTE by_type = {CKA_KEY_TYPE, &kt, sizeof(kt)};
    CK_OBJECT_HANDLE h[4];
    CK_ULONG got = 0;
    ck_assert_int_eq(C_FindObjectsInit(s, &by_type, 1), CKR_OK);
    ck_assert_int_eq(C_FindObjects(s, h, 4, &got), CKR_OK);
    ck_assert_uint_eq(got, 1);
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OK);
    CK_ATTRIBUTE by_id = {CKA_ID, (void *)id, sizeof(id)};
    ck_assert_int_eq(C_FindObjectsInit(s, &by_id, 1), CKR_OK);
    ck_assert_int_eq(C_FindObjects(s, h, 4, &got), CKR_OK);
    ck_assert_uint_eq(got, 1);
    ck_assert_uint_eq(h[0], priv);
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OK);
    /* a sensitive attribute never matches, even with the right value */
    CK_ATTRIBUTE by_secret = {CKA_VALUE, "x", 1};
    ck_assert_int_eq(C_FindObjectsInit(s, &by_secret, 1), CKR_OK);
    ck_assert_int_eq(C_FindObjects(s, h, 4, &got), CKR_OK);
    ck_assert_uint_eq(got, 0);
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OK);
}
END_TEST

START_TEST(attributes_ec_and_cert)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE priv = lwss_p11t_import_key(s, LBL_PRIV, lwss_p11t_ec_key_pem,
                                                 LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE pub = lwss_p11t_import_key(s, LBL_PUB, lwss_p11t_ec_key_pem,
                                                LWSS_PKCS11_PUBLIC);
    CK_OBJECT_HANDLE cert = lwss_p11t_import_cert(s, LBL_CERT, lwss_p11t_ec_crt_pem);
    mbedtls_x509_crt crt;
    cert_der(lwss_p11t_ec_crt_pem, &crt);
    uint8_t buf[2048];
    CK_ATTRIBUTE a = {CKA_VALUE, NULL, 0};
    ck_assert_int_eq(C_GetAttributeValue(s, cert, &a, 1), CKR_OK);
    ck_assert_uint_eq(a.ulValueLen, crt.raw.len);
    a.pValue = buf;
    a.ulValueLen = 10;
    ck_assert_int_eq(C_GetAttributeValue(s, cert, &a, 1), CKR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    a.ulValueLen = sizeof(buf);
    ck_assert_int_eq(C_GetAttributeValue(s, cert, &a, 1), CKR_OK);
    ck_assert_mem_eq(buf, crt.raw.p, crt.raw.len);
    CK_ATTRIBUTE subj = {CKA_SUBJECT, buf, sizeof(buf)};
    ck_assert_int_eq(C_GetAttributeValue(s, cert, &subj, 1), CKR_OK);
    ck_assert_uint_eq(subj.ulValueLen, crt.subject_raw.len);
    ck_assert_mem_eq(buf, crt.subject_raw.p, crt.subject_raw.len);
    /* private value: SENSITIVE, length unavailable, buffer untouched */
    memset(buf, 0xAA, sizeof(buf));
    CK_ATTRIBUTE sv = {CKA_VALUE, buf, sizeof(buf)};
    ck_assert_int_eq(C_GetAttributeValue(s, priv, &sv, 1), CKR_ATTRIBUTE_SENSITIVE);
    ck_assert_uint_eq(sv.ulValueLen, CK_UNAVAILABLE_INFORMATION);
    for (size_t i = 0; i < sizeof(buf); i++) {
        ck_assert_uint_eq(buf[i], 0xAA);
    }
    uint8_t params[32];
    CK_ATTRIBUTE pa = {CKA_EC_PARAMS, params, sizeof(params)};
    ck_assert_int_eq(C_GetAttributeValue(s, priv, &pa, 1), CKR_OK);
    ck_assert_uint_eq(pa.ulValueLen, 10);
    ck_assert_mem_eq(params, "\x06\x08\x2A\x86\x48\xCE\x3D\x03\x01\x07", 10);
    /* EC point of the public key: DER OCTET STRING 04 41 04 X Y */
    uint8_t point[80];
    CK_BBOOL sign = 0;
    CK_KEY_TYPE kt = 0;
    CK_ATTRIBUTE several[] = {{CKA_EC_POINT, point, sizeof(point)},
                              {CKA_KEY_TYPE, &kt, sizeof(kt)},
                              {CKA_MODULUS, buf, sizeof(buf)},
                              {CKA_VERIFY, &sign, sizeof(sign)}};
    ck_assert_int_eq(C_GetAttributeValue(s, pub, several, 4), CKR_ATTRIBUTE_TYPE_INVALID);
    ck_assert_uint_eq(several[0].ulValueLen, 67);
    ck_assert_uint_eq(several[2].ulValueLen, CK_UNAVAILABLE_INFORMATION);
    ck_assert_uint_eq(kt, CKK_EC);
    ck_assert_uint_eq(sign, CK_TRUE);
    ck_assert_mem_eq(point, "\x04\x41\x04", 3);
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_ec_key_pem, &pk);
    uint8_t want[65];
    size_t n = 0;
    ck_assert_int_eq(mbedtls_ecp_point_write_binary(&mbedtls_pk_ec(pk)->grp, &mbedtls_pk_ec(pk)->Q,
                                                    MBEDTLS_ECP_PF_UNCOMPRESSED, &n, want,
                                                    sizeof(want)),
                     0);
    ck_assert_mem_eq(point + 2, want, 65);
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
}
END_TEST

START_TEST(attributes_rsa_private_never_readable)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE priv = lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem,
                                                 LWSS_PKCS11_PRIVATE);
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_rsa_key_pem, &pk);
    uint8_t n_buf[256];
    ck_assert_int_eq(mbedtls_mpi_write_binary(&mbedtls_pk_rsa(pk)->N, n_buf, sizeof(n_buf)), 0);
    uint8_t mod[300];
    CK_ATTRIBUTE m = {CKA_MODULUS, mod, sizeof(mod)};
    ck_assert_int_eq(C_GetAttributeValue(s, priv, &m, 1), CKR_OK);
    ck_assert_uint_eq(m.ulValueLen, 256);
    ck_assert_mem_eq(mod, n_buf, 256);
    const CK_ATTRIBUTE_TYPE secret[] = {CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
                                        CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
                                        CKA_VALUE};
    for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++) {
        uint8_t buf[300];
        memset(buf, 0x5A, sizeof(buf));
        CK_ATTRIBUTE a = {secret[i], buf, sizeof(buf)};
        ck_assert_int_eq(C_GetAttributeValue(s, priv, &a, 1), CKR_ATTRIBUTE_SENSITIVE);
        ck_assert_uint_eq(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
        ck_assert_uint_eq(buf[0], 0x5A);
        a.pValue = NULL; /* length queries too */
        ck_assert_int_eq(C_GetAttributeValue(s, priv, &a, 1), CKR_ATTRIBUTE_SENSITIVE);
    }
    CK_BBOOL sens = 0;
    CK_BBOOL extr = 1;
    CK_ATTRIBUTE flags[] = {{CKA_SENSITIVE, &sens, 1}, {CKA_EXTRACTABLE, &extr, 1}};
    ck_assert_int_eq(C_GetAttributeValue(s, priv, flags, 2), CKR_OK);
    ck_assert(sens == CK_TRUE && extr == CK_FALSE);
    mbedtls_pk_free(&pk);
}
END_TEST

START_TEST(destroy_then_gone)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE cert = lwss_p11t_import_cert(s, LBL_CERT, lwss_p11t_ec_crt_pem);
    CK_SESSION_HANDLE ro = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    ck_assert_int_eq(C_DestroyObject(ro, cert), CKR_SESSION_READ_ONLY);
    ck_assert_int_eq(C_DestroyObject(s, cert), CKR_OK);
    CK_OBJECT_HANDLE f[2];
    ck_assert_uint_eq(lwss_p11t_find(s, LBL_CERT, CKO_CERTIFICATE, f, 2), 0);
    CK_ATTRIBUTE a = {CKA_CLASS, NULL, 0};
    ck_assert_int_eq(C_GetAttributeValue(s, cert, &a, 1), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_int_eq(C_DestroyObject(s, cert), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_int_eq(C_DestroyObject(s, 0), CKR_OBJECT_HANDLE_INVALID);
}
END_TEST

/* Every refused template leaves the image byte for byte as it was. */
START_TEST(bad_templates_change_nothing)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    lwss_p11t_import_cert(s, LBL_CERT, lwss_p11t_ec_crt_pem);
    size_t before_len = 0;
    uint8_t *before = lwss_p11t_read_file(lwss_p11t_image(), &before_len);
    ck_assert_ptr_nonnull(before);
    CK_OBJECT_CLASS cert = CKO_CERTIFICATE;
    CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY;
    CK_KEY_TYPE ec = CKK_EC;
    CK_BBOOL no = CK_FALSE;
    const uint8_t p521[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23};
    uint8_t d[32];
    memset(d, 7, sizeof(d));
    char long_label[70];
    memset(long_label, 'x', sizeof(long_label));
    CK_ATTRIBUTE no_class[] = {{CKA_LABEL, "x", 1}, {CKA_VALUE, "abc", 3}};
    CK_ATTRIBUTE bad_der[] = {{CKA_CLASS, &cert, sizeof(cert)}, {CKA_LABEL, LBL_CERT, 11},
                              {CKA_VALUE, "\x30\x03\x02\x01\x00", 5}};
    CK_ATTRIBUTE curve[] = {{CKA_CLASS, &priv, sizeof(priv)}, {CKA_KEY_TYPE, &ec, sizeof(ec)},
                            {CKA_EC_PARAMS, (void *)p521, sizeof(p521)}, {CKA_VALUE, d, 32}};
    CK_ATTRIBUTE short_class[] = {{CKA_CLASS, &cert, 2}, {CKA_VALUE, "a", 1}};
    CK_ATTRIBUTE unknown[] = {{CKA_CLASS, &cert, sizeof(cert)}, {0x80001234UL, "a", 1}};
    CK_ATTRIBUTE twice[] = {{CKA_CLASS, &cert, sizeof(cert)}, {CKA_LABEL, "a", 1},
                            {CKA_LABEL, "b", 1}};
    CK_ATTRIBUTE session_obj[] = {{CKA_CLASS, &cert, sizeof(cert)}, {CKA_TOKEN, &no, 1}};
    CK_ATTRIBUTE too_long[] = {{CKA_CLASS, &cert, sizeof(cert)},
                               {CKA_LABEL, long_label, sizeof(long_label)}};
    CK_ATTRIBUTE no_value[] = {{CKA_CLASS, &priv, sizeof(priv)}, {CKA_KEY_TYPE, &ec, sizeof(ec)},
                               {CKA_EC_PARAMS, "\x06\x08\x2A\x86\x48\xCE\x3D\x03\x01\x07", 10}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_CreateObject(s, no_class, 2, &h), CKR_TEMPLATE_INCOMPLETE);
    ck_assert_int_eq(C_CreateObject(s, bad_der, 3, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    ck_assert_int_eq(C_CreateObject(s, curve, 4, &h), CKR_CURVE_NOT_SUPPORTED);
    ck_assert_int_eq(C_CreateObject(s, short_class, 2, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    ck_assert_int_eq(C_CreateObject(s, unknown, 2, &h), CKR_ATTRIBUTE_TYPE_INVALID);
    ck_assert_int_eq(C_CreateObject(s, twice, 3, &h), CKR_TEMPLATE_INCONSISTENT);
    ck_assert_int_eq(C_CreateObject(s, session_obj, 2, &h), CKR_TEMPLATE_INCOMPLETE); /* no value */
    ck_assert_int_eq(C_CreateObject(s, too_long, 2, &h), CKR_ATTRIBUTE_VALUE_INVALID);
    ck_assert_int_eq(C_CreateObject(s, no_value, 3, &h), CKR_TEMPLATE_INCOMPLETE);
    ck_assert_int_eq(C_CreateObject(s, NULL, 1, &h), CKR_ARGUMENTS_BAD);
    char p521_pem[1024];
    lwss_p11t_p521_pem(p521_pem, sizeof(p521_pem));
    ck_assert_int_eq(lwss_pkcs11_import_key(s, "k", NULL, 0, (const unsigned char *)p521_pem,
                                            strlen(p521_pem), LWSS_PKCS11_PRIVATE, &h),
                     CKR_CURVE_NOT_SUPPORTED);
    ck_assert_int_eq(lwss_pkcs11_import_key(s, "k", NULL, 0,
                                            (const unsigned char *)lwss_p11t_rsa1024_key_pem,
                                            strlen(lwss_p11t_rsa1024_key_pem),
                                            LWSS_PKCS11_PRIVATE, &h),
                     CKR_KEY_SIZE_RANGE);
    ck_assert_int_eq(lwss_pkcs11_import_cert(s, "c", NULL, 0, (const unsigned char *)"-----BEGIN junk", 15,
                                             &h),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    CK_SESSION_HANDLE ro = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    ck_assert_int_eq(lwss_pkcs11_import_cert(ro, "c", NULL, 0, (const unsigned char *)lwss_p11t_ec_crt_pem,
                                             strlen(lwss_p11t_ec_crt_pem), &h),
                     CKR_SESSION_READ_ONLY);
    size_t after_len = 0;
    uint8_t *after = lwss_p11t_read_file(lwss_p11t_image(), &after_len);
    ck_assert_uint_eq(after_len, before_len);
    ck_assert_int_eq(memcmp(before, after, before_len), 0);
    free(before);
    free(after);
}
END_TEST

START_TEST(create_replaces_label_and_class)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    create_data(s, "d", "first");
    CK_OBJECT_HANDLE h = create_data(s, "d", "second");
    CK_OBJECT_HANDLE f[4];
    ck_assert_uint_eq(lwss_p11t_find(s, "d", CKO_DATA, f, 4), 1);
    ck_assert_uint_eq(f[0], h);
    char buf[16];
    CK_ATTRIBUTE a = {CKA_VALUE, buf, sizeof(buf)};
    ck_assert_int_eq(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    ck_assert_uint_eq(a.ulValueLen, 6);
    ck_assert_mem_eq(buf, "second", 6);
}
END_TEST

/* The child of the persistence test: plain checks, exit status says it all. */
static int child_provision(void)
{
    if (C_Initialize(NULL) != CKR_OK) {
        return 10;
    }
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    const unsigned char id[] = {0xAB};
    if (C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) != CKR_OK) {
        return 11;
    }
    if (lwss_pkcs11_import_key(s, LBL_PRIV, id, 1, (const unsigned char *)lwss_p11t_ec_key_pem,
                               strlen(lwss_p11t_ec_key_pem), LWSS_PKCS11_PRIVATE, &h) != CKR_OK ||
        lwss_pkcs11_import_key(s, LBL_PUB, id, 1, (const unsigned char *)lwss_p11t_ec_key_pem,
                               strlen(lwss_p11t_ec_key_pem), LWSS_PKCS11_PUBLIC, &h) != CKR_OK ||
        lwss_pkcs11_import_cert(s, LBL_CERT, id, 1, (const unsigned char *)lwss_p11t_ec_crt_pem,
                                strlen(lwss_p11t_ec_crt_pem), &h) != CKR_OK) {
        return 12;
    }
    return C_Finalize(NULL) == CKR_OK ? 0 : 13;
}

static void get_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t, uint8_t *buf,
                     CK_ULONG *len)
{
    CK_ATTRIBUTE a = {t, buf, *len};
    ck_assert_int_eq(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    *len = a.ulValueLen;
}

START_TEST(objects_persist_across_processes)
{
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK); /* the image is locked while open */
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        _exit(child_provision());
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: %d", status);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE f[2];
    ck_assert_uint_eq(lwss_p11t_find(s, LBL_CERT, CKO_CERTIFICATE, f, 2), 1);
    mbedtls_x509_crt crt;
    cert_der(lwss_p11t_ec_crt_pem, &crt);
    uint8_t buf[2048];
    CK_ULONG len = sizeof(buf);
    get_attr(s, f[0], CKA_VALUE, buf, &len);
    ck_assert_uint_eq(len, crt.raw.len);
    ck_assert_mem_eq(buf, crt.raw.p, len);
    len = sizeof(buf);
    get_attr(s, f[0], CKA_ID, buf, &len);
    ck_assert_uint_eq(len, 1);
    ck_assert_uint_eq(buf[0], 0xAB);
    ck_assert_uint_eq(lwss_p11t_find(s, LBL_PUB, CKO_PUBLIC_KEY, f, 2), 1);
    len = sizeof(buf);
    get_attr(s, f[0], CKA_EC_POINT, buf, &len);
    ck_assert_uint_eq(len, 67);
    ck_assert_uint_eq(lwss_p11t_find(s, LBL_PRIV, CKO_PRIVATE_KEY, f, 2), 1);
    /* the private key that came back signs for the same public key */
    uint8_t hash[32];
    uint8_t sig[64];
    uint8_t der[80];
    lwss_p11t_sha256("persist", 7, hash);
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &ecdsa, f[0]), CKR_OK);
    CK_ULONG sig_len = sizeof(sig);
    ck_assert_int_eq(C_Sign(s, hash, 32, sig, &sig_len), CKR_OK);
    size_t der_len = lwss_p11t_ecdsa_raw_to_der(sig, der, sizeof(der));
    ck_assert_int_eq(mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, hash, 32, der, der_len), 0);
    mbedtls_x509_crt_free(&crt);
}
END_TEST

/* Key-pair generation is all or nothing on the image (reference defect). */
START_TEST(keygen_all_or_nothing)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    const uint8_t oid[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
    CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, (void *)oid, sizeof(oid)}, {CKA_LABEL, "gk", 2}};
    CK_ATTRIBUTE priv_t[] = {{CKA_LABEL, "gk", 2}};
    CK_OBJECT_HANDLE pub = 0;
    CK_OBJECT_HANDLE priv = 0;
    CK_OBJECT_HANDLE f[4];
    lwss_p11_fault_save(2); /* the public half's save fails */
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pub_t, 2, priv_t, 1, &pub, &priv),
                     CKR_DEVICE_ERROR);
    ck_assert_uint_eq(lwss_p11t_find(s, "gk", CK_UNAVAILABLE_INFORMATION, f, 4), 0);
    /* with an existing private key of that label: it is put back */
    lwss_p11t_import_key(s, "gk", lwss_p11t_ec_key_pem, LWSS_PKCS11_PRIVATE);
    lwss_p11_fault_save(2);
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pub_t, 2, priv_t, 1, &pub, &priv),
                     CKR_DEVICE_ERROR);
    ck_assert_uint_eq(lwss_p11t_find(s, "gk", CK_UNAVAILABLE_INFORMATION, f, 4), 1);
    mbedtls_x509_crt crt;
    cert_der(lwss_p11t_ec_crt_pem, &crt);
    uint8_t hash[32];
    uint8_t sig[64];
    uint8_t der[80];
    lwss_p11t_sha256("old key", 7, hash);
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &ecdsa, f[0]), CKR_OK);
    CK_ULONG sig_len = sizeof(sig);
    ck_assert_int_eq(C_Sign(s, hash, 32, sig, &sig_len), CKR_OK);
    size_t der_len = lwss_p11t_ecdsa_raw_to_der(sig, der, sizeof(der));
    ck_assert_int_eq(mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, hash, 32, der, der_len), 0);
    mbedtls_x509_crt_free(&crt);
    /* the first save failing leaves the old key too */
    lwss_p11_fault_save(1);
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pub_t, 2, priv_t, 1, &pub, &priv),
                     CKR_DEVICE_ERROR);
    ck_assert_uint_eq(lwss_p11t_find(s, "gk", CKO_PRIVATE_KEY, f, 4), 1);
    ck_assert_uint_eq(lwss_p11t_find(s, "gk", CKO_PUBLIC_KEY, f, 4), 0);
    /* and without a fault it works */
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pub_t, 2, priv_t, 1, &pub, &priv), CKR_OK);
    ck_assert_uint_eq(lwss_p11t_find(s, "gk", CK_UNAVAILABLE_INFORMATION, f, 4), 2);
}
END_TEST

/* C_CloseSession releases find and MAC/sign state (reference defect). */
START_TEST(close_session_releases_state)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE key = lwss_p11t_import_key(s, "k", lwss_p11t_ec_key_pem, LWSS_PKCS11_PRIVATE);
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_ATTRIBUTE mac_t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                            {CKA_LABEL, "m", 1}, {CKA_VALUE, "0123456789abcdef", 16}};
    CK_OBJECT_HANDLE mac = 0;
    ck_assert_int_eq(C_CreateObject(s, mac_t, 4, &mac), CKR_OK);
    CK_SESSION_HANDLE other = lwss_p11t_session(); /* keeps the login state alive */
    /* malloc's per-thread caches count as "in use", so measure the growth
     * over many rounds after a warm-up: a leak of even the smallest state
     * (a 32-byte find cursor) would add 12 KiB over 400 rounds. */
    lwss_leak_snapshot before;
    lwss_leak_snapshot after;
    for (int i = 0; i < 420; i++) {
        if (i == 20) {
            lwss_leak_take(&before);
        }
        CK_SESSION_HANDLE t = lwss_p11t_session();
        CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
        CK_MECHANISM hmac = {CKM_SHA256_HMAC, NULL, 0};
        CK_MECHANISM sha = {CKM_SHA256, NULL, 0};
        ck_assert_int_eq(C_FindObjectsInit(t, NULL, 0), CKR_OK);
        ck_assert_int_eq(C_SignInit(t, &ecdsa, key), CKR_OK);
        ck_assert_int_eq(C_VerifyInit(t, &hmac, mac), CKR_OK);
        ck_assert_int_eq(C_VerifyUpdate(t, (CK_BYTE_PTR) "x", 1), CKR_OK);
        ck_assert_int_eq(C_DigestInit(t, &sha), CKR_OK);
        ck_assert_int_eq(C_CloseSession(t), CKR_OK);
    }
    lwss_leak_take(&after);
#if !defined(__SANITIZE_ADDRESS__)
    ck_assert_msg(after.heap < before.heap + 8192, "heap grew by %zu bytes over 400 rounds",
                  after.heap - before.heap);
#endif
    ck_assert_int_eq(C_CloseSession(other), CKR_OK);
}
END_TEST

Suite *pkcs11_objects_suite(void);

Suite *pkcs11_objects_suite(void)
{
    Suite *su = suite_create("pkcs11_objects");
    TCase *tc = tcase_create("objects");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_add_test(tc, find_exact_label_and_class);
    tcase_add_test(tc, find_cursor_ends);
    tcase_add_test(tc, find_by_id_and_key_type);
    tcase_add_test(tc, attributes_ec_and_cert);
    tcase_add_test(tc, attributes_rsa_private_never_readable);
    tcase_add_test(tc, destroy_then_gone);
    tcase_add_test(tc, bad_templates_change_nothing);
    tcase_add_test(tc, create_replaces_label_and_class);
    tcase_add_test(tc, objects_persist_across_processes);
    tcase_add_test(tc, keygen_all_or_nothing);
    tcase_add_test(tc, close_session_releases_state);
    suite_add_tcase(su, tc);
    return su;
}
