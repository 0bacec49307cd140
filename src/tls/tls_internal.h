/* Internal to src/tls/: the connection object and the helpers between files. */
#ifndef LWSS_TLS_INTERNAL_H
#define LWSS_TLS_INTERNAL_H

#include "src/tls/tls_seam.h"
#include "iot_secure_sockets.h" /* the SOCKETS_* codes the seam returns */
#include "lwss/pkcs11_std.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

/* Kernel-socket transport (tls_io.c, test builds only: LWSS_TEST_HOOKS):
 * tests run the same engine over a socketpair or kernel TCP with it. */
extern const lwss_tls_io lwss_tls_kernel_io;

/* Everything a connection owns; freed by tls_conn_free(). */
struct lwss_tls_conn {
    int fd;
    const lwss_tls_io *io;
    pthread_mutex_t lock;          /* guards ssl and the fields below */
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_x509_crt own_cert;
    mbedtls_pk_context own_key;
    char **alpn;                   /* NULL-terminated copy for mbedtls */
    uint32_t peer_ip;
    uint16_t peer_port;
    int no_resume;
    long (*date_in_past)(long day, long month, long year); /* lwss_tls_options' */
    int verify_ip;                 /* no host name: check an address against the SAN */
    uint32_t verify_ip_addr;       /* that address (network order) */
    unsigned char cache_key[32];   /* peer + trust fingerprint for the session cache */
    size_t write_committed;        /* plaintext bytes of a record built but not yet reported */
    uint64_t committed_hash;       /* fingerprint of those bytes: recognises the caller's retry */
    int committed_flushed;         /* that record has left (a Recv flushed it) */
    int peer_closed;               /* close_notify or EOF seen */
    int fatal;                     /* a fatal error happened: no more I/O */
    int write_shut;                /* close_notify sent */
    int read_shut;                 /* SHUT_RD: no more reads */
    int last_error;                /* last mbedtls error code (negative) */
    unsigned char *rx_batch;       /* ciphertext read ahead (LWSS_TLS_RX_BATCH); NULL when empty */
    size_t rx_off, rx_len;         /* unread bytes: rx_batch[rx_off .. rx_len) */
};

/* ---- tls_io.c: BIO over the transport ---- */
void lwss_tls_bio_attach(lwss_tls_conn *c);
/* Wait until the transport is ready after WANT_READ/WANT_WRITE (@p ret).
 * @p deadline_us: from lwss_tls_deadline() (monotonic us); 0 = forever. Returns 1 ready,
 * 0 timed out, -1 error. */
int lwss_tls_wait(const lwss_tls_conn *c, int ret, uint64_t deadline_us);
uint64_t lwss_tls_deadline(uint32_t timeout_ms);
/* Bytes read ahead from the transport and not yet given to mbedtls. */
size_t lwss_tls_batched(const lwss_tls_conn *c);
/* Drop the read-ahead buffer (connection freed). */
void lwss_tls_batch_free(lwss_tls_conn *c);

/* ---- tls_rng.c: one process-wide DRBG ---- */
int lwss_tls_rng(void *unused, unsigned char *out, size_t len);
int lwss_tls_rng_init(void);

/* ---- tls_errors.c ---- */
int32_t lwss_tls_record_error(lwss_tls_conn *c, int mbed_ret, int32_t code, const char *what);
int32_t lwss_tls_fail(int32_t code, int mbed_ret, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- tls_trust.c ---- */
/* Parse a trusted certificate option: PEM (with or without NUL, several
 * certificates) or DER. 0, or a negative mbedtls error. */
int lwss_tls_parse_certs(mbedtls_x509_crt *chain, const uint8_t *data, size_t len);
/* SAN iPAddress check for a leaf certificate (ip in network order). */
int lwss_tls_cert_has_ip(const mbedtls_x509_crt *crt, uint32_t ip);

/* ---- tls_token.c: credentials from the PKCS #11 token ---- */
typedef struct lwss_tls_token {
    CK_FUNCTION_LIST_PTR fl;
    CK_SESSION_HANDLE session;     /* CK_INVALID_HANDLE when none */
    int held;                      /* counted in the token's users (see tls_token.c) */
} lwss_tls_token;

int lwss_tls_token_open(lwss_tls_token *t);
void lwss_tls_token_close(lwss_tls_token *t);
/* Append every root certificate of the token to @p chain; returns how many. */
int lwss_tls_token_load_roots(lwss_tls_token *t, mbedtls_x509_crt *chain);
/* Device certificate + a pk context signing with C_Sign.  Returns 1 when
 * loaded, 0 when the token holds none, negative on error. */
int lwss_tls_token_load_client(lwss_tls_token *t, mbedtls_x509_crt *cert, mbedtls_pk_context *key);

/* ---- tls_pk.c: mbedtls pk contexts whose private operation is C_Sign ---- */
int lwss_tls_pk_setup(mbedtls_pk_context *pk, CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE session,
                      CK_OBJECT_HANDLE key, const mbedtls_pk_context *cert_pk);
/* Raw r||s (2 * @p n bytes) to a DER ECDSA-Sig-Value; *der_len set. */
int lwss_tls_ecdsa_raw_to_der(const unsigned char *raw, size_t n, unsigned char *der,
                              size_t der_size, size_t *der_len);
/* DER DigestInfo for @p md of @p hash; *out_len set. */
int lwss_tls_digest_info(mbedtls_md_type_t md, const unsigned char *hash, size_t hash_len,
                         unsigned char *out, size_t out_size, size_t *out_len);

/* ---- tls_cache.c: sessions for resumption ---- */
void lwss_tls_cache_apply(lwss_tls_conn *c);
void lwss_tls_cache_store(lwss_tls_conn *c);

/* ---- tls_keylog.c ---- */
void lwss_tls_keylog_attach(mbedtls_ssl_config *conf);
/* "CLIENT_RANDOM <64 hex> <96 hex>\n" into @p line (>= 200 bytes). */
size_t lwss_tls_keylog_format(char *line, size_t size, const unsigned char client_random[32],
                              const unsigned char master[48]);

/* ---- tls_conn.c ---- */
CK_FUNCTION_LIST_PTR lwss_tls_token_functions(void);
void lwss_tls_conn_free(lwss_tls_conn *c);

/* Suites offered (0-terminated) under the current legacy setting (the
 * benchmark's bare mbedtls client offers the same). */
const int *lwss_tls_suites(void);

#endif
