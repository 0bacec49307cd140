/* SOCKETS_Send / SOCKETS_Recv.
 *
 * Plain and TLS sockets alike transfer without blocking inside lwIP and
 * wait here with lwss_port_wait_since: a waiting thread reads the TAP and
 * feeds lwIP itself while nobody else does, so its data reaches it without
 * a hop through the port's receive thread.  It sleeps until its data, its
 * deadline or a Close/Shutdown from another thread (which wakes it through
 * lwss_port_wake_waiters); under an OS wait hook it waits in slices. */
#include "src/sockets/sock_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/sockets.h"
#include "lwss/config_defaults.h"

#include "lwip_port/internal.h"

typedef struct {
    int nonblock;
    uint64_t deadline_us; /* UINT64_MAX: forever */
} wait_plan;

/* The deadline is one microsecond past now + timeout, so that a clock read
 * that truncated the call's start can never make the wait end early. */
static wait_plan plan_for(const struct lwss_sock *k, uint64_t timeout_us)
{
    wait_plan w;
    w.nonblock = atomic_load(&k->nonblock);
    uint64_t now = lwss_now_us();
    w.deadline_us = (timeout_us == LWSS_SOCK_FOREVER || timeout_us >= UINT64_MAX - now - 1u)
                        ? UINT64_MAX
                        : now + timeout_us + 1u;
    return w;
}

/* Milliseconds to wait now, rounded up: 0 only once the deadline has passed.
 * Under the OS hook a Close is seen only between slices; otherwise it wakes
 * the wait, which can last until the deadline. */
static int next_slice(const wait_plan *w)
{
    uint64_t now = lwss_now_us();
    if (now >= w->deadline_us) {
        return 0;
    }
    uint64_t left_ms = (w->deadline_us - now + 999u) / 1000u;
    uint64_t cap = lwss_os_hook_applies() ? LWSS_SOCK_WAIT_SLICE_MS : (uint64_t)INT32_MAX;
    return (int)(left_ms < cap ? left_ms : cap);
}

static int is_wait_errno(int e)
{
    return e == EWOULDBLOCK || e == EAGAIN || e == ETIMEDOUT || e == EINTR;
}

static int32_t map_io_errno(int e)
{
    /* After connect, "not connected" means the connection is gone. */
    return e == ENOTCONN ? SOCKETS_ECLOSED : lwss_sock_errno_to_status(e);
}

/* Wait for @events on the descriptor: 1 ready, 0 deadline passed, <0 error.
 * The wait reads the TAP itself while nobody else does (lwss_port_wait). */
static int32_t wait_fd(struct lwss_sock *k, short events, const wait_plan *w)
{
    for (;;) {
        unsigned epoch = lwss_port_wait_epoch(); /* before the flags: a wake is never lost */
        if (atomic_load(&k->closing) ||
            atomic_load(events == POLLIN ? &k->shut_rd : &k->shut_wr)) {
            return SOCKETS_ECLOSED;
        }
        int slice = next_slice(w);
        if (slice == 0) {
            return 0;
        }
        int n = lwss_port_wait_since(k->fd, events, slice, epoch);
        if (n > 0) {
            return 1;
        }
        if (n < 0 && errno != EINTR) {
            return SOCKETS_SOCKET_ERROR;
        }
    }
}

/* Serve the caller from the read-ahead buffer (recv_lock held, bytes held). */
static int32_t take_batched(struct lwss_sock *k, void *buf, size_t len)
{
    size_t n = k->rx_len - k->rx_off;
    if (n > len) {
        n = len;
    }
    memcpy(buf, k->rx_batch + k->rx_off, n);
    k->rx_off += n;
    atomic_store(&k->rx_held, k->rx_len - k->rx_off);
    if (k->rx_off == k->rx_len) {
        free(k->rx_batch);
        k->rx_batch = NULL;
        k->rx_off = k->rx_len = 0;
    }
    return (int32_t)n;
}

/* One non-blocking lwIP read.  Every lwip_recv ends in a window update to
 * the peer (liblwip announces once the window grew by 4 segments): a caller
 * asking for less than LWSS_SOCK_RX_BATCH gets its bytes through a buffer
 * filled by one larger read, allocated only while it holds bytes. */
static ssize_t read_plain(struct lwss_sock *k, void *buf, size_t len)
{
    static const size_t batch = LWSS_SOCK_RX_BATCH;
    if (len >= batch || (k->rx_batch = malloc(batch)) == NULL) {
        return lwip_recv(k->fd, buf, len, MSG_DONTWAIT);
    }
    ssize_t n = lwip_recv(k->fd, k->rx_batch, batch, MSG_DONTWAIT);
    int e = errno;
    if (n <= 0) {
        free(k->rx_batch);
        k->rx_batch = NULL;
        errno = e;
        return n;
    }
    k->rx_off = 0;
    k->rx_len = (size_t)n;
    atomic_store(&k->rx_held, (size_t)n);
    return take_batched(k, buf, len);
}

/* Non-blocking reads; waits (when allowed) happen in wait_fd, outside lwIP. */
static int32_t recv_plain(struct lwss_sock *k, void *buf, size_t len, const wait_plan *w)
{
    for (;;) {
        if (atomic_load(&k->closing) || atomic_load(&k->shut_rd)) {
            return SOCKETS_ECLOSED;
        }
        if (k->rx_batch != NULL) {
            return take_batched(k, buf, len);
        }
        ssize_t n = read_plain(k, buf, len);
        if (n > 0) {
            return (int32_t)n;
        }
        if (n == 0) {
            return SOCKETS_ECLOSED;
        }
        int e = errno;
        if (!is_wait_errno(e)) {
            return map_io_errno(e);
        }
        if (w->nonblock) {
            return SOCKETS_EWOULDBLOCK;
        }
        int32_t r = wait_fd(k, POLLIN, w);
        if (r <= 0) {
            return r;
        }
    }
}

