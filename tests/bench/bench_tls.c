/*
 * bench_tls: TLS through lwss (SOCKETS_* over lwIP/TAP, token-backed client
 * key) beside the same TLS engine over Linux kernel TCP, same run, same
 * echo server code, same suites and credentials.  Runs inside the rig with
 * the echo server (make bench).
 *
 * Kernel baseline: a veth pair inside the rig namespace, one end moved into
 * a nested namespace (unshare -n) where a second lwss-echo-server (TLS on
 * 192.0.2.212:8883, /32 peer routes so nothing leaves the rig) listens; the
 * client is lwss's TLS layer driving a kernel socket (lwss_tls_connect_io
 * with the kernel transport).  Without root or `ip`, the kernel lines are
 * skipped (said on stderr).
 *
 * Metrics: full and resumed handshake (ms), bulk echo throughput (MB/s),
 * heap bytes per connected TLS socket, TLS sockets open at once (100).
 * Output: JSON lines (tests/bench/report.c).
 */
#include "iot_secure_sockets.h"
#include "lwss/port.h"
#include "lwss/pkcs11_std.h"
#include "lwss/tls.h"
#include "src/tls/tls_internal.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HANDSHAKES 20
#define BULK_BYTES (8u * 1024u * 1024u)
#define CHUNK 16000u
#define HEAP_SOCKETS 20
#define MANY_SOCKETS 100
#define VETH_PEER "192.0.2.212"
#define VETH_LOCAL "192.0.2.211"
#define SNI "echo.lwss.test"

static char rundir[200], build[128];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void emit(const char *metric, double value, const char *unit, const char *baseline_of,
                 const char *goal)
{
    printf("{\"bench\":\"tls\",\"metric\":\"%s\",\"value\":%.3f,\"unit\":\"%s\"", metric, value, unit);
    if (baseline_of != NULL) printf(",\"baseline\":\"%s\"", baseline_of);
    if (goal != NULL) printf(",\"goal\":\"%s\"", goal);
    printf("}\n");
    fflush(stdout);
}

/* ---- one connection, either path ---- */

typedef struct conn {
    Socket_t s;               /* lwss path */
    int kfd;                  /* kernel path */
    lwss_tls_conn *k;
} conn;

static int conn_open(conn *c, int kernel)
{
    memset(c, 0, sizeof(*c));
    c->kfd = -1;
    if (!kernel) {
        c->s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
        TickType_t t = 10000;
        SocketsSockaddr_t a = {sizeof(a), SOCKETS_AF_INET, SOCKETS_htons(8883), inet_addr("192.0.2.1")};
        if (c->s == SOCKETS_INVALID_SOCKET ||
            SOCKETS_SetSockOpt(c->s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0) != 0 ||
            SOCKETS_SetSockOpt(c->s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, SNI, strlen(SNI)) != 0 ||
            SOCKETS_SetSockOpt(c->s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t)) != 0 ||
            SOCKETS_Connect(c->s, &a, sizeof(a)) != 0) {
            if (c->s != SOCKETS_INVALID_SOCKET) SOCKETS_Close(c->s);
            return -1;
        }
        return 0;
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8883)};
    sa.sin_addr.s_addr = inet_addr(VETH_PEER);
    c->kfd = socket(AF_INET, SOCK_STREAM, 0);
    lwss_tls_options opts = {.sni = SNI};
    if (c->kfd < 0 || connect(c->kfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        lwss_tls_connect_io(&c->k, c->kfd, &lwss_tls_kernel_io, &opts, 10000, sa.sin_addr.s_addr,
                            sa.sin_port) != 0) {
        if (c->kfd >= 0) close(c->kfd);
        return -1;
    }
    return 0;
}

static void conn_close(conn *c)
{
    if (c->k != NULL) {
        lwss_tls_close(c->k);
        close(c->kfd);
    } else {
        SOCKETS_Close(c->s);
    }
}

static int32_t conn_send(conn *c, const void *b, size_t n)
{
    return c->k != NULL ? lwss_tls_send(c->k, b, n, 10000, 0) : SOCKETS_Send(c->s, b, n, 0);
}

