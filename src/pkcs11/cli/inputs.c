/*
 * lwss-provision inputs: every file is read, parsed and cross-checked
 * before anything is written, so bad input never reaches the image.
 */
#include "src/pkcs11/cli/provision.h"
#include "lwss/pkcs11.h"

#include <errno.h>
#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int prov_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lwss-provision: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

/* Whole file, NUL-terminated (mbedtls wants PEM so). */
static int read_file(const char *path, unsigned char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return prov_fail("%s: %s", path, strerror(errno));
    }
    unsigned char *buf = NULL;
    size_t used = 0;
    size_t cap = 0;
    size_t n;
    do {
        if (used + 4096 + 1 > cap) {
            unsigned char *bigger = realloc(buf, cap = used + 65536);
            if (bigger == NULL || cap > (1u << 20)) {
                free(bigger != NULL ? bigger : buf);
                fclose(f);
                return prov_fail("%s: too large (over 1 MiB) or out of memory", path);
            }
            buf = bigger;
        }
        n = fread(buf + used, 1, 4096, f);
        used += n;
    } while (n > 0);
    int err = ferror(f);
    fclose(f);
    if (err || used == 0) {
        free(buf);
        return prov_fail("%s: %s", path, err ? "read error" : "empty file");
    }
    buf[used] = 0;
    *data = buf;
    *len = used;
    return 0;
}

static int is_pem(const unsigned char *data, size_t len)
{
    return memmem(data, len, "-----BEGIN", 10) != NULL;
}

static int parse_cert(const char *path, const unsigned char *data, size_t len,
                      mbedtls_x509_crt *crt)
{
    int ret = mbedtls_x509_crt_parse(crt, data, is_pem(data, len) ? len + 1 : len);
    if (ret != 0 || crt->raw.p == NULL) {
        return prov_fail("%s: not a PEM or DER X.509 certificate%s", path,
                         ret > 0 ? " (some blocks unreadable)" : "");
    }
    return 0;
}

/* EC P-256 / P-384 or RSA 2048: what the token's mechanisms handle. */
static int check_key_kind(const char *path, const mbedtls_pk_context *pk)
{
    if (mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY) {
        mbedtls_ecp_group_id id = mbedtls_pk_ec(*pk)->grp.id;
        if (id != MBEDTLS_ECP_DP_SECP256R1 && id != MBEDTLS_ECP_DP_SECP384R1) {
            return prov_fail("%s: unsupported curve (only P-256 and P-384)", path);
        }
        return 0;
    }
    if (mbedtls_pk_get_type(pk) == MBEDTLS_PK_RSA) {
        if (mbedtls_pk_get_bitlen(pk) != 2048) {
            return prov_fail("%s: RSA key of %zu bits (only 2048)", path,
                             mbedtls_pk_get_bitlen(pk));
        }
        return 0;
    }
    return prov_fail("%s: unsupported key type (EC P-256 / P-384 or RSA 2048)", path);
}

/* Device certificate + private key: both parse, are supported, and match. */
static int check_device_pair(prov_inputs *in)
{
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&key);
    int ret = parse_cert(in->cert_path, in->cert, in->cert_len, &crt);
    if (ret == 0 && mbedtls_pk_parse_key(&key, in->key, is_pem(in->key, in->key_len)
                                                            ? in->key_len + 1 : in->key_len,
                                         NULL, 0) != 0) {
        ret = prov_fail("%s: not a PEM or DER private key (PKCS#8, SEC1 or PKCS#1; "
                        "encrypted keys are not supported)", in->key_path);
    }
    if (ret == 0) {
        ret = check_key_kind(in->key_path, &key);
    }
    if (ret == 0 && mbedtls_pk_check_pair(&crt.pk, &key) != 0) {
        ret = prov_fail("%s does not match the public key of %s", in->key_path, in->cert_path);
    }
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&crt);
    return ret;
}

static int load_code_verify(prov_inputs *in)
{
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    size_t n = is_pem(in->verify, in->verify_len) ? in->verify_len + 1 : in->verify_len;
    int ret = 0;
    if (mbedtls_pk_parse_public_key(&pk, in->verify, n) != 0) {
        mbedtls_pk_free(&pk);
        mbedtls_pk_init(&pk);
        if (mbedtls_pk_parse_key(&pk, in->verify, n, NULL, 0) != 0) {
            ret = prov_fail("%s: not a PEM or DER public key", in->verify_path);
        }
    }
    if (ret == 0) {
        ret = check_key_kind(in->verify_path, &pk);
    }
    mbedtls_pk_free(&pk);
    return ret;
}

