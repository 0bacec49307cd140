/*
 * Encrypt / decrypt state shared by cipher.c (the C_Encrypt* / C_Decrypt*
 * entry points), cipher_sym.c (AES and DES3 modes over mbedtls_cipher and
 * mbedtls_gcm), cipher_rsa.c (CKM_RSA_PKCS, CKM_RSA_PKCS_OAEP) and wrap.c.
 * Not installed.
 */
#ifndef LWSS_PKCS11_CIPHER_H
#define LWSS_PKCS11_CIPHER_H

#include "src/pkcs11/token.h"

#include <mbedtls/gcm.h>

/** One encrypt or decrypt operation. */
typedef struct lwss_p11_crypt {
    CK_MECHANISM_TYPE mech;
    int encrypt;                     /* 1: encrypt, 0: decrypt */
    int mode;                        /* LWSS_P11_MODE_*: which calls may continue it */
    size_t block;                    /* cipher block: 16 (AES), 8 (DES3); 1 for CTR */
    mbedtls_cipher_context_t cipher; /* ECB, CBC, CTR */
    mbedtls_gcm_context gcm;         /* CKM_AES_GCM */
    mbedtls_pk_context pk;           /* RSA */
    uint8_t part[16];                /* input of an unfinished block */
    size_t part_len;
    size_t tag_len;                  /* GCM tag bytes */
    uint8_t *iv, *aad;               /* GCM decrypt: kept for the one-shot check */
    size_t iv_len, aad_len;
    uint8_t *held;                   /* GCM decrypt: the ciphertext until Final */
    size_t held_len, held_cap;
} lwss_p11_crypt;

/** 1 for the AES / DES3 mechanisms of cipher_sym.c. */
int lwss_p11_sym_mech(CK_MECHANISM_TYPE m);
/**
 * Set up @p c (zeroed, mech and encrypt set) for mechanism @p m with key
 * type @p kt and value @p key.
 * @return CKR_OK, CKR_KEY_TYPE_INCONSISTENT, CKR_MECHANISM_PARAM_INVALID,
 *         CKR_HOST_MEMORY, CKR_FUNCTION_FAILED.
 */
CK_RV lwss_p11_sym_init(lwss_p11_crypt *c, const CK_MECHANISM *m, CK_KEY_TYPE kt,
                        const uint8_t *key, size_t len);
/** lwss_p11_sym_out_len: an Update of the input. */
#define LWSS_P11_UPDATE 0
/** lwss_p11_sym_out_len: Final (no input). */
#define LWSS_P11_FINAL 1
/** lwss_p11_sym_out_len: a single-part call (Update and Final) on the input. */
#define LWSS_P11_ONCE 2
/**
 * Output bytes of the step @p which (LWSS_P11_UPDATE, _FINAL, _ONCE) on
 * @p in_len bytes of input - an upper bound where padding is stripped.
 * @return CKR_OK, CKR_DATA_LEN_RANGE, CKR_ENCRYPTED_DATA_LEN_RANGE.
 */
CK_RV lwss_p11_sym_out_len(const lwss_p11_crypt *c, size_t in_len, int which, size_t *out_len);
/** Process @p in (the caller checked @p out holds lwss_p11_sym_out_len bytes). */
CK_RV lwss_p11_sym_update(lwss_p11_crypt *c, const uint8_t *in, size_t in_len, uint8_t *out,
                          size_t *out_len);
/**
 * Finish: padding, GCM tag.
 * @return CKR_OK, CKR_ENCRYPTED_DATA_INVALID (bad padding or tag), CKR_FUNCTION_FAILED.
 */
CK_RV lwss_p11_sym_final(lwss_p11_crypt *c, uint8_t *out, size_t *out_len);
/** Wipe and free what lwss_p11_sym_init() set up. */
void lwss_p11_sym_free(lwss_p11_crypt *c);

