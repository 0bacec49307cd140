/*
 * The OS seam (lwss/os.h, issue 16 item 3) without a kernel: a fake wait
 * hook records every sleep.  The contract checked for each blocking call
 * (SOCKETS_Recv, Send, Connect, the TLS handshake and record waits,
 * close_notify, DNS) with the hook set:
 *   - it waits only through the hook: the test build counts every blocking
 *     wait lwss makes outside the hook while the hook applies
 *     (lwss_os_test_blocking_waits) and that count must not move, and no
 *     single hook call is asked for more than one slice;
 *   - lwss's own threads (lwss-*, lwip-*) never call the hook;
 *   - timeouts still hold: not early (AFR: a timeout of T returns no
 *     sooner than T), and bounded late.
 */
#include "tests/support/lwss_test.h"
#include "tests/support/sockets_rig_util.h"
#include "tests/support/tls_rig_util.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iot_secure_sockets.h"
#include "lwss/dns.h"
#include "lwss/os.h"
#include "lwss/port.h"
#include "lwss/sockets.h"
#include "src/core/core.h"

/* Late bound on a loaded 2-core machine (the hook sleeps 1 ms slices). */
#define LATE_MS 150u

static atomic_uint hook_calls, hook_foreign, hook_over_slice;
static atomic_int hook_tag; /* passed as ctx: the hook must get it back */

/* The fake hook: sleeps like vTaskDelay would, and records who asked. */
static void fake_sleep(uint32_t ms, void *ctx)
{
    atomic_fetch_add(&hook_calls, 1);
    static const char *const own[] = {"lwss-tap-rx", "lwss-tap-tx", "lwss-impair", "lwss-events",
                                      "lwip-tcpip"};
    char name[16] = "";
    pthread_getname_np(pthread_self(), name, sizeof(name));
    int foreign = ctx != &hook_tag;
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++) {
        foreign |= strcmp(name, own[i]) == 0;
    }
    if (foreign) {
        atomic_fetch_add(&hook_foreign, 1);
    }
    if (ms == 0 || ms > LWSS_OS_WAIT_SLICE_MS) {
        atomic_fetch_add(&hook_over_slice, 1);
    }
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct {
    unsigned calls, blocking;
} hook_mark;

static hook_mark mark(void)
{
    return (hook_mark){atomic_load(&hook_calls), lwss_os_test_blocking_waits()};
}

/* Since @p m: some waiting went through the hook, none around it. */
static void assert_waited_through_hook(hook_mark m, const char *what)
{
    ck_assert_msg(atomic_load(&hook_calls) > m.calls, "%s: the hook was never called", what);
    ck_assert_msg(lwss_os_test_blocking_waits() == m.blocking, "%s: %u blocking waits outside the hook",
                  what, lwss_os_test_blocking_waits() - m.blocking);
}

static void assert_hook_clean(void)
{
    ck_assert_uint_eq(atomic_load(&hook_foreign), 0);
    ck_assert_uint_eq(atomic_load(&hook_over_slice), 0);
}

static void hook_on(void)
{
    atomic_store(&hook_calls, 0);
    atomic_store(&hook_foreign, 0);
    atomic_store(&hook_over_slice, 0);
    lwss_os_set_wait_hook(fake_sleep, &hook_tag);
    ck_assert_int_eq(lwss_os_wait_hooked(), 1);
}

static void plain_setup(void)
{
    lwss_st_setup();
    hook_on();
}

static void plain_teardown(void)
{
    lwss_os_set_wait_hook(NULL, NULL);
    lwss_st_teardown();
}

static void check_elapsed(uint64_t took, uint32_t t_ms, const char *what)
{
    ck_assert_msg(took >= t_ms && took <= t_ms + LATE_MS, "%s: T = %u ms took %llu ms", what,
                  (unsigned)t_ms, (unsigned long long)took);
}

/* AFR iot_secure_sockets.h, SOCKETS_Recv: "If the timeout is hit, 0 is
 * returned" (not before SOCKETS_SO_RCVTIMEO has passed). */
START_TEST(recv_timeout_waits_only_through_hook)
{
    Socket_t s = lwss_st_connect_echo(1, 1000);
    static const uint32_t ts[] = {1, 3, 20, 120};
    for (unsigned i = 0; i < 4 * 3; i++) {
        TickType_t t = ts[i % 4];
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t)), 0);
        hook_mark m = mark();
        uint8_t b[8];
        uint64_t t0 = lwss_test_now_ms();
        ck_assert_int_eq(SOCKETS_Recv(s, b, sizeof(b), 0), 0);
        check_elapsed(lwss_test_now_ms() - t0, ts[i % 4], "Recv");
        assert_waited_through_hook(m, "Recv timeout");
    }
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    assert_hook_clean();
}
END_TEST

/* Data that arrives while the caller sleeps in the hook reaches it: the
 * receive thread keeps feeding lwIP (no inline read under the hook). */
