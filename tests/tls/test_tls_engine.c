/*
 * Unit suite "tls_engine": the TLS layer over a kernel socketpair against
 * an in-process mbedtls server, with a software token (tls_test_token.c).
 * The same engine runs over lwIP in the rig suites (test_tls_rig.c).
 */
#include "tests/support/lwss_test.h"
#include "tests/support/tls_test_util.h"
#include "src/tls/tls_internal.h"
#include "lwss/tls.h"
#include "lwss/port.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RIG_PEER_IP "192.0.2.1"

static lwss_tt_server server;
static int client_fd = -1;
static const int *server_suites; /* for the next start_server() */
static int server_stall_ms;       /* for the next start_server() */

static void use_token(const char *root, const char *cert, const char *key)
{
    lwss_tt_token_spec spec = {root, cert, key};
    lwss_tls_set_token(lwss_tt_token(&spec));
}

/* Heap is checked by valgrind / LeakSanitizer rather than mallinfo: glibc's
 * tcache keeps freed chunks counted as in use, and the DRBG is process-wide. */
static void setup(void)
{
    signal(SIGPIPE, SIG_IGN); /* the test server writes with write(2) */
    lwss_leak_setup_fds();
    lwss_tls_session_cache_clear();
    use_token("ca.crt", "client-ec.crt", "client-ec.key");
}

static void teardown(void)
{
    lwss_tls_set_token(NULL);
    lwss_tt_token_free();
    lwss_tls_session_cache_clear();
    lwss_leak_teardown_fds();
}

/* Start a server on one end of a socketpair; client_fd is the other end. */
static void start_server(const char *cert, const char *key, int require_client, const char *alpn)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    memset(&server, 0, sizeof(server));
    server.fd = sv[1];
    server.cert = cert;
    server.key = key;
    server.require_client_cert = require_client;
    server.alpn = alpn;
    server.connections = 1;
    server.suites = server_suites;
    server.stall_ms = server_stall_ms;
    client_fd = sv[0];
    ck_assert_int_eq(lwss_tt_server_start(&server), 0);
}

static uint32_t ip_of(const char *dotted)
{
    struct in_addr a;
    inet_pton(AF_INET, dotted, &a);
    return a.s_addr;
}

static int32_t connect_opts(lwss_tls_conn **c, const lwss_tls_options *opts)
{
    /* the handshake bound scales for slow builds (valgrind: seconds per RSA handshake) */
    return lwss_tls_connect(c, client_fd, &lwss_tls_kernel_io, opts, 5000 * lwss_test_slowness(),
                            ip_of(RIG_PEER_IP), htons(8883));
}

/* Close the client side and let the server thread finish. */
static void finish(lwss_tls_conn *c)
{
    if (c != NULL) {
        lwss_tls_close(c);
    }
    close(client_fd);
    client_fd = -1;
    lwss_tt_server_join(&server);
}

