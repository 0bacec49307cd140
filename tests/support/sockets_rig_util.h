/* Helpers shared by the Secure Sockets rig suites. */
#ifndef LWSS_SOCKETS_RIG_UTIL_H
#define LWSS_SOCKETS_RIG_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "iot_secure_sockets.h"

/** Fixture for unit tests: lwss_leak_setup() after one Check assertion (Check
 *  allocates on the first) and with glibc's malloc cache filled (chunks it
 *  caches count as in use), so neither reads as a leak. */
void lwss_st_unit_setup(void);
/** Fixture: inside the rig, with the echo server; fd/thread leak snapshot. */
void lwss_st_setup(void);
/** Fixture for tests that make TLS handshakes: like lwss_st_setup(), but one
 *  TLS connect attempt runs before the snapshot, because the TLS layer keeps
 *  process-wide state from its first handshake (DRBG, the token's NVM image
 *  descriptor) that is not a per-socket leak. */
void lwss_st_setup_tls_primed(void);
/** Fixture: stack down, then the leak check. */
void lwss_st_teardown(void);
/** The rig's plain echo server (LWSS_RIG_PEER : LWSS_ECHO_PORT). */
SocketsSockaddr_t lwss_st_echo_addr(void);
/** New socket with the given timeouts (ms), connected to the echo server. */
Socket_t lwss_st_connect_echo(uint32_t recv_ms, uint32_t send_ms);
/** Send all of @p len (asserts). */
void lwss_st_send_all(Socket_t s, const void *buf, size_t len);
/** Receive exactly @p len (asserts; bounded by the socket's receive timeout). */
void lwss_st_recv_exact(Socket_t s, void *buf, size_t len);
/** Fill @p buf with a pattern that depends on @p seed. */
void lwss_st_pattern(uint8_t *buf, size_t len, unsigned seed);


/* ---- shared by the plain and TLS socket suites ---- */

/** Wakeup callback that counts calls and checks the handle it gets. */
void lwss_st_on_wakeup(Socket_t s);
/** Reset the count; @p expect is the handle the callback must receive. */
void lwss_st_wakeups_reset(Socket_t expect);
/** Calls so far. */
int lwss_st_wakeups(void);
/** Wait (bounded by @p ms) until at least @p n calls; returns the count. */
int lwss_st_wait_wakeups(int n, unsigned ms);
/** 1 when the callback was ever given another handle. */
int lwss_st_wakeup_wrong_handle(void);

/**
 * With another thread blocked in SOCKETS_Recv on @p s (receive timeout
 * forever), close @p s from this thread after 300 ms and assert the Recv
 * returns SOCKETS_ECLOSED within 500 ms of the Close.
 */
void lwss_st_check_close_wakes_recv(Socket_t s);

/** A Recv that another thread runs: its result and when it returned. */
typedef struct lwss_st_blocked_recv {
    Socket_t s;
    int32_t result;
    uint64_t returned_at;
    _Atomic int tid;          /**< the receiving thread, once it runs */
} lwss_st_blocked_recv;
/** Wait until br's thread is blocked in its receive (2 s bound, asserted). */
void lwss_st_wait_recv_blocked(lwss_st_blocked_recv *br);
/** Thread body: one SOCKETS_Recv on br->s. */
void *lwss_st_recv_thread(void *br);

#endif
