/* lwss_port_up / lwss_port_down: the stack's life cycle in this process. */
#include "lwip_port/internal.h"
#include "lwip_port/tap_netif.h"
#include "lwss/port.h"

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcpip.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define MAX_STOPPERS 4

/* The port object: everything the port keeps for this process (one port
 * per process: liblwip has one core).  Other files reach its driver part
 * through lwss_port_tap(). */
typedef struct lwss_port {
    /* cycle_lock serialises lwss_port_up/down as a whole (taken first);
     * life_lock guards the fields below and is never held while a stop
     * hook runs. */
    pthread_mutex_t cycle_lock, life_lock;
    pthread_once_t tcpip_once;
    sem_t tcpip_ready;
    int is_up, atexit_done;
    lwss_port_config active;
    void (*stoppers[MAX_STOPPERS])(void);
    unsigned n_stoppers;
    struct netif netif;
    lwss_tap tap;
} lwss_port;

static lwss_port the_port = {.cycle_lock = PTHREAD_MUTEX_INITIALIZER,
                             .life_lock = PTHREAD_MUTEX_INITIALIZER,
                             .tcpip_once = PTHREAD_ONCE_INIT,
                             .tap = LWSS_TAP_INIT};
static lwss_port *const port = &the_port;

lwss_tap *lwss_port_tap(void)
{
    return &port->tap;
}

/* 32 bits from getrandom(2); should the call be unavailable, a mix of the
 * clock and the process id, which still differs between processes. */
static uint32_t random_u32(void)
{
    uint32_t v;
    ssize_t n;
    do {
        n = getrandom(&v, sizeof(v), 0);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)sizeof(v)) {
        return v;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint32_t)ts.tv_nsec * 2654435761u ^ (uint32_t)ts.tv_sec ^ (uint32_t)getpid() << 16;
}

/* Runs in the tcpip thread, under the core lock, before any connection
 * exists.  liblwip 2.1.3 (no LWIP_HOOK_TCP_ISN) computes each initial
 * sequence number as a static counter, starting at 6510, advanced by the
 * exported tcp_ticks on every call: starting tcp_ticks at a random value
 * makes the first ISN (and so every later one) differ between processes.
 * lwIP only ever uses differences of tcp_ticks, so timers are unaffected. */
static void tcpip_started(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "lwip-tcpip"); /* leak checks know it */
    lwss_os_mark_own_thread(); /* lwIP callbacks never wait through the OS hook */
    tcp_ticks = random_u32();
    sem_post(&port->tcpip_ready);
}

/* liblwip's tcpip thread cannot be stopped: start it once per process.
 * lwip_init() (inside tcpip_init) draws the first local TCP and UDP ports
 * from rand() (LWIP_RAND, LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS), which no one
 * seeds: unseeded, every process would open its first connection from the
 * same port. */
static void start_tcpip(void)
{
    srand(random_u32());
    sem_init(&port->tcpip_ready, 0, 0);
    tcpip_init(tcpip_started, NULL);
    while (sem_wait(&port->tcpip_ready) != 0) {
    }
    sem_destroy(&port->tcpip_ready);
}

/* A capture must be complete up to the last frame when the app exits
 * normally, even if it never called lwss_port_down(). */
static void flush_at_exit(void)
{
    pthread_mutex_lock(&port->life_lock);
    if (port->is_up && port->tap.cap != NULL) {
        lwss_capture_flush(port->tap.cap);
    }
    pthread_mutex_unlock(&port->life_lock);
}

static int add_netif(const lwss_port_config *cfg)
{
    ip4_addr_t ip, mask, gw;
    ip4_addr_set_u32(&ip, cfg->ip);
    ip4_addr_set_u32(&mask, cfg->netmask);
    ip4_addr_set_u32(&gw, cfg->gateway);
    LOCK_TCPIP_CORE();
    struct netif *n =
        netif_add(&port->netif, &ip, &mask, &gw, &port->tap, lwss_tap_netif_init, tcpip_input);
    if (n != NULL) {
        netif_set_default(&port->netif);
        netif_set_link_up(&port->netif);
        netif_set_up(&port->netif);
    }
    UNLOCK_TCPIP_CORE();
    return n != NULL ? LWSS_OK : lwss_set_error(LWSS_ERR_IO, "netif_add failed");
}

static void remove_netif(void)
{
    LOCK_TCPIP_CORE();
    netif_set_down(&port->netif);
    netif_set_link_down(&port->netif);
    netif_remove(&port->netif);
    UNLOCK_TCPIP_CORE();
}

static int bring_up(const lwss_port_config *cfg)
{
    int rc = lwss_port_config_check(cfg);
    if (rc != LWSS_OK) {
        return rc;
    }
    port->tap.cap = NULL; /* the locks and transmit side in tap outlive a down: no memset */
    port->tap.mtu = cfg->mtu;
    memcpy(port->tap.mac, cfg->mac, sizeof(port->tap.mac));
    rc = lwss_tap_open(&port->tap, cfg->tap, &cfg->impair);
    if (rc != LWSS_OK) {
        return rc;
    }
    if (cfg->pcap_path[0] != '\0') {
        rc = lwss_capture_open(&port->tap.cap, cfg->pcap_path, cfg->pcap_max_bytes);
        if (rc != LWSS_OK) {
            goto close_tap;
        }
    }
    pthread_once(&port->tcpip_once, start_tcpip);
    memset(&port->netif, 0, sizeof(port->netif));
    rc = add_netif(cfg);
    if (rc != LWSS_OK) {
        goto close_cap;
    }
    rc = lwss_tap_start(&port->tap, &port->netif);
    if (rc != LWSS_OK) {
        remove_netif();
        goto close_cap;
    }
    return LWSS_OK;

close_cap:
    lwss_capture_close(port->tap.cap);
    port->tap.cap = NULL;
close_tap:
    lwss_tap_stop_unstarted(&port->tap);
    return rc;
}

