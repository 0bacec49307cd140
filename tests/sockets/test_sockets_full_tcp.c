/* The plain cases of the FreeRTOS Full_TCP test group, with its
 * tolerances, against the rig's echo server. */
#include "tests/support/lwss_test.h"
#include "tests/support/sockets_rig_util.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>

#include "iot_secure_sockets.h"

#define GUARD 0xA5
#define TIMING_SLACK_MS 200

static Socket_t new_socket(void)
{
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_ptr_ne(s, SOCKETS_INVALID_SOCKET);
    return s;
}

START_TEST(close_and_shutdown_invalid_socket)
{
    ck_assert_int_eq(SOCKETS_Close(SOCKETS_INVALID_SOCKET), SOCKETS_EINVAL);
    ck_assert_int_eq(SOCKETS_Shutdown(SOCKETS_INVALID_SOCKET, SOCKETS_SHUT_RDWR), SOCKETS_EINVAL);
    Socket_t s = lwss_st_connect_echo(1000, 1000);
    ck_assert_int_lt(SOCKETS_Shutdown(s, ~0u), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

START_TEST(close_without_reading_after_send)
{
    Socket_t s = lwss_st_connect_echo(1000, 1000);
    uint8_t buf[3000];
    lwss_st_pattern(buf, sizeof(buf), 1);
    lwss_st_send_all(s, buf, sizeof(buf));
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    s = lwss_st_connect_echo(1000, 1000);
    lwss_st_send_all(s, buf, sizeof(buf));
    ck_assert_int_eq(SOCKETS_Shutdown(s, SOCKETS_SHUT_RDWR), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

START_TEST(recv_on_unconnected_socket_fails)
{
    Socket_t s = new_socket();
    char b[4];
    ck_assert_int_lt(SOCKETS_Recv(s, b, sizeof(b), 0), 0);
    ck_assert_int_lt(SOCKETS_Send(s, b, sizeof(b), 0), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

static void check_recv_timeout(uint32_t ms)
{
    Socket_t s = lwss_st_connect_echo(ms, 1000);
    char b[16];
    uint64_t t0 = lwss_test_now_ms();
    int32_t n = SOCKETS_Recv(s, b, sizeof(b), 0);
    uint64_t took = lwss_test_now_ms() - t0;
    ck_assert_int_lt(n, 1);
    ck_assert_msg(took >= ms && took <= ms + TIMING_SLACK_MS,
                  "RCVTIMEO %u ms: Recv returned after %llu ms", ms, (unsigned long long)took);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}

START_TEST(recv_timeout_30_100_10000)
{
    check_recv_timeout(30);
    check_recv_timeout(100);
    check_recv_timeout(10000);
}
END_TEST

START_TEST(nonblocking_after_connect)
{
    Socket_t s = lwss_st_connect_echo(1000, 1000);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_NONBLOCK, NULL, 0), 0);
    char b[1200];
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_lt(SOCKETS_Recv(s, b, sizeof(b), 0), 1);
    ck_assert_uint_le(lwss_test_now_ms() - t0, 200);
    uint8_t out[1200];
    lwss_st_pattern(out, sizeof(out), 2);
    lwss_st_send_all(s, out, sizeof(out));
    size_t got = 0;
    uint64_t deadline = lwss_test_now_ms() + 5000;
    while (got < sizeof(b) && lwss_test_now_ms() < deadline) {
        int32_t n = SOCKETS_Recv(s, b + got, sizeof(b) - got, 0);
        if (n > 0) {
            got += (size_t)n;
        } else {
            ck_assert_int_eq(n, SOCKETS_EWOULDBLOCK);
        }
    }
    ck_assert_uint_eq(got, sizeof(b));
    ck_assert_mem_eq(b, out, sizeof(out));
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

START_TEST(setsockopt_bad_option_and_bad_socket)
{
    Socket_t s = new_socket();
    TickType_t t = 100;
    ck_assert_int_lt(SOCKETS_SetSockOpt(s, 0, -1, &t, sizeof(t)), 0);
    ck_assert_int_lt(SOCKETS_SetSockOpt(SOCKETS_INVALID_SOCKET, 0, SOCKETS_SO_RCVTIMEO, &t,
                                        sizeof(t)), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, NULL, 0), SOCKETS_EINVAL);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

/* Receive until an error, bounded. */
static int32_t recv_until_negative(Socket_t s, uint32_t bound_ms)
{
    char b[256];
    uint64_t deadline = lwss_test_now_ms() + bound_ms;
    int32_t n;
    do {
        n = SOCKETS_Recv(s, b, sizeof(b), 0);
    } while (n >= 0 && lwss_test_now_ms() < deadline);
    return n;
}

START_TEST(shutdown_variants)
{
    Socket_t s = lwss_st_connect_echo(100, 1000);
    ck_assert_int_eq(SOCKETS_Shutdown(s, SOCKETS_SHUT_RD), 0);
    ck_assert_int_lt(recv_until_negative(s, 2000), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);

    s = lwss_st_connect_echo(100, 1000);
    ck_assert_int_eq(SOCKETS_Shutdown(s, SOCKETS_SHUT_WR), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);

    s = lwss_st_connect_echo(2000, 1000);
    ck_assert_int_eq(SOCKETS_Shutdown(s, SOCKETS_SHUT_RDWR), 0);
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_lt(recv_until_negative(s, 2000), 0);
    ck_assert_uint_lt(lwss_test_now_ms() - t0, 500); /* quickly, not after the timeout */
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

START_TEST(close_in_every_state_then_use_fails)
{
    Socket_t s = new_socket();
    ck_assert_int_eq(SOCKETS_Close(s), 0); /* unconnected */
    s = lwss_st_connect_echo(1000, 1000);
    ck_assert_int_eq(SOCKETS_Close(s), 0); /* connected */
    char b[8] = "1234567";
    ck_assert_int_lt(SOCKETS_Send(s, b, sizeof(b), 0), 0);
    ck_assert_int_lt(SOCKETS_Recv(s, b, sizeof(b), 0), 0);
    s = lwss_st_connect_echo(1000, 1000);
    ck_assert_int_eq(SOCKETS_Shutdown(s, SOCKETS_SHUT_RDWR), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0); /* shut down */
    ck_assert_int_lt(SOCKETS_Send(s, b, sizeof(b), 0), 0);
    ck_assert_int_lt(SOCKETS_Recv(s, b, sizeof(b), 0), 0);
}
END_TEST

START_TEST(recv_byte_by_byte_without_overrun)
{
    static const size_t lens[] = {2, 7, 8, 9, 20};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        Socket_t s = lwss_st_connect_echo(2000, 2000);
        uint8_t out[20];
        lwss_st_pattern(out, lens[i], (unsigned)i);
        lwss_st_send_all(s, out, lens[i]);
        uint8_t in[24];
        memset(in, GUARD, sizeof(in));
        for (size_t k = 0; k < lens[i]; k++) {
            ck_assert_int_eq(SOCKETS_Recv(s, in + k, 1, 0), 1);
            ck_assert_uint_eq(in[k + 1], GUARD);
        }
        ck_assert_mem_eq(in, out, lens[i]);
        ck_assert_int_eq(SOCKETS_Close(s), 0);
    }
}
END_TEST

START_TEST(send_recv_lengths_with_guards)
{
    static const size_t lens[] = {1, 2, 7, 8, 9, 1199, 1200, 1201};
    static uint8_t out[1201 + 32], in[1201 + 32];
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        for (unsigned round = 0; round < 10; round++) {
            Socket_t s = lwss_st_connect_echo(2000, 2000);
            lwss_st_pattern(out, lens[i], round);
            memset(in, GUARD, sizeof(in));
            lwss_st_send_all(s, out, lens[i]);
            lwss_st_recv_exact(s, in, lens[i]);
            ck_assert_mem_eq(in, out, lens[i]);
            for (size_t g = lens[i]; g < sizeof(in); g++) {
                ck_assert_uint_eq(in[g], GUARD);
            }
            ck_assert_int_eq(SOCKETS_Close(s), 0);
        }
    }
}
END_TEST

START_TEST(several_sockets_at_once)
{
    Socket_t s[5];
    for (int i = 0; i < 5; i++) {
        s[i] = lwss_st_connect_echo(2000, 2000);
    }
    for (int i = 0; i < 5; i++) {
        uint8_t out[100], in[100];
        lwss_st_pattern(out, sizeof(out), (unsigned)i);
        lwss_st_send_all(s[i], out, sizeof(out));
        lwss_st_recv_exact(s[i], in, sizeof(in));
        ck_assert_mem_eq(in, out, sizeof(out));
    }
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(SOCKETS_Close(s[i]), 0);
    }
}
END_TEST

START_TEST(socket_bad_arguments)
{
    ck_assert_ptr_eq(SOCKETS_Socket(SOCKETS_AF_INET6, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP),
                     SOCKETS_INVALID_SOCKET);
    ck_assert_ptr_eq(SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_DGRAM, SOCKETS_IPPROTO_UDP),
                     SOCKETS_INVALID_SOCKET);
    ck_assert_ptr_eq(SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_UDP),
                     SOCKETS_INVALID_SOCKET);
}
END_TEST

/* Full_TCP's SOCKETS_Connect_InvalidParams, except the lengths: the
 * reference test expects lengths 0 and 100 to be ignored, AFR's header says
 * xAddressLength "should be set to sizeof(SocketsSockaddr_t)"; lwss follows
 * the header (sockets_afr: connect_refuses_wrong_length_and_family). */
START_TEST(connect_bad_arguments_and_ignored_lengths)
{
    SocketsSockaddr_t a = lwss_st_echo_addr();
    ck_assert_int_lt(SOCKETS_Connect(SOCKETS_INVALID_SOCKET, &a, sizeof(a)), 0);
    Socket_t s = new_socket();
    SocketsSockaddr_t zero = a;
    zero.ulAddress = 0;
    ck_assert_int_lt(SOCKETS_Connect(s, &zero, sizeof(zero)), 0);
    SocketsSockaddr_t noport = a;
    noport.usPort = 0;
    ck_assert_int_lt(SOCKETS_Connect(s, &noport, sizeof(noport)), 0);
    ck_assert_int_lt(SOCKETS_Connect(s, NULL, sizeof(a)), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);

    static const uint8_t lengths[] = {0, 100};
    for (size_t i = 0; i < 2; i++) {
        s = new_socket();
        SocketsSockaddr_t odd = a;
        odd.ucLength = lengths[i]; /* ucLength is not checked */
        ck_assert_int_eq(SOCKETS_Connect(s, &odd, lengths[i]), SOCKETS_EINVAL);
        ck_assert_int_eq(SOCKETS_Connect(s, &odd, sizeof(odd)), 0);
        ck_assert_int_eq(SOCKETS_Close(s), 0);
    }
}
END_TEST

START_TEST(send_recv_bad_arguments)
{
    char b[8] = {0};
    ck_assert_int_lt(SOCKETS_Send(SOCKETS_INVALID_SOCKET, b, sizeof(b), 0), 0);
    ck_assert_int_lt(SOCKETS_Recv(SOCKETS_INVALID_SOCKET, b, sizeof(b), 0), 0);
    Socket_t s = new_socket();
    ck_assert_int_lt(SOCKETS_Send(s, b, sizeof(b), 0), 0); /* unconnected */
    ck_assert_int_lt(SOCKETS_Recv(s, b, sizeof(b), 0), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    s = lwss_st_connect_echo(500, 500);
    ck_assert_int_eq(SOCKETS_Send(s, NULL, 8, 0), SOCKETS_EINVAL);
    ck_assert_int_eq(SOCKETS_Recv(s, NULL, 8, 0), SOCKETS_EINVAL);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

START_TEST(nonblock_before_connect_fails)
{
    Socket_t s = new_socket();
    ck_assert_int_lt(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_NONBLOCK, NULL, 0), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

START_TEST(tls_options_after_plain_connect_fail)
{
    Socket_t s = lwss_st_connect_echo(500, 500);
    static const char pem[] = "-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----\n";
    const char *alpn[] = {"x-amzn-mqtt-ca"};
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), SOCKETS_EISCONN);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_ALPN_PROTOCOLS, alpn, 1), SOCKETS_EISCONN);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, "echo.lwss.test",
                                        strlen("echo.lwss.test")), SOCKETS_EISCONN);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_TRUSTED_SERVER_CERTIFICATE, pem,
                                        sizeof(pem)), SOCKETS_EISCONN);
    /* Still a working plain socket. */
    uint8_t out[32], in[32];
    lwss_st_pattern(out, sizeof(out), 9);
    lwss_st_send_all(s, out, sizeof(out));
    lwss_st_recv_exact(s, in, sizeof(in));
    ck_assert_mem_eq(in, out, sizeof(out));
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

