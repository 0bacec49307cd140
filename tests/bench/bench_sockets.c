/* bench_sockets: plain TCP throughput and 64-byte echo round trip through
 * SOCKETS_*, beside raw lwip_send/lwip_recv on the same stack and run, and
 * beside Linux kernel sockets over a veth pair.  Runs inside the rig with
 * the echo server (make bench).
 *
 * Kernel baseline: the bench makes a veth pair inside the rig namespace,
 * moves one end into a second, nested namespace (unshare -n) and starts a
 * second lwss-echo-server there (192.0.2.202, /32 peer routes, so nothing
 * leaves the rig); a kernel client in the rig namespace then does the same
 * work over the veth.  Without root or `ip`, the kernel lines are skipped
 * (said on stderr).
 *
 * Output: JSON lines, one per metric (see tests/bench/report.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lwip/sockets.h"

#include "iot_secure_sockets.h"

#define THROUGHPUT_BYTES (64u * 1024u * 1024u)
#define CHUNK 16384u
#define RTT_ITERS 2000
#define RTT_BLOCK 50
#define REPS 5
#define VETH_SERVER "192.0.2.202"

typedef enum { API_SOCKETS, API_LWIP, API_KERNEL } api_kind;

typedef struct {
    api_kind kind;
    Socket_t s;
    int fd;
} conn;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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

static int open_conn(conn *c, api_kind kind, const char *ip, uint16_t port)
{
    c->kind = kind;
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = inet_addr(ip);
    struct timeval tv = {.tv_sec = 10};
    if (kind == API_SOCKETS) {
        c->s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
        SocketsSockaddr_t a = {.usPort = sin.sin_port, .ulAddress = sin.sin_addr.s_addr};
        return c->s != SOCKETS_INVALID_SOCKET && SOCKETS_Connect(c->s, &a, sizeof(a)) == 0 ? 0 : -1;
    }
    if (kind == API_LWIP) {
        c->fd = lwip_socket(AF_INET, SOCK_STREAM, 0);
        lwip_setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        return c->fd >= 0 && lwip_connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ? 0 : -1;
    }
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return c->fd >= 0 && connect(c->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 ? 0 : -1;
}

static void close_conn(conn *c)
{
    if (c->kind == API_SOCKETS) {
        SOCKETS_Close(c->s);
    } else if (c->kind == API_LWIP) {
        lwip_close(c->fd);
    } else {
        close(c->fd);
    }
}

static void *sender(void *arg)
{
    conn *c = arg;
    static uint8_t buf[CHUNK];
    memset(buf, 0x5a, sizeof(buf));
    size_t sent = 0;
    while (sent < THROUGHPUT_BYTES) {
        size_t n = THROUGHPUT_BYTES - sent < CHUNK ? THROUGHPUT_BYTES - sent : CHUNK;
        long r = io_send(c, buf, n);
        if (r <= 0) {
            return (void *)1;
        }
        sent += (size_t)r;
    }
    return NULL;
}

/* MB/s of echoed payload (sent and received concurrently); < 0 on failure. */
static double throughput(api_kind kind, const char *ip, uint16_t port)
{
    conn c;
    if (open_conn(&c, kind, ip, port) != 0) {
        return -1;
    }
    static uint8_t buf[CHUNK];
    pthread_t t;
    double t0 = now_s();
    pthread_create(&t, NULL, sender, &c);
    size_t got = 0;
    while (got < THROUGHPUT_BYTES) {
        long r = io_recv(&c, buf, sizeof(buf));
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    double t1 = now_s();
    void *rc;
    pthread_join(t, &rc);
    close_conn(&c);
    return (got == THROUGHPUT_BYTES && rc == NULL) ? (double)got / (t1 - t0) / 1e6 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One 64-byte echo; its round trip in microseconds, or < 0 on failure. */
static double one_rtt(conn *c)
{
    uint8_t out[64], in[64];
    memset(out, 0x3c, sizeof(out));
    double t0 = now_s();
    if (io_send(c, out, sizeof(out)) != (long)sizeof(out)) {
        return -1;
    }
    size_t got = 0;
    while (got < sizeof(in)) {
        long r = io_recv(c, in + got, sizeof(in) - got);
        if (r <= 0) {
            return -1;
        }
        got += (size_t)r;
    }
    return (now_s() - t0) * 1e6;
}

/* Median 64-byte echo round trip (us) for each of @n kinds, measured in
 * alternating blocks on connections open side by side, so that the load of
 * a shared machine falls on all of them alike.  out[i] < 0 on failure. */
static void rtt_us(const api_kind *kinds, int n, const char *ip, uint16_t port, double *out)
{
    static double samples[3][RTT_ITERS];
    conn c[3];
    int open_ok = 1;
    for (int k = 0; k < n; k++) {
        open_ok &= open_conn(&c[k], kinds[k], ip, port) == 0;
        out[k] = -1;
    }
    int ok = open_ok;
    for (int block = 0; ok && block < RTT_ITERS / RTT_BLOCK; block++) {
        for (int k = 0; ok && k < n; k++) {
            int who = (k + block) % n; /* rotate who goes first */
            for (int i = 0; ok && i < RTT_BLOCK; i++) {
                double v = one_rtt(&c[who]);
                ok = v >= 0;
                samples[who][block * RTT_BLOCK + i] = v;
            }
        }
    }
    for (int k = 0; k < n; k++) {
        close_conn(&c[k]);
        if (ok) {
            qsort(samples[k], RTT_ITERS, sizeof(samples[k][0]), cmp_double);
            out[k] = samples[k][RTT_ITERS / 2];
        }
    }
}

static double median(double v[REPS])
{
    qsort(v, REPS, sizeof(v[0]), cmp_double);
    return v[REPS / 2];
}

static void emit(const char *metric, double value, const char *unit, const char *baseline_of,
                 const char *goal)
{
    printf("{\"bench\":\"sockets\",\"metric\":\"%s\",\"value\":%.3f,\"unit\":\"%s\"", metric, value,
           unit);
    if (baseline_of != NULL) {
        printf(",\"baseline\":\"%s\"", baseline_of);
    }
    if (goal != NULL) {
        printf(",\"goal\":\"%s\"", goal);
    }
    printf("}\n");
    fflush(stdout);
}

/* Kernel baseline set-up: see the file comment.  Returns the echo server's pid or -1. */
static pid_t start_veth_peer(const char *bin, const char *rundir)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd),
             "set -e; unshare -n sleep 600 & h=$!; echo $h > %s/veth.holder; sleep 0.2;"
             "ip link add lwb0 type veth peer name lwb1; ip link set lwb1 netns $h;"
             "ip addr add 192.0.2.201 peer %s dev lwb0; ip link set lwb0 up;"
             "nsenter -t $h -n sh -c 'ip link set lo up; ip addr add %s peer 192.0.2.201 dev lwb1;"
             " ip link set lwb1 up'",
             rundir, VETH_SERVER, VETH_SERVER);
    if (system(cmd) != 0) {
        return -1;
    }
    char holder[32] = "";
    snprintf(cmd, sizeof(cmd), "%s/veth.holder", rundir);
    FILE *f = fopen(cmd, "r");
    if (f == NULL || fgets(holder, sizeof(holder), f) == NULL) {
        if (f != NULL) {
            fclose(f);
        }
        return -1;
    }
    fclose(f);
    holder[strcspn(holder, "\n")] = '\0';
    pid_t pid = fork();
    if (pid == 0) {
        char ready[512];
        snprintf(ready, sizeof(ready), "%s/veth-echo.ready", rundir);
        execlp("nsenter", "nsenter", "-t", holder, "-n", bin, "--addr", VETH_SERVER, "--port", "7",
               "--ready-file", ready, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 50; i++) {
        snprintf(cmd, sizeof(cmd), "%s/veth-echo.ready", rundir);
        if (access(cmd, F_OK) == 0) {
            return pid;
        }
        usleep(100000);
    }
    return pid;
}

