/* Secure Sockets without a stack: constants, macros, argument checks and
 * handle validation (no network needed). */
#include "tests/support/lwss_test.h"
#include "tests/support/sockets_rig_util.h"

#include <stdint.h>
#include <string.h>

#include "iot_secure_sockets.h"
#include "lwss/dns.h"
#include "lwss/port.h"
#include "lwss/sockets.h"

START_TEST(constants_match_the_contract)
{
    ck_assert_ptr_eq(SOCKETS_INVALID_SOCKET, (Socket_t)(uintptr_t)0xffffffffu);
    ck_assert_int_eq(sizeof(Socklen_t), 4);
    ck_assert_int_eq(offsetof(SocketsSockaddr_t, ucLength), 0);
    ck_assert_int_eq(offsetof(SocketsSockaddr_t, ucSocketDomain), 1);
    ck_assert_int_eq(offsetof(SocketsSockaddr_t, usPort), 2);
    ck_assert_int_eq(offsetof(SocketsSockaddr_t, ulAddress), 4);
    const int32_t got[] = {
        SOCKETS_AF_INET, SOCKETS_PF_INET, SOCKETS_AF_INET6, SOCKETS_SOCK_STREAM, SOCKETS_SOCK_DGRAM,
        SOCKETS_IPPROTO_TCP, SOCKETS_IPPROTO_UDP, SOCKETS_SHUT_RD, SOCKETS_SHUT_WR, SOCKETS_SHUT_RDWR,
        securesocketsMAX_DNS_NAME_LENGTH, securesocketsDEFAULT_TLS_DESTINATION_PORT,
        SOCKETS_SO_RCVTIMEO, SOCKETS_SO_SNDTIMEO, SOCKETS_SO_SNDBUF, SOCKETS_SO_RCVBUF,
        SOCKETS_SO_SERVER_NAME_INDICATION, SOCKETS_SO_TRUSTED_SERVER_CERTIFICATE,
        SOCKETS_SO_REQUIRE_TLS, SOCKETS_SO_NONBLOCK, SOCKETS_SO_ALPN_PROTOCOLS,
        SOCKETS_SO_WAKEUP_CALLBACK, SOCKETS_SO_TCPKEEPALIVE, SOCKETS_SO_TCPKEEPALIVE_INTERVAL,
        SOCKETS_SO_TCPKEEPALIVE_COUNT, SOCKETS_SO_TCPKEEPALIVE_IDLE_TIME,
        SOCKETS_ERROR_NONE, SOCKETS_SOCKET_ERROR, SOCKETS_EWOULDBLOCK, SOCKETS_ENOMEM,
        SOCKETS_EINVAL, SOCKETS_ENOPROTOOPT, SOCKETS_ENOTCONN, SOCKETS_EISCONN, SOCKETS_ECLOSED,
        SOCKETS_TLS_INIT_ERROR, SOCKETS_TLS_HANDSHAKE_ERROR, SOCKETS_TLS_SERVER_UNVERIFIED,
        SOCKETS_TLS_RECV_ERROR, SOCKETS_TLS_SEND_ERROR, SOCKETS_PERIPHERAL_RESET,
    };
    const int32_t want[] = {
        2, 2, 10, 1, 2, 6, 17, 0, 1, 2, 253, 443,
        0, 1, 4, 5, 6, 7, 8, 9, 10, 17, 18, 19, 20, 21,
        0, -1, -11, -12, -22, -109, -126, -127, -128,
        -1001, -1002, -1003, -1004, -1005, -1006,
    };
    ck_assert_int_eq(sizeof(got), sizeof(want));
    for (size_t i = 0; i < sizeof(got) / sizeof(got[0]); i++) {
        ck_assert_msg(got[i] == want[i], "constant #%zu is %d, contract says %d", i, got[i],
                      want[i]);
    }
    ck_assert_str_eq(socketsAWS_IOT_ALPN_MQTT, "x-amzn-mqtt-ca");
    ck_assert_int_eq(socketsconfigDEFAULT_RECV_TIMEOUT, 10000);
    ck_assert_int_eq(socketsconfigDEFAULT_SEND_TIMEOUT, 10000);
}
END_TEST

START_TEST(byte_order_and_address_macros)
{
    ck_assert_uint_eq(SOCKETS_htons(0x1234), 0x3412);
    ck_assert_uint_eq(SOCKETS_ntohs(0x3412), 0x1234);
    ck_assert_uint_eq(SOCKETS_htonl(0x12345678u), 0x78563412u);
    ck_assert_uint_eq(SOCKETS_ntohl(0x78563412u), 0x12345678u);
    ck_assert_uint_eq(SOCKETS_inet_addr_quick(192, 168, 2, 6), 0x0602A8C0u);
    char buf[16];
    SOCKETS_inet_ntoa(SOCKETS_inet_addr_quick(255, 255, 255, 255), buf);
    ck_assert_str_eq(buf, "255.255.255.255");
    SOCKETS_inet_ntoa(SOCKETS_inet_addr_quick(192, 0, 2, 1), buf);
    ck_assert_str_eq(buf, "192.0.2.1");
    ck_assert_uint_eq(pdMS_TO_TICKS(2000), 2000);
    ck_assert_int_eq(pdPASS, 1);
    ck_assert_int_eq(pdFAIL, 0);
}
END_TEST

