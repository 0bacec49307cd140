/* Helpers shared by the benchmark binaries (header-only: each bench is linked
 * by its module's own rule from one object). */
#ifndef LWSS_BENCH_UTIL_H
#define LWSS_BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of @p n values (sorts them). */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(v[0]), bench_cmp_double);
    return v[n / 2];
}

/* One JSON line for lwss-bench-report; @p baseline_of and @p goal only on
 * a baseline line (the lwss metric it is compared with, ">=x" / "<=x"). */
static inline void bench_emit(const char *bench, const char *metric, double value,
                              const char *unit, const char *baseline_of, const char *goal)
{
    printf("{\"bench\":\"%s\",\"metric\":\"%s\",\"value\":%.4f,\"unit\":\"%s\"", bench, metric,
           value, unit);
    if (baseline_of != NULL) {
        printf(",\"baseline\":\"%s\"", baseline_of);
    }
    if (goal != NULL) {
        printf(",\"goal\":\"%s\"", goal);
    }
    printf("}\n");
    fflush(stdout);
}

/* The 9-byte command of lwss-bench-peer: a letter, then @p n big-endian. */
static inline void bench_peer_command(uint8_t cmd[9], char what, uint64_t n)
{
    cmd[0] = (uint8_t)what;
    for (int i = 8; i >= 1; i--, n >>= 8) {
        cmd[i] = (uint8_t)n;
    }
}

#endif