static void stop_veth_peer(pid_t pid, const char *rundir)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "ip link del lwb0 2>/dev/null; [ -f %s/veth.holder ] && kill $(cat %s/veth.holder) "
             "2>/dev/null; rm -f %s/veth.holder %s/veth-echo.ready; true",
             rundir, rundir, rundir, rundir);
    if (system(cmd) != 0) {
        fprintf(stderr, "bench_sockets: veth clean-up failed\n");
    }
}

static int bench_lwip(const char *peer, uint16_t port)
{
    double tp_s[REPS], tp_l[REPS], rt_s[REPS], rt_l[REPS];
    static const api_kind both[2] = {API_SOCKETS, API_LWIP};
    for (int r = 0; r < REPS; r++) { /* interleaved: drift hits both sides alike */
        int first = r % 2;
        double tp[2], rt[2];
        tp[first] = throughput(both[first], peer, port);
        tp[!first] = throughput(both[!first], peer, port);
        rtt_us(both, 2, peer, port, rt);
        tp_s[r] = tp[0];
        tp_l[r] = tp[1];
        rt_s[r] = rt[0];
        rt_l[r] = rt[1];
        if (tp_s[r] < 0 || tp_l[r] < 0 || rt_s[r] < 0 || rt_l[r] < 0) {
            fprintf(stderr, "bench_sockets: an lwIP run failed\n");
            return 1;
        }
    }
    emit("throughput_sockets", median(tp_s), "MB/s", NULL, NULL);
    emit("throughput_raw_lwip", median(tp_l), "MB/s", "throughput_sockets", ">=0.95");
    emit("rtt64_sockets", median(rt_s), "us", NULL, NULL);
    emit("rtt64_raw_lwip", median(rt_l), "us", "rtt64_sockets", "<=1.05");
    return 0;
}

