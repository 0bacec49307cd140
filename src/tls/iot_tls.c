/*
 * AFR's TLS abstraction (include/iot_tls.h) over the one TLS engine: the
 * application's NetworkSend_t/NetworkRecv_t become a lwss_tls_io.  The io
 * table passes only an int, so each live context takes a slot in a small
 * table and the slot number is the "descriptor".
 *
 * The callbacks block for as long as the caller's transport does (its own
 * timeouts); the io's readiness wait therefore always says "ready", and a
 * callback's 0 ("nothing yet") becomes EAGAIN for the engine.
 */
#include "iot_tls.h"
#include "src/tls/tls_internal.h"
#include "lwss/tls.h"
#include "lwss/status.h"
#include "src/core/core.h"

#include <mbedtls/net_sockets.h>
#include <mbedtls/x509.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef LWSS_IOT_TLS_MAX_CONTEXTS
/** Contexts that may exist at once (between TLS_Init and TLS_Cleanup). */
#define LWSS_IOT_TLS_MAX_CONTEXTS 64
#endif

typedef struct iot_tls_ctx {
    int slot;
    NetworkRecv_t recv;
    NetworkSend_t send;
    void *caller;
    char *destination;             /* copy of pcDestination */
    uint8_t *server_cert;          /* copy of pcServerCertificate */
    size_t server_cert_len;
    const char **alpn;             /* caller's list: read during TLS_Connect only */
    size_t alpn_count;
    int last_recv_empty;           /* the last receive callback returned 0 */
    int last_send_empty;           /* the last send callback returned 0 */
    lwss_tls_conn *conn;           /* NULL until TLS_Connect succeeds, and after a hard error */
} iot_tls_ctx;

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static iot_tls_ctx *slots[LWSS_IOT_TLS_MAX_CONTEXTS];
static _Atomic(dateIsInThePast_t) date_check;

static iot_tls_ctx *slot_ctx(int fd)
{
    if (fd < 0 || fd >= LWSS_IOT_TLS_MAX_CONTEXTS) {
        return NULL;
    }
    pthread_mutex_lock(&slots_lock);
    iot_tls_ctx *x = slots[fd];
    pthread_mutex_unlock(&slots_lock);
    return x;
}

static ssize_t cb_send(int fd, const void *buf, size_t len)
{
    iot_tls_ctx *x = slot_ctx(fd);
    if (x == NULL) {
        errno = EBADF;
        return -1;
    }
    BaseType_t n = x->send(x->caller, buf, len);
    x->last_send_empty = n == 0;
    if (n > 0) {
        return (ssize_t)((size_t)n < len ? (size_t)n : len);
    }
    errno = n == 0 ? EAGAIN : EPIPE;
    return -1;
}

static ssize_t cb_recv(int fd, void *buf, size_t len)
{
    iot_tls_ctx *x = slot_ctx(fd);
    if (x == NULL) {
        errno = EBADF;
        return -1;
    }
    BaseType_t n = x->recv(x->caller, buf, len);
    x->last_recv_empty = n == 0;
    if (n > 0) {
        return (ssize_t)((size_t)n < len ? (size_t)n : len);
    }
    /* A callback's close is an error code (SOCKETS_ECLOSED): report it as
     * a reset, which the engine treats as the peer gone. */
    errno = n == 0 ? EAGAIN : ECONNRESET;
    return -1;
}

/* The callbacks do the waiting.  Only when the transport returned at once
 * with nothing (a non-blocking one) pause a millisecond, not to spin. */
static int cb_wait(int fd, int for_write, int timeout_ms)
{
    (void)for_write;
    iot_tls_ctx *x = slot_ctx(fd);
    if (x != NULL && x->last_recv_empty && timeout_ms > 0) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return 1;
}

static void cb_no_delay(int fd)
{
    (void)fd; /* the caller's transport decides */
}

static const lwss_tls_io callback_io = {cb_send, cb_recv, cb_wait, cb_no_delay};

static void ctx_free(iot_tls_ctx *x)
{
    if (x->slot >= 0) {
        pthread_mutex_lock(&slots_lock);
        slots[x->slot] = NULL;
        pthread_mutex_unlock(&slots_lock);
    }
    free(x->destination);
    free(x->server_cert);
    free(x);
}

