/*
 * The FreeRTOS OS adapter (include/lwss/freertos_os_adapter.c) compiled as
 * an application does, against the kernel stand-in (tests/kernel_standin:
 * POSIX port shape, 64-bit ticks, 100 Hz), by `make test-os-adapter`.  Its
 * vTaskDelay records what the adapter asks for.  Run in the rig: a receive
 * timeout of 5 ticks waits through vTaskDelay only and lasts 50 ms.
 */
#define _POSIX_C_SOURCE 200809L
#include "FreeRTOS.h"
#include "task.h"
#include "iot_secure_sockets.h"
#include "lwss/os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void lwss_freertos_sleep_ms(uint32_t ms, void *ctx);
void lwss_freertos_os_install(void);

static unsigned long delays, zero_delays;
static TickType_t last_ticks;

/* The stand-in kernel's vTaskDelay: sleeps the ticks at 100 Hz. */
void vTaskDelay(const TickType_t xTicksToDelay)
{
    delays++;
    zero_delays += xTicksToDelay == 0;
    last_ticks = xTicksToDelay;
    struct timespec ts = {0, (long)xTicksToDelay * (1000000000L / configTICK_RATE_HZ)};
    nanosleep(&ts, NULL);
}

static unsigned long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000u + (unsigned long long)ts.tv_nsec / 1000000u;
}

/* ms -> ticks at 100 Hz: rounded up, never 0. */
static int check_rounding(void)
{
    static const struct { uint32_t ms; TickType_t ticks; } cases[] = {
        {1, 1}, {10, 1}, {11, 2}, {25, 3}, {1000, 100}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        lwss_freertos_sleep_ms(cases[i].ms, NULL);
        if (last_ticks != cases[i].ticks) {
            printf("os adapter: %u ms gave %llu ticks, want %llu\n", (unsigned)cases[i].ms,
                   (unsigned long long)last_ticks, (unsigned long long)cases[i].ticks);
            return 1;
        }
    }
    return 0;
}

static int recv_timeout_through_vtaskdelay(void)
{
    if (SOCKETS_Init() != pdPASS) {
        return 1;
    }
    const char *peer = getenv("LWSS_RIG_PEER"), *port = getenv("LWSS_ECHO_PORT");
    unsigned a, b, c, d;
    if (peer == NULL || port == NULL || sscanf(peer, "%u.%u.%u.%u", &a, &b, &c, &d) != 4) {
        printf("os adapter: not in the rig\n");
        return 1;
    }
    SocketsSockaddr_t to = {.ucLength = sizeof(SocketsSockaddr_t),
                            .ucSocketDomain = SOCKETS_AF_INET,
                            .usPort = SOCKETS_htons((uint16_t)atoi(port)),
                            .ulAddress = SOCKETS_inet_addr_quick(a, b, c, d)};
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    TickType_t ticks = 5;
    if (s == SOCKETS_INVALID_SOCKET ||
        SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &ticks, sizeof(ticks)) != 0 ||
        SOCKETS_Connect(s, &to, sizeof(to)) != SOCKETS_ERROR_NONE) {
        printf("os adapter: connect failed\n");
        return 1;
    }
    char buf[8];
    unsigned long before = delays;
    unsigned long long t0 = now_ms();
    int32_t n = SOCKETS_Recv(s, buf, sizeof(buf), 0);
    unsigned long long took = now_ms() - t0;
    SOCKETS_Close(s);
    if (n != 0 || took < 50 || took > 50 + 500 || delays == before) {
        printf("os adapter: Recv gave %d after %llu ms with %lu vTaskDelay calls\n", (int)n, took,
               delays - before);
        return 1;
    }
    printf("os adapter: ok (5 ticks took %llu ms, %lu vTaskDelay calls)\n", took, delays - before);
    return 0;
}

int main(int argc, char **argv)
{
    lwss_freertos_os_install();
    if (!lwss_os_wait_hooked() || check_rounding() != 0 || zero_delays != 0) {
        return 1;
    }
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        printf("os adapter: built\n");
        return 0;
    }
    return recv_timeout_through_vtaskdelay();
}
