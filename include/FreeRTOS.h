/**
 * @file FreeRTOS.h
 * @brief Host stand-in for the FreeRTOS kernel header: only the names that
 *        Secure Sockets applications need (see lwss/freertos_compat.h).
 */
#ifndef LWSS_FREERTOS_H
#define LWSS_FREERTOS_H

#include "lwss/freertos_compat.h"

#endif
