/* Test stand-in for the POSIX port's portmacro.h: 64-bit ticks and base
 * types, portMAX_DELAY and portTICK_PERIOD_MS defined without #ifndef. */
#ifndef PORTMACRO_H
#define PORTMACRO_H

#include <limits.h>

#define portBASE_TYPE long
#define portSTACK_TYPE unsigned long

typedef portSTACK_TYPE StackType_t;
typedef long BaseType_t;
typedef unsigned long UBaseType_t;
typedef unsigned long TickType_t;

#define portMAX_DELAY (TickType_t) ULONG_MAX
#define portTICK_PERIOD_MS ((TickType_t)1000 / configTICK_RATE_HZ)

#endif
