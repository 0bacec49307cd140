/* The sockets layer's own paths for TLS sockets: the wakeup callback when
 * decrypted data is already buffered (lwip_poll cannot see it), Close from
 * another thread waking a blocked TLS Recv, and the callback on close_notify.
 * Uses the TLS suites' provisioning helpers (tests/support/tls_rig_util.h). */
#include "tests/support/lwss_test.h"
#include "tests/support/sockets_rig_util.h"
#include "tests/support/tls_rig_util.h"

#include <string.h>
#include <unistd.h>

#include "iot_secure_sockets.h"
#include "lwss/sockets.h"

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

static Socket_t connect_tls(uint32_t recv_ms)
{
    Socket_t s;
    int32_t rc = lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test");
    ck_assert_msg(rc == SOCKETS_ERROR_NONE, "TLS connect: %d", (int)rc);
    TickType_t t = recv_ms;
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t)), 0);
    return s;
}

START_TEST(wakeup_fires_for_buffered_plaintext)
{
    Socket_t s = connect_tls(2000);
    lwss_st_wakeups_reset(s);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_WAKEUP_CALLBACK, (void *)lwss_st_on_wakeup,
                                        sizeof(void *)), 0);
    uint8_t out[3000], in[3000];
    for (size_t i = 0; i < sizeof(out); i++) {
        out[i] = (uint8_t)(i * 7u);
    }
    ck_assert_int_eq(SOCKETS_Send(s, out, sizeof(out), 0), (int32_t)sizeof(out));
    ck_assert_int_eq(lwss_st_wait_wakeups(1, 3000), 1);
    /* Read a little at a time: the rest of the record sits decrypted in the
     * TLS layer, so every Recv must be followed by another wakeup. */
    size_t got = 0;
    int expected = 1;
    while (got < sizeof(in)) {
        int32_t n = SOCKETS_Recv(s, in + got, 500, 0);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
        if (got < sizeof(in)) {
            expected++;
            ck_assert_msg(lwss_st_wait_wakeups(expected, 2000) >= expected,
                          "no wakeup with %zu bytes still to read", sizeof(in) - got);
        }
    }
    ck_assert_mem_eq(in, out, sizeof(out));
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

START_TEST(close_notify_wakes_once)
{
    Socket_t s = connect_tls(2000);
    lwss_st_wakeups_reset(s);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_WAKEUP_CALLBACK, (void *)lwss_st_on_wakeup,
                                        sizeof(void *)), 0);
    lwss_tr_echo(s, 100, 3);
    int before = lwss_st_wakeups();
    ck_assert_int_eq(SOCKETS_Shutdown(s, SOCKETS_SHUT_WR), 0); /* the echo server closes in turn */
    ck_assert_int_ge(lwss_st_wait_wakeups(before + 1, 3000), before + 1);
    char b[16];
    ck_assert_int_eq(SOCKETS_Recv(s, b, sizeof(b), 0), SOCKETS_ECLOSED);
    int after = lwss_st_wakeups();
    usleep(200 * 1000);
    ck_assert_int_eq(lwss_st_wakeups(), after);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

START_TEST(close_from_another_thread_wakes_tls_recv)
{
    lwss_st_check_close_wakes_recv(connect_tls(0)); /* 0: wait forever */
}
END_TEST

START_TEST(alpn_choice_is_reported)
{
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    const char *alpn[] = {"x-amzn-mqtt-ca"};
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, "echo.lwss.test",
                                        strlen("echo.lwss.test")), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_ALPN_PROTOCOLS, alpn, 1), 0);
    char name[32];
    ck_assert_int_eq(lwss_socket_alpn(s, name, sizeof(name)), 0); /* not connected yet */
    SocketsSockaddr_t a = lwss_tr_peer(lwss_tr_tls_port());
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), 0);
    ck_assert_int_eq(lwss_socket_alpn(s, name, sizeof(name)), (int32_t)strlen(alpn[0]));
    ck_assert_str_eq(name, alpn[0]);
    ck_assert_int_eq(lwss_socket_alpn(s, name, 5), SOCKETS_EINVAL); /* too small */
    ck_assert_int_eq(lwss_socket_alpn(s, NULL, 5), SOCKETS_EINVAL);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    ck_assert_int_eq(lwss_socket_alpn(s, name, sizeof(name)), SOCKETS_EINVAL);
}
END_TEST

Suite *sockets_tls_suite(void);

Suite *sockets_tls_suite(void)
{
    Suite *s = suite_create("sockets_tls");
    TCase *tc = tcase_create("tls_paths");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, wakeup_fires_for_buffered_plaintext);
    tcase_add_test(tc, close_notify_wakes_once);
    tcase_add_test(tc, close_from_another_thread_wakes_tls_recv);
    tcase_add_test(tc, alpn_choice_is_reported);
    suite_add_tcase(s, tc);
    return s;
}
