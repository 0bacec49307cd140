/* Helpers for the reliability suites: helper servers with a
 * readiness check and a bounded lifetime, checksummed bulk echo through
 * SOCKETS_*, and lwIP's TIME-WAIT bookkeeping for the soak's heap budget. */
#ifndef LWSS_REL_UTIL_H
#define LWSS_REL_UTIL_H

#include "iot_secure_sockets.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/**
 * Start lwss-hostile-peer on 192.0.2.1:@p port in @p mode (@p upstream
 * "A:P" or NULL) and wait (5 s) for its ready file.  The child dies with the
 * test process (PR_SET_PDEATHSIG) and on its own after 600 s.  Fails the
 * test when it does not come up.  @return its pid.
 */
pid_t lwss_rel_hostile_start(uint16_t port, const char *mode, const char *upstream);

/** SIGTERM, bounded wait, then SIGKILL.  Safe with pid <= 0. */
void lwss_rel_stop(pid_t pid);

/** FNV-1a over @p len bytes, continuing from @p h (start: LWSS_REL_FNV0). */
uint64_t lwss_rel_fnv(uint64_t h, const void *buf, size_t len);
#define LWSS_REL_FNV0 0xcbf29ce484222325ULL

/** Result of a bulk echo. */
typedef struct lwss_rel_echo {
    size_t sent, received; /**< bytes */
    int32_t error;         /**< 0, or the SOCKETS_* code that ended the transfer */
    int timed_out;         /**< 1: a Send/Recv returned 0 (its timeout expired) */
    int intact;            /**< 1: every byte came back and the checksums match */
    int prefix_intact;     /**< 1: what came back (maybe not all) is what was sent */
    uint64_t ms;           /**< how long it took */
    uint64_t longest_call_ms; /**< the longest single SOCKETS_Send / SOCKETS_Recv */
} lwss_rel_echo;

/**
 * Send @p len pattern bytes while a second thread receives them back; stops
 * at the first error or timeout.  @p at_half (or NULL) runs once, in the
 * sending thread, when half of it is sent.  Asserts nothing about the
 * transfer (callers judge the result).
 */
void lwss_rel_bulk_echo(Socket_t s, size_t len, void (*at_half)(void), lwss_rel_echo *out);

/** A TCP socket with @p recv_ms / @p send_ms timeouts (TLS with SNI echo.lwss.test when @p tls). */
Socket_t lwss_rel_socket(int tls, uint32_t recv_ms, uint32_t send_ms);

/** Connect @p s to 192.0.2.1:@p port. */
int32_t lwss_rel_connect(Socket_t s, uint16_t port);

/** Heap bytes held by lwIP pcbs in TIME-WAIT, and their number (core lock held). */
size_t lwss_rel_time_wait_bytes(int *count);

/** Number of lwIP TCP pcbs not yet closed or in TIME-WAIT (active list). */
int lwss_rel_active_pcbs(void);

/**
 * The allocator setting under which mallinfo2() is exact: no per-thread
 * caches (a tcache keeps freed chunks counted as in use, up to 7 per size
 * class per thread).  Must be in the environment when the process starts:
 * tests/module.mk's TEST_ENV sets it for every runner invocation.
 */
#define LWSS_REL_TUNABLES "glibc.malloc.tcache_count=0"

/**
 * Call first in a fixture: one malloc arena from now on.  A thread that
 * first allocates while others are busy gets a new arena, whose own header
 * (~2.9 KB) mallinfo2 counts as in use, for good: allocator bookkeeping,
 * not a leak, but it would blur the heap figures.
 */
void lwss_rel_heap_prepare(void);

/** 1 when the process runs glibc's malloc with LWSS_REL_TUNABLES (not valgrind's). */
int lwss_rel_heap_exact(void);

/**
 * Heap bytes in use (mallinfo2 uordblks) minus what lwIP's TIME-WAIT pcbs
 * hold, once every other pcb is gone (waits up to 5 s).  A connection we
 * closed first stays in TIME-WAIT for 2 x MSL (2 min in liblwip): that is
 * TCP, bounded in time, not a leak.  0 under ASan (no mallinfo there).
 */
size_t lwss_rel_heap_settled(void);

/**
 * Fail the test when lwss_rel_heap_settled() grew by more than @p slack
 * bytes since @p before.  Not compared under ASan / TSan / valgrind (their
 * own allocators and leak checks) nor without LWSS_REL_TUNABLES (says so
 * on stderr).
 */
void lwss_rel_heap_assert(size_t before, size_t slack, const char *what);

#endif
