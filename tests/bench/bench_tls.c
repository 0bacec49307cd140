/*
 * bench_tls: TLS through lwss (SOCKETS_* over lwIP/TAP, one mbedtls context
 * per socket, client key in the token) beside what an application would use
 * instead: a plain mbedtls 2.28 client (key from a file) over Linux kernel
 * TCP on a veth pair.  Same run, same peer code (lwss-bench-peer, started by
 * scripts/bench.sh on both paths), same suite on both sides: each peer port
 * offers exactly one suite and both clients offer lwss's list.
 *
 * Metrics (each "tap" figure has its "kernel" baseline line):
 *   - upload / download throughput per suite (AES-128-GCM, AES-256-GCM,
 *     ChaCha20-Poly1305), 16 KiB writes, one direction at a time;
 *   - median round trip of a 64-byte echo (AES-128-GCM);
 *   - full and resumed (session ticket) handshake with EC P-256 and RSA
 *     2048 client keys, TCP connect included, median of HANDSHAKES,
 *     the two paths interleaved;
 *   - heap bytes per connected TLS socket (lwss and the bare mbedtls
 *     client), heap in use with 100 concurrent TLS sockets, all echoing;
 *   - AFR's iot_tls.h (TLS_Send / TLS_Recv) over a plain SOCKETS_* socket
 *     beside Secure Sockets' own TLS, AES-128-GCM both ways, interleaved.
 * Output: JSON lines (tests/bench/report.c).  Exit 1 when a path fails.
 */
#include "iot_secure_sockets.h"
#include "iot_tls.h"
#include "tests/bench/bench_util.h"
#include "lwss/port.h"
#include "lwss/tls.h"
#include "src/tls/tls_internal.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HANDSHAKES 21
#define BULK_BYTES (12u * 1024u * 1024u)
#define CHUNK 16384u
#define RTT_ITERS 1000
#define REPS 5
#define HEAP_SOCKETS 20
#define MANY_SOCKETS 100
#define SNI "echo.lwss.test"

enum { KEY_EC, KEY_RSA, KEYS };
static const char *const key_name[KEYS] = {"ec", "rsa"};
enum { SUITES = 3 };
static const char *const suite_name[SUITES] = {"aes128gcm", "aes256gcm", "chachapoly"};
/* What mbedtls_ssl_get_ciphersuite() names for each peer port. */
static const char *const suite_id[SUITES] = {"TLS-ECDHE-ECDSA-WITH-AES-128-GCM-SHA256",
                                             "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384",
                                             "TLS-ECDHE-ECDSA-WITH-CHACHA20-POLY1305-SHA256"};

static char rundir[200], build[128];
static const char *tap_peer, *veth_peer;
static int base_port;

/* The bare-mbedtls client of the kernel path: one config per client key. */
static mbedtls_entropy_context entropy;
static mbedtls_ctr_drbg_context drbg;
static mbedtls_x509_crt k_ca, k_cert[KEYS];
static mbedtls_pk_context k_key[KEYS];
static mbedtls_ssl_config k_conf[KEYS];
static mbedtls_ssl_session k_saved;
static char nvm_image[KEYS][300];

static void emit(const char *metric, double value, const char *unit, const char *baseline_of,
                 const char *goal)
{
    bench_emit("tls", metric, value, unit, baseline_of, goal);
}

/* ---- one connection, either path ---- */

typedef struct conn {
    Socket_t s;                    /* lwss path */
    int kernel;
    void *afr;                     /* iot_tls.h path: TLS_* over the plain socket s */
    mbedtls_net_context net;       /* kernel path */
    mbedtls_ssl_context *ssl;
} conn;

static int lwss_open(conn *c, int port)
{
    c->s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    TickType_t t = 10000;
    SocketsSockaddr_t a = {sizeof(a), SOCKETS_AF_INET, SOCKETS_htons((uint16_t)port),
                           inet_addr(tap_peer)};
    if (c->s == SOCKETS_INVALID_SOCKET ||
        SOCKETS_SetSockOpt(c->s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0) != 0 ||
        SOCKETS_SetSockOpt(c->s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, SNI, strlen(SNI)) != 0 ||
        SOCKETS_SetSockOpt(c->s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t)) != 0 ||
        SOCKETS_SetSockOpt(c->s, 0, SOCKETS_SO_SNDTIMEO, &t, sizeof(t)) != 0 ||
        SOCKETS_Connect(c->s, &a, sizeof(a)) != 0) {
        if (c->s != SOCKETS_INVALID_SOCKET) SOCKETS_Close(c->s);
        return -1;
    }
    return 0;
}