/** 1 for CKM_RSA_PKCS and CKM_RSA_PKCS_OAEP. */
int lwss_p11_rsa_mech(CK_MECHANISM_TYPE m);
/**
 * Parse the RSA key (DER as stored: private or public) into @p c->pk and
 * apply the mechanism's padding and OAEP parameters.
 * @return CKR_OK, CKR_MECHANISM_PARAM_INVALID, CKR_DEVICE_ERROR.
 */
CK_RV lwss_p11_rsa_init(lwss_p11_crypt *c, const CK_MECHANISM *m, CK_OBJECT_CLASS cls,
                        const uint8_t *der, size_t len);
/** Output bytes of a single-part call: the modulus length (an upper bound for decrypt). */
size_t lwss_p11_rsa_out_len(const lwss_p11_crypt *c);
/**
 * Encrypt or decrypt @p in into @p out (@p *out_len: room in, bytes out).
 * @return CKR_OK, CKR_DATA_LEN_RANGE, CKR_ENCRYPTED_DATA_LEN_RANGE,
 *         CKR_ENCRYPTED_DATA_INVALID, CKR_BUFFER_TOO_SMALL (decrypt: *out_len
 *         set to the exact length), CKR_FUNCTION_FAILED.
 */
CK_RV lwss_p11_rsa_crypt(lwss_p11_crypt *c, const uint8_t *in, size_t in_len, uint8_t *out,
                         size_t *out_len);

/**
 * Start an operation: key @p key checked (class, type, usage attribute
 * @p usage: CKA_ENCRYPT, CKA_DECRYPT, CKA_WRAP, CKA_UNWRAP) and loaded.
 * @return CKR_OK, CKR_MECHANISM_INVALID, CKR_KEY_HANDLE_INVALID,
 *         CKR_KEY_TYPE_INCONSISTENT, CKR_KEY_FUNCTION_NOT_PERMITTED,
 *         CKR_MECHANISM_PARAM_INVALID, CKR_HOST_MEMORY, ...
 */
CK_RV lwss_p11_crypt_start(lwss_p11_crypt **out, const CK_MECHANISM *m, CK_OBJECT_HANDLE key,
                           int encrypt, CK_ATTRIBUTE_TYPE usage);
/**
 * A whole single-part operation into @p out (@p *out_len: room in, bytes
 * out); the operation is finished after it either way.
 * @return as C_Encrypt / C_Decrypt (CKR_BUFFER_TOO_SMALL with the length).
 */
CK_RV lwss_p11_crypt_once(lwss_p11_crypt *c, const uint8_t *in, size_t in_len, uint8_t *out,
                          size_t *out_len);

/* aes_kw.c ---------------------------------------------------------- */
/** Bytes of an RFC 3394 (@p pad 0) or RFC 5649 (@p pad 1) wrapping of @p len bytes. */
size_t lwss_p11_kw_wrapped_len(int pad, size_t len);
/**
 * Wrap @p in under the AES key @p kek into @p out (lwss_p11_kw_wrapped_len bytes).
 * @return CKR_OK, CKR_KEY_SIZE_RANGE (RFC 3394: not 16+ bytes in 8-byte steps),
 *         CKR_FUNCTION_FAILED.
 */
CK_RV lwss_p11_kw_wrap(int pad, const uint8_t *kek, size_t kek_len, const uint8_t *in,
                       size_t len, uint8_t *out);
/**
 * Unwrap @p in into @p out (room for @p len - 8 bytes; wiped on failure).
 * @return CKR_OK, CKR_WRAPPED_KEY_LEN_RANGE, CKR_WRAPPED_KEY_INVALID (integrity
 *         check failed), CKR_FUNCTION_FAILED.
 */
CK_RV lwss_p11_kw_unwrap(int pad, const uint8_t *kek, size_t kek_len, const uint8_t *in,
                         size_t len, uint8_t *out, size_t *out_len);

#endif
