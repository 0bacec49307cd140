/*
 * The core under every layer (not installed): what the library itself uses
 * beside the public lwss/status.h.  Every other module may include this; it
 * includes nothing of theirs.
 */
#ifndef LWSS_CORE_H
#define LWSS_CORE_H

#include "lwss/status.h"

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

#endif
