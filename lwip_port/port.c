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

/* cycle_lock serialises lwss_port_up/down as a whole (taken first);
 * life_lock guards the state below and is never held while a stop hook runs. */
static pthread_mutex_t cycle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t life_lock = PTHREAD_MUTEX_INITIALIZER;
#define MAX_STOPPERS 4
static void (*stoppers[MAX_STOPPERS])(void);
static unsigned n_stoppers;
static pthread_once_t tcpip_once = PTHREAD_ONCE_INIT;
static sem_t tcpip_ready;
static int is_up;
static lwss_port_config active;
static lwss_tap tap;
static struct netif netif;
static int atexit_done;

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
    tcp_ticks = random_u32();
    sem_post(&tcpip_ready);
}

/* liblwip's tcpip thread cannot be stopped: start it once per process.
 * lwip_init() (inside tcpip_init) draws the first local TCP and UDP ports
 * from rand() (LWIP_RAND, LWIP_RANDOMIZE_INITIAL_LOCAL_PORTS), which no one
 * seeds: unseeded, every process would open its first connection from the
 * same port. */
static void start_tcpip(void)
{
    srand(random_u32());
    sem_init(&tcpip_ready, 0, 0);
    tcpip_init(tcpip_started, NULL);
    while (sem_wait(&tcpip_ready) != 0) {
    }
    sem_destroy(&tcpip_ready);
}

/* A capture must be complete up to the last frame when the app exits
 * normally, even if it never called lwss_port_down(). */
static void flush_at_exit(void)
{
    pthread_mutex_lock(&life_lock);
    if (is_up && tap.cap != NULL) {
        lwss_capture_flush(tap.cap);
    }
    pthread_mutex_unlock(&life_lock);
}

static int add_netif(const lwss_port_config *cfg)
{
    ip4_addr_t ip, mask, gw;
    ip4_addr_set_u32(&ip, cfg->ip);
    ip4_addr_set_u32(&mask, cfg->netmask);
    ip4_addr_set_u32(&gw, cfg->gateway);
    LOCK_TCPIP_CORE();
    struct netif *n = netif_add(&netif, &ip, &mask, &gw, &tap, lwss_tap_netif_init, tcpip_input);
    if (n != NULL) {
        netif_set_default(&netif);
        netif_set_link_up(&netif);
        netif_set_up(&netif);
    }
    UNLOCK_TCPIP_CORE();
    return n != NULL ? LWSS_OK : lwss_set_error(LWSS_ERR_IO, "netif_add failed");
}

static void remove_netif(void)
{
    LOCK_TCPIP_CORE();
    netif_set_down(&netif);
    netif_set_link_down(&netif);
    netif_remove(&netif);
    UNLOCK_TCPIP_CORE();
}

static int bring_up(const lwss_port_config *cfg)
{
    int rc = lwss_port_config_check(cfg);
    if (rc != LWSS_OK) {
        return rc;
    }
    memset(&tap, 0, sizeof(tap));
    tap.mtu = cfg->mtu;
    memcpy(tap.mac, cfg->mac, sizeof(tap.mac));
    rc = lwss_tap_open(&tap, cfg->tap, &cfg->impair);
    if (rc != LWSS_OK) {
        return rc;
    }
    if (cfg->pcap_path[0] != '\0') {
        rc = lwss_capture_open(&tap.cap, cfg->pcap_path, cfg->pcap_max_bytes);
        if (rc != LWSS_OK) {
            goto close_tap;
        }
    }
    pthread_once(&tcpip_once, start_tcpip);
    memset(&netif, 0, sizeof(netif));
    rc = add_netif(cfg);
    if (rc != LWSS_OK) {
        goto close_cap;
    }
    rc = lwss_tap_start(&tap, &netif);
    if (rc != LWSS_OK) {
        remove_netif();
        goto close_cap;
    }
    return LWSS_OK;

close_cap:
    lwss_capture_close(tap.cap);
    tap.cap = NULL;
close_tap:
    lwss_tap_stop_unstarted(&tap);
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
    pthread_mutex_lock(&cycle_lock);
    pthread_mutex_lock(&life_lock);
    int rc;
    if (is_up) {
        rc = lwss_set_error(LWSS_ERR_BUSY, "the lwIP port is already up on '%s'", active.tap);
    } else {
        rc = bring_up(&c);
        if (rc == LWSS_OK) {
            active = c;
            is_up = 1;
            if (!atexit_done) {
                atexit(flush_at_exit);
                atexit_done = 1;
            }
        }
    }
    pthread_mutex_unlock(&life_lock);
    pthread_mutex_unlock(&cycle_lock);
    return rc;
}

