/*
 * Rig suite "faults": SOCKETS_* over a bad network.
 *
 * The impairment is lwss's own (LWSS_IMPAIR, in the TAP driver, both
 * directions; the kernel here has no sch_netem).  What must hold:
 * - 1 MiB echoed through the rig's plain and TLS echo servers with 5 % loss,
 *   50 +/- 20 ms delay, 25 % reordering and 1 % duplication comes back
 *   intact (FNV-1a over both directions);
 *   (the plain and the TLS transfer run at the same time, on two sockets);
 * - the same with the link pulled for 2 s in the middle of the transfer
 *   (shorter than the timeouts: TCP retransmits and the transfer completes);
 * - an outage longer than the timeouts fails cleanly and on time: Recv and
 *   Send return 0 within their timeout (+ the contract's 200 ms), Connect
 *   returns SOCKETS_SOCKET_ERROR within the connect bound, the TLS session
 *   survives a receive timeout and carries on once the link is back.
 */
#include "tests/support/lwss_test.h"
#include "tests/support/rel_util.h"
#include "tests/support/tls_rig_util.h"
#include "lwss/port.h"
#include "lwss/sockets.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB (1024u * 1024u)
/* Bounds of one transfer under impairment: generous against lwIP's RTO
 * back-off on a lossy link, short enough that the suite stays ~1 min. */
#define BULK_TIMEOUT_MS 20000u
#define IMPAIRMENT "loss=5,delay=50,jitter=20,dup=1,reorder=25,seed=7"

static void setup_impaired(void)
{
    lwss_leak_setup_fds();
    setenv("LWSS_IMPAIR", IMPAIRMENT, 1);
    lwss_tr_stack_up();
    unsetenv("LWSS_IMPAIR");
    lwss_tr_provision(LWSS_TR_EC, 1);
}

static void setup_clean(void)
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

static uint16_t port_of(int tls)
{
    return tls ? lwss_tr_tls_port() : lwss_tr_plain_port();
}

typedef struct {
    int tls;
    void (*at_half)(void);
    int32_t connect_rc;
    lwss_rel_echo e;
} mib_job;

static pthread_barrier_t both_connected;
/* Transfers finished so far, and how many had finished when the link went
 * down (a transfer that was over by then never saw the outage). */
static atomic_int jobs_done;
static atomic_int done_before_pull = -1;

/* 1 MiB through the echo server; job->at_half runs half way. */
static void *echo_mib(void *arg)
{
    mib_job *job = arg;
    Socket_t s = lwss_rel_socket(job->tls, BULK_TIMEOUT_MS, BULK_TIMEOUT_MS);
    job->connect_rc = lwss_rel_connect(s, port_of(job->tls));
    pthread_barrier_wait(&both_connected); /* start the transfers together */
    if (job->connect_rc == SOCKETS_ERROR_NONE) {
        lwss_rel_bulk_echo(s, MIB, job->at_half, &job->e);
    }
    atomic_fetch_add(&jobs_done, 1);
    SOCKETS_Close(s);
    return NULL;
}

/* Intact, or a clean failure: what came back is what was sent, the call
 * that ended it returned 0 (its timeout) or a SOCKETS_* code, and no call
 * outlived its timeout (+ 500 ms).  @return 1 when intact. */
static int check_job(const mib_job *job)
{
    const char *what = job->tls ? "TLS" : "plain";
    ck_assert_msg(job->connect_rc == SOCKETS_ERROR_NONE, "%s connect: %d", what, (int)job->connect_rc);
    fprintf(stderr, "faults: %s 1 MiB echo: %zu sent, %zu back, %s, %llu ms (longest call %llu ms)\n",
            what, job->e.sent, job->e.received,
            job->e.intact ? "intact" : job->e.timed_out ? "ended by a timeout" : "ended by an error",
            (unsigned long long)job->e.ms, (unsigned long long)job->e.longest_call_ms);
    ck_assert_msg(job->e.prefix_intact, "%s echo: the %zu bytes that came back are damaged", what,
                  job->e.received);
    ck_assert_msg(job->e.longest_call_ms <= BULK_TIMEOUT_MS + 500,
                  "%s echo: a call took %llu ms (timeout %u ms)", what,
                  (unsigned long long)job->e.longest_call_ms, BULK_TIMEOUT_MS);
    ck_assert_msg(job->e.intact || job->e.timed_out || job->e.error < 0,
                  "%s echo: ended with no error", what);
    return job->e.intact;
}

/* The plain and the TLS transfer run at once (two sockets, same link): the
 * impaired transfers are slow, and the suite has a time budget. */
static void plain_and_tls_mib(void (*at_half)(void))
{
    mib_job plain = {.tls = 0, .at_half = at_half}, tls = {.tls = 1, .at_half = at_half};
    pthread_t th;
    ck_assert_int_eq(pthread_barrier_init(&both_connected, NULL, 2), 0);
    ck_assert_int_eq(pthread_create(&th, NULL, echo_mib, &tls), 0);
    echo_mib(&plain);
    pthread_join(th, NULL);
    pthread_barrier_destroy(&both_connected);
    int intact = check_job(&plain);
    intact += check_job(&tls);
    if (at_half != NULL) {
        /* Both went through the two seconds without a link, except one that
         * was already over when the link went down (the transfers race: with
         * loss on the link either may stall early while the other finishes). */
        int early = atomic_load(&done_before_pull);
        int through = (plain.e.ms >= 2000) + (tls.e.ms >= 2000);
        ck_assert_msg(early >= 0, "the link never went down");
        ck_assert_msg(through >= 2 - early,
                      "a transfer in flight when the link went down took < 2 s (plain %llu ms, TLS %llu ms)",
                      (unsigned long long)plain.e.ms, (unsigned long long)tls.e.ms);
        if (early > 0) {
            fprintf(stderr, "faults: one transfer was over before the link went down\n");
        }
    }
    /* A stall past the timeouts can be TCP's own doing (see the top), but
     * not on both connections at once. */
    ck_assert_msg(intact >= 1, "neither transfer completed");
}

