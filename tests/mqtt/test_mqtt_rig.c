/*
 * Rig suite "mqtt_rig" (issue 17): an MQTT 3.1.1 exchange with mosquitto
 * (rig.sh --mqtt: 192.0.2.1, 8883 TLS with require_certificate, 1883 plain)
 * over each of lwss's layers - Secure Sockets, AFR's iot_tls.h over a plain
 * SOCKETS_* socket, core FreeRTOS's TLS and plaintext transports - with
 * mosquitto_sub confirming delivery; then each layer's documented codes for
 * an untrusted server, a wrong name and a device without a key.
 */
#include "iot_tls.h"
#include "using_mbedtls_pkcs11.h"
#include "using_plaintext.h"
#include "tests/support/lwss_test.h"
#include "tests/mqtt/mqtt_test_client.h"
#include "tests/support/tls_rig_util.h"
#include "tests/support/tls_test_util.h"

#include <mbedtls/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Upstream's demos define the network context this way (pParams first);
 * the plaintext one has the same layout. */
struct NetworkContext {
    TlsTransportParams_t *pParams;
};

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

static unsigned char *read_cert(const char *name, size_t *len)
{
    char path[512];
    unsigned char *pem = lwss_tt_read_file(lwss_tt_cert_path(name, path, sizeof(path)), len);
    ck_assert_ptr_nonnull(pem);
    return pem;
}

/* The watcher saw "<topic> <tag> qos0" and "... qos1". */
static void check_watch(mqtt_tc_watch *w, const char *topic, const char *tag)
{
    mqtt_tc_watch_finish(w);
    char line[256];
    snprintf(line, sizeof(line), "%s %s qos0", topic, tag);
    ck_assert_msg(strstr(w->out, line) != NULL, "mosquitto_sub missed '%s': %s", line, w->out);
    snprintf(line, sizeof(line), "%s %s qos1", topic, tag);
    ck_assert_msg(strstr(w->out, line) != NULL, "mosquitto_sub missed '%s': %s", line, w->out);
}

/* ---- Secure Sockets ---------------------------------------------------- */

static int32_t ss_send(void *ctx, const void *buf, size_t len)
{
    return SOCKETS_Send(*(Socket_t *)ctx, buf, len, 0);
}

static int32_t ss_recv(void *ctx, void *buf, size_t len)
{
    return SOCKETS_Recv(*(Socket_t *)ctx, buf, len, 0);
}

/* A socket with 1 s timeouts; TLS with @p sni / @p trusted when @p tls. */
static Socket_t ss_socket(int tls, const char *sni, const unsigned char *trusted, size_t len)
{
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_ptr_ne(s, SOCKETS_INVALID_SOCKET);
    TickType_t t = pdMS_TO_TICKS(1000);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t)), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SNDTIMEO, &t, sizeof(t)), 0);
    if (tls) {
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), 0);
        if (sni != NULL) {
            ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, sni,
                                                strlen(sni)), 0);
        }
        if (trusted != NULL) {
            ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_TRUSTED_SERVER_CERTIFICATE,
                                                trusted, len), 0);
        }
    }
    return s;
}

static int32_t ss_connect(Socket_t s, uint16_t port)
{
    SocketsSockaddr_t a = lwss_tr_peer(port);
    return SOCKETS_Connect(s, &a, sizeof(a));
}

START_TEST(secure_sockets_mqtt_exchange)
{
    mqtt_tc_watch w;
    mqtt_tc_watch_start(&w, "lwss/sockets", 2);
    Socket_t s = ss_socket(1, "echo.lwss.test", NULL, 0);
    ck_assert_int_eq(ss_connect(s, mqtt_tc_tls_port()), SOCKETS_ERROR_NONE);
    mqtt_tc_io io = {ss_send, ss_recv, &s};
    mqtt_tc_exchange(&io, "lwss-sockets", "lwss/sockets", "sockets");
    mqtt_tc_expect_close(&io); /* SOCKETS_Recv: SOCKETS_ECLOSED after the broker's close */
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    check_watch(&w, "lwss/sockets", "sockets");
}
END_TEST

