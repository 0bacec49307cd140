/*
 * Stored object -> attribute values.  What the NVM record's metadata says
 * (class, label, ID, key type, private flag) is answered from it; the rest
 * is derived from the stored DER on demand.  Private key material and
 * secret key values are never returned: CKR_ATTRIBUTE_SENSITIVE.
 */
#include "src/pkcs11/token.h"

#include <mbedtls/ecp.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>
#include <string.h>

static CK_RV out_bytes(lwss_p11_attr_out *out, const void *p, size_t len)
{
    if (len > sizeof(out->buf)) {
        out->p = p; /* points into the object's value, which outlives the answer */
        out->len = len;
        return CKR_OK;
    }
    memcpy(out->buf, p, len);
    out->p = out->buf;
    out->len = len;
    return CKR_OK;
}

static CK_RV out_ulong(lwss_p11_attr_out *out, CK_ULONG u)
{
    return out_bytes(out, &u, sizeof(u));
}

static CK_RV out_bool(lwss_p11_attr_out *out, int b)
{
    CK_BBOOL v = b ? CK_TRUE : CK_FALSE;
    return out_bytes(out, &v, sizeof(v));
}

int lwss_p11_attr_from_meta(CK_ATTRIBUTE_TYPE type)
{
    return type == CKA_CLASS || type == CKA_LABEL || type == CKA_ID || type == CKA_TOKEN ||
           type == CKA_PRIVATE || type == CKA_KEY_TYPE || lwss_p11_key_attr_known(type);
}

static int is_key(const lwss_p11_obj *o)
{
    return o->meta.cls == CKO_PRIVATE_KEY || o->meta.cls == CKO_PUBLIC_KEY ||
           o->meta.cls == CKO_SECRET_KEY;
}

static CK_RV meta_attr(const lwss_p11_obj *o, CK_ATTRIBUTE_TYPE type, lwss_p11_attr_out *out)
{
    switch (type) {
    case CKA_CLASS: return out_ulong(out, o->meta.cls);
    case CKA_TOKEN: return out_bool(out, !lwss_p11_sessobj_is(o->handle));
    case CKA_PRIVATE: return out_bool(out, o->meta.is_private);
    case CKA_LABEL: return out_bytes(out, o->meta.label, o->meta.label_len);
    case CKA_MODIFIABLE: return out_bool(out, lwss_p11_key_modifiable(&o->meta));
    case CKA_COPYABLE: return out_bool(out, lwss_p11_key_copyable(&o->meta));
    case CKA_DESTROYABLE: return out_bool(out, 1);
    default: break;
    }
    if (type == CKA_ID && (is_key(o) || o->meta.cls == CKO_CERTIFICATE)) {
        return out_bytes(out, o->meta.id, o->meta.id_len);
    }
    if (type == CKA_KEY_TYPE && is_key(o)) {
        return out_ulong(out, lwss_p11_key_type(&o->meta));
    }
    return CKR_ATTRIBUTE_TYPE_INVALID;
}

/* The mbedtls form of a stored key, parsed once per open object. */
static CK_RV ensure_pk(lwss_p11_obj *o)
{
    if (o->parsed == 0) {
        int ret;
        if (o->meta.cls == CKO_PRIVATE_KEY) {
            ret = mbedtls_pk_parse_key(&o->pk, o->val, o->val_len, NULL, 0);
        } else {
            ret = mbedtls_pk_parse_public_key(&o->pk, o->val, o->val_len);
        }
        o->parsed = ret == 0 ? 1 : -1;
    }
    return o->parsed == 1 ? CKR_OK : CKR_DEVICE_ERROR;
}

