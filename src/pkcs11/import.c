/*
 * lwss_pkcs11_import_key / _cert: PEM or DER parsed on the host, then
 * created in the token through C_CreateObject by components, the way a
 * PKCS #11 provisioning tool does it.  Used by lwss-provision.
 */
#include "lwss/pkcs11.h"
#include "src/pkcs11/token.h"

#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>
#include <stdlib.h>
#include <string.h>

/* A template whose values live in its own buffer (wiped on release). */
typedef struct tmpl_builder {
    CK_ATTRIBUTE attrs[16];
    CK_ULONG n;
    uint8_t buf[2048];
    size_t used;
} tmpl_builder;

static int tb_add(tmpl_builder *tb, CK_ATTRIBUTE_TYPE type, const void *p, size_t len)
{
    if (tb->n >= sizeof(tb->attrs) / sizeof(tb->attrs[0]) || len > sizeof(tb->buf) - tb->used) {
        return -1;
    }
    uint8_t *dst = tb->buf + tb->used;
    if (len > 0) {
        memcpy(dst, p, len);
    }
    tb->attrs[tb->n].type = type;
    tb->attrs[tb->n].pValue = dst;
    tb->attrs[tb->n].ulValueLen = len;
    tb->n++;
    tb->used += len;
    return 0;
}

static int tb_add_ulong(tmpl_builder *tb, CK_ATTRIBUTE_TYPE type, CK_ULONG u)
{
    return tb_add(tb, type, &u, sizeof(u));
}

static int tb_add_mpi(tmpl_builder *tb, CK_ATTRIBUTE_TYPE type, const mbedtls_mpi *m, size_t len)
{
    uint8_t tmp[512];
    if (len == 0) {
        len = mbedtls_mpi_size(m);
    }
    int ret = len > sizeof(tmp) || mbedtls_mpi_write_binary(m, tmp, len) != 0 ? -1
                                                                             : tb_add(tb, type, tmp, len);
    mbedtls_platform_zeroize(tmp, sizeof(tmp));
    return ret;
}

/* PEM must be NUL-terminated for mbedtls (and its length count the NUL). */
static uint8_t *terminated_copy(const unsigned char *data, size_t len, size_t *parse_len)
{
    uint8_t *copy = malloc(len + 1);
    if (copy == NULL) {
        return NULL;
    }
    memcpy(copy, data, len);
    copy[len] = 0;
    *parse_len = memmem(data, len, "-----BEGIN", 10) != NULL ? len + 1 : len;
    return copy;
}

static CK_RV parse_key(const unsigned char *data, size_t len, lwss_pkcs11_key_part part,
                       mbedtls_pk_context *pk)
{
    size_t parse_len = 0;
    uint8_t *copy = terminated_copy(data, len, &parse_len);
    if (copy == NULL) {
        return CKR_HOST_MEMORY;
    }
    int ret = mbedtls_pk_parse_key(pk, copy, parse_len, NULL, 0);
    if (ret != 0 && part == LWSS_PKCS11_PUBLIC) {
        mbedtls_pk_free(pk);
        mbedtls_pk_init(pk);
        ret = mbedtls_pk_parse_public_key(pk, copy, parse_len);
    }
    mbedtls_platform_zeroize(copy, len + 1);
    free(copy);
    return ret == 0 ? CKR_OK : CKR_ATTRIBUTE_VALUE_INVALID;
}

static CK_RV ec_components(mbedtls_pk_context *pk, lwss_pkcs11_key_part part, tmpl_builder *tb)
{
    const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
    const uint8_t *params = NULL;
    size_t params_len = 0;
    if (lwss_p11_curve_params(ec->grp.id, &params, &params_len) != CKR_OK) {
        return CKR_CURVE_NOT_SUPPORTED; /* P-256 and P-384 only */
    }
    size_t coord = (ec->grp.pbits + 7) / 8;
    int bad = tb_add_ulong(tb, CKA_KEY_TYPE, CKK_EC) ||
              tb_add(tb, CKA_EC_PARAMS, params, params_len);
    if (part == LWSS_PKCS11_PRIVATE) {
        bad = bad || tb_add_mpi(tb, CKA_VALUE, &ec->d, coord);
    } else {
        uint8_t pt[2 + 97] = {0x04, (uint8_t)(1 + 2 * coord)};
        size_t n = 0;
        bad = bad ||
              mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &n,
                                             pt + 2, sizeof(pt) - 2) != 0 ||
              n != 1 + 2 * coord || tb_add(tb, CKA_EC_POINT, pt, 2 + n);
    }
    return bad ? CKR_FUNCTION_FAILED : CKR_OK;
}

