/*
 * Rig suite "hostile": broken and hostile peers.
 *
 * Each case starts its peer from the test (lwss-hostile-peer, or openssl
 * s_server for the huge chain) with a readiness check; the peer dies with
 * the test process and is stopped in the test.  For every case: the
 * SOCKETS_* code the contract gives (table in GUARANTEES.section.md), within
 * a bound, a message in lwss_last_error(), Close succeeds, and a new socket
 * then echoes through the rig's TLS echo server.  The fixture checks
 * descriptors and threads; the heap (minus lwIP TIME-WAIT pcbs) is compared
 * after a warm-up connection and after the case.
 *
 * Handshake phase (client connects with TLS):
 *   RST after the ClientHello, FIN in the middle of a record, text instead
 *   of TLS, a record header of 65535 bytes, a certificate chain larger than
 *   mbedtls' 16 KiB input buffer  -> SOCKETS_TLS_HANDSHAKE_ERROR at once;
 *   accepts and never answers, answers the SYN and never accepts
 *                                 -> SOCKETS_TLS_HANDSHAKE_ERROR at the connect bound;
 *   never answers the SYN         -> SOCKETS_SOCKET_ERROR at the connect bound.
 * Data phase (a proxy relays a real handshake with the echo server, then
 * tampers with the first application-data record coming back):
 *   FIN mid-record               -> Recv SOCKETS_TLS_RECV_ERROR (truncated),
 *                                   then Send SOCKETS_TLS_SEND_ERROR;
 *   RST                          -> Recv SOCKETS_ECLOSED;
 *   one bit flipped (bad MAC), record longer than TLS allows
 *                                 -> Recv SOCKETS_TLS_RECV_ERROR, then Send
 *                                    SOCKETS_TLS_SEND_ERROR (session dead).
 * Plain TCP: RST after an echo -> Recv SOCKETS_ECLOSED; silent peer -> Recv 0
 * at its timeout.
 */
#include "tests/support/lwss_test.h"
#include "tests/support/rel_util.h"
#include "tests/support/tls_rig_util.h"
#include "tests/support/tls_test_util.h"
#include "lwss/port.h"
#include "lwss/sockets.h"
#include "lwss/tls.h"


#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* scaled for slow builds: under valgrind the first handshake alone takes seconds */
#define CONNECT_BOUND_MS (2000u * lwss_test_slowness())
#define BOUND_SLACK_MS (500u * lwss_test_slowness())
#define HOSTILE_PORT 9600
/* A warm-up connection has initialised what lives for the process (RNG,
 * lwIP's timers, the ARP entry).  Seen beyond it: once per process, 656
 * bytes more in use from the 2nd-4th connection on, then flat for 1000
 * cycles (soak); valgrind shows no block allocated between those points,
 * so it is the allocator's own.  A per-connection leak of more than 1 KiB
 * fails; smaller ones are valgrind's to find (this suite runs under it). */
#define HEAP_SLACK 1024u

static pid_t peer = -1;
static size_t heap_before;

