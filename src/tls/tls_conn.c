/*
 * Connection setup: per-socket mbedtls config + context, trust, client
 * identity from the token, the bounded handshake, and teardown.
 */
#include "src/tls/tls_internal.h"
#include "lwss/tls.h"
#include "src/core/core.h"
#include "lwss/status.h"

#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>

#include <arpa/inet.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_int legacy_suites;

/* TLS 1.2, forward secrecy and AEAD only. */
static const int modern_suites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};

/* The modern ones first, then CBC / SHA-1 / static RSA for old servers. */
static const int legacy_suites_list[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
    MBEDTLS_TLS_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_RSA_WITH_AES_128_CBC_SHA256,
    MBEDTLS_TLS_RSA_WITH_AES_128_CBC_SHA,
    0,
};

/* Signature hashes we accept and offer: no SHA-1 (or MD5). */
static const int modern_hashes[] = {MBEDTLS_MD_SHA512, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA256,
                                    MBEDTLS_MD_NONE};
static const int legacy_hashes[] = {MBEDTLS_MD_SHA512, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA256,
                                    MBEDTLS_MD_SHA1, MBEDTLS_MD_NONE};

/* Key-exchange groups offered in the ClientHello, in preference order:
 * only strong ones; the rest of what mbedtls has only with legacy on. */
static const mbedtls_ecp_group_id strong_groups[] = {
    MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_NONE,
};
static const mbedtls_ecp_group_id legacy_groups[] = {
    MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1, MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_SECP521R1,  MBEDTLS_ECP_DP_BP256R1,   MBEDTLS_ECP_DP_BP384R1,
    MBEDTLS_ECP_DP_BP512R1,    MBEDTLS_ECP_DP_SECP256K1, MBEDTLS_ECP_DP_NONE,
};

int lwss_tls_allow_legacy_suites(int on)
{
    return atomic_exchange(&legacy_suites, on ? 1 : 0);
}

const int *lwss_tls_suites(void)
{
    return atomic_load(&legacy_suites) ? legacy_suites_list : modern_suites;
}

static void conn_free(lwss_tls_conn *c)
{
    if (c == NULL) {
        return;
    }
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
    lwss_tls_batch_free(c);
    mbedtls_pk_free(&c->own_key);
    mbedtls_x509_crt_free(&c->own_cert);
    mbedtls_x509_crt_free(&c->ca);
    if (c->alpn != NULL) {
        for (char **p = c->alpn; *p != NULL; p++) {
            free(*p);
        }
        free(c->alpn);
    }
    pthread_mutex_destroy(&c->lock);
    mbedtls_platform_zeroize(c, sizeof(*c));
    free(c);
}

static lwss_tls_conn *conn_new(int fd, const lwss_tls_io *io, const lwss_tls_options *opts,
                               uint32_t peer_ip, uint16_t peer_port)
{
    lwss_tls_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return NULL;
    }
    c->fd = fd;
    c->io = io;
    c->peer_ip = peer_ip;
    c->peer_port = peer_port;
    c->no_resume = opts->no_resume;
    c->date_in_past = opts->date_in_past;
    pthread_mutex_init(&c->lock, NULL);
    mbedtls_ssl_init(&c->ssl);
    mbedtls_ssl_config_init(&c->conf);
    mbedtls_x509_crt_init(&c->ca);
    mbedtls_x509_crt_init(&c->own_cert);
    mbedtls_pk_init(&c->own_key);
    return c;
}

static int copy_alpn(lwss_tls_conn *c, const lwss_tls_options *opts)
{
    if (opts->alpn == NULL || opts->alpn_count == 0) {
        return 0;
    }
    c->alpn = calloc(opts->alpn_count + 1, sizeof(char *));
    if (c->alpn == NULL) {
        return MBEDTLS_ERR_SSL_ALLOC_FAILED;
    }
    for (size_t i = 0; i < opts->alpn_count && opts->alpn[i] != NULL; i++) {
        if ((c->alpn[i] = strdup(opts->alpn[i])) == NULL) {
            return MBEDTLS_ERR_SSL_ALLOC_FAILED;
        }
    }
    return mbedtls_ssl_conf_alpn_protocols(&c->conf, (const char **)c->alpn);
}

/* Without a host name to check, the peer address (or the address given as
 * the name) must be in the certificate's iPAddress SAN: never an unchecked
 * identity. */
static int verify_peer_ip(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    const lwss_tls_conn *c = ctx;
    if (depth == 0 && c->verify_ip && !lwss_tls_cert_has_ip(crt, c->verify_ip_addr)) {
        *flags |= MBEDTLS_X509_BADCERT_CN_MISMATCH;
    }
    if (c->date_in_past != NULL &&
        c->date_in_past(crt->valid_to.day, crt->valid_to.mon, crt->valid_to.year) != 0) {
        *flags |= MBEDTLS_X509_BADCERT_EXPIRED;
    }
    return 0;
}

