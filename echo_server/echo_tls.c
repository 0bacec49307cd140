/*
 * The TLS listener of lwss-echo-server (the one TLS server, tls_server.c,
 * with the echo server's settings): TLS 1.2, ECDHE with AES-GCM /
 * ChaCha20-Poly1305, the client certificate required and verified against
 * --ca, ALPN, session tickets (and a session cache), the client's SNI
 * logged, close_notify sent on close.
 *
 * --tls-any-client accepts any client certificate, like the reference echo
 * server (a certificate is still requested; none is also accepted).
 */
#include "echo_server/echo_server.h"
#include "echo_server/tls_server.h"

#include <mbedtls/ssl.h>

#include <stdio.h>

/* Protocols the echo server speaks for ALPN: the AWS IoT one and its own. */
static const char *echo_alpn[] = {"x-amzn-mqtt-ca", "lwss-echo", "http/1.1", NULL};

static const int echo_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, 0};

static int tls_open(void *lctx, int fd, void **out, char *err, size_t errlen)
{
    tls_server_conn *c;
    if (tls_server_accept(lctx, fd, &c, err, errlen) != 0) {
        return -1;
    }
    const char *alpn = tls_server_alpn(c);
    fprintf(stderr, "echo: tls handshake sni=%s alpn=%s suite=%s%s\n", tls_server_sni(c),
            alpn != NULL ? alpn : "-", tls_server_suite(c), tls_server_resumed(c) ? " resumed" : "");
    *out = c;
    return 0;
}

static ssize_t tls_read(void *conn, void *buf, size_t len)
{
    return tls_server_read(conn, buf, len);
}

static ssize_t tls_write(void *conn, const void *buf, size_t len)
{
    return tls_server_write_all(conn, buf, len) == 0 ? (ssize_t)len : -1;
}

static int tls_resumed(void *conn)
{
    return tls_server_resumed(conn);
}

static void tls_close(void *conn)
{
    tls_server_close(conn, 1);
}

static void listener_free(void *ctx)
{
    tls_server_free(ctx);
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

int echo_tls_listener_init(const echo_config *cfg, const echo_conn_ops **ops, void **listener_ctx,
                           char *err, size_t errlen)
{
    if (cfg->cert == NULL || cfg->key == NULL || cfg->ca == NULL) {
        snprintf(err, errlen, "--cert, --key and --ca are all needed");
        return -1;
    }
    tls_server_opts o = {
        .cert = cfg->cert,
        .key = cfg->key,
        .ca = cfg->ca,
        .authmode = cfg->tls_any_client ? MBEDTLS_SSL_VERIFY_OPTIONAL : MBEDTLS_SSL_VERIFY_REQUIRED,
        .tls12_only = 1,
        .suites = echo_suites,
        .alpn = echo_alpn,
        .ticket_lifetime_s = 86400,
        .session_cache = 1,
        .drbg_pers = "lwss-echo",
    };
    tls_server *srv;
    if (tls_server_new(&srv, &o, err, errlen) != 0) {
        return -1;
    }
    *ops = &tls_ops;
    *listener_ctx = srv;
    return 0;
}
