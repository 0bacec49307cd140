/**
 * @file lwss/os.h
 * @brief The OS seam: how an application thread (a FreeRTOS task) waits
 *        while it is blocked inside lwss.
 *
 * By default lwss blocks its callers in ordinary waits (poll(2), pthread
 * mutexes).  Under the FreeRTOS POSIX simulator only one task runs at a
 * time and a task blocked in such a wait is still "running" to the
 * scheduler, so lower-priority tasks starve.  With a wait hook set, every
 * blocking wait inside lwss (SOCKETS_Connect, SOCKETS_Send, SOCKETS_Recv,
 * the TLS handshake and record waits, close_notify, DNS lookups) polls
 * readiness without blocking and sleeps only through the hook, in short
 * slices, until the condition holds or its timeout has passed (never
 * earlier).  lwss's own locks that application calls may wait on are then
 * taken with trylock and the hook.  lwss's own threads never call the hook.
 *
 * A FreeRTOS application compiles the adapter lwss installs
 * (lwss/freertos_os_adapter.c, which calls vTaskDelay) with its kernel and
 * calls lwss_freertos_os_install() once, before any task uses lwss.  What
 * is and is not safe from a task: README, "lwss inside the FreeRTOS POSIX
 * simulator".
 */
#ifndef LWSS_OS_H
#define LWSS_OS_H

#include "lwss/export.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Sleep the calling application thread for about @p ms milliseconds
 * (1 or more), letting other tasks run.  It may return early or late; lwss
 * measures its own deadlines.  Called only from application threads, with
 * no lwss lock held that another thread could need.
 */
typedef void (*lwss_os_sleep_fn)(uint32_t ms, void *ctx);

/**
 * Set (or, with @p sleep_ms NULL, clear) the wait hook.  Set it once before
 * any thread uses lwss, or while no lwss call is in flight: a call already
 * waiting may still use the previous hook for its current slice.
 *
 * @param sleep_ms the hook; NULL restores ordinary blocking waits.
 * @param ctx      passed to every call of @p sleep_ms.
 */
LWSS_API void lwss_os_set_wait_hook(lwss_os_sleep_fn sleep_ms, void *ctx);

/**
 * @return 1 when a wait hook is set, else 0.
 */
LWSS_API int lwss_os_wait_hooked(void);

#ifdef __cplusplus
}
#endif

#endif
