/* Send buffer of one lwIP TCP connection.  liblwip is built with a fixed
 * TCP_SND_BUF (64 KiB) and no SO_SNDBUF; what lwIP counts against is the
 * connection's free space, snd_buf, which a tcp_write takes from and an ACK
 * gives back.  A new size is the free space plus what is queued and not yet
 * acknowledged (snd_lbb - lastack). */
#include "lwip_port/internal.h"
#include "lwss/port.h"

#include "lwip/priv/tcp_priv.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"

#include <string.h>

static int same_endpoint(const ip_addr_t *ip, u16_t port, const struct sockaddr_in *sin)
{
    return port == lwip_ntohs(sin->sin_port) && IP_IS_V4(ip) &&
           ip4_addr_get_u32(ip_2_ip4(ip)) == sin->sin_addr.s_addr;
}

int lwss_port_set_tcp_sndbuf(int lwip_fd, size_t bytes)
{
    if (bytes < LWSS_TCP_SNDBUF_MIN || bytes > LWSS_TCP_SNDBUF_MAX) {
        return lwss_set_error(LWSS_ERR_INVAL, "TCP send buffer %zu outside [%u, %u]", bytes,
                              (unsigned)LWSS_TCP_SNDBUF_MIN, (unsigned)LWSS_TCP_SNDBUF_MAX);
    }
    struct sockaddr_in local, peer;
    socklen_t ll = sizeof(local), pl = sizeof(peer);
    if (lwip_getsockname(lwip_fd, (struct sockaddr *)&local, &ll) != 0 ||
        lwip_getpeername(lwip_fd, (struct sockaddr *)&peer, &pl) != 0 ||
        local.sin_family != AF_INET) {
        return lwss_set_error(LWSS_ERR_STATE, "not a connected IPv4 TCP socket");
    }
    int rc = lwss_set_error(LWSS_ERR_STATE, "no established TCP connection for the socket");
    LOCK_TCPIP_CORE();
    for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb != NULL; pcb = pcb->next) {
        if (!same_endpoint(&pcb->local_ip, pcb->local_port, &local) ||
            !same_endpoint(&pcb->remote_ip, pcb->remote_port, &peer)) {
            continue;
        }
        if (pcb->state != ESTABLISHED && pcb->state != CLOSE_WAIT) {
            break; /* no more sending on this connection */
        }
        uint32_t queued = pcb->snd_lbb - pcb->lastack;
        if (queued > bytes) {
            rc = lwss_set_error(LWSS_ERR_STATE, "%u bytes are queued already, more than %zu",
                                (unsigned)queued, bytes);
            break;
        }
        pcb->snd_buf = (tcpwnd_size_t)(bytes - queued);
        rc = LWSS_OK;
        break;
    }
    UNLOCK_TCPIP_CORE();
    if (rc == LWSS_OK) {
        lwss_clear_error();
    }
    return rc;
}
