/**
 * @file lwss_test.h
 * @brief Helpers shared by the Check suites: leak fixtures and rig access.
 */
#ifndef LWSS_TEST_H
#define LWSS_TEST_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/** Snapshot of what a test could leak: descriptors, threads, heap bytes. */
typedef struct lwss_leak_snapshot {
    int fds;          /**< open descriptors of this process */
    int threads;      /**< threads of this process */
    size_t heap;      /**< bytes in use by malloc (mallinfo2) */
} lwss_leak_snapshot;

/** Take a snapshot. */
void lwss_leak_take(lwss_leak_snapshot *snap);

/**
 * Fail the current test if descriptors or threads grew since @p before, or,
 * when @p heap_too is non-zero, if heap bytes in use grew.  Waits up to
 * 2 s for exiting threads to disappear.
 */
void lwss_leak_assert(const lwss_leak_snapshot *before, int heap_too);

/** Fixture pair for tcase_add_checked_fixture: fds + threads + heap. */
void lwss_leak_setup(void);
/** @see lwss_leak_setup */
void lwss_leak_teardown(void);
/** Fixture pair for tests that bring up lwIP (whose thread may stay). */
void lwss_leak_setup_fds(void);
/** @see lwss_leak_setup_fds */
void lwss_leak_teardown_fds(void);

/** 1 when the runner was started inside the rig (scripts/rig.sh). */
int lwss_test_in_rig(void);

/**
 * Record that the calling test cannot run here (@p why: what it needs) and
 * let it return: the runner counts it as not run, never as passed.
 */
void lwss_test_not_run(const char *why);

/**
 * Wait (at most @p bound_ms) until thread or process @p tid is blocked: its
 * state in /proc is S or D, i.e. it sleeps in a system call (a poll, a
 * lock, a read).  Lets a test act only once another thread is waiting.
 * @return 1 when it was seen blocked, 0 when the bound passed first.
 */
int lwss_test_wait_blocked(int tid, unsigned bound_ms);

/**
 * Wait (at most @p bound_ms) until every other thread of this process is
 * blocked (see lwss_test_wait_blocked): lwss's threads have gone idle.
 * @return 1 when they were, 0 when the bound passed first.
 */
int lwss_test_wait_quiescent(unsigned bound_ms);

/**
 * How much slower than a plain build this run is (LWSS_TEST_SLOW, set by
 * make: 1 plain, more under ASan, valgrind, TSan).  Time bounds a test
 * imposes on lwss (not on itself) are multiplied by it.
 */
unsigned lwss_test_slowness(void);

/** Environment variable or @p dflt. */
const char *lwss_test_env(const char *name, const char *dflt);

/** Build directory (LWSS_BUILD, default "build"). */
const char *lwss_test_build_dir(void);

/** Monotonic milliseconds. */
uint64_t lwss_test_now_ms(void);

#endif
