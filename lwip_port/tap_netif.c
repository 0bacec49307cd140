/* TAP netif driver: a receive thread reads frames from the TAP and feeds
 * them to lwIP under the core lock; linkoutput hands lwIP's frames to the
 * transmit path (tap_tx.c), which merges TCP bursts into GSO frames.  Both
 * directions pass through the capture, frame by frame as lwIP sees them.
 *
 * Inline receive: a thread about to wait on an lwIP socket
 * (lwss_port_wait) reads the TAP and feeds lwIP itself while it
 * waits, and the receive thread stands aside meanwhile and for a short
 * lease after, so that data reaches the waiting thread without a wake-up
 * of the receive thread and a second one from it.  Whoever reads holds
 * tap->reader, so frames still reach lwIP one at a time, in order.
 *
 * Nobody polls at a fixed interval: the receive thread sleeps until a frame
 * (or parks while an inline reader has the TAP), and an inline reader until
 * a frame, a kick, lwIP's next timer (which it then runs) or its deadline.
 *
 * The impairment engine is a filter between the TAP and lwIP, installed only
 * when impairment is configured (or the link is pulled): without it frames
 * go straight through. */
#include "lwip_port/tap_netif.h"
#include "lwip_port/csum.h"
#include "lwip_port/internal.h"
#include "lwss/config_defaults.h"

#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <sys/uio.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define FRAME_MAX (9000 + 14 + 4)

static void input_frame(void *ctx, const uint8_t *frame, size_t len, int deferred);
static void write_frame(void *ctx, const uint8_t *frame, size_t len, int deferred);

#define INLINE_LEASE_MS LWSS_PORT_INLINE_LEASE_MS
/* A waiter that cannot read the TAP waits inside lwIP, which only lwIP's
 * own events interrupt: it looks up this often (Close, taking the TAP over). */
#define NON_READER_SLICE_MS ((int)LWSS_SOCK_WAIT_SLICE_MS)

/* Only attach: TUNSETIFF on a name that does not exist would create a new
 * device.  if_nametoindex() asks this network namespace (unlike /sys, which
 * an unprivileged unshare does not remount). */
static int tap_exists(const char *name)
{
    return if_nametoindex(name) != 0;
}

int lwss_tap_open(lwss_tap *tap, const char *name, const lwss_port_impairment *impair)
{
    tap->fd = -1;
    tap->wake_fd = tap->kick_fd = -1;
    if (!tap_exists(name)) {
        return lwss_set_error(LWSS_ERR_NOTAP,
                              "no TAP device '%s' in this network namespace "
                              "(create it: ip tuntap add dev %s mode tap, or use scripts/rig.sh)",
                              name, name);
    }
    /* Non-blocking: the receive thread drains every ready frame per wakeup. */
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        int e = errno;
        int st = (e == EACCES || e == EPERM) ? LWSS_ERR_PERM
                 : (e == ENOENT || e == ENODEV) ? LWSS_ERR_NOTAP : LWSS_ERR_IO;
        return lwss_set_error(st, "open /dev/net/tun: %s", strerror(e));
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        close(fd);
        int st = (e == EPERM || e == EACCES) ? LWSS_ERR_PERM
                 : (e == EBUSY) ? LWSS_ERR_BUSY
                 : (e == EINVAL) ? LWSS_ERR_NOTAP : LWSS_ERR_IO;
        return lwss_set_error(st, "attach to TAP '%s': %s%s", name, strerror(e),
                              e == EINVAL ? " (is it a TUN device, not a TAP?)" : "");
    }
    /* Let the kernel hand us TCP super-frames with the checksum left to
     * us; without the offload every frame is a plain one. */
    int vhdr = (int)sizeof(struct virtio_net_hdr);
    if (ioctl(fd, TUNSETVNETHDRSZ, &vhdr) == 0) {
        (void)ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4));
    }
    int wfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    int kfd = wfd < 0 ? -1 : eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (kfd < 0) {
        int e = errno;
        if (wfd >= 0) {
            close(wfd);
        }
        close(fd);
        return lwss_set_error(LWSS_ERR_IO, "eventfd: %s", strerror(e));
    }
    tap->fd = fd;
    tap->wake_fd = wfd;
    atomic_store(&tap->stopping, 0);
    pthread_mutex_lock(&tap->kick_lock);
    tap->kick_fd = kfd;
    pthread_mutex_unlock(&tap->kick_lock);
    tap->impair = NULL;
    tap->impair_cfg = *impair;
    tap->out_open = 1; /* the netif is not added yet: no linkoutput runs */
    pthread_mutex_lock(&tap->stats_lock);
    memset(&tap->stats, 0, sizeof(tap->stats));
    pthread_mutex_unlock(&tap->stats_lock);
    int rc = lwss_tap_tx_start(&tap->tx, fd);
    if (rc == LWSS_OK && lwss_impair_configured(impair)) {
        rc = lwss_impair_start(&tap->impair, impair, input_frame, write_frame, tap);
    }
    if (rc != LWSS_OK) {
        lwss_tap_stop_unstarted(tap);
    }
    return rc;
}

