/* bench_idle: what an idle device costs (issue 19 item 3), against
 * lwss-bench-peer (scripts/bench.sh) over the TAP, and the kernel path for
 * the wake-up comparison.
 *
 * - CPU (getrusage utime + stime, every thread of the process) while the
 *   main thread is blocked in SOCKETS_Recv for 10 s with nothing arriving,
 *   and while a connection is open and nobody waits (10 s asleep);
 *   each compared with the budget of 0.2 % of a core (20 ms per 10 s):
 *   goal ratio <= 1.
 * - Wake-up: a thread blocked in Recv for 1 s, then 64 bytes sent and
 *   echoed: time from the send until the blocked Recv has them (median),
 *   beside the same on kernel TCP over the veth.
 *
 * Output: JSON lines (tests/bench/report.c); exit 1 when a path fails. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "iot_secure_sockets.h"
#include "tests/bench/bench_util.h"

#define IDLE_MS 10000
#define BUDGET_MS_PER_10S 20.0 /* 0.2 % of one core */
#define WAKE_IDLE_MS 1000
#define WAKE_SAMPLES 5

static const char *tap_peer, *veth_peer;
static uint16_t port;

static void emit(const char *metric, double value, const char *unit, const char *baseline_of,
                 const char *goal)
{
    bench_emit("idle", metric, value, unit, baseline_of, goal);
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A SOCKETS_* connection to the peer in echo mode, receive timeout @p ms. */
static Socket_t open_echo(uint32_t recv_ms)
{
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    if (s == SOCKETS_INVALID_SOCKET) {
        return s;
    }
    TickType_t rt = recv_ms, st = 10000;
    SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &rt, sizeof(rt));
    SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SNDTIMEO, &st, sizeof(st));
    SocketsSockaddr_t a = {.ucSocketDomain = SOCKETS_AF_INET, .usPort = SOCKETS_htons(port),
                           .ulAddress = inet_addr(tap_peer)};
    uint8_t cmd[9];
    bench_peer_command(cmd, 'E', 0);
    if (SOCKETS_Connect(s, &a, sizeof(a)) != 0 ||
        SOCKETS_Send(s, cmd, sizeof(cmd), 0) != (int32_t)sizeof(cmd)) {
        SOCKETS_Close(s);
        return SOCKETS_INVALID_SOCKET;
    }
    return s;
}

