/*
 * Internal interface shared by the files of the PKCS #11 token
 * (src/pkcs11/).  Not installed.  Include order matters: the standard
 * header comes first because its compatibility macros rename common
 * identifiers (value, count, ...) in every header included after it.
 */
#ifndef LWSS_PKCS11_TOKEN_H
#define LWSS_PKCS11_TOKEN_H

#include "lwss/pkcs11_std.h"
#include "lwss/config_defaults.h"
#include "src/pkcs11/token_store.h" /* the only way to storage; lwss_nvm_meta */
#include "src/core/core.h" /* lwss_os_lock: the token lock under the OS seam */

#include <mbedtls/cipher.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/** The one slot. */
#define LWSS_P11_SLOT_ID 0
/* LWSS_P11_MAX_SESSIONS, _MAX_VALUE, _PIN_MIN, _PIN_MAX: lwss/config_defaults.h */
/** Class of the token's own records (PIN hashes, token label): never visible to clients. */
#define LWSS_P11_CKO_INTERNAL 0xC1550000u

/** Fresh operation: single- or multi-part may follow. */
#define LWSS_P11_MODE_FRESH 0
/** An Update was called: only Update and Final may follow (v2.40 5.2). */
#define LWSS_P11_MODE_MULTI 1
/** A single-part call answered a length query: only that call may follow. */
#define LWSS_P11_MODE_SINGLE 2

/** A sign or verify operation in progress. */
typedef struct lwss_p11_op {
    int active;
    CK_MECHANISM_TYPE mech;
    int kind;                      /* LWSS_P11_K_*: what mech does */
    mbedtls_md_type_t md_type;     /* hash of a hash-and-sign mech or HMAC; NONE otherwise */
    mbedtls_md_type_t pss_hash;    /* CKM_*RSA_PKCS_PSS: hashAlg = MGF1 hash */
    int pss_salt;                  /* CKM_*RSA_PKCS_PSS: sLen */
    mbedtls_md_context_t md;       /* hash-and-sign: the running hash */
    int mode;                      /* LWSS_P11_MODE_*: which calls may continue it */
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
    int digest_mode;               /* LWSS_P11_MODE_* */
    mbedtls_md_context_t dmd;      /* the digest in progress */
    int find_active;
    CK_OBJECT_HANDLE *found;
    size_t found_count;
    size_t found_pos;
    lwss_p11_op sign;
    lwss_p11_op verify;
    struct lwss_p11_crypt *enc;    /* C_Encrypt* in progress (cipher.c), else NULL */
    struct lwss_p11_crypt *dec;    /* C_Decrypt* in progress */
} lwss_p11_session;

/* hashsign.c -------------------------------------------------------- */
/** What a sign/verify mechanism does. */
enum {
    LWSS_P11_K_ECDSA = 1, /**< CKM_ECDSA, CKM_ECDSA_SHA* */
    LWSS_P11_K_RSA_PKCS,  /**< CKM_RSA_PKCS, CKM_SHA*_RSA_PKCS */
    LWSS_P11_K_RSA_PSS,   /**< CKM_RSA_PKCS_PSS, CKM_SHA*_RSA_PKCS_PSS */
    LWSS_P11_K_RSA_X509,  /**< CKM_RSA_X_509 */
    LWSS_P11_K_HMAC,      /**< CKM_SHA*_HMAC */
    LWSS_P11_K_CMAC,      /**< CKM_AES_CMAC */
};
/**
 * Kind and hash (MBEDTLS_MD_NONE: the caller hashes, or a CMAC) of sign /
 * verify mechanism @p mech.  @return 1, or 0 when the token has no such mechanism.
 */
int lwss_p11_sig_mech(CK_MECHANISM_TYPE mech, int *kind, mbedtls_md_type_t *md);
/** The hash of digest mechanism @p mech (CKM_SHA_1 ... CKM_SHA512), else MBEDTLS_MD_NONE. */
mbedtls_md_type_t lwss_p11_digest_md(CK_MECHANISM_TYPE mech);
/**
 * CK_RSA_PKCS_PSS_PARAMS of @p m for a key of @p key_bytes: hashAlg (the
 * mechanism's own hash when @p mech_md is not NONE), MGF1 with that same
 * hash, sLen + hLen + 2 <= key bytes.
 * @return CKR_OK, or CKR_MECHANISM_PARAM_INVALID.
 */
