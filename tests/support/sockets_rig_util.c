/* Helpers shared by the Secure Sockets rig suites. */
#include "tests/support/sockets_rig_util.h"

#include "tests/support/lwss_test.h"
#include "lwss/port.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

/* glibc counts chunks held in its per-thread cache (tcache) as in use, so a
 * malloc/free pair inside a test can read as growth, depending on what the
 * parent process left in the cache before forking (seen: +48 bytes in
 * whichever test ran last in this suite).  Filling every small cache bin
 * first makes such pairs neutral; the price is that a few small leaks hide
 * from mallinfo, which is why these suites also run under LeakSanitizer
 * (SAN=1) and valgrind (VALGRIND_SUITES).  `make test` runs with
 * GLIBC_TUNABLES=glibc.malloc.tcache_count=0, where this fills nothing and
 * hides nothing; it matters when the runner is started by hand. */
static void fill_malloc_cache(void)
{
    enum { PER_BIN = 7, MAX_SMALL = 1040 };
    void *held[PER_BIN];
    for (size_t size = 8; size <= MAX_SMALL; size += 16) {
        for (int i = 0; i < PER_BIN; i++) {
            held[i] = malloc(size);
        }
        for (int i = 0; i < PER_BIN; i++) {
            free(held[i]);
        }
    }
}

void lwss_st_unit_setup(void)
{
    ck_assert(1); /* Check's first assertion allocates its message buffer */
    fill_malloc_cache();
    lwss_leak_setup();
}

void lwss_st_setup(void)
{
    ck_assert_msg(lwss_test_in_rig(), "rig suites must run inside scripts/rig.sh");
    ck_assert_msg(getenv("LWSS_ECHO_PORT") != NULL, "the rig was started without --echo");
    lwss_leak_setup_fds();
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
}

void lwss_st_setup_tls_primed(void)
{
    ck_assert_msg(lwss_test_in_rig(), "rig suites must run inside scripts/rig.sh");
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_ptr_ne(s, SOCKETS_INVALID_SOCKET);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), 0);
    SocketsSockaddr_t a = lwss_st_echo_addr(); /* plain port: the handshake fails fast */
    ck_assert_int_ne(SOCKETS_Connect(s, &a, sizeof(a)), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    lwss_leak_setup_fds();
}

void lwss_st_teardown(void)
{
    if (lwss_port_is_up()) {
        lwss_port_down();
    }
    lwss_leak_teardown_fds();
}

SocketsSockaddr_t lwss_st_echo_addr(void)
{
    SocketsSockaddr_t a = {0};
    a.ucLength = sizeof(a);
    a.ucSocketDomain = SOCKETS_AF_INET;
    a.usPort = SOCKETS_htons((uint16_t)atoi(lwss_test_env("LWSS_ECHO_PORT", "7")));
    a.ulAddress = inet_addr(lwss_test_env("LWSS_RIG_PEER", "192.0.2.1"));
    return a;
}

Socket_t lwss_st_connect_echo(uint32_t recv_ms, uint32_t send_ms)
{
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_ptr_ne(s, SOCKETS_INVALID_SOCKET);
    TickType_t r = recv_ms, w = send_ms;
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &r, sizeof(r)), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SNDTIMEO, &w, sizeof(w)), 0);
    SocketsSockaddr_t a = lwss_st_echo_addr();
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), SOCKETS_ERROR_NONE);
    return s;
}

void lwss_st_send_all(Socket_t s, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        int32_t n = SOCKETS_Send(s, (const uint8_t *)buf + done, len - done, 0);
        ck_assert_msg(n > 0, "send returned %d after %zu of %zu bytes", n, done, len);
        done += (size_t)n;
    }
}

void lwss_st_recv_exact(Socket_t s, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        int32_t n = SOCKETS_Recv(s, (uint8_t *)buf + done, len - done, 0);
        ck_assert_msg(n > 0, "recv returned %d after %zu of %zu bytes", n, done, len);
        done += (size_t)n;
    }
}

void lwss_st_pattern(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)((i * 31u + seed * 7u + (i >> 8)) & 0xffu);
    }
}

static atomic_int wakeup_calls;
static atomic_int wakeup_wrong;
static Socket_t wakeup_expect;

void lwss_st_on_wakeup(Socket_t s)
{
    if (s != wakeup_expect) {
        atomic_store(&wakeup_wrong, 1);
    }
    atomic_fetch_add(&wakeup_calls, 1);
}

void lwss_st_wakeups_reset(Socket_t expect)
{
    wakeup_expect = expect;
    atomic_store(&wakeup_calls, 0);
    atomic_store(&wakeup_wrong, 0);
}

int lwss_st_wakeups(void)
{
    return atomic_load(&wakeup_calls);
}

int lwss_st_wait_wakeups(int n, unsigned ms)
{
    uint64_t deadline = lwss_test_now_ms() + ms;
    while (atomic_load(&wakeup_calls) < n && lwss_test_now_ms() < deadline) {
        usleep(2000);
    }
    return atomic_load(&wakeup_calls);
}

int lwss_st_wakeup_wrong_handle(void)
{
    return atomic_load(&wakeup_wrong);
}

void *lwss_st_recv_thread(void *arg)
{
    lwss_st_blocked_recv *br = arg;
    char b[16];
    atomic_store(&br->tid, (int)gettid());
    br->result = SOCKETS_Recv(br->s, b, sizeof(b), 0);
    br->returned_at = lwss_test_now_ms();
    return NULL;
}

void lwss_st_wait_recv_blocked(lwss_st_blocked_recv *br)
{
    uint64_t deadline = lwss_test_now_ms() + 2000;
    while (atomic_load(&br->tid) == 0 && lwss_test_now_ms() < deadline) {
        usleep(1000);
    }
    ck_assert_msg(lwss_test_wait_blocked(atomic_load(&br->tid), 2000),
                  "the receiving thread did not block within 2 s");
}

void lwss_st_check_close_wakes_recv(Socket_t s)
{
    lwss_st_blocked_recv br = {.s = s};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, lwss_st_recv_thread, &br), 0);
    lwss_st_wait_recv_blocked(&br);
    uint64_t closed_at = lwss_test_now_ms();
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(br.result, SOCKETS_ECLOSED);
    ck_assert_uint_lt(br.returned_at - closed_at, 500);
}