static int ctx_copy_params(iot_tls_ctx *x, const TLSParams_t *p)
{
    if (p->pcDestination != NULL && (x->destination = strdup(p->pcDestination)) == NULL) {
        return -1;
    }
    if (p->pcServerCertificate != NULL) {
        x->server_cert_len = p->ulServerCertificateLength;
        if ((x->server_cert = malloc(x->server_cert_len + 1u)) == NULL) {
            return -1;
        }
        memcpy(x->server_cert, p->pcServerCertificate, x->server_cert_len);
        x->server_cert[x->server_cert_len] = 0;
    }
    x->alpn = p->ppcAlpnProtocols;
    x->alpn_count = p->ppcAlpnProtocols != NULL ? p->ulAlpnProtocolsCount : 0;
    return 0;
}

BaseType_t TLS_Init(void **ppvContext, TLSParams_t *pxParams)
{
    if (ppvContext == NULL || pxParams == NULL || pxParams->pxNetworkRecv == NULL ||
        pxParams->pxNetworkSend == NULL) {
        return (BaseType_t)CKR_ARGUMENTS_BAD;
    }
    *ppvContext = NULL;
    iot_tls_ctx *x = calloc(1, sizeof(*x));
    if (x == NULL) {
        return (BaseType_t)CKR_HOST_MEMORY;
    }
    x->slot = -1;
    x->recv = pxParams->pxNetworkRecv;
    x->send = pxParams->pxNetworkSend;
    x->caller = pxParams->pvCallerContext;
    if (ctx_copy_params(x, pxParams) != 0) {
        ctx_free(x);
        return (BaseType_t)CKR_HOST_MEMORY;
    }
    pthread_mutex_lock(&slots_lock);
    for (int i = 0; i < LWSS_IOT_TLS_MAX_CONTEXTS && x->slot < 0; i++) {
        if (slots[i] == NULL) {
            slots[i] = x;
            x->slot = i;
        }
    }
    pthread_mutex_unlock(&slots_lock);
    if (x->slot < 0) {
        lwss_set_error(LWSS_ERR_NOMEM, "TLS_Init: more than %d contexts",
                       LWSS_IOT_TLS_MAX_CONTEXTS);
        ctx_free(x);
        return (BaseType_t)CKR_HOST_MEMORY;
    }
    *ppvContext = x;
    return 0;
}

/* Is an object of @p cls labelled @p label in the token? */
static int token_has(lwss_tls_token *t, CK_OBJECT_CLASS cls, const char *label)
{
    CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
                           {CKA_LABEL, (void *)label, (CK_ULONG)strlen(label)}};
    CK_OBJECT_HANDLE obj = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    if (t->fl->C_FindObjectsInit(t->session, tmpl, 2) != CKR_OK) {
        return 0;
    }
    (void)t->fl->C_FindObjects(t->session, &obj, 1, &n);
    (void)t->fl->C_FindObjectsFinal(t->session);
    return n == 1;
}

/* After a failed handshake: was it for want of client credentials?  (A
 * server that does not ask for them lets the handshake succeed without.) */
static BaseType_t missing_credentials(void)
{
    lwss_tls_token tok = {lwss_tls_token_functions(), CK_INVALID_HANDLE, 0};
    BaseType_t rc = 0;
    if (lwss_tls_token_open(&tok) != 0) {
        return TLS_ERROR_NO_PRIVATE_KEY; /* no token: no key either */
    }
    if (!token_has(&tok, CKO_PRIVATE_KEY, LWSS_TLS_CLIENT_KEY_LABEL)) {
        rc = TLS_ERROR_NO_PRIVATE_KEY;
    } else if (!token_has(&tok, CKO_CERTIFICATE, LWSS_TLS_CLIENT_CERT_LABEL)) {
        rc = TLS_ERROR_NO_CERTIFICATE;
    }
    lwss_tls_token_close(&tok);
    return rc;
}

static long date_adapter(long day, long month, long year)
{
    dateIsInThePast_t f = atomic_load(&date_check);
    return f != NULL ? (long)f((BaseType_t)day, (BaseType_t)month, (BaseType_t)year) : 0;
}

