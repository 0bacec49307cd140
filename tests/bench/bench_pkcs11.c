/*
 * bench_pkcs11: the token's C_Sign (CKM_ECDSA on P-256 and P-384,
 * CKM_RSA_PKCS on RSA 2048) against raw mbedtls signing with the same key
 * in the same run, C_FindObjects + C_GetAttributeValue, and the time of an
 * RSA 2048 C_GenerateKeyPair (beside mbedtls_rsa_gen_key alone), and
 * C_Encrypt throughput with AES-256-GCM and AES-256-CBC on 64 KiB buffers
 * (beside mbedtls_gcm / mbedtls_cipher on the same buffers, key set once),
 * and C_DeriveKey CKM_ECDH1_DERIVE on P-256 (CKD_NULL, into a session
 * generic-secret object destroyed each round) beside mbedtls_ecdh_compute_shared
 * with the same private key and peer point (read from the same bytes), as
 * JSON lines (see tests/bench/report.c).
 * Each side runs in alternating slices, best slice kept, so that the two
 * see the same machine load.  Goal: token >= 0.9 x raw (overhead <= 10%).
 */
#include "lwss/nvm.h"
#include "lwss/pkcs11.h"
#include "lwss/port.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/cipher.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/gcm.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLICES 6
#define SLICE_MS 400
#define KEYGEN_RUNS 3
#define CIPHER_BUF (64 * 1024)

/* One signing key, in the token and as the same mbedtls key beside it. */
typedef struct bench_key {
    const char *token_metric;
    const char *raw_metric;
    CK_MECHANISM_TYPE mech;
    CK_OBJECT_HANDLE handle;
    mbedtls_pk_context pk;
    unsigned char in[64]; /* ECDSA: the hash; RSA: the DigestInfo of SHA-256 */
    size_t in_len;
    size_t sig_len;
} bench_key;

typedef struct bench_ctx {
    CK_SESSION_HANDLE session;
    bench_key keys[3]; /* P-256, P-384, RSA 2048 */
    bench_key *cur;
    mbedtls_ctr_drbg_context drbg;
    /* C_Encrypt: one AES-256 key in the token and the same key in mbedtls */
    CK_OBJECT_HANDLE aes;
    unsigned char aes_key[32], iv[16];
    unsigned char *in, *out; /* CIPHER_BUF (+ tag / padding room) */
    mbedtls_gcm_context gcm;
    mbedtls_cipher_context_t cbc;
    /* C_DeriveKey: base = keys[0]'s P-256 scalar with CKA_DERIVE; a peer point */
    CK_OBJECT_HANDLE ecdh_base;
    unsigned char peer[65];
    mbedtls_ecp_keypair peer_key;
} bench_ctx;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int drbg_seed(void *ctx, unsigned char *out, size_t len)
{
    size_t got = 0;
    return lwss_entropy_poll(ctx, out, len, &got) == 0 && got == len ? 0 : -1;
}

static int token_sign(bench_ctx *b)
{
    bench_key *k = b->cur;
    CK_MECHANISM m = {k->mech, NULL, 0};
    unsigned char sig[512];
    CK_ULONG len = sizeof(sig);
    return C_SignInit(b->session, &m, k->handle) == CKR_OK &&
           C_Sign(b->session, k->in, (CK_ULONG)k->in_len, sig, &len) == CKR_OK &&
           len == k->sig_len;
}

/* The same work without the token: ECDSA r||s as bytes, or PKCS #1 v1.5
 * over the same DigestInfo (mbedtls builds it from the hash). */
static int raw_sign(bench_ctx *b)
{
    bench_key *k = b->cur;
    unsigned char sig[512];
    if (k->mech == CKM_RSA_PKCS) {
        return mbedtls_rsa_pkcs1_sign(mbedtls_pk_rsa(k->pk), mbedtls_ctr_drbg_random, &b->drbg,
                                      MBEDTLS_RSA_PRIVATE, MBEDTLS_MD_SHA256, 32,
                                      k->in + k->in_len - 32, sig) == 0;
    }
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(k->pk);
    size_t n = k->sig_len / 2;
    mbedtls_mpi r, s;
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int ok = mbedtls_ecdsa_sign(&ec->grp, &r, &s, &ec->d, k->in, k->in_len,
                                mbedtls_ctr_drbg_random, &b->drbg) == 0 &&
             mbedtls_mpi_write_binary(&r, sig, n) == 0 &&
             mbedtls_mpi_write_binary(&s, sig + n, n) == 0;
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&s);
    return ok;
}

