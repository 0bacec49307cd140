/*
 * bench_pkcs11: the token's C_Sign (CKM_ECDSA, P-256) against raw mbedtls
 * ECDSA signing with the same key in the same run, and C_FindObjects +
 * C_GetAttributeValue, as JSON lines (see tests/bench/report.c).
 * Each side runs in alternating slices, best slice kept, so that the two
 * see the same machine load.  Goal: token >= 0.9 x raw (overhead <= 10%).
 */
#include "lwss/nvm.h"
#include "lwss/pkcs11.h"
#include "lwss/port.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/pk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLICES 6
#define SLICE_MS 400

typedef struct bench_ctx {
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE key;
    mbedtls_pk_context pk;
    mbedtls_ctr_drbg_context drbg;
    unsigned char hash[32];
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
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    unsigned char sig[64];
    CK_ULONG len = sizeof(sig);
    return C_SignInit(b->session, &ecdsa, b->key) == CKR_OK &&
           C_Sign(b->session, b->hash, 32, sig, &len) == CKR_OK && len == 64;
}

/* The same work without the token: sign, then r||s as bytes. */
static int raw_sign(bench_ctx *b)
{
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(b->pk);
    mbedtls_mpi r, s;
    unsigned char sig[64];
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int ok = mbedtls_ecdsa_sign(&ec->grp, &r, &s, &ec->d, b->hash, 32, mbedtls_ctr_drbg_random,
                                &b->drbg) == 0 &&
             mbedtls_mpi_write_binary(&r, sig, 32) == 0 &&
             mbedtls_mpi_write_binary(&s, sig + 32, 32) == 0;
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

static int setup(bench_ctx *b, const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/bench.img", dir);
    unsigned char der[200];
    mbedtls_pk_init(&b->pk);
    mbedtls_ctr_drbg_init(&b->drbg);
    if (lwss_nvm_set_path(path) != 0 || C_Initialize(NULL) != CKR_OK ||
        C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &b->session) != CKR_OK ||
        mbedtls_ctr_drbg_seed(&b->drbg, drbg_seed, NULL, NULL, 0) != 0 ||
        mbedtls_pk_setup(&b->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(b->pk),
                            mbedtls_ctr_drbg_random, &b->drbg) != 0) {
        return -1;
    }
    int n = mbedtls_pk_write_key_der(&b->pk, der, sizeof(der));
    if (n <= 0 || lwss_pkcs11_import_key(b->session, "bench-key", NULL, 0,
                                         der + sizeof(der) - n, (size_t)n, LWSS_PKCS11_PRIVATE,
                                         &b->key) != CKR_OK) {
        return -1;
    }
    memset(b->hash, 0x5A, sizeof(b->hash));
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
    double token = 0;
    double raw = 0;
    double find = 0;
    for (int i = 0; ret == 0 && i < SLICES; i++) { /* alternate: same load for both */
        double t = slice(token_sign, &b);
        double r = slice(raw_sign, &b);
        token = t > token ? t : token;
        raw = r > raw ? r : raw;
    }
    for (int i = 0; ret == 0 && i < 3; i++) {
        double f = slice(find_and_read, &b);
        find = f > find ? f : find;
    }
    if (ret == 0) {
        line("c_sign_ecdsa_p256_per_s", token, NULL);
        line("mbedtls_ecdsa_p256_per_s", raw, "c_sign_ecdsa_p256_per_s");
        line("find_get_attr_per_s", find, NULL);
        fflush(stdout);
    } else {
        fprintf(stderr, "bench_pkcs11: setup failed: %s\n", lwss_last_error());
    }
    C_Finalize(NULL);
    mbedtls_pk_free(&b.pk);
    mbedtls_ctr_drbg_free(&b.drbg);
    char img[600];
    snprintf(img, sizeof(img), "%s/bench.img", dir);
    unlink(img);
    rmdir(dir);
    return ret == 0 ? 0 : 1;
}
