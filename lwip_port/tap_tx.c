/* TAP transmit path: GSO coalescing of lwIP's TCP segments, the writes, and
 * the flusher thread that ends a held burst once its producer releases the
 * lwIP core lock. */
#include "lwip_port/tap_tx.h"
#include "lwip_port/internal.h"
#include "lwss/port.h"

#include "lwip/tcpip.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

/* @p frames lwIP frames of @p bytes in all (their headers counted once each). */
static void write_out(lwss_tap_tx *tx, const struct virtio_net_hdr *vh, const uint8_t *frame,
                      size_t len, unsigned frames, size_t bytes)
{
    if (tx->fd < 0) {
        return; /* stopped */
    }
    struct iovec iov[2] = {{(void *)vh, sizeof(*vh)}, {(void *)frame, len}};
    ssize_t n;
    do {
        n = writev(tx->fd, iov, 2);
    } while (n < 0 && errno == EINTR);
    tx->stats.writes++;
    if (n != (ssize_t)(sizeof(*vh) + len)) {
        tx->stats.errors += frames;
        return;
    }
    tx->stats.frames += frames;
    tx->stats.bytes += bytes;
}

static void flush_locked(lwss_tap_tx *tx)
{
    unsigned segs = lwss_gso_finish(&tx->gso);
    if (segs > 0) {
        /* bytes counted as lwIP sent them: one Ethernet/IP/TCP header per segment */
        size_t hdrs = segs > 1 ? (size_t)(segs - 1) * tx->gso.vh.hdr_len : 0;
        write_out(tx, &tx->gso.vh, tx->gso.frame, tx->gso.len, segs, tx->gso.len + hdrs);
    }
    lwss_gso_reset(&tx->gso);
}

static void *flusher_main(void *arg)
{
    lwss_tap_tx *tx = arg;
    pthread_setname_np(pthread_self(), "lwss-tap-tx");
    lwss_os_mark_own_thread();
    pthread_mutex_lock(&tx->lock);
    while (!tx->stopping) {
        if (!tx->kicked) {
            pthread_cond_wait(&tx->kick, &tx->lock);
            continue;
        }
        tx->kicked = 0;
        pthread_mutex_unlock(&tx->lock);
        /* The producer holds the core lock for its whole burst of output:
         * getting the lock means the burst is over. */
        LOCK_TCPIP_CORE();
        pthread_mutex_lock(&tx->lock);
        flush_locked(tx);
        pthread_mutex_unlock(&tx->lock);
        UNLOCK_TCPIP_CORE();
        pthread_mutex_lock(&tx->lock);
    }
    pthread_mutex_unlock(&tx->lock);
    return NULL;
}

int lwss_tap_tx_start(lwss_tap_tx *tx, int fd)
{
    pthread_mutex_lock(&tx->lock);
    if (tx->running) {
        pthread_mutex_unlock(&tx->lock);
        return lwss_set_error(LWSS_ERR_BUSY, "the TAP transmit side is already running");
    }
    tx->fd = fd;
    tx->kicked = tx->stopping = 0;
    memset(&tx->stats, 0, sizeof(tx->stats));
    lwss_gso_reset(&tx->gso);
    int e = pthread_create(&tx->flusher, NULL, flusher_main, tx);
    if (e != 0) {
        tx->fd = -1;
        pthread_mutex_unlock(&tx->lock);
        return lwss_set_error(LWSS_ERR_NOMEM, "cannot start the TAP transmit thread: %s",
                              strerror(e));
    }
    tx->running = 1;
    pthread_mutex_unlock(&tx->lock);
    return LWSS_OK;
}

/* Under tx->lock: a frame was held; make sure somebody writes it.  An open
 * bracket's end does (checked under the same lock, so it cannot slip by). */
static void ensure_writer_locked(lwss_tap_tx *tx)
{
    if (tx->brackets == 0 && tx->gso.segs == 1) {
        tx->kicked = 1;
        pthread_cond_signal(&tx->kick);
    }
}

void lwss_tap_tx_frame(lwss_tap_tx *tx, const uint8_t *frame, size_t len, lwss_tx_from from)
{
    static const struct virtio_net_hdr none; /* a complete frame: no offload asked */
    pthread_mutex_lock(&tx->lock);
    if (from == LWSS_TX_FROM_LWIP) {
        int r = lwss_gso_add(&tx->gso, frame, len);
        if (r == LWSS_GSO_REFUSED && tx->gso.len != 0) {
            flush_locked(tx); /* order on the wire is lwIP's order */
            r = lwss_gso_add(&tx->gso, frame, len);
        }
        if (r == LWSS_GSO_DONE) {
            flush_locked(tx);
        } else if (r == LWSS_GSO_HELD) {
            ensure_writer_locked(tx);
        }
        if (r != LWSS_GSO_REFUSED) {
            pthread_mutex_unlock(&tx->lock);
            return;
        }
    }
    flush_locked(tx);
    write_out(tx, &none, frame, len, 1, len);
    pthread_mutex_unlock(&tx->lock);
}

void lwss_tap_tx_begin(lwss_tap_tx *tx)
{
    pthread_mutex_lock(&tx->lock);
    tx->brackets++;
    pthread_mutex_unlock(&tx->lock);
}

void lwss_tap_tx_end(lwss_tap_tx *tx)
{
    pthread_mutex_lock(&tx->lock);
    tx->brackets--;
    flush_locked(tx);
    pthread_mutex_unlock(&tx->lock);
}

void lwss_tap_tx_get_stats(lwss_tap_tx *tx, lwss_tap_tx_stats *out)
{
    pthread_mutex_lock(&tx->lock);
    *out = tx->stats;
    pthread_mutex_unlock(&tx->lock);
}

void lwss_tap_tx_stop(lwss_tap_tx *tx)
{
    pthread_mutex_lock(&tx->lock);
    if (!tx->running) {
        pthread_mutex_unlock(&tx->lock);
        return;
    }
    tx->stopping = 1;
    pthread_cond_signal(&tx->kick);
    pthread_mutex_unlock(&tx->lock);
    pthread_join(tx->flusher, NULL);
    pthread_mutex_lock(&tx->lock);
    flush_locked(tx);
    tx->fd = -1;
    tx->running = 0;
    pthread_mutex_unlock(&tx->lock);
}
