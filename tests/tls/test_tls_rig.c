/*
 * Rig suite "tls_rig": mutual auth with EC and RSA keys from the token,
 * bad server certificates from openssl s_server peers, a server requiring a
 * client certificate the token does not have, ALPN, resumption counted by
 * the echo server, and the capture of a TLS echo holding no plaintext.
 */
#include "tests/support/lwss_test.h"
#include "tests/support/tls_rig_util.h"
#include "tests/support/tls_test_util.h"
#include "lwss/port.h"
#include "lwss/sockets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static lwss_tr_identity identity = LWSS_TR_EC;

static void setup(void)
{
    lwss_leak_setup_fds();
    lwss_tr_stack_up();
    lwss_tr_provision(identity, 1);
}

static void teardown(void)
{
    lwss_tr_stack_down();
    lwss_tr_unprovision();
    lwss_leak_teardown_fds();
}

/* Wait (bounded) until the echo server's counter reaches @p want. */
static long wait_stat(const char *key, long want)
{
    long v = -1;
    uint64_t deadline = lwss_test_now_ms() + 5000;
    while ((v = lwss_tr_echo_stat(key)) < want && lwss_test_now_ms() < deadline) {
        usleep(20000);
    }
    return v;
}

static void mutual_echo(lwss_tr_identity who)
{
    lwss_tr_unprovision();
    lwss_tr_provision(who, 1);
    long before = lwss_tr_echo_stat("tls_connections");
    Socket_t s;
    ck_assert_int_eq(lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test"), 0);
    lwss_tr_echo(s, 4000, 3);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    ck_assert_int_ge(wait_stat("tls_connections", before + 1), before + 1);
}

START_TEST(mutual_auth_ec_key_in_token)
{
    mutual_echo(LWSS_TR_EC);
}
END_TEST

START_TEST(mutual_auth_rsa_key_in_token)
{
    mutual_echo(LWSS_TR_RSA);
}
END_TEST

static int32_t connect_sserver(const char *cert, const char *key, const char *const *extra,
                               const char *sni, lwss_tr_sserver *srv)
{
    lwss_tr_sserver_start(srv, 9443, cert, key, extra);
    Socket_t s;
    int32_t rc = lwss_tr_connect_tls(&s, 9443, sni);
    if (rc == 0) {
        SOCKETS_Close(s);
    }
    lwss_tr_sserver_stop(srv);
    return rc;
}

START_TEST(bad_server_certificates_fail_unverified)
{
    lwss_tr_sserver srv;
    ck_assert_int_eq(connect_sserver("expired.crt", "expired.key", NULL, "echo.lwss.test", &srv),
                     SOCKETS_TLS_SERVER_UNVERIFIED);
    ck_assert_msg(strstr(lwss_last_error(), "expired") != NULL, "%s", lwss_last_error());
    ck_assert_int_eq(connect_sserver("untrusted.crt", "untrusted.key", NULL, "echo.lwss.test", &srv),
                     SOCKETS_TLS_SERVER_UNVERIFIED);
    ck_assert_int_eq(connect_sserver("wrong-name.crt", "wrong-name.key", NULL, "echo.lwss.test", &srv),
                     SOCKETS_TLS_SERVER_UNVERIFIED);
    ck_assert_msg(strstr(lwss_last_error(), "CN") != NULL, "%s", lwss_last_error());
    ck_assert_int_eq(connect_sserver("wrong-name.crt", "wrong-name.key", NULL, NULL, &srv),
                     SOCKETS_TLS_SERVER_UNVERIFIED); /* no SNI: the IP SAN is checked */
    ck_assert_int_eq(connect_sserver("server.crt", "server.key", NULL, "other.lwss.test", &srv),
                     SOCKETS_TLS_SERVER_UNVERIFIED); /* wrong SNI */
}
END_TEST

START_TEST(server_requiring_client_cert_without_one_fails_cleanly)
{
    lwss_tr_unprovision();
    lwss_tr_provision(LWSS_TR_NO_CLIENT, 1);
    char ca[512];
    const char *const extra[] = {"-Verify", "1", "-CAfile", lwss_tt_cert_path("ca.crt", ca, sizeof(ca)), NULL};
    lwss_tr_sserver srv;
    ck_assert_int_eq(connect_sserver("server.crt", "server.key", extra, "echo.lwss.test", &srv),
                     SOCKETS_TLS_HANDSHAKE_ERROR);
    /* and the rig echo server (which also requires one) */
    Socket_t s;
    ck_assert_int_eq(lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test"),
                     SOCKETS_TLS_HANDSHAKE_ERROR);
    ck_assert_int_eq(lwss_tr_connect_tls(&s, 9, "echo.lwss.test") < 0, 1); /* nothing listens */
}
END_TEST

/* The echo server verifies client certificates against --ca (the reference
 * accepted any); --tls-any-client restores the reference's way. */
START_TEST(echo_server_verifies_client_certificates)
{
    lwss_tr_unprovision();
    lwss_tr_provision(LWSS_TR_OTHER_CA, 1); /* device cert from another CA */
    Socket_t s;
    ck_assert_int_eq(lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test"),
                     SOCKETS_TLS_HANDSHAKE_ERROR);
    pid_t any = lwss_tr_echo_start(7007, 9883, 1);
    int32_t rc = lwss_tr_connect_tls(&s, 9883, "echo.lwss.test");
    if (rc == 0) {
        lwss_tr_echo(s, 64, 5);
        SOCKETS_Close(s);
    }
    lwss_tr_echo_stop(any);
    ck_assert_int_eq(rc, 0);
}
END_TEST

START_TEST(openssl_s_server_as_peer_with_mutual_auth_and_alpn)
{
    char ca[512];
    const char *const extra[] = {"-Verify", "1", "-CAfile", lwss_tt_cert_path("ca.crt", ca, sizeof(ca)),
                                 "-alpn", "x-amzn-mqtt-ca", NULL};
    lwss_tr_sserver srv;
    lwss_tr_sserver_start(&srv, 9443, "server.crt", "server.key", extra);
    static const char *alpn[] = {"x-amzn-mqtt-ca", "lwss-echo"};
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, "echo.lwss.test", 14), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_ALPN_PROTOCOLS, alpn, 2), 0);
    TickType_t t = 5000;
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t)), 0);
    SocketsSockaddr_t a = lwss_tr_peer(9443);
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), 0);
    ck_assert_int_eq(SOCKETS_Send(s, "hello lwss\n", 11, 0), 11);
    char in[16] = {0};
    size_t got = 0;
    while (got < 11) {
        int32_t n = SOCKETS_Recv(s, in + got, 11 - got, 0);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    ck_assert_str_eq(in, "sswl olleh\n"); /* s_server -rev answers reversed */
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    lwss_tr_sserver_stop(&srv);
    ck_assert_msg(strstr(srv.log, "ALPN protocols selected: x-amzn-mqtt-ca") != NULL, "%s", srv.log);
    ck_assert_msg(strstr(srv.log, "Protocol version: TLSv1.2") != NULL, "%s", srv.log);
}
END_TEST