static int32_t conn_recv(conn *c, void *b, size_t n)
{
    return c->k != NULL ? lwss_tls_recv(c->k, b, n, 10000, 0) : SOCKETS_Recv(c->s, b, n, 0);
}

/* ---- measurements ---- */

static double handshake_ms(int kernel, int resumed)
{
    conn c;
    double total = 0;
    int done = 0;
    if (resumed && conn_open(&c, kernel) == 0) { /* prime the session cache */
        conn_close(&c);
    }
    for (int i = 0; i < HANDSHAKES; i++) {
        if (!resumed) lwss_tls_session_cache_clear();
        double t0 = now_s();
        if (conn_open(&c, kernel) != 0) continue;
        total += now_s() - t0;
        done++;
        conn_close(&c);
    }
    return done > 0 ? total * 1000.0 / done : -1;
}

typedef struct bulk { conn *c; int failed; } bulk;

static void *bulk_sender(void *p)
{
    bulk *b = p;
    static unsigned char chunk[CHUNK];
    for (size_t sent = 0; sent < BULK_BYTES;) {
        size_t n = BULK_BYTES - sent < CHUNK ? BULK_BYTES - sent : CHUNK;
        int32_t w = conn_send(b->c, chunk, n);
        if (w <= 0) { b->failed = 1; break; }
        sent += (size_t)w;
    }
    return NULL;
}

static double throughput_mbps(int kernel)
{
    conn c;
    if (conn_open(&c, kernel) != 0) return -1;
    bulk b = {&c, 0};
    pthread_t t;
    unsigned char buf[CHUNK];
    double t0 = now_s();
    pthread_create(&t, NULL, bulk_sender, &b);
    size_t got = 0;
    while (got < BULK_BYTES) {
        int32_t n = conn_recv(&c, buf, sizeof(buf));
        if (n <= 0) break;
        got += (size_t)n;
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    conn_close(&c);
    return got == BULK_BYTES && !b.failed ? (double)BULK_BYTES / dt / 1e6 : -1;
}

static double heap_per_socket(void)
{
    conn c[HEAP_SOCKETS];
    conn warm;
    if (conn_open(&warm, 0) != 0) return -1; /* DRBG, token, cache: one-time */
    conn_close(&warm);
    malloc_trim(0);
    size_t before = mallinfo2().uordblks;
    int open = 0;
    for (; open < HEAP_SOCKETS && conn_open(&c[open], 0) == 0; open++) {
    }
    size_t after = mallinfo2().uordblks;
    for (int i = 0; i < open; i++) conn_close(&c[i]);
    return open == HEAP_SOCKETS ? (double)(after - before) / open : -1;
}

static int many_sockets(void)
{
    static conn c[MANY_SOCKETS];
    int open = 0, ok = 0;
    for (; open < MANY_SOCKETS && conn_open(&c[open], 0) == 0; open++) {
    }
    for (int i = 0; i < open; i++) {
        char in[8];
        size_t got = 0;
        if (conn_send(&c[i], "ping-123", 8) != 8) continue;
        while (got < 8) {
            int32_t n = conn_recv(&c[i], in + got, 8 - got);
            if (n <= 0) break;
            got += (size_t)n;
        }
        ok += got == 8 && memcmp(in, "ping-123", 8) == 0;
    }
    for (int i = 0; i < open; i++) conn_close(&c[i]);
    return ok;
}

/* ---- set-up: credentials, kernel peer ---- */

static int provision(void)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "rm -f %s/bench-tls.img && LWSS_NVM=%s/bench-tls.img %s/bin/lwss-demo --import "
             "--cert %s/certs/client-ec.crt --key %s/certs/client-ec.key --root-ca %s/certs/ca.crt",
             rundir, rundir, build, build, build, build);
    snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), " >&2");
    if (system(cmd) != 0) return -1;
    snprintf(cmd, sizeof(cmd), "%s/bench-tls.img", rundir);
    return setenv("LWSS_NVM", cmd, 1);
}

