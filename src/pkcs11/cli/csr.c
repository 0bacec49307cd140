/*
 * `lwss-provision generate`: the device key pair is made inside the token
 * (C_GenerateKeyPair), and a PKCS #10 CSR is built here and signed through
 * the token (C_Sign, CKM_ECDSA): the private key never leaves it.
 */
#include "src/pkcs11/cli/provision.h"

#include <mbedtls/asn1write.h>
#include <mbedtls/pem.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509.h>
#include <stdio.h>
#include <string.h>

#define CSR_MAX 2048
/* 1.2.840.10045.4.3.2 ecdsa-with-SHA256 */
static const char OID_ECDSA_SHA256[] = "\x2A\x86\x48\xCE\x3D\x04\x03\x02";

static CK_RV generate_pair(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
    static const CK_BYTE p256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub_t[] = {
        {CKA_LABEL, pkcs11configLABEL_DEVICE_PUBLIC_KEY_FOR_TLS,
         sizeof(pkcs11configLABEL_DEVICE_PUBLIC_KEY_FOR_TLS) - 1},
        {CKA_EC_PARAMS, (void *)p256, sizeof(p256)},
        {CKA_TOKEN, &yes, sizeof(yes)}, {CKA_VERIFY, &yes, sizeof(yes)}};
    CK_ATTRIBUTE priv_t[] = {
        {CKA_LABEL, pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS,
         sizeof(pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS) - 1},
        {CKA_TOKEN, &yes, sizeof(yes)}, {CKA_PRIVATE, &yes, sizeof(yes)},
        {CKA_SIGN, &yes, sizeof(yes)}};
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    return C_GenerateKeyPair(s, &gen, pub_t, 4, priv_t, 4, pub, priv);
}

/* CertificationRequestInfo, written backwards into buf ending at *p. */
static int write_request_info(unsigned char **p, unsigned char *start, const char *subject,
                              const unsigned char *spki, size_t spki_len)
{
    mbedtls_asn1_named_data *names = NULL;
    if (mbedtls_x509_string_to_names(&names, subject) != 0) {
        return prov_fail("bad --subject '%s' (want e.g. \"CN=device-1,O=Example\")", subject);
    }
    int len = 0;
    int ret = 0;
    /* attributes [0] (none), SubjectPublicKeyInfo, subject Name, version 0 */
    if ((ret = mbedtls_asn1_write_len(p, start, 0)) < 0 ||
        (len += ret, ret = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONTEXT_SPECIFIC |
                                                                MBEDTLS_ASN1_CONSTRUCTED)) < 0 ||
        (len += ret, ret = mbedtls_asn1_write_raw_buffer(p, start, spki, spki_len)) < 0 ||
        (len += ret, ret = mbedtls_x509_write_names(p, start, names)) < 0 ||
        (len += ret, ret = mbedtls_asn1_write_int(p, start, 0)) < 0 ||
        (len += ret, ret = mbedtls_asn1_write_len(p, start, (size_t)len)) < 0 ||
        (len += ret, ret = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED |
                                                                MBEDTLS_ASN1_SEQUENCE)) < 0) {
        len = -1;
    } else {
        len += ret;
    }
    mbedtls_asn1_free_named_data_list(&names);
    return len < 0 ? prov_fail("CSR too large") : 0;
}

