/*
 * Sign and verify: CKM_ECDSA (P-256 and P-384, raw r||s), CKM_RSA_PKCS (2048,
 * caller-supplied DigestInfo), CKM_RSA_PKCS_PSS (caller-supplied hash),
 * CKM_RSA_X_509 (raw RSA); multi-part too: the hash-and-sign mechanisms
 * CKM_ECDSA_SHA*, CKM_SHA*_RSA_PKCS, CKM_SHA*_RSA_PKCS_PSS, the MACs
 * CKM_SHA*_HMAC and CKM_AES_CMAC (mechanism table: hashsign.c).  The key is loaded and parsed
 * once, at *Init, which also enforces CKA_SIGN / CKA_VERIFY.
 * v2.40 5.2 / 5.12: a call that finishes an operation (C_Sign, C_SignFinal,
 * C_Verify, C_VerifyFinal, or a failing Update) ends it on every outcome but
 * CKR_BUFFER_TOO_SMALL and a successful length query, and single- and
 * multi-part calls do not mix (CKR_OPERATION_ACTIVE, which ends it too).
 * Verification always really verifies (the reference's RSA C_Verify did not).
 */
#include "src/pkcs11/token.h"

#include <mbedtls/cmac.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <stdlib.h>
#include <string.h>

/* Bytes of one of r, s: 32 on P-256, 48 on P-384. */
static size_t ec_coord_len(const lwss_p11_op *op)
{
    return (mbedtls_pk_ec(op->pk)->grp.pbits + 7) / 8;
}

static size_t op_sig_len(const lwss_p11_op *op)
{
    switch (op->kind) {
    case LWSS_P11_K_ECDSA: return 2 * ec_coord_len(op);
    case LWSS_P11_K_HMAC: return mbedtls_md_get_size(mbedtls_md_info_from_type(op->md_type));
    case LWSS_P11_K_CMAC: return 16;
    default: return mbedtls_pk_get_len(&op->pk); /* the RSA kinds */
    }
}

/* A public-key kind (the key is a pk context). */
static int is_asym(const lwss_p11_op *op)
{
    return op->kind != LWSS_P11_K_HMAC && op->kind != LWSS_P11_K_CMAC;
}

/* Hash-and-sign: the token hashes what Update feeds. */
static int is_hashing(const lwss_p11_op *op)
{
    return is_asym(op) && op->md_type != MBEDTLS_MD_NONE;
}

/* Parse the stored key unless the op's cached one, or one in the
 * token-wide cache (key_cache.c), is the same bytes: a reused context keeps
 * mbedtls' precomputed EC tables and RSA blinding, which is most of the
 * token's cost per signature otherwise. */
static CK_RV cache_key(lwss_p11_op *op, CK_OBJECT_CLASS cls, const uint8_t *der, size_t len)
{
    if (op->key_der != NULL && op->key_der_len == len && memcmp(op->key_der, der, len) == 0) {
        return CKR_OK;
    }
    lwss_p11_key_cache_put(op); /* another session may sign with it next */
    if (lwss_p11_key_cache_take(op, der, len)) {
        return CKR_OK;
    }
    /* put() left the op empty: parse into it */
    int ret = cls == CKO_PRIVATE_KEY ? mbedtls_pk_parse_key(&op->pk, der, len, NULL, 0)
                                     : mbedtls_pk_parse_public_key(&op->pk, der, len);
    if (ret != 0) {
        mbedtls_pk_free(&op->pk);
        return CKR_DEVICE_ERROR;
    }
    op->key_der = malloc(len);
    if (op->key_der == NULL) {
        mbedtls_pk_free(&op->pk);
        return CKR_HOST_MEMORY;
    }
    memcpy(op->key_der, der, len);
    op->key_der_len = len;
    return CKR_OK;
}

