/* The project's mbedtls TLS server (see tls_server.h). */
#include "echo_server/tls_server.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct tls_server {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cert, ca;
    mbedtls_pk_context key;
    mbedtls_ssl_ticket_context ticket;
    mbedtls_ssl_cache_context cache;
};

struct tls_server_conn {
    mbedtls_ssl_context ssl;
    int fd;
    int resumed;
    int notified;
    char sni[256];
};

/* The handshake runs on the caller's thread; the session and SNI callbacks
 * get only the server, so they find the connection here. */
static _Thread_local tls_server_conn *handshaking;

static int ticket_write(void *p, const mbedtls_ssl_session *s, unsigned char *start,
                        const unsigned char *end, size_t *tlen, uint32_t *lifetime)
{
    return mbedtls_ssl_ticket_write(&((tls_server *)p)->ticket, s, start, end, tlen, lifetime);
}

static int ticket_parse(void *p, mbedtls_ssl_session *s, unsigned char *buf, size_t len)
{
    int ret = mbedtls_ssl_ticket_parse(&((tls_server *)p)->ticket, s, buf, len);
    if (ret == 0 && handshaking != NULL) {
        handshaking->resumed = 1;
    }
    return ret;
}

static int cache_get(void *p, mbedtls_ssl_session *s)
{
    int ret = mbedtls_ssl_cache_get(&((tls_server *)p)->cache, s);
    if (ret == 0 && handshaking != NULL) {
        handshaking->resumed = 1;
    }
    return ret;
}

static int cache_set(void *p, const mbedtls_ssl_session *s)
{
    return mbedtls_ssl_cache_set(&((tls_server *)p)->cache, s);
}

static int note_sni(void *p, mbedtls_ssl_context *ssl, const unsigned char *name, size_t len)
{
    (void)p;
    (void)ssl;
    if (handshaking != NULL) {
        snprintf(handshaking->sni, sizeof(handshaking->sni), "%.*s", (int)len, (const char *)name);
    }
    return 0; /* one certificate for every name: the client decides whether it matches */
}

/* BIO on a blocking socket: no SIGPIPE, EINTR retried, a socket timeout
 * reported as MBEDTLS_ERR_SSL_TIMEOUT (errno stays EAGAIN). */
static int bio_error(int fallback)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return MBEDTLS_ERR_SSL_TIMEOUT;
    }
    return errno == EPIPE || errno == ECONNRESET ? MBEDTLS_ERR_NET_CONN_RESET : fallback;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    ssize_t n;
    while ((n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    return n >= 0 ? (int)n : bio_error(MBEDTLS_ERR_NET_SEND_FAILED);
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    ssize_t n;
    while ((n = recv(*(int *)ctx, buf, len, 0)) < 0 && errno == EINTR) {
    }
    return n >= 0 ? (int)n : bio_error(MBEDTLS_ERR_NET_RECV_FAILED);
}

void tls_server_free(tls_server *srv)
{
    if (srv == NULL) {
        return;
    }
    mbedtls_ssl_cache_free(&srv->cache);
    mbedtls_ssl_ticket_free(&srv->ticket);
    mbedtls_pk_free(&srv->key);
    mbedtls_x509_crt_free(&srv->ca);
    mbedtls_x509_crt_free(&srv->cert);
    mbedtls_ssl_config_free(&srv->conf);
    mbedtls_ctr_drbg_free(&srv->drbg);
    mbedtls_entropy_free(&srv->entropy);
    free(srv);
}

/* The options that cannot fail. */
static void configure_modes(tls_server *srv, const tls_server_opts *o)
{
    mbedtls_ssl_conf_rng(&srv->conf, mbedtls_ctr_drbg_random, &srv->drbg);
    if (o->tls12_only) {
        mbedtls_ssl_conf_min_version(&srv->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                     MBEDTLS_SSL_MINOR_VERSION_3);
        mbedtls_ssl_conf_max_version(&srv->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                     MBEDTLS_SSL_MINOR_VERSION_3);
    }
    if (o->suites != NULL) {
        mbedtls_ssl_conf_ciphersuites(&srv->conf, o->suites);
    }
    mbedtls_ssl_conf_ca_chain(&srv->conf, &srv->ca, NULL);
    mbedtls_ssl_conf_authmode(&srv->conf, o->authmode);
    if (o->ticket_lifetime_s > 0) {
        mbedtls_ssl_conf_session_tickets_cb(&srv->conf, ticket_write, ticket_parse, srv);
    }
    if (o->session_cache) {
        mbedtls_ssl_conf_session_cache(&srv->conf, srv, cache_get, cache_set);
    }
    mbedtls_ssl_conf_sni(&srv->conf, note_sni, NULL);
}

static int configure(tls_server *srv, const tls_server_opts *o, const char **what)
{
    int ret;
    const char *pers = o->drbg_pers != NULL ? o->drbg_pers : "";
#define STEP(w, call) do { *what = (w); if ((ret = (call)) != 0) return ret; } while (0)
    STEP("seeding the DRBG", mbedtls_ctr_drbg_seed(&srv->drbg, mbedtls_entropy_func, &srv->entropy,
                                                   (const unsigned char *)pers, strlen(pers)));
    if (o->cert == NULL || o->key == NULL || o->ca == NULL) {
        *what = "certificate, key and CA are all needed";
        return MBEDTLS_ERR_SSL_BAD_INPUT_DATA;
    }
    STEP(o->cert, mbedtls_x509_crt_parse_file(&srv->cert, o->cert));
    STEP(o->key, mbedtls_pk_parse_keyfile(&srv->key, o->key, NULL));
    STEP(o->ca, mbedtls_x509_crt_parse_file(&srv->ca, o->ca));
    STEP("TLS defaults", mbedtls_ssl_config_defaults(&srv->conf, MBEDTLS_SSL_IS_SERVER,
                                                     MBEDTLS_SSL_TRANSPORT_STREAM,
                                                     MBEDTLS_SSL_PRESET_DEFAULT));
    STEP("server certificate", mbedtls_ssl_conf_own_cert(&srv->conf, &srv->cert, &srv->key));
    if (o->alpn != NULL) {
        STEP("ALPN", mbedtls_ssl_conf_alpn_protocols(&srv->conf, o->alpn));
    }
    if (o->ticket_lifetime_s > 0) {
        STEP("session tickets",
             mbedtls_ssl_ticket_setup(&srv->ticket, mbedtls_ctr_drbg_random, &srv->drbg,
                                      MBEDTLS_CIPHER_AES_256_GCM, o->ticket_lifetime_s));
    }
#undef STEP
    configure_modes(srv, o);
    return 0;
}

int tls_server_new(tls_server **out, const tls_server_opts *o, char *err, size_t errlen)
{
    tls_server *srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        snprintf(err, errlen, "out of memory");
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }
    mbedtls_entropy_init(&srv->entropy);
    mbedtls_ctr_drbg_init(&srv->drbg);
    mbedtls_ssl_config_init(&srv->conf);
    mbedtls_x509_crt_init(&srv->cert);
    mbedtls_x509_crt_init(&srv->ca);
    mbedtls_pk_init(&srv->key);
    mbedtls_ssl_ticket_init(&srv->ticket);
    mbedtls_ssl_cache_init(&srv->cache);
    const char *what = "";
    int ret = configure(srv, o, &what);
    if (ret != 0) {
        char msg[128];
        mbedtls_strerror(ret, msg, sizeof(msg));
        snprintf(err, errlen, "%s: -0x%04x %s", what, (unsigned)-ret, msg);
        tls_server_free(srv);
        return ret;
    }
    *out = srv;
    return 0;
}

