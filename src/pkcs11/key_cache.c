/*
 * Parsed asymmetric keys kept across sessions, token-wide.
 *
 * A session keeps the key its last C_SignInit / C_VerifyInit parsed
 * (sign.c).  When the session closes, that parsed key comes here instead
 * of being freed, so the next session that signs with the same key (the
 * TLS layer opens one session per handshake) gets it back with mbedtls'
 * state intact: the EC comb table of the group, the RSA blinding values
 * and Montgomery constants.  Building those again costs about as much as a
 * signature (for RSA 2048, the blinding set-up is a modular inverse).
 *
 * An entry is found by the exact stored bytes of the key, which the caller
 * has just read from the store under the token's access rules: a changed
 * or deleted key never matches.  Entries are wiped when the token is
 * finalised and whenever an object is stored or destroyed.
 */
#include "src/pkcs11/token.h"

#include <mbedtls/platform_util.h>
#include <stdlib.h>
#include <string.h>

/* Parsed keys kept (the oldest goes when a new one comes). */
#define KEY_CACHE_SLOTS LWSS_P11_KEY_CACHE_SLOTS

typedef struct cached_key {
    mbedtls_pk_context pk;
    uint8_t *der;     /* NULL: slot free */
    size_t der_len;
    uint64_t stamp;   /* for eviction: smaller is older */
} cached_key;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static cached_key g_slots[KEY_CACHE_SLOTS];
static uint64_t g_clock;

/* Equal bytes, in time that does not depend on where they differ. */
static int same_bytes(const uint8_t *a, const uint8_t *b, size_t len)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < len; i++) {
        diff |= (uint8_t)(a[i] ^ b[i]);
    }
    return diff == 0;
}

static void drop(mbedtls_pk_context *pk, uint8_t **der, size_t *len)
{
    mbedtls_pk_free(pk); /* mbedtls_mpi_free wipes the key */
    mbedtls_pk_init(pk);
    if (*der != NULL) {
        mbedtls_platform_zeroize(*der, *len);
        free(*der);
    }
    *der = NULL;
    *len = 0;
}

void lwss_p11_key_cache_put(lwss_p11_op *op)
{
    if (op->key_der == NULL) {
        mbedtls_pk_free(&op->pk);
        mbedtls_pk_init(&op->pk);
        return;
    }
    lwss_os_lock(&g_lock);
    cached_key *slot = &g_slots[0];
    for (size_t i = 0; i < KEY_CACHE_SLOTS; i++) {
        cached_key *k = &g_slots[i];
        if (k->der != NULL && k->der_len == op->key_der_len &&
            same_bytes(k->der, op->key_der, k->der_len)) {
            slot = k; /* already here: keep the newer parse */
            break;
        }
        if (slot->der != NULL && (k->der == NULL || k->stamp < slot->stamp)) {
            slot = k;
        }
    }
    drop(&slot->pk, &slot->der, &slot->der_len);
    slot->pk = op->pk; /* the context moves: op no longer owns it */
    slot->der = op->key_der;
    slot->der_len = op->key_der_len;
    slot->stamp = ++g_clock;
    pthread_mutex_unlock(&g_lock);
    mbedtls_pk_init(&op->pk);
    op->key_der = NULL;
    op->key_der_len = 0;
}

int lwss_p11_key_cache_take(lwss_p11_op *op, const uint8_t *der, size_t len)
{
    int found = 0;
    lwss_os_lock(&g_lock);
    for (size_t i = 0; i < KEY_CACHE_SLOTS && !found; i++) {
        cached_key *k = &g_slots[i];
        if (k->der == NULL || k->der_len != len || !same_bytes(k->der, der, len)) {
            continue;
        }
        drop(&op->pk, &op->key_der, &op->key_der_len);
        op->pk = k->pk;
        op->key_der = k->der;
        op->key_der_len = k->der_len;
        mbedtls_pk_init(&k->pk);
        k->der = NULL;
        k->der_len = 0;
        found = 1;
    }
    pthread_mutex_unlock(&g_lock);
    return found;
}

void lwss_p11_key_cache_clear(void)
{
    lwss_os_lock(&g_lock);
    for (size_t i = 0; i < KEY_CACHE_SLOTS; i++) {
        drop(&g_slots[i].pk, &g_slots[i].der, &g_slots[i].der_len);
    }
    pthread_mutex_unlock(&g_lock);
}

size_t lwss_p11_key_cache_count(void)
{
    size_t n = 0;
    lwss_os_lock(&g_lock);
    for (size_t i = 0; i < KEY_CACHE_SLOTS; i++) {
        n += g_slots[i].der != NULL;
    }
    pthread_mutex_unlock(&g_lock);
    return n;
}