static CK_RV init_asym(lwss_p11_op *op, CK_OBJECT_HANDLE key, int sign)
{
    lwss_nvm_meta meta;
    CK_OBJECT_CLASS cls = sign ? CKO_PRIVATE_KEY : CKO_PUBLIC_KEY;
    CK_RV rv = lwss_p11_obj_meta(key, &meta);
    if (rv != CKR_OK) {
        return CKR_KEY_HANDLE_INVALID;
    }
    if (!sign && meta.cls == CKO_PRIVATE_KEY) {
        cls = CKO_PRIVATE_KEY; /* a private key carries its public half */
    }
    CK_KEY_TYPE want = op->kind == LWSS_P11_K_ECDSA ? CKK_EC : CKK_RSA;
    if (meta.cls != cls || lwss_p11_key_type(&meta) != want) {
        return CKR_KEY_TYPE_INCONSISTENT;
    }
    if (sign ? !lwss_p11_key_allows(&meta, CKA_SIGN)
             : (cls == CKO_PUBLIC_KEY && !lwss_p11_key_allows(&meta, CKA_VERIFY))) {
        return CKR_KEY_FUNCTION_NOT_PERMITTED;
    }
    uint8_t *der = NULL;
    size_t len = 0;
    rv = lwss_p11_obj_load_value(key, &der, &len);
    if (rv != CKR_OK) {
        return rv;
    }
    rv = cache_key(op, cls, der, len);
    lwss_token_store_free_value(der, len);
    return rv;
}

/* The CKK_SHA*_HMAC key type made for the op's HMAC. */
static CK_KEY_TYPE hmac_key_type(const lwss_p11_op *op)
{
    switch (op->md_type) {
    case MBEDTLS_MD_SHA1: return CKK_SHA_1_HMAC;
    case MBEDTLS_MD_SHA224: return CKK_SHA224_HMAC;
    case MBEDTLS_MD_SHA256: return CKK_SHA256_HMAC;
    case MBEDTLS_MD_SHA384: return CKK_SHA384_HMAC;
    default: return CKK_SHA512_HMAC;
    }
}

static CK_RV init_mac(lwss_p11_op *op, CK_OBJECT_HANDLE key, int sign)
{
    lwss_nvm_meta meta;
    uint8_t *val = NULL;
    size_t len = 0;
    CK_RV rv = lwss_p11_obj_load_secret(key, &val, &len, &meta);
    if (rv != CKR_OK) {
        return rv;
    }
    CK_KEY_TYPE kt = lwss_p11_key_type(&meta);
    rv = CKR_KEY_TYPE_INCONSISTENT;
    if (!lwss_p11_key_allows(&meta, sign ? CKA_SIGN : CKA_VERIFY)) {
        rv = CKR_KEY_FUNCTION_NOT_PERMITTED;
    } else if (op->kind == LWSS_P11_K_HMAC &&
               (kt == CKK_GENERIC_SECRET || kt == hmac_key_type(op))) {
        rv = mbedtls_md_setup(&op->hmac, mbedtls_md_info_from_type(op->md_type), 1) == 0 &&
                     mbedtls_md_hmac_starts(&op->hmac, val, len) == 0
                 ? CKR_OK
                 : CKR_FUNCTION_FAILED;
    } else if (op->kind == LWSS_P11_K_CMAC && kt == CKK_AES) {
        mbedtls_cipher_type_t t = len == 16   ? MBEDTLS_CIPHER_AES_128_ECB
                                  : len == 24 ? MBEDTLS_CIPHER_AES_192_ECB
                                              : MBEDTLS_CIPHER_AES_256_ECB;
        rv = mbedtls_cipher_setup(&op->cmac, mbedtls_cipher_info_from_type(t)) == 0 &&
                     mbedtls_cipher_cmac_starts(&op->cmac, val, len * 8) == 0
                 ? CKR_OK
                 : CKR_FUNCTION_FAILED;
    }
    lwss_token_store_free_value(val, len);
    return rv;
}

static CK_RV op_init(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key,
                     int sign)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_p11_op *op = sign ? &s->sign : &s->verify;
    int kind = 0;
    mbedtls_md_type_t md = MBEDTLS_MD_NONE;
    if (mech == NULL) {
        rv = CKR_ARGUMENTS_BAD;
    } else if (op->active) {
        rv = CKR_OPERATION_ACTIVE;
    } else if (!lwss_p11_sig_mech(mech->mechanism, &kind, &md)) {
        rv = CKR_MECHANISM_INVALID;
    }
    /* Only the PSS mechanisms take a parameter: the others ignore pParameter /
     * ulParameterLen, as corePKCS11 does (firmware written for it leaves them unset). */
    if (rv == CKR_OK) {
        op->active = 1; /* so that op_reset frees whatever init set up */
        op->mode = LWSS_P11_MODE_FRESH;
        op->mech = mech->mechanism;
        op->kind = kind;
        op->md_type = md;
        mbedtls_md_init(&op->hmac);
        mbedtls_md_init(&op->md);
        mbedtls_cipher_init(&op->cmac);
        rv = is_asym(op) ? init_asym(op, key, sign) : init_mac(op, key, sign);
        if (rv == CKR_OK && kind == LWSS_P11_K_RSA_PSS) {
            rv = lwss_p11_pss_params(mech, md, mbedtls_pk_get_len(&op->pk), &op->pss_hash,
                                     &op->pss_salt);
        }
        if (rv == CKR_OK && is_hashing(op)) {
            rv = mbedtls_md_setup(&op->md, mbedtls_md_info_from_type(md), 0) == 0 &&
                         mbedtls_md_starts(&op->md) == 0
                     ? CKR_OK
                     : CKR_FUNCTION_FAILED;
        }
        if (rv != CKR_OK) {
            lwss_p11_op_reset(op);
        }
    }
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_SignInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism, CK_OBJECT_HANDLE hKey)
{
    return op_init(hSession, pMechanism, hKey, 1);
}

