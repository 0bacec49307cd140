/*
 * AES and DES3 encryption modes (v2.40 mechanisms 2.8, 2.9, 2.10, 2.13):
 * CKM_AES_ECB, CKM_AES_CBC, CKM_AES_CBC_PAD, CKM_AES_CTR (CK_AES_CTR_PARAMS),
 * CKM_AES_GCM (CK_GCM_PARAMS), CKM_DES3_ECB, CKM_DES3_CBC, CKM_DES3_CBC_PAD.
 *
 * ECB / CBC / CTR run through mbedtls_cipher, GCM through mbedtls_gcm.  The
 * token keeps the unfinished block itself and hands mbedtls only whole
 * blocks, so every call's output length is known before anything runs
 * (v2.40 5.2 length queries: a CKR_BUFFER_TOO_SMALL must leave the
 * operation as it was).  PKCS #7 padding is mbedtls' (switched on for the
 * last block only).  A GCM decryption holds the ciphertext until
 * C_DecryptFinal and releases plaintext only once the tag checked out.
 * CTR: the whole 16-byte block is the counter (ulCounterBits is checked for
 * range, and mbedtls increments all 128 bits).
 */
#include "src/pkcs11/cipher.h"

#include <mbedtls/platform_util.h>
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int lwss_p11_sym_mech(CK_MECHANISM_TYPE m)
{
    switch (m) {
    case CKM_AES_ECB: case CKM_AES_CBC: case CKM_AES_CBC_PAD: case CKM_AES_CTR:
    case CKM_AES_GCM: case CKM_DES3_ECB: case CKM_DES3_CBC: case CKM_DES3_CBC_PAD:
        return 1;
    default:
        return 0;
    }
}

static int is_des3(CK_MECHANISM_TYPE m)
{
    return m == CKM_DES3_ECB || m == CKM_DES3_CBC || m == CKM_DES3_CBC_PAD;
}

static int is_pad(CK_MECHANISM_TYPE m)
{
    return m == CKM_AES_CBC_PAD || m == CKM_DES3_CBC_PAD;
}

static mbedtls_cipher_mode_t mode_of(CK_MECHANISM_TYPE m)
{
    switch (m) {
    case CKM_AES_ECB: case CKM_DES3_ECB: return MBEDTLS_MODE_ECB;
    case CKM_AES_CTR: return MBEDTLS_MODE_CTR;
    default: return MBEDTLS_MODE_CBC;
    }
}

/* GCM (v2.40 2.10.3): IV of 1..256 bytes, tag of 32..128 bits as SP 800-38D allows. */
static CK_RV gcm_init(lwss_p11_crypt *c, const CK_MECHANISM *m, const uint8_t *key, size_t len)
{
    if (m->pParameter == NULL || m->ulParameterLen != sizeof(CK_GCM_PARAMS)) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    const CK_GCM_PARAMS *p = m->pParameter;
    int tag_ok = p->tag_bits == 32 || p->tag_bits == 64 ||
                 (p->tag_bits >= 96 && p->tag_bits <= 128 && p->tag_bits % 8 == 0);
    if (p->iv_ptr == NULL || p->iv_len == 0 || p->iv_len > 256 || !tag_ok ||
        (p->aad_ptr == NULL && p->aad_len > 0)) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    c->tag_len = p->tag_bits / 8;
    c->block = 16;
    if (mbedtls_gcm_setkey(&c->gcm, MBEDTLS_CIPHER_ID_AES, key, (unsigned)(len * 8)) != 0) {
        return CKR_FUNCTION_FAILED;
    }
    if (c->encrypt) {
        return mbedtls_gcm_starts(&c->gcm, MBEDTLS_GCM_ENCRYPT, p->iv_ptr, p->iv_len, p->aad_ptr,
                                  p->aad_len) == 0
                   ? CKR_OK
                   : CKR_FUNCTION_FAILED;
    }
    c->iv = malloc(p->iv_len);
    c->aad = malloc(p->aad_len > 0 ? p->aad_len : 1);
    if (c->iv == NULL || c->aad == NULL) {
        return CKR_HOST_MEMORY;
    }
    memcpy(c->iv, p->iv_ptr, p->iv_len);
    c->iv_len = p->iv_len;
    if (p->aad_len > 0) {
        memcpy(c->aad, p->aad_ptr, p->aad_len);
    }
    c->aad_len = p->aad_len;
    return CKR_OK;
}

