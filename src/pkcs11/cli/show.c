/* `lwss-provision show`: what the token holds, one line per object. */
#include "src/pkcs11/cli/provision.h"

#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <string.h>

const char *prov_rv_name(CK_RV rv)
{
    switch (rv) {
    case CKR_OK: return "CKR_OK";
    case CKR_DEVICE_MEMORY: return "CKR_DEVICE_MEMORY (the image is full)";
    case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR (image I/O or locked by another process)";
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
    case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN (give --pin)";
    case CKR_ATTRIBUTE_VALUE_INVALID: return "CKR_ATTRIBUTE_VALUE_INVALID";
    case CKR_CURVE_NOT_SUPPORTED: return "CKR_CURVE_NOT_SUPPORTED";
    case CKR_KEY_SIZE_RANGE: return "CKR_KEY_SIZE_RANGE";
    default: return "PKCS #11 error";
    }
}

static const char *class_name(CK_OBJECT_CLASS c)
{
    switch (c) {
    case CKO_CERTIFICATE: return "certificate";
    case CKO_PRIVATE_KEY: return "private-key";
    case CKO_PUBLIC_KEY: return "public-key";
    case CKO_SECRET_KEY: return "secret-key";
    case CKO_DATA: return "data";
    default: return "other";
    }
}

static void show_details(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_OBJECT_CLASS cls,
                         CK_KEY_TYPE kt)
{
    if (cls == CKO_CERTIFICATE) {
        static unsigned char der[16384];
        CK_ATTRIBUTE v = {CKA_VALUE, der, sizeof(der)};
        mbedtls_x509_crt crt;
        mbedtls_x509_crt_init(&crt);
        if (C_GetAttributeValue(s, h, &v, 1) == CKR_OK &&
            mbedtls_x509_crt_parse_der(&crt, der, v.ulValueLen) == 0) {
            char subject[256];
            mbedtls_x509_dn_gets(subject, sizeof(subject), &crt.subject);
            printf("  subject=\"%s\" not-after=%04d-%02d-%02d", subject, crt.valid_to.year,
                   crt.valid_to.mon, crt.valid_to.day);
        }
        mbedtls_x509_crt_free(&crt);
    } else if (kt == CKK_EC) {
        printf("  EC P-256");
    } else if (kt == CKK_RSA) {
        unsigned char n[512];
        CK_ATTRIBUTE m = {CKA_MODULUS, n, sizeof(n)};
        if (C_GetAttributeValue(s, h, &m, 1) == CKR_OK) {
            printf("  RSA %lu", m.ulValueLen * 8);
        }
    }
}

int prov_show(CK_SESSION_HANDLE s)
{
    CK_OBJECT_HANDLE hs[64];
    CK_ULONG n = 0;
    if (C_FindObjectsInit(s, NULL, 0) != CKR_OK) {
        return prov_fail("cannot list the objects");
    }
    CK_RV rv = C_FindObjects(s, hs, 64, &n);
    C_FindObjectsFinal(s);
    if (rv != CKR_OK) {
        return prov_fail("cannot list the objects: %s", prov_rv_name(rv));
    }
    printf("%lu object(s)\n", n);
    for (CK_ULONG i = 0; i < n; i++) {
        char label[65] = {0};
        unsigned char id[64];
        CK_OBJECT_CLASS cls = 0;
        CK_KEY_TYPE kt = CK_UNAVAILABLE_INFORMATION;
        CK_ATTRIBUTE a[] = {{CKA_LABEL, label, sizeof(label) - 1},
                            {CKA_CLASS, &cls, sizeof(cls)},
                            {CKA_ID, id, sizeof(id)},
                            {CKA_KEY_TYPE, &kt, sizeof(kt)}};
        (void)C_GetAttributeValue(s, hs[i], a, 4); /* key type is absent on certificates */
        if (a[0].ulValueLen > sizeof(label) - 1) {
            a[0].ulValueLen = 0;
        }
        label[a[0].ulValueLen] = 0;
        printf("%-12s \"%s\"", class_name(cls), label);
        if (a[2].ulValueLen != CK_UNAVAILABLE_INFORMATION && a[2].ulValueLen > 0) {
            printf(" id=");
            for (CK_ULONG j = 0; j < a[2].ulValueLen; j++) {
                printf("%02x", id[j]);
            }
        }
        show_details(s, hs[i], cls, a[3].ulValueLen == sizeof(kt) ? kt : CK_UNAVAILABLE_INFORMATION);
        printf("\n");
    }
    return 0;
}