CK_RV C_VerifyInit(CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                   CK_OBJECT_HANDLE hKey)
{
    return op_init(hSession, pMechanism, hKey, 0);
}

static CK_RV ecdsa_sign(lwss_p11_op *op, const uint8_t *hash, size_t len, uint8_t *sig)
{
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(op->pk);
    size_t n = ec_coord_len(op);
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    CK_RV rv = CKR_FUNCTION_FAILED;
    if (mbedtls_ecdsa_sign(&ec->grp, &r, &s, &ec->d, hash, len, lwss_p11_random, NULL) == 0 &&
        mbedtls_mpi_write_binary(&r, sig, n) == 0 && mbedtls_mpi_write_binary(&s, sig + n, n) == 0) {
        rv = CKR_OK;
    }
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    return rv;
}

static CK_RV ecdsa_verify(lwss_p11_op *op, const uint8_t *hash, size_t len, const uint8_t *sig)
{
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(op->pk);
    size_t n = ec_coord_len(op);
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    CK_RV rv = CKR_SIGNATURE_INVALID;
    if (mbedtls_mpi_read_binary(&r, sig, n) == 0 && mbedtls_mpi_read_binary(&s, sig + n, n) == 0 &&
        mbedtls_ecdsa_verify(&ec->grp, hash, len, &ec->Q, &r, &s) == 0) {
        rv = CKR_OK;
    }
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    return rv;
}

/* CKM_RSA_X_509 (v2.40 mechanisms 2.1.8): the input, left-padded with
 * zeros to the modulus length, through the private (sign) or public
 * (verify: @p out gets the recovered block) RSA operation. */
static CK_RV rsa_raw(lwss_p11_op *op, const uint8_t *data, size_t len, uint8_t *out, int sign)
{
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(op->pk);
    size_t k = mbedtls_pk_get_len(&op->pk);
    uint8_t block[512];
    if (len == 0 || len > k || k > sizeof(block)) {
        return CKR_DATA_LEN_RANGE;
    }
    memset(block, 0, k - len);
    memcpy(block + (k - len), data, len);
    mbedtls_mpi m;
    mbedtls_mpi_init(&m);
    CK_RV rv = CKR_DATA_INVALID; /* not below the modulus */
    if (mbedtls_mpi_read_binary(&m, block, k) == 0 && mbedtls_mpi_cmp_mpi(&m, &rsa->N) < 0) {
        int ret = sign ? mbedtls_rsa_private(rsa, lwss_p11_random, NULL, block, out)
                       : mbedtls_rsa_public(rsa, block, out);
        rv = ret == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
    }
    mbedtls_mpi_free(&m);
    mbedtls_platform_zeroize(block, sizeof(block));
    return rv;
}

/* Feed data to a MAC operation. */
static CK_RV mac_update(lwss_p11_op *op, const uint8_t *data, size_t len)
{
    int ret = op->kind == LWSS_P11_K_HMAC ? mbedtls_md_hmac_update(&op->hmac, data, len)
                                          : mbedtls_cipher_cmac_update(&op->cmac, data, len);
    return ret == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
}

static CK_RV mac_finish(lwss_p11_op *op, uint8_t *mac)
{
    int ret = op->kind == LWSS_P11_K_HMAC ? mbedtls_md_hmac_finish(&op->hmac, mac)
                                          : mbedtls_cipher_cmac_finish(&op->cmac, mac);
    return ret == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
}

/* Hash-and-sign: the running hash over @p data too, into @p hash.
 * @return its length, or 0 on failure. */
