/* Waits with nothing arriving (issue 19 item 3): a blocked SOCKETS_Recv
 * sleeps until a frame, lwIP's next timer or its deadline, with no fixed
 * slices.  These check what that must not break: data after a long idle
 * wakes the receiver, with one receiver or two at once, and a receive
 * timeout still ends on time, never early (AFR secure sockets:
 * SOCKETS_SO_RCVTIMEO bounds the wait; 0 is returned when it passes).
 * How little CPU the idle wait costs is measured by bench_idle, not here. */
#include "tests/support/lwss_test.h"
#include "tests/support/sockets_rig_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iot_secure_sockets.h"

#define LONG_IDLE_MS 3000u

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Generous: this checks that the receiver wakes on its data, not how fast. */
static uint64_t wake_bound_ms(void)
{
    return 1000u * lwss_test_slowness();
}

static void start_blocked_recv(lwss_st_blocked_recv *br, pthread_t *t)
{
    ck_assert_int_eq(pthread_create(t, NULL, lwss_st_recv_thread, br), 0);
    lwss_st_wait_recv_blocked(br);
}

/* The receiver has slept through a long idle: the idle itself is what is
 * tested, so this is a plain sleep, followed by a check that the receiver
 * is still blocked (nothing woke it for good, nothing returned early). */
static void idle_then_check_blocked(lwss_st_blocked_recv *br)
{
    usleep(LONG_IDLE_MS * 1000u);
    ck_assert_uint_eq(br->returned_at, 0);
    ck_assert_msg(lwss_test_wait_blocked(atomic_load(&br->tid), 2000),
                  "the receiver is not asleep after the idle");
}

/* Data that arrives after 3 s of nothing reaches the blocked Recv at once
 * (well within its 20 s timeout). */
START_TEST(recv_wakes_on_data_after_long_idle)
{
    lwss_st_blocked_recv br = {.s = lwss_st_connect_echo(20000, 2000)};
    pthread_t t;
    start_blocked_recv(&br, &t);
    idle_then_check_blocked(&br);
    uint64_t sent_at = lwss_test_now_ms();
    lwss_st_send_all(br.s, "wake-up!", 8); /* the echo server sends it back */
    pthread_join(t, NULL);
    ck_assert_int_eq(br.result, 8);
    ck_assert_uint_lt(br.returned_at - sent_at, wake_bound_ms());
    ck_assert_int_eq(SOCKETS_Close(br.s), 0);
}
END_TEST

/* Two receivers blocked at once: one reads the TAP for the process, the
 * other waits inside lwIP.  After the idle, data for each wakes each. */
START_TEST(two_blocked_recvs_each_wake_on_their_data)
{
    lwss_st_blocked_recv a = {.s = lwss_st_connect_echo(20000, 2000)};
    lwss_st_blocked_recv b = {.s = lwss_st_connect_echo(20000, 2000)};
    pthread_t ta, tb;
    start_blocked_recv(&a, &ta);
    start_blocked_recv(&b, &tb);
    idle_then_check_blocked(&a);
    ck_assert_uint_eq(b.returned_at, 0);
    uint64_t sent_at = lwss_test_now_ms();
    lwss_st_send_all(b.s, "second", 6);
    pthread_join(tb, NULL);
    ck_assert_int_eq(b.result, 6);
    ck_assert_uint_lt(b.returned_at - sent_at, wake_bound_ms());
    ck_assert_uint_eq(a.returned_at, 0); /* b's data did not end a's wait */
    sent_at = lwss_test_now_ms();
    lwss_st_send_all(a.s, "first", 5);
    pthread_join(ta, NULL);
    ck_assert_int_eq(a.result, 5);
    ck_assert_uint_lt(a.returned_at - sent_at, wake_bound_ms());
    ck_assert_int_eq(SOCKETS_Close(a.s), 0);
    ck_assert_int_eq(SOCKETS_Close(b.s), 0);
}
END_TEST

/* SOCKETS_SO_RCVTIMEO: with nothing arriving, Recv returns 0 once the
 * timeout has passed — never before it (the wait now spans lwIP timer runs
 * instead of fixed slices), and not long after. */
START_TEST(recv_timeout_ends_on_time_never_early)
{
    static const uint32_t timeouts_ms[] = {40, 700, LONG_IDLE_MS};
    for (size_t i = 0; i < sizeof(timeouts_ms) / sizeof(timeouts_ms[0]); i++) {
        uint32_t ms = timeouts_ms[i];
        Socket_t s = lwss_st_connect_echo(ms, 2000);
        char buf[8];
        uint64_t t0 = now_us();
        int32_t r = SOCKETS_Recv(s, buf, sizeof(buf), 0);
        uint64_t took_us = now_us() - t0;
        ck_assert_int_eq(r, 0);
        ck_assert_msg(took_us >= (uint64_t)ms * 1000u, "timeout %u ms ended after %llu us", ms,
                      (unsigned long long)took_us);
        ck_assert_msg(took_us < ((uint64_t)ms + wake_bound_ms()) * 1000u,
                      "timeout %u ms ended only after %llu us", ms, (unsigned long long)took_us);
        ck_assert_int_eq(SOCKETS_Close(s), 0);
    }
}
END_TEST

/* A Close from another thread still ends a Recv that has slept a long
 * time with no timeout (it no longer wakes in slices to look). */
START_TEST(close_ends_a_long_idle_recv)
{
    lwss_st_blocked_recv br = {.s = lwss_st_connect_echo(0, 1000)}; /* 0: forever */
    pthread_t t;
    start_blocked_recv(&br, &t);
    idle_then_check_blocked(&br);
    uint64_t closed_at = lwss_test_now_ms();
    ck_assert_int_eq(SOCKETS_Close(br.s), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(br.result, SOCKETS_ECLOSED);
    ck_assert_uint_lt(br.returned_at - closed_at, wake_bound_ms());
}
END_TEST

Suite *sockets_idle_suite(void);

Suite *sockets_idle_suite(void)
{
    Suite *s = suite_create("sockets_idle");
    TCase *tc = tcase_create("idle");
    tcase_add_checked_fixture(tc, lwss_st_setup, lwss_st_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, recv_wakes_on_data_after_long_idle);
    tcase_add_test(tc, two_blocked_recvs_each_wake_on_their_data);
    tcase_add_test(tc, recv_timeout_ends_on_time_never_early);
    tcase_add_test(tc, close_ends_a_long_idle_recv);
    suite_add_tcase(s, tc);
    return s;
}