/* Session cache key: peer, the name checked, the trust anchors and the
 * client identity (a session must not skip a different verification). */
static void make_cache_key(lwss_tls_conn *c, const char *sni)
{
    mbedtls_sha256_context h;
    mbedtls_sha256_init(&h);
    mbedtls_sha256_starts_ret(&h, 0);
    mbedtls_sha256_update_ret(&h, (const unsigned char *)&c->peer_ip, sizeof(c->peer_ip));
    mbedtls_sha256_update_ret(&h, (const unsigned char *)&c->peer_port, sizeof(c->peer_port));
    if (sni != NULL) {
        mbedtls_sha256_update_ret(&h, (const unsigned char *)sni, strlen(sni) + 1);
    }
    for (const mbedtls_x509_crt *p = &c->ca; p != NULL && p->raw.p != NULL; p = p->next) {
        mbedtls_sha256_update_ret(&h, p->raw.p, p->raw.len);
    }
    if (c->own_cert.raw.p != NULL) {
        mbedtls_sha256_update_ret(&h, c->own_cert.raw.p, c->own_cert.raw.len);
    }
    mbedtls_sha256_finish_ret(&h, c->cache_key);
    mbedtls_sha256_free(&h);
}

/* Trust anchors and client identity.  Returns a SOCKETS code. */
static int32_t load_credentials(lwss_tls_conn *c, const lwss_tls_options *opts,
                                lwss_tls_token *tok)
{
    int ret;
    int token_up = lwss_tls_token_open(tok) == 0;
    if (opts->trusted_cert != NULL) {
        ret = lwss_tls_parse_certs(&c->ca, opts->trusted_cert, opts->trusted_cert_len);
        if (ret != 0) {
            return lwss_tls_record_error(c, ret, SOCKETS_TLS_INIT_ERROR,
                                         "parsing the trusted server certificate");
        }
    } else if (!token_up || lwss_tls_token_load_roots(tok, &c->ca) == 0) {
        lwss_set_error(LWSS_ERR_IO, "TLS: no trusted server certificate set and no root "
                                    "certificate (\"%s\") in the token", LWSS_TLS_ROOT_CERT_LABEL);
        return SOCKETS_TLS_SERVER_UNVERIFIED;
    }
    if (token_up) {
        ret = lwss_tls_token_load_client(tok, &c->own_cert, &c->own_key);
        if (ret < 0) {
            return lwss_tls_record_error(c, ret, SOCKETS_TLS_INIT_ERROR,
                                         "loading the client certificate and key from the token");
        }
        if (ret == 1 && (ret = mbedtls_ssl_conf_own_cert(&c->conf, &c->own_cert, &c->own_key)) != 0) {
            return lwss_tls_record_error(c, ret, SOCKETS_TLS_INIT_ERROR, "client identity");
        }
    }
    return SOCKETS_ERROR_NONE;
}

static int32_t configure(lwss_tls_conn *c, const lwss_tls_options *opts)
{
    int ret = mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
    if (ret == 0) {
        int legacy = atomic_load(&legacy_suites);
        mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                     MBEDTLS_SSL_MINOR_VERSION_3);
        mbedtls_ssl_conf_max_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
                                     MBEDTLS_SSL_MINOR_VERSION_3);
        mbedtls_ssl_conf_ciphersuites(&c->conf, legacy ? legacy_suites_list : modern_suites);
        mbedtls_ssl_conf_sig_hashes(&c->conf, legacy ? legacy_hashes : modern_hashes);
        mbedtls_ssl_conf_curves(&c->conf, legacy ? legacy_groups : strong_groups);
        mbedtls_ssl_conf_authmode(&c->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_rng(&c->conf, lwss_tls_rng, NULL);
        mbedtls_ssl_conf_session_tickets(&c->conf, MBEDTLS_SSL_SESSION_TICKETS_ENABLED);
        mbedtls_ssl_conf_renegotiation(&c->conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
        lwss_tls_keylog_attach(&c->conf);
        ret = copy_alpn(c, opts);
    }
    if (ret != 0) {
        return lwss_tls_record_error(c, ret, ret == MBEDTLS_ERR_SSL_ALLOC_FAILED
                                     ? SOCKETS_ENOMEM : SOCKETS_TLS_INIT_ERROR, "configuration");
    }
    return SOCKETS_ERROR_NONE;
}