static size_t hash_finish(lwss_p11_op *op, const uint8_t *data, size_t len, uint8_t *hash)
{
    if ((len > 0 && mbedtls_md_update(&op->md, data, len) != 0) ||
        mbedtls_md_finish(&op->md, hash) != 0) {
        return 0;
    }
    return mbedtls_md_get_size(mbedtls_md_info_from_type(op->md_type));
}

/* Compute the signature of @p data (NULL for Final: only what Update fed). */
static CK_RV produce(lwss_p11_op *op, const uint8_t *data, size_t len, uint8_t *sig)
{
    uint8_t hash[MBEDTLS_MD_MAX_SIZE];
    if (is_hashing(op)) {
        len = hash_finish(op, data, len, hash);
        if (len == 0) {
            return CKR_FUNCTION_FAILED;
        }
        data = hash;
    }
    switch (op->kind) {
    case LWSS_P11_K_ECDSA:
        if (len == 0 || len > 64) {
            return CKR_DATA_LEN_RANGE;
        }
        return ecdsa_sign(op, data, len, sig);
    case LWSS_P11_K_RSA_PKCS:
    case LWSS_P11_K_RSA_PSS: return lwss_p11_rsa_sign_hash(op, data, len, sig);
    case LWSS_P11_K_RSA_X509: return rsa_raw(op, data, len, sig, 1);
    default: {
        CK_RV rv = len > 0 ? mac_update(op, data, len) : CKR_OK;
        return rv == CKR_OK ? mac_finish(op, sig) : rv;
    }
    }
}

/* CKR_OK when @p final (C_*Final) or not (single-part) may continue @p op;
 * any other answer ends the operation. */
static CK_RV mode_ok(const lwss_p11_op *op, int final)
{
    if (final) {
        if (is_asym(op) && !is_hashing(op)) {
            return CKR_FUNCTION_NOT_SUPPORTED; /* single-part only: no Final */
        }
        return op->mode == LWSS_P11_MODE_SINGLE ? CKR_OPERATION_ACTIVE : CKR_OK;
    }
    return op->mode == LWSS_P11_MODE_MULTI ? CKR_OPERATION_ACTIVE : CKR_OK;
}

/* C_Sign (final = 0) and C_SignFinal (final = 1). */
static CK_RV sign_step(CK_SESSION_HANDLE hSession, const uint8_t *data, CK_ULONG len,
                       CK_BYTE_PTR sig, CK_ULONG_PTR sig_len, int final)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_p11_op *op = &s->sign;
    size_t need = op->active ? op_sig_len(op) : 0;
    if (!op->active) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
        goto keep;
    }
    rv = mode_ok(op, final);
    if (rv != CKR_OK) {
        goto end;
    }
    if (sig_len == NULL || (data == NULL && len > 0)) {
        rv = CKR_ARGUMENTS_BAD;
        goto end;
    }
    if (sig == NULL || *sig_len < need) {
        rv = sig == NULL ? CKR_OK : CKR_BUFFER_TOO_SMALL;
        *sig_len = need; /* the operation stays active for the real call */
        if (!final) {
            op->mode = LWSS_P11_MODE_SINGLE;
        }
        goto keep;
    }
    rv = produce(op, data, len, sig);
    if (rv == CKR_OK) {
        *sig_len = need;
    }
end:
    lwss_p11_op_reset(op);
keep:
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_Sign(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
             CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen)
{
    return sign_step(hSession, pData, ulDataLen, pSignature, pulSignatureLen, 0);
}

CK_RV C_SignFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature,
                  CK_ULONG_PTR pulSignatureLen)
{
    return sign_step(hSession, NULL, 0, pSignature, pulSignatureLen, 1);
}

/* C_SignUpdate / C_VerifyUpdate: MAC mechanisms only. */
static CK_RV update_step(CK_SESSION_HANDLE hSession, const uint8_t *part, CK_ULONG len, int sign)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_p11_op *op = sign ? &s->sign : &s->verify;
    if (!op->active) {
        rv = CKR_OPERATION_NOT_INITIALIZED;
    } else if (is_asym(op) && !is_hashing(op)) {
        rv = CKR_FUNCTION_NOT_SUPPORTED; /* CKM_ECDSA / CKM_RSA_*: single-part */
    } else if (op->mode == LWSS_P11_MODE_SINGLE) {
        rv = CKR_OPERATION_ACTIVE;
    } else if (part == NULL && len > 0) {
        rv = CKR_ARGUMENTS_BAD;
    } else {
        op->mode = LWSS_P11_MODE_MULTI;
        if (!is_hashing(op)) {
            rv = mac_update(op, part, len);
        } else if (len > 0 && mbedtls_md_update(&op->md, part, len) != 0) {
            rv = CKR_FUNCTION_FAILED;
        }
    }
    if (rv != CKR_OK && op->active) {
        lwss_p11_op_reset(op); /* a failed Update ends the operation */
    }
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_SignUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return update_step(hSession, pPart, ulPartLen, 1);
}