START_TEST(recv_gets_echo_while_sleeping_in_hook)
{
    Socket_t s = lwss_st_connect_echo(3000, 3000);
    hook_mark m = mark();
    for (unsigned i = 0; i < 50; i++) {
        uint8_t out[1000], in[1000];
        lwss_st_pattern(out, sizeof(out), i);
        lwss_st_send_all(s, out, sizeof(out));
        lwss_st_recv_exact(s, in, sizeof(in));
        ck_assert_mem_eq(in, out, sizeof(in));
    }
    ck_assert_uint_eq(lwss_os_test_blocking_waits(), m.blocking);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    assert_hook_clean();
}
END_TEST

/* AFR SOCKETS_Send with SOCKETS_SO_SNDTIMEO: returns what was sent when
 * the timeout passes.  Nobody reads the echo, so both directions fill up. */
START_TEST(send_timeout_waits_only_through_hook)
{
    Socket_t s = lwss_st_connect_echo(1000, 200);
    size_t len = 8u << 20;
    uint8_t *big = calloc(1, len);
    ck_assert_ptr_nonnull(big);
    hook_mark m = mark();
    uint64_t t0 = lwss_test_now_ms();
    int32_t n = SOCKETS_Send(s, big, len, 0);
    uint64_t took = lwss_test_now_ms() - t0;
    free(big);
    ck_assert_msg(n >= 0 && (size_t)n < len, "Send gave %d", (int)n);
    ck_assert_msg(took >= 200 && took <= 200 + 2 * LATE_MS, "Send T = 200 ms took %llu ms",
                  (unsigned long long)took);
    assert_waited_through_hook(m, "Send timeout");
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    assert_hook_clean();
}
END_TEST

/* SOCKETS_Connect to an address nobody answers: bounded by the connect
 * timeout, waiting through the hook. */
START_TEST(connect_timeout_waits_only_through_hook)
{
    ck_assert_int_eq(lwss_sockets_set_connect_timeout(300), 0);
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    SocketsSockaddr_t a = lwss_st_echo_addr();
    a.ulAddress = inet_addr("192.0.2.77");
    hook_mark m = mark();
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_lt(SOCKETS_Connect(s, &a, sizeof(a)), 0);
    check_elapsed(lwss_test_now_ms() - t0, 300, "Connect");
    assert_waited_through_hook(m, "Connect timeout");
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    ck_assert_int_eq(lwss_sockets_set_connect_timeout(socketsconfigDEFAULT_CONNECT_TIMEOUT), 0);
    assert_hook_clean();
}
END_TEST

/* Two threads in SOCKETS_Recv on one socket: the second finds the receive
 * lock held by the first for the whole wait, and must wait for it through
 * the hook (a pthread wait would starve the holder under the POSIX port). */
START_TEST(second_receiver_waits_for_lock_through_hook)
{
    Socket_t s = lwss_st_connect_echo(400, 1000);
    lwss_st_blocked_recv br = {.s = s};
    pthread_t t;
    hook_mark m = mark();
    ck_assert_int_eq(pthread_create(&t, NULL, lwss_st_recv_thread, &br), 0);
    uint8_t b[4];
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_eq(SOCKETS_Recv(s, b, sizeof(b), 0), 0);
    uint64_t took = lwss_test_now_ms() - t0;
    pthread_join(t, NULL);
    ck_assert_int_eq((int)br.result, 0);
    ck_assert_msg(took >= 400 && took <= 800 + 2 * LATE_MS, "two Recvs of 400 ms took %llu ms",
                  (unsigned long long)took);
    assert_waited_through_hook(m, "Recv lock");
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    assert_hook_clean();
}
END_TEST

/* DNS (SOCKETS_GetHostByName): an answer, and a silent server's timeout. */
START_TEST(dns_waits_only_through_hook)
{
    ck_assert_msg(getenv("LWSS_DNS") != NULL, "the rig was started without --dns");
    hook_mark m = mark();
    ck_assert_uint_eq(SOCKETS_GetHostByName("echo.lwss.test"), inet_addr("192.0.2.1"));
    ck_assert_uint_eq(lwss_os_test_blocking_waits(), m.blocking);
    /* The port reads its DNS servers when it comes up. */
    char *saved = strdup(getenv("LWSS_DNS"));
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    setenv("LWSS_DNS", "192.0.2.77", 1);
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
    ck_assert_int_eq(lwss_dns_set_retry(300, 2), LWSS_OK);
    m = mark();
    uint64_t t0 = lwss_test_now_ms();
    uint32_t a = 0;
    ck_assert_int_eq(lwss_dns_resolve("echo.lwss.test", &a), LWSS_ERR_TIMEOUT);
    check_elapsed(lwss_test_now_ms() - t0, 600, "DNS 2 x 300 ms");
    assert_waited_through_hook(m, "DNS timeout");
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    setenv("LWSS_DNS", saved, 1);
    free(saved);
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
    assert_hook_clean();
}
END_TEST

