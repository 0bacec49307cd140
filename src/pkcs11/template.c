/*
 * Templates -> stored objects.  C_CreateObject and C_GenerateKeyPair
 * templates are checked attribute by attribute (type known, length right,
 * no duplicates), then turned into the stored form: keys as DER (SEC1 or
 * PKCS#1 private, SubjectPublicKeyInfo public), certificates as their DER,
 * secret keys and data as raw bytes.  Nothing is stored here.
 */
#include "src/pkcs11/token.h"

#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t lwss_p11_p256_oid[10] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
const uint8_t lwss_p11_p384_oid[7] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};

mbedtls_ecp_group_id lwss_p11_curve_of(const uint8_t *params, size_t len)
{
    if (len == sizeof(lwss_p11_p256_oid) && memcmp(params, lwss_p11_p256_oid, len) == 0) {
        return MBEDTLS_ECP_DP_SECP256R1;
    }
    if (len == sizeof(lwss_p11_p384_oid) && memcmp(params, lwss_p11_p384_oid, len) == 0) {
        return MBEDTLS_ECP_DP_SECP384R1;
    }
    return MBEDTLS_ECP_DP_NONE;
}

CK_RV lwss_p11_curve_params(mbedtls_ecp_group_id id, const uint8_t **params, size_t *len)
{
    if (id == MBEDTLS_ECP_DP_SECP256R1) {
        *params = lwss_p11_p256_oid;
        *len = sizeof(lwss_p11_p256_oid);
        return CKR_OK;
    }
    if (id == MBEDTLS_ECP_DP_SECP384R1) {
        *params = lwss_p11_p384_oid;
        *len = sizeof(lwss_p11_p384_oid);
        return CKR_OK;
    }
    return CKR_DEVICE_ERROR;
}

/* Attributes a template may carry whose value we accept and ignore: dates
 * and subjects are informational.  Key usage and policy attributes are
 * passed through here and honoured (or refused) by keyattr.c. */
static const CK_ATTRIBUTE_TYPE g_ignored[] = {
    CKA_MODIFIABLE, CKA_COPYABLE, CKA_DESTROYABLE, CKA_SIGN_RECOVER,
    CKA_VERIFY_RECOVER, CKA_START_DATE, CKA_END_DATE, CKA_SUBJECT, CKA_ISSUER,
    CKA_SERIAL_NUMBER, CKA_TRUSTED, CKA_CERTIFICATE_CATEGORY, CKA_APPLICATION, CKA_OBJECT_ID,
    CKA_ALWAYS_AUTHENTICATE, CKA_MODULUS_BITS,
    CKA_WRAP_WITH_TRUSTED, CKA_URL, CKA_HASH_OF_SUBJECT_PUBLIC_KEY,
    CKA_HASH_OF_ISSUER_PUBLIC_KEY, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
};

/* The attributes of one template, each at most once. */
typedef struct tmpl_view {
    const CK_ATTRIBUTE *cls, *key_type, *cert_type, *label, *id, *token, *priv;
    const CK_ATTRIBUTE *val, *ec_params, *ec_point;
    const CK_ATTRIBUTE *modulus, *pub_exp, *priv_exp, *prime1, *prime2;
    const CK_ATTRIBUTE *value_len, *check_value;
} tmpl_view;

static const CK_ATTRIBUTE **view_slot(tmpl_view *v, CK_ATTRIBUTE_TYPE t, size_t *want_len)
{
    *want_len = 0;
    switch (t) {
    case CKA_CLASS: *want_len = sizeof(CK_ULONG); return &v->cls;
    case CKA_KEY_TYPE: *want_len = sizeof(CK_ULONG); return &v->key_type;
    case CKA_CERTIFICATE_TYPE: *want_len = sizeof(CK_ULONG); return &v->cert_type;
    case CKA_TOKEN: *want_len = sizeof(CK_BBOOL); return &v->token;
    case CKA_PRIVATE: *want_len = sizeof(CK_BBOOL); return &v->priv;
    case CKA_LABEL: return &v->label;
    case CKA_ID: return &v->id;
    case CKA_VALUE: return &v->val;
    case CKA_EC_PARAMS: return &v->ec_params;
    case CKA_EC_POINT: return &v->ec_point;
    case CKA_MODULUS: return &v->modulus;
    case CKA_PUBLIC_EXPONENT: return &v->pub_exp;
    case CKA_PRIVATE_EXPONENT: return &v->priv_exp;
    case CKA_PRIME_1: return &v->prime1;
    case CKA_PRIME_2: return &v->prime2;
    case CKA_VALUE_LEN: *want_len = sizeof(CK_ULONG); return &v->value_len;
    case CKA_CHECK_VALUE: return &v->check_value;
    default: return NULL;
    }
}