static void count(lwss_tap *tap, uint64_t *frames, uint64_t *bytes, size_t len)
{
    pthread_mutex_lock(&tap->stats_lock);
    (*frames)++;
    if (bytes != NULL) {
        *bytes += len;
    }
    pthread_mutex_unlock(&tap->stats_lock);
}

/* Make a poll on eventfd @p fd return (it stays readable until drained). */
static void kick(int fd)
{
    uint64_t one = 1;
    if (write(fd, &one, sizeof(one)) != sizeof(one)) {
        /* only at counter overflow: it is readable then anyway */
    }
}

static void drain_kicks(int fd)
{
    uint64_t v;
    if (read(fd, &v, sizeof(v)) != sizeof(v)) {
        /* EAGAIN: a spurious wakeup drained it already */
    }
}

/* The inline reader sleeps on the TAP: wake it when lwIP is fed or the
 * waiters' world changes without a frame crossing the TAP. */
static void kick_inline_reader(lwss_tap *tap)
{
    pthread_mutex_lock(&tap->kick_lock);
    if (tap->kick_fd >= 0) {
        kick(tap->kick_fd);
    }
    pthread_mutex_unlock(&tap->kick_lock);
}

void lwss_port_wake_waiters(void)
{
    lwss_tap *tap = lwss_port_tap();
    atomic_fetch_add(&tap->wait_epoch, 1u);
    kick_inline_reader(tap);
}

unsigned lwss_port_wait_epoch(void)
{
    return atomic_load(&lwss_port_tap()->wait_epoch);
}

/* Towards the kernel: the frame crosses the TAP here (or joins a GSO frame
 * that will).  Only lwIP's own output, in linkoutput, may be held: there
 * its producer holds the core lock (tap_tx.h). */
static void to_kernel(lwss_tap *tap, const uint8_t *frame, size_t len, lwss_tx_from from)
{
    if (tap->cap != NULL) {
        lwss_capture_frame(tap->cap, frame, len);
    }
    lwss_tap_tx_frame(&tap->tx, frame, len, from);
}

/* Impairment sink towards the kernel: @p deferred frames come from the
 * delay thread, the others from linkoutput through the filter. */
static void write_frame(void *ctx, const uint8_t *frame, size_t len, int deferred)
{
    to_kernel(ctx, frame, len, deferred ? LWSS_TX_FROM_OTHER : LWSS_TX_FROM_LWIP);
}

/* Called by lwIP with the core lock held. */
static err_t tap_linkoutput(struct netif *netif, struct pbuf *p)
{
    lwss_tap *tap = netif->state;
    uint8_t frame[FRAME_MAX];
    if (p->tot_len > sizeof(frame)) {
        count(tap, &tap->stats.tx_errors, NULL, 0);
        return ERR_BUF;
    }
    if (!tap->out_open) {
        return ERR_IF; /* going down */
    }
    uint16_t len = pbuf_copy_partial(p, frame, p->tot_len, 0);
    if (tap->impair != NULL) {
        lwss_impair_frame(tap->impair, 0, frame, len);
    } else {
        to_kernel(tap, frame, len, LWSS_TX_FROM_LWIP);
    }
    return ERR_OK;
}

