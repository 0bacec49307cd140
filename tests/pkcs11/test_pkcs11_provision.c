/* lwss-provision, run as a separate process (suite pkcs11_provision). */
#include "tests/support/test_pkcs11.h"

#include <fcntl.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_csr.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_err[4096]; /* stderr of the last run */
static char g_out[8192]; /* stdout of the last run */

static void path_in_dir(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", lwss_p11t_dir(), name);
}

static const char *write_input(const char *name, const void *data, size_t len)
{
    static char paths[8][300];
    static int next;
    char *p = paths[next++ % 8];
    path_in_dir(p, 300, name);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
    return p;
}

static void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    size_t n = f != NULL ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = 0;
    if (f != NULL) {
        fclose(f);
    }
}

/* Run lwss-provision --image <test image> ARGS...; returns its exit status. */
static int run_cli(const char *first, ...)
{
    char tool[512];
    char err_path[300];
    char out_path[300];
    snprintf(tool, sizeof(tool), "%s/bin/lwss-provision", lwss_test_build_dir());
    path_in_dir(err_path, sizeof(err_path), "stderr.txt");
    path_in_dir(out_path, sizeof(out_path), "stdout.txt");
    const char *argv[32] = {tool, "--image", lwss_p11t_image()};
    int argc = 3;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a != NULL && argc < 31; a = va_arg(ap, const char *)) {
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(e, 2);
        dup2(o, 1);
        execv(tool, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    slurp(err_path, g_err, sizeof(g_err));
    slurp(out_path, g_out, sizeof(g_out));
    ck_assert_msg(WIFEXITED(status), "lwss-provision crashed (status %d): %s", status, g_err);
    return WEXITSTATUS(status);
}

static void expect_unchanged(const char *what, int rc, const char *message, const uint8_t *before,
                             size_t before_len)
{
    ck_assert_msg(rc == 1, "%s: exit %d, stderr: %s", what, rc, g_err);
    ck_assert_msg(strstr(g_err, message) != NULL, "%s: no '%s' in: %s", what, message, g_err);
    size_t after_len = 0;
    uint8_t *after = lwss_p11t_read_file(lwss_p11t_image(), &after_len);
    ck_assert_ptr_nonnull(after);
    ck_assert_msg(after_len == before_len && memcmp(after, before, before_len) == 0,
                  "%s: the image changed", what);
    free(after);
}

/* Open the image the CLI wrote and check the device key signs for the cert. */
static void check_device_credentials(const char *crt_pem, CK_MECHANISM_TYPE mech)
{
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE f[2];
    ck_assert_uint_eq(lwss_p11t_find(s, pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS,
                                     CKO_CERTIFICATE, f, 2), 1);
    ck_assert_uint_eq(lwss_p11t_find(s, pkcs11configLABEL_DEVICE_PUBLIC_KEY_FOR_TLS,
                                     CKO_PUBLIC_KEY, f, 2), 1);
    ck_assert_uint_eq(lwss_p11t_find(s, pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS,
                                     CKO_PRIVATE_KEY, f, 2), 1);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    ck_assert_int_eq(mbedtls_x509_crt_parse(&crt, (const unsigned char *)crt_pem,
                                            strlen(crt_pem) + 1), 0);
    uint8_t hash[32];
    uint8_t in[51];
    uint8_t sig[256];
    uint8_t der[300];
    lwss_p11t_sha256("provisioned", 11, hash);
    lwss_p11t_digest_info(hash, in);
    CK_MECHANISM m = {mech, NULL, 0};
    CK_ULONG sig_len = sizeof(sig);
    ck_assert_int_eq(C_SignInit(s, &m, f[0]), CKR_OK);
    ck_assert_int_eq(C_Sign(s, mech == CKM_ECDSA ? hash : in, mech == CKM_ECDSA ? 32 : 51, sig,
                            &sig_len), CKR_OK);
    const uint8_t *v = sig;
    size_t v_len = sig_len;
    if (mech == CKM_ECDSA) {
        v_len = lwss_p11t_ecdsa_raw_to_der(sig, der, sizeof(der));
        v = der;
    }
    ck_assert_int_eq(mbedtls_pk_verify(&crt.pk, MBEDTLS_MD_SHA256, hash, 32, v, v_len), 0);
    mbedtls_x509_crt_free(&crt);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
}

START_TEST(import_ec_everything)
{
    const char *crt = write_input("dev.crt", lwss_p11t_ec_crt_pem, strlen(lwss_p11t_ec_crt_pem));
    const char *key = write_input("dev.key", lwss_p11t_ec_key_pem, strlen(lwss_p11t_ec_key_pem));
    const char *root = write_input("root.crt", lwss_p11t_rsa_crt_pem,
                                   strlen(lwss_p11t_rsa_crt_pem));
    int rc = run_cli("import", "--cert", crt, "--key", key, "--root-ca", root, "--root-ca", crt,
                     "--jitp", crt, "--code-verify", key, NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, g_err);
    check_device_credentials(lwss_p11t_ec_crt_pem, CKM_ECDSA);
    ck_assert_int_eq(run_cli("show", NULL), 0);
    const char *want[] = {"7 object(s)", "\"Root Cert\"", "\"Root Cert 2\"", "\"JITP Cert\"",
                          "\"Code Verify Key\"", "\"Device Cert\"", "CN=lwss test ec"};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ck_assert_msg(strstr(g_out, want[i]) != NULL, "show lacks %s: %s", want[i], g_out);
    }
}
END_TEST

