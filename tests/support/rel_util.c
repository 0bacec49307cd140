/* Helpers for the reliability suites (see rel_util.h). */
#include "tests/support/rel_util.h"

#include "tests/support/lwss_test.h"

#include <lwip/priv/tcp_priv.h>
#include <lwip/tcpip.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t lwss_rel_hostile_start(uint16_t port, const char *mode, const char *upstream)
{
    char bin[512], ready[512], p[16];
    snprintf(bin, sizeof(bin), "%s/tests/lwss-hostile-peer", lwss_test_build_dir());
    snprintf(ready, sizeof(ready), "%s/hostile-%u.ready", lwss_test_env("LWSS_RIG_RUNDIR", "/tmp"),
             port);
    snprintf(p, sizeof(p), "%u", port);
    unlink(ready);
    pid_t parent = getpid();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        /* dies with the test process, even when a failed assertion skips the teardown */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) {
            _exit(1);
        }
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 0);
        dup2(devnull, 1);
        const char *peer = lwss_test_env("LWSS_RIG_PEER", "192.0.2.1");
        if (upstream != NULL) {
            execl(bin, bin, "--addr", peer, "--port", p, "--mode", mode, "--ready-file", ready,
                  "--upstream", upstream, (char *)NULL);
        } else {
            execl(bin, bin, "--addr", peer, "--port", p, "--mode", mode, "--ready-file", ready,
                  (char *)NULL);
        }
        _exit(127);
    }
    uint64_t deadline = lwss_test_now_ms() + 5000;
    while (access(ready, F_OK) != 0 && lwss_test_now_ms() < deadline &&
           waitpid(pid, NULL, WNOHANG) == 0) {
        usleep(10000);
    }
    if (access(ready, F_OK) != 0) {
        lwss_rel_stop(pid);
        ck_abort_msg("lwss-hostile-peer --mode %s did not become ready", mode);
    }
    unlink(ready);
    return pid;
}

void lwss_rel_stop(pid_t pid)
{
    if (pid <= 0) {
        return;
    }
    kill(pid, SIGTERM);
    for (int i = 0; i < 30 && waitpid(pid, NULL, WNOHANG) == 0; i++) {
        usleep(50000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

uint64_t lwss_rel_fnv(uint64_t h, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }
    return h;
}

static uint8_t pattern_byte(size_t i)
{
    return (uint8_t)(i * 131u + (i >> 10) * 7u + 3u);
}

typedef struct {
    Socket_t s;
    size_t len;
    uint64_t sum;
    size_t got;
    int32_t error;
    int timed_out;
    uint64_t longest_ms;
} echo_reader;

/* One SOCKETS_Send / SOCKETS_Recv, timed into *longest. */
static int32_t timed_io(int send, Socket_t s, void *buf, size_t len, uint64_t *longest)
{
    uint64_t t0 = lwss_test_now_ms();
    int32_t n = send ? SOCKETS_Send(s, buf, len, 0) : SOCKETS_Recv(s, buf, len, 0);
    uint64_t took = lwss_test_now_ms() - t0;
    *longest = took > *longest ? took : *longest;
    return n;
}

static void *read_back(void *arg)
{
    echo_reader *r = arg;
    uint8_t buf[4096];
    r->sum = LWSS_REL_FNV0;
    while (r->got < r->len) {
        size_t want = r->len - r->got < sizeof(buf) ? r->len - r->got : sizeof(buf);
        int32_t n = timed_io(0, r->s, buf, want, &r->longest_ms);
        if (n <= 0) {
            r->error = n;
            r->timed_out = n == 0;
            break;
        }
        r->sum = lwss_rel_fnv(r->sum, buf, (size_t)n);
        r->got += (size_t)n;
    }
    return NULL;
}

void lwss_rel_bulk_echo(Socket_t s, size_t len, void (*at_half)(void), lwss_rel_echo *out)
{
    memset(out, 0, sizeof(*out));
    uint64_t t0 = lwss_test_now_ms();
    echo_reader r = {.s = s, .len = len};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, read_back, &r), 0);
    uint8_t chunk[4096];
    uint64_t sum = LWSS_REL_FNV0;
    while (out->sent < len) {
        size_t n = len - out->sent < sizeof(chunk) ? len - out->sent : sizeof(chunk);
        for (size_t i = 0; i < n; i++) {
            chunk[i] = pattern_byte(out->sent + i);
        }
        size_t done = 0;
        while (done < n) {
            int32_t w = timed_io(1, s, chunk + done, n - done, &out->longest_call_ms);
            if (w <= 0) {
                out->error = w;
                out->timed_out = w == 0;
                break;
            }
            done += (size_t)w;
        }
        sum = lwss_rel_fnv(sum, chunk, done);
        if (at_half != NULL && out->sent < len / 2 && out->sent + done >= len / 2) {
            at_half();
        }
        out->sent += done;
        if (done < n) {
            break;
        }
    }
    if (out->sent < len) {
        /* the reader cannot get what was never sent: end it now */
        SOCKETS_Shutdown(s, SOCKETS_SHUT_RD);
    }
    pthread_join(th, NULL);
    out->received = r.got;
    if (out->error == 0) {
        out->error = r.error;
        out->timed_out = r.timed_out;
    }
    out->intact = out->sent == len && r.got == len && r.sum == sum;
    uint64_t want = LWSS_REL_FNV0;
    for (size_t i = 0; i < r.got; i++) {
        uint8_t b = pattern_byte(i);
        want = lwss_rel_fnv(want, &b, 1);
    }
    out->prefix_intact = r.got <= out->sent && want == r.sum;
    out->ms = lwss_test_now_ms() - t0;
    out->longest_call_ms = r.longest_ms > out->longest_call_ms ? r.longest_ms : out->longest_call_ms;
}