void lwss_port_tx_begin(void)
{
    lwss_tap_tx_begin(&lwss_port_tap()->tx);
}

void lwss_port_tx_end(void)
{
    lwss_tap_tx_end(&lwss_port_tap()->tx);
}

err_t lwss_tap_netif_init(struct netif *netif)
{
    lwss_tap *tap = netif->state;
    netif->name[0] = 't';
    netif->name[1] = 'p';
    netif->output = etharp_output;
    netif->linkoutput = tap_linkoutput;
    netif->mtu = tap->mtu;
    netif->hwaddr_len = 6;
    memcpy(netif->hwaddr, tap->mac, 6);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                   NETIF_FLAG_IGMP | NETIF_FLAG_LINK_UP;
    return ERR_OK;
}

/* Towards lwIP (also the impairment sink that way; @p deferred unused:
 * every frame fed to lwIP is fed the same way). */
static void input_frame(void *ctx, const uint8_t *frame, size_t len, int deferred)
{
    lwss_tap *tap = ctx;
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
    if (p == NULL) {
        count(tap, &tap->stats.rx_dropped, NULL, 0);
        return;
    }
    pbuf_take(p, frame, (u16_t)len);
    /* Straight into lwIP under the core lock: a tcpip_input() message per
     * frame would wake the tcpip thread for every segment (liblwip is built
     * without LWIP_TCPIP_CORE_LOCKING_INPUT). */
    lwss_tap_tx_begin(&tap->tx);
    LOCK_TCPIP_CORE();
    err_t err = ethernet_input(p, tap->netif);
    lwss_tap_tx_end(&tap->tx); /* what lwIP answered, before the lock goes */
    UNLOCK_TCPIP_CORE();
    if (err != ERR_OK) {
        pbuf_free(p);
        count(tap, &tap->stats.rx_dropped, NULL, 0);
        return;
    }
    count(tap, &tap->stats.rx_frames, &tap->stats.rx_bytes, len);
    if (deferred) {
        kick_inline_reader(tap); /* the delay thread fed lwIP: no frame woke the reader */
    }
}

/* The kernel left the TCP/UDP checksum to us (VIRTIO_NET_HDR_F_NEEDS_CSUM):
 * the field holds the pseudo-header sum; sum from csum_start to the end. */
static int complete_checksum(uint8_t *f, size_t len, const struct virtio_net_hdr *h)
{
    size_t start = h->csum_start, at = start + h->csum_offset;
    if (start >= len || at + 2 > len) {
        return -1;
    }
    uint16_t c = (uint16_t)~lwss_inet_sum(f + start, len - start, 0);
    f[at] = (uint8_t)(c >> 8);
    f[at + 1] = (uint8_t)c;
    return 0;
}

/* Read and feed what the TAP holds (up to 64 frames); tap->reader held.
 * @return -1 when the TAP went away, else the number of frames read. */
