/*
 * Rig suite "soak": many cycles in one process, with the
 * heap (mallinfo2 uordblks, exact under LWSS_REL_TUNABLES), descriptors and
 * threads flat at the end.
 *
 * tls:   SOAK_CYCLES x (SOCKETS_Socket, Connect with a mutual-TLS handshake
 *        against the rig's echo server, a 256-byte echo, Close).  Every
 *        SOAK_FULL_EVERY-th cycle starts from an empty session cache, so it
 *        is a full handshake (ECDHE + client signature by the token); the
 *        others resume (the echo server counts both, and the test checks
 *        the counts): 500 full + 500 resumed take ~13 s here, 1000 full
 *        ~21 s (2 cores, shared); ASan triples it.
 * token: SOAK_CYCLES x (C_OpenSession, C_FindObjects for the device key,
 *        C_SignInit + C_Sign (ECDSA P-256), C_CloseSession).
 *
 * Heap budget at the end: the baseline is taken after warm-up cycles
 * (RNG seeded, lwIP timers and ARP entry made, one session cached then
 * forgotten); lwIP pcbs in TIME-WAIT are excluded (TCP keeps each
 * connection we closed first for 2 x MSL = 2 min: bounded by time, not a
 * leak).  SOAK_HEAP_SLACK (2 KiB) covers the allocator's own once-per-
 * process growth (656 bytes seen, see test_hostile.c) and rounding (+-48
 * bytes); it is 2 bytes per cycle: a leak of one block per cycle (>= 32
 * bytes with its header) breaks it 15 times over.
 */
#include "tests/support/lwss_test.h"
#include "tests/support/rel_util.h"
#include "tests/support/tls_rig_util.h"
#include "lwss/pkcs11_std.h"
#include "lwss/port.h"
#include "lwss/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SOAK_CYCLES 1000
#define SOAK_FULL_EVERY 2
#define SOAK_HEAP_SLACK 2048u

static void require_exact_heap(void)
{
    lwss_rel_heap_prepare();
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    ck_assert_msg(lwss_rel_heap_exact(), "the soak needs GLIBC_TUNABLES=%s (make test sets it)",
                  LWSS_REL_TUNABLES);
#endif
}

static void setup_tls(void)
{
    require_exact_heap();
    lwss_leak_setup_fds();
    lwss_tr_stack_up();
    lwss_tr_provision(LWSS_TR_EC, 1);
}

static void teardown_tls(void)
{
    lwss_tr_stack_down();
    lwss_tr_unprovision();
    lwss_leak_teardown_fds();
}

static void one_tls_cycle(int full)
{
    if (full) {
        lwss_tls_session_cache_clear();
    }
    Socket_t s;
    int32_t rc = lwss_tr_connect_tls(&s, lwss_tr_tls_port(), "echo.lwss.test");
    ck_assert_msg(rc == 0, "connect: %d (%s)", (int)rc, lwss_last_error());
    lwss_tr_echo(s, 256, (uint8_t)rc);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}

/* Wait (bounded) for the echo server's counter to reach @p want. */
static long echo_stat_at_least(const char *key, long want)
{
    long v = -1;
    uint64_t deadline = lwss_test_now_ms() + 5000;
    while ((v = lwss_tr_echo_stat(key)) < want && lwss_test_now_ms() < deadline) {
        usleep(20000);
    }
    return v;
}

