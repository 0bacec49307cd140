/*
 * AFR header semantics (libraries/abstractions/secure_sockets/include/
 * iot_secure_sockets.h of aws/amazon-freertos), each quoted where tested:
 *   - unit suite "sockets_afr_unit": byte order macros;
 *   - rig suite "sockets_afr": option values, tick widths and rates,
 *     timeouts never early, connect address checks.
 */
#include "tests/support/lwss_test.h"
#include "tests/support/sockets_rig_util.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "iot_secure_sockets.h"
#include "lwss/port.h"
#include "lwss/sockets.h"

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* AFR: "#if socketsconfigBYTE_ORDER == pdLITTLE_ENDIAN" selects the swapping
 * macros; AFR's Full_TCP test expects htons(0x1234) == 0x3412 and
 * inet_addr_quick(192,168,2,6) == 0x0602A8C0 there. */
START_TEST(byte_order_macros_follow_socketsconfigBYTE_ORDER)
{
    ck_assert_int_eq(pdLITTLE_ENDIAN, 0);
    ck_assert_int_eq(pdBIG_ENDIAN, 1);
#if defined(__BYTE_ORDER__) && (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
    ck_assert_int_eq(socketsconfigBYTE_ORDER, pdLITTLE_ENDIAN);
#else
    ck_assert_int_eq(socketsconfigBYTE_ORDER, pdBIG_ENDIAN);
#endif
#if socketsconfigBYTE_ORDER == pdLITTLE_ENDIAN
    ck_assert_uint_eq(SOCKETS_htons(0x1234), 0x3412);
    ck_assert_uint_eq(SOCKETS_ntohs(0x3412), 0x1234);
    ck_assert_uint_eq(SOCKETS_htonl(0x12345678u), 0x78563412u);
    ck_assert_uint_eq(SOCKETS_ntohl(0x78563412u), 0x12345678u);
    ck_assert_uint_eq(SOCKETS_inet_addr_quick(192, 168, 2, 6), 0x0602A8C0u);
    /* AFR's htons is (uint16_t)((x << 8) | (x >> 8)): bits 16..23 of a wider
     * value land in the high byte. */
    ck_assert_uint_eq(SOCKETS_htons(0x10000u), 0x0100);
    ck_assert_uint_eq(SOCKETS_htonl(0xC0), 0xC0000000u); /* an int argument: no overflow */
#else
    ck_assert_uint_eq(SOCKETS_htons(0x1234), 0x1234);
    ck_assert_uint_eq(SOCKETS_htonl(0x12345678u), 0x12345678u);
    ck_assert_uint_eq(SOCKETS_inet_addr_quick(192, 168, 2, 6), 0xC0A80206u);
#endif
    char buf[16];
    SOCKETS_inet_ntoa(SOCKETS_inet_addr_quick(192, 168, 2, 6), buf);
    ck_assert_str_eq(buf, "192.168.2.6");
    /* The wire order is what the macros give, whatever the host. */
    uint32_t a = SOCKETS_inet_addr_quick(10, 20, 30, 40);
    const uint8_t *p = (const uint8_t *)&a;
    ck_assert(p[0] == 10 && p[1] == 20 && p[2] == 30 && p[3] == 40);
    uint16_t port = SOCKETS_htons(0x1F90);
    p = (const uint8_t *)&port;
    ck_assert(p[0] == 0x1F && p[1] == 0x90);
}
END_TEST

/* Time one SOCKETS_Recv on a connected, silent socket, in ns. */
static uint64_t timed_recv(Socket_t s, int32_t *result)
{
    char b[16];
    uint64_t t0 = now_ns();
    *result = SOCKETS_Recv(s, b, sizeof(b), 0);
    return now_ns() - t0;
}

static void expect_recv_timeout(Socket_t s, uint64_t want_ms)
{
    int32_t n;
    uint64_t took = timed_recv(s, &n);
    ck_assert_int_eq(n, 0);
    ck_assert_msg(took >= want_ms * 1000000u && took <= (want_ms + 500u) * 1000000u,
                  "timeout of %llu ms took %llu us", (unsigned long long)want_ms,
                  (unsigned long long)(took / 1000u));
}

/* AFR: RCVTIMEO's "pvOptionValue (TickType_t)": the application's width,
 * 4 or 8 bytes (8 on the FreeRTOS POSIX port); other lengths are refused. */
