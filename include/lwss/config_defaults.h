/**
 * @file lwss/config_defaults.h
 * @brief Every compile-time knob of lwss, with its default (coreMQTT style).
 *
 * Each knob is `#ifndef`-guarded: a value defined before this header wins.
 * These values are compiled into the library, so they are set when building
 * lwss, never by an application that only includes the headers:
 *
 *     make CFLAGS='-DLWSS_TLS_SESSION_CACHE_SIZE=32'
 *     make CFLAGS='-DLWSS_CONFIG_FILE=\"my_lwss_config.h\"'
 *
 * LWSS_CONFIG_FILE names a header (on the include path) that is included
 * first and may define any of the knobs below; the same file must be
 * visible when the application includes lwss's headers, so that the values
 * they show are the library's.  An application that defines a knob itself
 * only changes what its own code sees (e.g. the value of
 * socketsconfigDEFAULT_RECV_TIMEOUT), not what the library does.
 *
 * Knobs marked "Runtime:" also have a setter or an environment variable
 * that changes the behaviour of a built library; the value here is then
 * only the starting value.  `make test` (stage check-config) checks that
 * every knob here has a doxygen line and a row in the README's table.
 */
#ifndef LWSS_CONFIG_DEFAULTS_H
#define LWSS_CONFIG_DEFAULTS_H

#ifdef LWSS_CONFIG_FILE
#include LWSS_CONFIG_FILE
#endif

/* ---- Secure Sockets (src/sockets) ------------------------------------- */

#ifndef socketsconfigDEFAULT_RECV_TIMEOUT
/** Receive timeout of every new socket, ms.
 *  Runtime: lwss_sockets_set_default_timeouts(). */
#define socketsconfigDEFAULT_RECV_TIMEOUT 10000
#endif

#ifndef socketsconfigDEFAULT_SEND_TIMEOUT
/** Send timeout of every new socket, ms.
 *  Runtime: lwss_sockets_set_default_timeouts(). */
#define socketsconfigDEFAULT_SEND_TIMEOUT 10000
#endif

#ifndef socketsconfigDEFAULT_CONNECT_TIMEOUT
/** Bound on SOCKETS_Connect() (TCP handshake, then TLS handshake), ms.
 *  Runtime: lwss_sockets_set_connect_timeout(). */
#define socketsconfigDEFAULT_CONNECT_TIMEOUT 10000
#endif

#ifndef LWSS_SOCKETS_MAX
/** Sockets open at once (size of the handle table). */
#define LWSS_SOCKETS_MAX 4096u
#endif

#ifndef LWSS_SOCK_WAIT_SLICE_MS
/** Longest single wait inside lwIP (a waiter that does not read the TAP
 *  itself, or any wait under an OS wait hook), ms: a Close from another
 *  thread is seen within it (lwIP 2.1 must never see a close while a call
 *  is inside).  Other waits are woken by the Close itself. */
#define LWSS_SOCK_WAIT_SLICE_MS 100u
#endif

#ifndef LWSS_SOCK_EVENT_WAKE_POLL_MS
/** Poll bound of the wakeup-callback event thread while it has its wake-up
 *  socket (changes wake it at once), ms. */
#define LWSS_SOCK_EVENT_WAKE_POLL_MS 1000
#endif

#ifndef LWSS_SOCK_EVENT_SLICE_MS
/** Poll slice of the event thread without its wake-up socket (stack going
 *  down), ms: how soon it notices a changed set. */
#define LWSS_SOCK_EVENT_SLICE_MS 20
#endif

#ifndef LWSS_DEFAULT_TICK_RATE_HZ
/** Tick rate assumed for SOCKETS_SO_RCVTIMEO / SNDTIMEO values passed to the
 *  plain SOCKETS_SetSockOpt() function (LWSS_NO_SETSOCKOPT_MACRO). */
#define LWSS_DEFAULT_TICK_RATE_HZ 1000u
#endif

#ifndef LWSS_SOCKETS_ALPN_MAX
/** Most protocol names SOCKETS_SO_ALPN_PROTOCOLS accepts on one socket. */
#define LWSS_SOCKETS_ALPN_MAX 16u
#endif

/* ---- TLS (src/tls) ---------------------------------------------------- */

#ifndef LWSS_TLS_HANDSHAKE_TIMEOUT_MS
/** Bound on a handshake when the socket has no send/receive timeout, ms. */
#define LWSS_TLS_HANDSHAKE_TIMEOUT_MS 10000u
#endif

#ifndef LWSS_TLS_CLOSE_NOTIFY_TIMEOUT_MS
/** Bound on sending close_notify at Close / Shutdown, ms. */
#define LWSS_TLS_CLOSE_NOTIFY_TIMEOUT_MS 1000u
#endif