/* ---- threads ---- */

typedef struct {
    Socket_t s;
    size_t got;
    int ok;
} shared_sock;

static void *recv_3000(void *arg)
{
    shared_sock *ss = arg;
    uint8_t want[3000], buf[3000];
    lwss_st_pattern(want, sizeof(want), 5);
    uint64_t deadline = lwss_test_now_ms() + 10000;
    while (ss->got < sizeof(buf) && lwss_test_now_ms() < deadline) {
        int32_t n = SOCKETS_Recv(ss->s, buf + ss->got, sizeof(buf) - ss->got, 0);
        if (n < 0) {
            break;
        }
        ss->got += (size_t)n;
    }
    ss->ok = ss->got == sizeof(buf) && memcmp(buf, want, sizeof(buf)) == 0;
    return NULL;
}

START_TEST(send_and_recv_from_two_threads)
{
    shared_sock ss = {.s = lwss_st_connect_echo(2000, 2000)};
    pthread_t rx;
    ck_assert_int_eq(pthread_create(&rx, NULL, recv_3000, &ss), 0);
    uint8_t out[3000];
    lwss_st_pattern(out, sizeof(out), 5);
    for (size_t off = 0; off < sizeof(out); off += 100) {
        lwss_st_send_all(ss.s, out + off, 100);
    }
    pthread_join(rx, NULL);
    ck_assert_msg(ss.ok, "receiver got %zu bytes", ss.got);
    ck_assert_int_eq(SOCKETS_Close(ss.s), 0);
}
END_TEST

