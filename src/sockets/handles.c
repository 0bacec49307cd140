/* Handle table with generation counters, and the one shared event thread
 * that serves the wakeup callbacks of all sockets.
 *
 * A handle encodes (generation << 32) | (slot + 1), so it is never NULL and
 * never SOCKETS_INVALID_SOCKET; it is decoded and checked against the table,
 * never dereferenced.  Every API call holds a reference while it runs;
 * Close removes the slot first and then waits for the references to drain,
 * so no lwIP call is ever in flight when the descriptor is closed. */
#include "src/sockets/sock_internal.h"
#include "lwip_port/internal.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>

#include "lwip/sockets.h"

#include "lwss/port.h"

#define TABLE_SIZE LWSS_SOCKETS_MAX
/* lwip_poll cannot be interrupted by a condition variable: the event thread
 * also polls a UDP socket bound to the stack's own address, and whoever
 * changes the set sends it a datagram (lwIP loops it back).  Without that
 * socket (stack going down) it falls back to short slices. */
#define EVENT_WAKE_POLL_MS LWSS_SOCK_EVENT_WAKE_POLL_MS
#define EVENT_SLICE_MS LWSS_SOCK_EVENT_SLICE_MS

typedef struct {
    uint32_t gen;
    struct lwss_sock *sock;
} slot_t;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t table_cond = PTHREAD_COND_INITIALIZER; /* refs dropped / callback done */
static pthread_cond_t event_cond = PTHREAD_COND_INITIALIZER; /* something to poll */
static slot_t slots[TABLE_SIZE];
static uint32_t next_slot;

static int event_running;
static pthread_t event_thread;
static int event_joinable; /* started and not joined yet */
static int event_stop;     /* lwss_port_down() asks the event thread to end */
static unsigned callbacks_registered;
static struct lwss_sock *callback_running; /* socket whose callback runs now */
static int event_polling;                  /* the event thread is inside lwip_poll */
static int wake_fd = -1;                   /* its wake-up socket (lwIP UDP) */
static struct sockaddr_in wake_addr;

/* Event thread working set (only that thread touches these). */
static struct pollfd event_fds[TABLE_SIZE + 1];
static Socket_t event_handles[TABLE_SIZE];
static struct lwss_sock *event_socks[TABLE_SIZE];

static Socket_t encode(uint32_t idx, uint32_t gen)
{
    return (Socket_t)(uintptr_t)(((uint64_t)gen << 32) | (uint64_t)(idx + 1u));
}

/* Table lock held.  NULL for anything that is not a live handle. */
static struct lwss_sock *lookup_locked(Socket_t s)
{
    uint64_t v = (uint64_t)(uintptr_t)s;
    uint32_t low = (uint32_t)(v & 0xffffffffu);
    uint32_t gen = (uint32_t)(v >> 32);
    if (low == 0 || low > TABLE_SIZE || gen == 0) {
        return NULL;
    }
    slot_t *sl = &slots[low - 1u];
    if (sl->gen != gen || sl->sock == NULL) {
        return NULL;
    }
    return sl->sock;
}

