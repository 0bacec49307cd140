/**
 * @file FreeRTOS.h
 * @brief Host stand-in for the FreeRTOS kernel header, for applications
 *        without a kernel: only the names Secure Sockets applications need
 *        (see lwss/freertos_compat.h).
 *
 * Installed under include/lwss/compat/, which only `pkg-config --cflags lwss`
 * adds, so that it never shadows a real kernel's FreeRTOS.h.  Should this
 * directory still come first on an application's include path, a real
 * FreeRTOS.h further down the path is used instead of the stand-ins.
 */
#ifndef LWSS_COMPAT_FREERTOS_H
#define LWSS_COMPAT_FREERTOS_H

#if defined(__has_include_next)
#if __has_include_next(<FreeRTOS.h>)
#include_next <FreeRTOS.h>
#endif
#endif

#include "lwss/freertos_compat.h"

#endif