static void echo_once(void)
{
    Socket_t s;
    ck_assert_int_eq(lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test"), 0);
    lwss_tr_echo(s, 1000, 9);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}

static void setup(void)
{
    lwss_rel_heap_prepare();
    lwss_leak_setup_fds();
    lwss_tr_stack_up();
    lwss_tr_provision(LWSS_TR_EC, 1);
    ck_assert_int_eq(lwss_sockets_set_connect_timeout(CONNECT_BOUND_MS), 0);
    echo_once();
    lwss_tls_session_cache_clear();
    heap_before = lwss_rel_heap_settled();
}

static void teardown(void)
{
    lwss_rel_stop(peer);
    peer = -1;
    lwss_tr_stack_down();
    lwss_tr_unprovision();
    lwss_leak_teardown_fds();
}

/* After a failure: a new socket works, and nothing was left behind. */
static void assert_recovered(const char *what)
{
    echo_once();
    lwss_rel_stop(peer);
    peer = -1;
    lwss_tls_session_cache_clear();
    lwss_rel_heap_assert(heap_before, HEAP_SLACK, what);
}

/* TLS connect to @p port must fail with @p want within [min_ms, max_ms]. */
static void expect_connect_failure(uint16_t port, int32_t want, uint64_t min_ms, uint64_t max_ms,
                                   const char *what)
{
    Socket_t s = lwss_rel_socket(1, 2000, 2000);
    uint64_t t0 = lwss_test_now_ms();
    int32_t rc = lwss_rel_connect(s, port);
    uint64_t took = lwss_test_now_ms() - t0;
    fprintf(stderr, "hostile: %s: connect %d after %llu ms: %s\n", what, (int)rc,
            (unsigned long long)took, lwss_last_error());
    ck_assert_msg(rc == want, "%s: connect gave %d, want %d (%s)", what, (int)rc, (int)want,
                  lwss_last_error());
    ck_assert_msg(took >= min_ms && took <= max_ms, "%s: failed after %llu ms, want %llu..%llu",
                  what, (unsigned long long)took, (unsigned long long)min_ms,
                  (unsigned long long)max_ms);
    ck_assert_msg(lwss_last_error()[0] != '\0', "%s: no message", what);
    ck_assert_int_lt(SOCKETS_Send(s, "x", 1, 0), 0); /* unusable after a failed connect */
    ck_assert_int_eq(SOCKETS_Close(s), SOCKETS_ERROR_NONE);
    assert_recovered(what);
}

static void handshake_peer(const char *mode, int32_t want, uint64_t min_ms, uint64_t max_ms)
{
    peer = lwss_rel_hostile_start(HOSTILE_PORT, mode, NULL);
    expect_connect_failure(HOSTILE_PORT, want, min_ms, max_ms, mode);
}

START_TEST(reset_mid_handshake)
{
    handshake_peer("rst-handshake", SOCKETS_TLS_HANDSHAKE_ERROR, 0, 1000);
}
END_TEST

START_TEST(close_mid_record_in_handshake)
{
    handshake_peer("close-mid-record", SOCKETS_TLS_HANDSHAKE_ERROR, 0, 1000);
}
END_TEST

START_TEST(garbage_instead_of_tls)
{
    handshake_peer("garbage", SOCKETS_TLS_HANDSHAKE_ERROR, 0, 1000);
}
END_TEST

START_TEST(oversized_record_in_handshake)
{
    handshake_peer("oversized-record", SOCKETS_TLS_HANDSHAKE_ERROR, 0, 1000);
}
END_TEST

START_TEST(peer_that_never_answers)
{
    handshake_peer("silent", SOCKETS_TLS_HANDSHAKE_ERROR, CONNECT_BOUND_MS - 100,
                   CONNECT_BOUND_MS + BOUND_SLACK_MS);
}
END_TEST

START_TEST(syn_answered_then_nothing)
{
    handshake_peer("no-accept", SOCKETS_TLS_HANDSHAKE_ERROR, CONNECT_BOUND_MS - 100,
                   CONNECT_BOUND_MS + BOUND_SLACK_MS);
}
END_TEST

START_TEST(syn_never_answered)
{
    /* 192.0.2.77 is in the rig's subnet, and nobody has it: ARP goes unanswered */
    Socket_t s = lwss_rel_socket(1, 2000, 2000);
    SocketsSockaddr_t a = {.ucLength = sizeof(a), .ucSocketDomain = SOCKETS_AF_INET,
                           .usPort = SOCKETS_htons(443),
                           .ulAddress = SOCKETS_inet_addr_quick(192, 0, 2, 77)};
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), SOCKETS_SOCKET_ERROR);
    uint64_t took = lwss_test_now_ms() - t0;
    ck_assert_msg(took >= CONNECT_BOUND_MS - 100 && took <= CONNECT_BOUND_MS + BOUND_SLACK_MS,
                  "took %llu ms", (unsigned long long)took);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "timed out"));
    ck_assert_int_eq(SOCKETS_Close(s), SOCKETS_ERROR_NONE);
    assert_recovered("syn-never-answered");
}
END_TEST

