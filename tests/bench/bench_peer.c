/*
 * lwss-bench-peer: the server side of the transport benchmarks, on kernel
 * sockets.  scripts/bench.sh starts one in the rig namespace (192.0.2.1,
 * reached by lwIP over the TAP) and one in a nested namespace at the far
 * end of a veth pair (reached by kernel TCP), so both paths talk to the
 * same code with the same settings.
 *
 *   lwss-bench-peer --addr A --port P --cert F --key F --ca F --ready FILE
 *
 * Port P is plain TCP; P+1, P+2, P+3 are TLS 1.2 offering exactly one
 * suite each (ECDHE-ECDSA with AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305),
 * so a client offering all three gets the one the port stands for.  TLS
 * ports require a client certificate from the CA and issue session tickets.
 *
 * After connect (and handshake) the client sends a 9-byte command: one
 * letter and a 64-bit big-endian count.
 *   'U' n: the peer reads n bytes, then answers one byte 'K' (upload);
 *   'D' n: the peer sends n bytes (download);
 *   'E' -: the peer echoes everything until EOF (round trips).
 * A connection closed before any command (a handshake-only probe) just ends.
 * Every socket has 30 s timeouts: a stuck client never holds a thread forever.
 * TLS is the project's one TLS server (echo_server/tls_server.c).
 */
#include "echo_server/tls_server.h"

#include <arpa/inet.h>
#include <mbedtls/ssl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NPORTS 4
#define IOBUF 16384

static const int suite_sets[NPORTS][2] = {
    {0, 0},
    {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, 0},
    {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, 0},
    {MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, 0},
};

static tls_server *servers[NPORTS]; /* [0] unused: plain */
static volatile sig_atomic_t stopping;

typedef struct peer_conn {
    int fd;
    int tls;                   /* index into servers; 0 = plain */
    tls_server_conn *tc;
} peer_conn;

/* Bytes read (> 0), 0 at EOF / close_notify, < 0 on error. */
static long conn_read(peer_conn *c, unsigned char *b, size_t n)
{
    return c->tls == 0 ? recv(c->fd, b, n, 0) : tls_server_read(c->tc, b, n);
}

static int conn_write_all(peer_conn *c, const unsigned char *b, size_t n)
{
    if (c->tls != 0) {
        return tls_server_write_all(c->tc, b, n) == 0 ? 0 : -1;
    }
    while (n > 0) {
        ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_exact(peer_conn *c, unsigned char *b, size_t n)
{
    for (size_t got = 0; got < n;) {
        long r = conn_read(c, b + got, n - got);
        if (r <= 0) {
            return -1;
        }
        got += (size_t)r;
    }
    return 0;
}

static void serve_command(peer_conn *c, unsigned char *buf)
{
    unsigned char cmd[9];
    if (read_exact(c, cmd, sizeof(cmd)) != 0) {
        return; /* handshake-only probe, or the client went away */
    }
    uint64_t n = 0;
    for (int i = 1; i < 9; i++) {
        n = n << 8 | cmd[i];
    }
    if (cmd[0] == 'U') {
        for (uint64_t got = 0; got < n;) {
            long r = conn_read(c, buf, n - got < IOBUF ? (size_t)(n - got) : IOBUF);
            if (r <= 0) {
                return;
            }
            got += (uint64_t)r;
        }
        conn_write_all(c, (const unsigned char *)"K", 1);
    } else if (cmd[0] == 'D') {
        memset(buf, 0xa5, IOBUF);
        for (uint64_t sent = 0; sent < n; sent += IOBUF) {
            if (conn_write_all(c, buf, n - sent < IOBUF ? (size_t)(n - sent) : IOBUF) != 0) {
                return;
            }
        }
    } else if (cmd[0] == 'E') {
        long r;
        while ((r = conn_read(c, buf, IOBUF)) > 0 && conn_write_all(c, buf, (size_t)r) == 0) {
        }
    }
}

static void *serve(void *arg)
{
    peer_conn *c = arg;
    static __thread unsigned char buf[IOBUF];
    int ok = 1;
    if (c->tls != 0) {
        char why[256];
        ok = tls_server_accept(servers[c->tls], c->fd, &c->tc, why, sizeof(why)) == 0;
        if (!ok) {
            fprintf(stderr, "bench-peer: %s\n", why);
        }
    }
    if (ok) {
        serve_command(c, buf);
    }
    if (c->tls != 0 && ok) {
        tls_server_close(c->tc, 1);
    }
    close(c->fd);
    free(c);
    return NULL;
}

/* One server per TLS port, each offering exactly its suite. */
static int tls_setup(const char *cert_f, const char *key_f, const char *ca_f)
{
    for (int i = 1; i < NPORTS; i++) {
        tls_server_opts o = {
            .cert = cert_f,
            .key = key_f,
            .ca = ca_f,
            .authmode = MBEDTLS_SSL_VERIFY_REQUIRED,
            .tls12_only = 1,
            .suites = suite_sets[i],
            .ticket_lifetime_s = 86400,
        };
        char why[256];
        if (tls_server_new(&servers[i], &o, why, sizeof(why)) != 0) {
            fprintf(stderr, "bench-peer: %s\n", why);
            return -1;
        }
    }
    return 0;
}

static int listen_on(const char *addr, int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 128) != 0) {
        perror("bench-peer: listen");
        return -1;
    }
    return fd;
}

