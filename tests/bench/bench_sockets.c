/* bench_sockets: plain TCP through SOCKETS_* over lwIP/TAP, beside raw
 * lwip_send/lwip_recv on the same stack and beside Linux kernel TCP over a
 * veth pair, in the same run, against the same peer code (lwss-bench-peer,
 * started by scripts/bench.sh on both paths).
 *
 * Per path: upload and download throughput (one direction at a time, 16 KiB
 * writes, timed until the peer has everything) and the median round trip
 * of a 64-byte echo.  Paths are interleaved rep by rep so that machine load
 * drifts hit all of them alike; each metric is the median of REPS.
 * Also: heap bytes of an idle plain socket (created, and connected).
 *
 * Output: JSON lines (tests/bench/report.c); exit 1 when a path fails.
 *
 * Profiling (not part of make bench's figures): LWSS_BENCH_PROFILE=up|down
 * runs that bulk transfer PROFILE_REPS times on the SOCKETS_* path (the
 * kernel path with LWSS_BENCH_PROFILE_KERNEL set) and prints, to stderr,
 * MB/s, this process's CPU per MB (user + system) and its context switches
 * per MB; run it under perf to see where the time goes. */
#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
/* TCP_NODELAY: lwip/sockets.h defines it with the Linux value (1) */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lwip/sockets.h"

#include "iot_secure_sockets.h"
#include "lwss/port.h"
#include "tests/bench/bench_util.h"

#define BULK_BYTES (48u * 1024u * 1024u)
#define CHUNK 16384u
#define RTT_ITERS 2000
#define REPS 5
#define IDLE_SOCKETS 50
#define PROFILE_REPS 8

typedef enum { API_SOCKETS, API_LWIP, API_KERNEL, API_COUNT } api_kind;
static const char *const path_name[API_COUNT] = {"sockets_tap", "raw_lwip_tap", "kernel_veth"};

typedef struct {
    api_kind kind;
    Socket_t s;
    int fd;
} conn;

static const char *tap_peer, *veth_peer;
static uint16_t port;

static long io_send(conn *c, const void *b, size_t n)
{
    switch (c->kind) {
    case API_SOCKETS: return SOCKETS_Send(c->s, b, n, 0);
    case API_LWIP: return lwip_send(c->fd, b, n, 0);
    default: return send(c->fd, b, n, MSG_NOSIGNAL);
    }
}

static long io_recv(conn *c, void *b, size_t n)
{
    switch (c->kind) {
    case API_SOCKETS: return SOCKETS_Recv(c->s, b, n, 0);
    case API_LWIP: return lwip_recv(c->fd, b, n, 0);
    default: return recv(c->fd, b, n, 0);
    }
}

static int open_conn(conn *c, api_kind kind)
{
    c->kind = kind;
    const char *ip = kind == API_KERNEL ? veth_peer : tap_peer;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = inet_addr(ip);
    struct timeval tv = {.tv_sec = 10};
    if (kind == API_SOCKETS) {
        TickType_t t = 10000;
        c->s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
        SocketsSockaddr_t a = {.ucSocketDomain = SOCKETS_AF_INET, .usPort = sin.sin_port,
                               .ulAddress = sin.sin_addr.s_addr};
        if (c->s == SOCKETS_INVALID_SOCKET) {
            return -1;
        }
        SOCKETS_SetSockOpt(c->s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t));
        SOCKETS_SetSockOpt(c->s, 0, SOCKETS_SO_SNDTIMEO, &t, sizeof(t));
        if (SOCKETS_Connect(c->s, &a, sizeof(a)) != 0) {
            SOCKETS_Close(c->s);
            return -1;
        }
        return 0;
    }
    int one = 1;
    if (kind == API_LWIP) {
        c->fd = lwip_socket(AF_INET, SOCK_STREAM, 0);
        lwip_setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        lwip_setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (c->fd >= 0 && lwip_connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
            lwss_port_set_tcp_sndbuf(c->fd, LWSS_TCP_SNDBUF_DEFAULT) == LWSS_OK) {
            return 0; /* same send buffer as a SOCKETS_* connection: only the API differs */
        }
        lwip_close(c->fd);
        return -1;
    }
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (c->fd >= 0 && connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
        return 0;
    }
    close(c->fd);
    return -1;
}