static int drain(lwss_tap *tap, int inline_reader)
{
    const size_t vh = sizeof(struct virtio_net_hdr);
    int frames = 0;
    for (int i = 0; i < 64; i++) {
        ssize_t got = read(tap->fd, tap->rx_buf, sizeof(tap->rx_buf));
        if (got <= 0) {
            return got < 0 && errno != EAGAIN && errno != EINTR ? -1 : frames;
        }
        frames++;
        if (inline_reader) {
            count(tap, &tap->stats.rx_inline, NULL, 0);
        }
        if ((size_t)got <= vh) {
            continue;
        }
        struct virtio_net_hdr h;
        memcpy(&h, tap->rx_buf, vh);
        uint8_t *frame = tap->rx_buf + vh;
        size_t len = (size_t)got - vh;
        if ((h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0 && complete_checksum(frame, len, &h) != 0) {
            count(tap, &tap->stats.rx_dropped, NULL, 0);
            continue;
        }
        /* captured as it crossed the TAP, before any impairment */
        if (tap->cap != NULL) {
            lwss_capture_frame(tap->cap, frame, len);
        }
        if (tap->impair != NULL) {
            lwss_impair_frame(tap->impair, 1, frame, len);
        } else {
            input_frame(tap, frame, len, 0);
        }
    }
    return frames;
}

/* 1 while the receive thread stands aside for an inline reader; *ms: how
 * long to sleep before looking again (-1: until the reader leaves and kicks
 * wake_fd).  Parking and the reader's exit are a seq_cst handshake:
 * either the reader sees rx_parked and kicks, or this sees the reader gone. */
static int stand_aside(lwss_tap *tap, int *ms)
{
    if (atomic_load(&tap->inline_reading) > 0) {
        atomic_store(&tap->rx_parked, 1);
        if (atomic_load(&tap->inline_reading) > 0) {
            *ms = -1;
            return 1;
        }
        atomic_store(&tap->rx_parked, 0);
    }
    uint64_t now = lwss_now_ms(), end = atomic_load(&tap->inline_lease_end);
    if (now < end) {
        *ms = (int)(end - now);
        return 1;
    }
    return 0;
}

/* Sleeps until a frame, a kick or the end of a lease: no periodic wakeup
 * (lwIP's timers run in its tcpip thread); with a capture, at most
 * LWSS_PCAP_FLUSH_MS so that the capture is flushed. */
static void *rx_main(void *arg)
{
    lwss_tap *tap = arg;
    pthread_setname_np(pthread_self(), "lwss-tap-rx");
    lwss_os_mark_own_thread();
    struct pollfd pfd[2] = {{.fd = tap->fd, .events = POLLIN},
                            {.fd = tap->wake_fd, .events = POLLIN}};
    while (!atomic_load(&tap->stopping)) {
        int ms = -1;
        int aside = stand_aside(tap, &ms);
        if (tap->cap != NULL && (ms < 0 || ms > (int)LWSS_PCAP_FLUSH_MS)) {
            ms = (int)LWSS_PCAP_FLUSH_MS;
        }
        pfd[0].fd = aside ? -1 : tap->fd; /* poll skips a negative descriptor */
        int n = poll(pfd, 2, ms);
        if (n < 0 && errno != EINTR) {
            break;
        }
        if (n > 0 && pfd[1].revents != 0) {
            drain_kicks(tap->wake_fd);
            continue; /* stopping, or the inline reader left: look again */
        }
        if (n > 0 && (pfd[0].revents & POLLIN) != 0 && !stand_aside(tap, &ms)) {
            pthread_mutex_lock(&tap->reader);
            int r = drain(tap, 0);
            pthread_mutex_unlock(&tap->reader);
            if (r < 0) {
                break;
            }
        } else if (n > 0 && (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
            break; /* the TAP went away */
        }
        if (tap->cap != NULL) {
            lwss_capture_tick(tap->cap);
        }
    }
    return NULL;
}

/* Run lwIP's timers that are due, here (under the core lock, as its tcpip
 * thread would): whatever they make ready is seen by this waiter at once,
 * with no race against the tcpip thread waking at the same moment. */
static void run_due_timers(lwss_tap *tap)
{
    lwss_tap_tx_begin(&tap->tx);
    LOCK_TCPIP_CORE();
    sys_check_timeouts();
    lwss_tap_tx_end(&tap->tx);
    UNLOCK_TCPIP_CORE();
}

/* Sleep on the TAP (tap->reader held) until a frame arrives, the inline
 * reader is kicked (stopping, lwIP fed by the delay thread,
 * lwss_port_wake_waiters), lwIP's next timer is due or @p ms pass; feed the
 * frames, run due timers.  The flag is read before the sleep and the kick
 * comes after it is set, so a stop is never slept through.
 * @return 0 when the port is going down or the TAP went away. */
static int read_until_due(lwss_tap *tap, int ms)
{
    if (atomic_load(&tap->stopping)) {
        return 0;
    }
    LOCK_TCPIP_CORE();
    u32_t due = sys_timeouts_sleeptime();
    UNLOCK_TCPIP_CORE();
    int timer_first = due != SYS_TIMEOUTS_SLEEPTIME_INFINITE && due < (u32_t)ms;
    struct pollfd pfd[2] = {{.fd = tap->fd, .events = POLLIN},
                            {.fd = tap->kick_fd, .events = POLLIN}};
#ifdef LWSS_TEST_HOOKS
    lwss_os_test_note_wait(ms);
#endif
    int n = poll(pfd, 2, timer_first ? (int)due : ms);
    if (n < 0) {
        return errno == EINTR;
    }
    if (pfd[1].revents != 0) {
        drain_kicks(tap->kick_fd);
        if (atomic_load(&tap->stopping)) {
            return 0;
        }
    }
    if ((pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
        return 0;
    }
    if ((pfd[0].revents & POLLIN) != 0 && drain(tap, 1) < 0) {
        return 0;
    }
    if (n == 0 && timer_first) {
        run_due_timers(tap);
    }
    return 1;
}

/* One turn of an inline wait for @p p, at most @p ms: read the TAP while
 * nobody else does.  @return 1 when it read (or waited on the TAP), 0 when
 * another reader has it or the port is going down (the caller then waits
 * on lwIP). */
static int inline_read(lwss_tap *tap, struct pollfd *p, int ms)
{
    if (pthread_mutex_trylock(&tap->reader) != 0) {
        return 0;
    }
    int done = 0;
    if (tap->reading) {
        atomic_fetch_add(&tap->inline_reading, 1);
        /* Whoever read before us may have fed what we wait for: look again
         * now that nobody else can, or we would sleep on the TAP with it ready. */
        done = lwip_poll(p, 1, 0) != 0 || read_until_due(tap, ms);
        atomic_store(&tap->inline_lease_end, lwss_now_ms() + INLINE_LEASE_MS);
        atomic_fetch_sub(&tap->inline_reading, 1);
        if (atomic_exchange(&tap->rx_parked, 0)) {
            kick(tap->wake_fd); /* the receive thread takes the TAP after the lease */
        }
    }
    pthread_mutex_unlock(&tap->reader);
    return done;
}

/* lwss_port_wait under the OS hook (lwss/os.h): poll lwIP without blocking
 * and sleep only through the hook.  No inline read and no lease: the
 * receive thread keeps feeding lwIP while this task sleeps, and a task
 * holds lwIP's core lock only inside one lwip_poll (a task switched out
 * while feeding lwIP would hold it for its whole time off the CPU). */
static int hooked_wait(struct pollfd *p, int timeout_ms)
{
    uint64_t deadline = lwss_now_us() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000u;
    for (;;) {
        int n = lwip_poll(p, 1, 0);
        uint64_t now = lwss_now_us();
        if (n != 0 || now >= deadline) {
            return n;
        }
        uint64_t left_ms = (deadline - now + 999u) / 1000u;
        lwss_os_sleep(left_ms < LWSS_OS_WAIT_SLICE_MS ? (uint32_t)left_ms : LWSS_OS_WAIT_SLICE_MS);
    }
}

int lwss_port_wait_since(int fd, short events, int timeout_ms, unsigned epoch)
{
    lwss_tap *tap = lwss_port_tap();
    struct pollfd p = {.fd = fd, .events = events, .revents = 0};
    if (lwss_os_hook_applies()) {
        return hooked_wait(&p, timeout_ms);
    }
    uint64_t deadline = lwss_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    int n;
    for (;;) {
        n = lwip_poll(&p, 1, 0);
        if (n != 0) {
            break;
        }
        uint64_t now = lwss_now_ms();
        if (now >= deadline || atomic_load(&tap->wait_epoch) != epoch) {
            break;
        }
        int left = (int)(deadline - now);
        if (!inline_read(tap, &p, left)) {
            /* Someone else reads the TAP and feeds lwIP, which wakes this
             * poll; bounded so that a Close or the TAP coming free is seen. */
#ifdef LWSS_TEST_HOOKS
            lwss_os_test_note_wait(left);
#endif
            n = lwip_poll(&p, 1, left < NON_READER_SLICE_MS ? left : NON_READER_SLICE_MS);
            if (n != 0) {
                break;
            }
        }
    }
    return n;
}

int lwss_port_wait(int fd, short events, int timeout_ms)
{
    return lwss_port_wait_since(fd, events, timeout_ms, lwss_port_wait_epoch());
}

int lwss_tap_start(lwss_tap *tap, struct netif *netif)
{
    tap->netif = netif;
    pthread_mutex_lock(&tap->reader);
    tap->reading = 1;
    pthread_mutex_unlock(&tap->reader);
    int e = pthread_create(&tap->rx_thread, NULL, rx_main, tap);
    if (e != 0) {
        pthread_mutex_lock(&tap->reader);
        tap->reading = 0;
        pthread_mutex_unlock(&tap->reader);
        return lwss_set_error(LWSS_ERR_NOMEM, "cannot start the TAP receive thread: %s",
                              strerror(e));
    }
    return LWSS_OK;
}

void lwss_tap_stop(lwss_tap *tap)
{
    atomic_store(&tap->stopping, 1);
    kick(tap->wake_fd);
    kick_inline_reader(tap); /* it lets go of the reader lock taken below */
    pthread_join(tap->rx_thread, NULL);
    pthread_mutex_lock(&tap->reader); /* an inline reader finishes its frames first */
    tap->reading = 0;
    pthread_mutex_unlock(&tap->reader);
    /* linkoutput runs under the core lock: close it and unhook the filter
     * under it, then stop the filter (its queued frames are dropped). */
    LOCK_TCPIP_CORE();
    tap->out_open = 0;
    lwss_impair *im = tap->impair;
    tap->impair = NULL;
    UNLOCK_TCPIP_CORE();
    lwss_impair_stop(im);
    lwss_tap_tx_stop(&tap->tx);
}

/* Under kick_lock: lwss_port_wake_waiters() may run at any time. */
static void close_kick_fd(lwss_tap *tap)
{
    pthread_mutex_lock(&tap->kick_lock);
    if (tap->kick_fd >= 0) {
        close(tap->kick_fd);
    }
    tap->kick_fd = -1;
    pthread_mutex_unlock(&tap->kick_lock);
}

void lwss_tap_close(lwss_tap *tap)
{
    close_kick_fd(tap);
    close(tap->wake_fd);
    close(tap->fd);
    tap->fd = tap->wake_fd = -1;
}

void lwss_tap_stop_unstarted(lwss_tap *tap)
{
    lwss_impair_stop(tap->impair);
    tap->impair = NULL;
    lwss_tap_tx_stop(&tap->tx);
    close_kick_fd(tap);
    if (tap->wake_fd >= 0) {
        close(tap->wake_fd);
    }
    if (tap->fd >= 0) {
        close(tap->fd);
    }
    tap->fd = tap->wake_fd = -1;
}

void lwss_tap_stats(lwss_tap *tap, lwss_port_stats *out)
{
    pthread_mutex_lock(&tap->stats_lock);
    *out = tap->stats;
    pthread_mutex_unlock(&tap->stats_lock);
    lwss_tap_tx_stats tx;
    lwss_tap_tx_get_stats(&tap->tx, &tx);
    out->tx_frames = tx.frames;
    out->tx_bytes = tx.bytes;
    out->tx_errors += tx.errors; /* plus oversized frames refused in linkoutput */
    out->tx_writes = tx.writes;
    if (tap->impair != NULL) {
        out->impaired_drops = lwss_impair_drops(tap->impair);
    }
}

/* The reader and the core lock (in that order, as a reader feeding lwIP
 * takes them) keep both directions off the filter pointer while it moves. */
int lwss_tap_set_link(lwss_tap *tap, int up)
{
    int rc = LWSS_OK;
    pthread_mutex_lock(&tap->reader);
    LOCK_TCPIP_CORE();
    if (tap->impair == NULL && !up) {
        rc = lwss_impair_start(&tap->impair, &tap->impair_cfg, input_frame, write_frame, tap);
    }
    if (tap->impair != NULL) {
        lwss_impair_set_link(tap->impair, up);
    }
    UNLOCK_TCPIP_CORE();
    pthread_mutex_unlock(&tap->reader);
    return rc;
}