/* The IV or counter block a mode takes from the mechanism parameter. */
static CK_RV iv_of(const CK_MECHANISM *m, size_t block, const uint8_t **iv, size_t *iv_len)
{
    *iv = NULL;
    *iv_len = 0;
    if (mode_of(m->mechanism) == MBEDTLS_MODE_ECB) {
        return CKR_OK; /* no parameter: ignored, as for every parameterless mechanism */
    }
    if (m->mechanism == CKM_AES_CTR) {
        const CK_AES_CTR_PARAMS *p = m->pParameter;
        if (p == NULL || m->ulParameterLen != sizeof(*p) || p->counter_bits == 0 ||
            p->counter_bits > 128) {
            return CKR_MECHANISM_PARAM_INVALID;
        }
        *iv = p->cb;
        *iv_len = sizeof(p->cb);
        return CKR_OK;
    }
    if (m->pParameter == NULL || m->ulParameterLen != block) {
        return CKR_MECHANISM_PARAM_INVALID;
    }
    *iv = m->pParameter;
    *iv_len = block;
    return CKR_OK;
}

CK_RV lwss_p11_sym_init(lwss_p11_crypt *c, const CK_MECHANISM *m, CK_KEY_TYPE kt,
                        const uint8_t *key, size_t len)
{
    mbedtls_cipher_init(&c->cipher);
    mbedtls_gcm_init(&c->gcm);
    if (kt != (is_des3(m->mechanism) ? CKK_DES3 : CKK_AES) || !lwss_p11_secret_len_ok(kt, len)) {
        return CKR_KEY_TYPE_INCONSISTENT;
    }
    if (m->mechanism == CKM_AES_GCM) {
        return gcm_init(c, m, key, len);
    }
    c->block = is_des3(m->mechanism) ? 8 : 16;
    const uint8_t *iv = NULL;
    size_t iv_len = 0;
    CK_RV rv = iv_of(m, c->block, &iv, &iv_len);
    if (rv != CKR_OK) {
        return rv;
    }
    mbedtls_cipher_mode_t mode = mode_of(m->mechanism);
    const mbedtls_cipher_info_t *info =
        is_des3(m->mechanism)
            ? mbedtls_cipher_info_from_type(mode == MBEDTLS_MODE_ECB ? MBEDTLS_CIPHER_DES_EDE3_ECB
                                                                     : MBEDTLS_CIPHER_DES_EDE3_CBC)
            : mbedtls_cipher_info_from_values(MBEDTLS_CIPHER_ID_AES, (int)(len * 8), mode);
    if (mode == MBEDTLS_MODE_CTR) {
        c->block = 1; /* a stream: no unfinished block */
    }
    if (info == NULL || mbedtls_cipher_setup(&c->cipher, info) != 0 ||
        mbedtls_cipher_setkey(&c->cipher, key, (int)(len * 8),
                              c->encrypt ? MBEDTLS_ENCRYPT : MBEDTLS_DECRYPT) != 0 ||
        (mode == MBEDTLS_MODE_CBC &&
         mbedtls_cipher_set_padding_mode(&c->cipher, MBEDTLS_PADDING_NONE) != 0) ||
        (iv != NULL && mbedtls_cipher_set_iv(&c->cipher, iv, iv_len) != 0) ||
        mbedtls_cipher_reset(&c->cipher) != 0) {
        return CKR_FUNCTION_FAILED;
    }
    return CKR_OK;
}

/* Whole blocks an Update emits now (CBC_PAD decryption keeps the last one
 * back for Final, which must strip its padding). */
