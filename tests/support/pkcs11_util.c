/* Helpers shared by the PKCS #11 suites. */
#include "tests/support/test_pkcs11.h"

#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_dir[256];
static char g_image[300];
static lwss_leak_snapshot g_snap;

const char *lwss_p11t_dir(void)
{
    return g_dir;
}

const char *lwss_p11t_image(void)
{
    return g_image;
}

void lwss_p11t_setup_uninit(void)
{
    lwss_leak_take(&g_snap);
    snprintf(g_dir, sizeof(g_dir), "/tmp/lwss-p11t-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    snprintf(g_image, sizeof(g_image), "%s/nvm.img", g_dir);
    ck_assert_int_eq(lwss_nvm_set_path(g_image), 0);
}

void lwss_p11t_setup(void)
{
    lwss_p11t_setup_uninit();
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
}

void lwss_p11t_teardown(void)
{
    (void)C_Finalize(NULL);
    char cmd[320];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    ck_assert_int_eq(system(cmd), 0);
    /* heap: the NVM layer and mbedtls keep nothing after C_Finalize */
    lwss_leak_assert(&g_snap, 0);
}

CK_SESSION_HANDLE lwss_p11t_session(void)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
                     CKR_OK);
    ck_assert(s != CK_INVALID_HANDLE);
    return s;
}

CK_OBJECT_HANDLE lwss_p11t_import_key(CK_SESSION_HANDLE s, const char *label, const char *pem,
                                      lwss_pkcs11_key_part part)
{
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = lwss_pkcs11_import_key(s, label, NULL, 0, (const unsigned char *)pem, strlen(pem),
                                      part, &h);
    ck_assert_msg(rv == CKR_OK, "import key %s: rv 0x%lx", label, rv);
    ck_assert(h != CK_INVALID_HANDLE);
    return h;
}

CK_OBJECT_HANDLE lwss_p11t_import_cert(CK_SESSION_HANDLE s, const char *label, const char *pem)
{
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = lwss_pkcs11_import_cert(s, label, NULL, 0, (const unsigned char *)pem,
                                       strlen(pem), &h);
    ck_assert_msg(rv == CKR_OK, "import cert %s: rv 0x%lx", label, rv);
    return h;
}

size_t lwss_p11t_find(CK_SESSION_HANDLE s, const char *label, CK_OBJECT_CLASS cls,
                      CK_OBJECT_HANDLE *out, size_t max)
{
    CK_ATTRIBUTE tmpl[2];
    CK_ULONG n = 0;
    if (label != NULL) {
        tmpl[n].type = CKA_LABEL;
        tmpl[n].pValue = (void *)label;
        tmpl[n].ulValueLen = strlen(label);
        n++;
    }
    if (cls != CK_UNAVAILABLE_INFORMATION) {
        tmpl[n].type = CKA_CLASS;
        tmpl[n].pValue = &cls;
        tmpl[n].ulValueLen = sizeof(cls);
        n++;
    }
    ck_assert_int_eq(C_FindObjectsInit(s, tmpl, n), CKR_OK);
    size_t total = 0;
    for (int rounds = 0; rounds < 1000; rounds++) {
        CK_OBJECT_HANDLE h[3];
        CK_ULONG got = 99;
        ck_assert_int_eq(C_FindObjects(s, h, 3, &got), CKR_OK);
        ck_assert_uint_le(got, 3);
        if (got == 0) {
            break;
        }
        for (CK_ULONG i = 0; i < got; i++, total++) {
            if (total < max) {
                out[total] = h[i];
            }
        }
    }
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OK);
    return total;
}

void lwss_p11t_parse_key(const char *pem, mbedtls_pk_context *pk)
{
    mbedtls_pk_init(pk);
    ck_assert_int_eq(mbedtls_pk_parse_key(pk, (const unsigned char *)pem, strlen(pem) + 1, NULL, 0),
                     0);
}