int tls_server_accept(tls_server *srv, int fd, tls_server_conn **out, char *err, size_t errlen)
{
    tls_server_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }
    /* Whole TLS records: without this, Nagle holds the second record of a
     * flight until the client's delayed ACK (up to 250 ms with lwIP). */
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails on AF_UNIX: fine */
    c->fd = fd;
    strcpy(c->sni, "-");
    mbedtls_ssl_init(&c->ssl);
    int ret = mbedtls_ssl_setup(&c->ssl, &srv->conf);
    if (ret == 0) {
        mbedtls_ssl_set_bio(&c->ssl, &c->fd, bio_send, bio_recv, NULL);
        handshaking = c;
        ret = mbedtls_ssl_handshake(&c->ssl);
        handshaking = NULL;
    }
    if (ret != 0) {
        char msg[128];
        mbedtls_strerror(ret, msg, sizeof(msg));
        uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
        snprintf(err, errlen, "handshake: -0x%04x %s%s (sni=%s)", (unsigned)-ret, msg,
                 flags != 0 && flags != (uint32_t)-1 ? " [client certificate rejected]" : "",
                 c->sni);
        mbedtls_ssl_free(&c->ssl);
        free(c);
        return ret;
    }
    *out = c;
    return 0;
}

int tls_server_read(tls_server_conn *c, void *buf, size_t len)
{
    int n;
    do {
        n = mbedtls_ssl_read(&c->ssl, buf, len);
    } while (n == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
        c->notified = 1;
        return 0;
    }
    return n;
}

int tls_server_write_all(tls_server_conn *c, const void *buf, size_t len)
{
    for (size_t done = 0; done < len;) {
        int n = mbedtls_ssl_write(&c->ssl, (const unsigned char *)buf + done, len - done);
        if (n <= 0) {
            return n < 0 ? n : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
        }
        done += (size_t)n;
    }
    return 0;
}

int tls_server_peer_notified(const tls_server_conn *c)
{
    return c->notified;
}

int tls_server_resumed(const tls_server_conn *c)
{
    return c->resumed;
}

const char *tls_server_sni(const tls_server_conn *c)
{
    return c->sni;
}

const char *tls_server_alpn(const tls_server_conn *c)
{
    return mbedtls_ssl_get_alpn_protocol(&c->ssl);
}

const char *tls_server_suite(const tls_server_conn *c)
{
    return mbedtls_ssl_get_ciphersuite(&c->ssl);
}

void tls_server_close(tls_server_conn *c, int notify)
{
    if (c == NULL) {
        return;
    }
    if (notify) {
        (void)mbedtls_ssl_close_notify(&c->ssl); /* while the fd is open: the peer sees the alert */
    }
    mbedtls_ssl_free(&c->ssl);
    free(c);
}
