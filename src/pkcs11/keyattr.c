/*
 * Key usage and policy attributes (v2.40 4.7-4.10): CKA_SIGN, CKA_VERIFY,
 * CKA_ENCRYPT, CKA_DECRYPT, CKA_DERIVE, CKA_WRAP, CKA_UNWRAP, CKA_SENSITIVE,
 * CKA_EXTRACTABLE, CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE, CKA_LOCAL,
 * CKA_KEY_GEN_MECHANISM, CKA_WRAP_WITH_TRUSTED, CKA_TRUSTED.
 *
 * They are stored as bits in the high half of the record's 32-bit key type
 * field (and CKA_TRUSTED in bit 15), so the image format and lwss_nvm_meta
 * stay as they are: CKK_* values used by the token are all below 0x100, and records written
 * before these bits existed (bit KA_PRESENT clear) read back with the
 * values the token always reported for them.
 *
 * Policy: private and secret keys are always sensitive (CKA_SENSITIVE=FALSE
 * is refused, never silently raised): the token holds no readable secret.
 */
#include "src/pkcs11/token.h"

#include <assert.h>
#include <string.h>

/* CKK_* values the token uses are below 0x100; bit 15 holds CKA_TRUSTED. */
#define KT_MASK 0x7FFFu
#define KA_PRESENT (1u << 16)
/* Inverted, so records written before them read back TRUE (v2.40 4.4 default). */
#define KA_NOT_COPYABLE (1u << 30)
#define KA_NOT_MODIFIABLE (1u << 31)

#define C_PRIV 1u
#define C_PUB 2u
#define C_SEC 4u
#define C_ALL (C_PRIV | C_PUB | C_SEC)

/* One attribute: its bit, the classes that have it, and whether a
 * template may set it (v2.40 table footnotes 2 and 4: LOCAL and the
 * ALWAYS_/NEVER_ pair are the token's to say). */
static const struct {
    CK_ATTRIBUTE_TYPE type;
    uint32_t bit;
    unsigned classes;
    int settable;
} g_attrs[] = {
    {CKA_SIGN, 1u << 17, C_PRIV | C_SEC, 1},
    {CKA_VERIFY, 1u << 18, C_PUB | C_SEC, 1},
    {CKA_ENCRYPT, 1u << 19, C_PUB | C_SEC, 1},
    {CKA_DECRYPT, 1u << 20, C_PRIV | C_SEC, 1},
    {CKA_DERIVE, 1u << 21, C_ALL, 1},
    {CKA_WRAP, 1u << 22, C_PUB | C_SEC, 1},
    {CKA_UNWRAP, 1u << 23, C_PRIV | C_SEC, 1},
    {CKA_SENSITIVE, 1u << 24, C_PRIV | C_SEC, 1},
    {CKA_EXTRACTABLE, 1u << 25, C_PRIV | C_SEC, 1},
    {CKA_ALWAYS_SENSITIVE, 1u << 26, C_PRIV | C_SEC, 0},
    {CKA_NEVER_EXTRACTABLE, 1u << 27, C_PRIV | C_SEC, 0},
    {CKA_LOCAL, 1u << 28, C_ALL, 0},
    {CKA_WRAP_WITH_TRUSTED, 1u << 29, C_PRIV | C_SEC, 1},
    {CKA_TRUSTED, 1u << 15, C_PUB | C_SEC, 1}, /* TRUE only by the SO (v2.40 4.8) */
};
#define ATTR_COUNT (sizeof(g_attrs) / sizeof(g_attrs[0]))

static uint32_t bit_of(CK_ATTRIBUTE_TYPE type)
{
    for (size_t i = 0; i < ATTR_COUNT; i++) {
        if (g_attrs[i].type == type) {
            return g_attrs[i].bit;
        }
    }
    return 0;
}

static unsigned class_bit(uint32_t cls)
{
    return cls == CKO_PRIVATE_KEY ? C_PRIV : cls == CKO_PUBLIC_KEY ? C_PUB
                                         : cls == CKO_SECRET_KEY ? C_SEC
                                                                 : 0;
}

