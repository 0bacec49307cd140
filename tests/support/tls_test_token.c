/* A software PKCS #11 token with just what the TLS layer calls, for unit
 * tests that must not depend on the real token: certificates from certs/,
 * the device key held in an mbedtls pk context, C_Sign counted. */
#include "tests/support/tls_test_util.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>

#include <stdlib.h>
#include <string.h>

enum { OBJ_ROOT = 1, OBJ_CERT = 2, OBJ_KEY = 3, OBJ_COUNT = 4 };

typedef struct tt_object {
    CK_OBJECT_CLASS cls;
    const char *label;
    unsigned char *der;
    size_t der_len;
} tt_object;

static tt_object objects[OBJ_COUNT];
static mbedtls_pk_context device_key;
static CK_OBJECT_HANDLE found[OBJ_COUNT];
static CK_ULONG found_n, found_pos;
static CK_MECHANISM_TYPE sign_mech;
static int sign_calls;

static int initialised;

static CK_RV tt_initialize(CK_VOID_PTR a)
{
    (void)a;
    return initialised++ ? CKR_CRYPTOKI_ALREADY_INITIALIZED : CKR_OK;
}

static CK_RV tt_finalize(CK_VOID_PTR a)
{
    (void)a;
    initialised = 0;
    return CKR_OK;
}

static CK_RV tt_slots(CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
    (void)present;
    if (list != NULL && *count > 0) {
        list[0] = 1;
    }
    *count = 1;
    return CKR_OK;
}

static CK_RV tt_open(CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
                     CK_SESSION_HANDLE_PTR session)
{
    (void)slot; (void)flags; (void)app; (void)notify;
    *session = 7;
    return CKR_OK;
}

static CK_RV tt_close(CK_SESSION_HANDLE s) { (void)s; return CKR_OK; }

static int matches(const tt_object *o, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    for (CK_ULONG i = 0; i < n; i++) {
        if (t[i].type == CKA_CLASS && *(CK_OBJECT_CLASS *)t[i].pValue != o->cls) {
            return 0;
        }
        if (t[i].type == CKA_LABEL && (t[i].ulValueLen != strlen(o->label) ||
                                       memcmp(t[i].pValue, o->label, t[i].ulValueLen) != 0)) {
            return 0;
        }
    }
    return 1;
}

static CK_RV tt_find_init(CK_SESSION_HANDLE s, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    (void)s;
    found_n = found_pos = 0;
    for (CK_OBJECT_HANDLE h = 1; h < OBJ_COUNT; h++) {
        if (objects[h].label != NULL && matches(&objects[h], t, n)) {
            found[found_n++] = h;
        }
    }
    return CKR_OK;
}

static CK_RV tt_find(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE_PTR out, CK_ULONG max, CK_ULONG_PTR n)
{
    (void)s;
    *n = 0;
    while (found_pos < found_n && *n < max) {
        out[(*n)++] = found[found_pos++];
    }
    return CKR_OK;
}

static CK_RV tt_find_final(CK_SESSION_HANDLE s) { (void)s; return CKR_OK; }

static CK_RV put(CK_ATTRIBUTE_PTR a, const void *v, size_t len)
{
    if (a->pValue != NULL) {
        if (a->ulValueLen < len) {
            return CKR_BUFFER_TOO_SMALL;
        }
        memcpy(a->pValue, v, len);
    }
    a->ulValueLen = len;
    return CKR_OK;
}

static CK_RV tt_get_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG n)
{
    (void)s;
    if (h == 0 || h >= OBJ_COUNT || objects[h].label == NULL || n != 1) {
        return CKR_OBJECT_HANDLE_INVALID;
    }
    const tt_object *o = &objects[h];
    switch (t->type) {
    case CKA_CLASS: return put(t, &o->cls, sizeof(o->cls));
    case CKA_LABEL: return put(t, o->label, strlen(o->label));
    case CKA_VALUE:
        if (o->cls == CKO_PRIVATE_KEY) {
            t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
            return CKR_ATTRIBUTE_SENSITIVE;
        }
        return put(t, o->der, o->der_len);
    default:
        t->ulValueLen = CK_UNAVAILABLE_INFORMATION;
        return CKR_ATTRIBUTE_TYPE_INVALID;
    }
}

static CK_RV tt_sign_init(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE key)
{
    (void)s;
    if (key != OBJ_KEY) {
        return CKR_KEY_HANDLE_INVALID;
    }
    sign_mech = m->mechanism;
    return CKR_OK;
}