START_TEST(socket_without_stack_fails_cleanly)
{
    ck_assert_int_eq(lwss_port_is_up(), 0);
    ck_assert_ptr_eq(SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP),
                     SOCKETS_INVALID_SOCKET);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "not up"));
}
END_TEST

static int dummy_object;

/* Handles that were never returned by SOCKETS_Socket: all get EINVAL. */
START_TEST(garbage_handles_get_einval)
{
    Socket_t bad[] = {
        SOCKETS_INVALID_SOCKET,
        NULL,
        (Socket_t)&dummy_object,
        (Socket_t)(uintptr_t)1,
        (Socket_t)(uintptr_t)0x100000001ull,      /* plausible encoding, never issued */
        (Socket_t)(uintptr_t)0xffffffff00000fffull,
        (Socket_t)(uintptr_t)UINTPTR_MAX,
    };
    SocketsSockaddr_t a = {.usPort = SOCKETS_htons(7), .ulAddress = SOCKETS_inet_addr_quick(192, 0, 2, 1)};
    char buf[8] = {0};
    TickType_t t = 10;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        Socket_t s = bad[i];
        ck_assert_int_eq(SOCKETS_Close(s), SOCKETS_EINVAL);
        ck_assert_int_eq(SOCKETS_Shutdown(s, SOCKETS_SHUT_RDWR), SOCKETS_EINVAL);
        ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), SOCKETS_EINVAL);
        ck_assert_int_eq(SOCKETS_Bind(s, &a, sizeof(a)), SOCKETS_EINVAL);
        ck_assert_int_eq(SOCKETS_Send(s, buf, sizeof(buf), 0), SOCKETS_EINVAL);
        ck_assert_int_eq(SOCKETS_Recv(s, buf, sizeof(buf), 0), SOCKETS_EINVAL);
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t)),
                         SOCKETS_EINVAL);
        ck_assert_int_eq(lwss_socket_tls_error(s, buf, sizeof(buf)), SOCKETS_EINVAL);
        ck_assert_int_eq(lwss_socket_lwip_fd(s), SOCKETS_EINVAL);
    }
    ck_assert_int_eq(SOCKETS_Shutdown(SOCKETS_INVALID_SOCKET, ~0u), SOCKETS_EINVAL);
}
END_TEST

START_TEST(get_host_by_name_without_network)
{
    ck_assert_uint_eq(SOCKETS_GetHostByName(NULL), 0);
    ck_assert_uint_eq(SOCKETS_GetHostByName(""), 0);
    ck_assert_uint_eq(SOCKETS_GetHostByName("192.0.2.1"), SOCKETS_inet_addr_quick(192, 0, 2, 1));
    char longname[300];
    memset(longname, 'a', sizeof(longname));
    for (size_t i = 50; i < 254; i += 50) {
        longname[i] = '.';
    }
    longname[254] = '\0'; /* 254 characters: one too many */
    ck_assert_uint_eq(SOCKETS_GetHostByName(longname), 0);
    ck_assert_int_eq(lwss_dns_hosts_add("device.example", SOCKETS_inet_addr_quick(10, 1, 2, 3)),
                     LWSS_OK);
    ck_assert_uint_eq(SOCKETS_GetHostByName("DEVICE.example."),
                      SOCKETS_inet_addr_quick(10, 1, 2, 3));
    ck_assert_int_eq(lwss_dns_hosts_remove("device.example"), LWSS_OK);
    /* Not in the table, and no stack: no answer, no hang. */
    ck_assert_uint_eq(SOCKETS_GetHostByName("device.example"), 0);
}
END_TEST

START_TEST(connect_timeout_setting)
{
    uint32_t before = lwss_sockets_connect_timeout();
    ck_assert_uint_eq(before, socketsconfigDEFAULT_CONNECT_TIMEOUT);
    ck_assert_int_eq(lwss_sockets_set_connect_timeout(0), SOCKETS_EINVAL);
    ck_assert_int_eq(lwss_sockets_set_connect_timeout(3600001u), SOCKETS_EINVAL);
    ck_assert_int_eq(lwss_sockets_set_connect_timeout(1500), SOCKETS_ERROR_NONE);
    ck_assert_uint_eq(lwss_sockets_connect_timeout(), 1500);
    ck_assert_int_eq(lwss_sockets_set_connect_timeout(before), SOCKETS_ERROR_NONE);
}
END_TEST

Suite *sockets_unit_suite(void);

Suite *sockets_unit_suite(void)
{
    Suite *s = suite_create("sockets_unit");
    TCase *tc = tcase_create("no_stack");
    tcase_add_checked_fixture(tc, lwss_st_unit_setup, lwss_leak_teardown);
    tcase_add_test(tc, constants_match_the_contract);
    tcase_add_test(tc, byte_order_and_address_macros);
    tcase_add_test(tc, socket_without_stack_fails_cleanly);
    tcase_add_test(tc, garbage_handles_get_einval);
    tcase_add_test(tc, get_host_by_name_without_network);
    tcase_add_test(tc, connect_timeout_setting);
    suite_add_tcase(s, tc);
    return s;
}