void lwss_p11t_rsa_session_pair(CK_SESSION_HANDLE s, const CK_ATTRIBUTE *pub_extra, size_t np,
                                const CK_ATTRIBUTE *priv_extra, size_t nq, CK_OBJECT_HANDLE *pub,
                                CK_OBJECT_HANDLE *priv)
{
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_rsa_key_pem, &pk);
    static uint8_t n[256], e[3], d[256], p[128], q[128];
    ck_assert_int_eq(mbedtls_rsa_export_raw(mbedtls_pk_rsa(pk), n, 256, p, 128, q, 128, d, 256, e,
                                            3),
                     0);
    mbedtls_pk_free(&pk);
    static CK_OBJECT_CLASS pub_c = CKO_PUBLIC_KEY, priv_c = CKO_PRIVATE_KEY;
    static CK_KEY_TYPE kt = CKK_RSA;
    static CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE t[16] = {{CKA_CLASS, &pub_c, sizeof(pub_c)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                          {CKA_TOKEN, &no, 1}, {CKA_MODULUS, n, 256},
                          {CKA_PUBLIC_EXPONENT, e, 3}};
    ck_assert_uint_le(np, 11);
    memcpy(t + 5, pub_extra, np * sizeof(*t));
    ck_assert_int_eq(C_CreateObject(s, t, 5 + np, pub), CKR_OK);
    t[0].pValue = &priv_c;
    t[5] = (CK_ATTRIBUTE){CKA_PRIVATE_EXPONENT, d, 256};
    t[6] = (CK_ATTRIBUTE){CKA_PRIME_1, p, 128};
    t[7] = (CK_ATTRIBUTE){CKA_PRIME_2, q, 128};
    ck_assert_uint_le(nq, 8);
    memcpy(t + 8, priv_extra, nq * sizeof(*t));
    ck_assert_int_eq(C_CreateObject(s, t, 8 + nq, priv), CKR_OK);
}

void lwss_p11t_p521_pem(char *out, size_t size)
{
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    ck_assert_int_eq(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    ck_assert_int_eq(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP521R1, mbedtls_pk_ec(pk),
                                         lwss_p11t_rng, NULL),
                     0);
    ck_assert_int_eq(mbedtls_pk_write_key_pem(&pk, (unsigned char *)out, size), 0);
    mbedtls_pk_free(&pk);
}

int lwss_p11t_rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    FILE *f = fopen("/dev/urandom", "rb");
    if (f == NULL) {
        return -1;
    }
    size_t got = fread(out, 1, len, f);
    fclose(f);
    return got == len ? 0 : -1;
}

void lwss_p11t_sha256(const void *data, size_t len, uint8_t out[32])
{
    ck_assert_int_eq(mbedtls_sha256_ret(data, len, out, 0), 0);
}

void lwss_p11t_digest_info(const uint8_t hash[32], uint8_t out[51])
{
    static const uint8_t prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                       0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    memcpy(out, prefix, sizeof(prefix));
    memcpy(out + sizeof(prefix), hash, 32);
}

size_t lwss_p11t_ecdsa_raw_to_der(const uint8_t raw[64], uint8_t *der, size_t der_max)
{
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    ck_assert_int_eq(mbedtls_mpi_read_binary(&r, raw, 32), 0);
    ck_assert_int_eq(mbedtls_mpi_read_binary(&s, raw + 32, 32), 0);
    unsigned char *p = der + der_max;
    int len = 0;
    len += mbedtls_asn1_write_mpi(&p, der, &s);
    len += mbedtls_asn1_write_mpi(&p, der, &r);
    len += mbedtls_asn1_write_len(&p, der, (size_t)len);
    len += mbedtls_asn1_write_tag(&p, der, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    ck_assert_int_gt(len, 0);
    memmove(der, p, (size_t)len);
    return (size_t)len;
}

long lwss_p11t_file_size(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

uint8_t *lwss_p11t_read_file(const char *path, size_t *len)
{
    long n = lwss_p11t_file_size(path);
    FILE *f = n >= 0 ? fopen(path, "rb") : NULL;
    if (f == NULL) {
        return NULL;
    }
    uint8_t *buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    buf[*len] = 0;
    return buf;
}

static void in_dir(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", lwss_p11t_dir(), name);
}

void lwss_p11t_put(const char *name, const void *data, size_t len)
{
    char p[512];
    in_dir(p, sizeof(p), name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

uint8_t *lwss_p11t_get(const char *name, size_t *len)
{
    char p[512];
    in_dir(p, sizeof(p), name);
    uint8_t *d = lwss_p11t_read_file(p, len);
    ck_assert_ptr_nonnull(d);
    return d;
}

int lwss_p11t_openssl_status(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "cd '%s' && openssl %s >/dev/null 2> openssl.err",
             lwss_p11t_dir(), args);
    return system(cmd);
}

void lwss_p11t_openssl(const char *args)
{
    int st = lwss_p11t_openssl_status(args);
    ck_assert_msg(st == 0, "openssl %s: status %d", args, st);
}

void lwss_p11t_hex(const uint8_t *p, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) {
        snprintf(out + 2 * i, 3, "%02x", p[i]);
    }
}