START_TEST(alpn_with_the_echo_server)
{
    static const char *alpn[] = {"x-amzn-mqtt-ca"};
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_ALPN_PROTOCOLS, alpn, 1), 0);
    SocketsSockaddr_t a = lwss_tr_peer(lwss_tr_tls_port());
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), 0);
    lwss_tr_echo(s, 10, 4);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    char log[512];
    snprintf(log, sizeof(log), "%s/echo.log", lwss_test_env("LWSS_RIG_RUNDIR", "."));
    uint64_t deadline = lwss_test_now_ms() + 3000;
    while (!lwss_tr_file_contains(log, "alpn=x-amzn-mqtt-ca", 19) && lwss_test_now_ms() < deadline) {
        usleep(20000);
    }
    ck_assert(lwss_tr_file_contains(log, "alpn=x-amzn-mqtt-ca", 19));
}
END_TEST

START_TEST(second_connection_resumes)
{
    long conns = lwss_tr_echo_stat("tls_connections");
    long resumed = lwss_tr_echo_stat("tls_resumed");
    ck_assert_int_ge(conns, 0);
    for (int i = 0; i < 2; i++) {
        Socket_t s;
        ck_assert_int_eq(lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test"), 0);
        lwss_tr_echo(s, 20, (uint8_t)i);
        ck_assert_int_eq(SOCKETS_Close(s), 0);
    }
    ck_assert_int_ge(wait_stat("tls_connections", conns + 2), conns + 2);
    /* a connection's resumption is counted when it ends */
    ck_assert_int_eq(wait_stat("tls_resumed", resumed + 1) - resumed, 1);
}
END_TEST

START_TEST(no_resume_option_forces_full_handshakes)
{
    long conns = lwss_tr_echo_stat("tls_connections");
    long resumed = lwss_tr_echo_stat("tls_resumed");
    ck_assert_int_ge(conns, 0);
    for (int i = 0; i < 2; i++) {
        Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), 0);
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION,
                                            "echo.lwss.test", 14), 0);
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, LWSS_SO_TLS_NO_RESUME, NULL, 0), 0);
        SocketsSockaddr_t a = lwss_tr_peer(lwss_tr_tls_port());
        ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), 0);
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, LWSS_SO_TLS_NO_RESUME, NULL, 0),
                         SOCKETS_EISCONN);
        lwss_tr_echo(s, 20, (uint8_t)i);
        ck_assert_int_eq(SOCKETS_Close(s), 0);
    }
    ck_assert_int_ge(wait_stat("tls_connections", conns + 2), conns + 2);
    usleep(200 * 1000); /* a resumption would be counted when the connection ends */
    ck_assert_int_eq(lwss_tr_echo_stat("tls_resumed"), resumed);
}
END_TEST