static int is_ignored(CK_ATTRIBUTE_TYPE t)
{
    if (lwss_p11_key_attr_known(t)) {
        return 1;
    }
    for (size_t i = 0; i < sizeof(g_ignored) / sizeof(g_ignored[0]); i++) {
        if (g_ignored[i] == t) {
            return 1;
        }
    }
    return 0;
}

static CK_RV scan_template(const CK_ATTRIBUTE *tmpl, CK_ULONG n, tmpl_view *v)
{
    memset(v, 0, sizeof(*v));
    if (tmpl == NULL && n > 0) {
        return CKR_ARGUMENTS_BAD;
    }
    for (CK_ULONG i = 0; i < n; i++) {
        const CK_ATTRIBUTE *a = &tmpl[i];
        if (a->pValue == NULL && a->ulValueLen > 0) {
            return CKR_ATTRIBUTE_VALUE_INVALID;
        }
        if (a->ulValueLen > LWSS_P11_MAX_VALUE) {
            return CKR_ATTRIBUTE_VALUE_INVALID;
        }
        size_t want = 0;
        const CK_ATTRIBUTE **slot = view_slot(v, a->type, &want);
        if (slot == NULL) {
            if (!is_ignored(a->type)) {
                return CKR_ATTRIBUTE_TYPE_INVALID;
            }
            continue;
        }
        if (*slot != NULL) {
            return CKR_TEMPLATE_INCONSISTENT;
        }
        if (want != 0 && a->ulValueLen != want) {
            return CKR_ATTRIBUTE_VALUE_INVALID;
        }
        *slot = a;
    }
    return CKR_OK;
}

static CK_ULONG attr_ulong(const CK_ATTRIBUTE *a)
{
    CK_ULONG u;
    memcpy(&u, a->pValue, sizeof(u));
    return u;
}

static int attr_true(const CK_ATTRIBUTE *a)
{
    return *(const CK_BBOOL *)a->pValue != CK_FALSE;
}

/* Label, ID, private flag and class into @p meta.  A missing label is made
 * from the ID (hex) or, without one, from random bytes: the store needs a
 * non-empty label to name the object. */
static CK_RV fill_meta(const tmpl_view *v, CK_OBJECT_CLASS cls, int force_private,
                       lwss_nvm_meta *meta)
{
    memset(meta, 0, sizeof(*meta));
    meta->cls = (uint32_t)cls;
    meta->key_type = (uint32_t)CK_UNAVAILABLE_INFORMATION;
    meta->is_private = force_private || (v->priv != NULL && attr_true(v->priv));
    if (v->id != NULL) {
        if (v->id->ulValueLen > LWSS_NVM_ID_MAX) {
            return CKR_ATTRIBUTE_VALUE_INVALID;
        }
        meta->id_len = (uint8_t)v->id->ulValueLen;
        memcpy(meta->id, v->id->pValue, v->id->ulValueLen);
    }
    if (v->label != NULL && v->label->ulValueLen > 0) {
        if (v->label->ulValueLen > LWSS_NVM_LABEL_MAX) {
            return CKR_ATTRIBUTE_VALUE_INVALID;
        }
        meta->label_len = (uint32_t)v->label->ulValueLen;
        memcpy(meta->label, v->label->pValue, meta->label_len);
        return CKR_OK;
    }
    uint8_t rnd[4];
    const uint8_t *src = meta->id_len > 0 ? meta->id : rnd;
    size_t src_len = meta->id_len > 0 ? (meta->id_len > 30 ? 30 : meta->id_len) : sizeof(rnd);
    if (meta->id_len == 0 && lwss_p11_random(NULL, rnd, sizeof(rnd)) != 0) {
        return CKR_FUNCTION_FAILED;
    }
    char text[LWSS_NVM_LABEL_MAX + 1];
    int off = snprintf(text, sizeof(text), "%s", meta->id_len > 0 ? "id-" : "obj-");
    for (size_t i = 0; i < src_len; i++) {
        off += snprintf(text + off, sizeof(text) - (size_t)off, "%02x", src[i]);
    }
    meta->label_len = (uint32_t)off;
    memcpy(meta->label, text, (size_t)off);
    return CKR_OK;
}

