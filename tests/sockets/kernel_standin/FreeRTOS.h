/* Test stand-in for the FreeRTOS kernel's FreeRTOS.h (POSIX simulator port
 * shape): the same include guard, includes and typedef widths as the real
 * kernel, so that lwss's headers can be checked against it without the
 * kernel sources.  Not installed. */
#ifndef INC_FREERTOS_H
#define INC_FREERTOS_H

#include <stddef.h>
#include <stdint.h>

#include "FreeRTOSConfig.h"
#include "projdefs.h"
#include "portmacro.h"

#ifndef configASSERT
#define configASSERT(x)
#define configASSERT_DEFINED 0
#endif

/** Lets the test program check that this header, not lwss's, was used. */
#define LWSS_TEST_KERNEL_STANDIN 1

#endif