/* ECDSA-Sig-Value from raw r||s, in a BIT STRING, then the algorithm. */
static int write_signature(unsigned char **p, unsigned char *start, const unsigned char raw[64])
{
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int len = 0;
    int ret = mbedtls_mpi_read_binary(&r, raw, 32) || mbedtls_mpi_read_binary(&s, raw + 32, 32);
    if (ret == 0 && ((ret = mbedtls_asn1_write_mpi(p, start, &s)) >= 0) &&
        (len += ret, (ret = mbedtls_asn1_write_mpi(p, start, &r)) >= 0) &&
        (len += ret, (ret = mbedtls_asn1_write_len(p, start, (size_t)len)) >= 0) &&
        (len += ret, (ret = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED |
                                                                 MBEDTLS_ASN1_SEQUENCE)) >= 0)) {
        len += ret;
        /* BIT STRING: no unused bits */
        ret = (*p - start < 1) ? -1 : 0;
        if (ret == 0) {
            *--(*p) = 0;
            len += 1;
        }
    } else {
        ret = -1;
    }
    int alg = 0;
    if (ret >= 0 && ((ret = mbedtls_asn1_write_len(p, start, (size_t)len)) >= 0) &&
        (len += ret, (ret = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_BIT_STRING)) >= 0) &&
        (len += ret, (ret = mbedtls_asn1_write_oid(p, start, OID_ECDSA_SHA256,
                                                   sizeof(OID_ECDSA_SHA256) - 1)) >= 0) &&
        (alg = ret, (ret = mbedtls_asn1_write_len(p, start, (size_t)alg)) >= 0) &&
        (alg += ret, (ret = mbedtls_asn1_write_tag(p, start, MBEDTLS_ASN1_CONSTRUCTED |
                                                                 MBEDTLS_ASN1_SEQUENCE)) >= 0)) {
        len += alg + ret;
    } else {
        len = -1;
    }
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return len;
}

static int sign_info(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE priv, const unsigned char *info,
                     size_t info_len, unsigned char sig[64])
{
    unsigned char hash[32];
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    CK_ULONG sig_len = 64;
    CK_RV rv = mbedtls_sha256_ret(info, info_len, hash, 0) == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
    if (rv == CKR_OK) {
        rv = C_SignInit(s, &ecdsa, priv);
    }
    if (rv == CKR_OK) {
        rv = C_Sign(s, hash, sizeof(hash), sig, &sig_len);
    }
    if (rv != CKR_OK) {
        fprintf(stderr, "lwss-provision: signing the CSR in the token failed: %s\n",
                prov_rv_name(rv));
        return 3;
    }
    return 0;
}

static int write_pem(const char *path, const unsigned char *der, size_t der_len)
{
    unsigned char pem[CSR_MAX * 2];
    size_t olen = 0;
    if (mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE REQUEST-----\n",
                                 "-----END CERTIFICATE REQUEST-----\n", der, der_len, pem,
                                 sizeof(pem), &olen) != 0) {
        return prov_fail("CSR too large");
    }
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return prov_fail("%s: cannot write the CSR", path);
    }
    size_t text_len = strlen((const char *)pem);
    int bad = fwrite(pem, 1, text_len, f) != text_len;
    bad |= fclose(f) != 0;
    return bad ? prov_fail("%s: write error", path) : 0;
}

int prov_generate(CK_SESSION_HANDLE s, const char *subject, const char *csr_path)
{
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE priv = CK_INVALID_HANDLE;
    CK_RV rv = generate_pair(s, &pub, &priv);
    if (rv != CKR_OK) {
        fprintf(stderr, "lwss-provision: key generation failed: %s\n", prov_rv_name(rv));
        return 3;
    }
    unsigned char spki[200];
    CK_ATTRIBUTE a = {CKA_PUBLIC_KEY_INFO, spki, sizeof(spki)};
    if ((rv = C_GetAttributeValue(s, pub, &a, 1)) != CKR_OK) {
        fprintf(stderr, "lwss-provision: reading the public key failed: %s\n", prov_rv_name(rv));
        return 3;
    }
    unsigned char buf[CSR_MAX];
    unsigned char *p = buf + sizeof(buf);
    unsigned char sig[64];
    if (write_request_info(&p, buf, subject, spki, a.ulValueLen) != 0) {
        return 1;
    }
    size_t info_len = (size_t)(buf + sizeof(buf) - p);
    unsigned char *info = p;
    if (sign_info(s, priv, info, info_len, sig) != 0) {
        return 3;
    }
    /* signature parts go in front of the info, then the outer SEQUENCE */
    unsigned char out[CSR_MAX];
    unsigned char *q = out + sizeof(out);
    int sig_len = write_signature(&q, out, sig);
    if (sig_len < 0 || (size_t)(q - out) < info_len + 8) {
        return prov_fail("CSR too large");
    }
    q -= info_len;
    memcpy(q, info, info_len);
    size_t total = info_len + (size_t)sig_len;
    int ret = mbedtls_asn1_write_len(&q, out, total);
    total += (size_t)ret;
    ret = mbedtls_asn1_write_tag(&q, out, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    total += (size_t)ret;
    return write_pem(csr_path, q, total);
}
