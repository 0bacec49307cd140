/* Loss, delay + jitter, reordering, duplication and link-down for frames
 * crossing the TAP.  Delayed frames wait in a due-time ordered list served
 * by one thread; everything else is delivered in the caller's thread. */
#include "lwip_port/impair.h"
#include "lwip_port/internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct queued {
    struct queued *next;
    uint64_t due_ms;
    int to_lwip;
    size_t len;
    uint8_t frame[];
} queued;

struct lwss_impair {
    lwss_port_impairment cfg;
    lwss_impair_sink to_lwip, to_tap;
    void *ctx;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    int has_thread, stopping, active;
    _Atomic int link_down;
    uint64_t rng;
    uint64_t drops;
    queued *head;
};

static int impairs(const lwss_port_impairment *c)
{
    return c->loss_permille || c->dup_permille || c->delay_ms || c->jitter_ms;
}

int lwss_impair_configured(const lwss_port_impairment *cfg)
{
    return impairs(cfg);
}

/* xorshift64*: cheap, good enough to pick which frames to drop. */
static uint32_t next_rand(lwss_impair *im)
{
    im->rng ^= im->rng >> 12;
    im->rng ^= im->rng << 25;
    im->rng ^= im->rng >> 27;
    return (uint32_t)((im->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static int chance(lwss_impair *im, uint16_t permille)
{
    return permille > 0 && next_rand(im) % 1000u < permille;
}

static void deliver(lwss_impair *im, int to_lwip, const uint8_t *frame, size_t len, int deferred)
{
    (to_lwip ? im->to_lwip : im->to_tap)(im->ctx, frame, len, deferred);
}

static void *delay_main(void *arg)
{
    lwss_impair *im = arg;
    pthread_setname_np(pthread_self(), "lwss-impair");
    lwss_os_mark_own_thread();
    pthread_mutex_lock(&im->lock);
    while (!im->stopping) {
        uint64_t now = lwss_now_ms();
        if (im->head != NULL && im->head->due_ms <= now) {
            queued *q = im->head;
            im->head = q->next;
            pthread_mutex_unlock(&im->lock);
            deliver(im, q->to_lwip, q->frame, q->len, 1);
            free(q);
            pthread_mutex_lock(&im->lock);
            continue;
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t wait = im->head != NULL ? im->head->due_ms - now : 1000;
        ts.tv_sec += (time_t)(wait / 1000);
        ts.tv_nsec += (long)(wait % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&im->cond, &im->lock, &ts);
    }
    pthread_mutex_unlock(&im->lock);
    return NULL;
}

int lwss_impair_start(lwss_impair **out, const lwss_port_impairment *cfg, lwss_impair_sink to_lwip,
                      lwss_impair_sink to_tap, void *ctx)
{
    *out = NULL;
    lwss_impair *im = calloc(1, sizeof(*im));
    if (im == NULL) {
        return lwss_set_error(LWSS_ERR_NOMEM, "impairment: out of memory");
    }
    im->cfg = *cfg;
    im->active = impairs(cfg);
    im->to_lwip = to_lwip;
    im->to_tap = to_tap;
    im->ctx = ctx;
    im->rng = cfg->seed != 0 ? cfg->seed : (uint64_t)lwss_now_ms() * 2654435761u + 1;
    pthread_mutex_init(&im->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&im->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (cfg->delay_ms || cfg->jitter_ms) {
        int e = pthread_create(&im->thread, NULL, delay_main, im);
        if (e != 0) {
            pthread_cond_destroy(&im->cond);
            pthread_mutex_destroy(&im->lock);
            free(im);
            return lwss_set_error(LWSS_ERR_NOMEM, "impairment thread: %s", strerror(e));
        }
        im->has_thread = 1;
    }
    *out = im;
    return LWSS_OK;
}

static void enqueue_locked(lwss_impair *im, queued *q)
{
    queued **pp = &im->head;
    while (*pp != NULL && (*pp)->due_ms <= q->due_ms) {
        pp = &(*pp)->next;
    }
    q->next = *pp;
    *pp = q;
    pthread_cond_signal(&im->cond);
}

static uint64_t delay_for(lwss_impair *im)
{
    int64_t d = im->cfg.delay_ms;
    if (im->cfg.jitter_ms > 0) {
        d += (int64_t)(next_rand(im) % (2 * im->cfg.jitter_ms + 1)) - im->cfg.jitter_ms;
    }
    return d > 0 ? (uint64_t)d : 0;
}

void lwss_impair_frame(lwss_impair *im, int to_lwip, const uint8_t *frame, size_t len)
{
    if (!im->active && !im->link_down) {
        deliver(im, to_lwip, frame, len, 0); /* link up, nothing configured: no lock */
        return;
    }
    pthread_mutex_lock(&im->lock);
    if (im->link_down || chance(im, im->cfg.loss_permille)) {
        im->drops++;
        pthread_mutex_unlock(&im->lock);
        return;
    }
    int copies = chance(im, im->cfg.dup_permille) ? 2 : 1;
    for (int i = 0; i < copies; i++) {
        uint64_t d = im->has_thread && !chance(im, im->cfg.reorder_permille) ? delay_for(im) : 0;
        queued *q = d > 0 ? malloc(sizeof(*q) + len) : NULL;
        if (q == NULL) {
            pthread_mutex_unlock(&im->lock);
            deliver(im, to_lwip, frame, len, 0);
            pthread_mutex_lock(&im->lock);
            continue;
        }
        q->due_ms = lwss_now_ms() + d;
        q->to_lwip = to_lwip;
        q->len = len;
        memcpy(q->frame, frame, len);
        enqueue_locked(im, q);
    }
    pthread_mutex_unlock(&im->lock);
}

void lwss_impair_set_link(lwss_impair *im, int up)
{
    im->link_down = !up;
}

uint64_t lwss_impair_drops(lwss_impair *im)
{
    pthread_mutex_lock(&im->lock);
    uint64_t n = im->drops;
    pthread_mutex_unlock(&im->lock);
    return n;
}

void lwss_impair_stop(lwss_impair *im)
{
    if (im == NULL) {
        return;
    }
    pthread_mutex_lock(&im->lock);
    im->stopping = 1;
    pthread_cond_signal(&im->cond);
    pthread_mutex_unlock(&im->lock);
    if (im->has_thread) {
        pthread_join(im->thread, NULL);
    }
    while (im->head != NULL) {
        queued *q = im->head;
        im->head = q->next;
        free(q);
    }
    pthread_cond_destroy(&im->cond);
    pthread_mutex_destroy(&im->lock);
    free(im);
}
