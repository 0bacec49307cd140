/*
 * libFuzzer target: provisioning input, PEM or DER, as lwss-provision hands
 * it to the token: lwss_pkcs11_import_key (private and public half) and
 * lwss_pkcs11_import_cert, whatever the bytes are.  Whatever is created is
 * destroyed again.  Seeds: tests/fuzz/corpus/pkcs11_provision_input/.
 */
#include "tests/fuzz/pkcs11_fuzz_session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static CK_SESSION_HANDLE g_session;

static void drop(CK_RV rv, CK_OBJECT_HANDLE h)
{
    if (rv == CKR_OK && C_DestroyObject(g_session, h) != CKR_OK) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_session = fuzz_session();
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    drop(lwss_pkcs11_import_key(g_session, "k", NULL, 0, data, size, LWSS_PKCS11_PRIVATE, &h), h);
    drop(lwss_pkcs11_import_key(g_session, "k", NULL, 0, data, size, LWSS_PKCS11_PUBLIC, &h), h);
    drop(lwss_pkcs11_import_cert(g_session, "c", NULL, 0, data, size, &h), h);
    return 0;
}