static void close_conn(conn *c)
{
    if (c->kind == API_SOCKETS) {
        SOCKETS_Shutdown(c->s, SOCKETS_SHUT_RDWR);
        SOCKETS_Close(c->s);
    } else if (c->kind == API_LWIP) {
        lwip_close(c->fd);
    } else {
        close(c->fd);
    }
}

static int send_all(conn *c, const uint8_t *b, size_t n)
{
    while (n > 0) {
        long w = io_send(c, b, n);
        if (w <= 0) {
            return -1;
        }
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

/* MB/s of one direction ('U' upload, 'D' download); < 0 on failure. */
static double bulk(api_kind kind, char dir)
{
    static uint8_t buf[CHUNK];
    conn c;
    if (open_conn(&c, kind) != 0) {
        return -1;
    }
    memset(buf, 0x5a, sizeof(buf));
    double t0 = bench_now_s();
    int ok = command(&c, dir, BULK_BYTES) == 0;
    size_t done = 0;
    while (ok && done < BULK_BYTES) {
        size_t n = BULK_BYTES - done < CHUNK ? BULK_BYTES - done : CHUNK;
        long r = dir == 'U' ? io_send(&c, buf, n) : io_recv(&c, buf, n);
        ok = r > 0;
        done += ok ? (size_t)r : 0;
    }
    if (ok && dir == 'U') { /* timed until the peer has read everything */
        ok = io_recv(&c, buf, 1) == 1 && buf[0] == 'K';
    }
    double t = bench_now_s() - t0;
    close_conn(&c);
    return ok ? (double)BULK_BYTES / t / 1e6 : -1;
}

/* Median round trip of a 64-byte echo in microseconds; < 0 on failure. */
static double rtt_us(api_kind kind)
{
    static double samples[RTT_ITERS];
    conn c;
    if (open_conn(&c, kind) != 0) {
        return -1;
    }
    uint8_t out[64], in[64];
    memset(out, 0x3c, sizeof(out));
    int ok = command(&c, 'E', 0) == 0;
    for (int i = 0; i < RTT_ITERS && ok; i++) {
        double t0 = bench_now_s();
        ok = io_send(&c, out, sizeof(out)) == (long)sizeof(out);
        size_t got = 0;
        while (ok && got < sizeof(in)) {
            long r = io_recv(&c, in + got, sizeof(in) - got);
            ok = r > 0;
            got += ok ? (size_t)r : 0;
        }
        samples[i] = (bench_now_s() - t0) * 1e6;
    }
    close_conn(&c);
    if (!ok) {
        return -1;
    }
    qsort(samples, RTT_ITERS, sizeof(samples[0]), bench_cmp_double);
    return samples[RTT_ITERS / 2];
}

static void emit(const char *metric, double value, const char *unit, const char *baseline_of,
                 const char *goal)
{
    bench_emit("sockets", metric, value, unit, baseline_of, goal);
}

/* Heap bytes per plain socket that is only created, or connected and idle. */
static int idle_heap(void)
{
    static Socket_t s[IDLE_SOCKETS];
    conn warm;
    if (open_conn(&warm, API_SOCKETS) != 0) { /* one-time allocations first */
        return -1;
    }
    close_conn(&warm);
    usleep(100000);
    size_t before = mallinfo2().uordblks;
    int made = 0;
    for (; made < IDLE_SOCKETS; made++) {
        s[made] = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
        if (s[made] == SOCKETS_INVALID_SOCKET) {
            break;
        }
    }
    size_t created = mallinfo2().uordblks;
    int connected = 0;
    SocketsSockaddr_t a = {.ucSocketDomain = SOCKETS_AF_INET, .usPort = SOCKETS_htons(port),
                           .ulAddress = inet_addr(tap_peer)};
    for (int i = 0; i < made; i++) {
        connected += SOCKETS_Connect(s[i], &a, sizeof(a)) == 0;
    }
    usleep(100000); /* the handshakes' last ACKs settle */
    size_t after = mallinfo2().uordblks;
    for (int i = 0; i < made; i++) {
        SOCKETS_Close(s[i]);
    }
    if (made != IDLE_SOCKETS || connected != made) {
        fprintf(stderr, "bench_sockets: %d/%d idle sockets made, %d connected\n", made,
                IDLE_SOCKETS, connected);
        return -1;
    }
    emit("heap_per_created_socket", (double)(created - before) / made, "B", NULL, NULL);
    emit("heap_per_idle_connected_socket", (double)(after - before) / made, "B", NULL, NULL);
    return 0;
}

/* LWSS_BENCH_PROFILE: one direction on one path, with per-MB costs. */
static int profile_bulk(const char *what)
{
    char dir = strcmp(what, "up") == 0 ? 'U' : 'D';
    api_kind kind = getenv("LWSS_BENCH_PROFILE_KERNEL") != NULL ? API_KERNEL : API_SOCKETS;
    for (int r = 0; r < PROFILE_REPS; r++) {
        struct rusage a, b;
        getrusage(RUSAGE_SELF, &a);
        double mbps = bulk(kind, dir);
        getrusage(RUSAGE_SELF, &b);
        if (mbps < 0) {
            return 1;
        }
        double mb = BULK_BYTES / 1e6;
        double cpu = (double)(b.ru_utime.tv_sec - a.ru_utime.tv_sec) +
                     (double)(b.ru_utime.tv_usec - a.ru_utime.tv_usec) / 1e6;
        double sys = (double)(b.ru_stime.tv_sec - a.ru_stime.tv_sec) +
                     (double)(b.ru_stime.tv_usec - a.ru_stime.tv_usec) / 1e6;
        fprintf(stderr,
                "profile %s %s: %.0f MB/s, CPU %.2f ms/MB (user %.2f, system %.2f), "
                "%.1f voluntary + %.1f involuntary switches/MB\n",
                what, path_name[kind], mbps, (cpu + sys) * 1e3 / mb, cpu * 1e3 / mb,
                sys * 1e3 / mb, (double)(b.ru_nvcsw - a.ru_nvcsw) / mb,
                (double)(b.ru_nivcsw - a.ru_nivcsw) / mb);
    }
    return 0;
}

int main(void)
{
    tap_peer = getenv("LWSS_BENCH_TAP_PEER");
    veth_peer = getenv("LWSS_BENCH_VETH_PEER");
    const char *port_s = getenv("LWSS_BENCH_PORT");
    if (tap_peer == NULL || veth_peer == NULL || port_s == NULL) {
        fprintf(stderr, "bench_sockets: run by scripts/bench.sh inside the rig (make bench)\n");
        return 1;
    }
    port = (uint16_t)atoi(port_s);
    signal(SIGPIPE, SIG_IGN);
    if (SOCKETS_Init() != pdPASS) {
        fprintf(stderr, "bench_sockets: SOCKETS_Init failed\n");
        return 1;
    }
    if (getenv("LWSS_BENCH_PROFILE") != NULL) {
        return profile_bulk(getenv("LWSS_BENCH_PROFILE"));
    }
    double up[API_COUNT][REPS], down[API_COUNT][REPS], rtt[API_COUNT][REPS];
    for (int r = 0; r < REPS; r++) {
        for (int i = 0; i < API_COUNT; i++) {
            api_kind k = (api_kind)((i + r) % API_COUNT); /* rotate who goes first */
            up[k][r] = bulk(k, 'U');
            down[k][r] = bulk(k, 'D');
            rtt[k][r] = rtt_us(k);
            if (up[k][r] < 0 || down[k][r] < 0 || rtt[k][r] < 0) {
                fprintf(stderr, "bench_sockets: the %s path failed (rep %d)\n", path_name[k], r);
                return 1;
            }
        }
    }
    emit("up_sockets_tap", bench_median(up[API_SOCKETS], REPS), "MB/s", NULL, NULL);
    emit("up_raw_lwip_tap", bench_median(up[API_LWIP], REPS), "MB/s", "up_sockets_tap", ">=0.95");
    emit("up_kernel_veth", bench_median(up[API_KERNEL], REPS), "MB/s", "up_sockets_tap", NULL);
    emit("down_sockets_tap", bench_median(down[API_SOCKETS], REPS), "MB/s", NULL, NULL);
    emit("down_raw_lwip_tap", bench_median(down[API_LWIP], REPS), "MB/s", "down_sockets_tap", ">=0.95");
    emit("down_kernel_veth", bench_median(down[API_KERNEL], REPS), "MB/s", "down_sockets_tap", NULL);
    emit("rtt64_sockets_tap", bench_median(rtt[API_SOCKETS], REPS), "us", NULL, NULL);
    emit("rtt64_raw_lwip_tap", bench_median(rtt[API_LWIP], REPS), "us", "rtt64_sockets_tap", "<=1.05");
    emit("rtt64_kernel_veth", bench_median(rtt[API_KERNEL], REPS), "us", "rtt64_sockets_tap", NULL);
    return idle_heap() == 0 ? 0 : 1;
}
