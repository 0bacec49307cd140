/*
 * The OS seam (lwss/os.h): the application's wait hook, and the two ways
 * the library waits on behalf of an application thread: sleeping a slice
 * and taking a lock that another task may hold across a task switch.
 */
#include "src/core/core.h"
#include "lwss/os.h"

#include <stdatomic.h>

static _Atomic(lwss_os_sleep_fn) hook_fn;
static void *_Atomic hook_ctx;

/* lwss's own threads mark themselves: they never call the hook. */
static _Thread_local int own_thread;

void lwss_os_set_wait_hook(lwss_os_sleep_fn sleep_ms, void *ctx)
{
    atomic_store(&hook_ctx, ctx); /* before the function: a reader sees both */
    atomic_store(&hook_fn, sleep_ms);
}

int lwss_os_wait_hooked(void)
{
    return atomic_load(&hook_fn) != NULL;
}

void lwss_os_mark_own_thread(void)
{
    own_thread = 1;
}

int lwss_os_hook_applies(void)
{
    return !own_thread && atomic_load(&hook_fn) != NULL;
}

#ifdef LWSS_TEST_HOOKS
static atomic_uint blocking_waits;

void lwss_os_test_note_wait(int timeout_ms)
{
    if (timeout_ms > 0 && lwss_os_hook_applies()) {
        atomic_fetch_add(&blocking_waits, 1);
    }
}

unsigned lwss_os_test_blocking_waits(void)
{
    return atomic_load(&blocking_waits);
}
#endif

void lwss_os_sleep(uint32_t ms)
{
    lwss_os_sleep_fn fn = atomic_load(&hook_fn);
    void *ctx = atomic_load(&hook_ctx);
    if (fn != NULL && !own_thread) {
        fn(ms > 0 ? ms : 1u, ctx);
    }
}

void lwss_os_lock(pthread_mutex_t *m)
{
    if (!lwss_os_hook_applies()) {
        pthread_mutex_lock(m);
        return;
    }
    /* The holder may be a task the kernel switched out: let it run. */
    while (pthread_mutex_trylock(m) != 0) {
        lwss_os_sleep(LWSS_OS_WAIT_SLICE_MS);
    }
}

void lwss_os_cond_wait(pthread_cond_t *cv, pthread_mutex_t *m)
{
    if (!lwss_os_hook_applies()) {
        pthread_cond_wait(cv, m);
        return;
    }
    /* Callers loop on their condition: a slice asleep is a spurious wakeup. */
    pthread_mutex_unlock(m);
    lwss_os_sleep(LWSS_OS_WAIT_SLICE_MS);
    lwss_os_lock(m);
}