Socket_t lwss_sock_register(struct lwss_sock *k)
{
    Socket_t h = SOCKETS_INVALID_SOCKET;
    lwss_os_lock(&table_lock);
    for (uint32_t n = 0; n < TABLE_SIZE; n++) {
        /* Rotate so that a just-freed slot is not reused at once. */
        uint32_t idx = (next_slot + n) % TABLE_SIZE;
        if (slots[idx].sock == NULL) {
            if (slots[idx].gen == 0 || slots[idx].gen == UINT32_MAX) {
                slots[idx].gen = 1;
            } else {
                slots[idx].gen++;
            }
            slots[idx].sock = k;
            next_slot = (idx + 1u) % TABLE_SIZE;
            h = encode(idx, slots[idx].gen);
            k->handle = h;
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
    return h;
}

struct lwss_sock *lwss_sock_acquire(Socket_t s)
{
    lwss_os_lock(&table_lock);
    struct lwss_sock *k = lookup_locked(s);
    if (k != NULL && !atomic_load(&k->closing)) {
        k->refs++;
    } else {
        k = NULL;
    }
    pthread_mutex_unlock(&table_lock);
    return k;
}

void lwss_sock_release(struct lwss_sock *k)
{
    lwss_os_lock(&table_lock);
    k->refs--;
    if (k->refs == 0 && atomic_load(&k->closing)) {
        pthread_cond_broadcast(&table_cond);
    }
    pthread_mutex_unlock(&table_lock);
}

static int on_event_thread(void)
{
    return event_running && pthread_equal(pthread_self(), event_thread);
}

/* Table lock held: something the event thread must see has changed. */
static void notify_event_locked(void)
{
    pthread_cond_signal(&event_cond);
    if (event_polling && wake_fd >= 0) {
        (void)lwip_sendto(wake_fd, "w", 1, MSG_DONTWAIT, (struct sockaddr *)&wake_addr,
                          sizeof(wake_addr));
    }
}

/* Table lock held: wait until @k's callback is not running (unless we are
 * that callback, which may clear or close its own socket). */
static void wait_callback_done_locked(struct lwss_sock *k)
{
    while (callback_running == k && !on_event_thread()) {
        lwss_os_cond_wait(&table_cond, &table_lock);
    }
}

struct lwss_sock *lwss_sock_detach(Socket_t s)
{
    lwss_os_lock(&table_lock);
    struct lwss_sock *k = lookup_locked(s);
    if (k == NULL || atomic_load(&k->closing)) {
        pthread_mutex_unlock(&table_lock);
        return NULL;
    }
    atomic_store(&k->closing, 1);
    lwss_port_wake_waiters(); /* a Recv or Send blocked on it looks at the flag */
    uint64_t v = (uint64_t)(uintptr_t)s;
    slots[(uint32_t)(v & 0xffffffffu) - 1u].sock = NULL;
    int had_callback = k->wakeup != NULL;
    if (had_callback) {
        k->wakeup = NULL;
        callbacks_registered--;
    }
    if (had_callback || k->refs > 0) {
        /* The event thread may hold a reference in lwip_poll, or sleep with
         * nothing armed and now have no callback left to serve (it exits). */
        notify_event_locked();
    }
    while (k->refs > 0) {
        lwss_os_cond_wait(&table_cond, &table_lock);
    }
    wait_callback_done_locked(k);
    pthread_mutex_unlock(&table_lock);
    return k;
}

/* ---- event thread ------------------------------------------------------ */

/* Table lock held.  Collect the armed, connected sockets; takes a reference
 * on each.  Returns how many. */
static unsigned collect_armed_locked(void)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < TABLE_SIZE; i++) {
        struct lwss_sock *k = slots[i].sock;
        if (k == NULL || k->wakeup == NULL || !k->armed || !atomic_load(&k->connected) ||
            atomic_load(&k->closing)) {
            continue;
        }
        k->refs++;
        event_fds[n].fd = k->fd;
        event_fds[n].events = POLLIN;
        event_fds[n].revents = 0;
        event_handles[n] = k->handle;
        event_socks[n] = k;
        n++;
    }
    return n;
}

/* Table lock held.  Fire the callback of handle @h if it is still due. */
static void fire_locked(Socket_t h)
{
    struct lwss_sock *k = lookup_locked(h);
    if (k == NULL || k->wakeup == NULL || !k->armed || atomic_load(&k->closing)) {
        return;
    }
    lwss_wakeup_fn fn = k->wakeup;
    k->armed = 0; /* edge: fires again only after the application received */
    callback_running = k;
    pthread_mutex_unlock(&table_lock);
    fn(h);
    lwss_os_lock(&table_lock);
    callback_running = NULL;
    pthread_cond_broadcast(&table_cond);
}

/* Unlocked, references held: TLS records already decrypted, and plain bytes
 * read ahead (LWSS_SOCK_RX_BATCH), never show up in lwip_poll, so they count
 * as ready by themselves. */
static int mark_tls_pending(unsigned n)
{
    int any = 0;
    for (unsigned i = 0; i < n; i++) {
        lwss_tls_conn *c = event_socks[i]->tls;
        size_t held = atomic_load(&event_socks[i]->rx_held);
        if (held > 0 || (c != NULL && lwss_tls_pending(c) > 0)) {
            event_fds[i].revents = POLLIN;
            any = 1;
        }
    }
    return any;
}

static int open_wake_socket(struct sockaddr_in *self)
{
    lwss_port_config cfg;
    if (lwss_port_get_config(&cfg) != LWSS_OK) {
        return -1;
    }
    int fd = lwip_socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = cfg.ip;
    socklen_t len = sizeof(*self);
    if (lwip_bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        lwip_getsockname(fd, (struct sockaddr *)self, &len) != 0) {
        lwip_close(fd);
        return -1;
    }
    return fd;
}

