/*
 * An application as firmware writes it, built by `make test-kernel-compat`
 * in several ways: against the kernel stand-in (tests/sockets/kernel_standin: the
 * POSIX port's shape, 64-bit ticks, 100 Hz) with either include order, with
 * the in-tree and the installed headers, and without a kernel (LWSS_TEST_NO_KERNEL).
 * Every build uses -Wall -Wextra -Werror.  Run in the rig, it checks that a
 * receive timeout in the application's ticks lasts what those ticks mean.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */
#ifdef LWSS_TEST_SOCKETS_FIRST
#include "iot_secure_sockets.h"
#include "FreeRTOS.h"
#else
#include "FreeRTOS.h"
#include "iot_secure_sockets.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef LWSS_TEST_NO_KERNEL
#ifdef LWSS_TEST_KERNEL_STANDIN
#error "no kernel was asked for, yet the kernel stand-in was included"
#endif
_Static_assert(sizeof(TickType_t) == 4, "lwss's stand-in ticks are 32 bits");
#define TICK_HZ 1000u
#else
#ifndef LWSS_TEST_KERNEL_STANDIN
#error "the kernel's FreeRTOS.h must win over lwss's stand-in"
#endif
_Static_assert(sizeof(TickType_t) == 8, "the POSIX port's ticks are 64 bits");
_Static_assert(sizeof(BaseType_t) == 8, "the POSIX port's BaseType_t is long");
#define TICK_HZ 100u
#endif

#if socketsconfigBYTE_ORDER != pdLITTLE_ENDIAN && socketsconfigBYTE_ORDER != pdBIG_ENDIAN
#error "socketsconfigBYTE_ORDER must be one of pdLITTLE_ENDIAN / pdBIG_ENDIAN"
#endif

static unsigned long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000u + (unsigned long long)ts.tv_nsec / 1000000u;
}

static const char *env(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v != NULL && v[0] != '\0' ? v : def;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "run") != 0) {
        printf("kernel app: built\n");
        return 0;
    }
    if (SOCKETS_Init() != pdPASS) {
        return 1;
    }
    unsigned a, b, c, d;
    if (sscanf(env("LWSS_RIG_PEER", "192.0.2.1"), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) {
        return 1;
    }
    SocketsSockaddr_t to = {
        .ucLength = sizeof(SocketsSockaddr_t),
        .ucSocketDomain = SOCKETS_AF_INET,
        .usPort = SOCKETS_htons((uint16_t)atoi(env("LWSS_ECHO_PORT", "7"))),
        .ulAddress = SOCKETS_inet_addr_quick(a, b, c, d),
    };
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    TickType_t ticks = 5; /* 50 ms at the stand-in's 100 Hz, 5 ms without a kernel */
    unsigned long long want = 5000u / TICK_HZ;
    configASSERT(ticks == 5);
    if (s == SOCKETS_INVALID_SOCKET ||
        SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &ticks, sizeof(ticks)) != 0 ||
        SOCKETS_Connect(s, &to, sizeof(to)) != SOCKETS_ERROR_NONE) {
        printf("kernel app: connect failed\n");
        return 1;
    }
    char buf[8];
    unsigned long long t0 = now_ms();
    int32_t n = SOCKETS_Recv(s, buf, sizeof(buf), 0);
    unsigned long long took = now_ms() - t0;
    SOCKETS_Close(s);
    if (n != 0 || took < want || took > want + 1000u) {
        printf("kernel app: %llu ticks at %u Hz: Recv gave %d after %llu ms\n",
               (unsigned long long)ticks, TICK_HZ, (int)n, took);
        return 1;
    }
    printf("kernel app: ok (%llu ticks at %u Hz took %llu ms)\n", (unsigned long long)ticks,
           TICK_HZ, took);
    return 0;
}
