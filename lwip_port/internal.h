/* Internal helpers shared by lwss modules (not installed). */
#ifndef LWSS_LWIP_PORT_INTERNAL_H
#define LWSS_LWIP_PORT_INTERNAL_H

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

struct lwss_port_config;

/** Validate a complete port configuration.  @return LWSS_OK or LWSS_ERR_INVAL. */
int lwss_port_config_check(const struct lwss_port_config *cfg);

#endif
