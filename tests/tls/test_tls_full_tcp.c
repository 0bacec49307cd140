/*
 * Rig suite "tls_full_tcp": the secure cases of the Full_TCP group, through
 * SOCKETS_* over lwIP/TAP against the rig's TLS echo server, which requires
 * a client certificate.  Credentials are provisioned into a fresh NVM image
 * per test through the real token (C_CreateObject via the import helpers).
 */
#include "tests/support/lwss_test.h"
#include "tests/support/tls_rig_util.h"
#include "tests/support/tls_test_util.h"
#include "lwss/port.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void setup(void)
{
    lwss_leak_setup_fds();
    lwss_tr_stack_up();
    lwss_tr_provision(LWSS_TR_EC, 1);
}

static void teardown(void)
{
    lwss_tr_stack_down();
    lwss_tr_unprovision();
    lwss_leak_teardown_fds();
}

static Socket_t connect_echo(void)
{
    Socket_t s;
    int32_t rc = lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test");
    ck_assert_msg(rc == SOCKETS_ERROR_NONE, "TLS connect: %d", (int)rc);
    return s;
}

START_TEST(send_recv_lengths_on_fresh_connections)
{
    static const size_t lengths[] = {1, 2, 7, 8, 9, 1199, 1200, 1201};
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        for (int round = 0; round < 3; round++) {
            Socket_t s = connect_echo();
            lwss_tr_echo(s, lengths[i], (uint8_t)(i * 10 + round));
            ck_assert_int_eq(SOCKETS_Close(s), 0);
        }
    }
}
END_TEST

START_TEST(trusted_cert_option_replaces_token_roots)
{
    lwss_tr_unprovision();
    lwss_tr_provision(LWSS_TR_EC, 0); /* no "Root Cert" in the token */
    Socket_t s;
    ck_assert_int_eq(lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test"),
                     SOCKETS_TLS_SERVER_UNVERIFIED);
    char path[512];
    size_t len = 0;
    unsigned char *ca = lwss_tt_read_file(lwss_tt_cert_path("ca.crt", path, sizeof(path)), &len);
    ck_assert_ptr_nonnull(ca);
    s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_TRUSTED_SERVER_CERTIFICATE, ca, len + 1), 0);
    SocketsSockaddr_t a = lwss_tr_peer(lwss_tr_tls_port());
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), 0); /* no SNI: IP SAN checked */
    lwss_tr_echo(s, 100, 1);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    free(ca);
}
END_TEST

START_TEST(wrong_ca_and_wrong_sni_fail)
{
    char path[512];
    size_t len = 0;
    unsigned char *other = lwss_tt_read_file(lwss_tt_cert_path("other-ca.crt", path, sizeof(path)), &len);
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_TRUSTED_SERVER_CERTIFICATE, other, len + 1), 0);
    SocketsSockaddr_t a = lwss_tr_peer(lwss_tr_tls_port());
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), SOCKETS_TLS_SERVER_UNVERIFIED);
    ck_assert_int_lt(SOCKETS_Send(s, "x", 1, 0), 0); /* unusable after a failed connect */
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    free(other);
    ck_assert_int_eq(lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "wrong.lwss.test"),
                     SOCKETS_TLS_SERVER_UNVERIFIED);
}
END_TEST

START_TEST(tls_options_after_connect_and_nonblock_before)
{
    static const char *alpn[] = {"x-amzn-mqtt-ca"};
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_int_ne(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_NONBLOCK, NULL, 0), 0);
    SocketsSockaddr_t a = lwss_tr_peer(lwss_tr_plain_port());
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), SOCKETS_EISCONN);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, "a", 1), SOCKETS_EISCONN);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_ALPN_PROTOCOLS, alpn, 1), SOCKETS_EISCONN);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_TRUSTED_SERVER_CERTIFICATE, "x", 2),
                     SOCKETS_EISCONN);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

START_TEST(two_connections_interleaved)
{
    Socket_t a = connect_echo(), b = connect_echo();
    char ra[32], rb[32];
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(SOCKETS_Send(a, "aaaaaaaaaa", 10, 0), 10);
        ck_assert_int_eq(SOCKETS_Send(b, "bbbbbbbbbbbb", 12, 0), 12);
        size_t ga = 0, gb = 0;
        while (gb < 12) { int32_t n = SOCKETS_Recv(b, rb + gb, 12 - gb, 0); ck_assert_int_gt(n, 0); gb += (size_t)n; }
        while (ga < 10) { int32_t n = SOCKETS_Recv(a, ra + ga, 10 - ga, 0); ck_assert_int_gt(n, 0); ga += (size_t)n; }
        ck_assert_mem_eq(ra, "aaaaaaaaaa", 10);
        ck_assert_mem_eq(rb, "bbbbbbbbbbbb", 12);
    }
    ck_assert_int_eq(SOCKETS_Close(a), 0);
    ck_assert_int_eq(SOCKETS_Close(b), 0);
}
END_TEST