#ifndef LWSS_SOCK_RX_BATCH
/**
 * Bytes a plain TCP socket takes from lwIP per receive call when the caller
 * asks for less (0: take only what the caller asks for).  Each lwIP receive
 * call ends in a window update to the peer; reading ahead into a buffer
 * (allocated only while it holds bytes) makes those fewer.
 */
#define LWSS_SOCK_RX_BATCH 65536u
#endif

#ifndef LWSS_TLS_RX_BATCH
/**
 * Bytes a TLS socket takes from lwIP per receive call (0: take only what
 * mbedtls asks for).  Reading two 16 KiB records at once halves the window
 * updates lwIP sends (it sends one per receive call) and the ping-pong with
 * the peer that follows each one.  The buffer exists only while it holds
 * bytes: an idle socket has none.
 */
#define LWSS_TLS_RX_BATCH 32768u
#endif

#ifndef LWSS_TLS_SESSION_CACHE_SIZE
/** Sessions remembered for resumption (one per peer ip:port + trust). */
#define LWSS_TLS_SESSION_CACHE_SIZE 16
#endif

#ifndef LWSS_TLS_ROOT_CERT_LABEL
/** Label of the token's root certificate object ("Root Cert"). */
#define LWSS_TLS_ROOT_CERT_LABEL pkcs11configLABEL_ROOT_CERTIFICATE
#endif

#ifndef LWSS_TLS_CLIENT_CERT_LABEL
/** Label of the client (device) certificate in the token ("Device Cert"). */
#define LWSS_TLS_CLIENT_CERT_LABEL pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS
#endif

#ifndef LWSS_TLS_CLIENT_KEY_LABEL
/** Label of the client (device) private key ("Device Priv TLS Key"). */
#define LWSS_TLS_CLIENT_KEY_LABEL pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS
#endif

#ifndef LWSS_TLS_KEYLOG_ENV
/** Environment variable naming the NSS key log file (read at each handshake). */
#define LWSS_TLS_KEYLOG_ENV "SSLKEYLOGFILE"
#endif

/* ---- Host port (lwip_port) -------------------------------------------- */

#ifndef LWSS_TCP_SNDBUF_DEFAULT
/** TCP send buffer of each connection, bytes (LWSS_TCP_SNDBUF_MIN..MAX).
 *  Runtime: $LWSS_TCP_SNDBUF, lwss_port_config::tcp_sndbuf. */
#define LWSS_TCP_SNDBUF_DEFAULT 262144u
#endif

#ifndef LWSS_PORT_INLINE_LEASE_MS
/** How long the TAP receive thread stays aside after an inline wait ends, ms:
 *  longer than an application takes between two receives of a bulk transfer. */
#define LWSS_PORT_INLINE_LEASE_MS 2
#endif


#ifndef LWSS_PCAP_FLUSH_MS
/** A packet capture is flushed to its file at most this often, ms. */
#define LWSS_PCAP_FLUSH_MS 100u
#endif

/* ---- DNS (src/dns) ---------------------------------------------------- */

#ifndef LWSS_DNS_HOSTS_MAX
/** Largest number of static hosts entries (lwss_dns_hosts_add()). */
#define LWSS_DNS_HOSTS_MAX 64
#endif

#ifndef LWSS_DNS_ATTEMPT_TIMEOUT_MS
/** Bound on one DNS query to one server, ms.  Runtime: lwss_dns_set_retry(). */
#define LWSS_DNS_ATTEMPT_TIMEOUT_MS 1000u
#endif

#ifndef LWSS_DNS_ATTEMPTS
/** Queries sent to each DNS server before the next.  Runtime: lwss_dns_set_retry(). */
#define LWSS_DNS_ATTEMPTS 2u
#endif

#ifndef LWSS_DNS_MAX_CNAME_HOPS
/** CNAME records followed in one answer before the name counts as unknown. */
#define LWSS_DNS_MAX_CNAME_HOPS 8
#endif

/* ---- PKCS #11 token (src/pkcs11) -------------------------------------- */

#ifndef LWSS_PKCS11_DEFAULT_PIN
/** User and SO PIN of an image on which none was set (FreeRTOS's
 *  configPKCS11_DEFAULT_USER_PIN). */
#define LWSS_PKCS11_DEFAULT_PIN "0000"
#endif

#ifndef LWSS_P11_MAX_SESSIONS
/** Sessions open at once (all slots of the static session table). */
#define LWSS_P11_MAX_SESSIONS 256
#endif

#ifndef LWSS_P11_MAX_SESSION_OBJECTS
/** Session objects (CKA_TOKEN=FALSE) held at once, all sessions together
 *  (1..256); one more is refused with CKR_HOST_MEMORY. */