CK_RV lwss_p11_pss_params(const CK_MECHANISM *m, mbedtls_md_type_t mech_md, size_t key_bytes,
                          mbedtls_md_type_t *hash, int *salt);
/** RSA sign of @p hash (@p len bytes) by kind RSA_PKCS / RSA_PSS of @p op into @p sig. */
CK_RV lwss_p11_rsa_sign_hash(lwss_p11_op *op, const uint8_t *hash, size_t len, uint8_t *sig);
/** @see lwss_p11_rsa_sign_hash.  @return CKR_OK or CKR_SIGNATURE_INVALID. */
CK_RV lwss_p11_rsa_verify_hash(lwss_p11_op *op, const uint8_t *hash, size_t len,
                               const uint8_t *sig);

/* core.c ------------------------------------------------------------ */
/** CKR_OK when C_Initialize ran, else CKR_CRYPTOKI_NOT_INITIALIZED. */
CK_RV lwss_p11_check_init(void);
/** Serialise NVM access and token-wide state. */
void lwss_p11_store_lock(void);
/** @see lwss_p11_store_lock */
void lwss_p11_store_unlock(void);
/**
 * Open the image if C_Initialize left that for later (a forked child,
 * whose parent may hold the image lock).  @return CKR_OK or CKR_DEVICE_ERROR.
 */
CK_RV lwss_p11_store_ready(void);

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
/**
 * In a forked child: free the sessions copied from the parent without
 * waiting on locks that threads of the parent held at fork().
 */
void lwss_p11_session_forget_all(void);
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

/* cipher.c --------------------------------------------------------- */
/** End an encrypt / decrypt operation, wiping its state (@p c may point to NULL). */
void lwss_p11_crypt_free(struct lwss_p11_crypt **c);

/* secret_key.c ------------------------------------------------------ */
/** 1 when @p len bytes is a valid value length of a CKK_AES, CKK_DES3, CKK_GENERIC_SECRET or
 *  CKK_SHA*_HMAC key (0 for any other key type). */
int lwss_p11_secret_len_ok(CK_KEY_TYPE kt, size_t len);
/**
 * CKA_CHECK_VALUE (v2.40): the first 3 bytes of the ECB encryption of a zero
 * block (AES, DES3) or of SHA-1 of the value (generic secret, CKK_SHA*_HMAC).
 * @return CKR_OK, or CKR_ATTRIBUTE_TYPE_INVALID (a key type without one).
 */
CK_RV lwss_p11_secret_check_value(CK_KEY_TYPE kt, const uint8_t *val, size_t len, uint8_t out[3]);

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
/** CKF_USER_PIN_COUNT_LOW/_FINAL_TRY/_LOCKED and the SO_ ones, from the try counter. */
CK_FLAGS lwss_p11_pin_flags(void);
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
/**
 * Store a new object: in storage, or (@p session_obj) as a session object
 * of session @p owner.  @return as lwss_p11_obj_save / lwss_p11_sessobj_add.
 */
CK_RV lwss_p11_obj_store(CK_SESSION_HANDLE owner, int session_obj, const lwss_nvm_meta *meta,
                         const uint8_t *der, size_t len, CK_OBJECT_HANDLE *out);
/** Destroy a visible object (either kind).  @return CKR_OK, CKR_OBJECT_HANDLE_INVALID, ... */
CK_RV lwss_p11_obj_destroy(CK_OBJECT_HANDLE h);
/** The current handle of a token object whose label changed (aliases kept until C_Finalize). */
CK_OBJECT_HANDLE lwss_p11_obj_resolve(CK_OBJECT_HANDLE h);
/** @see lwss_p11_obj_resolve; store lock held. */
CK_OBJECT_HANDLE lwss_p11_obj_resolve_locked(CK_OBJECT_HANDLE h);
/** Drop the aliases from @p h (a record saved there) and, when @p destroyed, to it. */
void lwss_p11_obj_alias_forget(CK_OBJECT_HANDLE h, int destroyed);
/** @see lwss_p11_obj_alias_forget; store lock held. */
void lwss_p11_obj_alias_forget_locked(CK_OBJECT_HANDLE h, int destroyed);
/** Forget every handle alias (store closed, token erased). */
void lwss_p11_obj_alias_clear(void);
/** Fault injection, test builds only (LWSS_TEST_HOOKS): make the @p nth next save fail (0: never). */
void lwss_p11_fault_save(int nth);

