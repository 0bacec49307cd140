/*
 * The transport under a TLS socket's BIO: the lwIP descriptor this layer
 * owns, driven non-blocking, plus the readiness wait of the port (inline
 * receive).  src/tls/ reaches it only through lwss_tls_io (tls_seam.h).
 */
#include "src/sockets/sock_internal.h"
#include "lwip_port/internal.h"

#include <lwip/sockets.h>

#include <errno.h>

static ssize_t lwip_io_send(int fd, const void *buf, size_t len)
{
    lwss_port_tx_begin(); /* the record's segments leave as one TAP write */
    ssize_t n = lwip_send(fd, buf, len, MSG_DONTWAIT);
    int e = errno;
    lwss_port_tx_end();
    errno = e;
    return n;
}

static ssize_t lwip_io_recv(int fd, void *buf, size_t len)
{
    return lwip_recv(fd, buf, len, MSG_DONTWAIT);
}

static int lwip_io_wait(int fd, int for_write, int timeout_ms)
{
    int n = lwss_port_wait(fd, for_write ? POLLOUT : POLLIN, timeout_ms);
    if (n < 0 && errno == EINTR) {
        return 0;
    }
    /* HUP/ERR count as ready: the next transfer reports what happened. */
    return n;
}

/* TLS writes whole records: Nagle would hold a handshake flight's second
 * record for the peer's (delayed) ACK. */
static void lwip_io_no_delay(int fd)
{
    int one = 1;
    (void)lwip_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

const lwss_tls_io lwss_sockets_tls_io = {lwip_io_send, lwip_io_recv, lwip_io_wait,
                                         lwip_io_no_delay};