START_TEST(recv_byte_by_byte)
{
    static const size_t lengths[] = {2, 7, 8, 9, 20};
    for (size_t i = 0; i < 5; i++) {
        Socket_t s = connect_echo();
        char out[20], in[21];
        for (size_t j = 0; j < lengths[i]; j++) out[j] = (char)('a' + j);
        ck_assert_int_eq(SOCKETS_Send(s, out, lengths[i], 0), (int32_t)lengths[i]);
        memset(in, 0, sizeof(in));
        for (size_t j = 0; j < lengths[i]; j++) {
            ck_assert_int_eq(SOCKETS_Recv(s, in + j, 1, 0), 1);
        }
        ck_assert_mem_eq(in, out, lengths[i]);
        ck_assert_int_eq(in[lengths[i]], 0);
        ck_assert_int_eq(SOCKETS_Close(s), 0);
    }
}
END_TEST

START_TEST(recv_timeouts)
{
    static const TickType_t timeouts[] = {30, 100, 1000};
    Socket_t s = connect_echo();
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &timeouts[i], sizeof(TickType_t)), 0);
        char c;
        uint64_t t0 = lwss_test_now_ms();
        ck_assert_int_lt(SOCKETS_Recv(s, &c, 1, 0), 1);
        uint64_t took = lwss_test_now_ms() - t0;
        ck_assert_uint_ge(took, timeouts[i]);
        ck_assert_uint_le(took, timeouts[i] + 200);
    }
    lwss_tr_echo(s, 1200, 9); /* the timeouts did not hurt the TLS session */
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

START_TEST(nonblock_after_connect)
{
    Socket_t s = connect_echo();
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_NONBLOCK, NULL, 0), 0);
    char buf[1200], out[1200];
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_lt(SOCKETS_Recv(s, buf, sizeof(buf), 0), 1);
    ck_assert_uint_le(lwss_test_now_ms() - t0, 200);
    memset(out, 'n', sizeof(out));
    size_t sent = 0;
    uint64_t deadline = lwss_test_now_ms() + 5000;
    while (sent < sizeof(out) && lwss_test_now_ms() < deadline) {
        int32_t n = SOCKETS_Send(s, out + sent, sizeof(out) - sent, 0);
        if (n > 0) sent += (size_t)n;
    }
    size_t got = 0;
    while (got < sizeof(buf) && lwss_test_now_ms() < deadline) {
        int32_t n = SOCKETS_Recv(s, buf + got, sizeof(buf) - got, 0);
        if (n > 0) got += (size_t)n;
        else ck_assert_int_eq(n, SOCKETS_EWOULDBLOCK);
    }
    ck_assert_uint_eq(got, sizeof(buf));
    ck_assert_mem_eq(buf, out, sizeof(buf));
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

