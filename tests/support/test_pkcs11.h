/*
 * Helpers shared by the PKCS #11 suites (tests/test_pkcs11_*.c): a fresh
 * NVM image per test, sessions, key import, finds, host-side crypto.
 */
#ifndef LWSS_TEST_PKCS11_H
#define LWSS_TEST_PKCS11_H

#include "lwss/pkcs11_std.h"
#include "lwss/pkcs11.h"
#include "lwss/nvm.h"
#include "tests/support/lwss_test.h"

#include <mbedtls/pk.h>
#include <stddef.h>
#include <stdint.h>

/** Test-only keys and certificates (PEM, NUL-terminated). */
extern const char lwss_p11t_rsa_key_pem[], lwss_p11t_rsa_crt_pem[];
/** @see lwss_p11t_rsa_key_pem */
extern const char lwss_p11t_ec_key_pem[], lwss_p11t_ec_crt_pem[];

/** A second RSA 2048 key, an RSA 1024 key and a P-384 key (unsupported ones). */
extern const char lwss_p11t_rsa2_key_pem[], lwss_p11t_rsa1024_key_pem[], lwss_p11t_ec384_key_pem[];

/** Checked fixture: temp dir + image path, C_Initialize, leak snapshot. */
void lwss_p11t_setup(void);
/** C_Finalize (if still initialized), temp dir removed, leak check. */
void lwss_p11t_teardown(void);
/** Same without C_Initialize (tests of initialisation itself). */
void lwss_p11t_setup_uninit(void);
/** Temp directory of this test, and the image path inside it. */
const char *lwss_p11t_dir(void);
/** @see lwss_p11t_dir */
const char *lwss_p11t_image(void);

/** A R/W session (asserts). */
CK_SESSION_HANDLE lwss_p11t_session(void);
/** Import a PEM key / cert (asserts CKR_OK). */
CK_OBJECT_HANDLE lwss_p11t_import_key(CK_SESSION_HANDLE s, const char *label, const char *pem,
                                      lwss_pkcs11_key_part part);
/** @see lwss_p11t_import_key */
CK_OBJECT_HANDLE lwss_p11t_import_cert(CK_SESSION_HANDLE s, const char *label, const char *pem);
/** Handles matching (label, class); class CK_UNAVAILABLE_INFORMATION: any.  Returns the count. */
size_t lwss_p11t_find(CK_SESSION_HANDLE s, const char *label, CK_OBJECT_CLASS cls,
                      CK_OBJECT_HANDLE *out, size_t max);
/** Parse a PEM key on the host (asserts). */
void lwss_p11t_parse_key(const char *pem, mbedtls_pk_context *pk);
/**
 * lwss_p11t_rsa_key_pem as a session key pair made from its components,
 * each half with the extra attributes given (usage flags: at most 11 / 8).
 */
void lwss_p11t_rsa_session_pair(CK_SESSION_HANDLE s, const CK_ATTRIBUTE *pub_extra, size_t np,
                                const CK_ATTRIBUTE *priv_extra, size_t nq, CK_OBJECT_HANDLE *pub,
                                CK_OBJECT_HANDLE *priv);
/** A fresh P-521 private key as PEM (a curve the token does not support). */
void lwss_p11t_p521_pem(char *out, size_t size);
/** mbedtls RNG for host-side operations. */
int lwss_p11t_rng(void *ctx, unsigned char *out, size_t len);
/** SHA-256 of @p data. */
void lwss_p11t_sha256(const void *data, size_t len, uint8_t out[32]);
/** DigestInfo (SHA-256) for CKM_RSA_PKCS: 51 bytes. */
void lwss_p11t_digest_info(const uint8_t hash[32], uint8_t out[51]);
/** Convert a raw r||s ECDSA signature to DER (for mbedtls_pk_verify). */
size_t lwss_p11t_ecdsa_raw_to_der(const uint8_t raw[64], uint8_t *der, size_t der_max);
/** Size of a file, or -1. */
long lwss_p11t_file_size(const char *path);
/** Read a whole file (malloc'd, caller frees); NULL when missing. */
uint8_t *lwss_p11t_read_file(const char *path, size_t *len);

/* ---- openssl command line beside the token (suites *_openssl*) ---- */
/** Write @p len bytes to file @p name in lwss_p11t_dir() (asserts). */
void lwss_p11t_put(const char *name, const void *data, size_t len);
/** Read file @p name of lwss_p11t_dir(); malloc'd, *len its size (asserts). */
uint8_t *lwss_p11t_get(const char *name, size_t *len);
/** Run `openssl ARGS` in lwss_p11t_dir() (stdout dropped, stderr to
 *  openssl.err there); its system() status. */
int lwss_p11t_openssl_status(const char *args);
/** The same, and it must succeed (asserts). */
void lwss_p11t_openssl(const char *args);
/** Lower-case hex of @p len bytes into @p out (2 * len + 1 bytes). */
void lwss_p11t_hex(const uint8_t *p, size_t len, char *out);

/** The login / PIN policy test case (in test_pkcs11_login.c). */
TCase *lwss_p11t_login_tcase(void);

#endif