static size_t update_emit(const lwss_p11_crypt *c, size_t in_len)
{
    if (c->block == 1) {
        return in_len;
    }
    if (c->mech == CKM_AES_GCM && !c->encrypt) {
        return 0;
    }
    size_t total = c->part_len + in_len;
    size_t emit = total - total % c->block;
    if (is_pad(c->mech) && !c->encrypt && emit > 0 && emit == total) {
        emit -= c->block;
    }
    return emit;
}

/* Output of Final with @p part bytes of an unfinished block (@p held:
 * the GCM ciphertext held back) - an upper bound for CBC_PAD decryption. */
static CK_RV final_len(const lwss_p11_crypt *c, size_t part, size_t held, size_t *out_len)
{
    CK_RV short_rv = c->encrypt ? CKR_DATA_LEN_RANGE : CKR_ENCRYPTED_DATA_LEN_RANGE;
    if (c->mech == CKM_AES_GCM) {
        if (!c->encrypt && held < c->tag_len) {
            return CKR_ENCRYPTED_DATA_LEN_RANGE;
        }
        *out_len = c->encrypt ? part + c->tag_len : held - c->tag_len;
        return CKR_OK;
    }
    if (is_pad(c->mech)) {
        if (!c->encrypt && part != c->block) {
            return CKR_ENCRYPTED_DATA_LEN_RANGE;
        }
        *out_len = c->encrypt ? c->block : c->block - 1; /* at least one byte of padding */
        return CKR_OK;
    }
    *out_len = 0;
    return c->block > 1 && part != 0 ? short_rv : CKR_OK;
}

CK_RV lwss_p11_sym_out_len(const lwss_p11_crypt *c, size_t in_len, int which, size_t *out_len)
{
    size_t emit = which == LWSS_P11_FINAL ? 0 : update_emit(c, in_len);
    if (which == LWSS_P11_UPDATE) {
        *out_len = emit;
        return CKR_OK;
    }
    int gcm_dec = c->mech == CKM_AES_GCM && !c->encrypt;
    size_t part = gcm_dec ? 0 : c->part_len + in_len - emit;
    size_t fin = 0;
    CK_RV rv = final_len(c, part, c->held_len + (gcm_dec ? in_len : 0), &fin);
    *out_len = emit + fin;
    return rv;
}

/* Whole blocks (any length for CTR) through mbedtls. */
static CK_RV run(lwss_p11_crypt *c, const uint8_t *in, size_t len, uint8_t *out)
{
    int ret = 0;
    size_t olen = 0;
    if (c->mech == CKM_AES_GCM) {
        ret = mbedtls_gcm_update(&c->gcm, len, in, out);
    } else if (mode_of(c->mech) == MBEDTLS_MODE_ECB) {
        for (size_t i = 0; i < len && ret == 0; i += c->block) {
            ret = mbedtls_cipher_update(&c->cipher, in + i, c->block, out + i, &olen);
        }
    } else if (len > 0) {
        ret = mbedtls_cipher_update(&c->cipher, in, len, out, &olen);
    }
    return ret == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
}

/* GCM decryption: keep the ciphertext (tag included) for Final. */
static CK_RV hold(lwss_p11_crypt *c, const uint8_t *in, size_t len)
{
    if (len > SIZE_MAX / 2 - c->held_len) {
        return CKR_DATA_LEN_RANGE;
    }
    if (c->held_len + len > c->held_cap) {
        size_t cap = (c->held_len + len) * 2;
        uint8_t *p = malloc(cap);
        if (p == NULL) {
            return CKR_HOST_MEMORY;
        }
        if (c->held_len > 0) {
            memcpy(p, c->held, c->held_len);
        }
        if (c->held != NULL) {
            mbedtls_platform_zeroize(c->held, c->held_cap);
            free(c->held);
        }
        c->held = p;
        c->held_cap = cap;
    }
    if (len > 0) {
        memcpy(c->held + c->held_len, in, len);
    }
    c->held_len += len;
    return CKR_OK;
}