/* What a template that says nothing gets, and what records written before
 * the bits existed report (the values the token always answered). */
static uint32_t default_bits(uint32_t cls)
{
    switch (cls) {
    case CKO_PRIVATE_KEY:
        return bit_of(CKA_SIGN) | bit_of(CKA_SENSITIVE) | bit_of(CKA_ALWAYS_SENSITIVE) |
               bit_of(CKA_NEVER_EXTRACTABLE);
    case CKO_PUBLIC_KEY: return bit_of(CKA_VERIFY);
    case CKO_SECRET_KEY:
        return bit_of(CKA_SIGN) | bit_of(CKA_VERIFY) | bit_of(CKA_SENSITIVE) |
               bit_of(CKA_ALWAYS_SENSITIVE) | bit_of(CKA_NEVER_EXTRACTABLE);
    default: return 0;
    }
}

static uint32_t bits_of(const lwss_nvm_meta *meta)
{
    if (meta->key_type == (uint32_t)CK_UNAVAILABLE_INFORMATION ||
        !(meta->key_type & KA_PRESENT)) {
        return default_bits(meta->cls);
    }
    return meta->key_type & ~KT_MASK;
}

CK_KEY_TYPE lwss_p11_key_type(const lwss_nvm_meta *meta)
{
    if (meta->key_type == (uint32_t)CK_UNAVAILABLE_INFORMATION) {
        return CK_UNAVAILABLE_INFORMATION;
    }
    return meta->key_type & KT_MASK;
}

/* CKA_MODIFIABLE / CKA_COPYABLE: their (inverted) bit, else 0. */
static uint32_t object_bit(CK_ATTRIBUTE_TYPE type)
{
    return type == CKA_MODIFIABLE ? KA_NOT_MODIFIABLE
           : type == CKA_COPYABLE ? KA_NOT_COPYABLE
                                  : 0;
}

int lwss_p11_key_attr_known(CK_ATTRIBUTE_TYPE type)
{
    return type == CKA_KEY_GEN_MECHANISM || bit_of(type) != 0 || object_bit(type) != 0;
}

/* One template attribute into @p bits. */
static CK_RV apply_one(const CK_ATTRIBUTE *a, unsigned cls, uint32_t *bits)
{
    if (a->type == CKA_KEY_GEN_MECHANISM) {
        return CKR_ATTRIBUTE_READ_ONLY;
    }
    if (object_bit(a->type) != 0) {
        if (a->ulValueLen != sizeof(CK_BBOOL) || a->pValue == NULL) {
            return CKR_ATTRIBUTE_VALUE_INVALID;
        }
        int on = *(const CK_BBOOL *)a->pValue != CK_FALSE;
        *bits = on ? (*bits & ~object_bit(a->type)) : (*bits | object_bit(a->type));
        return CKR_OK;
    }
    for (size_t i = 0; i < ATTR_COUNT; i++) {
        if (g_attrs[i].type != a->type) {
            continue;
        }
        if (a->ulValueLen != sizeof(CK_BBOOL) || a->pValue == NULL) {
            return CKR_ATTRIBUTE_VALUE_INVALID;
        }
        int on = *(const CK_BBOOL *)a->pValue != CK_FALSE;
        if (!g_attrs[i].settable) {
            return CKR_ATTRIBUTE_READ_ONLY;
        }
        if (!(g_attrs[i].classes & cls)) {
            /* FALSE of an attribute the class lacks is true already; TRUE is a lie */
            return on ? CKR_ATTRIBUTE_TYPE_INVALID : CKR_OK;
        }
        if (a->type == CKA_SENSITIVE && !on) {
            return CKR_ATTRIBUTE_VALUE_INVALID; /* policy: no readable secrets */
        }
        if (a->type == CKA_TRUSTED && on && lwss_p11_login_state() != CKU_SO) {
            return CKR_ATTRIBUTE_READ_ONLY;
        }
        *bits = on ? (*bits | g_attrs[i].bit) : (*bits & ~g_attrs[i].bit);
        return CKR_OK;
    }
    return CKR_OK;
}

