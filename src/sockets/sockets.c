/* Secure Sockets lifecycle over lwIP: Init, Socket, Bind, Connect, Shutdown,
 * Close, GetHostByName.  Send/Recv live in io.c, options in sockopt.c. */
#include "src/sockets/sock_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lwip/sockets.h"

#include "lwip_port/internal.h"
#include "lwss/dns.h"
#include "lwss/port.h"
#include "lwss/sockets.h"

static atomic_uint connect_timeout_ms = socketsconfigDEFAULT_CONNECT_TIMEOUT;
static atomic_uint default_recv_ms = socketsconfigDEFAULT_RECV_TIMEOUT;
static atomic_uint default_send_ms = socketsconfigDEFAULT_SEND_TIMEOUT;

int32_t lwss_sock_errno_to_status(int err)
{
    switch (err) {
    case 0:
        return SOCKETS_ERROR_NONE;
    case EWOULDBLOCK:
        return SOCKETS_EWOULDBLOCK;
    case ENOMEM:
    case ENOBUFS:
        return SOCKETS_ENOMEM;
    case EINVAL:
    case EBADF:
        return SOCKETS_EINVAL;
    case ENOPROTOOPT:
        return SOCKETS_ENOPROTOOPT;
    case ENOTCONN:
        return SOCKETS_ENOTCONN;
    case EISCONN:
        return SOCKETS_EISCONN;
    case ECONNRESET:
    case ECONNABORTED:
    case EPIPE:
    case ESHUTDOWN:
        return SOCKETS_ECLOSED;
    default:
        return SOCKETS_SOCKET_ERROR;
    }
}

int32_t lwss_sockets_set_connect_timeout(uint32_t timeout_ms)
{
    if (timeout_ms == 0 || timeout_ms > 3600000u) {
        return SOCKETS_EINVAL;
    }
    atomic_store(&connect_timeout_ms, timeout_ms);
    return SOCKETS_ERROR_NONE;
}

uint32_t lwss_sockets_connect_timeout(void)
{
    return atomic_load(&connect_timeout_ms);
}

int32_t lwss_sockets_set_default_timeouts(uint32_t recv_ms, uint32_t send_ms)
{
    if (recv_ms == 0 || recv_ms > 3600000u || send_ms == 0 || send_ms > 3600000u) {
        return SOCKETS_EINVAL;
    }
    atomic_store(&default_recv_ms, recv_ms);
    atomic_store(&default_send_ms, send_ms);
    return SOCKETS_ERROR_NONE;
}

void lwss_sockets_default_timeouts(uint32_t *recv_ms, uint32_t *send_ms)
{
    if (recv_ms != NULL) {
        *recv_ms = atomic_load(&default_recv_ms);
    }
    if (send_ms != NULL) {
        *send_ms = atomic_load(&default_send_ms);
    }
}

BaseType_t SOCKETS_Init(void)
{
    if (lwss_port_is_up()) {
        return pdPASS;
    }
    int rc = lwss_port_up(NULL);
    /* BUSY: another thread brought it up between the check and the call. */
    return (rc == LWSS_OK || (rc == LWSS_ERR_BUSY && lwss_port_is_up())) ? pdPASS : pdFAIL;
}

static void free_sock(struct lwss_sock *k)
{
    pthread_mutex_destroy(&k->state_lock);
    pthread_mutex_destroy(&k->send_lock);
    pthread_mutex_destroy(&k->recv_lock);
    free(k->rx_batch);
    free(k);
}

static struct lwss_sock *new_sock(int fd)
{
    struct lwss_sock *k = calloc(1, sizeof(*k));
    if (k == NULL) {
        return NULL;
    }
    k->fd = fd;
    pthread_mutex_init(&k->state_lock, NULL);
    pthread_mutex_init(&k->send_lock, NULL);
    pthread_mutex_init(&k->recv_lock, NULL);
    atomic_store(&k->recv_timeout_us, (uint64_t)atomic_load(&default_recv_ms) * 1000u);
    atomic_store(&k->send_timeout_us, (uint64_t)atomic_load(&default_send_ms) * 1000u);
    return k;
}