START_TEST(certificate_chain_larger_than_the_input_buffer)
{
    char chain[512];
    snprintf(chain, sizeof(chain), "%s/rel/bigchain.pem", lwss_test_build_dir());
    ck_assert_msg(access(chain, R_OK) == 0, "%s is not built", chain);
    const char *const extra[] = {"-cert_chain", chain, NULL};
    lwss_tr_sserver srv;
    lwss_tr_sserver_start(&srv, HOSTILE_PORT, "server.crt", "server.key", extra);
    Socket_t s = lwss_rel_socket(1, 2000, 2000);
    int32_t rc = lwss_rel_connect(s, HOSTILE_PORT);
    char why[256];
    snprintf(why, sizeof(why), "%s", lwss_last_error());
    SOCKETS_Close(s);
    lwss_tr_sserver_stop(&srv);
    fprintf(stderr, "hostile: huge chain: connect %d: %s\n", (int)rc, why);
    ck_assert_msg(rc == SOCKETS_TLS_HANDSHAKE_ERROR, "connect gave %d (%s)", (int)rc, why);
    /* mbedtls 2.28 does not reassemble a handshake message split over records */
    ck_assert_msg(strstr(why, "feature is not available") != NULL, "%s", why);
    assert_recovered("huge-chain");
}
END_TEST

/* ---- data phase: a proxy in front of the echo server tampers ---------- */

static Socket_t via_proxy(const char *mode)
{
    char upstream[64];
    snprintf(upstream, sizeof(upstream), "%s:%u", lwss_test_env("LWSS_RIG_PEER", "192.0.2.1"),
             lwss_tr_tls_port());
    peer = lwss_rel_hostile_start(HOSTILE_PORT, mode, upstream);
    Socket_t s = lwss_rel_socket(1, 3000, 3000);
    ck_assert_int_eq(lwss_rel_connect(s, HOSTILE_PORT), SOCKETS_ERROR_NONE);
    ck_assert_int_eq(SOCKETS_Send(s, "hello hostile", 13, 0), 13);
    return s;
}

/* The first Recv after the tampered record gives @p want within 1 s. */
static void expect_recv_error(Socket_t s, int32_t want, const char *what)
{
    uint8_t buf[64];
    uint64_t t0 = lwss_test_now_ms();
    int32_t rc = SOCKETS_Recv(s, buf, sizeof(buf), 0);
    uint64_t took = lwss_test_now_ms() - t0;
    fprintf(stderr, "hostile: %s: Recv %d after %llu ms: %s\n", what, (int)rc,
            (unsigned long long)took, lwss_last_error());
    ck_assert_msg(rc == want, "%s: Recv gave %d, want %d (%s)", what, (int)rc, (int)want,
                  lwss_last_error());
    ck_assert_msg(took <= 1500, "%s: took %llu ms", what, (unsigned long long)took);
    /* it stays that way */
    ck_assert_int_eq(SOCKETS_Recv(s, buf, sizeof(buf), 0), want);
}

