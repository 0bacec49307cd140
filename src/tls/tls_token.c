/*
 * TLS credentials from the PKCS #11 token: root certificates (trust
 * anchors), the device certificate and a handle to the device private key.
 * One session per connection, open only for the handshake.
 *
 * Root certificates: every CKO_CERTIFICATE whose CKA_LABEL is
 * LWSS_TLS_ROOT_CERT_LABEL ("Root Cert") or whose CKA_TRUSTED is CK_TRUE.
 */
#include "src/tls/tls_internal.h"
#include "src/core/core.h"
#include "lwss/tls.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static _Atomic(CK_FUNCTION_LIST_PTR) token_override;

int lwss_tls_set_token(CK_FUNCTION_LIST_PTR functions)
{
    atomic_store(&token_override, functions);
    return 0;
}

CK_FUNCTION_LIST_PTR lwss_tls_token_functions(void)
{
    CK_FUNCTION_LIST_PTR fl = atomic_load(&token_override);
    if (fl == NULL && C_GetFunctionList(&fl) != CKR_OK) {
        fl = NULL;
    }
    return fl;
}

/*
 * The token is used only while a handshake runs.  When lwss initialised it
 * (the application had not), it is finalised again once no handshake needs
 * it, so no NVM image stays open behind the application's back.  An
 * application that uses the token itself initialises it first; lwss then
 * never finalises it.
 */
static pthread_mutex_t token_users_lock = PTHREAD_MUTEX_INITIALIZER;
static int token_users;
static int token_initialised_here;

static int token_hold(CK_FUNCTION_LIST_PTR fl)
{
    int ok = 1;
    lwss_os_lock(&token_users_lock);
    if (token_users == 0) {
        CK_RV rv = fl->C_Initialize(NULL);
        token_initialised_here = rv == CKR_OK;
        ok = rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }
    token_users += ok;
    pthread_mutex_unlock(&token_users_lock);
    return ok;
}

static void token_release(CK_FUNCTION_LIST_PTR fl)
{
    lwss_os_lock(&token_users_lock);
    if (--token_users == 0 && token_initialised_here) {
        fl->C_Finalize(NULL);
        token_initialised_here = 0;
    }
    pthread_mutex_unlock(&token_users_lock);
}

int lwss_tls_token_open(lwss_tls_token *t)
{
    t->session = CK_INVALID_HANDLE;
    t->held = 0;
    if (t->fl == NULL || !token_hold(t->fl)) {
        return -1;
    }
    t->held = 1;
    CK_SLOT_ID slots[4];
    CK_ULONG count = 4;
    CK_RV rv = t->fl->C_GetSlotList(CK_TRUE, slots, &count);
    if ((rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL) || count == 0 ||
        t->fl->C_OpenSession(slots[0], CKF_SERIAL_SESSION, NULL, NULL, &t->session) != CKR_OK) {
        t->session = CK_INVALID_HANDLE;
        lwss_tls_token_close(t);
        return -1;
    }
    return 0;
}

void lwss_tls_token_close(lwss_tls_token *t)
{
    if (t->fl != NULL && t->session != CK_INVALID_HANDLE) {
        t->fl->C_CloseSession(t->session);
    }
    t->session = CK_INVALID_HANDLE;
    if (t->held) {
        token_release(t->fl);
        t->held = 0;
    }
}

/* Value of one attribute into a heap buffer (NUL-terminated for labels). */
static unsigned char *get_attr(lwss_tls_token *t, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
                               CK_ULONG *len)
{
    CK_ATTRIBUTE a = {type, NULL, 0};
    if (t->fl->C_GetAttributeValue(t->session, obj, &a, 1) != CKR_OK ||
        a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
        return NULL;
    }
    unsigned char *buf = malloc(a.ulValueLen + 1);
    if (buf == NULL) {
        return NULL;
    }
    a.pValue = buf;
    if (t->fl->C_GetAttributeValue(t->session, obj, &a, 1) != CKR_OK) {
        free(buf);
        return NULL;
    }
    buf[a.ulValueLen] = '\0';
    *len = a.ulValueLen;
    return buf;
}

/* Up to @p max handles of objects matching @p tmpl. */
static CK_ULONG find_objects(lwss_tls_token *t, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                             CK_OBJECT_HANDLE *out, CK_ULONG max)
{
    CK_ULONG found = 0;
    if (t->fl->C_FindObjectsInit(t->session, tmpl, n) != CKR_OK) {
        return 0;
    }
    while (found < max) {
        CK_ULONG got = 0;
        if (t->fl->C_FindObjects(t->session, out + found, max - found, &got) != CKR_OK ||
            got == 0) {
            break;
        }
        found += got;
    }
    t->fl->C_FindObjectsFinal(t->session);
    return found;
}

static int is_root(lwss_tls_token *t, CK_OBJECT_HANDLE obj)
{
    CK_BBOOL trusted = CK_FALSE;
    CK_ATTRIBUTE a = {CKA_TRUSTED, &trusted, sizeof(trusted)};
    if (t->fl->C_GetAttributeValue(t->session, obj, &a, 1) == CKR_OK && trusted == CK_TRUE) {
        return 1;
    }
    CK_ULONG len = 0;
    unsigned char *label = get_attr(t, obj, CKA_LABEL, &len);
    int root = label != NULL && len == strlen(LWSS_TLS_ROOT_CERT_LABEL) &&
               memcmp(label, LWSS_TLS_ROOT_CERT_LABEL, len) == 0;
    free(label);
    return root;
}

int lwss_tls_token_load_roots(lwss_tls_token *t, mbedtls_x509_crt *chain)
{
    CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}};
    CK_OBJECT_HANDLE objs[32];
    CK_ULONG n = find_objects(t, tmpl, 1, objs, 32);
    int loaded = 0;
    for (CK_ULONG i = 0; i < n; i++) {
        if (!is_root(t, objs[i])) {
            continue;
        }
        CK_ULONG len = 0;
        unsigned char *der = get_attr(t, objs[i], CKA_VALUE, &len);
        if (der != NULL && lwss_tls_parse_certs(chain, der, len) == 0) {
            loaded++;
        }
        free(der);
    }
    return loaded;
}

static CK_OBJECT_HANDLE find_by_label(lwss_tls_token *t, CK_OBJECT_CLASS cls, const char *label)
{
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)}};
    CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
    return find_objects(t, tmpl, 2, &obj, 1) == 1 ? obj : CK_INVALID_HANDLE;
}

int lwss_tls_token_load_client(lwss_tls_token *t, mbedtls_x509_crt *cert, mbedtls_pk_context *key)
{
    CK_OBJECT_HANDLE cert_obj = find_by_label(t, CKO_CERTIFICATE, LWSS_TLS_CLIENT_CERT_LABEL);
    CK_OBJECT_HANDLE key_obj = find_by_label(t, CKO_PRIVATE_KEY, LWSS_TLS_CLIENT_KEY_LABEL);
    if (cert_obj == CK_INVALID_HANDLE || key_obj == CK_INVALID_HANDLE) {
        return 0; /* no client identity: the server decides whether that is enough */
    }
    CK_ULONG len = 0;
    unsigned char *der = get_attr(t, cert_obj, CKA_VALUE, &len);
    if (der == NULL) {
        return MBEDTLS_ERR_X509_FILE_IO_ERROR;
    }
    int ret = lwss_tls_parse_certs(cert, der, len);
    free(der);
    if (ret == 0) {
        ret = lwss_tls_pk_setup(key, t->fl, t->session, key_obj, &cert->pk);
    }
    return ret == 0 ? 1 : ret;
}
