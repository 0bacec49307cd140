/* Network impairment inside the TAP driver (internal): loss, delay with
 * jitter, reordering, duplication and link-down, in both directions.  The
 * kernel of a CI machine may lack sch_netem; this works everywhere. */
#ifndef LWSS_IMPAIR_H
#define LWSS_IMPAIR_H

#include "lwss/port.h"

#include <stddef.h>
#include <stdint.h>

/**
 * Where a frame goes once the impairment lets it through: @p deferred is 0
 * when delivered inside lwss_impair_frame() (in its caller's thread and
 * context), 1 when delivered later by the delay thread.
 */
typedef void (*lwss_impair_sink)(void *ctx, const uint8_t *frame, size_t len, int deferred);

/** 1 when @p cfg asks for any impairment (else no filter is needed). */
int lwss_impair_configured(const lwss_port_impairment *cfg);

/** One impairment engine (opaque). */
typedef struct lwss_impair lwss_impair;

/**
 * Start an engine for @p cfg (with no impairment it only forwards, lock-free).
 * @p to_lwip / @p to_tap deliver frames in each direction.
 * @return LWSS_OK or LWSS_ERR_NOMEM.
 */
int lwss_impair_start(lwss_impair **out, const lwss_port_impairment *cfg, lwss_impair_sink to_lwip,
                      lwss_impair_sink to_tap, void *ctx);

/** Pass a frame through: @p to_lwip 1 for TAP->lwIP, 0 for lwIP->TAP. */
void lwss_impair_frame(lwss_impair *im, int to_lwip, const uint8_t *frame, size_t len);

/** Link state: while down every frame is dropped. */
void lwss_impair_set_link(lwss_impair *im, int up);

/** Frames dropped so far (loss and link-down). */
uint64_t lwss_impair_drops(lwss_impair *im);

/** Stop the delay thread, drop queued frames, free.  NULL is fine. */
void lwss_impair_stop(lwss_impair *im);

#endif