static pid_t kernel_peer_up(void)
{
    char cmd[8192];
    snprintf(cmd, sizeof(cmd),
             "set -e; unshare -n sleep 600 & h=$!; echo $h > %s/tls-veth.holder; sleep 0.2;"
             "ip link add lwt0 type veth peer name lwt1; ip link set lwt1 netns $h;"
             "ip addr add %s peer %s dev lwt0; ip link set lwt0 up;"
             "nsenter -t $h -n sh -c 'ip link set lo up; ip addr add %s peer %s dev lwt1; ip link set lwt1 up';"
             "nsenter -t $h -n %s/bin/lwss-echo-server --addr %s --port 7 --tls-port 8883 "
             "--cert %s/certs/server.crt --key %s/certs/server.key --ca %s/certs/ca.crt "
             "--ready-file %s/tls-veth.ready >%s/tls-veth.log 2>&1 & echo $! > %s/tls-veth.pid;"
             "for i in $(seq 50); do [ -e %s/tls-veth.ready ] && exit 0; sleep 0.1; done; exit 1",
             rundir, VETH_LOCAL, VETH_PEER, VETH_PEER, VETH_LOCAL, build, VETH_PEER, build, build,
             build, rundir, rundir, rundir, rundir);
    return system(cmd) == 0 ? 1 : -1;
}

static void kernel_peer_down(void)
{
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "for f in %s/tls-veth.pid %s/tls-veth.holder; do [ -f $f ] && kill $(cat $f) 2>/dev/null; done;"
             "sleep 0.2; ip link del lwt0 2>/dev/null; rm -f %s/tls-veth.*; true",
             rundir, rundir, rundir);
    if (system(cmd) != 0) fprintf(stderr, "bench_tls: veth clean-up failed\n");
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(rundir, sizeof(rundir), "%s", getenv("LWSS_RIG_RUNDIR") ? getenv("LWSS_RIG_RUNDIR") : "/tmp");
    snprintf(build, sizeof(build), "%s", getenv("LWSS_BUILD") ? getenv("LWSS_BUILD") : "build");
    if (getenv("LWSS_ECHO_TLS_PORT") == NULL || provision() != 0) {
        fprintf(stderr, "bench_tls: needs the rig with the TLS echo server and lwss-demo\n");
        return 1;
    }
    if (lwss_port_up(NULL) != LWSS_OK || SOCKETS_Init() != pdPASS) {
        fprintf(stderr, "bench_tls: lwIP did not come up: %s\n", lwss_last_error());
        return 1;
    }
    /* Like firmware, the application initialises the token once; otherwise
     * lwss initialises and finalises it around every handshake (about
     * +1.5 ms on a resumed handshake here). */
    if (C_Initialize(NULL) != CKR_OK) {
        fprintf(stderr, "bench_tls: the token did not initialise\n");
        return 1;
    }
    int kernel = kernel_peer_up() > 0;
    if (!kernel) fprintf(stderr, "bench_tls: no veth peer (needs root and ip): kernel lines skipped\n");
    double full = handshake_ms(0, 0), resumed = handshake_ms(0, 1);
    emit("full_handshake_tap", full, "ms", NULL, NULL);
    emit("resumed_handshake_tap", resumed, "ms", NULL, NULL);
    emit("full_handshake_tap_ref", full, "ms", "resumed_handshake_tap", "<=0.1");
    double tp = throughput_mbps(0);
    emit("throughput_tap", tp, "MB/s", NULL, NULL);
    if (kernel) {
        emit("full_handshake_kernel_veth", handshake_ms(1, 0), "ms", "full_handshake_tap", "<=1.15");
        emit("resumed_handshake_kernel_veth", handshake_ms(1, 1), "ms", "resumed_handshake_tap", NULL);
        emit("throughput_kernel_veth", throughput_mbps(1), "MB/s", "throughput_tap", ">=0.8");
    }
    emit("heap_per_tls_socket", heap_per_socket(), "B", NULL, NULL);
    emit("heap_goal_48KiB", 49152, "B", "heap_per_tls_socket", "<=1.0");
    emit("concurrent_tls_sockets", many_sockets(), "sockets", NULL, NULL);
    emit("concurrent_goal", MANY_SOCKETS, "sockets", "concurrent_tls_sockets", ">=1.0");
    if (kernel) kernel_peer_down();
    lwss_port_down();
    C_Finalize(NULL);
    return 0;
}
