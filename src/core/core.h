/*
 * The core under every layer (not installed): what the library itself uses
 * beside the public lwss/status.h.  Every other module may include this; it
 * includes nothing of theirs.
 */
#ifndef LWSS_CORE_H
#define LWSS_CORE_H

#include "lwss/status.h"

#include <pthread.h>
#include <stdint.h>

/**
 * Record a detail message for lwss_last_error() and return @p status, so
 * that error paths read `return lwss_set_error(LWSS_ERR_INVAL, "...", ...);`.
 */
int lwss_set_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Clear the detail message of this thread. */
void lwss_clear_error(void);

/** Monotonic milliseconds (CLOCK_MONOTONIC). */
uint64_t lwss_now_ms(void);

/** Monotonic microseconds (CLOCK_MONOTONIC): for deadlines that must never
 *  come early (a ms clock truncates up to 1 ms). */
uint64_t lwss_now_us(void);

/* ---- the OS seam (os.c, public part in lwss/os.h) ---- */

/** Longest sleep through the wait hook before readiness is polled again:
 *  short, since nobody wakes a sleeping task when its data arrives. */
#ifndef LWSS_OS_WAIT_SLICE_MS
#define LWSS_OS_WAIT_SLICE_MS 1u
#endif

/** 1 when the calling thread must wait through the hook: a hook is set
 *  and the thread is not one of lwss's own. */
int lwss_os_hook_applies(void);

/** Sleep @p ms (at least 1) through the hook; no-op when it does not apply. */
void lwss_os_sleep(uint32_t ms);

/** Mark the calling thread as lwss's own: it never calls the hook. */
void lwss_os_mark_own_thread(void);

/** Lock @p m, for locks an application thread may find held by another
 *  task: with the hook applying, trylock and sleep through the hook, so the
 *  holder (maybe switched out by the kernel) gets to run. */
void lwss_os_lock(pthread_mutex_t *m);

/** pthread_cond_wait(@p cv, @p m) for waits in a loop on a condition that
 *  another task makes true: with the hook applying, unlock, sleep a slice
 *  through the hook and lock again (lwss_os_lock) instead. */
void lwss_os_cond_wait(pthread_cond_t *cv, pthread_mutex_t *m);

/* Defined only in test builds (LWSS_TEST_HOOKS; liblwss-test.a). */
/** Note a wait that blocks the thread for @p timeout_ms outside the hook
 *  (counted only while the hook applies). */
void lwss_os_test_note_wait(int timeout_ms);
/** Blocking waits noted so far while the hook applied. */
unsigned lwss_os_test_blocking_waits(void);

#endif