CK_RV lwss_p11_der_from_pk(mbedtls_pk_context *pk, int private_part, uint8_t **der, size_t *len)
{
    uint8_t buf[4096];
    CK_RV rv = CKR_FUNCTION_FAILED;
    int n = private_part ? mbedtls_pk_write_key_der(pk, buf, sizeof(buf))
                         : mbedtls_pk_write_pubkey_der(pk, buf, sizeof(buf));
    if (n <= 0) {
        goto cleanup;
    }
    *der = malloc((size_t)n);
    if (*der == NULL) {
        rv = CKR_HOST_MEMORY;
        goto cleanup;
    }
    memcpy(*der, buf + sizeof(buf) - (size_t)n, (size_t)n); /* mbedtls writes at the end */
    *len = (size_t)n;
    rv = CKR_OK;
cleanup:
    mbedtls_platform_zeroize(buf, sizeof(buf));
    return rv;
}

/* CKA_EC_PARAMS naming P-256 or P-384; the curve into @p id. */
static CK_RV check_curve(const CK_ATTRIBUTE *params, mbedtls_ecp_group_id *id)
{
    if (params == NULL) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    *id = lwss_p11_curve_of(params->pValue, params->ulValueLen);
    return *id != MBEDTLS_ECP_DP_NONE ? CKR_OK : CKR_CURVE_NOT_SUPPORTED;
}

/* EC private key from D: computes Q so the stored SEC1 DER carries it. */
static CK_RV build_ec_private(const tmpl_view *v, mbedtls_pk_context *pk)
{
    mbedtls_ecp_group_id id = MBEDTLS_ECP_DP_NONE;
    CK_RV rv = check_curve(v->ec_params, &id);
    if (rv != CKR_OK) {
        return rv;
    }
    if (v->val == NULL) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0) {
        return CKR_HOST_MEMORY;
    }
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
    if (v->val->ulValueLen == 0 || v->val->ulValueLen > 48 ||
        mbedtls_ecp_group_load(&ec->grp, id) != 0 ||
        mbedtls_mpi_read_binary(&ec->d, v->val->pValue, v->val->ulValueLen) != 0 ||
        mbedtls_ecp_check_privkey(&ec->grp, &ec->d) != 0 ||
        mbedtls_ecp_mul(&ec->grp, &ec->Q, &ec->d, &ec->grp.G, lwss_p11_random, NULL) != 0) {
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    return CKR_OK;
}

/* The EC point as a DER OCTET STRING (what PKCS #11 says) or, leniently,
 * the bare uncompressed point. */
static CK_RV build_ec_public(const tmpl_view *v, mbedtls_pk_context *pk)
{
    mbedtls_ecp_group_id id = MBEDTLS_ECP_DP_NONE;
    CK_RV rv = check_curve(v->ec_params, &id);
    if (rv != CKR_OK) {
        return rv;
    }
    if (v->ec_point == NULL) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    const uint8_t *pt = v->ec_point->pValue;
    size_t pt_len = v->ec_point->ulValueLen;
    size_t want = id == MBEDTLS_ECP_DP_SECP256R1 ? 65 : 97; /* 04 || X || Y */
    if (pt_len == want + 2 && pt[0] == 0x04 && pt[1] == want) {
        pt += 2;
        pt_len -= 2;
    }
    if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0) {
        return CKR_HOST_MEMORY;
    }
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
    if (pt_len != want || mbedtls_ecp_group_load(&ec->grp, id) != 0 ||
        mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, pt, pt_len) != 0 ||
        mbedtls_ecp_check_pubkey(&ec->grp, &ec->Q) != 0) {
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    return CKR_OK;
}

static const uint8_t *opt_ptr(const CK_ATTRIBUTE *a)
{
    return a != NULL ? a->pValue : NULL;
}

static size_t opt_len(const CK_ATTRIBUTE *a)
{
    return a != NULL ? a->ulValueLen : 0;
}

/* RSA 2048 from its components; the CRT values are recomputed by mbedtls
 * (and P, Q deduced when absent), then the whole key is checked. */
static CK_RV build_rsa(const tmpl_view *v, int private_part, mbedtls_pk_context *pk)
{
    if (v->modulus == NULL || v->pub_exp == NULL || (private_part && v->priv_exp == NULL)) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)) != 0) {
        return CKR_HOST_MEMORY;
    }
    mbedtls_rsa_context *rsa = mbedtls_pk_rsa(*pk);
    const CK_ATTRIBUTE *d = private_part ? v->priv_exp : NULL;
    const CK_ATTRIBUTE *p = private_part ? v->prime1 : NULL;
    const CK_ATTRIBUTE *q = private_part ? v->prime2 : NULL;
    if (mbedtls_rsa_import_raw(rsa, v->modulus->pValue, v->modulus->ulValueLen, opt_ptr(p),
                               opt_len(p), opt_ptr(q), opt_len(q), opt_ptr(d), opt_len(d),
                               v->pub_exp->pValue, v->pub_exp->ulValueLen) != 0 ||
        mbedtls_rsa_complete(rsa) != 0 || mbedtls_rsa_get_len(rsa) != 256) {
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    int bad = private_part ? mbedtls_rsa_check_privkey(rsa) : mbedtls_rsa_check_pubkey(rsa);
    return bad ? CKR_ATTRIBUTE_VALUE_INVALID : CKR_OK;
}