static int find_and_read(bench_ctx *b)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_ATTRIBUTE t[] = {{CKA_LABEL, "cert-5", 6}, {CKA_CLASS, &cls, sizeof(cls)}};
    CK_OBJECT_HANDLE h = 0;
    CK_ULONG n = 0;
    unsigned char value[1024];
    CK_ATTRIBUTE a = {CKA_VALUE, value, sizeof(value)};
    int ok = C_FindObjectsInit(b->session, t, 2) == CKR_OK &&
             C_FindObjects(b->session, &h, 1, &n) == CKR_OK && n == 1;
    ok &= C_FindObjectsFinal(b->session) == CKR_OK;
    return ok && C_GetAttributeValue(b->session, h, &a, 1) == CKR_OK;
}

static int token_gcm(bench_ctx *b)
{
    CK_GCM_PARAMS p = {b->iv, 12, 96, NULL, 0, 128};
    CK_MECHANISM m = {CKM_AES_GCM, &p, sizeof(p)};
    CK_ULONG len = CIPHER_BUF + 16;
    return C_EncryptInit(b->session, &m, b->aes) == CKR_OK &&
           C_Encrypt(b->session, b->in, CIPHER_BUF, b->out, &len) == CKR_OK &&
           len == CIPHER_BUF + 16;
}

static int raw_gcm(bench_ctx *b)
{
    return mbedtls_gcm_crypt_and_tag(&b->gcm, MBEDTLS_GCM_ENCRYPT, CIPHER_BUF, b->iv, 12, NULL, 0,
                                     b->in, b->out, 16, b->out + CIPHER_BUF) == 0;
}

static int token_cbc(bench_ctx *b)
{
    CK_MECHANISM m = {CKM_AES_CBC, b->iv, 16};
    CK_ULONG len = CIPHER_BUF;
    return C_EncryptInit(b->session, &m, b->aes) == CKR_OK &&
           C_Encrypt(b->session, b->in, CIPHER_BUF, b->out, &len) == CKR_OK && len == CIPHER_BUF;
}

static int raw_cbc(bench_ctx *b)
{
    size_t len = 0;
    return mbedtls_cipher_crypt(&b->cbc, b->iv, 16, b->in, CIPHER_BUF, b->out, &len) == 0 &&
           len == CIPHER_BUF;
}

/* The AES-256 key in the token (a session object allowed to encrypt) and in mbedtls. */
static int cipher_setup(bench_ctx *b)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_AES;
    CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &no, 1}, {CKA_ENCRYPT, &yes, 1},
                        {CKA_VALUE, b->aes_key, sizeof(b->aes_key)}};
    b->in = calloc(1, CIPHER_BUF);
    b->out = calloc(1, CIPHER_BUF + 32);
    mbedtls_gcm_init(&b->gcm);
    mbedtls_cipher_init(&b->cbc);
    for (size_t i = 0; b->in != NULL && i < CIPHER_BUF; i++) {
        b->in[i] = (unsigned char)(i * 131u + 7u); /* any data: the cost does not depend on it */
    }
    if (b->in == NULL || b->out == NULL ||
        mbedtls_ctr_drbg_random(&b->drbg, b->aes_key, sizeof(b->aes_key)) != 0 ||
        C_CreateObject(b->session, t, 5, &b->aes) != CKR_OK ||
        mbedtls_gcm_setkey(&b->gcm, MBEDTLS_CIPHER_ID_AES, b->aes_key, 256) != 0 ||
        mbedtls_cipher_setup(&b->cbc, mbedtls_cipher_info_from_type(MBEDTLS_CIPHER_AES_256_CBC)) ||
        mbedtls_cipher_setkey(&b->cbc, b->aes_key, 256, MBEDTLS_ENCRYPT) != 0 ||
        mbedtls_cipher_set_padding_mode(&b->cbc, MBEDTLS_PADDING_NONE) != 0) {
        return -1;
    }
    return 0;
}

static void cipher_free(bench_ctx *b)
{
    mbedtls_gcm_free(&b->gcm);
    mbedtls_cipher_free(&b->cbc);
    free(b->in);
    free(b->out);
}

/* C_DeriveKey ECDH P-256, CKD_NULL, into a session generic secret (destroyed). */
static int token_ecdh(bench_ctx *b)
{
    CK_ECDH1_DERIVE_PARAMS p = {CKD_NULL, 0, NULL, sizeof(b->peer), b->peer};
    CK_MECHANISM m = {CKM_ECDH1_DERIVE, &p, sizeof(p)};
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_BBOOL no = CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_KEY_TYPE, &kt, sizeof(kt)}, {CKA_TOKEN, &no, 1}};
    CK_OBJECT_HANDLE h = 0;
    return C_DeriveKey(b->session, &m, b->ecdh_base, t, 2, &h) == CKR_OK &&
           C_DestroyObject(b->session, h) == CKR_OK;
}

