/* OpenSC pkcs11-tool against lwss-pkcs11.so and liblwss on the same image
 * (suite pkcs11_interop; the longer walk-through is tests/pkcs11/interop.sh). */
#include "tests/support/test_pkcs11.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char g_log[4096];

/* Run pkcs11-tool on the test image with the module of this build. */
static int tool(const char *args)
{
    char cmd[2048];
    char log[300];
    snprintf(log, sizeof(log), "%s/tool.log", lwss_p11t_dir());
    snprintf(cmd, sizeof(cmd),
#if defined(__SANITIZE_ADDRESS__)
             /* the module is built with ASan: its runtime must come first */
             "LD_PRELOAD=\"$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)\" "
             "ASAN_OPTIONS=detect_leaks=0:intercept_strcmp=0:replace_intrin=0:"
             "intercept_memcmp=0 "
#endif
             "LWSS_NVM='%s' pkcs11-tool --module '%s/lib/lwss-pkcs11.so' %s > '%s' 2>&1",
             lwss_p11t_image(), lwss_test_build_dir(), args, log);
    int status = system(cmd);
    FILE *f = fopen(log, "r");
    size_t n = f != NULL ? fread(g_log, 1, sizeof(g_log) - 1, f) : 0;
    g_log[n] = 0;
    if (f != NULL) {
        fclose(f);
    }
    return status;
}

START_TEST(tool_generates_token_signs)
{
    ck_assert_msg(tool("-M") == 0, "%s", g_log);
    ck_assert_msg(strstr(g_log, "ECDSA-KEY-PAIR-GEN") && strstr(g_log, "RSA-PKCS"), "%s", g_log);
    ck_assert_msg(tool("--login --pin 0000 --keypairgen --key-type EC:prime256v1 --id 0a "
                       "--label tool") == 0, "%s", g_log);
    /* the key made by pkcs11-tool, used in-process through liblwss */
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE priv[2];
    CK_OBJECT_HANDLE pub[2];
    ck_assert_uint_eq(lwss_p11t_find(s, "tool", CKO_PRIVATE_KEY, priv, 2), 1);
    ck_assert_uint_eq(lwss_p11t_find(s, "tool", CKO_PUBLIC_KEY, pub, 2), 1);
    uint8_t point[67];
    uint8_t id[4];
    CK_ATTRIBUTE a[] = {{CKA_EC_POINT, point, sizeof(point)}, {CKA_ID, id, sizeof(id)}};
    ck_assert_int_eq(C_GetAttributeValue(s, pub[0], a, 2), CKR_OK);
    ck_assert_uint_eq(a[1].ulValueLen, 1);
    ck_assert_uint_eq(id[0], 0x0a);
    uint8_t hash[32];
    uint8_t sig[64];
    CK_ULONG len = sizeof(sig);
    lwss_p11t_sha256("interop", 7, hash);
    CK_MECHANISM ecdsa = {CKM_ECDSA, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &ecdsa, priv[0]), CKR_OK);
    ck_assert_int_eq(C_Sign(s, hash, 32, sig, &len), CKR_OK);
    mbedtls_ecp_group grp;
    mbedtls_ecp_point q;
    mbedtls_mpi r, sv;
    mbedtls_ecp_group_init(&grp);
    mbedtls_ecp_point_init(&q);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&sv);
    ck_assert_int_eq(mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1), 0);
    ck_assert_int_eq(mbedtls_ecp_point_read_binary(&grp, &q, point + 2, 65), 0);
    ck_assert_int_eq(mbedtls_mpi_read_binary(&r, sig, 32), 0);
    ck_assert_int_eq(mbedtls_mpi_read_binary(&sv, sig + 32, 32), 0);
    ck_assert_int_eq(mbedtls_ecdsa_verify(&grp, hash, 32, &q, &r, &sv), 0);
    mbedtls_mpi_free(&r);
    mbedtls_mpi_free(&sv);
    mbedtls_ecp_point_free(&q);
    mbedtls_ecp_group_free(&grp);
}
END_TEST

START_TEST(cert_written_here_read_and_deleted_by_tool)
{
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    CK_SESSION_HANDLE s = lwss_p11t_session();
    const unsigned char id[] = {0x0b};
    CK_OBJECT_HANDLE h = 0;
    ck_assert_int_eq(lwss_pkcs11_import_cert(s, "here", id, 1,
                                             (const unsigned char *)lwss_p11t_ec_crt_pem,
                                             strlen(lwss_p11t_ec_crt_pem), &h),
                     CKR_OK);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK); /* release the image for the tool */
    char args[512];
    snprintf(args, sizeof(args), "--read-object --type cert --id 0b -o '%s/back.der'",
             lwss_p11t_dir());
    ck_assert_msg(tool(args) == 0, "%s", g_log);
    snprintf(args, sizeof(args), "%s/back.der", lwss_p11t_dir());
    size_t len = 0;
    uint8_t *back = lwss_p11t_read_file(args, &len);
    ck_assert_ptr_nonnull(back);
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    ck_assert_int_eq(mbedtls_x509_crt_parse(&crt, (const unsigned char *)lwss_p11t_ec_crt_pem,
                                            strlen(lwss_p11t_ec_crt_pem) + 1), 0);
    ck_assert_uint_eq(len, crt.raw.len);
    ck_assert_mem_eq(back, crt.raw.p, len);
    mbedtls_x509_crt_free(&crt);
    free(back);
    ck_assert_msg(tool("-O") == 0 && strstr(g_log, "label:      here"), "%s", g_log);
    ck_assert_msg(tool("--login --pin 0000 --delete-object --type cert --id 0b") == 0, "%s", g_log);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    s = lwss_p11t_session();
    CK_OBJECT_HANDLE f[2];
    ck_assert_uint_eq(lwss_p11t_find(s, "here", CK_UNAVAILABLE_INFORMATION, f, 2), 0);
}
END_TEST

Suite *pkcs11_interop_suite(void);

Suite *pkcs11_interop_suite(void)
{
    Suite *su = suite_create("pkcs11_interop");
    TCase *tc = tcase_create("pkcs11_tool");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, lwss_p11t_setup_uninit, lwss_p11t_teardown);
    tcase_add_test(tc, tool_generates_token_signs);
    tcase_add_test(tc, cert_written_here_read_and_deleted_by_tool);
    suite_add_tcase(su, tc);
    return su;
}