static CK_RV rsa_components(mbedtls_pk_context *pk, lwss_pkcs11_key_part part, tmpl_builder *tb)
{
    const mbedtls_rsa_context *rsa = mbedtls_pk_rsa(*pk);
    if (mbedtls_rsa_get_len(rsa) != 256) {
        return CKR_KEY_SIZE_RANGE;
    }
    mbedtls_mpi v[8]; /* N P Q D E DP DQ QP */
    for (size_t i = 0; i < 8; i++) {
        mbedtls_mpi_init(&v[i]);
    }
    int bad = tb_add_ulong(tb, CKA_KEY_TYPE, CKK_RSA) ||
              mbedtls_rsa_export(rsa, &v[0], part == LWSS_PKCS11_PRIVATE ? &v[1] : NULL,
                                 part == LWSS_PKCS11_PRIVATE ? &v[2] : NULL,
                                 part == LWSS_PKCS11_PRIVATE ? &v[3] : NULL, &v[4]) != 0 ||
              tb_add_mpi(tb, CKA_MODULUS, &v[0], 0) || tb_add_mpi(tb, CKA_PUBLIC_EXPONENT, &v[4], 0);
    if (!bad && part == LWSS_PKCS11_PRIVATE) {
        bad = mbedtls_rsa_export_crt(rsa, &v[5], &v[6], &v[7]) != 0 ||
              tb_add_mpi(tb, CKA_PRIVATE_EXPONENT, &v[3], 0) ||
              tb_add_mpi(tb, CKA_PRIME_1, &v[1], 0) || tb_add_mpi(tb, CKA_PRIME_2, &v[2], 0) ||
              tb_add_mpi(tb, CKA_EXPONENT_1, &v[5], 0) || tb_add_mpi(tb, CKA_EXPONENT_2, &v[6], 0) ||
              tb_add_mpi(tb, CKA_COEFFICIENT, &v[7], 0);
    }
    for (size_t i = 0; i < 8; i++) {
        mbedtls_mpi_free(&v[i]);
    }
    return bad ? CKR_FUNCTION_FAILED : CKR_OK;
}

/* Class, label, id and CKA_TOKEN: the head of every import template. */
static int tb_head(tmpl_builder *tb, CK_OBJECT_CLASS cls, const char *label,
                   const unsigned char *id, size_t id_len)
{
    CK_BBOOL yes = CK_TRUE;
    return tb_add_ulong(tb, CKA_CLASS, cls) || tb_add(tb, CKA_LABEL, label, strlen(label)) ||
           tb_add(tb, CKA_TOKEN, &yes, sizeof(yes)) ||
           (id_len > 0 && tb_add(tb, CKA_ID, id, id_len));
}

CK_RV lwss_pkcs11_import_key(CK_SESSION_HANDLE session, const char *label,
                             const unsigned char *id, size_t id_len, const unsigned char *data,
                             size_t len, lwss_pkcs11_key_part part, CK_OBJECT_HANDLE *out)
{
    if (label == NULL || data == NULL || out == NULL || (id == NULL && id_len > 0) ||
        (part != LWSS_PKCS11_PRIVATE && part != LWSS_PKCS11_PUBLIC)) {
        return CKR_ARGUMENTS_BAD;
    }
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    tmpl_builder *tb = calloc(1, sizeof(*tb));
    CK_RV rv = tb != NULL ? parse_key(data, len, part, &pk) : CKR_HOST_MEMORY;
    CK_OBJECT_CLASS cls = part == LWSS_PKCS11_PRIVATE ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
    if (rv == CKR_OK && tb_head(tb, cls, label, id, id_len) != 0) {
        rv = CKR_ARGUMENTS_BAD;
    }
    if (rv == CKR_OK) {
        mbedtls_pk_type_t t = mbedtls_pk_get_type(&pk);
        rv = t == MBEDTLS_PK_ECKEY     ? ec_components(&pk, part, tb)
             : t == MBEDTLS_PK_RSA     ? rsa_components(&pk, part, tb)
                                       : CKR_ATTRIBUTE_VALUE_INVALID;
    }
    if (rv == CKR_OK) {
        rv = C_CreateObject(session, tb->attrs, tb->n, out);
    }
    if (tb != NULL) {
        mbedtls_platform_zeroize(tb, sizeof(*tb));
        free(tb);
    }
    mbedtls_pk_free(&pk);
    return rv;
}

CK_RV lwss_pkcs11_import_cert(CK_SESSION_HANDLE session, const char *label,
                              const unsigned char *id, size_t id_len,
                              const unsigned char *data, size_t len, CK_OBJECT_HANDLE *out)
{
    if (label == NULL || data == NULL || out == NULL || (id == NULL && id_len > 0)) {
        return CKR_ARGUMENTS_BAD;
    }
    size_t parse_len = 0;
    uint8_t *copy = terminated_copy(data, len, &parse_len);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    tmpl_builder *tb = calloc(1, sizeof(*tb));
    CK_RV rv = (copy != NULL && tb != NULL) ? CKR_OK : CKR_HOST_MEMORY;
    if (rv == CKR_OK && (mbedtls_x509_crt_parse(&crt, copy, parse_len) != 0 || crt.raw.p == NULL)) {
        rv = CKR_ATTRIBUTE_VALUE_INVALID;
    }
    CK_ATTRIBUTE tmpl[6];
    CK_ULONG n = 0;
    if (rv == CKR_OK && tb_head(tb, CKO_CERTIFICATE, label, id, id_len) == 0 &&
        tb_add_ulong(tb, CKA_CERTIFICATE_TYPE, CKC_X_509) == 0) {
        memcpy(tmpl, tb->attrs, tb->n * sizeof(tmpl[0]));
        n = tb->n;
        tmpl[n].type = CKA_VALUE; /* the DER may exceed the builder's buffer */
        tmpl[n].pValue = crt.raw.p;
        tmpl[n].ulValueLen = crt.raw.len;
        rv = C_CreateObject(session, tmpl, n + 1, out);
    } else if (rv == CKR_OK) {
        rv = CKR_ARGUMENTS_BAD;
    }
    mbedtls_x509_crt_free(&crt);
    free(tb);
    free(copy);
    return rv;
}