static int tt_rng(void *p, unsigned char *out, size_t len)
{
    (void)p;
    for (size_t i = 0; i < len; i++) {
        out[i] = (unsigned char)rand();
    }
    return 0;
}

static CK_RV tt_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig,
                     CK_ULONG_PTR sig_len)
{
    (void)s;
    __atomic_add_fetch(&sign_calls, 1, __ATOMIC_SEQ_CST);
    if (sign_mech == CKM_ECDSA) {
        mbedtls_mpi r, sv;
        mbedtls_mpi_init(&r);
        mbedtls_mpi_init(&sv);
        mbedtls_ecp_keypair *ec = mbedtls_pk_ec(device_key);
        int ret = len == 32 ? mbedtls_ecdsa_sign(&ec->grp, &r, &sv, &ec->d, data, len, tt_rng, NULL)
                            : -1;
        if (ret == 0) ret = mbedtls_mpi_write_binary(&r, sig, 32);
        if (ret == 0) ret = mbedtls_mpi_write_binary(&sv, sig + 32, 32);
        mbedtls_mpi_free(&r);
        mbedtls_mpi_free(&sv);
        *sig_len = 64;
        return ret == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
    }
    if (sign_mech == CKM_RSA_PKCS) {
        mbedtls_rsa_context *rsa = mbedtls_pk_rsa(device_key);
        int ret = mbedtls_rsa_pkcs1_sign(rsa, tt_rng, NULL, MBEDTLS_RSA_PRIVATE, MBEDTLS_MD_NONE,
                                         (unsigned int)len, data, sig);
        *sig_len = mbedtls_rsa_get_len(rsa);
        return ret == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
    }
    return CKR_MECHANISM_INVALID;
}

static CK_RV tt_random(CK_SESSION_HANDLE s, CK_BYTE_PTR out, CK_ULONG len)
{
    (void)s;
    return tt_rng(NULL, out, len) == 0 ? CKR_OK : CKR_FUNCTION_FAILED;
}

static CK_FUNCTION_LIST tt_functions;

static void load_cert(int h, const char *label, const char *name)
{
    char path[512];
    size_t len = 0;
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    unsigned char *pem = lwss_tt_read_file(lwss_tt_cert_path(name, path, sizeof(path)), &len);
    if (pem != NULL && mbedtls_x509_crt_parse(&crt, pem, len + 1) == 0) {
        objects[h].der = malloc(crt.raw.len);
        memcpy(objects[h].der, crt.raw.p, crt.raw.len);
        objects[h].der_len = crt.raw.len;
        objects[h].cls = CKO_CERTIFICATE;
        objects[h].label = label;
    }
    free(pem);
    mbedtls_x509_crt_free(&crt);
}

CK_FUNCTION_LIST_PTR lwss_tt_token(const lwss_tt_token_spec *spec)
{
    char path[512];
    lwss_tt_token_free();
    if (spec->root != NULL) {
        load_cert(OBJ_ROOT, pkcs11configLABEL_ROOT_CERTIFICATE, spec->root);
    }
    if (spec->device_cert != NULL) {
        load_cert(OBJ_CERT, pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS, spec->device_cert);
    }
    if (spec->device_key != NULL &&
        mbedtls_pk_parse_keyfile(&device_key, lwss_tt_cert_path(spec->device_key, path, sizeof(path)),
                                 NULL) == 0) {
        objects[OBJ_KEY].cls = CKO_PRIVATE_KEY;
        objects[OBJ_KEY].label = pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS;
    }
    tt_functions = (CK_FUNCTION_LIST){
        .version = {2, 40},
        .C_Initialize = tt_initialize,
        .C_Finalize = tt_finalize,
        .C_GetSlotList = tt_slots,
        .C_OpenSession = tt_open,
        .C_CloseSession = tt_close,
        .C_FindObjectsInit = tt_find_init,
        .C_FindObjects = tt_find,
        .C_FindObjectsFinal = tt_find_final,
        .C_GetAttributeValue = tt_get_attr,
        .C_SignInit = tt_sign_init,
        .C_Sign = tt_sign,
        .C_GenerateRandom = tt_random,
    };
    return &tt_functions;
}

int lwss_tt_token_signs(void)
{
    return __atomic_load_n(&sign_calls, __ATOMIC_SEQ_CST);
}

void lwss_tt_token_free(void)
{
    for (int h = 0; h < OBJ_COUNT; h++) {
        free(objects[h].der);
    }
    memset(objects, 0, sizeof(objects));
    mbedtls_pk_free(&device_key);
    mbedtls_pk_init(&device_key);
    sign_calls = 0;
}
