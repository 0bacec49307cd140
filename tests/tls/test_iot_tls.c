/*
 * Unit suite "iot_tls": AFR's TLS abstraction (include/iot_tls.h) with its
 * NetworkSend_t/NetworkRecv_t over a kernel socketpair, against the tests'
 * mbedtls server (tls_test_server.c) and software token (tls_test_token.c).
 * Cases follow AFR's Full_TLS group (tests/common/tls/aws_test_tls.c):
 * connect with EC and RSA credentials, malformed and untrusted server
 * certificates, missing client credentials.
 */
#include "iot_tls.h"
#include "tests/support/lwss_test.h"
#include "tests/support/tls_test_util.h"
#include "lwss/tls.h"

#include <mbedtls/x509.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static lwss_tt_server server;
static int client_fd = -1;
static unsigned char *ca_pem;
static size_t ca_pem_len;

static void use_token(const char *root, const char *cert, const char *key)
{
    lwss_tt_token_spec spec = {root, cert, key};
    lwss_tls_set_token(lwss_tt_token(&spec));
}

static void setup(void)
{
    signal(SIGPIPE, SIG_IGN);
    lwss_leak_setup_fds();
    use_token("ca.crt", "client-ec.crt", "client-ec.key");
    char path[512];
    ca_pem = lwss_tt_read_file(lwss_tt_cert_path("ca.crt", path, sizeof(path)), &ca_pem_len);
    ck_assert_ptr_nonnull(ca_pem);
}

static void teardown(void)
{
    TLS_setDateIsInThePastFunction(NULL);
    free(ca_pem);
    ca_pem = NULL;
    lwss_tls_set_token(NULL);
    lwss_tt_token_free();
    lwss_leak_teardown_fds();
}

/* The application's transport: a kernel socket with a 2 s receive timeout. */
static BaseType_t app_recv(void *ctx, unsigned char *buf, size_t len)
{
    ssize_t n = recv(*(int *)ctx, buf, len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        return 0; /* timeout: nothing read */
    }
    return n > 0 ? (BaseType_t)n : -1;
}

static BaseType_t app_send(void *ctx, const unsigned char *buf, size_t len)
{
    ssize_t n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
    return n >= 0 ? (BaseType_t)n : -1;
}

static void start_server(const char *cert, const char *key, int require_client)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct timeval tv = {2, 0};
    ck_assert_int_eq(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    memset(&server, 0, sizeof(server));
    server.fd = sv[1];
    server.cert = cert;
    server.key = key;
    server.require_client_cert = require_client;
    server.connections = 1;
    client_fd = sv[0];
    ck_assert_int_eq(lwss_tt_server_start(&server), 0);
}

/* TLS_Init with the rig CA (PEM, length with the NUL as AFR requires). */
static void *init_ctx(const char *destination, const char *pem, uint32_t pem_len)
{
    TLSParams_t p = {
        .ulSize = sizeof(TLSParams_t),
        .pcDestination = destination,
        .pcServerCertificate = pem,
        .ulServerCertificateLength = pem_len,
        .pxNetworkRecv = app_recv,
        .pxNetworkSend = app_send,
        .pvCallerContext = &client_fd,
    };
    void *ctx = NULL;
    ck_assert_int_eq(TLS_Init(&ctx, &p), 0);
    ck_assert_ptr_nonnull(ctx);
    return ctx;
}

static void *init_trusting_ca(const char *destination)
{
    return init_ctx(destination, (const char *)ca_pem, (uint32_t)ca_pem_len + 1u);
}

static void finish(void *ctx)
{
    TLS_Cleanup(ctx);
    close(client_fd);
    client_fd = -1;
    lwss_tt_server_join(&server);
}