START_TEST(proxy_control_relays_intact)
{
    Socket_t s = via_proxy("proxy");
    uint8_t buf[13];
    size_t got = 0;
    while (got < sizeof(buf)) {
        int32_t n = SOCKETS_Recv(s, buf + got, sizeof(buf) - got, 0);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    ck_assert_mem_eq(buf, "hello hostile", 13);
    lwss_tr_echo(s, 20000, 4);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    assert_recovered("proxy");
}
END_TEST

/* A data-phase case: Recv gives @p want_recv; then Send gives @p want_send
 * (0: not checked, the reset case races the RST). */
static void data_phase(const char *mode, int32_t want_recv, int32_t want_send)
{
    Socket_t s = via_proxy(mode);
    expect_recv_error(s, want_recv, mode);
    if (want_send != 0) {
        ck_assert_int_eq(SOCKETS_Send(s, "x", 1, 0), want_send);
    }
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    assert_recovered(mode);
}

START_TEST(close_mid_record_after_handshake)
{
    data_phase("proxy-cut-data", SOCKETS_TLS_RECV_ERROR, SOCKETS_TLS_SEND_ERROR);
}
END_TEST

START_TEST(reset_after_handshake)
{
    data_phase("proxy-rst-data", SOCKETS_ECLOSED, 0);
}
END_TEST

START_TEST(tampered_record_after_handshake)
{
    data_phase("proxy-flip-data", SOCKETS_TLS_RECV_ERROR, SOCKETS_TLS_SEND_ERROR);
}
END_TEST

START_TEST(oversized_record_after_handshake)
{
    data_phase("proxy-oversized-data", SOCKETS_TLS_RECV_ERROR, SOCKETS_TLS_SEND_ERROR);
}
END_TEST

/* ---- plain TCP ------------------------------------------------------------ */

START_TEST(plain_reset_after_echo)
{
    peer = lwss_rel_hostile_start(HOSTILE_PORT, "rst-after-echo", NULL);
    Socket_t s = lwss_rel_socket(0, 2000, 2000);
    ck_assert_int_eq(lwss_rel_connect(s, HOSTILE_PORT), SOCKETS_ERROR_NONE);
    ck_assert_int_eq(SOCKETS_Send(s, "ping", 4, 0), 4);
    uint8_t buf[16];
    ck_assert_int_eq(SOCKETS_Recv(s, buf, sizeof(buf), 0), 4);
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_eq(SOCKETS_Recv(s, buf, sizeof(buf), 0), SOCKETS_ECLOSED);
    ck_assert_uint_le(lwss_test_now_ms() - t0, 1000);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    assert_recovered("rst-after-echo");
}
END_TEST

START_TEST(plain_silent_peer_times_out)
{
    peer = lwss_rel_hostile_start(HOSTILE_PORT, "silent", NULL);
    Socket_t s = lwss_rel_socket(0, 500, 500);
    ck_assert_int_eq(lwss_rel_connect(s, HOSTILE_PORT), SOCKETS_ERROR_NONE);
    ck_assert_int_eq(SOCKETS_Send(s, "ping", 4, 0), 4);
    uint8_t buf[16];
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_eq(SOCKETS_Recv(s, buf, sizeof(buf), 0), 0);
    uint64_t took = lwss_test_now_ms() - t0;
    ck_assert_msg(took >= 450 && took <= 700, "took %llu ms", (unsigned long long)took);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
    assert_recovered("plain-silent");
}
END_TEST

Suite *hostile_suite(void);
Suite *hostile_suite(void)
{
    Suite *s = suite_create("hostile");
    TCase *hs = tcase_create("handshake");
    tcase_set_timeout(hs, 30);
    tcase_add_checked_fixture(hs, setup, teardown);
    tcase_add_test(hs, reset_mid_handshake);
    tcase_add_test(hs, close_mid_record_in_handshake);
    tcase_add_test(hs, garbage_instead_of_tls);
    tcase_add_test(hs, oversized_record_in_handshake);
    tcase_add_test(hs, peer_that_never_answers);
    tcase_add_test(hs, syn_answered_then_nothing);
    tcase_add_test(hs, syn_never_answered);
    tcase_add_test(hs, certificate_chain_larger_than_the_input_buffer);
    suite_add_tcase(s, hs);
    TCase *dp = tcase_create("data");
    tcase_set_timeout(dp, 30);
    tcase_add_checked_fixture(dp, setup, teardown);
    tcase_add_test(dp, proxy_control_relays_intact);
    tcase_add_test(dp, close_mid_record_after_handshake);
    tcase_add_test(dp, reset_after_handshake);
    tcase_add_test(dp, tampered_record_after_handshake);
    tcase_add_test(dp, oversized_record_after_handshake);
    tcase_add_test(dp, plain_reset_after_echo);
    tcase_add_test(dp, plain_silent_peer_times_out);
    suite_add_tcase(s, dp);
    return s;
}