CK_RV lwss_p11_key_attrs_set(const CK_ATTRIBUTE *tmpl, CK_ULONG n, int generated,
                             lwss_nvm_meta *meta)
{
    unsigned cls = class_bit(meta->cls);
    if (cls == 0) {
        return CKR_OK;
    }
    uint32_t bits = default_bits(meta->cls) &
                    ~(bit_of(CKA_ALWAYS_SENSITIVE) | bit_of(CKA_NEVER_EXTRACTABLE));
    for (CK_ULONG i = 0; i < n; i++) {
        CK_RV rv = apply_one(&tmpl[i], cls, &bits);
        if (rv != CKR_OK) {
            return rv;
        }
    }
    /* v2.40 4.9: ALWAYS_SENSITIVE / NEVER_EXTRACTABLE hold only for keys
     * that never left the token; an imported key has been outside it. */
    if (generated) {
        bits |= bit_of(CKA_LOCAL);
        if (cls != C_PUB) {
            if (bits & bit_of(CKA_SENSITIVE)) {
                bits |= bit_of(CKA_ALWAYS_SENSITIVE);
            }
            if (!(bits & bit_of(CKA_EXTRACTABLE))) {
                bits |= bit_of(CKA_NEVER_EXTRACTABLE);
            }
        }
    }
    meta->key_type = (meta->key_type & KT_MASK) | KA_PRESENT | bits;
    return CKR_OK;
}

CK_RV lwss_p11_key_attr_get(const lwss_nvm_meta *meta, CK_ATTRIBUTE_TYPE type, CK_ULONG *out,
                            size_t *out_len)
{
    unsigned cls = class_bit(meta->cls);
    if (cls == 0 && type == CKA_TRUSTED && meta->cls == CKO_CERTIFICATE) {
        CK_BBOOL no = CK_FALSE; /* certificates are never marked trusted here */
        memcpy(out, &no, sizeof(no));
        *out_len = sizeof(no);
        return CKR_OK;
    }
    if (cls == 0) {
        return CKR_ATTRIBUTE_TYPE_INVALID;
    }
    uint32_t bits = bits_of(meta);
    if (object_bit(type) != 0) {
        CK_BBOOL b = (bits & object_bit(type)) ? CK_FALSE : CK_TRUE;
        memcpy(out, &b, sizeof(b));
        *out_len = sizeof(b);
        return CKR_OK;
    }
    if (type == CKA_KEY_GEN_MECHANISM) {
        CK_KEY_TYPE kt = lwss_p11_key_type(meta);
        int local = (bits & bit_of(CKA_LOCAL)) != 0;
        *out = !local                      ? CK_UNAVAILABLE_INFORMATION
               : kt == CKK_EC             ? CKM_EC_KEY_PAIR_GEN
               : kt == CKK_RSA            ? CKM_RSA_PKCS_KEY_PAIR_GEN
               : kt == CKK_AES            ? CKM_AES_KEY_GEN
               : kt == CKK_DES3           ? CKM_DES3_KEY_GEN
               : kt == CKK_GENERIC_SECRET ? CKM_GENERIC_SECRET_KEY_GEN
                                          : CK_UNAVAILABLE_INFORMATION;
        *out_len = sizeof(CK_ULONG);
        return CKR_OK;
    }
    for (size_t i = 0; i < ATTR_COUNT; i++) {
        if (g_attrs[i].type == type && (g_attrs[i].classes & cls)) {
            CK_BBOOL b = (bits & g_attrs[i].bit) ? CK_TRUE : CK_FALSE;
            memcpy(out, &b, sizeof(b));
            *out_len = sizeof(b);
            return CKR_OK;
        }
    }
    return CKR_ATTRIBUTE_TYPE_INVALID;
}

int lwss_p11_key_allows(const lwss_nvm_meta *meta, CK_ATTRIBUTE_TYPE usage)
{
    return (bits_of(meta) & bit_of(usage)) != 0;
}

