/* An mbedtls echo server on a kernel descriptor, for the TLS suites and bench. */
#include "tls_test_util.h"
#include "lwss_test.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *lwss_tt_cert_path(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/certs/%s", lwss_test_build_dir(), name);
    return out;
}

unsigned char *lwss_tt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    unsigned char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
            if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
                free(buf);
                buf = NULL;
            } else {
                buf[n] = '\0';
                *len = (size_t)n;
            }
        }
    }
    fclose(f);
    return buf;
}

typedef struct server_state {
    lwss_tt_server *s;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt cert, ca;
    mbedtls_pk_context key;
    mbedtls_ssl_ticket_context ticket;
    mbedtls_ssl_cache_context cache;
    const char *alpn[2];
} server_state;

/* Resumption is counted where the server accepts a ticket or a cached id. */
static int ticket_parse(void *p, mbedtls_ssl_session *session, unsigned char *buf, size_t len)
{
    server_state *st = p;
    int ret = mbedtls_ssl_ticket_parse(&st->ticket, session, buf, len);
    if (ret == 0) {
        __atomic_add_fetch(&st->s->resumed, 1, __ATOMIC_SEQ_CST);
    }
    return ret;
}

static int ticket_write(void *p, const mbedtls_ssl_session *session, unsigned char *start,
                        const unsigned char *end, size_t *tlen, uint32_t *lifetime)
{
    server_state *st = p;
    int ret = mbedtls_ssl_ticket_write(&st->ticket, session, start, end, tlen, lifetime);
    return ret;
}

static int cache_get(void *p, mbedtls_ssl_session *session)
{
    server_state *st = p;
    int ret = mbedtls_ssl_cache_get(&st->cache, session);
    if (ret == 0) {
        __atomic_add_fetch(&st->s->resumed, 1, __ATOMIC_SEQ_CST);
    }
    return ret;
}

static int cache_set(void *p, const mbedtls_ssl_session *session)
{
    server_state *st = p;
    return mbedtls_ssl_cache_set(&st->cache, session);
}

static int server_setup(server_state *st)
{
    char path[512];
    lwss_tt_server *s = st->s;
    int ret = mbedtls_ctr_drbg_seed(&st->drbg, mbedtls_entropy_func, &st->entropy, NULL, 0);
    if (ret == 0) ret = mbedtls_x509_crt_parse_file(&st->cert, lwss_tt_cert_path(s->cert, path, sizeof(path)));
    if (ret == 0) ret = mbedtls_pk_parse_keyfile(&st->key, lwss_tt_cert_path(s->key, path, sizeof(path)), NULL);
    if (ret == 0) ret = mbedtls_x509_crt_parse_file(&st->ca, lwss_tt_cert_path("ca.crt", path, sizeof(path)));
    if (ret == 0) ret = mbedtls_ssl_config_defaults(&st->conf, MBEDTLS_SSL_IS_SERVER,
                                                    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret == 0) ret = mbedtls_ssl_conf_own_cert(&st->conf, &st->cert, &st->key);
    if (ret == 0) ret = mbedtls_ssl_ticket_setup(&st->ticket, mbedtls_ctr_drbg_random, &st->drbg,
                                                 MBEDTLS_CIPHER_AES_256_GCM, 3600);
    if (ret != 0) {
        return ret;
    }
    mbedtls_ssl_conf_rng(&st->conf, mbedtls_ctr_drbg_random, &st->drbg);
    mbedtls_ssl_conf_ca_chain(&st->conf, &st->ca, NULL);
    mbedtls_ssl_conf_authmode(&st->conf, s->require_client_cert ? MBEDTLS_SSL_VERIFY_REQUIRED
                                                                : MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_session_tickets_cb(&st->conf, ticket_write, ticket_parse, st);
    mbedtls_ssl_conf_session_cache(&st->conf, st, cache_get, cache_set);
    if (s->suites != NULL) {
        mbedtls_ssl_conf_ciphersuites(&st->conf, s->suites);
    }
    if (s->alpn != NULL) {
        st->alpn[0] = s->alpn;
        ret = mbedtls_ssl_conf_alpn_protocols(&st->conf, st->alpn);
    }
    return ret;
}

static void serve_one(server_state *st, int fd)
{
    lwss_tt_server *s = st->s;
    mbedtls_ssl_context ssl;
    mbedtls_net_context net = {fd};
    mbedtls_ssl_init(&ssl);
    int ret = mbedtls_ssl_setup(&ssl, &st->conf);
    mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, NULL);
    while (ret == 0 && (ret = mbedtls_ssl_handshake(&ssl)) == MBEDTLS_ERR_SSL_WANT_READ) {
    }
    if (ret == 0) {
        __atomic_add_fetch(&s->handshakes_ok, 1, __ATOMIC_SEQ_CST);
        const char *a = mbedtls_ssl_get_alpn_protocol(&ssl);
        snprintf(s->alpn_seen, sizeof(s->alpn_seen), "%s", a != NULL ? a : "");
        unsigned char buf[4096];
        if (s->stall_ms > 0) {
            usleep((useconds_t)s->stall_ms * 1000u);
        }
        for (;;) {
            int n = mbedtls_ssl_read(&ssl, buf, sizeof(buf));
            if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
                s->got_close_notify = 1;
                mbedtls_ssl_close_notify(&ssl);
                break;
            }
            if (n <= 0) {
                ret = n;
                break;
            }
            for (int off = 0; off < n;) {
                int w = mbedtls_ssl_write(&ssl, buf + off, (size_t)(n - off));
                if (w <= 0) {
                    break;
                }
                off += w;
            }
            __atomic_add_fetch(&s->echoed, (size_t)n, __ATOMIC_SEQ_CST);
        }
    }
    if (ret != 0) {
        s->last_ret = ret;
    }
    mbedtls_ssl_free(&ssl);
    close(fd);
}

static void *server_main(void *arg)
{
    server_state *st = arg;
    lwss_tt_server *s = st->s;
    int ret = server_setup(st);
    if (ret != 0) {
        s->last_ret = ret;
        close(s->fd);
    } else if (s->connections <= 1) {
        serve_one(st, s->fd);
    } else {
        for (int i = 0; i < s->connections; i++) {
            int fd = accept(s->fd, NULL, NULL);
            if (fd < 0) {
                break;
            }
            serve_one(st, fd);
        }
        close(s->fd);
    }
    mbedtls_ssl_cache_free(&st->cache);
    mbedtls_ssl_ticket_free(&st->ticket);
    mbedtls_pk_free(&st->key);
    mbedtls_x509_crt_free(&st->ca);
    mbedtls_x509_crt_free(&st->cert);
    mbedtls_ssl_config_free(&st->conf);
    mbedtls_ctr_drbg_free(&st->drbg);
    mbedtls_entropy_free(&st->entropy);
    free(st);
    return NULL;
}

int lwss_tt_server_start(lwss_tt_server *s)
{
    server_state *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return -1;
    }
    st->s = s;
    mbedtls_entropy_init(&st->entropy);
    mbedtls_ctr_drbg_init(&st->drbg);
    mbedtls_ssl_config_init(&st->conf);
    mbedtls_x509_crt_init(&st->cert);
    mbedtls_x509_crt_init(&st->ca);
    mbedtls_pk_init(&st->key);
    mbedtls_ssl_ticket_init(&st->ticket);
    mbedtls_ssl_cache_init(&st->cache);
    if (pthread_create(&s->thread, NULL, server_main, st) != 0) {
        free(st);
        return -1;
    }
    return 0;
}

void lwss_tt_server_join(lwss_tt_server *s)
{
    pthread_join(s->thread, NULL);
}