static int32_t recv_tls(struct lwss_sock *k, void *buf, size_t len, const wait_plan *w)
{
    for (;;) {
        int32_t n = lwss_tls_recv(k->tls, buf, len, 0, 1);
        if (n != SOCKETS_EWOULDBLOCK && n != 0) {
            return n;
        }
        if (w->nonblock) {
            return SOCKETS_EWOULDBLOCK;
        }
        int32_t r = wait_fd(k, POLLIN, w);
        if (r <= 0) {
            return r;
        }
    }
}

/* Argument and state checks shared by Send and Recv.  Returns 1 to go
 * ahead (with *len clamped to what the int32_t result can report), else the
 * result to give: 0 for an empty transfer, or an error. */
static int32_t io_precheck(struct lwss_sock *k, const void *buf, size_t *len, int direction_closed)
{
    if (buf == NULL) {
        return SOCKETS_EINVAL;
    }
    if (!atomic_load(&k->connected)) {
        return SOCKETS_ENOTCONN;
    }
    if (direction_closed) {
        return SOCKETS_ECLOSED;
    }
    if (*len > INT32_MAX) {
        *len = INT32_MAX;
    }
    return *len == 0 ? 0 : 1;
}

int32_t SOCKETS_Recv(Socket_t xSocket, void *pvBuffer, size_t xBufferLength, uint32_t ulFlags)
{
    (void)ulFlags; /* no flags are defined */
    struct lwss_sock *k = lwss_sock_acquire(xSocket);
    if (k == NULL) {
        return SOCKETS_EINVAL;
    }
    int32_t ret = io_precheck(k, pvBuffer, &xBufferLength,
                              atomic_load(&k->shut_rd) || atomic_load(&k->peer_closed));
    if (ret > 0) {
        wait_plan w = plan_for(k, atomic_load(&k->recv_timeout_us));
        lwss_os_lock(&k->recv_lock);
        ret = k->tls != NULL ? recv_tls(k, pvBuffer, xBufferLength, &w)
                             : recv_plain(k, pvBuffer, xBufferLength, &w);
        pthread_mutex_unlock(&k->recv_lock);
        if (ret == SOCKETS_ECLOSED && !atomic_load(&k->closing)) {
            atomic_store(&k->peer_closed, 1);
        }
        if (ret >= 0 || ret == SOCKETS_EWOULDBLOCK) {
            lwss_sock_rearm(k);
        }
    }
    lwss_sock_release(k);
    return ret;
}

/* One attempt; returns bytes (> 0), or a status with *wait set when the
 * caller should wait for room and retry. */
static int32_t send_once(struct lwss_sock *k, const uint8_t *p, size_t len, int *wait)
{
    *wait = 0;
    if (k->tls != NULL) {
        int32_t n = lwss_tls_send(k->tls, p, len, 0, 1);
        if (n == SOCKETS_EWOULDBLOCK || n == 0) {
            *wait = 1;
            return SOCKETS_EWOULDBLOCK;
        }
        return n;
    }
    /* never blocks inside lwIP: the caller waits in wait_fd */
    lwss_port_tx_begin(); /* segments leave as one TAP write, flushed here */
    ssize_t n = lwip_send(k->fd, p, len, MSG_DONTWAIT);
    int e = errno;
    lwss_port_tx_end();
    if (n >= 0) {
        return (int32_t)n;
    }
    if (is_wait_errno(e)) {
        *wait = 1;
        return SOCKETS_EWOULDBLOCK;
    }
    return map_io_errno(e);
}

static int32_t send_all(struct lwss_sock *k, const uint8_t *p, size_t len, const wait_plan *w)
{
    size_t sent = 0;
    while (sent < len) {
        if (atomic_load(&k->closing) || atomic_load(&k->shut_wr)) {
            return sent > 0 ? (int32_t)sent : SOCKETS_ECLOSED;
        }
        int wait;
        int32_t n = send_once(k, p + sent, len - sent, &wait);
        if (n > 0) {
            sent += (size_t)n;
            if (w->nonblock) {
                break; /* never wait: a partial send is the answer */
            }
            continue;
        }
        if (!wait) {
            return sent > 0 ? (int32_t)sent : n;
        }
        if (w->nonblock) {
            return sent > 0 ? (int32_t)sent : SOCKETS_EWOULDBLOCK;
        }
        int32_t r = wait_fd(k, POLLOUT, w);
        if (r < 0) {
            return sent > 0 ? (int32_t)sent : r;
        }
        if (r == 0) {
            break; /* timed out: what was sent so far (maybe 0) */
        }
    }
    return (int32_t)sent;
}

int32_t SOCKETS_Send(Socket_t xSocket, const void *pvBuffer, size_t xDataLength, uint32_t ulFlags)
{
    (void)ulFlags;
    struct lwss_sock *k = lwss_sock_acquire(xSocket);
    if (k == NULL) {
        return SOCKETS_EINVAL;
    }
    int32_t ret = io_precheck(k, pvBuffer, &xDataLength, atomic_load(&k->shut_wr));
    if (ret > 0) {
        wait_plan w = plan_for(k, atomic_load(&k->send_timeout_us));
        lwss_os_lock(&k->send_lock);
        ret = send_all(k, pvBuffer, xDataLength, &w);
        pthread_mutex_unlock(&k->send_lock);
    }
    lwss_sock_release(k);
    return ret;
}
