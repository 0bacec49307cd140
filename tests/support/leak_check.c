/* Leak fixtures and small helpers shared by every suite. */
#include "tests/support/lwss_test.h"

#include <dirent.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* liblwip's tcpip thread (named by the port) lives for the whole process
 * once started: it is not a leak. */
static int count_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        char path[300], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            if (fgets(comm, sizeof(comm), f) == NULL) {
                comm[0] = '\0';
            }
            fclose(f);
        }
        if (strncmp(comm, "lwip-tcpip", 10) != 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

static int count_dir(const char *path, int own_fd)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        return -1;
    }
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n - own_fd; /* opendir's own descriptor shows in /proc/self/fd */
}

void lwss_leak_take(lwss_leak_snapshot *snap)
{
    snap->fds = count_dir("/proc/self/fd", 1);
    snap->threads = count_threads();
    struct mallinfo2 mi = mallinfo2();
    snap->heap = mi.uordblks;
}

uint64_t lwss_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#if defined(__SANITIZE_THREAD__)
/* ThreadSanitizer starts its own background thread with the first thread. */
#define SANITIZER_THREADS 1
#else
#define SANITIZER_THREADS 0
#endif

void lwss_leak_assert(const lwss_leak_snapshot *before, int heap_too)
{
    lwss_leak_snapshot now;
    uint64_t deadline = lwss_test_now_ms() + 2000;
    for (;;) {
        lwss_leak_take(&now);
        now.threads -= (now.threads > before->threads) ? SANITIZER_THREADS : 0;
        if (now.threads <= before->threads || lwss_test_now_ms() > deadline) {
            break;
        }
        usleep(10000);
    }
    ck_assert_msg(now.fds <= before->fds, "descriptors leaked: %d before, %d after",
                  before->fds, now.fds);
    ck_assert_msg(now.threads <= before->threads, "threads leaked: %d before, %d after",
                  before->threads, now.threads);
#if !defined(__SANITIZE_ADDRESS__)
    /* Under ASan, malloc is the sanitizer's and LeakSanitizer checks at exit. */
    if (heap_too) {
        ck_assert_msg(now.heap <= before->heap, "heap grew: %zu bytes before, %zu after",
                      before->heap, now.heap);
    }
#else
    (void)heap_too;
#endif
}

static lwss_leak_snapshot fixture_snap;

void lwss_leak_setup(void)
{
    lwss_leak_take(&fixture_snap);
}

void lwss_leak_teardown(void)
{
    lwss_leak_assert(&fixture_snap, 1);
}

void lwss_leak_setup_fds(void)
{
    lwss_leak_take(&fixture_snap);
}

void lwss_leak_teardown_fds(void)
{
    lwss_leak_assert(&fixture_snap, 0);
}

int lwss_test_in_rig(void)
{
    const char *r = getenv("LWSS_RIG");
    return r != NULL && r[0] == '1';
}

const char *lwss_test_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : dflt;
}

const char *lwss_test_build_dir(void)
{
    return lwss_test_env("LWSS_BUILD", "build");
}
