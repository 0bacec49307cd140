/*
 * Internal interface shared by the files of the PKCS #11 token
 * (src/pkcs11/).  Not installed.  Include order matters: the standard
 * header comes first because its compatibility macros rename common
 * identifiers (value, count, ...) in every header included after it.
 */
#ifndef LWSS_PKCS11_TOKEN_H
#define LWSS_PKCS11_TOKEN_H

#include "lwss/pkcs11_std.h"
#include "src/pkcs11/token_store.h" /* the only way to storage; lwss_nvm_meta */
#include "src/core/core.h" /* lwss_os_lock: the token lock under the OS seam */

#include <mbedtls/cipher.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/** The one slot. */
#define LWSS_P11_SLOT_ID 0
/** Sessions open at once (all slots of the static table). */
#define LWSS_P11_MAX_SESSIONS 256
/** Largest object value accepted by C_CreateObject. */
#define LWSS_P11_MAX_VALUE 16384
/** PIN length bounds reported in CK_TOKEN_INFO and enforced. */
#define LWSS_P11_PIN_MIN 4
/** @see LWSS_P11_PIN_MIN */
#define LWSS_P11_PIN_MAX 64
/** Class of the token's own records (PIN hashes, token label): never visible to clients. */
#define LWSS_P11_CKO_INTERNAL 0xC1550000u

/** A sign or verify operation in progress. */
typedef struct lwss_p11_op {
    int active;
    CK_MECHANISM_TYPE mech;
    int multipart;                 /* an Update was called: only Final may follow */
    mbedtls_pk_context pk;         /* CKM_ECDSA, CKM_RSA_PKCS: kept after the operation */
    uint8_t *key_der;              /* stored form of the key in pk (NULL: none) */
    size_t key_der_len;
    mbedtls_md_context_t hmac;     /* CKM_SHA256_HMAC */
    mbedtls_cipher_context_t cmac; /* CKM_AES_CMAC */
} lwss_p11_op;

/** One session: the static table never moves, so its mutex outlives it. */
typedef struct lwss_p11_session {
    pthread_mutex_t lock;
    int open;
    CK_SESSION_HANDLE handle;
    CK_FLAGS flags;
    int digest_active;
    mbedtls_sha256_context sha;
    int find_active;
    CK_OBJECT_HANDLE *found;
    size_t found_count;
    size_t found_pos;
    lwss_p11_op sign;
    lwss_p11_op verify;
} lwss_p11_session;

/* core.c ------------------------------------------------------------ */
/** CKR_OK when C_Initialize ran, else CKR_CRYPTOKI_NOT_INITIALIZED. */
CK_RV lwss_p11_check_init(void);
/** Serialise NVM access and token-wide state. */
void lwss_p11_store_lock(void);
/** @see lwss_p11_store_lock */
void lwss_p11_store_unlock(void);

/* random.c ---------------------------------------------------------- */
/** Seed the DRBG from lwss_entropy_poll().  @return CKR_OK or CKR_FUNCTION_FAILED. */
CK_RV lwss_p11_random_init(void);
/** Free the DRBG. */
void lwss_p11_random_free(void);
/** mbedtls f_rng over the token DRBG (thread-safe, reseeds after fork). */
int lwss_p11_random(void *ctx, unsigned char *out, size_t len);

/* session.c --------------------------------------------------------- */
/** Look up and lock a session.  @return CKR_OK, CKR_SESSION_HANDLE_INVALID, CKR_CRYPTOKI_NOT_INITIALIZED. */
CK_RV lwss_p11_session_get(CK_SESSION_HANDLE handle, lwss_p11_session **out);
/** Unlock a session from lwss_p11_session_get(). */
void lwss_p11_session_put(lwss_p11_session *s);
/** Close every session (C_Finalize, C_CloseAllSessions). */
void lwss_p11_session_close_all(void);
/** Sessions open now, and the read/write ones among them. */
void lwss_p11_session_counts(CK_ULONG *all, CK_ULONG *rw);
/** End a sign/verify op; its parsed key stays cached for the next *Init. */
void lwss_p11_op_reset(lwss_p11_op *op);
/** End the op; its parsed key goes to the token-wide cache: session close. */
void lwss_p11_op_release(lwss_p11_op *op);
/** Release the find cursor of @p s. */
void lwss_p11_find_reset(lwss_p11_session *s);

/* key_cache.c ------------------------------------------------------- */
/** Hand the op's parsed key to the token-wide cache (the op keeps none). */
void lwss_p11_key_cache_put(lwss_p11_op *op);
/**
 * Move the cached parse of exactly @p der (@p len bytes) into @p op, which
 * drops its own first.  @return 1 when found, 0 otherwise.
 */