/* Bare mbedtls over kernel TCP; @p resume: offer the saved session. */
static int kernel_open(conn *c, int port, int key, int resume)
{
    char port_s[8];
    snprintf(port_s, sizeof(port_s), "%d", port);
    mbedtls_net_init(&c->net);
    c->ssl = malloc(sizeof(*c->ssl)); /* on the heap, so that it is counted like lwss's */
    if (c->ssl == NULL) return -1;
    mbedtls_ssl_init(c->ssl);
    int one = 1, ok = mbedtls_net_connect(&c->net, veth_peer, port_s, MBEDTLS_NET_PROTO_TCP) == 0;
    if (ok) {
        struct timeval tv = {.tv_sec = 10};
        setsockopt(c->net.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(c->net.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(c->net.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        ok = mbedtls_ssl_setup(c->ssl, &k_conf[key]) == 0 &&
             mbedtls_ssl_set_hostname(c->ssl, SNI) == 0 &&
             (!resume || mbedtls_ssl_set_session(c->ssl, &k_saved) == 0);
    }
    if (ok) {
        mbedtls_ssl_set_bio(c->ssl, &c->net, mbedtls_net_send, mbedtls_net_recv, NULL);
        ok = mbedtls_ssl_handshake(c->ssl) == 0;
    }
    if (!ok) {
        mbedtls_ssl_free(c->ssl);
        free(c->ssl);
        mbedtls_net_free(&c->net);
        return -1;
    }
    return 0;
}

static BaseType_t afr_send(void *ctx, const unsigned char *b, size_t n)
{
    return SOCKETS_Send(*(Socket_t *)ctx, b, n, 0);
}

static BaseType_t afr_recv(void *ctx, unsigned char *b, size_t n)
{
    return SOCKETS_Recv(*(Socket_t *)ctx, b, n, 0);
}

/* A plain SOCKETS_* socket, then iot_tls.h's handshake over it (token roots and key). */
static int afr_open(conn *c, int port)
{
    c->s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    TickType_t t = 10000;
    SocketsSockaddr_t a = {sizeof(a), SOCKETS_AF_INET, SOCKETS_htons((uint16_t)port),
                           inet_addr(tap_peer)};
    TLSParams_t p = {.ulSize = sizeof(p), .pcDestination = SNI, .pxNetworkRecv = afr_recv,
                     .pxNetworkSend = afr_send, .pvCallerContext = &c->s};
    if (c->s == SOCKETS_INVALID_SOCKET ||
        SOCKETS_SetSockOpt(c->s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t)) != 0 ||
        SOCKETS_SetSockOpt(c->s, 0, SOCKETS_SO_SNDTIMEO, &t, sizeof(t)) != 0 ||
        SOCKETS_Connect(c->s, &a, sizeof(a)) != 0 || TLS_Init(&c->afr, &p) != 0 ||
        TLS_Connect(c->afr) != 0) {
        TLS_Cleanup(c->afr);
        if (c->s != SOCKETS_INVALID_SOCKET) SOCKETS_Close(c->s);
        return -1;
    }
    return 0;
}

static int conn_open(conn *c, int kernel, int port, int key, int resume)
{
    memset(c, 0, sizeof(*c));
    c->kernel = kernel;
    return kernel ? kernel_open(c, port, key, resume) : lwss_open(c, port);
}

static void conn_close(conn *c)
{
    if (c->kernel) {
        mbedtls_ssl_close_notify(c->ssl);
        mbedtls_ssl_free(c->ssl);
        free(c->ssl);
        mbedtls_net_free(&c->net);
    } else {
        TLS_Cleanup(c->afr); /* NULL unless the iot_tls.h path */
        SOCKETS_Close(c->s);
    }
}

static long conn_send(conn *c, const void *b, size_t n)
{
    if (c->afr != NULL) return TLS_Send(c->afr, b, n);
    if (!c->kernel) return SOCKETS_Send(c->s, b, n, 0);
    int r;
    do {
        r = mbedtls_ssl_write(c->ssl, b, n);
    } while (r == MBEDTLS_ERR_SSL_WANT_WRITE);
    return r;
}

static long conn_recv(conn *c, void *b, size_t n)
{
    if (c->afr != NULL) return TLS_Recv(c->afr, b, n);
    if (!c->kernel) return SOCKETS_Recv(c->s, b, n, 0);
    int r;
    do {
        r = mbedtls_ssl_read(c->ssl, b, n);
    } while (r == MBEDTLS_ERR_SSL_WANT_READ);
    return r;
}

static int send_all(conn *c, const unsigned char *b, size_t n)
{
    while (n > 0) {
        long w = conn_send(c, b, n);
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int command(conn *c, char what, uint64_t n)
{
    uint8_t cmd[9];
    bench_peer_command(cmd, what, n);
    return send_all(c, cmd, sizeof(cmd));
}

/* ---- measurements ---- */

/*
 * ms of one connect + handshake; < 0 on failure.  A full one forgets every
 * cached session first and leaves its own for the resumed ones that follow
 * (lwss: its session cache, on close; bare mbedtls: k_saved).
 */
static double one_handshake(int kernel, int key, int resumed)
{
    conn c;
    if (!resumed) lwss_tls_session_cache_clear();
    double t0 = bench_now_s();
    if (conn_open(&c, kernel, base_port + 1, key, resumed) != 0) return -1;
    double ms = (bench_now_s() - t0) * 1000.0;
    if (kernel && !resumed) {
        mbedtls_ssl_session_free(&k_saved);
        mbedtls_ssl_session_init(&k_saved);
        if (mbedtls_ssl_get_session(c.ssl, &k_saved) != 0) ms = -1;
    }
    conn_close(&c);
    return ms;
}

/*
 * Median ms of HANDSHAKES on both paths, interleaved: v[kernel].  With
 * @p held, the application keeps the token initialised across handshakes
 * (as FreeRTOS firmware does: it initialises PKCS #11 once at boot);
 * without, lwss opens and finalises the token for every handshake.
 */
static int handshakes(int key, int resumed, int held, double v[2])
{
    static double samples[2][HANDSHAKES];
    int rc = 0;
    setenv("LWSS_NVM", nvm_image[key], 1);
    if (held && C_Initialize(NULL) != CKR_OK) {
        fprintf(stderr, "bench_tls: C_Initialize on %s failed\n", nvm_image[key]);
        return -1;
    }
    for (int i = 0; i < HANDSHAKES && rc == 0; i++) {
        for (int j = 0; j < 2 && rc == 0; j++) {
            int kernel = (i + j) % 2; /* alternate who goes first */
            if ((samples[kernel][i] = one_handshake(kernel, key, resumed)) < 0) {
                fprintf(stderr, "bench_tls: %s handshake (%s key) over %s failed: %s\n",
                        resumed ? "resumed" : "full", key_name[key],
                        kernel ? "kernel TCP" : "lwIP/TAP", lwss_last_error());
                rc = -1;
            }
        }
    }
    if (held) C_Finalize(NULL);
    v[0] = bench_median(samples[0], HANDSHAKES);
    v[1] = bench_median(samples[1], HANDSHAKES);
    return rc;
}

/* MB/s of one direction ('U' upload, 'D' download) over suite @p s. */
/* @p kernel: 0 Secure Sockets, 1 bare mbedtls over kernel TCP, 2 iot_tls.h over SOCKETS_*. */
static double bulk_mbps(int kernel, int s, char dir)
{
    static unsigned char buf[CHUNK];
    conn c;
    if (kernel == 2) {
        memset(&c, 0, sizeof(c));
        if (afr_open(&c, base_port + 1 + s) != 0) return -1;
        kernel = 0;
    } else if (conn_open(&c, kernel, base_port + 1 + s, KEY_EC, 0) != 0) {
        return -1;
    }
    /* The lwss side can only have agreed on the port's one suite; check the kernel side. */
    if (kernel && strcmp(mbedtls_ssl_get_ciphersuite(c.ssl), suite_id[s]) != 0) {
        fprintf(stderr, "bench_tls: negotiated %s, expected %s\n",
                mbedtls_ssl_get_ciphersuite(c.ssl), suite_id[s]);
        conn_close(&c);
        return -1;
    }
    memset(buf, 0x5a, sizeof(buf));
    double t0 = bench_now_s();
    int ok = command(&c, dir, BULK_BYTES) == 0;
    size_t done = 0;
    while (ok && done < BULK_BYTES) {
        size_t n = BULK_BYTES - done < CHUNK ? BULK_BYTES - done : CHUNK;
        long r = dir == 'U' ? conn_send(&c, buf, n) : conn_recv(&c, buf, n);
        ok = r > 0;
        done += ok ? (size_t)r : 0;
    }
    if (ok && dir == 'U') ok = conn_recv(&c, buf, 1) == 1 && buf[0] == 'K';
    double dt = bench_now_s() - t0;
    conn_close(&c);
    return ok ? (double)BULK_BYTES / dt / 1e6 : -1;
}

/* Median us of a 64-byte echo round trip (AES-128-GCM). */
static double rtt_us(int kernel)
{
    static double samples[RTT_ITERS];
    unsigned char out[64], in[64];
    conn c;
    if (conn_open(&c, kernel, base_port + 1, KEY_EC, 0) != 0) return -1;
    memset(out, 0x3c, sizeof(out));
    int ok = command(&c, 'E', 0) == 0;
    for (int i = 0; i < RTT_ITERS && ok; i++) {
        double t0 = bench_now_s();
        ok = send_all(&c, out, sizeof(out)) == 0;
        for (size_t got = 0; ok && got < sizeof(in);) {
            long r = conn_recv(&c, in + got, sizeof(in) - got);
            ok = r > 0;
            got += ok ? (size_t)r : 0;
        }
        samples[i] = (bench_now_s() - t0) * 1e6;
    }
    conn_close(&c);
    return ok ? bench_median(samples, RTT_ITERS) : -1;
}

static size_t heap_in_use(void)
{
    return mallinfo2().uordblks;
}

/* Heap bytes per connected TLS socket on one path; < 0 on failure. */
static double heap_per_socket(int kernel)
{
    static conn c[HEAP_SOCKETS];
    conn warm;
    if (conn_open(&warm, kernel, base_port + 1, KEY_EC, 0) != 0) return -1; /* one-time state */
    conn_close(&warm);
    lwss_tls_session_cache_clear();
    size_t before = heap_in_use();
    int open = 0;
    for (; open < HEAP_SOCKETS && conn_open(&c[open], kernel, base_port + 1, KEY_EC, 0) == 0; open++) {
    }
    size_t after = heap_in_use();
    for (int i = 0; i < open; i++) conn_close(&c[i]);
    return open == HEAP_SOCKETS ? (double)(after - before) / open : -1;
}

/* MANY_SOCKETS lwss TLS sockets at once, each echoing; heap in use with all open. */
static int many_sockets(double *heap_bytes)
{
    static conn c[MANY_SOCKETS];
    size_t before = heap_in_use();
    int open = 0, ok = 0;
    for (; open < MANY_SOCKETS && conn_open(&c[open], 0, base_port + 1, KEY_EC, 0) == 0; open++) {
    }
    for (int i = 0; i < open; i++) {
        char in[8];
        size_t got = 0;
        if (command(&c[i], 'E', 0) != 0 || conn_send(&c[i], "ping-123", 8) != 8) continue;
        while (got < 8) {
            long n = conn_recv(&c[i], in + got, 8 - got);
            if (n <= 0) break;
            got += (size_t)n;
        }
        ok += got == 8 && memcmp(in, "ping-123", 8) == 0;
    }
    *heap_bytes = (double)(heap_in_use() - before);
    for (int i = 0; i < open; i++) conn_close(&c[i]);
    return ok;
}

/* ---- set-up: credentials for both clients ---- */

static int provision(int key)
{
    char cmd[4096];
    snprintf(nvm_image[key], sizeof(nvm_image[key]), "%s/bench-tls-%s.img", rundir, key_name[key]);
    snprintf(cmd, sizeof(cmd),
             "rm -f %s && LWSS_NVM=%s %s/bin/lwss-demo --import --cert %s/certs/client-%s.crt "
             "--key %s/certs/client-%s.key --root-ca %s/certs/ca.crt >&2",
             nvm_image[key], nvm_image[key], build, build, key_name[key], build, key_name[key], build);
    return system(cmd) == 0 ? 0 : -1;
}

static int kernel_client_setup(void)
{
    char path[400];
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_x509_crt_init(&k_ca);
    mbedtls_ssl_session_init(&k_saved);
    snprintf(path, sizeof(path), "%s/certs/ca.crt", build);
    if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0 ||
        mbedtls_x509_crt_parse_file(&k_ca, path) != 0) return -1;
    for (int k = 0; k < KEYS; k++) {
        mbedtls_x509_crt_init(&k_cert[k]);
        mbedtls_pk_init(&k_key[k]);
        mbedtls_ssl_config_init(&k_conf[k]);
        snprintf(path, sizeof(path), "%s/certs/client-%s.crt", build, key_name[k]);
        if (mbedtls_x509_crt_parse_file(&k_cert[k], path) != 0) return -1;
        snprintf(path, sizeof(path), "%s/certs/client-%s.key", build, key_name[k]);
        mbedtls_ssl_config *cf = &k_conf[k];
        if (mbedtls_pk_parse_keyfile(&k_key[k], path, NULL) != 0 ||
            mbedtls_ssl_config_defaults(cf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT) != 0 ||
            mbedtls_ssl_conf_own_cert(cf, &k_cert[k], &k_key[k]) != 0) return -1;
        mbedtls_ssl_conf_min_version(cf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
        mbedtls_ssl_conf_max_version(cf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
        mbedtls_ssl_conf_ciphersuites(cf, lwss_tls_suites()); /* the same offer as lwss */
        mbedtls_ssl_conf_ca_chain(cf, &k_ca, NULL);
        mbedtls_ssl_conf_authmode(cf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_rng(cf, mbedtls_ctr_drbg_random, &drbg);
        mbedtls_ssl_conf_session_tickets(cf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
    }
    return 0;
}

/* ---- the report lines ---- */

static int run_bulk(void)
{
    static const char dirs[2] = {'U', 'D'};
    static const char *const dir_name[2] = {"up", "down"};
    for (int s = 0; s < SUITES; s++) {
        for (int d = 0; d < 2; d++) {
            double v[2][REPS];
            for (int r = 0; r < REPS; r++) {
                for (int i = 0; i < 2; i++) { /* alternate who goes first */
                    int kernel = (i + r) % 2;
                    v[kernel][r] = bulk_mbps(kernel, s, dirs[d]);
                    if (v[kernel][r] < 0) {
                        fprintf(stderr, "bench_tls: %s %s over %s failed\n", dir_name[d],
                                suite_name[s], kernel ? "kernel TCP" : "lwIP/TAP");
                        return -1;
                    }
                }
            }
            char tap_m[64], k_m[64];
            snprintf(tap_m, sizeof(tap_m), "%s_%s_tap", dir_name[d], suite_name[s]);
            snprintf(k_m, sizeof(k_m), "%s_%s_kernel_veth", dir_name[d], suite_name[s]);
            emit(tap_m, bench_median(v[0], REPS), "MB/s", NULL, NULL);
            emit(k_m, bench_median(v[1], REPS), "MB/s", tap_m, ">=0.8");
        }
    }
    return 0;
}

/* iot_tls.h (TLS_Send/TLS_Recv over SOCKETS_*) beside Secure Sockets' TLS:
 * one engine under both, so the callbacks' cost is all that may differ. */
static int run_iot_tls(void)
{
    static const char dirs[2] = {'U', 'D'};
    static const char *const dir_name[2] = {"up", "down"};
    for (int d = 0; d < 2; d++) {
        double v[2][REPS];
        for (int r = 0; r < REPS; r++) {
            for (int i = 0; i < 2; i++) { /* alternate who goes first */
                int afr = (i + r) % 2;
                v[afr][r] = bulk_mbps(afr ? 2 : 0, 0, dirs[d]);
                if (v[afr][r] < 0) {
                    fprintf(stderr, "bench_tls: %s over %s failed\n", dir_name[d],
                            afr ? "iot_tls.h" : "Secure Sockets TLS");
                    return -1;
                }
            }
        }
        char afr_m[64], ss_m[64];
        snprintf(afr_m, sizeof(afr_m), "%s_%s_iot_tls_over_sockets", dir_name[d], suite_name[0]);
        snprintf(ss_m, sizeof(ss_m), "%s_%s_sockets_tls_beside_iot_tls", dir_name[d],
                 suite_name[0]);
        emit(afr_m, bench_median(v[1], REPS), "MB/s", NULL, NULL);
        emit(ss_m, bench_median(v[0], REPS), "MB/s", afr_m, ">=0.95");
    }
    return 0;
}

static int run_handshakes(void)
{
    for (int k = 0; k < KEYS; k++) {
        double v[2][2], t[2]; /* [resumed][kernel]; t: token opened per handshake */
        if (handshakes(k, 0, 1, v[0]) != 0 || handshakes(k, 1, 1, v[1]) != 0 ||
            handshakes(k, 0, 0, t) != 0) {
            return -1;
        }
        char full[64], res[64], m[64];
        snprintf(full, sizeof(full), "full_hs_%s_tap", key_name[k]);
        snprintf(res, sizeof(res), "resumed_hs_%s_tap", key_name[k]);
        emit(full, v[0][0], "ms", NULL, NULL);
        snprintf(m, sizeof(m), "full_hs_%s_kernel_veth", key_name[k]);
        emit(m, v[0][1], "ms", full, "<=1.15");
        emit(res, v[1][0], "ms", NULL, NULL);
        snprintf(m, sizeof(m), "resumed_hs_%s_kernel_veth", key_name[k]);
        emit(m, v[1][1], "ms", res, NULL);
        snprintf(m, sizeof(m), "full_hs_%s_tap_as_base", key_name[k]);
        emit(m, v[0][0], "ms", res, "<=0.1");
        char per[64];
        snprintf(per, sizeof(per), "full_hs_%s_tap_token_per_handshake", key_name[k]);
        emit(per, t[0], "ms", NULL, NULL);
        snprintf(m, sizeof(m), "full_hs_%s_kernel_veth_beside_per_handshake", key_name[k]);
        emit(m, t[1], "ms", per, NULL);
    }
    return 0;
}

static int run_rtt_heap(void)
{
    double rt[2][REPS];
    for (int r = 0; r < REPS; r++) {
        for (int kernel = 0; kernel < 2; kernel++) {
            if ((rt[kernel][r] = rtt_us(kernel)) < 0) {
                fprintf(stderr, "bench_tls: echo over %s failed\n", kernel ? "kernel" : "TAP");
                return -1;
            }
        }
    }
    emit("rtt64_aes128gcm_tap", bench_median(rt[0], REPS), "us", NULL, NULL);
    emit("rtt64_aes128gcm_kernel_veth", bench_median(rt[1], REPS), "us", "rtt64_aes128gcm_tap", NULL);
    setenv("LWSS_NVM", nvm_image[KEY_EC], 1);
    double heap = heap_per_socket(0), k_heap = heap_per_socket(1), many_heap = 0;
    int many = many_sockets(&many_heap);
    if (heap < 0 || k_heap < 0) {
        fprintf(stderr, "bench_tls: heap measurement could not open its sockets\n");
        return -1;
    }
    emit("heap_per_tls_socket", heap, "B", NULL, NULL);
    emit("heap_per_tls_conn_mbedtls_kernel", k_heap, "B", "heap_per_tls_socket", NULL);
    emit("heap_goal_48KiB", 49152, "B", "heap_per_tls_socket", "<=1.0");
    emit("heap_100_tls_sockets", many_heap, "B", NULL, NULL);
    emit("concurrent_tls_sockets", many, "sockets", NULL, NULL);
    emit("concurrent_goal", MANY_SOCKETS, "sockets", "concurrent_tls_sockets", ">=1.0");
    return many == MANY_SOCKETS ? 0 : -1;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(rundir, sizeof(rundir), "%s", getenv("LWSS_RIG_RUNDIR") ? getenv("LWSS_RIG_RUNDIR") : "/tmp");
    snprintf(build, sizeof(build), "%s", getenv("LWSS_BUILD") ? getenv("LWSS_BUILD") : "build");
    tap_peer = getenv("LWSS_BENCH_TAP_PEER");
    veth_peer = getenv("LWSS_BENCH_VETH_PEER");
    base_port = getenv("LWSS_BENCH_PORT") ? atoi(getenv("LWSS_BENCH_PORT")) : 0;
    if (tap_peer == NULL || veth_peer == NULL || base_port <= 0) {
        fprintf(stderr, "bench_tls: run by scripts/bench.sh inside the rig (make bench)\n");
        return 1;
    }
    if (provision(KEY_EC) != 0 || provision(KEY_RSA) != 0 || kernel_client_setup() != 0) {
        fprintf(stderr, "bench_tls: credentials: needs lwss-demo and %s/certs\n", build);
        return 1;
    }
    setenv("LWSS_NVM", nvm_image[KEY_EC], 1);
    if (lwss_port_up(NULL) != LWSS_OK || SOCKETS_Init() != pdPASS) {
        fprintf(stderr, "bench_tls: lwIP did not come up: %s\n", lwss_last_error());
        return 1;
    }
    const char *profile = getenv("LWSS_BENCH_PROFILE"); /* "up"/"down"/"resumed"/"full" */
    if (profile != NULL && (strcmp(profile, "resumed") == 0 || strcmp(profile, "full") == 0)) {
        int resumed = strcmp(profile, "resumed") == 0;
        int kernel = getenv("LWSS_BENCH_PROFILE_KERNEL") != NULL;
        int key = getenv("LWSS_BENCH_PROFILE_KEY") != NULL ? atoi(getenv("LWSS_BENCH_PROFILE_KEY")) % KEYS
                                                           : KEY_EC; /* 0 ec, 1 rsa */
        setenv("LWSS_NVM", nvm_image[key], 1);
        if (getenv("LWSS_BENCH_PROFILE_TOKEN_HELD") != NULL) C_Initialize(NULL); /* lwss keeps it */
        one_handshake(kernel, key, 0);
        double t0 = bench_now_s();
        for (int i = 0; i < (resumed ? 2000 : 100); i++) one_handshake(kernel, key, resumed);
        fprintf(stderr, "profile %s: %.3f s\n", profile, bench_now_s() - t0);
        lwss_port_down();
        return 0;
    }
    if (profile != NULL) {
        int kernel = getenv("LWSS_BENCH_PROFILE_KERNEL") != NULL;
        const char *ps = getenv("LWSS_BENCH_PROFILE_SUITE"); /* 0, 1, 2: suite_name[] */
        int suite = ps != NULL ? atoi(ps) % SUITES : 0;
        for (int i = 0; i < 8; i++) {
            struct rusage r0, r1;
            lwss_port_stats s0, s1;
            lwss_port_get_stats(&s0);
            getrusage(RUSAGE_SELF, &r0);
            double mbps = bulk_mbps(kernel, suite, strcmp(profile, "up") == 0 ? 'U' : 'D');
            getrusage(RUSAGE_SELF, &r1);
            lwss_port_get_stats(&s1);
            double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec -
                                  r0.ru_stime.tv_sec) +
                         (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec -
                                  r0.ru_stime.tv_usec) / 1e6;
            fprintf(stderr, "profile %s: %.1f MB/s, client process CPU %.2f ms/MB, %.0f voluntary "
                    "context switches per MB\n", profile, mbps, cpu * 1e3 / (BULK_BYTES / 1e6),
                    (double)(r1.ru_nvcsw - r0.ru_nvcsw) / (BULK_BYTES / 1e6));
            fprintf(stderr, "  per MB: %.0f TAP reads, %.0f TAP writes (%.0f frames)\n",
                    (double)(s1.rx_frames - s0.rx_frames) / (BULK_BYTES / 1e6),
                    (double)(s1.tx_writes - s0.tx_writes) / (BULK_BYTES / 1e6),
                    (double)(s1.tx_frames - s0.tx_frames) / (BULK_BYTES / 1e6));
        }
        lwss_port_down();
        return 0;
    }
    /* LWSS_BENCH_TLS_ONLY=iot_tls: just the iot_tls.h rows (a quick check). */
    const char *only = getenv("LWSS_BENCH_TLS_ONLY");
    if (only != NULL && strcmp(only, "iot_tls") == 0) {
        int r = run_iot_tls() == 0 ? 0 : 1;
        lwss_port_down();
        return r;
    }
    int rc = run_handshakes() == 0 && run_bulk() == 0 && run_iot_tls() == 0 &&
             run_rtt_heap() == 0 ? 0 : 1;
    lwss_port_down();
    return rc;
}
