/*
 * AES key wrap: RFC 3394 (CKM_AES_KEY_WRAP) and RFC 5649, with padding
 * (CKM_AES_KEY_WRAP_PAD).  mbedtls 2.28 has these as mbedtls_nist_kw_*,
 * but Debian builds it without MBEDTLS_NIST_KW_C, so the wrapping function
 * W (RFC 3394 2.2.1) is written here over mbedtls_aes_crypt_ecb; the
 * integrity check is constant-time and a failed unwrap leaves no output.
 */
#include "src/pkcs11/cipher.h"

#include <mbedtls/aes.h>
#include <mbedtls/platform_util.h>
#include <string.h>

#define SEMI 8 /* one 64-bit semiblock */

static const uint8_t kw_iv[SEMI] = {0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6};
static const uint8_t kwp_iv[4] = {0xA6, 0x59, 0x59, 0xA6}; /* RFC 5649 3: AIV high half */

size_t lwss_p11_kw_wrapped_len(int pad, size_t len)
{
    return pad ? (len + SEMI - 1) / SEMI * SEMI + SEMI : len + SEMI;
}

/* A ^= t, big-endian 64-bit. */
static void xor_t(uint8_t a[SEMI], uint64_t t)
{
    for (int i = SEMI - 1; i >= 0 && t != 0; i--) {
        a[i] ^= (uint8_t)(t & 0xFF);
        t >>= 8;
    }
}

/* RFC 3394 2.2.1 W: @p a (the IV) and @p n semiblocks @p r, in place. */
static int w_wrap(mbedtls_aes_context *aes, uint8_t a[SEMI], uint8_t *r, size_t n)
{
    uint8_t b[16];
    int ret = 0;
    for (uint64_t j = 0; j < 6 && ret == 0; j++) {
        for (size_t i = 0; i < n && ret == 0; i++) {
            memcpy(b, a, SEMI);
            memcpy(b + SEMI, r + i * SEMI, SEMI);
            ret = mbedtls_aes_crypt_ecb(aes, MBEDTLS_AES_ENCRYPT, b, b);
            memcpy(a, b, SEMI);
            xor_t(a, n * j + i + 1);
            memcpy(r + i * SEMI, b + SEMI, SEMI);
        }
    }
    mbedtls_platform_zeroize(b, sizeof(b));
    return ret;
}

/* RFC 3394 2.2.2 W^-1, in place; @p a gets the recovered IV. */
static int w_unwrap(mbedtls_aes_context *aes, uint8_t a[SEMI], uint8_t *r, size_t n)
{
    uint8_t b[16];
    int ret = 0;
    for (uint64_t j = 6; j-- > 0 && ret == 0;) {
        for (size_t i = n; i-- > 0 && ret == 0;) {
            memcpy(b, a, SEMI);
            xor_t(b, n * j + i + 1);
            memcpy(b + SEMI, r + i * SEMI, SEMI);
            ret = mbedtls_aes_crypt_ecb(aes, MBEDTLS_AES_DECRYPT, b, b);
            memcpy(a, b, SEMI);
            memcpy(r + i * SEMI, b + SEMI, SEMI);
        }
    }
    mbedtls_platform_zeroize(b, sizeof(b));
    return ret;
}

CK_RV lwss_p11_kw_wrap(int pad, const uint8_t *kek, size_t kek_len, const uint8_t *in,
                       size_t len, uint8_t *out)
{
    if (pad ? (len == 0 || len > UINT32_MAX) : (len < 2 * SEMI || len % SEMI != 0)) {
        return CKR_KEY_SIZE_RANGE;
    }
    size_t total = lwss_p11_kw_wrapped_len(pad, len);
    uint8_t a[SEMI];
    memcpy(a, kw_iv, SEMI);
    if (pad) { /* RFC 5649 3: AIV = A65959A6 || MLI, zero padding */
        memcpy(a, kwp_iv, 4);
        for (int i = 0; i < 4; i++) {
            a[4 + i] = (uint8_t)(len >> (24 - 8 * i));
        }
    }
    memset(out + SEMI, 0, total - SEMI);
    memcpy(out + SEMI, in, len);
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int ret = mbedtls_aes_setkey_enc(&aes, kek, (unsigned)(kek_len * 8));
    if (ret == 0 && total == 2 * SEMI) { /* RFC 5649 4.1: one block, plain AES */
        memcpy(out, a, SEMI);
        ret = mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_ENCRYPT, out, out);
    } else if (ret == 0) {
        ret = w_wrap(&aes, a, out + SEMI, total / SEMI - 1);
        memcpy(out, a, SEMI);
    }
    mbedtls_aes_free(&aes);
    return ret == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
}

/* RFC 5649 3: the AIV and the zero padding; 0 when they check out. */
static unsigned kwp_check(const uint8_t a[SEMI], const uint8_t *p, size_t n, size_t *len)
{
    unsigned bad = 0;
    for (int i = 0; i < 4; i++) {
        bad |= a[i] ^ kwp_iv[i];
    }
    uint32_t mli = ((uint32_t)a[4] << 24) | ((uint32_t)a[5] << 16) | ((uint32_t)a[6] << 8) | a[7];
    bad |= mli == 0 || mli > n || mli <= n - SEMI;
    if (bad) {
        return 1;
    }
    uint8_t z = 0;
    for (size_t i = mli; i < n; i++) {
        z |= p[i];
    }
    *len = mli;
    return z != 0;
}

CK_RV lwss_p11_kw_unwrap(int pad, const uint8_t *kek, size_t kek_len, const uint8_t *in,
                         size_t len, uint8_t *out, size_t *out_len)
{
    size_t min = pad ? 2 * SEMI : 3 * SEMI;
    if (len < min || len % SEMI != 0) {
        return CKR_WRAPPED_KEY_LEN_RANGE;
    }
    size_t n = len - SEMI;
    uint8_t a[SEMI];
    uint8_t blk[16];
    mbedtls_aes_context aes;
    mbedtls_aes_init(&aes);
    int ret = mbedtls_aes_setkey_dec(&aes, kek, (unsigned)(kek_len * 8));
    if (ret == 0 && len == 2 * SEMI) {
        ret = mbedtls_aes_crypt_ecb(&aes, MBEDTLS_AES_DECRYPT, in, blk);
        memcpy(a, blk, SEMI);
        memcpy(out, blk + SEMI, SEMI);
    } else if (ret == 0) {
        memcpy(a, in, SEMI);
        memcpy(out, in + SEMI, n);
        ret = w_unwrap(&aes, a, out, n / SEMI);
    }
    mbedtls_aes_free(&aes);
    mbedtls_platform_zeroize(blk, sizeof(blk));
    unsigned bad = ret != 0;
    size_t got = n;
    if (!bad && pad) {
        bad = kwp_check(a, out, n, &got);
    } else if (!bad) {
        uint8_t d = 0;
        for (int i = 0; i < SEMI; i++) {
            d |= a[i] ^ kw_iv[i];
        }
        bad = d != 0;
    }
    if (bad) {
        mbedtls_platform_zeroize(out, n);
        return ret != 0 ? CKR_FUNCTION_FAILED : CKR_WRAPPED_KEY_INVALID;
    }
    *out_len = got;
    return CKR_OK;
}