Socket_t SOCKETS_Socket(int32_t lDomain, int32_t lType, int32_t lProtocol)
{
    if (lDomain != SOCKETS_AF_INET || lType != SOCKETS_SOCK_STREAM ||
        lProtocol != SOCKETS_IPPROTO_TCP) {
        lwss_set_error(LWSS_ERR_INVAL, "only AF_INET / SOCK_STREAM / IPPROTO_TCP sockets");
        return SOCKETS_INVALID_SOCKET;
    }
    if (!lwss_port_is_up()) {
        lwss_set_error(LWSS_ERR_STATE, "the lwIP port is not up (call SOCKETS_Init)");
        return SOCKETS_INVALID_SOCKET;
    }
    int fd = lwip_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    if (fd < 0) {
        lwss_set_error(LWSS_ERR_NOMEM, "lwip_socket failed (errno %d)", errno);
        return SOCKETS_INVALID_SOCKET;
    }
    struct lwss_sock *k = new_sock(fd);
    if (k == NULL) {
        lwip_close(fd);
        return SOCKETS_INVALID_SOCKET;
    }
    Socket_t h = lwss_sock_register(k);
    if (h == SOCKETS_INVALID_SOCKET) {
        lwss_set_error(LWSS_ERR_NOMEM, "socket table full");
        lwip_close(fd);
        free_sock(k);
    }
    return h;
}

static void to_sockaddr(const SocketsSockaddr_t *a, struct sockaddr_in *out)
{
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_port = a->usPort;
    out->sin_addr.s_addr = a->ulAddress;
}