/* The same work without the token: the peer point from the same bytes, then
 * Z = x(d * Q) as 32 bytes (mbedtls_ecp_mul inside checks d and Q). */
static int raw_ecdh(bench_ctx *b)
{
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(b->keys[0].pk);
    mbedtls_ecp_point q;
    mbedtls_mpi z;
    unsigned char out[32];
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&z);
    int ok = mbedtls_ecp_point_read_binary(&ec->grp, &q, b->peer, sizeof(b->peer)) == 0 &&
             mbedtls_ecdh_compute_shared(&ec->grp, &z, &q, &ec->d, mbedtls_ctr_drbg_random,
                                         &b->drbg) == 0 &&
             mbedtls_mpi_write_binary(&z, out, sizeof(out)) == 0;
    mbedtls_platform_zeroize(out, sizeof(out));
    mbedtls_mpi_free(&z);
    mbedtls_ecp_point_free(&q);
    return ok;
}

/* The ECDH base key in the token (keys[0]'s scalar, a token object with
 * CKA_DERIVE) and a peer key pair generated by mbedtls. */
static int ecdh_setup(bench_ctx *b)
{
    static const unsigned char p256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01,
                                         0x07};
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_EC;
    CK_BBOOL yes = CK_TRUE;
    unsigned char d[32];
    size_t olen = 0;
    mbedtls_ecp_keypair_init(&b->peer_key);
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_EC_PARAMS, (void *)p256, sizeof(p256)}, {CKA_VALUE, d, sizeof(d)},
                        {CKA_DERIVE, &yes, 1}, {CKA_LABEL, "bench-ecdh", 10}};
    int ok = mbedtls_mpi_write_binary(&mbedtls_pk_ec(b->keys[0].pk)->d, d, sizeof(d)) == 0 &&
             C_CreateObject(b->session, t, 6, &b->ecdh_base) == CKR_OK &&
             mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, &b->peer_key, mbedtls_ctr_drbg_random,
                                 &b->drbg) == 0 &&
             mbedtls_ecp_point_write_binary(&b->peer_key.grp, &b->peer_key.Q,
                                            MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, b->peer,
                                            sizeof(b->peer)) == 0 &&
             olen == sizeof(b->peer);
    mbedtls_platform_zeroize(d, sizeof(d));
    return ok ? 0 : -1;
}

/* Best rate of one slice, operations per second. */
static double slice(int (*op)(bench_ctx *), bench_ctx *b)
{
    double start = now_s();
    double end = start + SLICE_MS / 1000.0;
    long n = 0;
    double t = start;
    while (t < end) {
        if (!op(b)) {
            fprintf(stderr, "bench_pkcs11: operation failed\n");
            exit(1);
        }
        n++;
        t = now_s();
    }
    return (double)n / (t - start);
}

/* Make key @p k (an EC curve, or RSA 2048 when @p curve is NONE) and import it. */
static int make_key(bench_ctx *b, bench_key *k, mbedtls_ecp_group_id curve, const char *label)
{
    static const unsigned char sha256_prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                                    0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                                    0x01, 0x05, 0x00, 0x04, 0x20};
    unsigned char der[4096];
    int rsa = curve == MBEDTLS_ECP_DP_NONE;
    mbedtls_pk_init(&k->pk);
    if (mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(rsa ? MBEDTLS_PK_RSA
                                                                : MBEDTLS_PK_ECKEY)) != 0) {
        return -1;
    }
    int ret = rsa ? mbedtls_rsa_gen_key(mbedtls_pk_rsa(k->pk), mbedtls_ctr_drbg_random, &b->drbg,
                                        2048, 65537)
                  : mbedtls_ecp_gen_key(curve, mbedtls_pk_ec(k->pk), mbedtls_ctr_drbg_random,
                                        &b->drbg);
    int n = ret == 0 ? mbedtls_pk_write_key_der(&k->pk, der, sizeof(der)) : -1;
    if (n <= 0 || lwss_pkcs11_import_key(b->session, label, NULL, 0, der + sizeof(der) - n,
                                         (size_t)n, LWSS_PKCS11_PRIVATE,
                                         &k->handle) != CKR_OK) {
        return -1;
    }
    k->mech = rsa ? CKM_RSA_PKCS : CKM_ECDSA;
    k->sig_len = rsa ? 256 : 2 * ((mbedtls_pk_get_bitlen(&k->pk) + 7) / 8);
    k->in_len = rsa ? sizeof(sha256_prefix) + 32 : (curve == MBEDTLS_ECP_DP_SECP384R1 ? 48 : 32);
    memset(k->in, 0x5A, sizeof(k->in));
    if (rsa) {
        memcpy(k->in, sha256_prefix, sizeof(sha256_prefix));
    }
    return 0;
}

