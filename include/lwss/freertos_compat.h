/**
 * @file freertos_compat.h
 * @brief The few FreeRTOS names that Secure Sockets applications use, for an
 *        application built without the FreeRTOS kernel.
 *
 * Empty when a real kernel's FreeRTOS.h came first (its include guard
 * INC_FREERTOS_H is defined): the kernel's definitions always win.  Without
 * a kernel: one tick is one millisecond and TickType_t is 32 bits (as on
 * most MCU ports); lwss accepts 4- and 8-byte tick values either way.
 */
#ifndef LWSS_FREERTOS_COMPAT_H
#define LWSS_FREERTOS_COMPAT_H

#ifndef INC_FREERTOS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef PORTMACRO_H
/** Signed machine word, as in the FreeRTOS ports for a 64-bit host. */
typedef long BaseType_t;
/** Unsigned machine word. */
typedef unsigned long UBaseType_t;
/** Ticks; one tick is one millisecond on the host. */
typedef uint32_t TickType_t;
#endif

#ifndef configTICK_RATE_HZ
/** Host tick rate: 1 tick = 1 ms. */
#define configTICK_RATE_HZ ((TickType_t)1000)
#endif

#ifndef portMAX_DELAY
/** Wait forever. */
#define portMAX_DELAY ((TickType_t)0xffffffffUL)
#endif

#ifndef portTICK_PERIOD_MS
/** Milliseconds per tick. */
#define portTICK_PERIOD_MS ((TickType_t)1000 / configTICK_RATE_HZ)
#endif

#ifndef pdMS_TO_TICKS
/** Milliseconds to ticks. */
#define pdMS_TO_TICKS(xTimeInMs) \
    ((TickType_t)(((uint64_t)(xTimeInMs) * (uint64_t)configTICK_RATE_HZ) / (uint64_t)1000U))
#endif

#ifndef pdFALSE
#define pdFALSE ((BaseType_t)0)   /**< false */
#endif
#ifndef pdTRUE
#define pdTRUE ((BaseType_t)1)    /**< true */
#endif
#ifndef pdFAIL
#define pdFAIL (pdFALSE)          /**< failure */
#endif
#ifndef pdPASS
#define pdPASS (pdTRUE)           /**< success */
#endif

#ifndef configPRINTF
/** configPRINTF(("fmt", args)): printf-style logging, as in FreeRTOS demos. */
#define configPRINTF(X) ((void)printf X)
#endif

#ifndef configASSERT
/** Application assertion: report and abort, like a firmware assert would halt. */
#define configASSERT(x)                                                                  \
    do {                                                                                 \
        if (!(x)) {                                                                      \
            (void)fprintf(stderr, "%s:%d: configASSERT(%s) failed\n", __FILE__, __LINE__, \
                          #x);                                                           \
            abort();                                                                     \
        }                                                                                \
    } while (0)
#endif

#endif /* !INC_FREERTOS_H */

#endif /* LWSS_FREERTOS_COMPAT_H */