CK_RV C_VerifyUpdate(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pPart, CK_ULONG ulPartLen)
{
    return update_step(hSession, pPart, ulPartLen, 0);
}

/* CKM_RSA_X_509 verify: the signature's public operation must give the
 * data, left-padded with zeros. */
static CK_RV verify_raw(lwss_p11_op *op, const uint8_t *data, size_t len, const uint8_t *sig)
{
    size_t k = mbedtls_pk_get_len(&op->pk);
    uint8_t got[512];
    uint8_t want[512];
    if (len == 0 || len > k || k > sizeof(got)) {
        return CKR_DATA_LEN_RANGE;
    }
    CK_RV rv = rsa_raw(op, sig, k, got, 0);
    if (rv == CKR_OK) {
        memset(want, 0, k - len);
        memcpy(want + (k - len), data, len);
        rv = memcmp(got, want, k) == 0 ? CKR_OK : CKR_SIGNATURE_INVALID;
    } else if (rv == CKR_DATA_INVALID) {
        rv = CKR_SIGNATURE_INVALID; /* the signature is not below the modulus */
    }
    return rv;
}

static CK_RV check_signature(lwss_p11_op *op, const uint8_t *data, size_t len, const uint8_t *sig)
{
    uint8_t buf[MBEDTLS_MD_MAX_SIZE];
    if (is_hashing(op)) {
        len = hash_finish(op, data, len, buf);
        if (len == 0) {
            return CKR_FUNCTION_FAILED;
        }
        data = buf;
    }
    if (op->kind == LWSS_P11_K_ECDSA) {
        return (len == 0 || len > 64) ? CKR_DATA_LEN_RANGE : ecdsa_verify(op, data, len, sig);
    }
    if (op->kind == LWSS_P11_K_RSA_X509) {
        return verify_raw(op, data, len, sig);
    }
    if (op->kind == LWSS_P11_K_RSA_PKCS || op->kind == LWSS_P11_K_RSA_PSS) {
        return lwss_p11_rsa_verify_hash(op, data, len, sig);
    }
    CK_RV rv = produce(op, data, len, buf);
    if (rv == CKR_OK) {
        uint8_t diff = 0;
        for (size_t i = 0; i < op_sig_len(op); i++) {
            diff |= (uint8_t)(buf[i] ^ sig[i]);
        }
        rv = diff == 0 ? CKR_OK : CKR_SIGNATURE_INVALID;
    }
    mbedtls_platform_zeroize(buf, sizeof(buf));
    return rv;
}

/* C_Verify (final = 0) and C_VerifyFinal (final = 1): always end the operation. */
static CK_RV verify_step(CK_SESSION_HANDLE hSession, const uint8_t *data, CK_ULONG len,
                         const uint8_t *sig, CK_ULONG sig_len, int final)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    lwss_p11_op *op = &s->verify;
    if (!op->active) {
        lwss_p11_session_put(s);
        return CKR_OPERATION_NOT_INITIALIZED;
    }
    rv = mode_ok(op, final);
    if (rv == CKR_OK && (sig == NULL || (data == NULL && len > 0))) {
        rv = CKR_ARGUMENTS_BAD;
    } else if (rv == CKR_OK && sig_len != op_sig_len(op)) {
        rv = CKR_SIGNATURE_LEN_RANGE;
    } else if (rv == CKR_OK) {
        rv = check_signature(op, data, len, sig);
    }
    lwss_p11_op_reset(op);
    lwss_p11_session_put(s);
    return rv;
}

CK_RV C_Verify(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
               CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    return verify_step(hSession, pData, ulDataLen, pSignature, ulSignatureLen, 0);
}

CK_RV C_VerifyFinal(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen)
{
    return verify_step(hSession, NULL, 0, pSignature, ulSignatureLen, 1);
}
