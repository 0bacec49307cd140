/* SOCKETS_SetSockOpt: every option of the contract.  TLS options are copied
 * (the caller's buffers may go away) and replaced without leaking. */
#include "src/sockets/sock_internal.h"
#include "lwss/port.h"
#include "lwss/sockets.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/sockets.h"

#define ALPN_NAME_MAX 255u
#define ALPN_COUNT_MAX LWSS_SOCKETS_ALPN_MAX

/* Integer option values come as int, uint32_t, BaseType_t or a single byte:
 * read by size. */
static int read_int_value(const void *v, size_t len, long *out)
{
    if (v == NULL) {
        return -1;
    }
    if (len == sizeof(long)) {
        memcpy(out, v, sizeof(long));
    } else if (len == sizeof(int32_t)) {
        int32_t x;
        memcpy(&x, v, sizeof(x));
        *out = x;
    } else if (len == sizeof(uint8_t)) {
        *out = *(const uint8_t *)v;
    } else {
        return -1;
    }
    return 0;
}

/* Ticks of the application's width (4 or 8 bytes, told by the length) at
 * its tick rate, to microseconds rounded up (never early).  0 and
 * portMAX_DELAY (all ones at either width) wait forever. */
static int32_t set_timeout(_Atomic uint64_t *dst, const void *v, size_t len, uint32_t tick_hz)
{
    uint64_t ticks;
    if (v == NULL || tick_hz == 0) {
        return SOCKETS_EINVAL;
    }
    if (len == sizeof(uint32_t)) {
        uint32_t t32;
        memcpy(&t32, v, sizeof(t32));
        ticks = t32 == UINT32_MAX ? 0 : t32;
    } else if (len == sizeof(uint64_t)) {
        memcpy(&ticks, v, sizeof(ticks));
        ticks = ticks == UINT64_MAX ? 0 : ticks;
    } else {
        return SOCKETS_EINVAL;
    }
    uint64_t us = LWSS_SOCK_FOREVER;
    if (ticks != 0 && ticks <= (UINT64_MAX - tick_hz) / 1000000u) {
        us = (ticks * 1000000u + tick_hz - 1u) / tick_hz;
    }
    atomic_store(dst, us); /* beyond ~584,000 years at 1 kHz: forever too */
    return SOCKETS_ERROR_NONE;
}

static int32_t set_lwip_int(struct lwss_sock *k, int level, int name, long value)
{
    if (value < 0 || value > INT32_MAX) {
        return SOCKETS_EINVAL;
    }
    int v = (int)value;
    if (lwip_setsockopt(k->fd, level, name, &v, sizeof(v)) != 0) {
        return lwss_sock_errno_to_status(errno);
    }
    return SOCKETS_ERROR_NONE;
}

static int32_t set_keepalive(struct lwss_sock *k, int32_t opt, const void *v, size_t len)
{
    long value;
    if (read_int_value(v, len, &value) != 0) {
        return SOCKETS_EINVAL;
    }
    switch (opt) {
    case SOCKETS_SO_TCPKEEPALIVE:
        return set_lwip_int(k, SOL_SOCKET, SO_KEEPALIVE, value != 0);
    case SOCKETS_SO_TCPKEEPALIVE_INTERVAL:
        return value == 0 ? SOCKETS_EINVAL : set_lwip_int(k, IPPROTO_TCP, TCP_KEEPINTVL, value);
    case SOCKETS_SO_TCPKEEPALIVE_COUNT:
        return value == 0 ? SOCKETS_EINVAL : set_lwip_int(k, IPPROTO_TCP, TCP_KEEPCNT, value);
    default: /* SOCKETS_SO_TCPKEEPALIVE_IDLE_TIME */
        return value == 0 ? SOCKETS_EINVAL : set_lwip_int(k, IPPROTO_TCP, TCP_KEEPIDLE, value);
    }
}

/* AFR's header: "pvOptionValue is ignored for this option" -- SO_NONBLOCK
 * always makes the socket non-blocking; LWSS_SO_BLOCKING goes back. */