START_TEST(import_rsa_der)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    ck_assert_int_eq(mbedtls_x509_crt_parse(&crt, (const unsigned char *)lwss_p11t_rsa_crt_pem,
                                            strlen(lwss_p11t_rsa_crt_pem) + 1), 0);
    const char *der = write_input("dev.der", crt.raw.p, crt.raw.len);
    mbedtls_x509_crt_free(&crt);
    const char *key = write_input("dev.key", lwss_p11t_rsa_key_pem,
                                  strlen(lwss_p11t_rsa_key_pem));
    int rc = run_cli("import", "--cert", der, "--key", key, NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, g_err);
    check_device_credentials(lwss_p11t_rsa_crt_pem, CKM_RSA_PKCS);
}
END_TEST

START_TEST(import_ec_der_key)
{
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_ec_key_pem, &pk);
    uint8_t der[200];
    int n = mbedtls_pk_write_key_der(&pk, der, sizeof(der));
    ck_assert_int_gt(n, 0);
    mbedtls_pk_free(&pk);
    const char *key = write_input("dev.der", der + sizeof(der) - n, (size_t)n);
    const char *crt = write_input("dev.crt", lwss_p11t_ec_crt_pem, strlen(lwss_p11t_ec_crt_pem));
    int rc = run_cli("import", "--cert", crt, "--key", key, NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, g_err);
    check_device_credentials(lwss_p11t_ec_crt_pem, CKM_ECDSA);
}
END_TEST

START_TEST(bad_input_leaves_image)
{
    const char *crt = write_input("dev.crt", lwss_p11t_ec_crt_pem, strlen(lwss_p11t_ec_crt_pem));
    const char *key = write_input("dev.key", lwss_p11t_ec_key_pem, strlen(lwss_p11t_ec_key_pem));
    ck_assert_int_eq(run_cli("import", "--cert", crt, "--key", key, NULL), 0);
    size_t before_len = 0;
    uint8_t *before = lwss_p11t_read_file(lwss_p11t_image(), &before_len);
    ck_assert_ptr_nonnull(before);
    const char *junk = write_input("junk.pem", "-----BEGIN CERTIFICATE-----\nnot base64!\n"
                                   "-----END CERTIFICATE-----\n", 65);
    const char *rsa = write_input("rsa.key", lwss_p11t_rsa_key_pem, strlen(lwss_p11t_rsa_key_pem));
    char p521_pem[1024];
    lwss_p11t_p521_pem(p521_pem, sizeof(p521_pem));
    const char *p521 = write_input("p521.key", p521_pem, strlen(p521_pem));
    const char *r1024 = write_input("r1024.key", lwss_p11t_rsa1024_key_pem,
                                    strlen(lwss_p11t_rsa1024_key_pem));
    expect_unchanged("wrong PEM", run_cli("import", "--cert", junk, "--key", key, NULL),
                     "not a PEM or DER X.509 certificate", before, before_len);
    expect_unchanged("key not matching", run_cli("import", "--cert", crt, "--key", rsa, NULL),
                     "does not match", before, before_len);
    expect_unchanged("curve", run_cli("import", "--root-ca", crt, "--code-verify", p521, NULL),
                     "unsupported curve", before, before_len);
    expect_unchanged("rsa size", run_cli("import", "--code-verify", r1024, NULL),
                     "1024 bits", before, before_len);
    expect_unchanged("missing file", run_cli("import", "--root-ca", "/nonexistent/x.pem", NULL),
                     "No such file", before, before_len);
    expect_unchanged("key as cert", run_cli("import", "--jitp", key, NULL),
                     "not a PEM or DER X.509 certificate", before, before_len);
    expect_unchanged("cert without key", run_cli("import", "--cert", crt, NULL),
                     "go together", before, before_len);
    expect_unchanged("nothing", run_cli("import", NULL), "nothing to import", before, before_len);
    ck_assert_int_eq(run_cli("frobnicate", NULL), 2);
    free(before);
}
END_TEST