/* sessobj.c --------------------------------------------------------- */
/* Session objects held at once: LWSS_P11_MAX_SESSION_OBJECTS (lwss/config_defaults.h). */
/** Set in every session object handle; storage handles never have it. */
#define LWSS_P11_SESSOBJ_BIT 0x80000000u
/** 1 when @p h names a session object (live or not). */
int lwss_p11_sessobj_is(CK_OBJECT_HANDLE h);
/** Keep a copy of an object for session @p owner.  @return CKR_OK or CKR_HOST_MEMORY (full). */
CK_RV lwss_p11_sessobj_add(CK_SESSION_HANDLE owner, const lwss_nvm_meta *meta,
                           const uint8_t *val, size_t len, CK_OBJECT_HANDLE *out);
/** Metadata of a live session object.  @return CKR_OK or CKR_OBJECT_HANDLE_INVALID. */
CK_RV lwss_p11_sessobj_meta(CK_OBJECT_HANDLE h, lwss_nvm_meta *meta);
/** Value copy (free with lwss_token_store_free_value).  @return CKR_OK, CKR_OBJECT_HANDLE_INVALID, CKR_HOST_MEMORY. */
CK_RV lwss_p11_sessobj_value(CK_OBJECT_HANDLE h, uint8_t **val, size_t *len);
/** Destroy (wiping).  @return CKR_OK or CKR_OBJECT_HANDLE_INVALID. */
CK_RV lwss_p11_sessobj_destroy(CK_OBJECT_HANDLE h);
/** Replace the metadata of session object @p h (C_SetAttributeValue).  @return CKR_OK, CKR_OBJECT_HANDLE_INVALID. */
CK_RV lwss_p11_sessobj_set_meta(CK_OBJECT_HANDLE h, const lwss_nvm_meta *meta);
/** Handles of the live session objects, at most @p max.  @return how many. */
size_t lwss_p11_sessobj_list(CK_OBJECT_HANDLE *out, size_t max);
/** Destroy the objects session @p owner made (its close). */
void lwss_p11_sessobj_drop_session(CK_SESSION_HANDLE owner);
/** Destroy every session object without locking (forked child, C_Finalize). */
void lwss_p11_sessobj_forget_all(void);
/** Session objects alive now (tests). */
size_t lwss_p11_sessobj_count(void);

/* attr.c ------------------------------------------------------------ */
/** An attribute value produced for one object. */
typedef struct lwss_p11_attr_out {
    const uint8_t *p;
    size_t len;
    uint8_t buf[600];
} lwss_p11_attr_out;