int lwss_p11_key_modifiable(const lwss_nvm_meta *meta)
{
    return class_bit(meta->cls) == 0 || !(bits_of(meta) & KA_NOT_MODIFIABLE);
}

int lwss_p11_key_copyable(const lwss_nvm_meta *meta)
{
    return class_bit(meta->cls) == 0 || !(bits_of(meta) & KA_NOT_COPYABLE);
}

/* v2.40 4.4 (MODIFIABLE, COPYABLE: only to FALSE, and only in a copy),
 * 4.9/4.10 (SENSITIVE only FALSE->TRUE, EXTRACTABLE only TRUE->FALSE;
 * LOCAL, ALWAYS_SENSITIVE, NEVER_EXTRACTABLE, KEY_GEN_MECHANISM never). */
CK_RV lwss_p11_key_attr_modify(lwss_nvm_meta *meta, const CK_ATTRIBUTE *a, int copying)
{
    unsigned cls = class_bit(meta->cls);
    if (cls == 0) {
        return CKR_ATTRIBUTE_TYPE_INVALID;
    }
    if (a->type == CKA_KEY_GEN_MECHANISM) {
        return CKR_ATTRIBUTE_READ_ONLY;
    }
    if (a->ulValueLen != sizeof(CK_BBOOL) || a->pValue == NULL) {
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    int on = *(const CK_BBOOL *)a->pValue != CK_FALSE;
    uint32_t bits = bits_of(meta);
    uint32_t ob = object_bit(a->type);
    if (ob != 0) {
        int now = !(bits & ob);
        if (on == now) {
            return CKR_OK;
        }
        if (!copying || on) {
            return CKR_ATTRIBUTE_READ_ONLY;
        }
        bits |= ob;
    } else {
        size_t i = 0;
        while (i < ATTR_COUNT && g_attrs[i].type != a->type) {
            i++;
        }
        assert(i < ATTR_COUNT); /* callers pass lwss_p11_key_attr_known() types */
        if (!(g_attrs[i].classes & cls)) {
            return on ? CKR_ATTRIBUTE_TYPE_INVALID : CKR_OK;
        }
        if (!g_attrs[i].settable) {
            return CKR_ATTRIBUTE_READ_ONLY; /* the token's to say, whatever the value */
        }
        uint32_t b = g_attrs[i].bit;
        int now = (bits & b) != 0;
        if (on == now) {
            return CKR_OK;
        }
        if ((a->type == CKA_SENSITIVE && !on) ||
            (a->type == CKA_EXTRACTABLE && on)) {
            return CKR_ATTRIBUTE_READ_ONLY;
        }
        bits = on ? (bits | b) : (bits & ~b);
    }
    meta->key_type = (meta->key_type & KT_MASK) | KA_PRESENT | bits;
    return CKR_OK;
}

/* v2.40 5.14 C_DeriveKey: the new key is ALWAYS_SENSITIVE when the base key
 * is and the new key is sensitive, NEVER_EXTRACTABLE when the base key is
 * and the new key is not extractable; it is not LOCAL. */
void lwss_p11_key_derived(lwss_nvm_meta *key, const lwss_nvm_meta *base)
{
    assert(class_bit(key->cls) == C_SEC);
    uint32_t bits = bits_of(key) & ~(bit_of(CKA_ALWAYS_SENSITIVE) |
                                     bit_of(CKA_NEVER_EXTRACTABLE) | bit_of(CKA_LOCAL));
    uint32_t from = bits_of(base);
    if ((from & bit_of(CKA_ALWAYS_SENSITIVE)) && (bits & bit_of(CKA_SENSITIVE))) {
        bits |= bit_of(CKA_ALWAYS_SENSITIVE);
    }
    if ((from & bit_of(CKA_NEVER_EXTRACTABLE)) && !(bits & bit_of(CKA_EXTRACTABLE))) {
        bits |= bit_of(CKA_NEVER_EXTRACTABLE);
    }
    key->key_type = (key->key_type & KT_MASK) | KA_PRESENT | bits;
}
