/* An echo server on a kernel descriptor for the TLS suites: the project's
 * one TLS server (echo_server/tls_server.c) in a thread. */
#include "tests/support/tls_test_util.h"
#include "tests/support/lwss_test.h"

#include "echo_server/tls_server.h"

#include <mbedtls/ssl.h>

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

/* One connection: handshake, then echo until close_notify (answered) or EOF. */
static void serve_one(tls_server *srv, lwss_tt_server *s, int fd)
{
    tls_server_conn *c;
    char err[256];
    int ret = tls_server_accept(srv, fd, &c, err, sizeof(err));
    if (ret == 0) {
        __atomic_add_fetch(&s->handshakes_ok, 1, __ATOMIC_SEQ_CST);
        if (tls_server_resumed(c)) {
            __atomic_add_fetch(&s->resumed, 1, __ATOMIC_SEQ_CST);
        }
        const char *a = tls_server_alpn(c);
        snprintf(s->alpn_seen, sizeof(s->alpn_seen), "%s", a != NULL ? a : "");
        unsigned char buf[4096];
        if (s->stall_ms > 0) {
            usleep((useconds_t)s->stall_ms * 1000u);
        }
        int n, w = 0;
        while ((n = tls_server_read(c, buf, sizeof(buf))) > 0 &&
               (w = tls_server_write_all(c, buf, (size_t)n)) == 0) {
            __atomic_add_fetch(&s->echoed, (size_t)n, __ATOMIC_SEQ_CST);
        }
        ret = n < 0 ? n : w;
        s->got_close_notify = tls_server_peer_notified(c);
        tls_server_close(c, s->got_close_notify);
    }
    if (ret != 0) {
        s->last_ret = ret;
    }
    close(fd);
}

static void *server_main(void *arg)
{
    lwss_tt_server *s = arg;
    char cert[512], key[512], ca[512], err[256];
    const char *alpn[2] = {s->alpn, NULL};
    tls_server_opts o = {
        .cert = lwss_tt_cert_path(s->cert, cert, sizeof(cert)),
        .key = lwss_tt_cert_path(s->key, key, sizeof(key)),
        .ca = lwss_tt_cert_path("ca.crt", ca, sizeof(ca)),
        .authmode = s->require_client_cert ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE,
        .suites = s->suites,
        .alpn = s->alpn != NULL ? alpn : NULL,
        .ticket_lifetime_s = 3600,
        .session_cache = 1,
    };
    tls_server *srv;
    int ret = tls_server_new(&srv, &o, err, sizeof(err));
    if (ret != 0) {
        s->last_ret = ret;
        close(s->fd);
    } else if (s->connections <= 1) {
        serve_one(srv, s, s->fd);
    } else {
        for (int i = 0; i < s->connections; i++) {
            int fd = accept(s->fd, NULL, NULL);
            if (fd < 0) {
                break;
            }
            serve_one(srv, s, fd);
        }
        close(s->fd);
    }
    tls_server_free(srv);
    return NULL;
}

int lwss_tt_server_start(lwss_tt_server *s)
{
    return pthread_create(&s->thread, NULL, server_main, s) == 0 ? 0 : -1;
}

void lwss_tt_server_join(lwss_tt_server *s)
{
    pthread_join(s->thread, NULL);
}