START_TEST(timeout_ticks_of_4_and_8_bytes_others_refused)
{
    Socket_t s = lwss_st_connect_echo(1000, 1000);
    static const size_t bad[] = {0, 1, 2, 3, 5, 7, 16};
    uint64_t big = 60;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &big, bad[i]),
                         SOCKETS_EINVAL);
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SNDTIMEO, &big, bad[i]),
                         SOCKETS_EINVAL);
    }
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &big, sizeof(big)), 0);
    expect_recv_timeout(s, 60);
    uint32_t small = 40;
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &small, sizeof(small)), 0);
    expect_recv_timeout(s, 40);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

/* AFR: "Setting pvOptionValue = 0 causes receive to wait forever"; so does
 * portMAX_DELAY of either width.  A Close from another thread ends the wait. */
START_TEST(zero_and_max_delay_of_both_widths_wait_forever)
{
    uint64_t forever64[] = {0, UINT64_MAX};
    uint32_t forever32[] = {0, UINT32_MAX};
    for (int i = 0; i < 4; i++) {
        Socket_t s = lwss_st_connect_echo(1000, 1000);
        const void *v = i < 2 ? (const void *)&forever64[i] : (const void *)&forever32[i - 2];
        size_t len = i < 2 ? sizeof(uint64_t) : sizeof(uint32_t);
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, v, len), 0);
        lwss_st_check_close_wakes_recv(s); /* Recv still waiting after 300 ms: not 0 */
    }
}
END_TEST

/* The application's configTICK_RATE_HZ converts ticks: SOCKETS_SetSockOpt
 * is a macro that passes it at the call site. */
START_TEST(ticks_use_the_application_tick_rate)
{
    Socket_t s = lwss_st_connect_echo(1000, 1000);
    uint64_t ticks = 6; /* at 100 Hz: 60 ms */
#undef configTICK_RATE_HZ
#define configTICK_RATE_HZ 100
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &ticks, sizeof(ticks)), 0);
#undef configTICK_RATE_HZ
#define configTICK_RATE_HZ ((TickType_t)1000)
    expect_recv_timeout(s, 60);
    ticks = 500; /* at 10 kHz: 50 ms */
    ck_assert_int_eq(lwss_sockets_setsockopt_hz(s, 0, SOCKETS_SO_RCVTIMEO, &ticks, sizeof(ticks),
                                                10000), 0);
    expect_recv_timeout(s, 50);
    ck_assert_int_eq(lwss_sockets_setsockopt_hz(s, 0, SOCKETS_SO_RCVTIMEO, &ticks, sizeof(ticks),
                                                0), SOCKETS_EINVAL);
    /* Through a function pointer: the host default, 1 tick = 1 ms. */
    int32_t (*fn)(Socket_t, int32_t, int32_t, const void *, size_t) = SOCKETS_SetSockOpt;
    ticks = 30;
    ck_assert_int_eq(fn(s, 0, SOCKETS_SO_RCVTIMEO, &ticks, sizeof(ticks)), 0);
    expect_recv_timeout(s, 30);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

/* AFR: SOCKETS_SO_NONBLOCK "pvOptionValue is ignored for this option":
 * a pointer to 0 still makes the socket non-blocking. */
START_TEST(nonblock_ignores_the_value)
{
    Socket_t s = lwss_st_connect_echo(2000, 2000);
    BaseType_t zero = 0;
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_NONBLOCK, &zero, sizeof(zero)), 0);
    int32_t n;
    uint64_t took = timed_recv(s, &n);
    ck_assert_int_eq(n, SOCKETS_EWOULDBLOCK);
    ck_assert_uint_lt(took, 200u * 1000000u);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_NONBLOCK, NULL, 0), 0);
    ck_assert_int_eq(SOCKETS_Recv(s, &n, sizeof(n), 0), SOCKETS_EWOULDBLOCK);
    uint32_t t = 50;
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t)), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, LWSS_SO_BLOCKING, NULL, 0), 0);
    expect_recv_timeout(s, 50);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, LWSS_SO_BLOCKING, NULL, 0), SOCKETS_ENOTCONN);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

/* Hundreds of receive timeouts, small and large: none returns before its
 * timeout (strict); each within T + 250 ms even on a loaded machine, and
 * the median overshoot within 20 ms (the idle-machine promise). */
