/*
 * Rig suite "pkcs11_tls" (issue 15 items 7 and 9): a key pair generated in
 * the token - ECDSA P-384, RSA 2048 - authenticates the device in a mutual
 * TLS handshake with the rig's echo server, which requires a client
 * certificate issued by the rig CA ($(BUILD)/certs/ca.{crt,key}).  The
 * certificate for the generated key is made here: its public key read back
 * from the token (CKA_EC_POINT / CKA_MODULUS + CKA_PUBLIC_EXPONENT), signed
 * by the CA, stored as the device certificate.  A handshake only succeeds
 * when the token's C_Sign answers CertificateVerify with that private key.
 */
#include "tests/support/lwss_test.h"
#include "tests/support/tls_rig_util.h"
#include "tests/support/tls_test_util.h"
#include "lwss/pkcs11.h"
#include "lwss/pkcs11_std.h"

#include <mbedtls/ecp.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static const uint8_t p384_oid[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};

static void setup(void)
{
    lwss_leak_setup_fds();
    lwss_tr_stack_up();
    lwss_tr_provision(LWSS_TR_NO_CLIENT, 1); /* the rig CA as root, no device identity */
}

static void teardown(void)
{
    lwss_tr_stack_down();
    lwss_tr_unprovision();
    lwss_leak_teardown_fds();
}

/* The CA's signature nonce (the CA key is a test key: any source will do). */
static int test_rng(void *ctx, unsigned char *out, size_t len)
{
    (void)ctx;
    return getrandom(out, len, 0) == (ssize_t)len ? 0 : -1;
}

/* One attribute of @p h into @p buf; returns its length. */
static size_t get_attr(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t,
                       uint8_t *buf, size_t size)
{
    CK_ATTRIBUTE a = {t, buf, size};
    ck_assert_int_eq(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    return a.ulValueLen;
}

/* The public half of token key @p pub as an mbedtls key. */
static void public_key(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub, int rsa, mbedtls_pk_context *pk)
{
    uint8_t a[600], b[16];
    mbedtls_pk_init(pk);
    ck_assert_int_eq(mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(rsa ? MBEDTLS_PK_RSA
                                                                         : MBEDTLS_PK_ECKEY)),
                     0);
    if (rsa) {
        size_t n = get_attr(s, pub, CKA_MODULUS, a, sizeof(a));
        size_t e = get_attr(s, pub, CKA_PUBLIC_EXPONENT, b, sizeof(b));
        ck_assert_int_eq(mbedtls_rsa_import_raw(mbedtls_pk_rsa(*pk), a, n, NULL, 0, NULL, 0, NULL,
                                                0, b, e),
                         0);
        ck_assert_int_eq(mbedtls_rsa_complete(mbedtls_pk_rsa(*pk)), 0);
        return;
    }
    size_t n = get_attr(s, pub, CKA_EC_POINT, a, sizeof(a));
    ck_assert(n == 2 + 97 && a[0] == 0x04 && a[1] == 97); /* DER OCTET STRING, P-384 point */
    mbedtls_ecp_keypair *ec = mbedtls_pk_ec(*pk);
    ck_assert_int_eq(mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP384R1), 0);
    ck_assert_int_eq(mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, a + 2, n - 2), 0);
}

/* DER certificate for @p subject_key, issued by the rig CA. */
static size_t issue_cert(mbedtls_pk_context *subject_key, uint8_t *der, size_t size)
{
    char path[512];
    mbedtls_pk_context ca_key;
    mbedtls_x509_crt ca;
    mbedtls_x509write_cert w;
    mbedtls_mpi serial;
    mbedtls_pk_init(&ca_key);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&serial);
    ck_assert_int_eq(mbedtls_pk_parse_keyfile(&ca_key, lwss_tt_cert_path("ca.key", path,
                                                                           sizeof(path)),
                                              NULL),
                     0);
    ck_assert_int_eq(mbedtls_x509_crt_parse_file(&ca, lwss_tt_cert_path("ca.crt", path,
                                                                         sizeof(path))),
                     0);
    char issuer[256];
    ck_assert_int_gt(mbedtls_x509_dn_gets(issuer, sizeof(issuer), &ca.subject), 0);
    ck_assert_int_eq(mbedtls_mpi_lset(&serial, 4242), 0);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, subject_key);
    mbedtls_x509write_crt_set_issuer_key(&w, &ca_key);
    ck_assert_int_eq(mbedtls_x509write_crt_set_serial(&w, &serial), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_validity(&w, "20240101000000", "20991231235959"), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_issuer_name(&w, issuer), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_subject_name(&w, "O=lwss test,CN=token keygen"), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1), 0);
    int n = mbedtls_x509write_crt_der(&w, der, size, test_rng, NULL);
    ck_assert_int_gt(n, 0);
    memmove(der, der + size - (size_t)n, (size_t)n); /* mbedtls writes at the end */
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&w);
    mbedtls_x509_crt_free(&ca);
    mbedtls_pk_free(&ca_key);
    return (size_t)n;
}