static int32_t set_nonblock(struct lwss_sock *k, int on)
{
    if (!atomic_load(&k->connected)) {
        return SOCKETS_ENOTCONN; /* contract: only after connect */
    }
    atomic_store(&k->nonblock, on);
    return SOCKETS_ERROR_NONE;
}

/* state_lock held, not connected. */
static int32_t set_sni(struct lwss_sock *k, const void *v, size_t len)
{
    if (v == NULL || len == 0) {
        return SOCKETS_EINVAL;
    }
    size_t n = strnlen(v, len); /* the length may or may not count a NUL */
    if (n == 0 || n > securesocketsMAX_DNS_NAME_LENGTH) {
        return SOCKETS_EINVAL;
    }
    char *copy = malloc(n + 1);
    if (copy == NULL) {
        return SOCKETS_ENOMEM;
    }
    memcpy(copy, v, n);
    copy[n] = '\0';
    free(k->tls_sni);
    k->tls_sni = copy;
    return SOCKETS_ERROR_NONE;
}

static int32_t set_trusted_cert(struct lwss_sock *k, const void *v, size_t len)
{
    if (v == NULL || len == 0) {
        return SOCKETS_EINVAL;
    }
    uint8_t *copy = malloc(len);
    if (copy == NULL) {
        return SOCKETS_ENOMEM;
    }
    memcpy(copy, v, len);
    free(k->tls_cert);
    k->tls_cert = copy;
    k->tls_cert_len = len;
    return SOCKETS_ERROR_NONE;
}

static void free_alpn(char **list, size_t count)
{
    if (list == NULL) {
        return;
    }
    for (size_t i = 0; i < count; i++) {
        free(list[i]);
    }
    free(list);
}

static int32_t set_alpn(struct lwss_sock *k, const void *v, size_t count)
{
    if (v == NULL || count == 0 || count > ALPN_COUNT_MAX) {
        return SOCKETS_EINVAL;
    }
    const char *const *names = v;
    char **list = calloc(count + 1, sizeof(*list));
    if (list == NULL) {
        return SOCKETS_ENOMEM;
    }
    int32_t ret = SOCKETS_EINVAL;
    for (size_t i = 0; i < count; i++) {
        size_t n = names[i] != NULL ? strnlen(names[i], ALPN_NAME_MAX + 1) : 0;
        if (n == 0 || n > ALPN_NAME_MAX) {
            goto cleanup;
        }
        list[i] = strdup(names[i]);
        if (list[i] == NULL) {
            ret = SOCKETS_ENOMEM;
            goto cleanup;
        }
    }
    free_alpn(k->tls_alpn, k->tls_alpn_count);
    k->tls_alpn = list;
    k->tls_alpn_count = count;
    return SOCKETS_ERROR_NONE;
cleanup:
    free_alpn(list, count);
    return ret;
}

static int is_tls_option(int32_t opt)
{
    return opt == SOCKETS_SO_REQUIRE_TLS || opt == SOCKETS_SO_SERVER_NAME_INDICATION ||
           opt == SOCKETS_SO_TRUSTED_SERVER_CERTIFICATE || opt == SOCKETS_SO_ALPN_PROTOCOLS ||
           opt == LWSS_SO_TLS_NO_RESUME;
}

static int32_t set_tls_option(struct lwss_sock *k, int32_t opt, const void *v, size_t len)
{
    int32_t ret;
    lwss_os_lock(&k->state_lock);
    if (atomic_load(&k->connected) || k->connect_failed) {
        ret = SOCKETS_EISCONN;
    } else if (opt == SOCKETS_SO_REQUIRE_TLS) {
        k->require_tls = 1;
        ret = SOCKETS_ERROR_NONE;
    } else if (opt == LWSS_SO_TLS_NO_RESUME) {
        k->tls_no_resume = 1; /* value ignored, like REQUIRE_TLS */
        ret = SOCKETS_ERROR_NONE;
    } else if (opt == SOCKETS_SO_SERVER_NAME_INDICATION) {
        ret = set_sni(k, v, len);
    } else if (opt == SOCKETS_SO_TRUSTED_SERVER_CERTIFICATE) {
        ret = set_trusted_cert(k, v, len);
    } else {
        ret = set_alpn(k, v, len);
    }
    pthread_mutex_unlock(&k->state_lock);
    return ret;
}