static void echo_ok(lwss_tls_conn *c, size_t len)
{
    unsigned char out[4096], in[4096];
    for (size_t i = 0; i < len; i++) {
        out[i] = (unsigned char)(i * 7 + 3);
    }
    ck_assert_int_eq(lwss_tls_send(c, out, len, 5000, 0), (int32_t)len);
    size_t got = 0;
    while (got < len) {
        int32_t n = lwss_tls_recv(c, in + got, len - got, 5000, 0);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    ck_assert_mem_eq(in, out, len);
}

START_TEST(keylog_line_format)
{
    unsigned char cr[32], ms[48];
    for (int i = 0; i < 32; i++) cr[i] = (unsigned char)i;
    for (int i = 0; i < 48; i++) ms[i] = (unsigned char)(0xA0 + i % 16);
    char line[256];
    size_t n = lwss_tls_keylog_format(line, sizeof(line), cr, ms);
    ck_assert_uint_eq(n, strlen("CLIENT_RANDOM ") + 64 + 1 + 96 + 1);
    ck_assert_str_eq(line, "CLIENT_RANDOM 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f "
                           "a0a1a2a3a4a5a6a7a8a9aaabacadaeafa0a1a2a3a4a5a6a7a8a9aaabacadaeafa0a1a2a3a4a5a6a7a8a9aaabacadaeaf\n");
    ck_assert_uint_eq(lwss_tls_keylog_format(line, 100, cr, ms), 0);
}
END_TEST

START_TEST(trusted_cert_forms)
{
    char path[512];
    size_t len = 0, der_len = 0, two_len = 0;
    unsigned char *pem = lwss_tt_read_file(lwss_tt_cert_path("ca.crt", path, sizeof(path)), &len);
    unsigned char *der = lwss_tt_read_file(lwss_tt_cert_path("ca.der", path, sizeof(path)), &der_len);
    unsigned char *two = lwss_tt_read_file(lwss_tt_cert_path("two-cas.crt", path, sizeof(path)), &two_len);
    ck_assert_ptr_nonnull(pem);
    ck_assert_ptr_nonnull(der);
    ck_assert_ptr_nonnull(two);
    const struct { const unsigned char *data; size_t len; int certs; } cases[] = {
        {pem, len + 1, 1}, {pem, len, 1}, {der, der_len, 1}, {two, two_len, 2}, {two, two_len + 1, 2},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        mbedtls_x509_crt chain;
        mbedtls_x509_crt_init(&chain);
        ck_assert_int_eq(lwss_tls_parse_certs(&chain, cases[i].data, cases[i].len), 0);
        int n = 0;
        for (mbedtls_x509_crt *p = &chain; p != NULL && p->raw.p != NULL; p = p->next) n++;
        ck_assert_int_eq(n, cases[i].certs);
        mbedtls_x509_crt_free(&chain);
    }
    mbedtls_x509_crt chain;
    mbedtls_x509_crt_init(&chain);
    ck_assert_int_lt(lwss_tls_parse_certs(&chain, (const uint8_t *)"-----BEGIN CERTIFICATE-----\nzz\n", 31), 0);
    ck_assert_int_lt(lwss_tls_parse_certs(&chain, der, der_len / 2), 0);
    ck_assert_int_lt(lwss_tls_parse_certs(&chain, der, 0), 0);
    mbedtls_x509_crt_free(&chain);
    free(pem);
    free(der);
    free(two);
}
END_TEST

START_TEST(ip_san_check)
{
    char path[512];
    mbedtls_x509_crt good, wrong;
    mbedtls_x509_crt_init(&good);
    mbedtls_x509_crt_init(&wrong);
    ck_assert_int_eq(mbedtls_x509_crt_parse_file(&good, lwss_tt_cert_path("server.crt", path, sizeof(path))), 0);
    ck_assert_int_eq(mbedtls_x509_crt_parse_file(&wrong, lwss_tt_cert_path("wrong-name.crt", path, sizeof(path))), 0);
    ck_assert_int_eq(lwss_tls_cert_has_ip(&good, ip_of("192.0.2.1")), 1);
    ck_assert_int_eq(lwss_tls_cert_has_ip(&good, ip_of("192.0.2.2")), 0);
    ck_assert_int_eq(lwss_tls_cert_has_ip(&wrong, ip_of("192.0.2.1")), 0);
    ck_assert_int_eq(lwss_tls_cert_has_ip(&wrong, ip_of("192.0.2.99")), 1);
    mbedtls_x509_crt_free(&good);
    mbedtls_x509_crt_free(&wrong);
}
END_TEST

START_TEST(digest_info_sha256)
{
    static const unsigned char prefix[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                             0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
    unsigned char hash[48], out[128];
    memset(hash, 0x5a, sizeof(hash));
    size_t len = 0;
    ck_assert_int_eq(lwss_tls_digest_info(MBEDTLS_MD_SHA256, hash, 32, out, sizeof(out), &len), 0);
    ck_assert_uint_eq(len, 51);
    ck_assert_mem_eq(out, prefix, 19);
    ck_assert_mem_eq(out + 19, hash, 32);
    ck_assert_int_eq(lwss_tls_digest_info(MBEDTLS_MD_SHA384, hash, 48, out, sizeof(out), &len), 0);
    ck_assert_uint_eq(len, 67);
    ck_assert_int_ne(lwss_tls_digest_info(MBEDTLS_MD_SHA256, hash, 32, out, 20, &len), 0);
}
END_TEST

/* The token-backed pk context signs with C_Sign; mbedtls verifies with the cert key. */
static void check_adapter(const char *cert, const char *key)
{
    use_token(NULL, cert, key);
    lwss_tls_token tok = {lwss_tls_token_functions(), CK_INVALID_HANDLE, 0};
    ck_assert_int_eq(lwss_tls_token_open(&tok), 0);
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    ck_assert_int_eq(lwss_tls_token_load_client(&tok, &crt, &pk), 1);
    const struct { mbedtls_md_type_t md; size_t len; } hashes[] = {
        {MBEDTLS_MD_SHA256, 32}, {MBEDTLS_MD_SHA384, 48}};
    for (size_t i = 0; i < 2; i++) {
        unsigned char hash[48], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
        size_t sig_len = 0;
        memset(hash, (int)(0x11 * (i + 1)), sizeof(hash));
        ck_assert_int_eq(mbedtls_pk_sign(&pk, hashes[i].md, hash, hashes[i].len, sig, &sig_len,
                                         lwss_tls_rng, NULL), 0);
        ck_assert_int_eq(mbedtls_pk_verify(&crt.pk, hashes[i].md, hash, hashes[i].len, sig, sig_len), 0);
        sig[sig_len / 2] ^= 1; /* a tampered signature must not verify */
        ck_assert_int_ne(mbedtls_pk_verify(&crt.pk, hashes[i].md, hash, hashes[i].len, sig, sig_len), 0);
    }
    ck_assert_int_eq(lwss_tt_token_signs(), 2);
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
    lwss_tls_token_close(&tok);
}

START_TEST(pk_adapter_ec)
{
    check_adapter("client-ec.crt", "client-ec.key");
}
END_TEST

START_TEST(pk_adapter_rsa)
{
    check_adapter("client-rsa.crt", "client-rsa.key");
}
END_TEST

static void mutual(const char *cert, const char *key)
{
    use_token("ca.crt", cert, key);
    start_server("server.crt", "server.key", 1, NULL);
    lwss_tls_conn *c = NULL;
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    ck_assert_int_eq(connect_opts(&c, &opts), 0);
    echo_ok(c, 1);
    echo_ok(c, 1200);
    echo_ok(c, 4000);
    ck_assert_int_eq(lwss_tt_token_signs(), 1);
    finish(c);
    ck_assert_int_eq(server.handshakes_ok, 1);
    ck_assert_int_eq(server.got_close_notify, 1);
}

START_TEST(mutual_auth_ec)
{
    mutual("client-ec.crt", "client-ec.key");
}
END_TEST

START_TEST(mutual_auth_rsa)
{
    mutual("client-rsa.crt", "client-rsa.key");
}
END_TEST

START_TEST(address_as_server_name)
{
    lwss_tls_options opts = {.sni = "192.0.2.1"};
    start_server("server.crt", "server.key", 1, NULL);
    lwss_tls_conn *c = NULL;
    ck_assert_int_eq(connect_opts(&c, &opts), 0);
    echo_ok(c, 3);
    finish(c);
}
END_TEST

START_TEST(rsa_server_certificate)
{
    use_token("ca.crt", "client-rsa.crt", "client-rsa.key");
    start_server("server-rsa.crt", "server-rsa.key", 1, NULL);
    lwss_tls_conn *c = NULL;
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    ck_assert_int_eq(connect_opts(&c, &opts), 0);
    ck_assert_ptr_nonnull(strstr(mbedtls_ssl_get_ciphersuite(&c->ssl), "ECDHE-RSA"));
    echo_ok(c, 100);
    finish(c);
}
END_TEST

/* A server that only speaks CBC / SHA-1 suites: refused unless legacy suites are allowed. */
START_TEST(legacy_suites_only_when_configured)
{
    static const int cbc_only[] = {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, 0};
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    for (int legacy = 0; legacy < 2; legacy++) {
        ck_assert_int_eq(lwss_tls_allow_legacy_suites(legacy), 0);
        server_suites = cbc_only;
        start_server("server.crt", "server.key", 1, NULL);
        server_suites = NULL;
        lwss_tls_conn *c = NULL;
        ck_assert_int_eq(connect_opts(&c, &opts), legacy ? 0 : SOCKETS_TLS_HANDSHAKE_ERROR);
        if (c != NULL) echo_ok(c, 10);
        finish(c);
        lwss_tls_allow_legacy_suites(0);
    }
}
END_TEST

/* Verification failures: the right code, nothing left allocated. */
static void expect_connect_fails(const char *cert, const char *key, const lwss_tls_options *opts,
                                 int32_t code)
{
    start_server(cert, key, 0, NULL);
    lwss_tls_conn *c = (lwss_tls_conn *)1;
    ck_assert_int_eq(connect_opts(&c, opts), code);
    ck_assert_ptr_null(c);
    finish(NULL);
    ck_assert_int_eq(server.handshakes_ok, 0);
}

START_TEST(untrusted_expired_wrong_name)
{
    lwss_tls_options sni = {.sni = "echo.lwss.test"};
    expect_connect_fails("untrusted.crt", "untrusted.key", &sni, SOCKETS_TLS_SERVER_UNVERIFIED);
    expect_connect_fails("expired.crt", "expired.key", &sni, SOCKETS_TLS_SERVER_UNVERIFIED);
    expect_connect_fails("wrong-name.crt", "wrong-name.key", &sni, SOCKETS_TLS_SERVER_UNVERIFIED);
    lwss_tls_options other = {.sni = "other.lwss.test"};
    expect_connect_fails("server.crt", "server.key", &other, SOCKETS_TLS_SERVER_UNVERIFIED);
    /* no SNI: the peer address must be an iPAddress SAN of the certificate */
    lwss_tls_options none = {0};
    expect_connect_fails("wrong-name.crt", "wrong-name.key", &none, SOCKETS_TLS_SERVER_UNVERIFIED);
    /* an address as the name: checked against the iPAddress SAN too */
    lwss_tls_options ip_name = {.sni = "192.0.2.99"};
    expect_connect_fails("server.crt", "server.key", &ip_name, SOCKETS_TLS_SERVER_UNVERIFIED);
    ck_assert_str_ne(lwss_last_error(), "");
}
END_TEST

START_TEST(trusted_option_replaces_roots)
{
    char path[512];
    size_t len = 0;
    unsigned char *other = lwss_tt_read_file(lwss_tt_cert_path("other-ca.crt", path, sizeof(path)), &len);
    unsigned char *ca = lwss_tt_read_file(lwss_tt_cert_path("ca.crt", path, sizeof(path)), &len);
    lwss_tls_options opts = {.trusted_cert = other, .trusted_cert_len = strlen((char *)other) + 1,
                             .sni = "echo.lwss.test"};
    expect_connect_fails("server.crt", "server.key", &opts, SOCKETS_TLS_SERVER_UNVERIFIED);
    use_token(NULL, NULL, NULL); /* empty token: only the option can make this work */
    opts.trusted_cert = ca;
    opts.trusted_cert_len = len; /* PEM without the NUL */
    start_server("server.crt", "server.key", 0, NULL);
    lwss_tls_conn *c = NULL;
    ck_assert_int_eq(connect_opts(&c, &opts), 0);
    echo_ok(c, 9);
    finish(c);
    free(other);
    free(ca);
}
END_TEST

START_TEST(no_roots_is_unverified)
{
    use_token(NULL, "client-ec.crt", "client-ec.key");
    lwss_tls_options none = {.sni = "echo.lwss.test"};
    expect_connect_fails("server.crt", "server.key", &none, SOCKETS_TLS_SERVER_UNVERIFIED);
    ck_assert_uint_eq(server.echoed, 0);
}
END_TEST

START_TEST(client_cert_required_but_absent)
{
    use_token("ca.crt", NULL, NULL);
    start_server("server.crt", "server.key", 1, NULL);
    lwss_tls_conn *c = NULL;
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    ck_assert_int_eq(connect_opts(&c, &opts), SOCKETS_TLS_HANDSHAKE_ERROR);
    ck_assert_ptr_null(c);
    finish(NULL);
    ck_assert_int_eq(server.handshakes_ok, 0);
}
END_TEST

START_TEST(alpn_negotiated)
{
    static const char *const protos[] = {"x-amzn-mqtt-ca", "h2", NULL};
    start_server("server.crt", "server.key", 1, "x-amzn-mqtt-ca");
    lwss_tls_conn *c = NULL;
    lwss_tls_options opts = {.sni = "echo.lwss.test", .alpn = protos, .alpn_count = 2};
    ck_assert_int_eq(connect_opts(&c, &opts), 0);
    ck_assert_str_eq(lwss_tls_alpn(c), "x-amzn-mqtt-ca");
    finish(c);
    ck_assert_str_eq(server.alpn_seen, "x-amzn-mqtt-ca");
}
END_TEST

/* Second connection to the same peer resumes (no client signature); opt-out does not.
 * One server (one ticket key) serves the three connections on a unix listener. */
START_TEST(session_resumption)
{
    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "lwss-tls-%d", (int)getpid());
    socklen_t sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa.sun_path + 1));
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sa_len), 0);
    ck_assert_int_eq(listen(lfd, 4), 0);
    memset(&server, 0, sizeof(server));
    server = (lwss_tt_server){.fd = lfd, .cert = "server.crt", .key = "server.key",
                              .require_client_cert = 1, .connections = 3};
    ck_assert_int_eq(lwss_tt_server_start(&server), 0);
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    const int resumes[] = {0, 1, 0};
    for (int round = 0; round < 3; round++) {
        opts.no_resume = round == 2;
        client_fd = socket(AF_UNIX, SOCK_STREAM, 0);
        ck_assert_int_eq(connect(client_fd, (struct sockaddr *)&sa, sa_len), 0);
        int signs = lwss_tt_token_signs(), resumed = server.resumed;
        lwss_tls_conn *c = NULL;
        ck_assert_int_eq(connect_opts(&c, &opts), 0);
        echo_ok(c, 7);
        lwss_tls_close(c);
        close(client_fd);
        ck_assert_int_eq(lwss_tt_token_signs() - signs, resumes[round] ? 0 : 1);
        ck_assert_int_eq(__atomic_load_n(&server.resumed, __ATOMIC_SEQ_CST) - resumed, resumes[round]);
    }
    lwss_tt_server_join(&server);
    ck_assert_int_eq(server.handshakes_ok, 3);
    ck_assert_int_eq(lwss_tls_session_cache_count(), 1);
}
END_TEST