int lwss_port_on_down(void (*stop)(void))
{
    pthread_mutex_lock(&life_lock);
    int rc = LWSS_OK;
    unsigned i = 0;
    while (i < n_stoppers && stoppers[i] != stop) {
        i++;
    }
    if (i == n_stoppers && n_stoppers == MAX_STOPPERS) {
        rc = lwss_set_error(LWSS_ERR_NOMEM, "too many port stop hooks");
    } else if (i == n_stoppers) {
        stoppers[n_stoppers++] = stop;
    }
    pthread_mutex_unlock(&life_lock);
    return rc;
}

/* The threads of the layers above go first, while the stack still runs:
 * they may need it to notice the request (the sockets event thread is
 * woken through an lwIP socket). */
static void run_stoppers(void)
{
    pthread_mutex_lock(&life_lock);
    void (*copy[MAX_STOPPERS])(void);
    unsigned n = n_stoppers;
    memcpy(copy, stoppers, sizeof(copy));
    pthread_mutex_unlock(&life_lock);
    for (unsigned i = 0; i < n; i++) {
        copy[i]();
    }
}

int lwss_port_down(void)
{
    pthread_mutex_lock(&cycle_lock);
    if (!lwss_port_is_up()) {
        pthread_mutex_unlock(&cycle_lock);
        return lwss_set_error(LWSS_ERR_STATE, "the lwIP port is not up");
    }
    run_stoppers();
    pthread_mutex_lock(&life_lock);
    lwss_tap_stop(&tap); /* no frame reaches lwIP after this */
    remove_netif();
    lwss_tap_close(&tap);
    lwss_capture_close(tap.cap);
    tap.cap = NULL;
    is_up = 0;
    pthread_mutex_unlock(&life_lock);
    pthread_mutex_unlock(&cycle_lock);
    return LWSS_OK;
}

int lwss_port_is_up(void)
{
    pthread_mutex_lock(&life_lock);
    int up = is_up;
    pthread_mutex_unlock(&life_lock);
    return up;
}

int lwss_port_get_config(lwss_port_config *out)
{
    pthread_mutex_lock(&life_lock);
    int rc = LWSS_OK;
    if (is_up) {
        *out = active;
    } else {
        rc = LWSS_ERR_STATE;
    }
    pthread_mutex_unlock(&life_lock);
    return rc;
}

void lwss_port_get_stats(lwss_port_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&life_lock);
    if (is_up) {
        lwss_tap_stats(&tap, out);
        if (tap.cap != NULL) {
            out->pcap_frames = lwss_capture_frames(tap.cap);
        }
    }
    pthread_mutex_unlock(&life_lock);
}

int lwss_port_set_link(int up)
{
    pthread_mutex_lock(&life_lock);
    int rc = LWSS_OK;
    if (!is_up) {
        rc = lwss_set_error(LWSS_ERR_STATE, "the lwIP port is not up");
    } else {
        lwss_impair_set_link(tap.impair, up);
    }
    pthread_mutex_unlock(&life_lock);
    return rc;
}

int lwss_port_flush_capture(void)
{
    pthread_mutex_lock(&life_lock);
    int rc = LWSS_OK;
    if (!is_up) {
        rc = lwss_set_error(LWSS_ERR_STATE, "the lwIP port is not up");
    } else if (tap.cap != NULL) {
        rc = lwss_capture_flush(tap.cap);
    }
    pthread_mutex_unlock(&life_lock);
    return rc;
}