/* Applied when the TCP connection is up (lwss_port_set_tcp_sndbuf), so it
 * must come before connect, like FreeRTOS+TCP's buffer sizes. */
static int32_t set_sndbuf(struct lwss_sock *k, const void *v, size_t len)
{
    long value;
    if (read_int_value(v, len, &value) != 0 || value < (long)LWSS_TCP_SNDBUF_MIN ||
        value > (long)LWSS_TCP_SNDBUF_MAX) {
        return SOCKETS_EINVAL;
    }
    lwss_os_lock(&k->state_lock);
    int32_t ret = SOCKETS_EISCONN;
    if (!atomic_load(&k->connected) && !k->connect_failed) {
        k->sndbuf = (uint32_t)value;
        ret = SOCKETS_ERROR_NONE;
    }
    pthread_mutex_unlock(&k->state_lock);
    return ret;
}

static int32_t set_option(struct lwss_sock *k, int32_t opt, const void *v, size_t len,
                          uint32_t tick_hz)
{
    long value;
    if (is_tls_option(opt)) {
        return set_tls_option(k, opt, v, len);
    }
    switch (opt) {
    case SOCKETS_SO_RCVTIMEO:
        return set_timeout(&k->recv_timeout_us, v, len, tick_hz);
    case SOCKETS_SO_SNDTIMEO:
        return set_timeout(&k->send_timeout_us, v, len, tick_hz);
    case SOCKETS_SO_RCVBUF:
        if (read_int_value(v, len, &value) != 0 || value <= 0) {
            return SOCKETS_EINVAL;
        }
        return set_lwip_int(k, SOL_SOCKET, SO_RCVBUF, value);
    case SOCKETS_SO_SNDBUF:
        return set_sndbuf(k, v, len);
    case SOCKETS_SO_NONBLOCK:
        return set_nonblock(k, 1);
    case LWSS_SO_BLOCKING:
        return set_nonblock(k, 0);
    case SOCKETS_SO_WAKEUP_CALLBACK: {
        /* The value is the function pointer itself; anything else clears it. */
        lwss_wakeup_fn fn = NULL;
        if (v != NULL && len == sizeof(void *)) {
            fn = (lwss_wakeup_fn)(uintptr_t)v;
        }
        return lwss_sock_set_wakeup(k, fn) == 0 ? SOCKETS_ERROR_NONE : SOCKETS_ENOMEM;
    }
    case SOCKETS_SO_TCPKEEPALIVE:
    case SOCKETS_SO_TCPKEEPALIVE_INTERVAL:
    case SOCKETS_SO_TCPKEEPALIVE_COUNT:
    case SOCKETS_SO_TCPKEEPALIVE_IDLE_TIME:
        return set_keepalive(k, opt, v, len);
    default:
        return SOCKETS_ENOPROTOOPT;
    }
}

int32_t lwss_sockets_setsockopt_hz(Socket_t xSocket, int32_t lLevel, int32_t lOptionName,
                                   const void *pvOptionValue, size_t xOptionLength,
                                   uint32_t tick_rate_hz)
{
    (void)lLevel;
    struct lwss_sock *k = lwss_sock_acquire(xSocket);
    if (k == NULL) {
        return SOCKETS_EINVAL;
    }
    int32_t ret = set_option(k, lOptionName, pvOptionValue, xOptionLength, tick_rate_hz);
    lwss_sock_release(k);
    return ret;
}

/* Parenthesised: the header's macro of the same name (which passes the
 * application's configTICK_RATE_HZ) must not expand here.  Reached only
 * through a function pointer, so the tick rate is the host default. */
int32_t(SOCKETS_SetSockOpt)(Socket_t xSocket, int32_t lLevel, int32_t lOptionName,
                            const void *pvOptionValue, size_t xOptionLength)
{
    return lwss_sockets_setsockopt_hz(xSocket, lLevel, lOptionName, pvOptionValue, xOptionLength,
                                      LWSS_DEFAULT_TICK_RATE_HZ);
}