typedef struct sender_arg {
    lwss_tls_conn *c;
    size_t total;
    int failed;
} sender_arg;

static void *sender(void *p)
{
    sender_arg *a = p;
    unsigned char chunk[100];
    for (size_t off = 0; off < a->total; off += sizeof(chunk)) {
        for (size_t i = 0; i < sizeof(chunk); i++) chunk[i] = (unsigned char)(off + i);
        if (lwss_tls_send(a->c, chunk, sizeof(chunk), 5000, 0) != (int32_t)sizeof(chunk)) {
            a->failed = 1;
        }
    }
    return NULL;
}

START_TEST(concurrent_send_and_recv)
{
    start_server("server.crt", "server.key", 1, NULL);
    lwss_tls_conn *c = NULL;
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    ck_assert_int_eq(connect_opts(&c, &opts), 0);
    sender_arg a = {c, 3000, 0};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, sender, &a), 0);
    unsigned char in[3000];
    size_t got = 0;
    while (got < sizeof(in)) {
        int32_t n = lwss_tls_recv(c, in + got, sizeof(in) - got, 5000, 0);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    pthread_join(t, NULL);
    ck_assert_int_eq(a.failed, 0);
    for (size_t i = 0; i < sizeof(in); i++) ck_assert_uint_eq(in[i], (unsigned char)i);
    finish(c);
}
END_TEST