static int setup(bench_ctx *b, const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/bench.img", dir);
    mbedtls_ctr_drbg_init(&b->drbg);
    if (lwss_nvm_set_path(path) != 0 || C_Initialize(NULL) != CKR_OK ||
        C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &b->session) != CKR_OK ||
        mbedtls_ctr_drbg_seed(&b->drbg, drbg_seed, NULL, NULL, 0) != 0 ||
        make_key(b, &b->keys[0], MBEDTLS_ECP_DP_SECP256R1, "bench-p256") != 0 ||
        make_key(b, &b->keys[1], MBEDTLS_ECP_DP_SECP384R1, "bench-p384") != 0 ||
        make_key(b, &b->keys[2], MBEDTLS_ECP_DP_NONE, "bench-rsa") != 0) {
        return -1;
    }
    b->keys[0].token_metric = "c_sign_ecdsa_p256_per_s";
    b->keys[0].raw_metric = "mbedtls_ecdsa_p256_per_s";
    b->keys[1].token_metric = "c_sign_ecdsa_p384_per_s";
    b->keys[1].raw_metric = "mbedtls_ecdsa_p384_per_s";
    b->keys[2].token_metric = "c_sign_rsa2048_per_s";
    b->keys[2].raw_metric = "mbedtls_rsa2048_sign_per_s";
    /* ten certificate-sized objects to find among (the TLS layer's pattern:
     * find by label + class, read CKA_VALUE) */
    static unsigned char blob[700];
    memset(blob, 0x30, sizeof(blob));
    for (int i = 0; i < 10; i++) {
        char label[16];
        CK_OBJECT_CLASS cls = CKO_DATA;
        CK_OBJECT_HANDLE h = 0;
        snprintf(label, sizeof(label), "cert-%d", i);
        CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                            {CKA_LABEL, label, strlen(label)},
                            {CKA_VALUE, blob, sizeof(blob)}};
        if (C_CreateObject(b->session, t, 3, &h) != CKR_OK) {
            return -1;
        }
    }
    return 0;
}

/* Mean time of C_GenerateKeyPair (RSA 2048, token objects) and of
 * mbedtls_rsa_gen_key alone, in ms. */
static int keygen_times(bench_ctx *b, double *token_ms, double *raw_ms)
{
    CK_MECHANISM gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ULONG bits = 2048;
    CK_ATTRIBUTE pt[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)}, {CKA_LABEL, "bench-gen", 9}};
    CK_ATTRIBUTE qt[] = {{CKA_LABEL, "bench-gen", 9}};
    double token = 0;
    double raw = 0;
    for (int i = 0; i < KEYGEN_RUNS; i++) {
        CK_OBJECT_HANDLE pub = 0, priv = 0;
        double t0 = now_s();
        if (C_GenerateKeyPair(b->session, &gen, pt, 2, qt, 1, &pub, &priv) != CKR_OK) {
            return -1;
        }
        token += now_s() - t0;
        mbedtls_rsa_context rsa;
        mbedtls_rsa_init(&rsa, MBEDTLS_RSA_PKCS_V15, 0);
        t0 = now_s();
        int ret = mbedtls_rsa_gen_key(&rsa, mbedtls_ctr_drbg_random, &b->drbg, 2048, 65537);
        raw += now_s() - t0;
        mbedtls_rsa_free(&rsa);
        if (ret != 0) {
            return -1;
        }
    }
    *token_ms = token * 1000.0 / KEYGEN_RUNS;
    *raw_ms = raw * 1000.0 / KEYGEN_RUNS;
    return 0;
}

/* Throughput rows, MiB/s of plaintext. */
static void mib_line(const char *metric, double ops, const char *baseline_of)
{
    double v = ops * CIPHER_BUF / (1024.0 * 1024.0);
    if (baseline_of == NULL) {
        printf("{\"bench\":\"pkcs11\",\"metric\":\"%s\",\"value\":%.1f,\"unit\":\"MiB/s\"}\n",
               metric, v);
    } else {
        printf("{\"bench\":\"pkcs11\",\"metric\":\"%s\",\"value\":%.1f,\"unit\":\"MiB/s\","
               "\"baseline\":\"%s\",\"goal\":\">=0.9\"}\n",
               metric, v, baseline_of);
    }
}