static CK_RV ec_attr(lwss_p11_obj *o, CK_ATTRIBUTE_TYPE type, lwss_p11_attr_out *out)
{
    if (type != CKA_EC_PARAMS && (type != CKA_EC_POINT || o->meta.cls != CKO_PUBLIC_KEY)) {
        return CKR_ATTRIBUTE_TYPE_INVALID;
    }
    CK_RV rv = ensure_pk(o);
    if (rv != CKR_OK) {
        return rv;
    }
    if (mbedtls_pk_get_type(&o->pk) != MBEDTLS_PK_ECKEY) {
        return CKR_DEVICE_ERROR;
    }
    const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(o->pk);
    if (type == CKA_EC_PARAMS) {
        const uint8_t *params = NULL;
        size_t len = 0;
        rv = lwss_p11_curve_params(ec->grp.id, &params, &len);
        return rv == CKR_OK ? out_bytes(out, params, len) : rv;
    }
    size_t n = 0;
    if (mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &n,
                                       out->buf + 2, sizeof(out->buf) - 2) != 0 || n > 127) {
        return CKR_DEVICE_ERROR;
    }
    out->buf[0] = 0x04; /* DER OCTET STRING around the point */
    out->buf[1] = (uint8_t)n;
    out->p = out->buf;
    out->len = n + 2;
    return CKR_OK;
}

static CK_RV rsa_attr(lwss_p11_obj *o, CK_ATTRIBUTE_TYPE type, lwss_p11_attr_out *out)
{
    if (type != CKA_MODULUS && type != CKA_PUBLIC_EXPONENT && type != CKA_MODULUS_BITS) {
        return CKR_ATTRIBUTE_TYPE_INVALID;
    }
    CK_RV rv = ensure_pk(o);
    if (rv != CKR_OK) {
        return rv;
    }
    if (mbedtls_pk_get_type(&o->pk) != MBEDTLS_PK_RSA) {
        return CKR_DEVICE_ERROR;
    }
    const mbedtls_rsa_context *rsa = mbedtls_pk_rsa(o->pk);
    mbedtls_mpi n_mpi, e_mpi;
    mbedtls_mpi_init(&n_mpi);
    mbedtls_mpi_init(&e_mpi);
    rv = CKR_DEVICE_ERROR;
    if (mbedtls_rsa_export(rsa, &n_mpi, NULL, NULL, NULL, &e_mpi) != 0) {
        goto cleanup;
    }
    if (type == CKA_MODULUS_BITS) {
        rv = out_ulong(out, mbedtls_mpi_bitlen(&n_mpi));
        goto cleanup;
    }
    const mbedtls_mpi *m = type == CKA_MODULUS ? &n_mpi : &e_mpi;
    size_t len = mbedtls_mpi_size(m);
    if (len <= sizeof(out->buf) && mbedtls_mpi_write_binary(m, out->buf, len) == 0) {
        out->p = out->buf;
        out->len = len;
        rv = CKR_OK;
    }
cleanup:
    mbedtls_mpi_free(&e_mpi);
    mbedtls_mpi_free(&n_mpi);
    return rv;
}

static int is_sensitive(const lwss_p11_obj *o, CK_ATTRIBUTE_TYPE type)
{
    if (o->meta.cls != CKO_PRIVATE_KEY && o->meta.cls != CKO_SECRET_KEY) {
        return 0;
    }
    switch (type) {
    case CKA_VALUE: case CKA_PRIVATE_EXPONENT: case CKA_PRIME_1: case CKA_PRIME_2:
    case CKA_EXPONENT_1: case CKA_EXPONENT_2: case CKA_COEFFICIENT:
        return 1;
    default:
        return 0;
    }
}

/* Usage and policy flags: as stored (keyattr.c); the recover and
 * re-authentication ones are fixed, since no mechanism here uses them. */
static CK_RV flag_attr(const lwss_p11_obj *o, CK_ATTRIBUTE_TYPE type, lwss_p11_attr_out *out)
{
    int priv = o->meta.cls == CKO_PRIVATE_KEY;
    int pub = o->meta.cls == CKO_PUBLIC_KEY;
    int sec = o->meta.cls == CKO_SECRET_KEY;
    CK_ULONG v = 0;
    size_t len = 0;
    if (lwss_p11_key_attr_known(type)) {
        CK_RV rv = lwss_p11_key_attr_get(&o->meta, type, &v, &len);
        return rv == CKR_OK ? out_bytes(out, &v, len) : rv;
    }
    switch (type) {
    case CKA_SIGN_RECOVER: case CKA_ALWAYS_AUTHENTICATE: case CKA_WRAP_WITH_TRUSTED:
        return (priv || sec) ? out_bool(out, 0) : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_VERIFY_RECOVER:
        return (pub || sec) ? out_bool(out, 0) : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKA_TRUSTED:
        return (pub || o->meta.cls == CKO_CERTIFICATE) ? out_bool(out, 0)
                                                        : CKR_ATTRIBUTE_TYPE_INVALID;
    default: return CKR_ATTRIBUTE_TYPE_INVALID;
    }
}