/* Receive batching: one transport read takes both echoed records; the
 * second is then ready without the network, counted as pending (so the
 * wakeup callback sees it), and read without waiting. */
START_TEST(batched_records_count_as_pending)
{
    start_server("server.crt", "server.key", 1, NULL);
    lwss_tls_conn *c = NULL;
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    ck_assert_int_eq(connect_opts(&c, &opts), 0);
    ck_assert_int_eq(lwss_tls_send(c, "hello", 5, 5000, 0), 5);
    ck_assert_int_eq(lwss_tls_send(c, "world!", 6, 5000, 0), 6);
    int x = mbedtls_ssl_get_record_expansion(&c->ssl); /* header + IV + tag of the suite */
    ck_assert_int_gt(x, 0);
    int queued = 0;
    for (int i = 0; i < 500 && queued < 2 * x + 11; i++) {
        ck_assert_int_eq(ioctl(client_fd, FIONREAD, &queued), 0);
        usleep(2000);
    }
    ck_assert_int_eq(queued, 2 * x + 11);
    char buf[16];
    ck_assert_int_eq(lwss_tls_recv(c, buf, sizeof(buf), 5000, 0), 5);
    ck_assert_mem_eq(buf, "hello", 5);
    ck_assert_int_eq(ioctl(client_fd, FIONREAD, &queued), 0);
    ck_assert_int_eq(queued, 0);                          /* both records left the socket */
    ck_assert_uint_eq(lwss_tls_pending(c), (size_t)x + 6); /* the second, still sealed */
    ck_assert_int_eq(lwss_tls_recv(c, buf, sizeof(buf), 0, 1), 6);
    ck_assert_mem_eq(buf, "world!", 6);
    ck_assert_uint_eq(lwss_tls_pending(c), 0);
    ck_assert_ptr_null(c->rx_batch);                      /* an idle socket holds no batch */
    echo_ok(c, 4000);
    finish(c);
}
END_TEST