static void bench_kernel(const char *rundir)
{
    char bin[512];
    snprintf(bin, sizeof(bin), "%s/bin/lwss-echo-server", getenv("LWSS_BUILD") ? getenv("LWSS_BUILD") : "build");
    pid_t pid = start_veth_peer(bin, rundir);
    if (pid < 0) {
        fprintf(stderr, "bench_sockets: no veth pair (needs root and iproute2): kernel baseline skipped\n");
        stop_veth_peer(pid, rundir);
        return;
    }
    double tp[REPS], rt[REPS];
    int ok = 1;
    for (int r = 0; r < REPS && ok; r++) {
        tp[r] = throughput(API_KERNEL, VETH_SERVER, 7);
        static const api_kind kernel[1] = {API_KERNEL};
        rtt_us(kernel, 1, VETH_SERVER, 7, &rt[r]);
        ok = tp[r] >= 0 && rt[r] >= 0;
    }
    if (ok) {
        emit("throughput_kernel_veth", median(tp), "MB/s", "throughput_sockets", NULL);
        emit("rtt64_kernel_veth", median(rt), "us", "rtt64_sockets", NULL);
    } else {
        fprintf(stderr, "bench_sockets: kernel baseline over veth failed\n");
    }
    stop_veth_peer(pid, rundir);
}

int main(void)
{
    const char *peer = getenv("LWSS_RIG_PEER");
    const char *port_s = getenv("LWSS_ECHO_PORT");
    const char *rundir = getenv("LWSS_RIG_RUNDIR");
    if (peer == NULL || port_s == NULL || rundir == NULL) {
        fprintf(stderr, "bench_sockets: run inside scripts/rig.sh --echo (make bench)\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (SOCKETS_Init() != pdPASS) {
        fprintf(stderr, "bench_sockets: SOCKETS_Init failed\n");
        return 1;
    }
    int rc = bench_lwip(peer, (uint16_t)atoi(port_s));
    bench_kernel(rundir);
    return rc;
}