static void echo_ok(void *ctx, size_t len)
{
    unsigned char out[4096], in[4096];
    for (size_t i = 0; i < len; i++) {
        out[i] = (unsigned char)(i * 13 + 1);
    }
    ck_assert_int_eq(TLS_Send(ctx, out, len), (BaseType_t)len);
    size_t got = 0;
    for (int tries = 0; got < len && tries < 20; tries++) {
        BaseType_t n = TLS_Recv(ctx, in + got, len - got);
        ck_assert_int_ge(n, 0);
        got += (size_t)n;
    }
    ck_assert_uint_eq(got, len);
    ck_assert_mem_eq(in, out, len);
}

static void connect_and_echo(void)
{
    start_server("server.crt", "server.key", 1);
    void *ctx = init_trusting_ca("echo.lwss.test");
    ck_assert_int_eq(TLS_Connect(ctx), 0);
    echo_ok(ctx, 1);
    echo_ok(ctx, 3000);
    finish(ctx);
    ck_assert_int_eq(server.handshakes_ok, 1);
    ck_assert_int_eq(server.got_close_notify, 1); /* TLS_Cleanup sends close_notify */
}

/* Full_TLS "ConnectEC": device cert + key from the token by AFR labels, C_Sign signs. */
START_TEST(full_tls_connect_ec)
{
    int signs = lwss_tt_token_signs();
    connect_and_echo();
    ck_assert_int_gt(lwss_tt_token_signs(), signs);
}
END_TEST

/* Full_TLS "ConnectRSA". */
START_TEST(full_tls_connect_rsa)
{
    use_token("ca.crt", "client-rsa.crt", "client-rsa.key");
    int signs = lwss_tt_token_signs();
    connect_and_echo();
    ck_assert_int_gt(lwss_tt_token_signs(), signs);
}
END_TEST

/* Without pcServerCertificate the token's "Root Cert" is the trust anchor. */
START_TEST(token_roots_when_no_server_certificate)
{
    start_server("server.crt", "server.key", 1);
    void *ctx = init_ctx("echo.lwss.test", NULL, 0);
    ck_assert_int_eq(TLS_Connect(ctx), 0);
    echo_ok(ctx, 100);
    finish(ctx);
}
END_TEST

/* Full_TLS "ConnectMalformedCert": pcServerCertificate that does not parse. */
START_TEST(full_tls_malformed_server_certificate)
{
    static const char junk[] = "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
                               "-----END CERTIFICATE-----\n";
    start_server("server.crt", "server.key", 1);
    void *ctx = init_ctx("echo.lwss.test", junk, sizeof(junk));
    ck_assert_int_eq(TLS_Connect(ctx), TLS_ERROR_HANDSHAKE_FAILED);
    finish(ctx);
    ck_assert_int_eq(server.handshakes_ok, 0);
}
END_TEST