START_TEST(timeouts_keep_the_session)
{
    start_server("server.crt", "server.key", 1, NULL);
    lwss_tls_conn *c = NULL;
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    ck_assert_int_eq(connect_opts(&c, &opts), 0);
    unsigned char buf[16];
    ck_assert_int_eq(lwss_tls_recv(c, buf, sizeof(buf), 0, 1), SOCKETS_EWOULDBLOCK);
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_eq(lwss_tls_recv(c, buf, sizeof(buf), 100, 0), 0);
    uint64_t took = lwss_test_now_ms() - t0;
    ck_assert_uint_ge(took, 100);
    ck_assert_uint_le(took, 300);
    echo_ok(c, 1201);
    ck_assert_int_eq(lwss_tls_pending(c), 0);
    finish(c);
}
END_TEST

/* Non-blocking sends against a stalled peer: would-block keeps the context,
 * retries with the same data complete, nothing is lost or doubled. */
START_TEST(nonblocking_send_backpressure)
{
    server_stall_ms = 300;
    start_server("server.crt", "server.key", 1, NULL);
    server_stall_ms = 0;
    lwss_tls_conn *c = NULL;
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    ck_assert_int_eq(connect_opts(&c, &opts), 0);
    enum { TOTAL = 600000 };
    unsigned char *out = malloc(TOTAL), *in = malloc(TOTAL);
    for (size_t i = 0; i < TOTAL; i++) out[i] = (unsigned char)(i * 13 + i / 251);
    size_t sent = 0, got = 0;
    int would_block = 0;
    uint64_t deadline = lwss_test_now_ms() + 20000;
    while ((sent < TOTAL || got < TOTAL) && lwss_test_now_ms() < deadline) {
        if (sent < TOTAL) {
            int32_t n = lwss_tls_send(c, out + sent, TOTAL - sent, 0, 1);
            if (n == SOCKETS_EWOULDBLOCK) would_block++;
            else { ck_assert_int_gt(n, 0); sent += (size_t)n; }
        }
        int32_t r = lwss_tls_recv(c, in + got, TOTAL - got, 0, 1);
        if (r > 0) got += (size_t)r;
        else ck_assert_int_eq(r, SOCKETS_EWOULDBLOCK);
        if (r <= 0 && sent == TOTAL) usleep(1000);
    }
    ck_assert_uint_eq(sent, TOTAL);
    ck_assert_uint_eq(got, TOTAL);
    ck_assert_int_gt(would_block, 0);
    ck_assert_int_eq(memcmp(in, out, TOTAL), 0);
    free(out);
    free(in);
    finish(c);
}
END_TEST