START_TEST(shutdown_cases)
{
    char buf[16];
    Socket_t s = connect_echo();
    ck_assert_int_eq(SOCKETS_Shutdown(s, SOCKETS_SHUT_RD), 0);
    int32_t n;
    uint64_t deadline = lwss_test_now_ms() + 5000;
    while ((n = SOCKETS_Recv(s, buf, sizeof(buf), 0)) >= 0 && lwss_test_now_ms() < deadline) {
    }
    ck_assert_int_lt(n, 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    s = connect_echo();
    ck_assert_int_eq(SOCKETS_Shutdown(s, SOCKETS_SHUT_WR), 0);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    s = connect_echo();
    ck_assert_int_eq(SOCKETS_Shutdown(s, SOCKETS_SHUT_RDWR), 0);
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_lt(SOCKETS_Recv(s, buf, sizeof(buf), 0), 0);
    ck_assert_uint_le(lwss_test_now_ms() - t0, 1000);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    s = connect_echo();
    char big[3000];
    memset(big, 'c', sizeof(big));
    size_t sent = 0;
    while (sent < sizeof(big)) {
        n = SOCKETS_Send(s, big + sent, sizeof(big) - sent, 0);
        ck_assert_int_gt(n, 0);
        sent += (size_t)n;
    }
    ck_assert_int_eq(SOCKETS_Close(s), 0); /* without reading the echo */
}
END_TEST

typedef struct sender_ctx {
    Socket_t s;
    int failed;
} sender_ctx;

static void *send_3000(void *p)
{
    sender_ctx *c = p;
    char chunk[100];
    for (int i = 0; i < 30; i++) {
        memset(chunk, 'A' + i % 26, sizeof(chunk));
        size_t sent = 0;
        while (sent < sizeof(chunk)) {
            int32_t n = SOCKETS_Send(c->s, chunk + sent, sizeof(chunk) - sent, 0);
            if (n <= 0) { c->failed = 1; return NULL; }
            sent += (size_t)n;
        }
    }
    return NULL;
}

START_TEST(concurrent_send_and_recv_on_one_socket)
{
    Socket_t s = connect_echo();
    sender_ctx c = {s, 0};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, send_3000, &c), 0);
    char in[3000];
    size_t got = 0;
    while (got < sizeof(in)) {
        int32_t n = SOCKETS_Recv(s, in + got, sizeof(in) - got, 0);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    pthread_join(t, NULL);
    ck_assert_int_eq(c.failed, 0);
    for (size_t i = 0; i < sizeof(in); i++) ck_assert_int_eq(in[i], 'A' + (int)(i / 100) % 26);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

typedef struct {
    int failed;
    char why[160];
} rounds_ctx;

/* Record the first failure of a round with what the library said. */
static void round_failed(rounds_ctx *r, int round, const char *step, int32_t rc)
{
    if (!r->failed) {
        snprintf(r->why, sizeof(r->why), "round %d: %s returned %d (%s)", round, step, (int)rc,
                 lwss_last_error());
    }
    r->failed = 1;
}

static void *ten_rounds(void *p)
{
    rounds_ctx *r = p;
    for (int i = 0; i < 10 && !r->failed; i++) {
        Socket_t s;
        int rc = lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test");
        if (rc != 0) {
            round_failed(r, i, "connect", rc);
            break;
        }
        char out[64], in[64];
        memset(out, 'a' + i, sizeof(out));
        size_t got = 0;
        int32_t n = SOCKETS_Send(s, out, sizeof(out), 0);
        if (n != (int32_t)sizeof(out)) round_failed(r, i, "SOCKETS_Send", n);
        while (!r->failed && got < sizeof(in)) {
            n = SOCKETS_Recv(s, in + got, sizeof(in) - got, 0);
            if (n <= 0) round_failed(r, i, "SOCKETS_Recv", n); else got += (size_t)n;
        }
        if (!r->failed && memcmp(in, out, sizeof(in)) != 0) round_failed(r, i, "compare", 0);
        n = SOCKETS_Close(s);
        if (n != 0) round_failed(r, i, "SOCKETS_Close", n);
    }
    return NULL;
}

START_TEST(two_threads_ten_rounds_each)
{
    pthread_t t[2];
    rounds_ctx r[2];
    memset(r, 0, sizeof(r));
    for (int i = 0; i < 2; i++) ck_assert_int_eq(pthread_create(&t[i], NULL, ten_rounds, &r[i]), 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    ck_assert_msg(r[0].failed == 0, "thread 0: %s", r[0].why);
    ck_assert_msg(r[1].failed == 0, "thread 1: %s", r[1].why);
}
END_TEST

Suite *tls_full_tcp_suite(void);
Suite *tls_full_tcp_suite(void)
{
    Suite *s = suite_create("tls_full_tcp");
    TCase *tc = tcase_create("secure");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, send_recv_lengths_on_fresh_connections);
    tcase_add_test(tc, trusted_cert_option_replaces_token_roots);
    tcase_add_test(tc, wrong_ca_and_wrong_sni_fail);
    tcase_add_test(tc, tls_options_after_connect_and_nonblock_before);
    tcase_add_test(tc, two_connections_interleaved);
    tcase_add_test(tc, recv_byte_by_byte);
    tcase_add_test(tc, recv_timeouts);
    tcase_add_test(tc, nonblock_after_connect);
    tcase_add_test(tc, shutdown_cases);
    tcase_add_test(tc, concurrent_send_and_recv_on_one_socket);
    tcase_add_test(tc, two_threads_ten_rounds_each);
    suite_add_tcase(s, tc);
    return s;
}