int lwss_port_up(const lwss_port_config *cfg)
{
    lwss_clear_error();
    lwss_port_config c;
    if (cfg == NULL) {
        lwss_port_config_default(&c);
        int rc = lwss_port_config_from_env(&c);
        if (rc != LWSS_OK) {
            return rc;
        }
    } else {
        c = *cfg;
    }
    if (c.tcp_sndbuf == 0) {
        c.tcp_sndbuf = LWSS_TCP_SNDBUF_DEFAULT;
    }
    pthread_mutex_lock(&port->cycle_lock);
    pthread_mutex_lock(&port->life_lock);
    int rc;
    if (port->is_up) {
        rc = lwss_set_error(LWSS_ERR_BUSY, "the lwIP port is already up on '%s'", port->active.tap);
    } else {
        rc = bring_up(&c);
        if (rc == LWSS_OK) {
            port->active = c;
            port->is_up = 1;
            if (!port->atexit_done) {
                atexit(flush_at_exit);
                port->atexit_done = 1;
            }
        }
    }
    pthread_mutex_unlock(&port->life_lock);
    pthread_mutex_unlock(&port->cycle_lock);
    return rc;
}

int lwss_port_on_down(void (*stop)(void))
{
    pthread_mutex_lock(&port->life_lock);
    int rc = LWSS_OK;
    unsigned i = 0;
    while (i < port->n_stoppers && port->stoppers[i] != stop) {
        i++;
    }
    if (i == port->n_stoppers && port->n_stoppers == MAX_STOPPERS) {
        rc = lwss_set_error(LWSS_ERR_NOMEM, "too many port stop hooks");
    } else if (i == port->n_stoppers) {
        port->stoppers[port->n_stoppers++] = stop;
    }
    pthread_mutex_unlock(&port->life_lock);
    return rc;
}

/* The threads of the layers above go first, while the stack still runs:
 * they may need it to notice the request (the sockets event thread is
 * woken through an lwIP socket). */
static void run_stoppers(void)
{
    pthread_mutex_lock(&port->life_lock);
    void (*copy[MAX_STOPPERS])(void);
    unsigned n = port->n_stoppers;
    memcpy(copy, port->stoppers, sizeof(copy));
    pthread_mutex_unlock(&port->life_lock);
    for (unsigned i = 0; i < n; i++) {
        copy[i]();
    }
}

int lwss_port_down(void)
{
    pthread_mutex_lock(&port->cycle_lock);
    if (!lwss_port_is_up()) {
        pthread_mutex_unlock(&port->cycle_lock);
        return lwss_set_error(LWSS_ERR_STATE, "the lwIP port is not up");
    }
    run_stoppers();
    pthread_mutex_lock(&port->life_lock);
    lwss_tap_stop(&port->tap); /* no frame reaches lwIP after this */
    remove_netif();
    lwss_tap_close(&port->tap);
    lwss_capture_close(port->tap.cap);
    port->tap.cap = NULL;
    port->is_up = 0;
    pthread_mutex_unlock(&port->life_lock);
    pthread_mutex_unlock(&port->cycle_lock);
    return LWSS_OK;
}

int lwss_port_is_up(void)
{
    pthread_mutex_lock(&port->life_lock);
    int up = port->is_up;
    pthread_mutex_unlock(&port->life_lock);
    return up;
}

int lwss_port_get_config(lwss_port_config *out)
{
    pthread_mutex_lock(&port->life_lock);
    int rc = LWSS_OK;
    if (port->is_up) {
        *out = port->active;
    } else {
        rc = LWSS_ERR_STATE;
    }
    pthread_mutex_unlock(&port->life_lock);
    return rc;
}

void lwss_port_get_stats(lwss_port_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&port->life_lock);
    if (port->is_up) {
        lwss_tap_stats(&port->tap, out);
        if (port->tap.cap != NULL) {
            out->pcap_frames = lwss_capture_frames(port->tap.cap);
        }
    }
    pthread_mutex_unlock(&port->life_lock);
}

int lwss_port_set_link(int up)
{
    pthread_mutex_lock(&port->life_lock);
    int rc = LWSS_OK;
    if (!port->is_up) {
        rc = lwss_set_error(LWSS_ERR_STATE, "the lwIP port is not up");
    } else {
        rc = lwss_tap_set_link(&port->tap, up);
    }
    pthread_mutex_unlock(&port->life_lock);
    return rc;
}

int lwss_port_flush_capture(void)
{
    pthread_mutex_lock(&port->life_lock);
    int rc = LWSS_OK;
    if (!port->is_up) {
        rc = lwss_set_error(LWSS_ERR_STATE, "the lwIP port is not up");
    } else if (port->tap.cap != NULL) {
        rc = lwss_capture_flush(port->tap.cap);
    }
    pthread_mutex_unlock(&port->life_lock);
    return rc;
}