/* Generate the device key pair in the token (@p rsa: RSA 2048, else P-384),
 * give it a CA-issued certificate, and echo over mutual TLS with it. */
static void generated_key_mutual_tls(int rsa)
{
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s),
                     CKR_OK);
    const char *priv_label = pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS;
    const char *pub_label = pkcs11configLABEL_DEVICE_PUBLIC_KEY_FOR_TLS;
    CK_BBOOL yes = CK_TRUE;
    CK_ULONG bits = 2048;
    CK_MECHANISM gen = {rsa ? CKM_RSA_PKCS_KEY_PAIR_GEN : CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {{CKA_LABEL, (void *)pub_label, strlen(pub_label)},
                         {CKA_VERIFY, &yes, 1},
                         rsa ? (CK_ATTRIBUTE){CKA_MODULUS_BITS, &bits, sizeof(bits)}
                             : (CK_ATTRIBUTE){CKA_EC_PARAMS, (void *)p384_oid, sizeof(p384_oid)}};
    CK_ATTRIBUTE qt[] = {{CKA_LABEL, (void *)priv_label, strlen(priv_label)},
                         {CKA_SIGN, &yes, 1}};
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pt, 3, qt, 2, &pub, &priv), CKR_OK);
    mbedtls_pk_context pk;
    public_key(s, pub, rsa, &pk);
    static uint8_t der[4096];
    size_t der_len = issue_cert(&pk, der, sizeof(der));
    mbedtls_pk_free(&pk);
    CK_OBJECT_HANDLE cert = CK_INVALID_HANDLE;
    ck_assert_int_eq(lwss_pkcs11_import_cert(s, pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS, NULL,
                                             0, der, der_len, &cert),
                     CKR_OK);
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);

    long before = lwss_tr_echo_stat("tls_connections");
    Socket_t sock;
    ck_assert_int_eq(lwss_tr_connect_tls(&sock, lwss_tr_tls_port(), "echo.lwss.test"), 0);
    lwss_tr_echo(sock, 3000, 5);
    ck_assert_int_eq(SOCKETS_Close(sock), 0);
    long now = -1;
    uint64_t deadline = lwss_test_now_ms() + 5000;
    while ((now = lwss_tr_echo_stat("tls_connections")) < before + 1 &&
           lwss_test_now_ms() < deadline) {
        usleep(20000);
    }
    ck_assert_int_ge(now, before + 1);
}

/* Issue 15 item 7: "EC key generation and signing on P-384 ... usable for
 * TLS client auth". */
START_TEST(generated_p384_key_authenticates_mutual_tls)
{
    generated_key_mutual_tls(0);
}
END_TEST

/* Issue 15 item 9: "RSA keygen ... through a TLS handshake with the echo server". */
START_TEST(generated_rsa2048_key_authenticates_mutual_tls)
{
    generated_key_mutual_tls(1);
}
END_TEST

Suite *pkcs11_tls_suite(void);

Suite *pkcs11_tls_suite(void)
{
    Suite *su = suite_create("pkcs11_tls");
    TCase *tc = tcase_create("generated_keys");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, generated_p384_key_authenticates_mutual_tls);
    tcase_add_test(tc, generated_rsa2048_key_authenticates_mutual_tls);
    suite_add_tcase(su, tc);
    return su;
}