/* C_Encrypt (Init + single-part call) against the raw mbedtls call, alternating. */
static void cipher_rows(bench_ctx *b)
{
    static const struct {
        int (*token)(bench_ctx *);
        int (*raw)(bench_ctx *);
        const char *token_metric, *raw_metric;
    } rows[] = {
        {token_gcm, raw_gcm, "c_encrypt_aes256_gcm_64k_mib_s", "mbedtls_aes256_gcm_64k_mib_s"},
        {token_cbc, raw_cbc, "c_encrypt_aes256_cbc_64k_mib_s", "mbedtls_aes256_cbc_64k_mib_s"},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        double token = 0;
        double raw = 0;
        for (int i = 0; i < SLICES; i++) {
            double t = slice(rows[r].token, b);
            double w = slice(rows[r].raw, b);
            token = t > token ? t : token;
            raw = w > raw ? w : raw;
        }
        mib_line(rows[r].token_metric, token, NULL);
        mib_line(rows[r].raw_metric, raw, rows[r].token_metric);
        fflush(stdout);
    }
}

static void line(const char *metric, double v, const char *baseline_of)
{
    if (baseline_of == NULL) {
        printf("{\"bench\":\"pkcs11\",\"metric\":\"%s\",\"value\":%.1f,\"unit\":\"1/s\"}\n",
               metric, v);
    } else {
        printf("{\"bench\":\"pkcs11\",\"metric\":\"%s\",\"value\":%.1f,\"unit\":\"1/s\","
               "\"baseline\":\"%s\",\"goal\":\">=0.9\"}\n",
               metric, v, baseline_of);
    }
}

int main(void)
{
    char dir[] = "/tmp/lwss-bench-pkcs11-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        return 1;
    }
    bench_ctx b;
    memset(&b, 0, sizeof(b));
    int ret = setup(&b, dir);
    for (size_t k = 0; ret == 0 && k < 3; k++) {
        b.cur = &b.keys[k];
        double token = 0;
        double raw = 0;
        for (int i = 0; i < SLICES; i++) { /* alternate: same load for both */
            double t = slice(token_sign, &b);
            double r = slice(raw_sign, &b);
            token = t > token ? t : token;
            raw = r > raw ? r : raw;
        }
        line(b.cur->token_metric, token, NULL);
        line(b.cur->raw_metric, raw, b.cur->token_metric);
        fflush(stdout);
    }
    if (ret == 0) {
        ret = cipher_setup(&b);
    }
    if (ret == 0) {
        cipher_rows(&b);
        ret = ecdh_setup(&b);
    }
    if (ret == 0) {
        double token = 0;
        double raw = 0;
        for (int i = 0; i < SLICES; i++) {
            double t = slice(token_ecdh, &b);
            double r = slice(raw_ecdh, &b);
            token = t > token ? t : token;
            raw = r > raw ? r : raw;
        }
        line("c_derive_ecdh_p256_per_s", token, NULL);
        line("mbedtls_ecdh_p256_per_s", raw, "c_derive_ecdh_p256_per_s");
        fflush(stdout);
    }
    double find = 0;
    for (int i = 0; ret == 0 && i < 3; i++) {
        double f = slice(find_and_read, &b);
        find = f > find ? f : find;
    }
    double gen_ms = 0;
    double raw_gen_ms = 0;
    if (ret == 0) {
        line("find_get_attr_per_s", find, NULL);
        ret = keygen_times(&b, &gen_ms, &raw_gen_ms);
    }
    if (ret == 0) {
        printf("{\"bench\":\"pkcs11\",\"metric\":\"c_generate_key_pair_rsa2048_ms\","
               "\"value\":%.1f,\"unit\":\"ms\"}\n", gen_ms);
        printf("{\"bench\":\"pkcs11\",\"metric\":\"mbedtls_rsa2048_gen_ms\","
               "\"value\":%.1f,\"unit\":\"ms\"}\n", raw_gen_ms);
        fflush(stdout);
    } else {
        fprintf(stderr, "bench_pkcs11: setup failed: %s\n", lwss_last_error());
    }
    C_Finalize(NULL);
    for (size_t k = 0; k < 3; k++) {
        mbedtls_pk_free(&b.keys[k].pk);
    }
    cipher_free(&b);
    mbedtls_ecp_keypair_free(&b.peer_key);
    mbedtls_ctr_drbg_free(&b.drbg);
    char img[600];
    snprintf(img, sizeof(img), "%s/bench.img", dir);
    unlink(img);
    rmdir(dir);
    return ret == 0 ? 0 : 1;
}
