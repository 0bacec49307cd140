/**
 * @file pkcs11.h
 * @brief lwss additions to the PKCS #11 token (the C_* API itself is the
 *        standard one, from lwss/pkcs11_std.h).
 *
 * The token is one slot (ID LWSS_PKCS11_SLOT_ID) over the NVM image of
 * lwss/nvm.h.  Its path: lwss_nvm_set_path() before C_Initialize, else
 * $LWSS_NVM, else "lwss-nvm.img".  The same code is linked into liblwss and
 * built as the loadable module lwss-pkcs11.so (exports C_GetFunctionList).
 *
 * Mechanisms: CKM_ECDSA (P-256, 32-byte hash in, raw r||s out),
 * CKM_RSA_PKCS (2048, DigestInfo in), CKM_RSA_X_509 (2048, raw),
 * CKM_EC_KEY_PAIR_GEN (P-256), CKM_RSA_PKCS_KEY_PAIR_GEN (2048, 3072, 4096
 * bits; CKM_RSA_PKCS / CKM_RSA_X_509 sign with those sizes too), CKM_SHA256,
 * CKM_SHA256_HMAC, CKM_AES_CMAC.
 * None takes a parameter: pParameter / ulParameterLen are ignored.
 *
 * Login / PIN policy:
 * - A fresh image has no PIN set: user and SO PIN are LWSS_PKCS11_DEFAULT_PIN
 *   ("0000"), C_Login accepts exactly that and refuses any other PIN, and
 *   CKF_LOGIN_REQUIRED is clear: private objects are usable without login.
 * - After a user PIN is set (C_InitPIN, C_SetPIN, lwss-provision --pin),
 *   CKF_LOGIN_REQUIRED is set and private objects (private and secret keys
 *   always, other objects with CKA_PRIVATE) are invisible and unusable until
 *   C_Login(CKU_USER) with that PIN.  Wrong PIN: CKR_PIN_INCORRECT.
 * - Wrong PINs in a row are counted per user in the image; after
 *   LWSS_P11_PIN_MAX_TRIES (default 10) that PIN is locked (CKR_PIN_LOCKED;
 *   CK_TOKEN_INFO flags *_PIN_COUNT_LOW / _FINAL_TRY / _LOCKED).  A right
 *   PIN clears the count; the SO unlocks the user PIN with C_InitPIN.
 * - PINs are 4..64 bytes, kept as salted PBKDF2-HMAC-SHA256 in the image.
 * - Login ends with C_Logout, the close of the last session, C_Finalize.
 * - The token is initialised from the start (CKF_TOKEN_INITIALIZED) with SO
 *   PIN "0000" until the SO changes it with C_SetPIN.  C_InitToken needs the
 *   current SO PIN (else CKR_PIN_INCORRECT, nothing changes), erases every
 *   object and the user PIN, and keeps the SO PIN.
 *
 * Objects are token objects only (CKA_TOKEN false is refused), not
 * modifiable; an object is named by (CKA_LABEL, CKA_CLASS) and creating one
 * with the label and class of an existing one replaces it.  An object
 * created without CKA_LABEL gets "id-<hex CKA_ID>" or "obj-<random hex>".
 */
#ifndef LWSS_PKCS11_H
#define LWSS_PKCS11_H

#include "lwss/pkcs11_std.h"

#include <stddef.h>
#include "lwss/config_defaults.h"
#include "lwss/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The token's only slot. */
#define LWSS_PKCS11_SLOT_ID 0
/* LWSS_PKCS11_DEFAULT_PIN (user and SO PIN of an image on which none was
 * set): lwss/config_defaults.h. */

/** Which half of a key lwss_pkcs11_import_key() imports. */
typedef enum lwss_pkcs11_key_part {
    LWSS_PKCS11_PRIVATE = 0, /**< CKO_PRIVATE_KEY (input must be a private key) */
    LWSS_PKCS11_PUBLIC = 1,  /**< CKO_PUBLIC_KEY (input: public or private key) */
} lwss_pkcs11_key_part;

/**
 * Import a key given as PEM or DER (PKCS#8, SEC1, PKCS#1 or
 * SubjectPublicKeyInfo) through C_CreateObject, by components as PKCS #11
 * wants it (EC: CKA_VALUE + CKA_EC_PARAMS; RSA: modulus, exponents, primes,
 * CRT values).  EC P-256 and RSA 2048 only.
 * @param session  an open R/W session
 * @param label    CKA_LABEL (NUL-terminated, 1..64 bytes)
 * @param id       CKA_ID or NULL; @p id_len its length (0..64)
 * @param data     the key; @p len its length (PEM need not be NUL-terminated)
 * @param part     which half to create
 * @param out      receives the new object handle
 * @return CKR_OK; CKR_ARGUMENTS_BAD; CKR_ATTRIBUTE_VALUE_INVALID (not a key,
 *         or a public key where a private one is needed); CKR_CURVE_NOT_SUPPORTED;
 *         CKR_KEY_SIZE_RANGE (RSA not 2048); CKR_HOST_MEMORY; or what
 *         C_CreateObject returns.
 */
LWSS_API CK_RV lwss_pkcs11_import_key(CK_SESSION_HANDLE session, const char *label,
                             const unsigned char *id, size_t id_len, const unsigned char *data,
                             size_t len, lwss_pkcs11_key_part part, CK_OBJECT_HANDLE *out);

/**
 * Import the first X.509 certificate of @p data (PEM or DER) as a
 * CKO_CERTIFICATE / CKC_X_509 object through C_CreateObject.
 * @return CKR_OK; CKR_ARGUMENTS_BAD; CKR_ATTRIBUTE_VALUE_INVALID (no
 *         certificate); CKR_HOST_MEMORY; or what C_CreateObject returns.
 */
LWSS_API CK_RV lwss_pkcs11_import_cert(CK_SESSION_HANDLE session, const char *label,
                              const unsigned char *id, size_t id_len,
                              const unsigned char *data, size_t len, CK_OBJECT_HANDLE *out);

#ifdef __cplusplus
}
#endif

#endif /* LWSS_PKCS11_H */
