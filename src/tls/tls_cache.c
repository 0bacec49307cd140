/*
 * Sessions kept for resumption, serialized (mbedtls_ssl_session_save) so
 * that entries own no pointers.  The key is the peer ip:port plus a
 * fingerprint of what the socket trusts and the name it verifies: a
 * session must never let a socket skip a verification it would fail.
 */
#include "src/tls/tls_internal.h"
#include "src/core/core.h"
#include "lwss/tls.h"

#include <mbedtls/platform_util.h>

#include <stdlib.h>
#include <string.h>

typedef struct cache_entry {
    unsigned char key[32];
    unsigned char *blob;           /* serialized session (secret) */
    size_t blob_len;
    uint64_t used;                 /* LRU stamp */
} cache_entry;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_entry cache[LWSS_TLS_SESSION_CACHE_SIZE];
static uint64_t cache_clock;

static void entry_clear(cache_entry *e)
{
    if (e->blob != NULL) {
        mbedtls_platform_zeroize(e->blob, e->blob_len);
        free(e->blob);
    }
    memset(e, 0, sizeof(*e));
}

static cache_entry *lookup(const unsigned char key[32])
{
    for (size_t i = 0; i < LWSS_TLS_SESSION_CACHE_SIZE; i++) {
        if (cache[i].blob != NULL && memcmp(cache[i].key, key, 32) == 0) {
            return &cache[i];
        }
    }
    return NULL;
}

/* The entry for @p key, else an empty slot, else the least recently used. */
static cache_entry *pick_slot(const unsigned char key[32])
{
    cache_entry *e = lookup(key);
    for (size_t i = 0; e == NULL && i < LWSS_TLS_SESSION_CACHE_SIZE; i++) {
        if (cache[i].blob == NULL) {
            e = &cache[i];
        }
    }
    if (e == NULL) {
        e = &cache[0];
        for (size_t i = 1; i < LWSS_TLS_SESSION_CACHE_SIZE; i++) {
            if (cache[i].used < e->used) {
                e = &cache[i];
            }
        }
    }
    return e;
}

void lwss_tls_cache_apply(lwss_tls_conn *c)
{
    if (c->no_resume) {
        return;
    }
    mbedtls_ssl_session s;
    mbedtls_ssl_session_init(&s);
    lwss_os_lock(&cache_lock);
    cache_entry *e = lookup(c->cache_key);
    int ok = e != NULL && mbedtls_ssl_session_load(&s, e->blob, e->blob_len) == 0;
    if (e != NULL) {
        e->used = ++cache_clock;
    }
    pthread_mutex_unlock(&cache_lock);
    if (ok) {
        (void)mbedtls_ssl_set_session(&c->ssl, &s); /* failing just means a full handshake */
    }
    mbedtls_ssl_session_free(&s);
}

void lwss_tls_cache_store(lwss_tls_conn *c)
{
    if (c->no_resume) {
        return;
    }
    mbedtls_ssl_session s;
    mbedtls_ssl_session_init(&s);
    unsigned char *blob = NULL;
    size_t len = 0;
    if (mbedtls_ssl_get_session(&c->ssl, &s) == 0 &&
        mbedtls_ssl_session_save(&s, NULL, 0, &len) == MBEDTLS_ERR_SSL_BUFFER_TOO_SMALL &&
        (blob = malloc(len)) != NULL && mbedtls_ssl_session_save(&s, blob, len, &len) == 0) {
        lwss_os_lock(&cache_lock);
        cache_entry *e = pick_slot(c->cache_key);
        entry_clear(e);
        memcpy(e->key, c->cache_key, 32);
        e->blob = blob;
        e->blob_len = len;
        e->used = ++cache_clock;
        blob = NULL;
        pthread_mutex_unlock(&cache_lock);
    }
    if (blob != NULL) {
        mbedtls_platform_zeroize(blob, len);
        free(blob);
    }
    mbedtls_ssl_session_free(&s);
}

void lwss_tls_session_cache_clear(void)
{
    lwss_os_lock(&cache_lock);
    for (size_t i = 0; i < LWSS_TLS_SESSION_CACHE_SIZE; i++) {
        entry_clear(&cache[i]);
    }
    pthread_mutex_unlock(&cache_lock);
}

int lwss_tls_session_cache_count(void)
{
    int n = 0;
    lwss_os_lock(&cache_lock);
    for (size_t i = 0; i < LWSS_TLS_SESSION_CACHE_SIZE; i++) {
        n += cache[i].blob != NULL;
    }
    pthread_mutex_unlock(&cache_lock);
    return n;
}