static void accept_one(int lfd, int tls)
{
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        return;
    }
    int one = 1;
    struct timeval tv = {.tv_sec = 30};
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    peer_conn *c = calloc(1, sizeof(*c));
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (c == NULL) {
        close(fd);
    } else {
        c->fd = fd;
        c->tls = tls;
        if (pthread_create(&t, &attr, serve, c) != 0) {
            close(fd);
            free(c);
        }
    }
    pthread_attr_destroy(&attr);
}

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
}

int main(int argc, char **argv)
{
    const char *addr = NULL, *cert_f = NULL, *key_f = NULL, *ca_f = NULL, *ready = NULL;
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *v = argv[i + 1];
        if (strcmp(argv[i], "--addr") == 0) addr = v;
        else if (strcmp(argv[i], "--port") == 0) port = atoi(v);
        else if (strcmp(argv[i], "--cert") == 0) cert_f = v;
        else if (strcmp(argv[i], "--key") == 0) key_f = v;
        else if (strcmp(argv[i], "--ca") == 0) ca_f = v;
        else if (strcmp(argv[i], "--ready") == 0) ready = v;
    }
    if (addr == NULL || port <= 0 || port > 65535 - NPORTS || cert_f == NULL || key_f == NULL ||
        ca_f == NULL || ready == NULL) {
        fprintf(stderr, "usage: lwss-bench-peer --addr A --port P --cert F --key F --ca F --ready FILE\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    if (tls_setup(cert_f, key_f, ca_f) != 0) {
        fprintf(stderr, "bench-peer: cannot load %s / %s / %s\n", cert_f, key_f, ca_f);
        return 1;
    }
    struct pollfd pfd[NPORTS];
    for (int i = 0; i < NPORTS; i++) {
        pfd[i].fd = listen_on(addr, port + i);
        pfd[i].events = POLLIN;
        if (pfd[i].fd < 0) {
            return 1;
        }
    }
    FILE *f = fopen(ready, "w");
    if (f == NULL) {
        perror("bench-peer: ready file");
        return 1;
    }
    fclose(f);
    while (!stopping) {
        if (poll(pfd, NPORTS, 200) <= 0) {
            continue;
        }
        for (int i = 0; i < NPORTS; i++) {
            if (pfd[i].revents & POLLIN) {
                accept_one(pfd[i].fd, i);
            }
        }
    }
    return 0; /* connection threads end with the process */
}