static int32_t setup_context(lwss_tls_conn *c, const lwss_tls_options *opts)
{
    /* An address given as the name is checked against the iPAddress SAN,
     * and not sent as SNI (RFC 6066 allows host names only). */
    struct in_addr literal;
    int sni_is_ip = opts->sni != NULL && inet_pton(AF_INET, opts->sni, &literal) == 1;
    c->verify_ip = opts->sni == NULL || sni_is_ip;
    c->verify_ip_addr = sni_is_ip ? literal.s_addr : c->peer_ip;
    mbedtls_ssl_conf_ca_chain(&c->conf, &c->ca, NULL);
    int ret = mbedtls_ssl_setup(&c->ssl, &c->conf);
    if (ret == 0 && opts->sni != NULL && !sni_is_ip) {
        ret = mbedtls_ssl_set_hostname(&c->ssl, opts->sni);
    }
    if (ret != 0) {
        return lwss_tls_record_error(c, ret, ret == MBEDTLS_ERR_SSL_ALLOC_FAILED
                                     ? SOCKETS_ENOMEM : SOCKETS_TLS_INIT_ERROR, "setup");
    }
    mbedtls_ssl_set_verify(&c->ssl, verify_peer_ip, c);
    lwss_tls_bio_attach(c);
    make_cache_key(c, opts->sni);
    lwss_tls_cache_apply(c);
    return SOCKETS_ERROR_NONE;
}

static int32_t handshake(lwss_tls_conn *c, uint32_t timeout_ms)
{
    uint64_t deadline = lwss_tls_deadline(timeout_ms != 0 ? timeout_ms
                                                          : LWSS_TLS_HANDSHAKE_TIMEOUT_MS);
    int ret;
    while ((ret = mbedtls_ssl_handshake(&c->ssl)) != 0) {
        if (ret != MBEDTLS_ERR_SSL_WANT_READ && ret != MBEDTLS_ERR_SSL_WANT_WRITE) {
            break;
        }
        if (ret == MBEDTLS_ERR_SSL_WANT_READ && lwss_tls_batched(c) > 0) {
            continue; /* the next step reads what is already here */
        }
        int w = lwss_tls_wait(c, ret, deadline);
        if (w <= 0) {
            c->last_error = MBEDTLS_ERR_SSL_TIMEOUT;
            lwss_set_error(LWSS_ERR_TIMEOUT, "TLS handshake %s",
                           w == 0 ? "timed out" : "failed waiting on the socket");
            return SOCKETS_TLS_HANDSHAKE_ERROR;
        }
    }
    if (ret == 0) {
        return SOCKETS_ERROR_NONE;
    }
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        char why[256];
        uint32_t flags = mbedtls_ssl_get_verify_result(&c->ssl);
        mbedtls_x509_crt_verify_info(why, sizeof(why), "", flags);
        c->last_error = ret;
        lwss_set_error(LWSS_ERR_IO, "TLS: server certificate not verified: %s", why);
        return SOCKETS_TLS_SERVER_UNVERIFIED;
    }
    return lwss_tls_record_error(c, ret, ret == MBEDTLS_ERR_SSL_ALLOC_FAILED
                                 ? SOCKETS_ENOMEM : SOCKETS_TLS_HANDSHAKE_ERROR, "handshake");
}

int32_t lwss_tls_connect(lwss_tls_conn **out, int fd, const lwss_tls_io *io,
                         const lwss_tls_options *opts, uint32_t timeout_ms, uint32_t peer_ip,
                         uint16_t peer_port)
{
    static const lwss_tls_options no_opts;
    if (out == NULL || io == NULL || fd < 0) {
        return SOCKETS_TLS_INIT_ERROR;
    }
    *out = NULL;
    if (opts == NULL) {
        opts = &no_opts;
    }
    if (lwss_tls_rng_init() != 0) {
        return lwss_tls_fail(SOCKETS_TLS_INIT_ERROR, 0, "random generator could not be seeded");
    }
    lwss_tls_conn *c = conn_new(fd, io, opts, peer_ip, peer_port);
    if (c == NULL) {
        return SOCKETS_ENOMEM;
    }
    lwss_tls_token tok = {lwss_tls_token_functions(), CK_INVALID_HANDLE, 0};
    int32_t rc = configure(c, opts);
    if (rc == SOCKETS_ERROR_NONE) {
        rc = load_credentials(c, opts, &tok);
    }
    if (rc == SOCKETS_ERROR_NONE) {
        rc = setup_context(c, opts);
    }
    if (rc == SOCKETS_ERROR_NONE) {
        rc = handshake(c, timeout_ms);
    }
    /* Renegotiation is off: nothing signs after the handshake. */
    lwss_tls_token_close(&tok);
    if (rc != SOCKETS_ERROR_NONE) {
        conn_free(c);
        return rc;
    }
    lwss_tls_cache_store(c);
    *out = c;
    return SOCKETS_ERROR_NONE;
}

void lwss_tls_conn_free(lwss_tls_conn *c)
{
    conn_free(c);
}