static int open_kernel_echo(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = inet_addr(veth_peer);
    struct timeval tv = {.tv_sec = 10};
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    uint8_t cmd[9];
    bench_peer_command(cmd, 'E', 0);
    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        send(fd, cmd, sizeof(cmd), MSG_NOSIGNAL) != (ssize_t)sizeof(cmd)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* CPU ms per 10 s of the whole process: blocked in Recv (@p blocked) or
 * with the connection open and nobody waiting.  < 0 on failure. */
static double idle_cpu_ms(int blocked)
{
    Socket_t s = open_echo(IDLE_MS);
    if (s == SOCKETS_INVALID_SOCKET) {
        return -1;
    }
    sleep_ms(500); /* the handshake's and the command's ACKs settle */
    uint8_t buf[64];
    double c0 = cpu_s(), t0 = bench_now_s();
    int32_t r = 0;
    if (blocked) {
        r = SOCKETS_Recv(s, buf, sizeof(buf), 0); /* nothing comes: times out */
    } else {
        sleep_ms(IDLE_MS);
    }
    double wall = bench_now_s() - t0, cpu = cpu_s() - c0;
    SOCKETS_Close(s);
    if ((r != 0 && r != SOCKETS_EWOULDBLOCK) || wall < IDLE_MS / 1000.0 * 0.99) {
        fprintf(stderr, "bench_idle: blocked Recv returned %d after %.3f s\n", (int)r, wall);
        return -1;
    }
    return cpu * 1e3 * (IDLE_MS / 1000.0) / wall;
}

typedef struct {
    int kernel;
    Socket_t s;
    int fd;
    double done_s; /* when the blocked receive had all 64 bytes; < 0 failed */
} waker;

static void *wake_receiver(void *arg)
{
    waker *w = arg;
    uint8_t in[64];
    size_t got = 0;
    while (got < sizeof(in)) {
        long r = w->kernel ? (long)recv(w->fd, in + got, sizeof(in) - got, 0)
                           : (long)SOCKETS_Recv(w->s, in + got, sizeof(in) - got, 0);
        if (r <= 0) {
            w->done_s = -1;
            return NULL;
        }
        got += (size_t)r;
    }
    w->done_s = bench_now_s();
    return NULL;
}

/* Median µs from sending 64 bytes to the blocked receiver having the echo,
 * after WAKE_IDLE_MS of nothing.  < 0 on failure. */
static double wake_us(int kernel)
{
    double samples[WAKE_SAMPLES];
    waker w = {.kernel = kernel, .fd = -1, .s = SOCKETS_INVALID_SOCKET};
    if (kernel) {
        w.fd = open_kernel_echo();
    } else {
        w.s = open_echo(10000);
    }
    if (kernel ? w.fd < 0 : w.s == SOCKETS_INVALID_SOCKET) {
        return -1;
    }
    uint8_t out[64];
    memset(out, 0x3c, sizeof(out));
    int ok = 1;
    for (int i = 0; i < WAKE_SAMPLES && ok; i++) {
        pthread_t t;
        w.done_s = 0;
        ok = pthread_create(&t, NULL, wake_receiver, &w) == 0;
        if (!ok) {
            break;
        }
        sleep_ms(WAKE_IDLE_MS); /* the receiver blocks meanwhile */
        double t0 = bench_now_s();
        long n = kernel ? (long)send(w.fd, out, sizeof(out), MSG_NOSIGNAL)
                        : (long)SOCKETS_Send(w.s, out, sizeof(out), 0);
        pthread_join(t, NULL);
        ok = n == (long)sizeof(out) && w.done_s > 0;
        samples[i] = (w.done_s - t0) * 1e6;
    }
    if (kernel) {
        close(w.fd);
    } else {
        SOCKETS_Close(w.s);
    }
    return ok ? bench_median(samples, WAKE_SAMPLES) : -1;
}

int main(void)
{
    tap_peer = getenv("LWSS_BENCH_TAP_PEER");
    veth_peer = getenv("LWSS_BENCH_VETH_PEER");
    const char *port_s = getenv("LWSS_BENCH_PORT");
    if (tap_peer == NULL || veth_peer == NULL || port_s == NULL) {
        fprintf(stderr, "bench_idle: run by scripts/bench.sh inside the rig (make bench)\n");
        return 1;
    }
    port = (uint16_t)atoi(port_s);
    signal(SIGPIPE, SIG_IGN);
    if (SOCKETS_Init() != pdPASS) {
        fprintf(stderr, "bench_idle: SOCKETS_Init failed\n");
        return 1;
    }
    double blocked = idle_cpu_ms(1), idle = idle_cpu_ms(0);
    double wake_tap = wake_us(0), wake_kernel = wake_us(1);
    if (blocked < 0 || idle < 0 || wake_tap < 0 || wake_kernel < 0) {
        fprintf(stderr, "bench_idle: a measurement failed\n");
        return 1;
    }
    emit("cpu_ms_per_10s_blocked_in_recv", blocked, "ms", NULL, NULL);
    emit("budget_0.2pct_core_blocked", BUDGET_MS_PER_10S, "ms", "cpu_ms_per_10s_blocked_in_recv",
         "<=1");
    emit("cpu_ms_per_10s_idle_connected", idle, "ms", NULL, NULL);
    emit("budget_0.2pct_core_idle", BUDGET_MS_PER_10S, "ms", "cpu_ms_per_10s_idle_connected",
         "<=1");
    emit("wake_rtt64_after_1s_idle_sockets_tap", wake_tap, "us", NULL, NULL);
    emit("wake_rtt64_after_1s_idle_kernel_veth", wake_kernel, "us",
         "wake_rtt64_after_1s_idle_sockets_tap", NULL);
    return 0;
}
