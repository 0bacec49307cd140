/**
 * @file tls.h
 * @brief Process-wide TLS controls of lwss (its knobs: lwss/config_defaults.h).
 *
 * Every TLS socket (SOCKETS_SO_REQUIRE_TLS) gets its own mbedtls context.
 * The LWSS_TLS_* knobs are in lwss/config_defaults.h: build-time values of
 * the library (`make CFLAGS=-DNAME=value`).  The calls below change
 * process-wide behaviour at run time.
 *
 * Trust: a socket's SOCKETS_SO_TRUSTED_SERVER_CERTIFICATE replaces the
 * default roots.  The default roots are the token's certificate objects
 * (CKO_CERTIFICATE) labelled LWSS_TLS_ROOT_CERT_LABEL ("Root Cert") or
 * carrying CKA_TRUSTED = CK_TRUE.  With neither, connect fails with
 * SOCKETS_TLS_SERVER_UNVERIFIED before anything is sent.
 *
 * Client authentication: the certificate labelled "Device Cert" and the
 * private key labelled "Device Priv TLS Key" (EC P-256 or RSA); the key
 * never leaves the token, signatures are made with C_Sign.
 *
 * Data path: Send and Recv may run at once from two threads; each mbedtls
 * call holds the socket's lock and waits for the network happen outside
 * it.  A timeout or SOCKETS_EWOULDBLOCK never ends the TLS session.  When
 * a send could only build its record, it reports would-block and the
 * retry with the same data completes it (as mbedtls itself requires).
 *
 * Shutdown: SOCKETS_SHUT_RD stops reads at the TLS level (Recv then returns
 * SOCKETS_ECLOSED); SOCKETS_SHUT_WR and SOCKETS_SHUT_RDWR send close_notify
 * (bounded by LWSS_TLS_CLOSE_NOTIFY_TIMEOUT_MS) before the TCP side is shut
 * down, after which Send returns SOCKETS_ECLOSED.  Close sends close_notify
 * (unless already sent) before the descriptor is closed.
 *
 * Resumption: the session of every completed handshake is kept (up to
 * LWSS_TLS_SESSION_CACHE_SIZE) under the peer ip:port, the name checked,
 * the trust anchors and the client certificate, and offered (ticket or
 * session ID) by the next connection with the same key.
 *
 * Keylog: when the environment variable LWSS_TLS_KEYLOG_ENV
 * ("SSLKEYLOGFILE") names a file, every handshake appends an NSS key log
 * line (CLIENT_RANDOM) to it, so that Wireshark / tshark can decrypt
 * captures.  Debugging only: the file holds session secrets.
 */
#ifndef LWSS_TLS_H
#define LWSS_TLS_H

#include "lwss/pkcs11_std.h"
#include "lwss/config_defaults.h"
#include "lwss/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Use another PKCS #11 module (e.g. one loaded with dlopen) for TLS
 * credentials instead of lwss's own token.  NULL restores the built-in
 * token.  Affects connections made afterwards.
 * @return 0 (always succeeds).
 */
LWSS_API int lwss_tls_set_token(CK_FUNCTION_LIST_PTR functions);

/**
 * Also offer the legacy suites (ECDHE with AES-CBC and SHA-1/SHA-256 MACs,
 * static RSA key exchange), SHA-1 signatures and more key-exchange groups
 * (secp521r1, brainpool, secp256k1 after x25519, secp256r1, secp384r1) to
 * servers that accept nothing better.  Off by default; affects connections
 * made afterwards.
 * @return the previous setting (0 or 1).
 */
LWSS_API int lwss_tls_allow_legacy_suites(int on);

/** Forget every cached session: the next connections do full handshakes. */
LWSS_API void lwss_tls_session_cache_clear(void);

/** Sessions currently cached for resumption. */
LWSS_API int lwss_tls_session_cache_count(void);

#ifdef __cplusplus
}
#endif

#endif /* LWSS_TLS_H */
