/* Test stand-in application config: a tick rate other than 1 kHz, so that
 * tick conversions in lwss that assume 1 tick = 1 ms show up. */
#ifndef FREERTOS_CONFIG_H
#define FREERTOS_CONFIG_H

#define configTICK_RATE_HZ ((TickType_t)100)
#define configUSE_16_BIT_TICKS 0

#endif
