/* Internal to src/sockets/: the socket object, the handle table and the
 * wakeup event thread.  Not installed. */
#ifndef LWSS_SOCK_INTERNAL_H
#define LWSS_SOCK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "iot_secure_sockets.h"
#include "src/core/core.h" /* lwss_os_lock: the OS seam */
#include "src/tls/tls_seam.h"

/* A receive / send timeout that never expires. */
#define LWSS_SOCK_FOREVER UINT64_MAX

typedef void (*lwss_wakeup_fn)(Socket_t);

struct lwss_sock {
    int fd;                       /* lwIP descriptor */
    Socket_t handle;              /* our own handle, for the wakeup callback */
    atomic_int closing;           /* set by Close: in-flight calls bail out */
    atomic_int connected;         /* TCP (and TLS) connection established */
    atomic_int nonblock;
    _Atomic uint64_t recv_timeout_us; /* LWSS_SOCK_FOREVER: no timeout */
    _Atomic uint64_t send_timeout_us;
    atomic_int peer_closed;       /* EOF / close_notify seen */
    atomic_int shut_rd, shut_wr;  /* local shutdowns */

    pthread_mutex_t state_lock;   /* connect state and the TLS options */
    pthread_mutex_t send_lock;    /* one sender at a time (whole messages) */
    pthread_mutex_t recv_lock;    /* one receiver at a time */
    uint8_t *rx_batch;            /* bytes read ahead (LWSS_SOCK_RX_BATCH), NULL when empty */
    size_t rx_off, rx_len;        /* unread: rx_batch[rx_off .. rx_len) (recv_lock) */
    atomic_size_t rx_held;        /* rx_len - rx_off, for readers without recv_lock */
    int connect_failed;

    uint32_t sndbuf;              /* SOCKETS_SO_SNDBUF; 0 = the port's tcp_sndbuf */
    int require_tls;
    int tls_no_resume;      /* LWSS_SO_TLS_NO_RESUME */
    uint8_t *tls_cert;            /* owned copies of the TLS options */
    size_t tls_cert_len;
    char *tls_sni;
    char **tls_alpn;              /* NULL-terminated */
    size_t tls_alpn_count;
    lwss_tls_conn *tls;
    int32_t tls_failure;          /* SOCKETS_TLS_* of a failed handshake (state_lock) */
    char tls_failure_msg[160];    /* lwss_last_error() at that moment */

    /* Guarded by the table lock. */
    unsigned refs;                /* calls in flight */
    lwss_wakeup_fn wakeup;
    int armed;                    /* callback may fire on the next readiness */
};

/* ---- handle table (handles.c) ---- */

/* Put @k in the table; returns its handle or SOCKETS_INVALID_SOCKET when full. */
Socket_t lwss_sock_register(struct lwss_sock *k);
/* Look a handle up and take a reference; NULL for bad, stale or closing handles. */
struct lwss_sock *lwss_sock_acquire(Socket_t s);
void lwss_sock_release(struct lwss_sock *k);
/* Remove a handle from the table (later lookups fail), then wait until no
 * call is in flight and its wakeup callback cannot run.  NULL if invalid. */
struct lwss_sock *lwss_sock_detach(Socket_t s);

/* ---- wakeup callbacks (handles.c) ---- */

/* Set (fn != NULL) or clear the callback; clearing returns once it cannot run. */
int lwss_sock_set_wakeup(struct lwss_sock *k, lwss_wakeup_fn fn);
/* After a Recv: allow the callback to fire again on new readiness. */
void lwss_sock_rearm(struct lwss_sock *k);
/* After connect: the event thread may now poll this socket. */
void lwss_sock_events_changed(void);

/* ---- shared helpers (sockets.c) ---- */

/* Translate an lwIP errno once, at this boundary. */
int32_t lwss_sock_errno_to_status(int err);

/* ---- tls_transport.c ---- */

/* The lwIP transport handed to lwss_tls_connect() (the BIO seam). */
extern const lwss_tls_io lwss_sockets_tls_io;

#endif