static CK_RV cert_attr(lwss_p11_obj *o, CK_ATTRIBUTE_TYPE type, lwss_p11_attr_out *out)
{
    if (type == CKA_VALUE) {
        return out_bytes(out, o->val, o->val_len);
    }
    if (type == CKA_CERTIFICATE_TYPE) {
        return out_ulong(out, CKC_X_509);
    }
    if (type == CKA_CERTIFICATE_CATEGORY) {
        return out_ulong(out, 0); /* CK_CERTIFICATE_CATEGORY_UNSPECIFIED */
    }
    if (type != CKA_SUBJECT && type != CKA_ISSUER && type != CKA_SERIAL_NUMBER) {
        return CKR_ATTRIBUTE_TYPE_INVALID;
    }
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    CK_RV rv = CKR_DEVICE_ERROR;
    /* nocopy: the raw fields point into o->val, which outlives the answer. */
    if (mbedtls_x509_crt_parse_der_nocopy(&crt, o->val, o->val_len) != 0) {
        goto cleanup;
    }
    if (type == CKA_SUBJECT) {
        rv = out_bytes(out, crt.subject_raw.p, crt.subject_raw.len);
    } else if (type == CKA_ISSUER) {
        rv = out_bytes(out, crt.issuer_raw.p, crt.issuer_raw.len);
    } else if (crt.serial.len < 128) {
        out->buf[0] = 0x02; /* DER INTEGER, as PKCS #11 wants it */
        out->buf[1] = (uint8_t)crt.serial.len;
        memcpy(out->buf + 2, crt.serial.p, crt.serial.len);
        out->p = out->buf;
        out->len = crt.serial.len + 2;
        rv = CKR_OK;
    }
cleanup:
    mbedtls_x509_crt_free(&crt);
    return rv;
}

CK_RV lwss_p11_attr_get(lwss_p11_obj *o, CK_ATTRIBUTE_TYPE type, lwss_p11_attr_out *out)
{
    CK_RV rv = meta_attr(o, type, out);
    if (rv != CKR_ATTRIBUTE_TYPE_INVALID) {
        return rv;
    }
    if (is_sensitive(o, type)) {
        return CKR_ATTRIBUTE_SENSITIVE;
    }
    rv = flag_attr(o, type, out);
    if (rv != CKR_ATTRIBUTE_TYPE_INVALID) {
        return rv;
    }
    switch (o->meta.cls) {
    case CKO_CERTIFICATE:
        return cert_attr(o, type, out);
    case CKO_DATA:
        if (type == CKA_VALUE) {
            return out_bytes(out, o->val, o->val_len);
        }
        if (type == CKA_APPLICATION || type == CKA_OBJECT_ID) {
            return out_bytes(out, "", 0);
        }
        return CKR_ATTRIBUTE_TYPE_INVALID;
    case CKO_SECRET_KEY:
        if (type == CKA_CHECK_VALUE) { /* secret_key.c */
            uint8_t kcv[3];
            CK_RV kr = lwss_p11_secret_check_value(lwss_p11_key_type(&o->meta), o->val,
                                                   o->val_len, kcv);
            return kr == CKR_OK ? out_bytes(out, kcv, sizeof(kcv)) : kr;
        }
        return type == CKA_VALUE_LEN ? out_ulong(out, o->val_len) : CKR_ATTRIBUTE_TYPE_INVALID;
    case CKO_PUBLIC_KEY:
        if (type == CKA_PUBLIC_KEY_INFO) {
            return out_bytes(out, o->val, o->val_len);
        }
        /* fall through */
    case CKO_PRIVATE_KEY:
        if (type == CKA_START_DATE || type == CKA_END_DATE || type == CKA_SUBJECT) {
            return out_bytes(out, "", 0);
        }
        return lwss_p11_key_type(&o->meta) == CKK_EC ? ec_attr(o, type, out)
                                                     : rsa_attr(o, type, out);
    default:
        return CKR_ATTRIBUTE_TYPE_INVALID;
    }
}