/* iot_secure_sockets.h: SOCKETS_TLS_SERVER_UNVERIFIED for an untrusted
 * server or a wrong name; SOCKETS_TLS_HANDSHAKE_ERROR without a client key. */
START_TEST(secure_sockets_negative_codes)
{
    size_t len;
    unsigned char *other = read_cert("other-ca.crt", &len);
    Socket_t s = ss_socket(1, "echo.lwss.test", other, len + 1);
    ck_assert_int_eq(ss_connect(s, mqtt_tc_tls_port()), SOCKETS_TLS_SERVER_UNVERIFIED);
    SOCKETS_Close(s);
    free(other);
    s = ss_socket(1, "wrong.lwss.test", NULL, 0);
    ck_assert_int_eq(ss_connect(s, mqtt_tc_tls_port()), SOCKETS_TLS_SERVER_UNVERIFIED);
    SOCKETS_Close(s);
    lwss_tr_unprovision();
    lwss_tr_provision(LWSS_TR_NO_CLIENT, 1);
    s = ss_socket(1, "echo.lwss.test", NULL, 0);
    ck_assert_int_eq(ss_connect(s, mqtt_tc_tls_port()), SOCKETS_TLS_HANDSHAKE_ERROR);
    SOCKETS_Close(s);
}
END_TEST

/* ---- iot_tls.h over a plain SOCKETS_* socket ----------------------------- */

static BaseType_t afr_send(void *ctx, const unsigned char *buf, size_t len)
{
    return SOCKETS_Send(*(Socket_t *)ctx, buf, len, 0);
}

static BaseType_t afr_recv(void *ctx, unsigned char *buf, size_t len)
{
    return SOCKETS_Recv(*(Socket_t *)ctx, buf, len, 0);
}

typedef struct afr_conn {
    Socket_t s;
    void *tls;
} afr_conn;

static int32_t tls_send_cb(void *ctx, const void *buf, size_t len)
{
    return (int32_t)TLS_Send(((afr_conn *)ctx)->tls, buf, len);
}

static int32_t tls_recv_cb(void *ctx, void *buf, size_t len)
{
    return (int32_t)TLS_Recv(((afr_conn *)ctx)->tls, buf, len);
}

/* Plain socket to the TLS port, then TLS_Init + TLS_Connect over it. */
static BaseType_t afr_connect(afr_conn *c, const char *destination, const char *pem_name)
{
    c->s = ss_socket(0, NULL, NULL, 0);
    ck_assert_int_eq(ss_connect(c->s, mqtt_tc_tls_port()), SOCKETS_ERROR_NONE);
    size_t len = 0;
    unsigned char *pem = read_cert(pem_name, &len);
    TLSParams_t p = {
        .ulSize = sizeof(p),
        .pcDestination = destination,
        .pcServerCertificate = (const char *)pem,
        .ulServerCertificateLength = (uint32_t)len + 1u, /* with the NUL, as AFR requires */
        .pxNetworkRecv = afr_recv,
        .pxNetworkSend = afr_send,
        .pvCallerContext = &c->s,
    };
    ck_assert_int_eq(TLS_Init(&c->tls, &p), 0);
    free(pem); /* TLS_Init copied it */
    return TLS_Connect(c->tls);
}

static void afr_close(afr_conn *c)
{
    TLS_Cleanup(c->tls);
    SOCKETS_Close(c->s);
}

START_TEST(iot_tls_mqtt_exchange)
{
    mqtt_tc_watch w;
    mqtt_tc_watch_start(&w, "lwss/iot_tls", 2);
    afr_conn c;
    ck_assert_int_eq(afr_connect(&c, "echo.lwss.test", "ca.crt"), 0);
    mqtt_tc_io io = {tls_send_cb, tls_recv_cb, &c};
    mqtt_tc_exchange(&io, "lwss-iot-tls", "lwss/iot_tls", "iot_tls");
    mqtt_tc_expect_close(&io); /* TLS_Recv: negative once the broker closed */
    afr_close(&c);
    check_watch(&w, "lwss/iot_tls", "iot_tls");
}
END_TEST