static void tls_setup(void)
{
    lwss_leak_setup_fds();
    lwss_tr_stack_up();
    lwss_tr_provision(LWSS_TR_EC, 1);
    hook_on();
}

static void tls_teardown(void)
{
    lwss_os_set_wait_hook(NULL, NULL);
    lwss_tr_stack_down();
    lwss_tr_unprovision();
    lwss_leak_teardown_fds();
}

/* The TLS handshake, record waits (echo, a receive timeout) and the
 * close_notify of SOCKETS_Shutdown/Close all wait through the hook. */
START_TEST(tls_waits_only_through_hook)
{
    hook_mark m = mark();
    Socket_t s;
    int32_t rc = lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test");
    ck_assert_msg(rc == SOCKETS_ERROR_NONE, "TLS connect: %d", (int)rc);
    assert_waited_through_hook(m, "TLS handshake");
    m = mark();
    lwss_tr_echo(s, 20000, 7);
    TickType_t t = 50;
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t)), 0);
    uint8_t b[4];
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_eq(SOCKETS_Recv(s, b, sizeof(b), 0), 0);
    check_elapsed(lwss_test_now_ms() - t0, 50, "TLS Recv");
    assert_waited_through_hook(m, "TLS records");
    m = mark();
    ck_assert_int_eq(SOCKETS_Shutdown(s, SOCKETS_SHUT_RDWR), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    ck_assert_uint_eq(lwss_os_test_blocking_waits(), m.blocking);
    assert_hook_clean();
}
END_TEST

/* ---- the lock and condition helpers, without the network ---- */

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static atomic_int holder_go;

static void *hold_then_release(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&held);
    atomic_store(&holder_go, 1);
    while (atomic_load(&hook_calls) < 20) { /* released only once the waiter slept */
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_unlock(&held);
    return NULL;
}

START_TEST(lock_waits_through_hook_until_released)
{
    hook_on();
    pthread_t t;
    atomic_store(&holder_go, 0);
    ck_assert_int_eq(pthread_create(&t, NULL, hold_then_release, NULL), 0);
    while (!atomic_load(&holder_go)) {
        sched_yield();
    }
    lwss_os_lock(&held);
    ck_assert_uint_ge(atomic_load(&hook_calls), 20);
    pthread_mutex_unlock(&held);
    pthread_join(t, NULL);
    lwss_os_set_wait_hook(NULL, NULL);
    ck_assert_int_eq(lwss_os_wait_hooked(), 0);
    unsigned before = atomic_load(&hook_calls);
    lwss_os_lock(&held); /* no hook: a plain lock, the hook stays silent */
    pthread_mutex_unlock(&held);
    lwss_os_sleep(5);
    ck_assert_uint_eq(atomic_load(&hook_calls), before);
    assert_hook_clean();
}
END_TEST

/* A thread marked as lwss's own never reaches the hook. */
static void *own_thread_sleeps(void *arg)
{
    (void)arg;
    lwss_os_mark_own_thread();
    lwss_os_sleep(1);
    lwss_os_lock(&held);
    pthread_mutex_unlock(&held);
    return (void *)(intptr_t)lwss_os_hook_applies();
}

START_TEST(own_threads_never_call_hook)
{
    hook_on();
    pthread_t t;
    void *applies = (void *)1;
    ck_assert_int_eq(pthread_create(&t, NULL, own_thread_sleeps, NULL), 0);
    pthread_join(t, &applies);
    ck_assert_ptr_null(applies);
    ck_assert_uint_eq(atomic_load(&hook_calls), 0);
    ck_assert_int_eq(lwss_os_hook_applies(), 1);
    lwss_os_set_wait_hook(NULL, NULL);
}
END_TEST

Suite *os_hook_suite(void);

Suite *os_hook_suite(void)
{
    Suite *s = suite_create("os_hook");
    TCase *tc = tcase_create("plain");
    tcase_add_checked_fixture(tc, plain_setup, plain_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, recv_timeout_waits_only_through_hook);
    tcase_add_test(tc, recv_gets_echo_while_sleeping_in_hook);
    tcase_add_test(tc, send_timeout_waits_only_through_hook);
    tcase_add_test(tc, connect_timeout_waits_only_through_hook);
    tcase_add_test(tc, second_receiver_waits_for_lock_through_hook);
    tcase_add_test(tc, dns_waits_only_through_hook);
    suite_add_tcase(s, tc);
    TCase *tt = tcase_create("tls");
    tcase_add_checked_fixture(tt, tls_setup, tls_teardown);
    tcase_set_timeout(tt, 30);
    tcase_add_test(tt, tls_waits_only_through_hook);
    suite_add_tcase(s, tt);
    TCase *tl = tcase_create("locks");
    tcase_set_timeout(tl, 10);
    tcase_add_test(tl, lock_waits_through_hook_until_released);
    tcase_add_test(tl, own_threads_never_call_hook);
    suite_add_tcase(s, tl);
    return s;
}