START_TEST(shutdown_and_errors)
{
    start_server("server.crt", "server.key", 1, NULL);
    lwss_tls_conn *c = NULL;
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    ck_assert_int_eq(connect_opts(&c, &opts), 0);
    unsigned char buf[8] = {0};
    ck_assert_int_eq(lwss_tls_shutdown(c, 7), SOCKETS_EINVAL);
    ck_assert_int_eq(lwss_tls_send(c, NULL, 5, 0, 0), SOCKETS_EINVAL);
    ck_assert_int_eq(lwss_tls_shutdown(c, 1), 0);
    ck_assert_int_eq(lwss_tls_send(c, buf, sizeof(buf), 0, 0), SOCKETS_ECLOSED);
    /* the server answers close_notify with its own */
    ck_assert_int_eq(lwss_tls_recv(c, buf, sizeof(buf), 2000, 0), SOCKETS_ECLOSED);
    ck_assert_int_eq(lwss_tls_shutdown(c, 0), 0);
    ck_assert_int_eq(lwss_tls_recv(c, buf, sizeof(buf), 0, 0), SOCKETS_ECLOSED);
    char msg[64];
    ck_assert_int_eq(lwss_tls_last_error(c, msg, sizeof(msg)), 0);
    finish(c);
    ck_assert_int_eq(server.got_close_notify, 1);
}
END_TEST

