/* Helpers shared by the Secure Sockets rig suites. */
#ifndef LWSS_SOCKETS_RIG_UTIL_H
#define LWSS_SOCKETS_RIG_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "iot_secure_sockets.h"

/** Fixture for unit tests: lwss_leak_setup() after one Check assertion, so that
 *  Check's own first-assertion allocation is not counted as a leak. */
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

#endif