static void check_never_early(Socket_t s, uint32_t ms, int tries, uint64_t *overshoot_us,
                              int *count)
{
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &ms, sizeof(ms)), 0);
    for (int i = 0; i < tries; i++) {
        int32_t n;
        uint64_t took = timed_recv(s, &n);
        ck_assert_int_eq(n, 0);
        ck_assert_msg(took >= (uint64_t)ms * 1000000u, "timeout %u ms returned after %llu us",
                      ms, (unsigned long long)(took / 1000u));
        ck_assert_msg(took <= ((uint64_t)ms + 250u) * 1000000u,
                      "timeout %u ms returned after %llu us", ms,
                      (unsigned long long)(took / 1000u));
        overshoot_us[(*count)++] = took / 1000u - (uint64_t)ms * 1000u;
    }
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

START_TEST(recv_timeouts_never_early)
{
    static const uint32_t small[] = {1, 2, 3, 5, 8, 13};
    static uint64_t over[400];
    int count = 0;
    Socket_t s = lwss_st_connect_echo(1000, 1000);
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
            check_never_early(s, small[i], 1, over, &count);
        }
    }
    check_never_early(s, 100, 4, over, &count);
    check_never_early(s, 250, 2, over, &count);
    check_never_early(s, 1000, 1, over, &count);
    qsort(over, (size_t)count, sizeof(over[0]), cmp_u64);
    ck_assert_msg(over[count / 2] <= 20000u, "median overshoot %llu us over %d tries",
                  (unsigned long long)over[count / 2], count);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

/* Send timeouts too: with the peer's window and a 2920-byte send buffer
 * full, each Send waits its whole timeout and returns 0, never early. */
START_TEST(send_timeouts_never_early)
{
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    int sz = 2920;
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SNDBUF, &sz, sizeof(sz)), 0);
    uint32_t t = 20;
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SNDTIMEO, &t, sizeof(t)), 0);
    SocketsSockaddr_t a = lwss_st_echo_addr();
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), 0);
    static uint8_t chunk[16384];
    int zeros = 0;
    /* Never read: the echo server stops reading once its replies back up. */
    for (int i = 0; i < 2000 && zeros < 30; i++) {
        uint64_t t0 = now_ns();
        int32_t n = SOCKETS_Send(s, chunk, sizeof(chunk), 0);
        uint64_t took = now_ns() - t0;
        ck_assert_int_ge(n, 0);
        if (n == 0) {
            zeros++;
            ck_assert_msg(took >= 20u * 1000000u && took <= 270u * 1000000u,
                          "send timeout of 20 ms returned after %llu us",
                          (unsigned long long)(took / 1000u));
        }
    }
    ck_assert_int_eq(zeros, 30);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

/* AFR: xAddressLength "Should be set to sizeof( SocketsSockaddr_t )" and
 * ucSocketDomain: "Only SOCKETS_AF_INET is supported".  A refused call
 * leaves the socket usable. */
START_TEST(connect_refuses_wrong_length_and_family)
{
    SocketsSockaddr_t a = lwss_st_echo_addr();
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    static const Socklen_t lengths[] = {0, 3, 4, 7, 9, 16, 100, 0xffffffffu};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        ck_assert_int_eq(SOCKETS_Connect(s, &a, lengths[i]), SOCKETS_EINVAL);
    }
    static const uint8_t families[] = {0, 1, SOCKETS_AF_INET6, 255};
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        SocketsSockaddr_t f = a;
        f.ucSocketDomain = families[i];
        ck_assert_int_eq(SOCKETS_Connect(s, &f, sizeof(f)), SOCKETS_EINVAL);
    }
    a.ucLength = 0; /* not checked */
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), SOCKETS_ERROR_NONE);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

Suite *sockets_afr_unit_suite(void);
Suite *sockets_afr_unit_suite(void)
{
    Suite *s = suite_create("sockets_afr_unit");
    TCase *tc = tcase_create("macros");
    tcase_add_test(tc, byte_order_macros_follow_socketsconfigBYTE_ORDER);
    suite_add_tcase(s, tc);
    return s;
}

Suite *sockets_afr_suite(void);
Suite *sockets_afr_suite(void)
{
    Suite *s = suite_create("sockets_afr");
    TCase *tc = tcase_create("afr");
    tcase_add_checked_fixture(tc, lwss_st_setup, lwss_st_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, timeout_ticks_of_4_and_8_bytes_others_refused);
    tcase_add_test(tc, zero_and_max_delay_of_both_widths_wait_forever);
    tcase_add_test(tc, ticks_use_the_application_tick_rate);
    tcase_add_test(tc, nonblock_ignores_the_value);
    tcase_add_test(tc, recv_timeouts_never_early);
    tcase_add_test(tc, send_timeouts_never_early);
    tcase_add_test(tc, connect_refuses_wrong_length_and_family);
    suite_add_tcase(s, tc);
    return s;
}