/* ---- capture: the TLS echo carries no plaintext, the plain one does ---- */

static char pcap_path[256];

static void pcap_setup(void)
{
    snprintf(pcap_path, sizeof(pcap_path), "%s/tls-%d.pcap", lwss_test_env("LWSS_RIG_RUNDIR", "/tmp"),
             (int)getpid());
    setenv("LWSS_PCAP", pcap_path, 1);
    setup();
}

static void pcap_teardown(void)
{
    teardown();
    unsetenv("LWSS_PCAP");
    unlink(pcap_path);
}

START_TEST(pcap_of_tls_echo_has_no_plaintext)
{
    static const char secret[] = "lwss-secret-marker-7d1f";
    static const char plain[] = "lwss-plain-marker-93ac";
    Socket_t s;
    ck_assert_int_eq(lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test"), 0);
    ck_assert_int_eq(SOCKETS_Send(s, secret, sizeof(secret) - 1, 0), (int32_t)sizeof(secret) - 1);
    char in[64];
    size_t got = 0;
    while (got < sizeof(secret) - 1) {
        int32_t n = SOCKETS_Recv(s, in + got, sizeof(secret) - 1 - got, 0);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    SocketsSockaddr_t a = lwss_tr_peer(lwss_tr_plain_port());
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), 0);
    lwss_tr_echo(s, 8, 1);
    ck_assert_int_eq(SOCKETS_Send(s, plain, sizeof(plain) - 1, 0), (int32_t)sizeof(plain) - 1);
    got = 0;
    while (got < sizeof(plain) - 1) {
        int32_t n = SOCKETS_Recv(s, in + got, sizeof(plain) - 1 - got, 0);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    ck_assert_int_eq(lwss_port_flush_capture(), LWSS_OK);
    ck_assert_msg(lwss_tr_file_contains(pcap_path, plain, sizeof(plain) - 1),
                  "the plain echo is not in the capture");
    ck_assert_msg(!lwss_tr_file_contains(pcap_path, secret, sizeof(secret) - 1),
                  "TLS plaintext found in the capture");
}
END_TEST

Suite *tls_rig_suite(void);
Suite *tls_rig_suite(void)
{
    Suite *s = suite_create("tls_rig");
    TCase *tc = tcase_create("peers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, mutual_auth_ec_key_in_token);
    tcase_add_test(tc, mutual_auth_rsa_key_in_token);
    tcase_add_test(tc, bad_server_certificates_fail_unverified);
    tcase_add_test(tc, server_requiring_client_cert_without_one_fails_cleanly);
    tcase_add_test(tc, echo_server_verifies_client_certificates);
    tcase_add_test(tc, openssl_s_server_as_peer_with_mutual_auth_and_alpn);
    tcase_add_test(tc, alpn_with_the_echo_server);
    tcase_add_test(tc, second_connection_resumes);
    tcase_add_test(tc, no_resume_option_forces_full_handshakes);
    suite_add_tcase(s, tc);
    TCase *cap = tcase_create("capture");
    tcase_add_checked_fixture(cap, pcap_setup, pcap_teardown);
    tcase_set_timeout(cap, 30);
    tcase_add_test(cap, pcap_of_tls_echo_has_no_plaintext);
    suite_add_tcase(s, cap);
    return s;
}