static void *ten_rounds(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg;
    SocketsSockaddr_t a = lwss_st_echo_addr();
    for (unsigned r = 0; r < 10; r++) {
        Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
        if (s == SOCKETS_INVALID_SOCKET || SOCKETS_Connect(s, &a, sizeof(a)) != 0) {
            return (void *)1;
        }
        uint8_t out[500], in[500];
        lwss_st_pattern(out, sizeof(out), seed * 100 + r);
        size_t got = 0;
        int ok = SOCKETS_Send(s, out, sizeof(out), 0) == (int32_t)sizeof(out);
        while (ok && got < sizeof(in)) {
            int32_t n = SOCKETS_Recv(s, in + got, sizeof(in) - got, 0);
            ok = n > 0;
            got += ok ? (size_t)n : 0;
        }
        ok = ok && memcmp(in, out, sizeof(out)) == 0;
        if (SOCKETS_Close(s) != 0 || !ok) {
            return (void *)1;
        }
    }
    return NULL;
}

START_TEST(two_threads_ten_rounds_each)
{
    pthread_t t[2];
    for (uintptr_t i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, ten_rounds, (void *)i), 0);
    }
    for (int i = 0; i < 2; i++) {
        void *r;
        pthread_join(t[i], &r);
        ck_assert_ptr_null(r);
    }
}
END_TEST

