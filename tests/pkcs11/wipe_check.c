/*
 * Secrets are wiped before free (a reference defect: keys freed unwiped).
 * Linked with -Wl,--wrap=free against liblwss.a, so every free() made by the
 * token, the store and the import helpers passes through __wrap_free, which
 * looks for the private key's scalar (EC) or private exponent (RSA) in the
 * block about to be freed.  The key material goes through import, storage,
 * signing with the key cache, session objects (destroyed, and dropped at
 * their session's close), session close and C_Finalize.
 * Exit 0 when no freed block held a secret; 1 with a message otherwise.
 */
#include "lwss/nvm.h"
#include "lwss/pkcs11.h"

#include <malloc.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void __real_free(void *p);
void __wrap_free(void *p);

static unsigned char g_secret[2][64]; /* first 16 bytes of D are enough to recognise it */
static int g_armed;
static int g_found;

void __wrap_free(void *p)
{
    if (p != NULL && g_armed) {
        size_t n = malloc_usable_size(p);
        for (int k = 0; k < 2; k++) {
            if (memmem(p, n, g_secret[k], 16) != NULL) {
                g_found++;
            }
        }
    }
    __real_free(p);
}

/* The EC key as a session object (CKA_TOKEN=FALSE, v2.40 4.4): one is
 * destroyed after signing, one goes with its session's close. */
static int session_objects(CK_SESSION_HANDLE s)
{
    static const unsigned char p256[] = {0x06, 0x08, 0x2A, 0x86, 0x48,
                                         0xCE, 0x3D, 0x03, 0x01, 0x07};
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_EC;
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},      {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &no, 1},                 {CKA_LABEL, "ec-session", 10},
                        {CKA_EC_PARAMS, (void *)p256, sizeof(p256)}, {CKA_VALUE, g_secret[0], 32}};
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    unsigned char in[32] = {2};
    unsigned char sig[64];
    CK_ULONG len = sizeof(sig);
    CK_OBJECT_HANDLE a = 0;
    CK_OBJECT_HANDLE b = 0;
    return C_CreateObject(s, t, 6, &a) == CKR_OK && C_CreateObject(s, t, 6, &b) == CKR_OK &&
           C_SignInit(s, &ecdsa, a) == CKR_OK && C_Sign(s, in, 32, sig, &len) == CKR_OK &&
           C_DestroyObject(s, a) == CKR_OK;
}

static int run(const char *ec_pem, const char *rsa_pem)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE ec = 0;
    CK_OBJECT_HANDLE rsa = 0;
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    CK_MECHANISM pkcs = {CKM_RSA_PKCS, NULL, 0};
    unsigned char in[51] = {1};
    unsigned char sig[256];
    CK_ULONG len = sizeof(sig);
    int ok = C_Initialize(NULL) == CKR_OK &&
             C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) == CKR_OK &&
             lwss_pkcs11_import_key(s, "ec", NULL, 0, (const unsigned char *)ec_pem,
                                    strlen(ec_pem), LWSS_PKCS11_PRIVATE, &ec) == CKR_OK &&
             lwss_pkcs11_import_key(s, "rsa", NULL, 0, (const unsigned char *)rsa_pem,
                                    strlen(rsa_pem), LWSS_PKCS11_PRIVATE, &rsa) == CKR_OK;
    for (int i = 0; ok && i < 3; i++) {
        len = sizeof(sig);
        ok = C_SignInit(s, &ecdsa, ec) == CKR_OK && C_Sign(s, in, 32, sig, &len) == CKR_OK;
        len = sizeof(sig);
        ok = ok && C_SignInit(s, &pkcs, rsa) == CKR_OK && C_Sign(s, in, 51, sig, &len) == CKR_OK;
    }
    ok = ok && session_objects(s);
    ok = ok && C_CloseSession(s) == CKR_OK && C_Finalize(NULL) == CKR_OK;
    /* and once more from the image, as a new process would */
    ok = ok && C_Initialize(NULL) == CKR_OK &&
         C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) == CKR_OK &&
         C_SignInit(s, &ecdsa, ec) == CKR_OK && C_Finalize(NULL) == CKR_OK;
    return ok;
}

/* The secrets to look for, taken from the keys with mbedtls (before arming). */
static int learn(const char *ec_pem, const char *rsa_pem)
{
    mbedtls_pk_context ec, rsa;
    mbedtls_pk_init(&ec);
    mbedtls_pk_init(&rsa);
    mbedtls_mpi d;
    mbedtls_mpi_init(&d);
    unsigned char d_bytes[512];
    int ok = mbedtls_pk_parse_key(&ec, (const unsigned char *)ec_pem, strlen(ec_pem) + 1, NULL,
                                  0) == 0 &&
             mbedtls_pk_parse_key(&rsa, (const unsigned char *)rsa_pem, strlen(rsa_pem) + 1, NULL,
                                  0) == 0 &&
             mbedtls_mpi_write_binary(&mbedtls_pk_ec(ec)->d, g_secret[0], 32) == 0 &&
             mbedtls_rsa_export(mbedtls_pk_rsa(rsa), NULL, NULL, NULL, &d, NULL) == 0 &&
             mbedtls_mpi_size(&d) <= sizeof(d_bytes) &&
             mbedtls_mpi_write_binary(&d, d_bytes, mbedtls_mpi_size(&d)) == 0;
    memcpy(g_secret[1], d_bytes, sizeof(g_secret[1]));
    mbedtls_mpi_free(&d);
    mbedtls_pk_free(&ec);
    mbedtls_pk_free(&rsa);
    return ok;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    static char bufs[2][8192];
    static int next;
    char *b = bufs[next++ % 2];
    size_t n = f != NULL ? fread(b, 1, sizeof(bufs[0]) - 1, f) : 0;
    b[n] = 0;
    if (f != NULL) {
        fclose(f);
    }
    return n > 0 ? b : NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: lwss-pkcs11-wipe EC_KEY.pem RSA_KEY.pem IMAGE\n");
        return 2;
    }
    char *ec_pem = slurp(argv[1]);
    char *rsa_pem = slurp(argv[2]);
    if (ec_pem == NULL || rsa_pem == NULL || !learn(ec_pem, rsa_pem) ||
        lwss_nvm_set_path(argv[3]) != 0) {
        fprintf(stderr, "lwss-pkcs11-wipe: setup failed\n");
        return 1;
    }
    g_armed = 1;
    int ok = run(ec_pem, rsa_pem);
    g_armed = 0;
    if (!ok) {
        fprintf(stderr, "lwss-pkcs11-wipe: a token call failed\n");
        return 1;
    }
    if (g_found > 0) {
        fprintf(stderr, "lwss-pkcs11-wipe: %d freed block(s) still held private key bytes\n",
                g_found);
        return 1;
    }
    printf("lwss-pkcs11-wipe: no freed block held private key material\n");
    return 0;
}
