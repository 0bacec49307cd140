/*
 * The TLS listener of lwss-echo-server (extension point of echo_server.h):
 * TLS 1.2, ECDHE with AES-GCM / ChaCha20-Poly1305, the client certificate
 * required and verified against --ca, ALPN, session tickets (and a session
 * cache), the client's SNI logged, close_notify sent on close.
 *
 * --tls-any-client accepts any client certificate, like the reference echo
 * server (a certificate is still requested; none is also accepted).
 */
#include "echo_server/echo_server.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Protocols the echo server speaks for ALPN: the AWS IoT one and its own. */
static const char *echo_alpn[] = {"x-amzn-mqtt-ca", "lwss-echo", "http/1.1", NULL};

static const int echo_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, 0};

typedef struct tls_listener {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cert, ca;
    mbedtls_pk_context key;
    mbedtls_ssl_ticket_context ticket;
    mbedtls_ssl_cache_context cache;
} tls_listener;

typedef struct tls_conn {
    mbedtls_ssl_context ssl;
    mbedtls_net_context net;
    int resumed;
} tls_conn;

/* The handshake runs on the connection's thread: resumption is noted here. */
static _Thread_local int handshake_resumed;
static _Thread_local char handshake_sni[256];

static int ticket_write(void *p, const mbedtls_ssl_session *s, unsigned char *start,
                        const unsigned char *end, size_t *tlen, uint32_t *lifetime)
{
    return mbedtls_ssl_ticket_write(&((tls_listener *)p)->ticket, s, start, end, tlen, lifetime);
}

static int ticket_parse(void *p, mbedtls_ssl_session *s, unsigned char *buf, size_t len)
{
    int ret = mbedtls_ssl_ticket_parse(&((tls_listener *)p)->ticket, s, buf, len);
    handshake_resumed |= ret == 0;
    return ret;
}

static int cache_get(void *p, mbedtls_ssl_session *s)
{
    int ret = mbedtls_ssl_cache_get(&((tls_listener *)p)->cache, s);
    handshake_resumed |= ret == 0;
    return ret;
}

static int cache_set(void *p, const mbedtls_ssl_session *s)
{
    return mbedtls_ssl_cache_set(&((tls_listener *)p)->cache, s);
}

static int note_sni(void *p, mbedtls_ssl_context *ssl, const unsigned char *name, size_t len)
{
    (void)p;
    (void)ssl;
    snprintf(handshake_sni, sizeof(handshake_sni), "%.*s", (int)len, (const char *)name);
    return 0; /* one certificate for every name: the client decides whether it matches */
}

static void listener_free(void *ctx)
{
    tls_listener *l = ctx;
    if (l == NULL) {
        return;
    }
    mbedtls_ssl_cache_free(&l->cache);
    mbedtls_ssl_ticket_free(&l->ticket);
    mbedtls_pk_free(&l->key);
    mbedtls_x509_crt_free(&l->ca);
    mbedtls_x509_crt_free(&l->cert);
    mbedtls_ssl_config_free(&l->conf);
    mbedtls_ctr_drbg_free(&l->drbg);
    mbedtls_entropy_free(&l->entropy);
    free(l);
}

static int tls_open(void *lctx, int fd, void **out, char *err, size_t errlen)
{
    tls_listener *l = lctx;
    tls_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    handshake_resumed = 0;
    handshake_sni[0] = '\0';
    /* Whole TLS records: without this, Nagle holds the second record of a
     * flight until the client's delayed ACK (up to 250 ms with lwIP). */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    mbedtls_ssl_init(&c->ssl);
    c->net.fd = fd;
    int ret = mbedtls_ssl_setup(&c->ssl, &l->conf);
    if (ret == 0) {
        mbedtls_ssl_set_bio(&c->ssl, &c->net, mbedtls_net_send, mbedtls_net_recv, NULL);
        ret = mbedtls_ssl_handshake(&c->ssl);
    }
    if (ret != 0) {
        char msg[128];
        mbedtls_strerror(ret, msg, sizeof(msg));
        uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
        snprintf(err, errlen, "handshake: -0x%04x %s%s (sni=%s)", (unsigned)-ret, msg,
                 flags != 0 && flags != (uint32_t)-1 ? " [client certificate rejected]" : "",
                 handshake_sni[0] ? handshake_sni : "-");
        mbedtls_ssl_free(&c->ssl);
        free(c);
        return -1;
    }
    c->resumed = handshake_resumed;
    const char *alpn = mbedtls_ssl_get_alpn_protocol(&c->ssl);
    fprintf(stderr, "echo: tls handshake sni=%s alpn=%s suite=%s%s\n",
            handshake_sni[0] ? handshake_sni : "-", alpn != NULL ? alpn : "-",
            mbedtls_ssl_get_ciphersuite(&c->ssl), c->resumed ? " resumed" : "");
    *out = c;
    return 0;
}

