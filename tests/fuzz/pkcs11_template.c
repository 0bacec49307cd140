/*
 * libFuzzer target: C_CreateObject templates (then C_FindObjects with the
 * same template, C_GetAttributeValue and C_DestroyObject on what was made).
 * Input: records [type index][length, 2 bytes LE][value bytes]; a type index
 * beyond the table is an unknown attribute type; length 0xFFFF is a NULL
 * value pointer with a non-zero length.  Seeds: tests/fuzz/corpus/pkcs11_template/.
 */
#include "tests/fuzz/pkcs11_fuzz_session.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const CK_ATTRIBUTE_TYPE g_types[] = {
    CKA_CLASS, CKA_KEY_TYPE, CKA_LABEL, CKA_ID, CKA_VALUE, CKA_EC_PARAMS, CKA_EC_POINT,
    CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
    CKA_TOKEN, CKA_PRIVATE, CKA_CERTIFICATE_TYPE, CKA_SIGN, CKA_SENSITIVE, CKA_EXPONENT_1,
};
#define TYPE_COUNT (sizeof(g_types) / sizeof(g_types[0]))
#define MAX_ATTRS 16

static CK_SESSION_HANDLE g_session;

static CK_ULONG decode(const uint8_t *data, size_t size, CK_ATTRIBUTE *t)
{
    CK_ULONG n = 0;
    size_t i = 0;
    while (n < MAX_ATTRS && i + 3 <= size) {
        uint8_t ti = data[i];
        size_t len = (size_t)data[i + 1] | ((size_t)data[i + 2] << 8);
        i += 3;
        t[n].type = ti < TYPE_COUNT ? g_types[ti] : (CKA_VENDOR_DEFINED | ti);
        if (len == 0xFFFF) {
            t[n].pValue = NULL;
            t[n].ulValueLen = 8;
        } else {
            size_t avail = size - i < len ? size - i : len;
            t[n].pValue = (void *)(data + i);
            t[n].ulValueLen = avail;
            i += avail;
        }
        n++;
    }
    return n;
}

static void poke(CK_OBJECT_HANDLE h)
{
    static const CK_ATTRIBUTE_TYPE ask[] = {CKA_VALUE, CKA_EC_POINT, CKA_MODULUS, CKA_LABEL,
                                            CKA_SUBJECT, CKA_SERIAL_NUMBER, CKA_PRIVATE_EXPONENT,
                                            CKA_PUBLIC_KEY_INFO, CKA_VALUE_LEN, CKA_ISSUER};
    uint8_t buf[sizeof(ask) / sizeof(ask[0])][64];
    CK_ATTRIBUTE a[sizeof(ask) / sizeof(ask[0])];
    for (size_t i = 0; i < sizeof(ask) / sizeof(ask[0]); i++) {
        a[i].type = ask[i];
        a[i].pValue = (i % 2) ? buf[i] : NULL; /* both length queries and copies */
        a[i].ulValueLen = sizeof(buf[i]);
    }
    (void)C_GetAttributeValue(g_session, h, a, sizeof(ask) / sizeof(ask[0]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_session = fuzz_session();
    CK_ATTRIBUTE t[MAX_ATTRS];
    CK_ULONG n = decode(data, size, t);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    if (C_CreateObject(g_session, t, n, &h) == CKR_OK) {
        poke(h);
    }
    if (C_FindObjectsInit(g_session, t, n) == CKR_OK) {
        CK_OBJECT_HANDLE found[4];
        CK_ULONG got = 0;
        while (C_FindObjects(g_session, found, 4, &got) == CKR_OK && got > 0) {
        }
        (void)C_FindObjectsFinal(g_session);
    }
    if (h != CK_INVALID_HANDLE && C_DestroyObject(g_session, h) != CKR_OK) {
        abort(); /* an object we just made must be destroyable */
    }
    return 0;
}