CK_RV lwss_p11_sym_update(lwss_p11_crypt *c, const uint8_t *in, size_t in_len, uint8_t *out,
                          size_t *out_len)
{
    if (c->mech == CKM_AES_GCM && !c->encrypt) {
        *out_len = 0;
        return hold(c, in, in_len);
    }
    size_t emit = update_emit(c, in_len);
    size_t done = 0;
    CK_RV rv = CKR_OK;
    if (c->part_len > 0 && emit > 0) {
        size_t take = c->block - c->part_len;
        memcpy(c->part + c->part_len, in, take);
        rv = run(c, c->part, c->block, out);
        in += take;
        in_len -= take;
        emit -= c->block;
        done = c->block;
        c->part_len = 0;
    }
    if (rv == CKR_OK && emit > 0) {
        rv = run(c, in, emit, out + done);
        in += emit;
        in_len -= emit;
        done += emit;
    }
    assert(c->part_len + in_len <= sizeof(c->part));
    if (rv == CKR_OK && in_len > 0) {
        memcpy(c->part + c->part_len, in, in_len);
        c->part_len += in_len;
    }
    *out_len = done;
    return rv;
}

/* CBC_PAD Final: mbedtls' PKCS #7 on the last (partial or held) block. */
static CK_RV pad_final(lwss_p11_crypt *c, uint8_t *out, size_t *out_len)
{
    uint8_t last[16];
    size_t n = 0;
    size_t fin = 0;
    CK_RV rv = CKR_FUNCTION_FAILED;
    if (mbedtls_cipher_set_padding_mode(&c->cipher, MBEDTLS_PADDING_PKCS7) == 0 &&
        mbedtls_cipher_update(&c->cipher, c->part, c->part_len, last, &n) == 0 && n == 0) {
        int ret = mbedtls_cipher_finish(&c->cipher, last, &fin);
        rv = ret == 0 ? CKR_OK
             : ret == MBEDTLS_ERR_CIPHER_INVALID_PADDING ? CKR_ENCRYPTED_DATA_INVALID
                                                         : CKR_FUNCTION_FAILED;
    }
    if (rv == CKR_OK) {
        memcpy(out, last, fin);
        *out_len = fin;
    }
    mbedtls_platform_zeroize(last, sizeof(last));
    return rv;
}

static CK_RV gcm_final(lwss_p11_crypt *c, uint8_t *out, size_t *out_len)
{
    if (c->encrypt) {
        if (mbedtls_gcm_update(&c->gcm, c->part_len, c->part, out) != 0 ||
            mbedtls_gcm_finish(&c->gcm, out + c->part_len, c->tag_len) != 0) {
            return CKR_FUNCTION_FAILED;
        }
        *out_len = c->part_len + c->tag_len;
        return CKR_OK;
    }
    size_t n = c->held_len - c->tag_len;
    int ret = mbedtls_gcm_auth_decrypt(&c->gcm, n, c->iv, c->iv_len, c->aad, c->aad_len,
                                       c->held + n, c->tag_len, c->held, out);
    if (ret == MBEDTLS_ERR_GCM_AUTH_FAILED) {
        return CKR_ENCRYPTED_DATA_INVALID; /* mbedtls wiped what it wrote */
    }
    *out_len = n;
    return ret == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
}

CK_RV lwss_p11_sym_final(lwss_p11_crypt *c, uint8_t *out, size_t *out_len)
{
    if (c->mech == CKM_AES_GCM) {
        return gcm_final(c, out, out_len);
    }
    if (is_pad(c->mech)) {
        return pad_final(c, out, out_len);
    }
    *out_len = 0;
    return CKR_OK;
}

void lwss_p11_sym_free(lwss_p11_crypt *c)
{
    mbedtls_cipher_free(&c->cipher); /* both wipe their key schedules */
    mbedtls_gcm_free(&c->gcm);
    if (c->held != NULL) {
        mbedtls_platform_zeroize(c->held, c->held_cap);
        free(c->held);
    }
    free(c->iv);
    free(c->aad);
    c->held = c->iv = c->aad = NULL;
}
