/* Helpers for the TLS rig suites: credentials provisioned into a fresh NVM
 * image through the real token, openssl s_server peers, rig files. */
#ifndef LWSS_TLS_RIG_UTIL_H
#define LWSS_TLS_RIG_UTIL_H

#include "iot_secure_sockets.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** Client identity to provision. */
typedef enum lwss_tr_identity {
    LWSS_TR_NO_CLIENT = 0,   /**< no device certificate / key */
    LWSS_TR_EC = 1,          /**< certs/client-ec.{crt,key} */
    LWSS_TR_RSA = 2,         /**< certs/client-rsa.{crt,key} */
    LWSS_TR_OTHER_CA = 3,    /**< certs/untrusted.{crt,key}: issued by another CA */
} lwss_tr_identity;

/**
 * Fresh NVM image in a temp directory with "Root Cert" = certs/ca.crt (when
 * @p with_root) and the device identity; the token stays initialised.
 * Fails the test on error.
 */
void lwss_tr_provision(lwss_tr_identity who, int with_root);
/** C_Finalize and remove the image. */
void lwss_tr_unprovision(void);

/** lwIP up + SOCKETS_Init; fails the test on error. */
void lwss_tr_stack_up(void);
/** lwIP down. */
void lwss_tr_stack_down(void);

/** Address of the rig peer (192.0.2.1) and @p port. */
SocketsSockaddr_t lwss_tr_peer(uint16_t port);

/** The TLS echo port (LWSS_ECHO_TLS_PORT) and plain echo port. */
uint16_t lwss_tr_tls_port(void);
uint16_t lwss_tr_plain_port(void);

/**
 * A TLS socket (REQUIRE_TLS, SNI @p sni unless NULL) connected to @p port.
 * @return SOCKETS_Connect's result; *out is the socket (closed on failure).
 */
int32_t lwss_tr_connect_tls(Socket_t *out, uint16_t port, const char *sni);

/** Send all of @p len and read the same bytes back; fails the test otherwise. */
void lwss_tr_echo(Socket_t s, size_t len, uint8_t seed);

/** An `openssl s_server` in the namespace. */
typedef struct lwss_tr_sserver {
    pid_t pid;
    int out_fd;          /**< its stdout+stderr */
    char log[16384];     /**< what it printed */
    size_t log_len;
} lwss_tr_sserver;

/**
 * Start `openssl s_server -accept 192.0.2.1:@p port -cert certs/@p cert
 * -key certs/@p key -tls1_2 -naccept 1 -rev` plus @p extra (NULL-terminated),
 * bounded to 30 s, and wait (5 s) until it accepts.  Fails the test otherwise.
 */
void lwss_tr_sserver_start(lwss_tr_sserver *s, uint16_t port, const char *cert, const char *key,
                           const char *const *extra);
/** Stop it and collect its output into s->log. */
void lwss_tr_sserver_stop(lwss_tr_sserver *s);

/**
 * Start a second lwss-echo-server (plain @p port, TLS @p tls_port, the rig
 * certificates) with --tls-any-client when @p any_client; waits until it
 * is ready (5 s).  Fails the test otherwise.  @return its pid.
 */
pid_t lwss_tr_echo_start(uint16_t port, uint16_t tls_port, int any_client);
/** Stop it (SIGTERM, bounded wait). */
void lwss_tr_echo_stop(pid_t pid);

/** Value of "key":N in the echo server's stats file, or -1. */
long lwss_tr_echo_stat(const char *key);

/** 1 when the file @p path contains @p needle (binary search). */
int lwss_tr_file_contains(const char *path, const void *needle, size_t len);

#endif