int lwss_p11_key_cache_take(lwss_p11_op *op, const uint8_t *der, size_t len);
/** Wipe every cached key (C_Finalize, an object stored or destroyed). */
void lwss_p11_key_cache_clear(void);
/** Keys cached now (tests). */
size_t lwss_p11_key_cache_count(void);

/* login.c ----------------------------------------------------------- */
/** 1 when private objects are usable now (no user PIN set, or user logged in). */
int lwss_p11_private_ok(void);
/** 1 when a user PIN is set (the token then requires login). */
int lwss_p11_login_required(void);
/** CKU_USER, CKU_SO, or -1 when nobody is logged in. */
int lwss_p11_login_state(void);
/** Forget the login state (last session closed, C_Finalize). */
void lwss_p11_logout_all(void);
/** Token label as stored by C_InitToken (32 bytes, blank padded). */
void lwss_p11_token_label(unsigned char out[32]);

/* object.c ---------------------------------------------------------- */
/** Object handle -> metadata, hiding internal and (when not logged in) private objects. */
CK_RV lwss_p11_obj_meta(CK_OBJECT_HANDLE h, lwss_nvm_meta *meta);
/**
 * Store an object (replacing (label, class)).  Honours the test fault
 * injection counter.  @return CKR_OK or CKR_DEVICE_MEMORY / CKR_DEVICE_ERROR.
 */
CK_RV lwss_p11_obj_save(const lwss_nvm_meta *meta, const uint8_t *der, size_t len,
                        CK_OBJECT_HANDLE *out);
/** Stored value of a visible object (free with lwss_token_store_free_value). */
CK_RV lwss_p11_obj_load_value(CK_OBJECT_HANDLE h, uint8_t **val, size_t *len);
/** Load the raw value of a secret key object (free with lwss_token_store_free_value). */
CK_RV lwss_p11_obj_load_secret(CK_OBJECT_HANDLE h, uint8_t **val, size_t *len,
                               lwss_nvm_meta *meta);
/** Fault injection, test builds only (LWSS_TEST_HOOKS): make the @p nth next save fail (0: never). */
void lwss_p11_fault_save(int nth);

/* attr.c ------------------------------------------------------------ */
/** An attribute value produced for one object. */
typedef struct lwss_p11_attr_out {
    const uint8_t *p;
    size_t len;
    uint8_t buf[600];
} lwss_p11_attr_out;

/** A loaded object: metadata, value and lazily parsed forms. */
typedef struct lwss_p11_obj {
    lwss_nvm_meta meta;
    uint8_t *val;
    size_t val_len;
    int parsed;        /* 0 not yet, 1 ok, -1 failed */
    mbedtls_pk_context pk;
} lwss_p11_obj;

/** Load the value of @p h into @p o (meta already filled). */
CK_RV lwss_p11_obj_open(CK_OBJECT_HANDLE h, lwss_p11_obj *o);
/** Release what lwss_p11_obj_open() loaded (wiping). */
void lwss_p11_obj_close(lwss_p11_obj *o);
/**
 * Value of attribute @p type of @p o.
 * @return CKR_OK, CKR_ATTRIBUTE_SENSITIVE, CKR_ATTRIBUTE_TYPE_INVALID, CKR_DEVICE_ERROR.
 */
CK_RV lwss_p11_attr_get(lwss_p11_obj *o, CK_ATTRIBUTE_TYPE type, lwss_p11_attr_out *out);
/** 1 when the attribute can be answered from the metadata alone. */
int lwss_p11_attr_from_meta(CK_ATTRIBUTE_TYPE type);

/* template.c -------------------------------------------------------- */
/** What C_CreateObject / C_GenerateKeyPair make of a template. */
typedef struct lwss_p11_new_obj {
    lwss_nvm_meta meta;
    uint8_t *der;          /* heap, wiped on free */
    size_t der_len;
} lwss_p11_new_obj;
/** Validate a C_CreateObject template and build the stored form. */
CK_RV lwss_p11_template_create(const CK_ATTRIBUTE *tmpl, CK_ULONG n, lwss_p11_new_obj *out);
/** Free what lwss_p11_template_create() built. */
void lwss_p11_new_obj_free(lwss_p11_new_obj *o);
/**
 * Common attributes of a key-generation template (label, id, token,
 * private; class and key type checked against @p cls / @p key_type).
 * The EC_PARAMS of a public template are checked when @p need_params.
 */
CK_RV lwss_p11_template_keygen(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_CLASS cls,
                               int need_params, lwss_nvm_meta *meta);
/** DER of the P-256 named-curve OID (CKA_EC_PARAMS). */
extern const uint8_t lwss_p11_p256_oid[10];
/** Build SEC1 private DER (with public key) from an EC keypair. */
CK_RV lwss_p11_der_from_pk(mbedtls_pk_context *pk, int private_part, uint8_t **der,
                           size_t *len);

#endif