/* Unlocked, references held.  Returns whether anything is ready. */
static int poll_armed(unsigned n, int wake)
{
    if (mark_tls_pending(n)) {
        return 1;
    }
    nfds_t count = (nfds_t)n;
    if (wake >= 0) {
        event_fds[n] = (struct pollfd){.fd = wake, .events = POLLIN};
        count++;
    }
    int rc = lwip_poll(event_fds, count, wake >= 0 ? EVENT_WAKE_POLL_MS : EVENT_SLICE_MS);
    if (wake >= 0 && event_fds[n].revents != 0) {
        char drain[16];
        while (lwip_recv(wake, drain, sizeof(drain), MSG_DONTWAIT) > 0) {
        }
    }
    return rc > 0;
}

static void *event_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "lwss-events");
    lwss_os_mark_own_thread(); /* runs callbacks: they never reach the OS hook */
    struct sockaddr_in self;
    int wake = open_wake_socket(&self);
    lwss_os_lock(&table_lock);
    wake_fd = wake;
    wake_addr = self;
    for (;;) {
        if (callbacks_registered == 0 || event_stop) {
            event_running = 0;
            wake_fd = -1;
            break;
        }
        unsigned n = collect_armed_locked();
        if (n == 0) {
            pthread_cond_wait(&event_cond, &table_lock);
            continue;
        }
        event_polling = 1;
        pthread_mutex_unlock(&table_lock);
        int ready = poll_armed(n, wake);
        lwss_os_lock(&table_lock);
        event_polling = 0;
        for (unsigned i = 0; i < n; i++) {
            event_socks[i]->refs--;
        }
        pthread_cond_broadcast(&table_cond);
        for (unsigned i = 0; ready && i < n; i++) {
            if (event_fds[i].revents != 0) {
                fire_locked(event_handles[i]);
            }
        }
    }
    pthread_mutex_unlock(&table_lock);
    if (wake >= 0) {
        lwip_close(wake);
    }
    return NULL;
}

/* Run by lwss_port_down() before the stack goes down: the event thread is
 * one of the threads lwss started, and port.h promises they are all joined.
 * Callbacks stay registered; registering one again starts a new thread. */
static void stop_event_thread(void)
{
    lwss_os_lock(&table_lock);
    if (!event_joinable) {
        pthread_mutex_unlock(&table_lock);
        return;
    }
    pthread_t t = event_thread; /* ours to join: a new start will not */
    event_joinable = 0;
    event_stop = 1;
    notify_event_locked();
    pthread_mutex_unlock(&table_lock);
    pthread_join(t, NULL);
    lwss_os_lock(&table_lock);
    event_stop = 0;
    pthread_mutex_unlock(&table_lock);
}

/* Table lock held. */
static int start_event_thread_locked(void)
{
    static int stop_registered;
    if (event_running) {
        notify_event_locked();
        return 0;
    }
    if (event_joinable) {
        /* it left on its own (no callback left) and holds no lock now */
        pthread_join(event_thread, NULL);
        event_joinable = 0;
    }
    if (!stop_registered && lwss_port_on_down(stop_event_thread) != LWSS_OK) {
        return -1;
    }
    stop_registered = 1;
    int rc = pthread_create(&event_thread, NULL, event_main, NULL);
    if (rc != 0) {
        return -1;
    }
    event_running = 1;
    event_joinable = 1;
    return 0;
}

int lwss_sock_set_wakeup(struct lwss_sock *k, lwss_wakeup_fn fn)
{
    int rc = 0;
    lwss_os_lock(&table_lock);
    if (fn != NULL) {
        if (k->wakeup == NULL) {
            callbacks_registered++;
        }
        k->wakeup = fn;
        k->armed = 1;
        if (start_event_thread_locked() != 0) {
            k->wakeup = NULL;
            callbacks_registered--;
            rc = -1;
        }
    } else {
        if (k->wakeup != NULL) {
            k->wakeup = NULL;
            callbacks_registered--;
            notify_event_locked();
        }
        wait_callback_done_locked(k);
    }
    pthread_mutex_unlock(&table_lock);
    return rc;
}

void lwss_sock_rearm(struct lwss_sock *k)
{
    lwss_os_lock(&table_lock);
    if (k->wakeup != NULL && !k->armed) {
        k->armed = 1;
        notify_event_locked();
    }
    pthread_mutex_unlock(&table_lock);
}

void lwss_sock_events_changed(void)
{
    lwss_os_lock(&table_lock);
    notify_event_locked();
    pthread_mutex_unlock(&table_lock);
}
