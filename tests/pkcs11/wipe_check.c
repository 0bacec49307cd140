/*
 * Secrets are wiped before free (a reference defect: keys freed unwiped).
 * Linked with -Wl,--wrap=free against liblwss.a, so every free() made by the
 * token, the store and the import helpers passes through __wrap_free, which
 * looks for the private key's scalar (EC) or private exponent (RSA) in the
 * block about to be freed.  The key material goes through import, storage,
 * signing with the key cache, session objects (destroyed, and dropped at
 * their session's close), session close and C_Finalize.  An AES-256 key
 * (the third secret) goes through C_CreateObject, C_Encrypt / C_Decrypt
 * (GCM, CBC_PAD, multi-part), C_WrapKey / C_UnwrapKey (RFC 5649) and
 * C_DestroyObject.
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

static unsigned char g_secret[3][64]; /* first 16 bytes of D are enough to recognise it */
static int g_armed;
static int g_found;

void __wrap_free(void *p)
{
    if (p != NULL && g_armed) {
        size_t n = malloc_usable_size(p);
        for (int k = 0; k < 3; k++) {
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

/* The AES key g_secret[2] through encryption, wrapping and destruction. */
static int secret_keys(CK_SESSION_HANDLE s)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_BBOOL yes = CK_TRUE;
    CK_ULONG len32 = 32;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_ENCRYPT, &yes, 1},        {CKA_DECRYPT, &yes, 1},
                        {CKA_EXTRACTABLE, &yes, 1},    {CKA_LABEL, "aes", 3},
                        {CKA_VALUE, g_secret[2], 32}};
    CK_ATTRIBUTE kek_t[] = {{CKA_VALUE_LEN, &len32, sizeof(len32)}, {CKA_WRAP, &yes, 1},
                            {CKA_UNWRAP, &yes, 1}};
    unsigned char iv[16] = {3}, data[100] = {4}, ct[160], pt[160], wrapped[64];
    CK_GCM_PARAMS gp = {iv, 12, 96, NULL, 0, 128};
    CK_MECHANISM gcm = {CKM_AES_GCM, &gp, sizeof(gp)};
    CK_MECHANISM cbc = {CKM_AES_CBC_PAD, iv, 16};
    CK_MECHANISM gen = {CKM_AES_KEY_GEN, NULL, 0};
    CK_MECHANISM kwp = {CKM_AES_KEY_WRAP_PAD, NULL, 0};
    CK_OBJECT_HANDLE k = 0, kek = 0, u = 0;
    CK_ULONG n = sizeof(ct), m = sizeof(pt), w = sizeof(wrapped), part = sizeof(pt);
    int ok = C_CreateObject(s, t, 7, &k) == CKR_OK &&
             C_EncryptInit(s, &gcm, k) == CKR_OK &&
             C_Encrypt(s, data, sizeof(data), ct, &n) == CKR_OK &&
             C_DecryptInit(s, &gcm, k) == CKR_OK && C_Decrypt(s, ct, n, pt, &m) == CKR_OK;
    n = sizeof(ct);
    ok = ok && C_EncryptInit(s, &cbc, k) == CKR_OK &&
         C_Encrypt(s, data, sizeof(data), ct, &n) == CKR_OK &&
         C_DecryptInit(s, &cbc, k) == CKR_OK &&
         C_DecryptUpdate(s, ct, 40, pt, &part) == CKR_OK; /* multi-part: a held block */
    m = sizeof(pt) - part;
    ok = ok && C_DecryptUpdate(s, ct + 40, n - 40, pt + part, &m) == CKR_OK;
    part += m;
    m = sizeof(pt) - part;
    ok = ok && C_DecryptFinal(s, pt + part, &m) == CKR_OK && part + m == sizeof(data);
    return ok && C_GenerateKey(s, &gen, kek_t, 3, &kek) == CKR_OK &&
           C_WrapKey(s, &kwp, kek, k, wrapped, &w) == CKR_OK &&
           C_UnwrapKey(s, &kwp, kek, wrapped, w, t, 5, &u) == CKR_OK && /* no label: a new one */
           C_DestroyObject(s, u) == CKR_OK && C_DestroyObject(s, k) == CKR_OK;
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
    ok = ok && secret_keys(s);
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
    for (int i = 0; i < 32; i++) {
        g_secret[2][i] = (unsigned char)(0xA5 ^ (i * 37)); /* the AES key */
    }
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
