/*
 * One CTR-DRBG for every TLS connection of the process (mbedtls locks it
 * internally with MBEDTLS_THREADING_C), seeded from getrandom(2) through
 * lwss_entropy_poll and personalised with bytes from the token's
 * C_GenerateRandom when a token is reachable.
 */
#include "src/tls/tls_internal.h"
#include "lwss/status.h"

#include <mbedtls/entropy.h>
#include <mbedtls/platform_util.h>

#include <string.h>

static pthread_once_t rng_once = PTHREAD_ONCE_INIT;
static mbedtls_entropy_context rng_entropy;
static mbedtls_ctr_drbg_context rng_drbg;
static int rng_status = -1;

static void token_personalisation(unsigned char *pers, size_t len, size_t *used)
{
    *used = 0;
    CK_FUNCTION_LIST_PTR fl = lwss_tls_token_functions();
    if (fl == NULL) {
        return;
    }
    lwss_tls_token t = {fl, CK_INVALID_HANDLE, 0};
    if (lwss_tls_token_open(&t) == 0 &&
        fl->C_GenerateRandom(t.session, pers, (CK_ULONG)len) == CKR_OK) {
        *used = len;
    }
    lwss_tls_token_close(&t);
}

static void rng_setup(void)
{
    static const char label[] = "lwss-tls";
    unsigned char pers[sizeof(label) + 32];
    size_t token_bytes = 0;
    memcpy(pers, label, sizeof(label));
    token_personalisation(pers + sizeof(label), 32, &token_bytes);

    mbedtls_entropy_init(&rng_entropy);
    mbedtls_ctr_drbg_init(&rng_drbg);
    rng_status = mbedtls_entropy_add_source(&rng_entropy, lwss_entropy_poll, NULL, 32,
                                            MBEDTLS_ENTROPY_SOURCE_STRONG);
    if (rng_status == 0) {
        rng_status = mbedtls_ctr_drbg_seed(&rng_drbg, mbedtls_entropy_func, &rng_entropy, pers,
                                           sizeof(label) + token_bytes);
    }
    mbedtls_platform_zeroize(pers, sizeof(pers));
}

int lwss_tls_rng_init(void)
{
    pthread_once(&rng_once, rng_setup);
    return rng_status;
}

int lwss_tls_rng(void *unused, unsigned char *out, size_t len)
{
    (void)unused;
    int ret = lwss_tls_rng_init();
    if (ret != 0) {
        return ret;
    }
    return mbedtls_ctr_drbg_random(&rng_drbg, out, len);
}
