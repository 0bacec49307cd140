/*
 * lwss-nvm-writer: a token process writing one image, for the cross-process
 * NVM tests (scripts/nvm-txn-test.sh, issue 14).
 *   lwss-nvm-writer data ID COUNT     C_CreateObject CKO_DATA "wID" = "ID:v"
 *                                    (padded to 96 bytes), v = 1..COUNT;
 *                                    prints "ack wID v" after each CKR_OK
 *   lwss-nvm-writer keygen COUNT     C_GenerateKeyPair "kp" COUNT times
 *   lwss-nvm-writer check-pair       exit 0 when "kp" is absent or both
 *                                    halves are present and match, else 1
 * The image is $LWSS_NVM.  A busy image (another process holds it longer
 * than LWSS_NVM_LOCK_MS) is retried, at most 200 times per write.
 */
#include "lwss/nvm.h"
#include "lwss/pkcs11.h"
#include "lwss/port.h"

#include <mbedtls/pk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const CK_BYTE p256_oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};

/* Open the token (retrying a busy image) with a logged-in RW session. */
static CK_RV open_token(CK_SESSION_HANDLE *s)
{
    CK_RV rv = CKR_GENERAL_ERROR;
    for (int tries = 0; tries < 200 && rv != CKR_OK; tries++) {
        rv = C_Initialize(NULL);
        if (rv == CKR_OK) {
            rv = C_OpenSession(LWSS_PKCS11_SLOT_ID, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL,
                               NULL, s);
            if (rv != CKR_OK) {
                C_Finalize(NULL);
            }
        }
    }
    if (rv == CKR_OK) {
        rv = C_Login(*s, CKU_USER, (CK_UTF8CHAR_PTR)LWSS_PKCS11_DEFAULT_PIN,
                     strlen(LWSS_PKCS11_DEFAULT_PIN));
        rv = rv == CKR_USER_ALREADY_LOGGED_IN ? CKR_OK : rv;
        if (rv != CKR_OK) {
            C_Finalize(NULL);
        }
    }
    return rv;
}

static CK_RV write_data(CK_SESSION_HANDLE s, const char *id, unsigned v)
{
    char label[32], value[96];
    snprintf(label, sizeof(label), "w%s", id);
    memset(value, '.', sizeof(value));
    int n = snprintf(value, sizeof(value), "%s:%u", id, v);
    value[n] = '.';
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_TOKEN, &yes, sizeof(yes)},
                        {CKA_LABEL, label, strlen(label)},
                        {CKA_VALUE, value, sizeof(value)}};
    CK_OBJECT_HANDLE h = 0;
    return C_CreateObject(s, t, 4, &h);
}

static CK_RV keygen(CK_SESSION_HANDLE s)
{
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, (void *)p256_oid, sizeof(p256_oid)},
                            {CKA_LABEL, "kp", 2}};
    CK_ATTRIBUTE priv_t[] = {{CKA_LABEL, "kp", 2}};
    CK_OBJECT_HANDLE pub = 0, priv = 0;
    return C_GenerateKeyPair(s, &gen, pub_t, 2, priv_t, 1, &pub, &priv);
}

/* Both halves of "kp" or neither; when both, they are one pair. */
static int check_pair(void)
{
    if (lwss_nvm_open(NULL) != 0) {
        fprintf(stderr, "check-pair: %s\n", lwss_last_error());
        return 1;
    }
    uint32_t hpriv = lwss_nvm_find((const uint8_t *)"kp", 2, CKO_PRIVATE_KEY);
    uint32_t hpub = lwss_nvm_find((const uint8_t *)"kp", 2, CKO_PUBLIC_KEY);
    int ok = hpriv == 0 && hpub == 0;
    if (hpriv != 0 && hpub != 0) {
        uint8_t *dpriv = NULL, *dpub = NULL;
        size_t lpriv = 0, lpub = 0;
        mbedtls_pk_context kpriv, kpub;
        mbedtls_pk_init(&kpriv);
        mbedtls_pk_init(&kpub);
        ok = lwss_nvm_get_value(hpriv, &dpriv, &lpriv) == 0 &&
             lwss_nvm_get_value(hpub, &dpub, &lpub) == 0 &&
             mbedtls_pk_parse_key(&kpriv, dpriv, lpriv, NULL, 0) == 0 &&
             mbedtls_pk_parse_public_key(&kpub, dpub, lpub) == 0 &&
             mbedtls_pk_check_pair(&kpub, &kpriv) == 0;
        mbedtls_pk_free(&kpriv);
        mbedtls_pk_free(&kpub);
        lwss_nvm_free_value(dpriv, lpriv);
        lwss_nvm_free_value(dpub, lpub);
    }
    if (!ok) {
        fprintf(stderr, "check-pair: kp private %s, public %s, %s\n", hpriv ? "present" : "absent",
                hpub ? "present" : "absent", hpriv && hpub ? "not one pair" : "half a pair");
    }
    lwss_nvm_close();
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "check-pair")) {
        return check_pair();
    }
    int is_data = argc == 4 && !strcmp(argv[1], "data");
    if (!is_data && !(argc == 3 && !strcmp(argv[1], "keygen"))) {
        fprintf(stderr, "usage: lwss-nvm-writer data ID COUNT | keygen COUNT | check-pair\n");
        return 2;
    }
    unsigned count = (unsigned)strtoul(argv[argc - 1], NULL, 10);
    int failures = 0;
    for (unsigned v = 1; v <= count; v++) {
        CK_SESSION_HANDLE s = 0;
        CK_RV rv = open_token(&s);
        if (rv == CKR_OK) {
            rv = is_data ? write_data(s, argv[2], v) : keygen(s);
            C_Finalize(NULL);
        }
        if (rv == CKR_OK) {
            printf("ack w%s %u\n", is_data ? argv[2] : "kp", v);
            fflush(stdout);
        } else {
            failures++;
        }
    }
    return failures == (int)count ? 1 : 0;
}