#define LWSS_P11_MAX_SESSION_OBJECTS 128
#endif

#ifndef LWSS_P11_MAX_VALUE
/** Largest object value accepted by C_CreateObject, bytes. */
#define LWSS_P11_MAX_VALUE 16384
#endif

#ifndef LWSS_P11_PIN_MIN
/** Shortest PIN, bytes: reported in CK_TOKEN_INFO and enforced. */
#define LWSS_P11_PIN_MIN 4
#endif

#ifndef LWSS_P11_PIN_MAX
/** Longest PIN, bytes: reported in CK_TOKEN_INFO and enforced. */
#define LWSS_P11_PIN_MAX 64
#endif

#ifndef LWSS_P11_PIN_MAX_TRIES
/** Wrong PINs in a row after which the user (or SO) PIN is locked
 *  (CKR_PIN_LOCKED); counted in the image across restarts. */
#define LWSS_P11_PIN_MAX_TRIES 10
#endif

#ifndef LWSS_P11_PIN_HASH_ITERATIONS
/** PBKDF2-HMAC-SHA256 rounds of a stored PIN hash.  Not recorded in the
 *  image: a PIN set by a build with another value no longer matches. */
#define LWSS_P11_PIN_HASH_ITERATIONS 1000
#endif

#ifndef LWSS_P11_KEY_CACHE_SLOTS
/** Parsed private keys kept for signing (the oldest goes first). */
#define LWSS_P11_KEY_CACHE_SLOTS 4
#endif

/* ---- NVM image (pal) -------------------------------------------------- */

#ifndef LWSS_NVM_DEFAULT_MAX_OBJECTS
/** Live objects an image may hold.  Runtime: $LWSS_NVM_MAX_OBJECTS. */
#define LWSS_NVM_DEFAULT_MAX_OBJECTS 64u
#endif

#ifndef LWSS_NVM_DEFAULT_LOCK_MS
/** Bound on waiting for another process's lock on the image, ms.
 *  Runtime: $LWSS_NVM_LOCK_MS. */
#define LWSS_NVM_DEFAULT_LOCK_MS 2000u
#endif

#ifndef LWSS_NVM_DEFAULT_SIZE
/** Size of a new image, bytes.  Runtime: $LWSS_NVM_SIZE, lwss_nvm_open(). */
#define LWSS_NVM_DEFAULT_SIZE (64u * 1024u)
#endif

#ifndef LWSS_NVM_DEFAULT_SECTOR
/** Sector (erase unit) of a new image, bytes.  Runtime: $LWSS_NVM_SECTOR, lwss_nvm_open(). */
#define LWSS_NVM_DEFAULT_SECTOR (4u * 1024u)
#endif

/* ---- Values the code relies on ---------------------------------------- */

#if LWSS_P11_MAX_SESSION_OBJECTS < 1 || LWSS_P11_MAX_SESSION_OBJECTS > 256
#error "LWSS_P11_MAX_SESSION_OBJECTS: 1..256 (session object handles carry an 8-bit index)"
#endif
#if LWSS_SOCKETS_MAX < 1 || LWSS_SOCKETS_MAX > 1000000
#error "LWSS_SOCKETS_MAX: 1..1000000"
#endif
#if LWSS_SOCK_WAIT_SLICE_MS < 1
#error "LWSS_SOCK_WAIT_SLICE_MS: at least 1 ms"
#endif
#if LWSS_TCP_SNDBUF_DEFAULT < 2920 || LWSS_TCP_SNDBUF_DEFAULT > 262144
#error "LWSS_TCP_SNDBUF_DEFAULT: LWSS_TCP_SNDBUF_MIN..LWSS_TCP_SNDBUF_MAX (2920..262144)"
#endif
#if LWSS_P11_PIN_MAX_TRIES < 1 || LWSS_P11_PIN_MAX_TRIES > 1000000
#error "LWSS_P11_PIN_MAX_TRIES: 1..1000000"
#endif
#if LWSS_P11_PIN_MIN < 1 || LWSS_P11_PIN_MIN > LWSS_P11_PIN_MAX
#error "LWSS_P11_PIN_MIN: 1..LWSS_P11_PIN_MAX"
#endif
#if LWSS_TLS_SESSION_CACHE_SIZE < 1 || LWSS_P11_KEY_CACHE_SLOTS < 1 || LWSS_P11_MAX_SESSIONS < 1
#error "LWSS_TLS_SESSION_CACHE_SIZE, LWSS_P11_KEY_CACHE_SLOTS, LWSS_P11_MAX_SESSIONS: at least 1"
#endif

#endif
