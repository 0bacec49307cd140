/*
 * The token's DRBG: CTR_DRBG seeded from lwss_entropy_poll() (getrandom).
 * mbedtls' CTR_DRBG carries its own mutex (MBEDTLS_THREADING_C), so one
 * instance serves every session.  A forked child would replay the parent's
 * stream, so the first draw in a new process reseeds.
 */
#include "src/pkcs11/token.h"

#include "lwss/status.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/platform_util.h>
#include <stdatomic.h>
#include <unistd.h>

static mbedtls_ctr_drbg_context g_drbg;
static int g_drbg_ready;
static atomic_int g_drbg_pid;

static int entropy_source(void *ctx, unsigned char *out, size_t len)
{
    size_t got = 0;
    int ret = lwss_entropy_poll(ctx, out, len, &got);
    return (ret == 0 && got == len) ? 0 : MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
}

CK_RV lwss_p11_random_init(void)
{
    static const unsigned char pers[] = "lwss-pkcs11";
    mbedtls_ctr_drbg_init(&g_drbg);
    if (mbedtls_ctr_drbg_seed(&g_drbg, entropy_source, NULL, pers, sizeof(pers) - 1) != 0) {
        mbedtls_ctr_drbg_free(&g_drbg);
        return CKR_FUNCTION_FAILED;
    }
    atomic_store(&g_drbg_pid, (int)getpid());
    g_drbg_ready = 1;
    return CKR_OK;
}

void lwss_p11_random_free(void)
{
    if (g_drbg_ready) {
        mbedtls_ctr_drbg_free(&g_drbg);
        g_drbg_ready = 0;
    }
}

int lwss_p11_random(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    int pid = (int)getpid();
    if (atomic_load(&g_drbg_pid) != pid) {
        int ret = mbedtls_ctr_drbg_reseed(&g_drbg, NULL, 0);
        if (ret != 0) {
            return ret;
        }
        atomic_store(&g_drbg_pid, pid);
    }
    while (len > 0) {
        size_t chunk = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len : MBEDTLS_CTR_DRBG_MAX_REQUEST;
        int ret = mbedtls_ctr_drbg_random(&g_drbg, out, chunk);
        if (ret != 0) {
            return ret;
        }
        out += chunk;
        len -= chunk;
    }
    return 0;
}

CK_RV C_GenerateRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR RandomData, CK_ULONG ulRandomLen)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (RandomData == NULL && ulRandomLen > 0) {
        rv = CKR_ARGUMENTS_BAD;
    } else if (ulRandomLen > 0 && lwss_p11_random(NULL, RandomData, ulRandomLen) != 0) {
        rv = CKR_FUNCTION_FAILED;
    }
    lwss_p11_session_put(s);
    return rv;
}

/* The seed is mixed in as additional input on a reseed: it never replaces
 * the entropy from getrandom. */
CK_RV C_SeedRandom(CK_SESSION_HANDLE hSession, CK_BYTE_PTR pSeed, CK_ULONG ulSeedLen)
{
    lwss_p11_session *s = NULL;
    CK_RV rv = lwss_p11_session_get(hSession, &s);
    if (rv != CKR_OK) {
        return rv;
    }
    if (pSeed == NULL && ulSeedLen > 0) {
        rv = CKR_ARGUMENTS_BAD;
    }
    const size_t max_add = MBEDTLS_CTR_DRBG_MAX_SEED_INPUT - MBEDTLS_CTR_DRBG_ENTROPY_LEN;
    while (rv == CKR_OK && ulSeedLen > 0) {
        size_t chunk = ulSeedLen < max_add ? ulSeedLen : max_add;
        if (mbedtls_ctr_drbg_reseed(&g_drbg, pSeed, chunk) != 0) {
            rv = CKR_FUNCTION_FAILED;
        }
        pSeed += chunk;
        ulSeedLen -= chunk;
    }
    lwss_p11_session_put(s);
    return rv;
}