/* Full_TLS "ConnectUntrustedCert": a server certificate from another CA. */
START_TEST(full_tls_untrusted_server)
{
    start_server("untrusted.crt", "untrusted.key", 1);
    void *ctx = init_trusting_ca("echo.lwss.test");
    ck_assert_int_eq(TLS_Connect(ctx), MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    /* After a failed connect, Recv/Send report errors, Cleanup still frees. */
    unsigned char b[4];
    ck_assert_int_lt(TLS_Recv(ctx, b, sizeof(b)), 0);
    ck_assert_int_lt(TLS_Send(ctx, b, sizeof(b)), 0);
    finish(ctx);
}
END_TEST

/* pcDestination is the name checked against the certificate. */
START_TEST(wrong_server_name)
{
    start_server("wrong-name.crt", "wrong-name.key", 1);
    void *ctx = init_trusting_ca("echo.lwss.test");
    ck_assert_int_eq(TLS_Connect(ctx), MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    finish(ctx);
}
END_TEST

/* iot_tls.h: TLS_ERROR_NO_PRIVATE_KEY when the server asks and the token has no key. */
START_TEST(no_private_key)
{
    use_token("ca.crt", "client-ec.crt", NULL);
    start_server("server.crt", "server.key", 1);
    void *ctx = init_trusting_ca("echo.lwss.test");
    ck_assert_int_eq(TLS_Connect(ctx), TLS_ERROR_NO_PRIVATE_KEY);
    finish(ctx);
}
END_TEST

/* iot_tls.h: TLS_ERROR_NO_CERTIFICATE when the key is there but not the certificate. */
START_TEST(no_client_certificate)
{
    use_token("ca.crt", NULL, "client-ec.key");
    start_server("server.crt", "server.key", 1);
    void *ctx = init_trusting_ca("echo.lwss.test");
    ck_assert_int_eq(TLS_Connect(ctx), TLS_ERROR_NO_CERTIFICATE);
    finish(ctx);
}
END_TEST

/* A server that does not ask for a client certificate accepts a device without one. */
START_TEST(no_credentials_needed_when_not_asked)
{
    use_token("ca.crt", NULL, NULL);
    start_server("server.crt", "server.key", 0);
    void *ctx = init_trusting_ca("echo.lwss.test");
    ck_assert_int_eq(TLS_Connect(ctx), 0);
    echo_ok(ctx, 10);
    finish(ctx);
}
END_TEST

static BaseType_t always_past(BaseType_t day, BaseType_t month, BaseType_t year)
{
    (void)day;
    (void)month;
    return year > 0;
}

/* AFR's date callback: a certificate it calls past is refused. */
START_TEST(date_callback_marks_expired)
{
    TLS_setDateIsInThePastFunction(always_past);
    start_server("server.crt", "server.key", 1);
    void *ctx = init_trusting_ca("echo.lwss.test");
    ck_assert_int_eq(TLS_Connect(ctx), MBEDTLS_ERR_X509_CERT_VERIFY_FAILED);
    finish(ctx);
}
END_TEST

/* TLS_Recv returns 0 when the receive callback timed out with nothing. */
START_TEST(recv_timeout_returns_zero)
{
    server.stall_ms = 0;
    start_server("server.crt", "server.key", 1);
    void *ctx = init_trusting_ca("echo.lwss.test");
    ck_assert_int_eq(TLS_Connect(ctx), 0);
    unsigned char b[16];
    ck_assert_int_eq(TLS_Recv(ctx, b, sizeof(b)), 0); /* SO_RCVTIMEO 2 s, nothing sent */
    echo_ok(ctx, 16);                                  /* and the session still works */
    finish(ctx);
}
END_TEST

START_TEST(init_rejects_bad_arguments)
{
    TLSParams_t p = {.ulSize = sizeof(p)};
    void *ctx = (void *)&p;
    ck_assert_int_ne(TLS_Init(&ctx, &p), 0); /* no callbacks */
    ck_assert_int_ne(TLS_Init(NULL, &p), 0);
    ck_assert_int_lt(TLS_Connect(NULL), 0);
    TLS_Cleanup(NULL);
}
END_TEST

Suite *iot_tls_suite(void);
Suite *iot_tls_suite(void)
{
    Suite *s = suite_create("iot_tls");
    TCase *t = tcase_create("iot_tls");
    tcase_set_timeout(t, 60);
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, full_tls_connect_ec);
    tcase_add_test(t, full_tls_connect_rsa);
    tcase_add_test(t, token_roots_when_no_server_certificate);
    tcase_add_test(t, full_tls_malformed_server_certificate);
    tcase_add_test(t, full_tls_untrusted_server);
    tcase_add_test(t, wrong_server_name);
    tcase_add_test(t, no_private_key);
    tcase_add_test(t, no_client_certificate);
    tcase_add_test(t, no_credentials_needed_when_not_asked);
    tcase_add_test(t, date_callback_marks_expired);
    tcase_add_test(t, recv_timeout_returns_zero);
    tcase_add_test(t, init_rejects_bad_arguments);
    suite_add_tcase(s, t);
    return s;
}