int32_t SOCKETS_Bind(Socket_t xSocket, SocketsSockaddr_t *pxAddress, Socklen_t xAddressLength)
{
    (void)xAddressLength; /* like ucLength, not trusted */
    if (pxAddress == NULL) {
        return SOCKETS_EINVAL;
    }
    struct lwss_sock *k = lwss_sock_acquire(xSocket);
    if (k == NULL) {
        return SOCKETS_EINVAL;
    }
    int32_t ret = SOCKETS_EISCONN;
    lwss_os_lock(&k->state_lock);
    if (!atomic_load(&k->connected) && !k->connect_failed) {
        struct sockaddr_in sin;
        to_sockaddr(pxAddress, &sin);
        ret = lwip_bind(k->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0
                  ? SOCKETS_ERROR_NONE
                  : lwss_sock_errno_to_status(errno);
    }
    pthread_mutex_unlock(&k->state_lock);
    lwss_sock_release(k);
    return ret;
}

static int set_lwip_nonblocking(int fd, int on)
{
    int v = on;
    return lwip_ioctl(fd, (long)FIONBIO, &v);
}

/* Non-blocking lwIP connect, then wait in slices for the outcome. */
static int32_t tcp_connect(struct lwss_sock *k, const struct sockaddr_in *sin, uint64_t deadline_us)
{
    if (set_lwip_nonblocking(k->fd, 1) != 0) {
        return SOCKETS_SOCKET_ERROR;
    }
    if (lwip_connect(k->fd, (const struct sockaddr *)sin, sizeof(*sin)) != 0 &&
        errno != EINPROGRESS) {
        lwss_set_error(LWSS_ERR_IO, "connect: errno %d", errno);
        return SOCKETS_SOCKET_ERROR;
    }
    for (;;) {
        uint64_t now = lwss_now_us();
        if (now >= deadline_us) {
            lwss_set_error(LWSS_ERR_TIMEOUT, "connect timed out");
            return SOCKETS_SOCKET_ERROR;
        }
        unsigned epoch = lwss_port_wait_epoch(); /* before the flag: a Close wakes the wait */
        if (atomic_load(&k->closing)) {
            return SOCKETS_ECLOSED;
        }
        uint64_t left = (deadline_us - now + 999u) / 1000u; /* ms, rounded up */
        uint64_t cap = lwss_os_hook_applies() ? LWSS_SOCK_WAIT_SLICE_MS : (uint64_t)INT32_MAX;
        int n = lwss_port_wait_since(k->fd, POLLOUT, (int)(left < cap ? left : cap), epoch);
        if (n > 0) {
            break;
        }
        if (n < 0 && errno != EINTR) {
            return SOCKETS_SOCKET_ERROR;
        }
    }
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (lwip_getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
        lwss_set_error(LWSS_ERR_IO, "connect failed: errno %d", soerr);
        return SOCKETS_SOCKET_ERROR;
    }
    /* Best effort: a connection already closing by now fails later anyway. */
    lwss_port_config cfg;
    uint32_t sndbuf = k->sndbuf;
    if (sndbuf == 0 && lwss_port_get_config(&cfg) == LWSS_OK) {
        sndbuf = cfg.tcp_sndbuf;
    }
    if (sndbuf != 0) {
        (void)lwss_port_set_tcp_sndbuf(k->fd, sndbuf);
    }
    /* Back to blocking mode; lwss's own transfers pass MSG_DONTWAIT and wait
     * in lwss_port_wait (src/sockets/io.c). */
    return set_lwip_nonblocking(k->fd, 0) == 0 ? SOCKETS_ERROR_NONE : SOCKETS_SOCKET_ERROR;
}

static int32_t tls_handshake(struct lwss_sock *k, const struct sockaddr_in *sin, uint64_t deadline_us)
{
    lwss_tls_options opts = {
        .trusted_cert = k->tls_cert,
        .trusted_cert_len = k->tls_cert_len,
        .sni = k->tls_sni,
        .alpn = (const char *const *)k->tls_alpn,
        .alpn_count = k->tls_alpn_count,
        .no_resume = k->tls_no_resume,
    };
    uint64_t now = lwss_now_us();
    uint32_t left = now < deadline_us ? (uint32_t)((deadline_us - now + 999u) / 1000u) : 1u;
    return lwss_tls_connect(&k->tls, k->fd, &lwss_sockets_tls_io, &opts, left, sin->sin_addr.s_addr,
                            sin->sin_port);
}

/* AFR's header: xAddressLength "should be set to sizeof(SocketsSockaddr_t)"
 * and only SOCKETS_AF_INET is supported.  Anything else is a caller bug:
 * refuse it rather than guess (ucLength is not checked: AFR never says what
 * it holds). */
static int connect_address_ok(const SocketsSockaddr_t *a, Socklen_t len)
{
    return a != NULL && len == sizeof(SocketsSockaddr_t) && a->ucSocketDomain == SOCKETS_AF_INET &&
           a->ulAddress != 0 && a->usPort != 0;
}

int32_t SOCKETS_Connect(Socket_t xSocket, SocketsSockaddr_t *pxAddress, Socklen_t xAddressLength)
{
    struct lwss_sock *k = lwss_sock_acquire(xSocket);
    if (k == NULL) {
        return SOCKETS_EINVAL;
    }
    int32_t ret = SOCKETS_EINVAL;
    if (!connect_address_ok(pxAddress, xAddressLength)) {
        lwss_set_error(LWSS_ERR_INVAL, "connect: address must be a SocketsSockaddr_t of "
                       "SOCKETS_AF_INET with its size, a non-zero address and port");
        goto out;
    }
    lwss_os_lock(&k->state_lock);
    if (atomic_load(&k->connected) || k->connect_failed) {
        ret = SOCKETS_EISCONN;
        goto unlock;
    }
    struct sockaddr_in sin;
    to_sockaddr(pxAddress, &sin);
    uint64_t deadline_us = lwss_now_us() + (uint64_t)lwss_sockets_connect_timeout() * 1000u + 1u;
    ret = tcp_connect(k, &sin, deadline_us);
    if (ret == SOCKETS_ERROR_NONE && k->require_tls) {
        ret = tls_handshake(k, &sin, deadline_us);
        if (ret != SOCKETS_ERROR_NONE) {
            /* The TLS layer keeps nothing on failure: keep its story here. */
            k->tls_failure = ret;
            snprintf(k->tls_failure_msg, sizeof(k->tls_failure_msg), "%s", lwss_last_error());
        }
    }
    if (ret == SOCKETS_ERROR_NONE) {
        atomic_store(&k->connected, 1);
    } else {
        k->connect_failed = 1;
    }
unlock:
    pthread_mutex_unlock(&k->state_lock);
out:
    lwss_sock_release(k);
    if (ret == SOCKETS_ERROR_NONE) {
        lwss_sock_events_changed();
    }
    return ret;
}

int32_t SOCKETS_Shutdown(Socket_t xSocket, uint32_t ulHow)
{
    struct lwss_sock *k = lwss_sock_acquire(xSocket);
    if (k == NULL) {
        return SOCKETS_EINVAL;
    }
    int32_t ret = SOCKETS_EINVAL;
    if (ulHow > SOCKETS_SHUT_RDWR) {
        goto out;
    }
    ret = SOCKETS_ENOTCONN;
    if (!atomic_load(&k->connected)) {
        goto out;
    }
    /* lwIP 2.1 frees the receive mailbox on SHUT_RD: no Recv may be inside
     * lwIP meanwhile, and no Send for SHUT_WR.  The flags, and the wake after
     * them, make a blocked Recv or Send give up and drop its lock. */
    int tls_close_notify = k->tls != NULL && ulHow != SOCKETS_SHUT_RD && !atomic_load(&k->shut_wr);
    if (ulHow != SOCKETS_SHUT_WR) {
        atomic_store(&k->shut_rd, 1);
    }
    if (ulHow != SOCKETS_SHUT_RD) {
        atomic_store(&k->shut_wr, 1);
    }
    lwss_port_wake_waiters();
    lwss_os_lock(&k->send_lock);
    lwss_os_lock(&k->recv_lock);
    ret = SOCKETS_ERROR_NONE;
    if (tls_close_notify) {
        ret = lwss_tls_shutdown(k->tls, ulHow);
    }
    int how = ulHow == SOCKETS_SHUT_RD ? SHUT_RD : ulHow == SOCKETS_SHUT_WR ? SHUT_WR : SHUT_RDWR;
    if (lwip_shutdown(k->fd, how) != 0 && errno != ENOTCONN && ret == SOCKETS_ERROR_NONE) {
        /* ENOTCONN: the peer is already gone, which is what was asked for. */
        ret = lwss_sock_errno_to_status(errno);
    }
    pthread_mutex_unlock(&k->recv_lock);
    pthread_mutex_unlock(&k->send_lock);
out:
    lwss_sock_release(k);
    return ret;
}

static void free_tls_options(struct lwss_sock *k)
{
    free(k->tls_cert);
    free(k->tls_sni);
    if (k->tls_alpn != NULL) {
        for (size_t i = 0; i < k->tls_alpn_count; i++) {
            free(k->tls_alpn[i]);
        }
        free(k->tls_alpn);
    }
    k->tls_cert = NULL;
    k->tls_sni = NULL;
    k->tls_alpn = NULL;
    k->tls_cert_len = 0;
    k->tls_alpn_count = 0;
}

int32_t SOCKETS_Close(Socket_t xSocket)
{
    struct lwss_sock *k = lwss_sock_detach(xSocket);
    if (k == NULL) {
        return SOCKETS_EINVAL;
    }
    /* close_notify goes out while the descriptor is still open (the reference
     * closed it first, so the peer never saw the alert). */
    if (k->tls != NULL) {
        lwss_tls_close(k->tls);
        k->tls = NULL;
    }
    lwip_close(k->fd);
    free_tls_options(k);
    free_sock(k);
    return SOCKETS_ERROR_NONE;
}

uint32_t SOCKETS_GetHostByName(const char *pcHostName)
{
    uint32_t addr = 0;
    if (lwss_dns_resolve(pcHostName, &addr) != LWSS_OK) {
        return 0;
    }
    return addr;
}

int32_t lwss_socket_tls_error(Socket_t s, char *msg, size_t len)
{
    struct lwss_sock *k = lwss_sock_acquire(s);
    if (k == NULL) {
        return SOCKETS_EINVAL;
    }
    int32_t ret = 0;
    lwss_os_lock(&k->state_lock); /* k->tls is set by Connect under this lock */
    if (k->tls != NULL) {
        ret = lwss_tls_last_error(k->tls, msg, len);
    } else {
        ret = k->tls_failure;
        if (msg != NULL && len > 0) {
            snprintf(msg, len, "%s", k->tls_failure_msg);
        }
    }
    pthread_mutex_unlock(&k->state_lock);
    lwss_sock_release(k);
    return ret;
}

int32_t lwss_socket_alpn(Socket_t s, char *out, size_t len)
{
    if (out == NULL || len == 0) {
        return SOCKETS_EINVAL;
    }
    struct lwss_sock *k = lwss_sock_acquire(s);
    if (k == NULL) {
        return SOCKETS_EINVAL;
    }
    int32_t ret = 0;
    out[0] = '\0';
    lwss_os_lock(&k->state_lock);
    const char *name = k->tls != NULL ? lwss_tls_alpn(k->tls) : NULL;
    if (name != NULL) {
        size_t n = strlen(name);
        ret = n < len ? (int32_t)n : SOCKETS_EINVAL;
        if (n < len) {
            memcpy(out, name, n + 1);
        }
    }
    pthread_mutex_unlock(&k->state_lock);
    lwss_sock_release(k);
    return ret;
}

int32_t lwss_socket_lwip_fd(Socket_t s)
{
    struct lwss_sock *k = lwss_sock_acquire(s);
    if (k == NULL) {
        return SOCKETS_EINVAL;
    }
    int32_t fd = k->fd;
    lwss_sock_release(k);
    return fd;
}
