/* Test stand-in for the kernel's task.h: vTaskDelay only, defined by the
 * test program (tests/os_adapter_app.c).  Not installed. */
#ifndef INC_TASK_H
#define INC_TASK_H

#ifndef INC_FREERTOS_H
#error "include FreeRTOS.h before task.h"
#endif

void vTaskDelay(const TickType_t xTicksToDelay);

#endif