Socket_t lwss_rel_socket(int tls, uint32_t recv_ms, uint32_t send_ms)
{
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_ptr_ne(s, SOCKETS_INVALID_SOCKET);
    TickType_t r = recv_ms, w = send_ms;
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &r, sizeof(r)), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SNDTIMEO, &w, sizeof(w)), 0);
    if (tls) {
        static const char sni[] = "echo.lwss.test";
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), 0);
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, sni,
                                            sizeof(sni) - 1), 0);
    }
    return s;
}

int32_t lwss_rel_connect(Socket_t s, uint16_t port)
{
    SocketsSockaddr_t a = {.ucLength = sizeof(a), .ucSocketDomain = SOCKETS_AF_INET,
                           .usPort = SOCKETS_htons(port),
                           .ulAddress = inet_addr(lwss_test_env("LWSS_RIG_PEER", "192.0.2.1"))};
    return SOCKETS_Connect(s, &a, sizeof(a));
}

/* With MEM_LIBC_MALLOC, a pcb is one malloc chunk: its usable size plus the
 * chunk header is what mallinfo2's uordblks (summed over every arena)
 * counts for it. */
size_t lwss_rel_time_wait_bytes(int *count)
{
    size_t bytes = 0;
    int n = 0;
    LOCK_TCPIP_CORE();
    for (struct tcp_pcb *p = tcp_tw_pcbs; p != NULL; p = p->next) {
        bytes += malloc_usable_size(p) + sizeof(size_t);
        n++;
    }
    UNLOCK_TCPIP_CORE();
    if (count != NULL) {
        *count = n;
    }
    return bytes;
}

int lwss_rel_active_pcbs(void)
{
    int n = 0;
    LOCK_TCPIP_CORE();
    for (struct tcp_pcb *p = tcp_active_pcbs; p != NULL; p = p->next) {
        n++;
    }
    UNLOCK_TCPIP_CORE();
    return n;
}

size_t lwss_rel_heap_settled(void)
{
    uint64_t deadline = lwss_test_now_ms() + 5000;
    while (lwss_rel_active_pcbs() > 0 && lwss_test_now_ms() < deadline) {
        usleep(20000);
    }
    ck_assert_msg(lwss_rel_active_pcbs() == 0, "%d lwIP connections still open",
                  lwss_rel_active_pcbs());
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return 0;
#else
    struct mallinfo2 mi = mallinfo2();
    size_t tw = lwss_rel_time_wait_bytes(NULL);
    return mi.uordblks - tw;
#endif
}

void lwss_rel_heap_prepare(void)
{
    mallopt(M_ARENA_MAX, 1);
}

int lwss_rel_heap_exact(void)
{
    const char *t = getenv("GLIBC_TUNABLES");
    /* arena 0: malloc is not glibc's (valgrind replaces it, and checks leaks itself) */
    return t != NULL && strstr(t, LWSS_REL_TUNABLES) != NULL && mallinfo2().arena > 0;
}

void lwss_rel_heap_assert(size_t before, size_t slack, const char *what)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    (void)before;
    (void)slack;
    (void)what;
#else
    if (!lwss_rel_heap_exact()) {
        fprintf(stderr, "%s: heap not compared: needs glibc malloc with GLIBC_TUNABLES=%s "
                        "(make test sets it)\n", what, LWSS_REL_TUNABLES);
        return;
    }
    size_t now = lwss_rel_heap_settled();
    fprintf(stderr, "%s: heap %zu -> %zu bytes (TIME-WAIT pcbs excluded, slack %zu)\n", what,
            before, now, slack);
    ck_assert_msg(now <= before + slack, "%s: heap grew from %zu to %zu bytes (slack %zu)", what,
                  before, now, slack);
#endif
}