/** A loaded object: metadata, value and lazily parsed forms. */
typedef struct lwss_p11_obj {
    CK_OBJECT_HANDLE handle; /* 0 when unknown: then a token object */
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

/* keyattr.c --------------------------------------------------------- */
/** The CKK_* of a stored record (its key type field also carries attribute bits). */
CK_KEY_TYPE lwss_p11_key_type(const lwss_nvm_meta *meta);
/**
 * Usage and policy attributes of a key template (CKA_SIGN ... CKA_UNWRAP,
 * CKA_SENSITIVE, CKA_EXTRACTABLE), checked for class @p cls and packed into
 * the high half of @p meta->key_type, with CKA_LOCAL, CKA_ALWAYS_SENSITIVE
 * and CKA_NEVER_EXTRACTABLE derived (@p generated: made inside the token).
 * @return CKR_OK, CKR_ATTRIBUTE_VALUE_INVALID, CKR_ATTRIBUTE_TYPE_INVALID,
 *         CKR_ATTRIBUTE_READ_ONLY.
 */
CK_RV lwss_p11_key_attrs_set(const CK_ATTRIBUTE *tmpl, CK_ULONG n, int generated,
                             lwss_nvm_meta *meta);
/** 1 when an attribute type is one lwss_p11_key_attrs_set() handles for keys. */
int lwss_p11_key_attr_known(CK_ATTRIBUTE_TYPE type);
/**
 * Value of a usage/policy attribute or CKA_KEY_GEN_MECHANISM of a key
 * record into @p out (CK_BBOOL or CK_ULONG, @p out_len set).
 * @return CKR_OK, or CKR_ATTRIBUTE_TYPE_INVALID (not such an attribute of this class).
 */
CK_RV lwss_p11_key_attr_get(const lwss_nvm_meta *meta, CK_ATTRIBUTE_TYPE type, CK_ULONG *out,
                            size_t *out_len);
/** 1 when the key record allows @p usage (CKA_SIGN, CKA_VERIFY, ...). */
int lwss_p11_key_allows(const lwss_nvm_meta *meta, CK_ATTRIBUTE_TYPE usage);
/** CKA_MODIFIABLE of a record (objects other than keys: always TRUE). */
int lwss_p11_key_modifiable(const lwss_nvm_meta *meta);
/** CKA_COPYABLE of a record (objects other than keys: always TRUE). */
int lwss_p11_key_copyable(const lwss_nvm_meta *meta);
/**
 * Change one lwss_p11_key_attr_known() attribute of a key record, as
 * C_SetAttributeValue (@p copying 0) or C_CopyObject (1) may.
 * @return CKR_OK, CKR_ATTRIBUTE_READ_ONLY (a change v2.40 forbids),
 *         CKR_ATTRIBUTE_VALUE_INVALID (not a CK_BBOOL), CKR_ATTRIBUTE_TYPE_INVALID.
 */
CK_RV lwss_p11_key_attr_modify(lwss_nvm_meta *meta, const CK_ATTRIBUTE *a, int copying);
/** ALWAYS_SENSITIVE / NEVER_EXTRACTABLE / LOCAL of secret key @p key derived from @p base. */
void lwss_p11_key_derived(lwss_nvm_meta *key, const lwss_nvm_meta *base);

/* template.c -------------------------------------------------------- */
/** What C_CreateObject / C_GenerateKeyPair make of a template. */
typedef struct lwss_p11_new_obj {
    lwss_nvm_meta meta;
    uint8_t *der;          /* heap, wiped on free */
    size_t der_len;
} lwss_p11_new_obj;
/** Validate a C_CreateObject template and build the stored form. */
CK_RV lwss_p11_template_create(const CK_ATTRIBUTE *tmpl, CK_ULONG n, lwss_p11_new_obj *out);
/** 0 when the template says CKA_TOKEN=FALSE (a session object), else 1. */
int lwss_p11_template_token(const CK_ATTRIBUTE *tmpl, CK_ULONG n);
/** Free what lwss_p11_template_create() built. */
void lwss_p11_new_obj_free(lwss_p11_new_obj *o);
/**
 * Common attributes of a key-generation template (label, id, token,
 * private; class and key type checked against @p cls / @p kt).
 * The EC_PARAMS of an EC public template are checked when @p need_params.
 */
CK_RV lwss_p11_template_keygen(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_CLASS cls,
                               CK_KEY_TYPE kt, int need_params, lwss_nvm_meta *meta);
/**
 * CKA_MODULUS_BITS (2048, 3072 or 4096: else CKR_KEY_SIZE_RANGE; absent:
 * CKR_TEMPLATE_INCOMPLETE) and CKA_PUBLIC_EXPONENT (odd, >= 65537; default
 * 65537) of a CKM_RSA_PKCS_KEY_PAIR_GEN public template.
 */
CK_RV lwss_p11_template_rsa_gen(const CK_ATTRIBUTE *tmpl, CK_ULONG n, unsigned *bits, int *exp);
/** DER of the P-256 named-curve OID (CKA_EC_PARAMS). */
extern const uint8_t lwss_p11_p256_oid[10];
/** DER of the P-384 named-curve OID (CKA_EC_PARAMS). */
extern const uint8_t lwss_p11_p384_oid[7];
/** The curve CKA_EC_PARAMS names (P-256 or P-384), else MBEDTLS_ECP_DP_NONE. */
mbedtls_ecp_group_id lwss_p11_curve_of(const uint8_t *params, size_t len);
/** CKA_EC_PARAMS of curve @p id.  @return CKR_OK, or CKR_DEVICE_ERROR (not a token curve). */
CK_RV lwss_p11_curve_params(mbedtls_ecp_group_id id, const uint8_t **params, size_t *len);
/** Build SEC1 private DER (with public key) from an EC keypair. */
CK_RV lwss_p11_der_from_pk(mbedtls_pk_context *pk, int private_part, uint8_t **der,
                           size_t *len);

#endif