int prov_load_inputs(prov_inputs *in)
{
    mbedtls_x509_crt_init(&in->roots);
    if ((in->cert_path == NULL) != (in->key_path == NULL)) {
        return prov_fail("--cert and --key go together");
    }
    if (in->cert_path != NULL &&
        (read_file(in->cert_path, &in->cert, &in->cert_len) ||
         read_file(in->key_path, &in->key, &in->key_len) || check_device_pair(in))) {
        return 1;
    }
    for (size_t i = 0; i < in->root_path_count; i++) {
        unsigned char *data = NULL;
        size_t len = 0;
        if (read_file(in->root_paths[i], &data, &len)) {
            return 1;
        }
        int ret = parse_cert(in->root_paths[i], data, len, &in->roots);
        free(data);
        if (ret != 0) {
            return 1;
        }
    }
    if (in->jitp_path != NULL) {
        mbedtls_x509_crt jitp;
        mbedtls_x509_crt_init(&jitp);
        int ret = read_file(in->jitp_path, &in->jitp, &in->jitp_len) ||
                  parse_cert(in->jitp_path, in->jitp, in->jitp_len, &jitp);
        mbedtls_x509_crt_free(&jitp);
        if (ret != 0) {
            return 1;
        }
    }
    if (in->verify_path != NULL &&
        (read_file(in->verify_path, &in->verify, &in->verify_len) || load_code_verify(in))) {
        return 1;
    }
    return 0;
}

void prov_free_inputs(prov_inputs *in)
{
    if (in->key != NULL) {
        mbedtls_platform_zeroize(in->key, in->key_len);
    }
    free(in->key);
    free(in->cert);
    free(in->jitp);
    free(in->verify);
    mbedtls_x509_crt_free(&in->roots);
}

static int token_step(CK_RV rv, const char *what)
{
    if (rv != CKR_OK) {
        fprintf(stderr, "lwss-provision: storing %s failed: %s\n", what, prov_rv_name(rv));
        return 3;
    }
    return 0;
}

int prov_write_inputs(CK_SESSION_HANDLE s, const prov_inputs *in)
{
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    int ret = 0;
    if (in->cert != NULL) {
        ret = token_step(lwss_pkcs11_import_key(s, pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS,
                                                NULL, 0, in->key, in->key_len, LWSS_PKCS11_PRIVATE,
                                                &h), "the device private key");
        if (ret == 0) {
            ret = token_step(lwss_pkcs11_import_key(s, pkcs11configLABEL_DEVICE_PUBLIC_KEY_FOR_TLS,
                                                    NULL, 0, in->key, in->key_len,
                                                    LWSS_PKCS11_PUBLIC, &h),
                             "the device public key");
        }
        if (ret == 0) {
            ret = token_step(lwss_pkcs11_import_cert(s,
                                                     pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS,
                                                     NULL, 0, in->cert, in->cert_len, &h),
                             "the device certificate");
        }
    }
    int n = 0;
    for (const mbedtls_x509_crt *c = &in->roots; ret == 0 && c != NULL && c->raw.p != NULL;
         c = c->next, n++) {
        char label[32];
        snprintf(label, sizeof(label), n == 0 ? "%s" : "%s %d",
                 pkcs11configLABEL_ROOT_CERTIFICATE, n + 1);
        ret = token_step(lwss_pkcs11_import_cert(s, label, NULL, 0, c->raw.p, c->raw.len, &h),
                         "a root CA certificate");
    }
    if (ret == 0 && in->jitp != NULL) {
        ret = token_step(lwss_pkcs11_import_cert(s, pkcs11configLABEL_JITP_CERTIFICATE, NULL, 0,
                                                 in->jitp, in->jitp_len, &h),
                         "the JITP certificate");
    }
    if (ret == 0 && in->verify != NULL) {
        ret = token_step(lwss_pkcs11_import_key(s, pkcs11configLABEL_CODE_VERIFICATION_KEY, NULL,
                                                0, in->verify, in->verify_len,
                                                LWSS_PKCS11_PUBLIC, &h),
                         "the code-verification key");
    }
    return ret;
}