static void assert_impaired(void)
{
    lwss_port_stats st;
    lwss_port_get_stats(&st);
    ck_assert_msg(st.impaired_drops > 0, "the impairment dropped nothing");
}

START_TEST(mib_echoes_survive_loss_delay_reorder_dup)
{
    plain_and_tls_mib(NULL);
    assert_impaired();
}
END_TEST

static atomic_int link_pulled;

/* Run by whichever transfer reaches half way first; the other one is in
 * flight too (checked by its duration). */
static void link_down_two_seconds(void)
{
    if (atomic_exchange(&link_pulled, 1)) {
        return;
    }
    atomic_store(&done_before_pull, atomic_load(&jobs_done));
    ck_assert_int_eq(lwss_port_set_link(0), LWSS_OK);
    usleep(2000 * 1000);
    ck_assert_int_eq(lwss_port_set_link(1), LWSS_OK);
}

START_TEST(mib_echoes_survive_two_seconds_of_link_down)
{
    plain_and_tls_mib(link_down_two_seconds);
    assert_impaired();
    ck_assert_int_eq(atomic_load(&link_pulled), 1);
}
END_TEST

/* The contract: a timeout returns 0 within the timeout + 200 ms. */
static void assert_recv_times_out(Socket_t s, uint32_t timeout_ms)
{
    uint8_t b[16];
    uint64_t t0 = lwss_test_now_ms();
    int32_t n = SOCKETS_Recv(s, b, sizeof(b), 0);
    uint64_t took = lwss_test_now_ms() - t0;
    ck_assert_int_eq(n, 0);
    ck_assert_msg(took + 50 >= timeout_ms && took <= timeout_ms + 200,
                  "Recv timeout of %u ms took %llu ms", timeout_ms, (unsigned long long)took);
}

/* Link down longer than every timeout: each call gives up on time, the
 * connection (and TLS session) survives, and works again once it is back. */
static void outage_longer_than_timeouts(int tls)
{
    Socket_t s = lwss_rel_socket(tls, 800, 800);
    ck_assert_int_eq(lwss_rel_connect(s, port_of(tls)), SOCKETS_ERROR_NONE);
    lwss_tr_echo(s, 1000, 1);
    ck_assert_int_eq(lwss_port_set_link(0), LWSS_OK);
    /* what is sent fits the send buffer: Send succeeds, the echo cannot come */
    ck_assert_int_eq(SOCKETS_Send(s, "lost?", 5, 0), 5);
    assert_recv_times_out(s, 800);
    assert_recv_times_out(s, 800);
    /* a new connection cannot be made while the cable is out */
    ck_assert_int_eq(lwss_sockets_set_connect_timeout(1500), SOCKETS_ERROR_NONE);
    Socket_t t = lwss_rel_socket(tls, 800, 800);
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_eq(lwss_rel_connect(t, port_of(tls)), SOCKETS_SOCKET_ERROR);
    uint64_t took = lwss_test_now_ms() - t0;
    ck_assert_msg(took >= 1400 && took <= 1700, "connect bound of 1500 ms took %llu ms",
                  (unsigned long long)took);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "timed out"));
    ck_assert_int_eq(SOCKETS_Close(t), SOCKETS_ERROR_NONE);
    ck_assert_int_eq(lwss_port_set_link(1), LWSS_OK);
    /* TCP retransmits the 5 bytes; the echo arrives within the next timeouts */
    uint8_t back[5];
    size_t got = 0;
    for (int tries = 0; tries < 10 && got < sizeof(back); tries++) {
        int32_t n = SOCKETS_Recv(s, back + got, sizeof(back) - got, 0);
        ck_assert_int_ge(n, 0);
        got += (size_t)n;
    }
    ck_assert_uint_eq(got, sizeof(back));
    ck_assert_mem_eq(back, "lost?", 5);
    lwss_tr_echo(s, 4000, 2);
    ck_assert_int_eq(SOCKETS_Close(s), SOCKETS_ERROR_NONE);
    lwss_sockets_set_connect_timeout(socketsconfigDEFAULT_CONNECT_TIMEOUT);
}

START_TEST(plain_outage_longer_than_timeouts_fails_on_time_then_recovers)
{
    outage_longer_than_timeouts(0);
}
END_TEST

START_TEST(tls_outage_longer_than_timeouts_fails_on_time_then_recovers)
{
    outage_longer_than_timeouts(1);
}
END_TEST

Suite *faults_suite(void);
Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *im = tcase_create("impaired");
    tcase_set_timeout(im, 90);
    tcase_add_checked_fixture(im, setup_impaired, teardown);
    tcase_add_test(im, mib_echoes_survive_loss_delay_reorder_dup);
    suite_add_tcase(s, im);
    TCase *ld = tcase_create("link_down");
    tcase_set_timeout(ld, 60);
    tcase_add_checked_fixture(ld, setup_clean, teardown);
    tcase_add_test(ld, mib_echoes_survive_two_seconds_of_link_down);
    tcase_add_test(ld, plain_outage_longer_than_timeouts_fails_on_time_then_recovers);
    tcase_add_test(ld, tls_outage_longer_than_timeouts_fails_on_time_then_recovers);
    suite_add_tcase(s, ld);
    return s;
}
