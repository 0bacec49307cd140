/* Internal to the port and to its one user above it, src/sockets/ (not installed). */
#ifndef LWSS_LWIP_PORT_INTERNAL_H
#define LWSS_LWIP_PORT_INTERNAL_H

#include "src/core/core.h" /* error detail and clock, used by every port file */

#include <stdint.h>

/**
 * Bracket a non-blocking lwIP call that may send TCP data (lwip_send with
 * MSG_DONTWAIT): in between, segments may be held for a GSO frame without
 * waking the TAP flusher thread; lwss_port_tx_end() writes them.  Never
 * around a call that can block inside lwIP.
 */
void lwss_port_tx_begin(void);

/** End of the bracket: write what this thread's call left held. */
void lwss_port_tx_end(void);

/**
 * Wait until lwIP socket @p fd is ready for @p events (POLLIN, POLLOUT) or
 * has an error, for at most @p timeout_ms (> 0), reading the TAP and
 * feeding lwIP from this thread while nobody else does (inline receive,
 * see tap_netif.c).  Call without lwIP's core lock.
 * @return as lwip_poll() for one descriptor.
 */
int lwss_port_wait(int fd, short events, int timeout_ms);

/**
 * As lwss_port_wait(), but also returns 0 early once lwss_port_wake_waiters()
 * has been called since lwss_port_wait_epoch() returned @p epoch.  Take the
 * epoch before checking the condition the wake is about (e.g. a Close
 * flag), so that a wake in between is not lost.
 */
int lwss_port_wait_since(int fd, short events, int timeout_ms, unsigned epoch);

/** The current wake epoch, for lwss_port_wait_since(). */
unsigned lwss_port_wait_epoch(void);

/**
 * Make every lwss_port_wait_since() under way return (0) soon, so that its
 * caller looks at its flags again (a Close or Shutdown from another thread).
 * Takes only a leaf lock; callable with any lwss lock held.
 */
void lwss_port_wake_waiters(void);

/**
 * Have lwss_port_down() call @p stop (once per down, before the stack goes
 * down, with no port lock held) to stop and join a thread that a layer
 * above the port started.  Registering the same function again is a no-op.
 * @return LWSS_OK, or LWSS_ERR_NOMEM when the table is full.
 */
int lwss_port_on_down(void (*stop)(void));

struct lwss_port_config;

/** Validate a complete port configuration.  @return LWSS_OK or LWSS_ERR_INVAL. */
int lwss_port_config_check(const struct lwss_port_config *cfg);

#endif