/* iot_tls.h: the verify failure for an untrusted server and a wrong name,
 * TLS_ERROR_NO_PRIVATE_KEY when the broker asks for a certificate the
 * device has no key for. */
START_TEST(iot_tls_negative_codes)
{
    afr_conn c;
    ck_assert_int_eq(afr_connect(&c, "echo.lwss.test", "other-ca.crt"),
                     MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    afr_close(&c);
    ck_assert_int_eq(afr_connect(&c, "wrong.lwss.test", "ca.crt"),
                     MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    afr_close(&c);
    lwss_tr_unprovision();
    lwss_tr_provision(LWSS_TR_NO_CLIENT, 1);
    ck_assert_int_eq(afr_connect(&c, "echo.lwss.test", "ca.crt"), TLS_ERROR_NO_PRIVATE_KEY);
    afr_close(&c);
}
END_TEST

/* AFR Full_TLS with credentials the application supplies at run time: it
 * imports an RSA certificate and key into the token (C_CreateObject through
 * lwss_tr_provision), then TLS_Connect signs with them (C_Sign) for the broker. */
START_TEST(iot_tls_rsa_credentials_supplied_by_app)
{
    lwss_tr_unprovision();
    lwss_tr_provision(LWSS_TR_RSA, 1);
    mqtt_tc_watch w;
    mqtt_tc_watch_start(&w, "lwss/iot_tls_rsa", 2);
    afr_conn c;
    ck_assert_int_eq(afr_connect(&c, "echo.lwss.test", "ca.crt"), 0);
    mqtt_tc_io io = {tls_send_cb, tls_recv_cb, &c};
    mqtt_tc_exchange(&io, "lwss-iot-tls-rsa", "lwss/iot_tls_rsa", "rsa");
    afr_close(&c);
    check_watch(&w, "lwss/iot_tls_rsa", "rsa");
}
END_TEST

/* ---- core FreeRTOS transports ------------------------------------------ */

static int32_t core_send(void *ctx, const void *buf, size_t len)
{
    return TLS_FreeRTOS_send(ctx, buf, len);
}

static int32_t core_recv(void *ctx, void *buf, size_t len)
{
    return TLS_FreeRTOS_recv(ctx, buf, len);
}

static int32_t plain_send(void *ctx, const void *buf, size_t len)
{
    return Plaintext_FreeRTOS_send(ctx, buf, len);
}

static int32_t plain_recv(void *ctx, void *buf, size_t len)
{
    return Plaintext_FreeRTOS_recv(ctx, buf, len);
}

START_TEST(core_transport_mqtt_exchange)
{
    mqtt_tc_watch w;
    mqtt_tc_watch_start(&w, "lwss/core", 2);
    TlsTransportParams_t params = {SOCKETS_INVALID_SOCKET};
    NetworkContext_t ctx = {&params};
    NetworkCredentials_t creds = {.pClientCertLabel = pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS,
                                  .pPrivateKeyLabel = pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS};
    ck_assert_int_eq(TLS_FreeRTOS_Connect(&ctx, mqtt_tc_host(), mqtt_tc_tls_port(), &creds, 1000,
                                          1000), TLS_TRANSPORT_SUCCESS);
    /* coreMQTT's transport contract: 0 on a receive timeout with nothing read. */
    uint8_t b;
    ck_assert_int_eq(TLS_FreeRTOS_recv(&ctx, &b, 1), 0);
    mqtt_tc_io io = {core_send, core_recv, &ctx};
    mqtt_tc_exchange(&io, "lwss-core", "lwss/core", "core");
    mqtt_tc_expect_close(&io); /* TLS_FreeRTOS_recv: < 0 on error or close */
    TLS_FreeRTOS_Disconnect(&ctx);
    ck_assert_ptr_eq(params.tcpSocket, SOCKETS_INVALID_SOCKET);
    TLS_FreeRTOS_Disconnect(&ctx); /* twice is harmless */
    check_watch(&w, "lwss/core", "core");
}
END_TEST

START_TEST(plaintext_transport_mqtt_exchange)
{
    mqtt_tc_watch w;
    mqtt_tc_watch_start(&w, "lwss/plain", 2);
    PlaintextTransportParams_t params = {SOCKETS_INVALID_SOCKET};
    NetworkContext_t ctx = {(TlsTransportParams_t *)(void *)&params};
    ck_assert_int_eq(Plaintext_FreeRTOS_Connect(&ctx, mqtt_tc_host(), mqtt_tc_port(), 1000, 1000),
                     PLAINTEXT_TRANSPORT_SUCCESS);
    mqtt_tc_io io = {plain_send, plain_recv, &ctx};
    mqtt_tc_exchange(&io, "lwss-plain", "lwss/plain", "plain");
    mqtt_tc_expect_close(&io);
    ck_assert_int_eq(Plaintext_FreeRTOS_Disconnect(&ctx), PLAINTEXT_TRANSPORT_SUCCESS);
    check_watch(&w, "lwss/plain", "plain");
}
END_TEST

/* using_mbedtls_pkcs11.h: TLS_TRANSPORT_HANDSHAKE_FAILED for an untrusted
 * server, a wrong name, a device without a key; INVALID_CREDENTIALS for a
 * key label the token does not use; CONNECT_FAILURE for a closed port. */
START_TEST(core_transport_negative_codes)
{
    TlsTransportParams_t params = {SOCKETS_INVALID_SOCKET};
    NetworkContext_t ctx = {&params};
    size_t len;
    unsigned char *other = read_cert("other-ca.crt", &len);
    NetworkCredentials_t untrusted = {.pRootCa = other, .rootCaSize = len + 1};
    ck_assert_int_eq(TLS_FreeRTOS_Connect(&ctx, mqtt_tc_host(), mqtt_tc_tls_port(), &untrusted,
                                          1000, 1000), TLS_TRANSPORT_HANDSHAKE_FAILED);
    free(other);
    NetworkCredentials_t none = {0};
    ck_assert_int_eq(TLS_FreeRTOS_Connect(&ctx, "192.0.2.99", 1, &none, 1000, 1000),
                     TLS_TRANSPORT_CONNECT_FAILURE);
    NetworkCredentials_t label = {.pPrivateKeyLabel = "some other key"};
    ck_assert_int_eq(TLS_FreeRTOS_Connect(&ctx, mqtt_tc_host(), mqtt_tc_tls_port(), &label, 1000,
                                          1000), TLS_TRANSPORT_INVALID_CREDENTIALS);
    ck_assert_int_eq(TLS_FreeRTOS_Connect(NULL, mqtt_tc_host(), 1, &none, 1000, 1000),
                     TLS_TRANSPORT_INVALID_PARAMETER);
    /* A name the certificate does not hold: the address given as the host
     * is checked against the iPAddress SAN, 192.0.2.1 only. */
    lwss_tr_unprovision();
    lwss_tr_provision(LWSS_TR_NO_CLIENT, 1);
    ck_assert_int_eq(TLS_FreeRTOS_Connect(&ctx, mqtt_tc_host(), mqtt_tc_tls_port(), &none, 1000,
                                          1000), TLS_TRANSPORT_HANDSHAKE_FAILED);
    ck_assert_ptr_eq(params.tcpSocket, SOCKETS_INVALID_SOCKET);
}
END_TEST

Suite *mqtt_rig_suite(void);
Suite *mqtt_rig_suite(void)
{
    Suite *s = suite_create("mqtt_rig");
    TCase *t = tcase_create("mqtt");
    tcase_set_timeout(t, 120);
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, secure_sockets_mqtt_exchange);
    tcase_add_test(t, secure_sockets_negative_codes);
    tcase_add_test(t, iot_tls_mqtt_exchange);
    tcase_add_test(t, iot_tls_negative_codes);
    tcase_add_test(t, iot_tls_rsa_credentials_supplied_by_app);
    tcase_add_test(t, core_transport_mqtt_exchange);
    tcase_add_test(t, plaintext_transport_mqtt_exchange);
    tcase_add_test(t, core_transport_negative_codes);
    suite_add_tcase(s, t);
    return s;
}