static ssize_t tls_read(void *conn, void *buf, size_t len)
{
    tls_conn *c = conn;
    int n;
    do {
        n = mbedtls_ssl_read(&c->ssl, buf, len);
    } while (n == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || n == 0) {
        return 0;
    }
    return n;
}

static ssize_t tls_write(void *conn, const void *buf, size_t len)
{
    tls_conn *c = conn;
    size_t done = 0;
    while (done < len) {
        int n = mbedtls_ssl_write(&c->ssl, (const unsigned char *)buf + done, len - done);
        if (n <= 0) {
            return -1;
        }
        done += (size_t)n;
    }
    return (ssize_t)len;
}

static int tls_resumed(void *conn)
{
    return ((tls_conn *)conn)->resumed;
}

static void tls_close(void *conn)
{
    tls_conn *c = conn;
    (void)mbedtls_ssl_close_notify(&c->ssl); /* before the fd closes: the peer sees the alert */
    mbedtls_ssl_free(&c->ssl);
    free(c);
}

static const echo_conn_ops tls_ops = {
    .kind = "tls",
    .open = tls_open,
    .read = tls_read,
    .write = tls_write,
    .resumed = tls_resumed,
    .close = tls_close,
    .free_listener = listener_free,
};

static int configure(tls_listener *l, const echo_config *cfg, const char **what)
{
    int ret;
#define STEP(w, call) do { *what = (w); if ((ret = (call)) != 0) return ret; } while (0)
    STEP("seeding the DRBG", mbedtls_ctr_drbg_seed(&l->drbg, mbedtls_entropy_func, &l->entropy,
                                                   (const unsigned char *)"lwss-echo", 9));
    if (cfg->cert == NULL || cfg->key == NULL || cfg->ca == NULL) {
        *what = "--cert, --key and --ca are all needed";
        return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
    }
    STEP(cfg->cert, mbedtls_x509_crt_parse_file(&l->cert, cfg->cert));
    STEP(cfg->key, mbedtls_pk_parse_keyfile(&l->key, cfg->key, NULL));
    STEP(cfg->ca, mbedtls_x509_crt_parse_file(&l->ca, cfg->ca));
    STEP("TLS defaults", mbedtls_ssl_config_defaults(&l->conf, MBEDTLS_SSL_IS_SERVER,
                                                     MBEDTLS_SSL_TRANSPORT_STREAM,
                                                     MBEDTLS_SSL_PRESET_DEFAULT));
    STEP("server certificate", mbedtls_ssl_conf_own_cert(&l->conf, &l->cert, &l->key));
    STEP("ALPN", mbedtls_ssl_conf_alpn_protocols(&l->conf, echo_alpn));
    STEP("session tickets", mbedtls_ssl_ticket_setup(&l->ticket, mbedtls_ctr_drbg_random, &l->drbg,
                                                     MBEDTLS_CIPHER_AES_256_GCM, 86400));
#undef STEP
    mbedtls_ssl_conf_rng(&l->conf, mbedtls_ctr_drbg_random, &l->drbg);
    mbedtls_ssl_conf_min_version(&l->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_max_version(&l->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_ciphersuites(&l->conf, echo_suites);
    mbedtls_ssl_conf_ca_chain(&l->conf, &l->ca, NULL);
    mbedtls_ssl_conf_authmode(&l->conf, cfg->tls_any_client ? MBEDTLS_SSL_VERIFY_OPTIONAL
                                                                     : MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_session_tickets_cb(&l->conf, ticket_write, ticket_parse, l);
    mbedtls_ssl_conf_session_cache(&l->conf, l, cache_get, cache_set);
    mbedtls_ssl_conf_sni(&l->conf, note_sni, NULL);
    return 0;
}

int echo_tls_listener_init(const echo_config *cfg, const echo_conn_ops **ops, void **listener_ctx,
                           char *err, size_t errlen)
{
    tls_listener *l = calloc(1, sizeof(*l));
    if (l == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    mbedtls_entropy_init(&l->entropy);
    mbedtls_ctr_drbg_init(&l->drbg);
    mbedtls_ssl_config_init(&l->conf);
    mbedtls_x509_crt_init(&l->cert);
    mbedtls_x509_crt_init(&l->ca);
    mbedtls_pk_init(&l->key);
    mbedtls_ssl_ticket_init(&l->ticket);
    mbedtls_ssl_cache_init(&l->cache);
    const char *what = "";
    int ret = configure(l, cfg, &what);
    if (ret != 0) {
        char msg[128];
        mbedtls_strerror(ret, msg, sizeof(msg));
        snprintf(err, errlen, "%s: -0x%04x %s", what, (unsigned)-ret, msg);
        listener_free(l);
        return -1;
    }
    *ops = &tls_ops;
    *listener_ctx = l;
    return 0;
}