Suite *sockets_full_tcp_suite(void);

Suite *sockets_full_tcp_suite(void)
{
    Suite *s = suite_create("sockets_full_tcp");
    TCase *tc = tcase_create("full_tcp_plain");
    tcase_add_checked_fixture(tc, lwss_st_setup, lwss_st_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, close_and_shutdown_invalid_socket);
    tcase_add_test(tc, close_without_reading_after_send);
    tcase_add_test(tc, recv_on_unconnected_socket_fails);
    tcase_add_test(tc, recv_timeout_30_100_10000);
    tcase_add_test(tc, nonblocking_after_connect);
    tcase_add_test(tc, setsockopt_bad_option_and_bad_socket);
    tcase_add_test(tc, shutdown_variants);
    tcase_add_test(tc, close_in_every_state_then_use_fails);
    tcase_add_test(tc, recv_byte_by_byte_without_overrun);
    tcase_add_test(tc, send_recv_lengths_with_guards);
    tcase_add_test(tc, several_sockets_at_once);
    tcase_add_test(tc, socket_bad_arguments);
    tcase_add_test(tc, connect_bad_arguments_and_ignored_lengths);
    tcase_add_test(tc, send_recv_bad_arguments);
    tcase_add_test(tc, nonblock_before_connect_fails);
    tcase_add_test(tc, tls_options_after_plain_connect_fail);
    tcase_add_test(tc, send_and_recv_from_two_threads);
    tcase_add_test(tc, two_threads_ten_rounds_each);
    suite_add_tcase(s, tc);
    return s;
}