START_TEST(keylog_written)
{
    char path[] = "/tmp/lwss-keylog-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    setenv("SSLKEYLOGFILE", path, 1);
    start_server("server.crt", "server.key", 1, NULL);
    lwss_tls_conn *c = NULL;
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    ck_assert_int_eq(connect_opts(&c, &opts), 0);
    finish(c);
    unsetenv("SSLKEYLOGFILE");
    size_t len = 0;
    unsigned char *text = lwss_tt_read_file(path, &len);
    unlink(path);
    ck_assert_ptr_nonnull(text);
    ck_assert_uint_eq(len, 14 + 64 + 1 + 96 + 1);
    ck_assert_int_eq(strncmp((char *)text, "CLIENT_RANDOM ", 14), 0);
    free(text);
}
END_TEST

Suite *tls_engine_suite(void);
Suite *tls_engine_suite(void)
{
    Suite *s = suite_create("tls_engine");
    TCase *u = tcase_create("units");
    tcase_add_checked_fixture(u, setup, teardown);
    tcase_add_test(u, keylog_line_format);
    tcase_add_test(u, trusted_cert_forms);
    tcase_add_test(u, ip_san_check);
    tcase_add_test(u, digest_info_sha256);
    tcase_add_test(u, pk_adapter_ec);
    tcase_add_test(u, pk_adapter_rsa);
    suite_add_tcase(s, u);
    TCase *e = tcase_create("handshakes");
    tcase_add_checked_fixture(e, setup, teardown);
    tcase_set_timeout(e, 30);
    tcase_add_test(e, mutual_auth_ec);
    tcase_add_test(e, mutual_auth_rsa);
    tcase_add_test(e, address_as_server_name);
    tcase_add_test(e, rsa_server_certificate);
    tcase_add_test(e, legacy_suites_only_when_configured);
    tcase_add_test(e, untrusted_expired_wrong_name);
    tcase_add_test(e, trusted_option_replaces_roots);
    tcase_add_test(e, no_roots_is_unverified);
    tcase_add_test(e, client_cert_required_but_absent);
    tcase_add_test(e, alpn_negotiated);
    tcase_add_test(e, session_resumption);
    tcase_add_test(e, concurrent_send_and_recv);
    tcase_add_test(e, batched_records_count_as_pending);
    tcase_add_test(e, timeouts_keep_the_session);
    tcase_add_test(e, nonblocking_send_backpressure);
    tcase_add_test(e, shutdown_and_errors);
    tcase_add_test(e, keylog_written);
    suite_add_tcase(s, e);
    return s;
}
