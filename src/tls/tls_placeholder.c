/* Temporary: keeps the sockets layer linkable until the TLS layer lands.
 * Replaced (file deleted) by the real src/tls implementation. */
#include "src/tls/tls_seam.h"

#define TLS_INIT_ERROR (-1001) /* SOCKETS_TLS_INIT_ERROR */

int32_t lwss_tls_connect(lwss_tls_conn **out, int fd, const lwss_tls_options *opts,
                         uint32_t timeout_ms, uint32_t peer_ip, uint16_t peer_port)
{
    (void)fd; (void)opts; (void)timeout_ms; (void)peer_ip; (void)peer_port;
    *out = NULL;
    return TLS_INIT_ERROR;
}

int32_t lwss_tls_send(lwss_tls_conn *c, const void *buf, size_t len, uint32_t timeout_ms,
                      int nonblock)
{
    (void)c; (void)buf; (void)len; (void)timeout_ms; (void)nonblock;
    return -1005;
}

int32_t lwss_tls_recv(lwss_tls_conn *c, void *buf, size_t len, uint32_t timeout_ms, int nonblock)
{
    (void)c; (void)buf; (void)len; (void)timeout_ms; (void)nonblock;
    return -1004;
}

size_t lwss_tls_pending(lwss_tls_conn *c)
{
    (void)c;
    return 0;
}

int32_t lwss_tls_shutdown(lwss_tls_conn *c, uint32_t how)
{
    (void)c; (void)how;
    return 0;
}

void lwss_tls_close(lwss_tls_conn *c)
{
    (void)c;
}

int lwss_tls_last_error(const lwss_tls_conn *c, char *msg, size_t msg_len)
{
    (void)c;
    if (msg_len > 0) {
        msg[0] = '\0';
    }
    return 0;
}