START_TEST(generate_csr_signed_by_token)
{
    char csr_path[300];
    path_in_dir(csr_path, sizeof(csr_path), "dev.csr");
    int rc = run_cli("generate", "--csr", csr_path, "--subject", "CN=device-7,O=lwss", NULL);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, g_err);
    mbedtls_x509_csr csr;
    mbedtls_x509_csr_init(&csr);
    ck_assert_int_eq(mbedtls_x509_csr_parse_file(&csr, csr_path), 0);
    char dn[128];
    ck_assert_int_gt(mbedtls_x509_dn_gets(dn, sizeof(dn), &csr.subject), 0);
    ck_assert_str_eq(dn, "CN=device-7, O=lwss");
    uint8_t hash[32];
    lwss_p11t_sha256(csr.cri.p, csr.cri.len, hash);
    ck_assert_int_eq(mbedtls_pk_verify(&csr.pk, MBEDTLS_MD_SHA256, hash, 32, csr.sig.p,
                                       csr.sig.len), 0);
    /* the CSR's key is the token's key */
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE f[2];
    ck_assert_uint_eq(lwss_p11t_find(s, pkcs11configLABEL_DEVICE_PUBLIC_KEY_FOR_TLS,
                                     CKO_PUBLIC_KEY, f, 2), 1);
    uint8_t spki[200];
    uint8_t want[200];
    CK_ATTRIBUTE a = {CKA_PUBLIC_KEY_INFO, spki, sizeof(spki)};
    ck_assert_int_eq(C_GetAttributeValue(s, f[0], &a, 1), CKR_OK);
    int n = mbedtls_pk_write_pubkey_der(&csr.pk, want, sizeof(want));
    ck_assert_int_eq(n, (int)a.ulValueLen);
    ck_assert_mem_eq(spki, want + sizeof(want) - (size_t)n, (size_t)n);
    mbedtls_x509_csr_free(&csr);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    ck_assert_int_eq(run_cli("generate", NULL), 1);
}
END_TEST

START_TEST(pin_protects_image)
{
    const char *crt = write_input("dev.crt", lwss_p11t_ec_crt_pem, strlen(lwss_p11t_ec_crt_pem));
    const char *key = write_input("dev.key", lwss_p11t_ec_key_pem, strlen(lwss_p11t_ec_key_pem));
    ck_assert_int_eq(run_cli("import", "--cert", crt, "--key", key, NULL), 0);
    ck_assert_int_eq(run_cli("set-pin", "--new-pin", "12", NULL), 3);
    ck_assert_int_eq(run_cli("set-pin", "--new-pin", "4321abcd", NULL), 0);
    /* private objects need the PIN now: without it the import cannot replace the key */
    ck_assert_int_eq(run_cli("import", "--cert", crt, "--key", key, NULL), 3);
    ck_assert_msg(strstr(g_err, "nothing was changed") != NULL, "%s", g_err);
    ck_assert_int_eq(run_cli("--pin", "0000", "show", NULL), 3);
    ck_assert_int_eq(run_cli("--pin", "4321abcd", "import", "--cert", crt, "--key", key, NULL), 0);
    ck_assert_int_eq(run_cli("--pin", "4321abcd", "show", NULL), 0);
    ck_assert_msg(strstr(g_out, "Device Priv TLS Key") != NULL, "%s", g_out);
}
END_TEST

/* A failure half-way (the store refuses the second object) changes nothing:
 * the CLI writes in one NVM transaction, aborted on failure (issue 14); the
 * image's objects are exactly what they were. */
START_TEST(failure_half_way_leaves_image)
{
    const char *crt = write_input("dev.crt", lwss_p11t_ec_crt_pem, strlen(lwss_p11t_ec_crt_pem));
    const char *key = write_input("dev.key", lwss_p11t_ec_key_pem, strlen(lwss_p11t_ec_key_pem));
    ck_assert_int_eq(run_cli("import", "--root-ca", crt, NULL), 0);
    ck_assert_int_eq(run_cli("show", NULL), 0);
    char *before = strdup(g_out);
    ck_assert_ptr_nonnull(before);
    setenv("LWSS_NVM_MAX_OBJECTS", "2", 1); /* room for the private key only */
    int rc = run_cli("import", "--cert", crt, "--key", key, NULL);
    unsetenv("LWSS_NVM_MAX_OBJECTS");
    ck_assert_msg(rc == 3, "exit %d: %s", rc, g_err);
    ck_assert_msg(strstr(g_err, "CKR_DEVICE_MEMORY") != NULL, "%s", g_err);
    ck_assert_msg(strstr(g_err, "nothing was changed") != NULL, "%s", g_err);
    ck_assert_int_eq(run_cli("show", NULL), 0);
    ck_assert_msg(strcmp(before, g_out) == 0, "before:\n%s\nafter:\n%s", before, g_out);
    free(before);
    ck_assert_msg(strstr(g_out, "1 object(s)") != NULL, "%s", g_out);
}
END_TEST

Suite *pkcs11_provision_suite(void);

Suite *pkcs11_provision_suite(void)
{
    Suite *su = suite_create("pkcs11_provision");
    TCase *tc = tcase_create("provision");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, lwss_p11t_setup_uninit, lwss_p11t_teardown);
    tcase_add_test(tc, import_ec_everything);
    tcase_add_test(tc, import_rsa_der);
    tcase_add_test(tc, import_ec_der_key);
    tcase_add_test(tc, bad_input_leaves_image);
    tcase_add_test(tc, generate_csr_signed_by_token);
    tcase_add_test(tc, pin_protects_image);
    tcase_add_test(tc, failure_half_way_leaves_image);
    suite_add_tcase(su, tc);
    return su;
}