static CK_RV build_key(const tmpl_view *v, CK_OBJECT_CLASS cls, lwss_p11_new_obj *out)
{
    if (v->key_type == NULL) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    CK_KEY_TYPE kt = attr_ulong(v->key_type);
    int priv = cls == CKO_PRIVATE_KEY;
    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;
    if (kt == CKK_EC) {
        rv = priv ? build_ec_private(v, &pk) : build_ec_public(v, &pk);
    } else if (kt == CKK_RSA) {
        rv = build_rsa(v, priv, &pk);
    }
    if (rv == CKR_OK) {
        rv = lwss_p11_der_from_pk(&pk, priv, &out->der, &out->der_len);
    }
    out->meta.key_type = (uint32_t)kt;
    mbedtls_pk_free(&pk);
    return rv;
}

static CK_RV build_secret(const tmpl_view *v, lwss_p11_new_obj *out)
{
    if (v->key_type == NULL || v->val == NULL) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    CK_KEY_TYPE kt = attr_ulong(v->key_type);
    size_t n = v->val->ulValueLen;
    if (!lwss_p11_secret_len_ok(kt, n)) {
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    /* v2.40 4.10: CKA_VALUE_LEN, when given, and CKA_CHECK_VALUE must agree */
    if (v->value_len != NULL && attr_ulong(v->value_len) != n) {
        return CKR_TEMPLATE_INCONSISTENT;
    }
    if (v->check_value != NULL) {
        uint8_t kcv[3];
        CK_RV rv = lwss_p11_secret_check_value(kt, v->val->pValue, n, kcv);
        if (rv != CKR_OK || v->check_value->ulValueLen != sizeof(kcv) ||
            memcmp(kcv, v->check_value->pValue, sizeof(kcv)) != 0) {
            return CKR_ATTRIBUTE_VALUE_INVALID;
        }
    }
    out->meta.key_type = (uint32_t)kt;
    return CKR_OK; /* the value is copied by the caller */
}

static CK_RV build_cert(const tmpl_view *v, lwss_p11_new_obj *out)
{
    if (v->cert_type != NULL && attr_ulong(v->cert_type) != CKC_X_509) {
        return CKR_ATTRIBUTE_VALUE_INVALID;
    }
    if (v->val == NULL) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    CK_RV rv = CKR_ATTRIBUTE_VALUE_INVALID;
    if (mbedtls_x509_crt_parse_der(&crt, v->val->pValue, v->val->ulValueLen) == 0) {
        out->der = malloc(crt.raw.len);
        rv = out->der != NULL ? CKR_OK : CKR_HOST_MEMORY;
        if (rv == CKR_OK) {
            memcpy(out->der, crt.raw.p, crt.raw.len); /* without trailing bytes */
            out->der_len = crt.raw.len;
        }
    }
    mbedtls_x509_crt_free(&crt);
    return rv;
}

static CK_RV copy_value(const CK_ATTRIBUTE *a, lwss_p11_new_obj *out)
{
    size_t n = a != NULL ? a->ulValueLen : 0;
    out->der = malloc(n > 0 ? n : 1);
    if (out->der == NULL) {
        return CKR_HOST_MEMORY;
    }
    if (n > 0) {
        memcpy(out->der, a->pValue, n);
    }
    out->der_len = n;
    return CKR_OK;
}

CK_RV lwss_p11_template_create(const CK_ATTRIBUTE *tmpl, CK_ULONG n, lwss_p11_new_obj *out)
{
    tmpl_view v;
    memset(out, 0, sizeof(*out));
    CK_RV rv = scan_template(tmpl, n, &v);
    if (rv != CKR_OK) {
        return rv;
    }
    if (v.cls == NULL) {
        return CKR_TEMPLATE_INCOMPLETE;
    }
    CK_OBJECT_CLASS cls = attr_ulong(v.cls);
    int secret = cls == CKO_PRIVATE_KEY || cls == CKO_SECRET_KEY;
    rv = fill_meta(&v, cls, secret, &out->meta);
    if (rv != CKR_OK) {
        return rv;
    }
    if (cls == CKO_CERTIFICATE) {
        rv = build_cert(&v, out);
    } else if (cls == CKO_PRIVATE_KEY || cls == CKO_PUBLIC_KEY) {
        rv = build_key(&v, cls, out);
    } else if (cls == CKO_SECRET_KEY) {
        rv = build_secret(&v, out);
        if (rv == CKR_OK) {
            rv = copy_value(v.val, out);
        }
    } else if (cls == CKO_DATA) {
        rv = copy_value(v.val, out);
    } else {
        rv = CKR_ATTRIBUTE_VALUE_INVALID;
    }
    if (rv == CKR_OK) {
        rv = lwss_p11_key_attrs_set(tmpl, n, 0, &out->meta);
    }
    if (rv != CKR_OK) {
        lwss_p11_new_obj_free(out);
    }
    return rv;
}

int lwss_p11_template_token(const CK_ATTRIBUTE *tmpl, CK_ULONG n)
{
    for (CK_ULONG i = 0; tmpl != NULL && i < n; i++) {
        if (tmpl[i].type == CKA_TOKEN && tmpl[i].pValue != NULL &&
            tmpl[i].ulValueLen == sizeof(CK_BBOOL) && !attr_true(&tmpl[i])) {
            return 0;
        }
    }
    return 1;
}

void lwss_p11_new_obj_free(lwss_p11_new_obj *o)
{
    if (o->der != NULL) {
        mbedtls_platform_zeroize(o->der, o->der_len);
        free(o->der);
    }
    o->der = NULL;
    o->der_len = 0;
}

CK_RV lwss_p11_template_keygen(const CK_ATTRIBUTE *tmpl, CK_ULONG n, CK_OBJECT_CLASS cls,
                               CK_KEY_TYPE kt, int need_params, lwss_nvm_meta *meta)
{
    tmpl_view v;
    CK_RV rv = scan_template(tmpl, n, &v);
    if (rv != CKR_OK) {
        return rv;
    }
    if (v.cls != NULL && attr_ulong(v.cls) != cls) {
        return CKR_TEMPLATE_INCONSISTENT;
    }
    if (v.key_type != NULL && attr_ulong(v.key_type) != kt) {
        return CKR_TEMPLATE_INCONSISTENT;
    }
    if (v.val != NULL || v.ec_point != NULL || v.modulus != NULL || v.priv_exp != NULL) {
        return CKR_TEMPLATE_INCONSISTENT; /* values are generated, not given */
    }
    if (kt == CKK_RSA ? v.ec_params != NULL : v.pub_exp != NULL) {
        return CKR_TEMPLATE_INCONSISTENT;
    }
    if (kt == CKK_EC && (need_params || v.ec_params != NULL)) {
        mbedtls_ecp_group_id id = MBEDTLS_ECP_DP_NONE;
        rv = check_curve(v.ec_params, &id);
        if (rv != CKR_OK) {
            return rv;
        }
    }
    rv = fill_meta(&v, cls, cls == CKO_PRIVATE_KEY, meta);
    if (rv != CKR_OK) {
        return rv;
    }
    meta->key_type = (uint32_t)kt;
    return lwss_p11_key_attrs_set(tmpl, n, 1, meta);
}

CK_RV lwss_p11_template_rsa_gen(const CK_ATTRIBUTE *tmpl, CK_ULONG n, unsigned *bits, int *exp)
{
    *bits = 0;
    *exp = 65537; /* the usual default when the template names none */
    for (CK_ULONG i = 0; i < n; i++) {
        const CK_ATTRIBUTE *a = &tmpl[i];
        if (a->type == CKA_MODULUS_BITS) {
            if (a->ulValueLen != sizeof(CK_ULONG) || a->pValue == NULL) {
                return CKR_ATTRIBUTE_VALUE_INVALID;
            }
            CK_ULONG b = attr_ulong(a);
            if (b != 2048 && b != 3072 && b != 4096) {
                return CKR_KEY_SIZE_RANGE;
            }
            *bits = (unsigned)b;
        } else if (a->type == CKA_PUBLIC_EXPONENT) {
            /* big-endian; odd, at least 65537, fits mbedtls' int exponent */
            const uint8_t *p = a->pValue;
            uint64_t e = 0;
            for (CK_ULONG j = 0; p != NULL && j < a->ulValueLen && e <= 0x7FFFFFFFu; j++) {
                e = (e << 8) | p[j];
            }
            if (p == NULL || e < 65537 || e > 0x7FFFFFFFu || (e & 1) == 0) {
                return CKR_ATTRIBUTE_VALUE_INVALID;
            }
            *exp = (int)e;
        }
    }
    return *bits != 0 ? CKR_OK : CKR_TEMPLATE_INCOMPLETE;
}