BaseType_t TLS_Connect(void *pvContext)
{
    iot_tls_ctx *x = pvContext;
    if (x == NULL || x->conn != NULL) {
        return TLS_ERROR_HANDSHAKE_FAILED;
    }
    lwss_tls_options opts = {
        .trusted_cert = x->server_cert,
        .trusted_cert_len = x->server_cert_len,
        .sni = x->destination,
        .alpn = x->alpn,
        .alpn_count = x->alpn_count,
        .no_resume = 1, /* the peer's address is unknown: nothing to key a session on */
        .date_in_past = atomic_load(&date_check) != NULL ? date_adapter : NULL,
    };
    int32_t rc = lwss_tls_connect(&x->conn, x->slot, &callback_io, &opts, 0, 0, 0);
    if (rc == SOCKETS_ERROR_NONE) {
        return 0;
    }
    x->conn = NULL;
    if (rc == SOCKETS_TLS_SERVER_UNVERIFIED) {
        return MBEDTLS_ERR_X509_CERT_VERIFY_FAILED;
    }
    if (rc == SOCKETS_TLS_HANDSHAKE_ERROR) {
        BaseType_t why = missing_credentials();
        if (why != 0) {
            return why;
        }
    }
    return TLS_ERROR_HANDSHAKE_FAILED;
}

/* A hard error or the peer's close: the connection is unusable from now on
 * (AFR frees it too).  The mbedtls code that ended it, else @p fallback. */
static BaseType_t hard_error(iot_tls_ctx *x, int fallback)
{
    char msg[8];
    int mbed = lwss_tls_last_error(x->conn, msg, sizeof(msg));
    lwss_tls_close(x->conn);
    x->conn = NULL;
    return mbed < 0 ? mbed : fallback;
}

BaseType_t TLS_Recv(void *pvContext, unsigned char *pucReadBuffer, size_t xReadLength)
{
    iot_tls_ctx *x = pvContext;
    if (x == NULL || x->conn == NULL || pucReadBuffer == NULL) {
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    }
    if (xReadLength == 0) {
        return 0;
    }
    /* One pass: the receive callback waits as long as the caller's transport does. */
    int32_t n = lwss_tls_recv(x->conn, pucReadBuffer, xReadLength, 0, 1);
    if (n > 0) {
        return (BaseType_t)n;
    }
    if (n == SOCKETS_EWOULDBLOCK) {
        return 0;
    }
    if (n == SOCKETS_ECLOSED) { /* close_notify or EOF: no mbedtls error behind it */
        lwss_tls_close(x->conn);
        x->conn = NULL;
        return MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY;
    }
    return hard_error(x, MBEDTLS_ERR_NET_RECV_FAILED);
}

BaseType_t TLS_Send(void *pvContext, const unsigned char *pucMsg, size_t xMsgLength)
{
    iot_tls_ctx *x = pvContext;
    if (x == NULL || x->conn == NULL || (pucMsg == NULL && xMsgLength > 0)) {
        return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
    }
    size_t written = 0;
    while (written < xMsgLength) {
        x->last_send_empty = 1; /* stays 1 if the callback is not reached */
        int32_t n = lwss_tls_send(x->conn, pucMsg + written, xMsgLength - written, 0, 1);
        if (n > 0) {
            written += (size_t)n;
        } else if (n == SOCKETS_EWOULDBLOCK && !x->last_send_empty) {
            continue; /* the callback took part of a record: push the rest */
        } else if (n == SOCKETS_EWOULDBLOCK || n == 0) {
            break; /* the send callback took nothing: report what went */
        } else {
            return hard_error(x, n == SOCKETS_ECLOSED ? MBEDTLS_ERR_NET_CONN_RESET
                                                      : MBEDTLS_ERR_NET_SEND_FAILED);
        }
    }
    return (BaseType_t)written;
}

void TLS_Cleanup(void *pvContext)
{
    iot_tls_ctx *x = pvContext;
    if (x == NULL) {
        return;
    }
    if (x->conn != NULL) {
        lwss_tls_close(x->conn);
    }
    ctx_free(x);
}

void TLS_setDateIsInThePastFunction(dateIsInThePast_t DateIsInThePast)
{
    atomic_store(&date_check, DateIsInThePast);
}
