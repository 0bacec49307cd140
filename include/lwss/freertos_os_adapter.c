/*
 * lwss's OS seam for FreeRTOS (lwss/os.h): compile this file with your
 * application and its kernel (it needs the kernel's FreeRTOS.h and task.h
 * and your FreeRTOSConfig.h on the include path), and call
 * lwss_freertos_os_install() once, before any task uses lwss.  From then
 * on a task blocked inside lwss sleeps with vTaskDelay, so other tasks run
 * (needed on the POSIX simulator port, where a task blocked in a host wait
 * still counts as running).  Installed beside the headers; not part of
 * liblwss (the library never calls a kernel function).
 */
#include "FreeRTOS.h"
#include "task.h"

#include "lwss/os.h"

#include <stdint.h>

void lwss_freertos_sleep_ms(uint32_t ms, void *ctx);
void lwss_freertos_os_install(void);

/** The wait hook: at least one tick (a delay of 0 ticks would only yield
 *  to tasks of the same priority), @p ms rounded up to whole ticks. */
void lwss_freertos_sleep_ms(uint32_t ms, void *ctx)
{
    (void)ctx;
    uint64_t ticks = ((uint64_t)ms * (uint64_t)configTICK_RATE_HZ + 999u) / 1000u;
    vTaskDelay((TickType_t)(ticks > 0 ? ticks : 1u));
}

/** Make every blocking wait of lwss in a task a vTaskDelay. */
void lwss_freertos_os_install(void)
{
    lwss_os_set_wait_hook(lwss_freertos_sleep_ms, NULL);
}