START_TEST(thousand_tls_connect_echo_close_cycles)
{
    for (int i = 0; i < 4; i++) {
        one_tls_cycle(i % 2 == 0); /* warm-up: full and resumed */
    }
    lwss_tls_session_cache_clear();
    lwss_leak_snapshot snap;
    lwss_leak_take(&snap);
    size_t heap0 = lwss_rel_heap_settled();
    long conns0 = lwss_tr_echo_stat("tls_connections");
    long resumed0 = lwss_tr_echo_stat("tls_resumed");
    uint64_t t0 = lwss_test_now_ms();
    int full = 0;
    for (int i = 0; i < SOAK_CYCLES; i++) {
        int want_full = i % SOAK_FULL_EVERY == 0;
        full += want_full;
        one_tls_cycle(want_full);
    }
    uint64_t ms = lwss_test_now_ms() - t0;
    lwss_tls_session_cache_clear();
    long conns = echo_stat_at_least("tls_connections", conns0 + SOAK_CYCLES) - conns0;
    long resumed = echo_stat_at_least("tls_resumed", resumed0 + SOAK_CYCLES - full) - resumed0;
    int tw = 0;
    lwss_rel_time_wait_bytes(&tw);
    fprintf(stderr, "soak: %d TLS cycles (%d full handshakes, %ld resumed by the server) in %llu ms; "
            "%d pcbs in TIME-WAIT\n", SOAK_CYCLES, full, resumed, (unsigned long long)ms, tw);
    ck_assert_int_eq(conns, SOAK_CYCLES);
    ck_assert_int_eq(resumed, SOAK_CYCLES - full);
    lwss_leak_assert(&snap, 0); /* descriptors and threads */
    lwss_rel_heap_assert(heap0, SOAK_HEAP_SLACK, "soak tls");
}
END_TEST

/* ---- token sessions -------------------------------------------------------- */

static void setup_token(void)
{
    require_exact_heap();
    lwss_leak_setup_fds();
    lwss_tr_provision(LWSS_TR_EC, 1);
}

static void teardown_token(void)
{
    lwss_tr_unprovision();
    lwss_leak_teardown_fds();
}

static void one_token_session(void)
{
    CK_SESSION_HANDLE s;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    static const char label[] = pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS;
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_LABEL, (void *)label, sizeof(label) - 1}};
    CK_OBJECT_HANDLE key = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    ck_assert_int_eq(C_FindObjectsInit(s, tmpl, 2), CKR_OK);
    ck_assert_int_eq(C_FindObjects(s, &key, 1, &n), CKR_OK);
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OK);
    ck_assert_int_eq(n, 1);
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    unsigned char hash[32], sig[64];
    memset(hash, 0x5a, sizeof(hash));
    CK_ULONG sig_len = sizeof(sig);
    ck_assert_int_eq(C_SignInit(s, &mech, key), CKR_OK);
    ck_assert_int_eq(C_Sign(s, hash, sizeof(hash), sig, &sig_len), CKR_OK);
    ck_assert_int_eq(sig_len, 64);
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);
}

START_TEST(thousand_token_sessions)
{
    for (int i = 0; i < 3; i++) {
        one_token_session();
    }
    lwss_leak_snapshot snap;
    lwss_leak_take(&snap);
    uint64_t t0 = lwss_test_now_ms();
    for (int i = 0; i < SOAK_CYCLES; i++) {
        one_token_session();
    }
    fprintf(stderr, "soak: %d token sessions (open, find, sign, close) in %llu ms\n", SOAK_CYCLES,
            (unsigned long long)(lwss_test_now_ms() - t0));
    lwss_leak_snapshot now;
    lwss_leak_take(&now);
    ck_assert_int_eq(now.fds, snap.fds);
    ck_assert_int_eq(now.threads, snap.threads);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
    fprintf(stderr, "soak token: heap %zu -> %zu bytes (slack %u)\n", snap.heap, now.heap,
            SOAK_HEAP_SLACK);
    ck_assert_msg(now.heap <= snap.heap + SOAK_HEAP_SLACK, "heap grew from %zu to %zu bytes",
                  snap.heap, now.heap);
#endif
}
END_TEST

Suite *soak_suite(void);
Suite *soak_suite(void)
{
    Suite *s = suite_create("soak");
    TCase *tls = tcase_create("tls");
    tcase_set_timeout(tls, 240);
    tcase_add_checked_fixture(tls, setup_tls, teardown_tls);
    tcase_add_test(tls, thousand_tls_connect_echo_close_cycles);
    suite_add_tcase(s, tls);
    TCase *tok = tcase_create("token");
    tcase_set_timeout(tok, 120);
    tcase_add_checked_fixture(tok, setup_token, teardown_token);
    tcase_add_test(tok, thousand_token_sessions);
    suite_add_tcase(s, tok);
    return s;
}
