/*
 * PKCS #11 v2.40 conformance where standard clients test it (issue 15):
 * one table row per rule, each naming the clause it checks (base
 * specification "v2.40 x.y" or the current mechanisms document "mech").
 * Every row but the public parts of private keys (which already worked)
 * failed on the token before issue 15.
 */
#include "tests/support/test_pkcs11.h"
#include "src/pkcs11/token.h" /* lwss_p11_sessobj_count */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/rsa.h>
#include <mbedtls/x509_crt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

static const uint8_t p256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
static const uint8_t hash32[32] = "0123456789abcdef0123456789abcdef";
static CK_BBOOL yes = CK_TRUE;
static CK_BBOOL no = CK_FALSE;

static CK_OBJECT_HANDLE ec_priv(CK_SESSION_HANDLE s)
{
    return lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem, LWSS_PKCS11_PRIVATE);
}

static CK_OBJECT_HANDLE rsa_priv(CK_SESSION_HANDLE s)
{
    return lwss_p11t_import_key(s, "rsa", lwss_p11t_rsa_key_pem, LWSS_PKCS11_PRIVATE);
}

/* A P-256 key pair made in the token; @p priv_extra / @p pub_extra are appended. */
static void gen_ec(CK_SESSION_HANDLE s, const char *label, CK_ATTRIBUTE *pub_extra, CK_ULONG np,
                   CK_ATTRIBUTE *priv_extra, CK_ULONG nq, CK_OBJECT_HANDLE *pub,
                   CK_OBJECT_HANDLE *priv)
{
    CK_MECHANISM m = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[8] = {{CKA_EC_PARAMS, (void *)p256, sizeof(p256)},
                          {CKA_LABEL, (void *)label, strlen(label)}};
    CK_ATTRIBUTE qt[8] = {{CKA_LABEL, (void *)label, strlen(label)}};
    ck_assert(np <= 6 && nq <= 7);
    for (CK_ULONG i = 0; i < np; i++) {
        pt[2 + i] = pub_extra[i];
    }
    for (CK_ULONG i = 0; i < nq; i++) {
        qt[1 + i] = priv_extra[i];
    }
    ck_assert_int_eq(C_GenerateKeyPair(s, &m, pt, 2 + np, qt, 1 + nq, pub, priv), CKR_OK);
}

static CK_BBOOL get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t)
{
    CK_BBOOL v = 0x55;
    CK_ATTRIBUTE a = {t, &v, sizeof(v)};
    ck_assert_int_eq(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    return v;
}

static CK_ULONG get_ulong(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE t)
{
    CK_ULONG v = 0x5555;
    CK_ATTRIBUTE a = {t, &v, sizeof(v)};
    ck_assert_int_eq(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    return v;
}

/* A failing *Update on single-part mechanism @p mech ends the operation:
 * the next *Init is accepted. */
static void update_ends(CK_SESSION_HANDLE s, CK_MECHANISM_TYPE mech, CK_OBJECT_HANDLE k, int sign)
{
    CK_MECHANISM m = {mech, NULL, 0};
    CK_RV (*init)(CK_SESSION_HANDLE, CK_MECHANISM_PTR, CK_OBJECT_HANDLE) =
        sign ? C_SignInit : C_VerifyInit;
    ck_assert_int_eq(init(s, &m, k), CKR_OK);
    CK_RV rv = sign ? C_SignUpdate(s, (CK_BYTE_PTR)hash32, 32)
                    : C_VerifyUpdate(s, (CK_BYTE_PTR)hash32, 32);
    ck_assert_int_ne(rv, CKR_OK);
    ck_assert_int_eq(init(s, &m, k), CKR_OK);
}

/* v2.40 5.12 C_SignUpdate: "A call to C_SignUpdate which results in an
 * error terminates the current signature operation" (CKM_ECDSA: single-part). */
static void row_sign_update_ends_ecdsa(CK_SESSION_HANDLE s)
{
    update_ends(s, CKM_ECDSA, ec_priv(s), 1);
}

/* v2.40 5.12 C_SignUpdate, CKM_RSA_PKCS (single-part). */
static void row_sign_update_ends_rsa(CK_SESSION_HANDLE s)
{
    update_ends(s, CKM_RSA_PKCS, rsa_priv(s), 1);
}

/* v2.40 5.13 C_VerifyUpdate: an error terminates the verification operation. */
static void row_verify_update_ends(CK_SESSION_HANDLE s)
{
    update_ends(s, CKM_ECDSA,
                lwss_p11t_import_key(s, "p", lwss_p11t_ec_key_pem, LWSS_PKCS11_PUBLIC), 0);
}

/* v2.40 5.12 C_SignFinal: "always terminates the active signing operation
 * unless it returns CKR_BUFFER_TOO_SMALL or is a successful call to
 * determine the length". */
static void row_sign_final_ends(CK_SESSION_HANDLE s)
{
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    CK_OBJECT_HANDLE k = ec_priv(s);
    uint8_t sig[64];
    CK_ULONG len = sizeof(sig);
    ck_assert_int_eq(C_SignInit(s, &m, k), CKR_OK);
    ck_assert_int_ne(C_SignFinal(s, sig, &len), CKR_OK);
    ck_assert_int_eq(C_SignInit(s, &m, k), CKR_OK);
}

/* v2.40 5.13 C_VerifyFinal: always terminates the verification operation. */
static void row_verify_final_ends(CK_SESSION_HANDLE s)
{
    CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
    CK_OBJECT_HANDLE k = lwss_p11t_import_key(s, "p", lwss_p11t_rsa_key_pem, LWSS_PKCS11_PUBLIC);
    uint8_t sig[256] = {0};
    ck_assert_int_eq(C_VerifyInit(s, &m, k), CKR_OK);
    ck_assert_int_ne(C_VerifyFinal(s, sig, sizeof(sig)), CKR_OK);
    ck_assert_int_eq(C_VerifyInit(s, &m, k), CKR_OK);
}

static CK_OBJECT_HANDLE hmac_key(CK_SESSION_HANDLE s)
{
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_LABEL, "mac", 3}, {CKA_VALUE, (void *)hash32, 32}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_CreateObject(s, t, 4, &h), CKR_OK);
    return h;
}

/* v2.40 5.12 C_Sign: "cannot be used to terminate a multi-part operation"
 * (CKR_OPERATION_ACTIVE), and a C_Sign that fails ends the operation. */
static void row_sign_after_update(CK_SESSION_HANDLE s)
{
    CK_MECHANISM m = {CKM_SHA256_HMAC, NULL, 0};
    CK_OBJECT_HANDLE k = hmac_key(s);
    uint8_t mac[32];
    CK_ULONG len = sizeof(mac);
    ck_assert_int_eq(C_SignInit(s, &m, k), CKR_OK);
    ck_assert_int_eq(C_SignUpdate(s, (CK_BYTE_PTR) "ab", 2), CKR_OK);
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR) "ab", 2, mac, &len), CKR_OPERATION_ACTIVE);
    ck_assert_int_eq(C_SignFinal(s, mac, &len), CKR_OPERATION_NOT_INITIALIZED);
    ck_assert_int_eq(C_SignInit(s, &m, k), CKR_OK);
}

/* v2.40 5.10 C_Digest: "cannot be used to terminate a multi-part operation,
 * and must be called after C_DigestInit without intervening C_DigestUpdate". */
static void row_digest_after_update(CK_SESSION_HANDLE s)
{
    CK_MECHANISM m = {CKM_SHA256, NULL, 0};
    uint8_t out[32];
    CK_ULONG len = sizeof(out);
    ck_assert_int_eq(C_DigestInit(s, &m), CKR_OK);
    ck_assert_int_eq(C_DigestUpdate(s, (CK_BYTE_PTR) "ab", 2), CKR_OK);
    ck_assert_int_eq(C_Digest(s, (CK_BYTE_PTR) "ab", 2, out, &len), CKR_OPERATION_ACTIVE);
    ck_assert_int_eq(C_DigestInit(s, &m), CKR_OK); /* the failed C_Digest ended it */
}

/* v2.40 5.10: after a C_Digest length query the operation is single-part:
 * C_DigestFinal is CKR_OPERATION_ACTIVE (and ends it). */
static void row_digest_final_after_query(CK_SESSION_HANDLE s)
{
    CK_MECHANISM m = {CKM_SHA256, NULL, 0};
    uint8_t out[32];
    CK_ULONG len = 0;
    ck_assert_int_eq(C_DigestInit(s, &m), CKR_OK);
    ck_assert_int_eq(C_Digest(s, (CK_BYTE_PTR) "ab", 2, NULL, &len), CKR_OK);
    ck_assert_uint_eq(len, 32);
    ck_assert_int_eq(C_DigestFinal(s, out, &len), CKR_OPERATION_ACTIVE);
    ck_assert_int_eq(C_DigestInit(s, &m), CKR_OK);
}

static CK_OBJECT_HANDLE create_ec_priv(CK_SESSION_HANDLE s, CK_ATTRIBUTE *extra, CK_ULONG n,
                                       CK_RV want)
{
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_ec_key_pem, &pk);
    uint8_t d[32];
    ck_assert_int_eq(mbedtls_mpi_write_binary(&mbedtls_pk_ec(pk)->d, d, sizeof(d)), 0);
    mbedtls_pk_free(&pk);
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_EC;
    CK_ATTRIBUTE t[8] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                         {CKA_LABEL, "made", 4}, {CKA_EC_PARAMS, (void *)p256, sizeof(p256)},
                         {CKA_VALUE, d, sizeof(d)}};
    ck_assert(n <= 3);
    for (CK_ULONG i = 0; i < n; i++) {
        t[5 + i] = extra[i];
    }
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_CreateObject(s, t, 5 + n, &h), want);
    return h;
}

/* v2.40 4.9 CKA_SIGN and 5.12 C_SignInit: a key without CKA_SIGN gets
 * CKR_KEY_FUNCTION_NOT_PERMITTED; the attribute reads back as given. */
static void row_sign_false_enforced(CK_SESSION_HANDLE s)
{
    CK_ATTRIBUTE x[] = {{CKA_SIGN, &no, 1}};
    CK_OBJECT_HANDLE k = create_ec_priv(s, x, 1, CKR_OK);
    ck_assert_uint_eq(get_bool(s, k, CKA_SIGN), CK_FALSE);
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    ck_assert_int_eq(C_SignInit(s, &m, k), CKR_KEY_FUNCTION_NOT_PERMITTED);
    CK_OBJECT_HANDLE pub, priv;
    gen_ec(s, "g", NULL, 0, x, 1, &pub, &priv);
    ck_assert_uint_eq(get_bool(s, priv, CKA_SIGN), CK_FALSE);
    ck_assert_int_eq(C_SignInit(s, &m, priv), CKR_KEY_FUNCTION_NOT_PERMITTED);
}

/* v2.40 4.8 CKA_VERIFY and 5.13 C_VerifyInit; CKA_ENCRYPT / CKA_WRAP /
 * CKA_DERIVE stored as given. */
static void row_verify_false_enforced(CK_SESSION_HANDLE s)
{
    CK_ATTRIBUTE x[] = {{CKA_VERIFY, &no, 1}, {CKA_ENCRYPT, &yes, 1}, {CKA_WRAP, &yes, 1}};
    CK_OBJECT_HANDLE pub, priv;
    gen_ec(s, "g", x, 3, NULL, 0, &pub, &priv);
    ck_assert_uint_eq(get_bool(s, pub, CKA_VERIFY), CK_FALSE);
    ck_assert_uint_eq(get_bool(s, pub, CKA_ENCRYPT), CK_TRUE);
    ck_assert_uint_eq(get_bool(s, pub, CKA_WRAP), CK_TRUE);
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    ck_assert_int_eq(C_VerifyInit(s, &m, pub), CKR_KEY_FUNCTION_NOT_PERMITTED);
}

/* v2.40 4.4 (token objects persist) + 4.7 CKA_LOCAL / CKA_KEY_GEN_MECHANISM:
 * usage attributes survive C_Finalize / C_Initialize (the image). */
static void row_attributes_persist(CK_SESSION_HANDLE s)
{
    CK_ATTRIBUTE x[] = {{CKA_SIGN, &no, 1}, {CKA_DERIVE, &yes, 1}};
    CK_OBJECT_HANDLE pub, priv;
    gen_ec(s, "persist", NULL, 0, x, 2, &pub, &priv);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    s = lwss_p11t_session();
    CK_OBJECT_HANDLE f[2];
    ck_assert_uint_eq(lwss_p11t_find(s, "persist", CKO_PRIVATE_KEY, f, 2), 1);
    ck_assert_uint_eq(get_bool(s, f[0], CKA_SIGN), CK_FALSE);
    ck_assert_uint_eq(get_bool(s, f[0], CKA_DERIVE), CK_TRUE);
    ck_assert_uint_eq(get_bool(s, f[0], CKA_LOCAL), CK_TRUE);
    ck_assert_uint_eq(get_bool(s, f[0], CKA_ALWAYS_SENSITIVE), CK_TRUE);
    ck_assert_uint_eq(get_bool(s, f[0], CKA_NEVER_EXTRACTABLE), CK_TRUE);
    ck_assert_uint_eq(get_ulong(s, f[0], CKA_KEY_GEN_MECHANISM), CKM_EC_KEY_PAIR_GEN);
    ck_assert_uint_eq(get_ulong(s, f[0], CKA_KEY_TYPE), CKK_EC);
    ck_assert_uint_eq(lwss_p11t_find(s, "persist", CKO_PUBLIC_KEY, f, 2), 1);
    ck_assert_uint_eq(get_bool(s, f[0], CKA_LOCAL), CK_TRUE);
}

/* v2.40 4.9 CKA_SENSITIVE: the template is honoured or refused (5.7
 * C_CreateObject, CKR_ATTRIBUTE_VALUE_INVALID), never silently changed;
 * CKA_LOCAL is the token's to set (table 4.9 footnote 2: read-only). */
static void row_template_refused_not_changed(CK_SESSION_HANDLE s)
{
    CK_ATTRIBUTE x[] = {{CKA_SENSITIVE, &no, 1}};
    (void)create_ec_priv(s, x, 1, CKR_ATTRIBUTE_VALUE_INVALID);
    CK_ATTRIBUTE y[] = {{CKA_LOCAL, &yes, 1}};
    (void)create_ec_priv(s, y, 1, CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE z[] = {{CKA_EXTRACTABLE, &yes, 1}};
    CK_OBJECT_HANDLE k = create_ec_priv(s, z, 1, CKR_OK);
    ck_assert_uint_eq(get_bool(s, k, CKA_EXTRACTABLE), CK_TRUE);
    ck_assert_uint_eq(get_bool(s, k, CKA_NEVER_EXTRACTABLE), CK_FALSE);
    CK_ATTRIBUTE v = {CKA_VALUE, NULL, 0}; /* still sensitive */
    ck_assert_int_eq(C_GetAttributeValue(s, k, &v, 1), CKR_ATTRIBUTE_SENSITIVE);
}

/* v2.40 4.7 common key attributes: CKA_LOCAL, CKA_KEY_GEN_MECHANISM on every
 * key (an imported one: FALSE / CK_UNAVAILABLE_INFORMATION), 4.9
 * ALWAYS_SENSITIVE FALSE for a key that was outside the token. */
static void row_local_on_imported(CK_SESSION_HANDLE s)
{
    CK_OBJECT_HANDLE k = ec_priv(s);
    ck_assert_uint_eq(get_bool(s, k, CKA_LOCAL), CK_FALSE);
    ck_assert_uint_eq(get_ulong(s, k, CKA_KEY_GEN_MECHANISM), CK_UNAVAILABLE_INFORMATION);
    ck_assert_uint_eq(get_bool(s, k, CKA_SENSITIVE), CK_TRUE);
    ck_assert_uint_eq(get_bool(s, k, CKA_ALWAYS_SENSITIVE), CK_FALSE);
    CK_OBJECT_HANDLE p = lwss_p11t_import_key(s, "p", lwss_p11t_rsa_key_pem, LWSS_PKCS11_PUBLIC);
    ck_assert_uint_eq(get_bool(s, p, CKA_LOCAL), CK_FALSE);
}

/* mech 2.1.2 / 2.3.3: an RSA private key has CKA_MODULUS and
 * CKA_PUBLIC_EXPONENT, an EC one CKA_EC_PARAMS; none is sensitive. */
static void row_private_public_parts(CK_SESSION_HANDLE s)
{
    CK_OBJECT_HANDLE r = rsa_priv(s);
    uint8_t n[256];
    uint8_t e[8];
    CK_ATTRIBUTE a[] = {{CKA_MODULUS, n, sizeof(n)}, {CKA_PUBLIC_EXPONENT, e, sizeof(e)}};
    ck_assert_int_eq(C_GetAttributeValue(s, r, a, 2), CKR_OK);
    ck_assert_uint_eq(a[0].ulValueLen, 256);
    ck_assert(a[1].ulValueLen >= 1 && a[1].ulValueLen <= 8);
    CK_OBJECT_HANDLE k = ec_priv(s);
    uint8_t par[16];
    CK_ATTRIBUTE b = {CKA_EC_PARAMS, par, sizeof(par)};
    ck_assert_int_eq(C_GetAttributeValue(s, k, &b, 1), CKR_OK);
    ck_assert_mem_eq(par, p256, sizeof(p256));
}

/* v2.40 3.3 CK_MECHANISM_INFO: CKF_HW "if the mechanism is performed by the
 * device"; this token is software. */
static void row_no_ckf_hw(CK_SESSION_HANDLE s)
{
    (void)s;
    CK_MECHANISM_TYPE list[128];
    CK_ULONG n = 128;
    ck_assert_int_eq(C_GetMechanismList(0, list, &n), CKR_OK);
    for (CK_ULONG i = 0; i < n; i++) {
        CK_MECHANISM_INFO mi;
        ck_assert_int_eq(C_GetMechanismInfo(0, list[i], &mi), CKR_OK);
        ck_assert_msg(!(mi.flags & CKF_HW), "mechanism 0x%lx claims CKF_HW", list[i]);
    }
}

/* v2.40 5.4: after fork() the child must call C_Initialize and gets CKR_OK;
 * the parent's token (and image lock) keeps working. */
static void row_fork_child_initializes(CK_SESSION_HANDLE s)
{
    CK_OBJECT_HANDLE k = ec_priv(s);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        CK_INFO info;
        int bad = C_GetInfo(&info) != CKR_CRYPTOKI_NOT_INITIALIZED;
        bad |= (C_Initialize(NULL) != CKR_OK) << 1;
        bad |= (C_GetInfo(&info) != CKR_OK) << 2;
        bad |= (C_Finalize(NULL) != CKR_OK) << 3;
        _exit(bad);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
    /* the child closed its copy of the descriptor, never unlocked it */
    int fd = open(lwss_p11t_image(), O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), -1);
    ck_assert_int_eq(errno, EWOULDBLOCK);
    close(fd);
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    uint8_t sig[64];
    CK_ULONG len = sizeof(sig);
    ck_assert_int_eq(C_SignInit(s, &m, k), CKR_OK);
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR)hash32, 32, sig, &len), CKR_OK);
    (void)lwss_p11t_import_cert(s, "after-fork", lwss_p11t_ec_crt_pem);
}

/* In a forked child: wait for the parent to let go of the image, then
 * use the token on its own.  Exit status 0 when everything worked. */
static int child_on_its_own(int ready_fd)
{
    char c;
    if (read(ready_fd, &c, 1) != 1 || C_Initialize(NULL) != CKR_OK) {
        return 1;
    }
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    CK_OBJECT_HANDLE k = CK_INVALID_HANDLE;
    CK_ULONG n = 0;
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[] = {{CKA_LABEL, "ec", 2}, {CKA_CLASS, &cls, sizeof(cls)}};
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    uint8_t sig[64];
    CK_ULONG len = sizeof(sig);
    int bad = C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK;
    bad |= C_FindObjectsInit(s, t, 2) != CKR_OK || C_FindObjects(s, &k, 1, &n) != CKR_OK ||
           n != 1 || C_FindObjectsFinal(s) != CKR_OK;
    bad |= C_SignInit(s, &m, k) != CKR_OK ||
           C_Sign(s, (CK_BYTE_PTR)hash32, 32, sig, &len) != CKR_OK;
    bad |= C_Finalize(NULL) != CKR_OK;
    return bad ? 2 : 0;
}

/* v2.40 5.4: the child works on its own once it has the image: here the
 * parent finalises after fork(), and the child finds and signs with its key. */
static void row_fork_child_works_alone(CK_SESSION_HANDLE s)
{
    (void)ec_priv(s);
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[1]);
        _exit(child_on_its_own(p[0]));
    }
    close(p[0]);
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    ck_assert_int_eq(write(p[1], "g", 1), 1);
    close(p[1]);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK); /* the parent again, after the child */
    s = lwss_p11t_session();
    CK_OBJECT_HANDLE f[2];
    ck_assert_uint_eq(lwss_p11t_find(s, "ec", CKO_PRIVATE_KEY, f, 2), 1);
}

/* v2.40 5.6 C_InitToken: a token already initialised (CKF_TOKEN_INITIALIZED)
 * checks pPin against the existing SO PIN (fresh image: "0000"). */
static void row_init_token_needs_so_pin(CK_SESSION_HANDLE s)
{
    CK_TOKEN_INFO ti;
    ck_assert_int_eq(C_GetTokenInfo(0, &ti), CKR_OK);
    ck_assert(ti.flags & CKF_TOKEN_INITIALIZED);
    (void)lwss_p11t_import_cert(s, "keep", lwss_p11t_ec_crt_pem);
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);
    CK_UTF8CHAR label[32];
    memset(label, ' ', sizeof(label));
    ck_assert_int_eq(C_InitToken(0, (CK_UTF8CHAR_PTR) "12345678", 8, label), CKR_PIN_INCORRECT);
    s = lwss_p11t_session();
    CK_OBJECT_HANDLE f[2];
    ck_assert_uint_eq(lwss_p11t_find(s, "keep", CKO_CERTIFICATE, f, 2), 1);
    ck_assert_int_eq(C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR) "12345678", 8), CKR_PIN_INCORRECT);
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);
    ck_assert_int_eq(C_InitToken(0, (CK_UTF8CHAR_PTR) "0000", 4, label), CKR_OK);
    s = lwss_p11t_session();
    ck_assert_uint_eq(lwss_p11t_find(s, "keep", CKO_CERTIFICATE, f, 2), 0);
}

/* mech 2.1.8 CKM_RSA_X_509 (corePKCS11 parity): raw RSA; the signature's
 * public operation gives back the zero-padded input; a tampered one fails. */
static void row_rsa_x509(CK_SESSION_HANDLE s)
{
    CK_OBJECT_HANDLE k = rsa_priv(s);
    CK_OBJECT_HANDLE p = lwss_p11t_import_key(s, "p", lwss_p11t_rsa_key_pem, LWSS_PKCS11_PUBLIC);
    CK_MECHANISM m = {CKM_RSA_X_509, NULL, 0};
    uint8_t sig[256];
    CK_ULONG len = sizeof(sig);
    ck_assert_int_eq(C_SignInit(s, &m, k), CKR_OK);
    ck_assert_int_eq(C_Sign(s, (CK_BYTE_PTR)hash32, 32, sig, &len), CKR_OK);
    ck_assert_uint_eq(len, 256);
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_rsa_key_pem, &pk);
    uint8_t back[256];
    ck_assert_int_eq(mbedtls_rsa_public(mbedtls_pk_rsa(pk), sig, back), 0);
    mbedtls_pk_free(&pk);
    for (size_t i = 0; i < 256 - 32; i++) {
        ck_assert_uint_eq(back[i], 0);
    }
    ck_assert_mem_eq(back + 256 - 32, hash32, 32);
    ck_assert_int_eq(C_VerifyInit(s, &m, p), CKR_OK);
    ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR)hash32, 32, sig, len), CKR_OK);
    sig[100] ^= 1;
    ck_assert_int_eq(C_VerifyInit(s, &m, p), CKR_OK);
    ck_assert_int_eq(C_Verify(s, (CK_BYTE_PTR)hash32, 32, sig, len), CKR_SIGNATURE_INVALID);
}

/* corePKCS11 parity: mechanisms without a parameter ignore pParameter /
 * ulParameterLen (firmware written against corePKCS11 leaves them unset). */
static void row_stray_parameter_ignored(CK_SESSION_HANDLE s)
{
    CK_MECHANISM d = {CKM_SHA256, (void *)hash32, 7};
    ck_assert_int_eq(C_DigestInit(s, &d), CKR_OK);
    uint8_t out[32];
    CK_ULONG len = sizeof(out);
    ck_assert_int_eq(C_Digest(s, (CK_BYTE_PTR) "ab", 2, out, &len), CKR_OK);
    CK_MECHANISM e = {CKM_ECDSA, (void *)hash32, 3};
    ck_assert_int_eq(C_SignInit(s, &e, ec_priv(s)), CKR_OK);
}

/* mech 2.1.4 CKM_RSA_PKCS_KEY_PAIR_GEN: CKA_MODULUS_BITS and
 * CKA_PUBLIC_EXPONENT from the public template; sizes the token does not
 * offer get CKR_KEY_SIZE_RANGE, an even exponent CKR_ATTRIBUTE_VALUE_INVALID. */
static void row_rsa_keygen(CK_SESSION_HANDLE s)
{
    CK_MECHANISM gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ULONG bits = 1024;
    uint8_t e_even[] = {0x01, 0x00, 0x02};
    uint8_t e[] = {0x01, 0x00, 0x01};
    CK_ATTRIBUTE pt[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)},
                         {CKA_PUBLIC_EXPONENT, e_even, sizeof(e_even)},
                         {CKA_LABEL, "rsa-gen", 7}};
    CK_ATTRIBUTE qt[] = {{CKA_LABEL, "rsa-gen", 7}, {CKA_SIGN, &yes, 1}};
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pt, 3, qt, 2, &pub, &priv), CKR_KEY_SIZE_RANGE);
    bits = 2048;
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pt, 3, qt, 2, &pub, &priv),
                     CKR_ATTRIBUTE_VALUE_INVALID);
    pt[1].pValue = e;
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pt, 3, qt, 2, &pub, &priv), CKR_OK);
    ck_assert_uint_eq(get_ulong(s, priv, CKA_KEY_TYPE), CKK_RSA);
    ck_assert_uint_eq(get_ulong(s, pub, CKA_MODULUS_BITS), 2048);
    ck_assert_uint_eq(get_bool(s, priv, CKA_LOCAL), CK_TRUE);
    ck_assert_uint_eq(get_ulong(s, priv, CKA_KEY_GEN_MECHANISM), CKM_RSA_PKCS_KEY_PAIR_GEN);
    uint8_t di[51];
    lwss_p11t_digest_info(hash32, di);
    CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
    uint8_t sig[256];
    CK_ULONG len = sizeof(sig);
    ck_assert_int_eq(C_SignInit(s, &m, priv), CKR_OK);
    ck_assert_int_eq(C_Sign(s, di, sizeof(di), sig, &len), CKR_OK);
    ck_assert_uint_eq(len, 256);
    ck_assert_int_eq(C_VerifyInit(s, &m, pub), CKR_OK);
    ck_assert_int_eq(C_Verify(s, di, sizeof(di), sig, len), CKR_OK);
    sig[7] ^= 0x10;
    ck_assert_int_eq(C_VerifyInit(s, &m, pub), CKR_OK);
    ck_assert_int_eq(C_Verify(s, di, sizeof(di), sig, len), CKR_SIGNATURE_INVALID);
}

/* mech 2.1.4 / issue 15 item 7: CKM_RSA_PKCS_KEY_PAIR_GEN offers 3072 and
 * 4096 bits too, with any odd public exponent >= 65537; the exponent asked
 * for is the one the pair gets, and the 4096-bit pair signs and verifies. */
static void row_rsa_keygen_large(CK_SESSION_HANDLE s)
{
    CK_MECHANISM gen = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
    CK_ULONG bits = 3072;
    uint8_t e[] = {0x01, 0x00, 0x03}; /* 65539 */
    CK_ATTRIBUTE pt[] = {{CKA_MODULUS_BITS, &bits, sizeof(bits)},
                         {CKA_PUBLIC_EXPONENT, e, sizeof(e)},
                         {CKA_LABEL, "rsa-big", 7}};
    CK_ATTRIBUTE qt[] = {{CKA_LABEL, "rsa-big", 7}, {CKA_SIGN, &yes, 1}};
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pt, 3, qt, 2, &pub, &priv), CKR_OK);
    ck_assert_uint_eq(get_ulong(s, pub, CKA_MODULUS_BITS), 3072);
    uint8_t got[8];
    CK_ATTRIBUTE ga = {CKA_PUBLIC_EXPONENT, got, sizeof(got)};
    ck_assert_int_eq(C_GetAttributeValue(s, priv, &ga, 1), CKR_OK);
    ck_assert_uint_eq(ga.ulValueLen, sizeof(e));
    ck_assert_mem_eq(got, e, sizeof(e));
    bits = 4096;
    e[2] = 0x01; /* 65537 */
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pt, 3, qt, 2, &pub, &priv), CKR_OK);
    ck_assert_uint_eq(get_ulong(s, pub, CKA_MODULUS_BITS), 4096);
    uint8_t di[51];
    lwss_p11t_digest_info(hash32, di);
    CK_MECHANISM m = {CKM_RSA_PKCS, NULL, 0};
    uint8_t sig[512];
    CK_ULONG len = sizeof(sig);
    ck_assert_int_eq(C_SignInit(s, &m, priv), CKR_OK);
    ck_assert_int_eq(C_Sign(s, di, sizeof(di), sig, &len), CKR_OK);
    ck_assert_uint_eq(len, 512);
    ck_assert_int_eq(C_VerifyInit(s, &m, pub), CKR_OK);
    ck_assert_int_eq(C_Verify(s, di, sizeof(di), sig, len), CKR_OK);
}

/* A P-384 pair: generated, EC_PARAMS/EC_POINT read back, ECDSA sign and
 * verify with 48-byte r and s (mech 2.3.6 / 2.3.2: signature is r || s,
 * each the length of the order). */
static void row_p384(CK_SESSION_HANDLE s)
{
    static const uint8_t p384[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22};
    static const uint8_t p521[] = {0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23};
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)p521, sizeof(p521)}, {CKA_LABEL, "p384", 4}};
    CK_ATTRIBUTE qt[] = {{CKA_LABEL, "p384", 4}, {CKA_SIGN, &yes, 1}};
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pt, 2, qt, 2, &pub, &priv),
                     CKR_CURVE_NOT_SUPPORTED);
    pt[0].pValue = (void *)p384;
    pt[0].ulValueLen = sizeof(p384);
    ck_assert_int_eq(C_GenerateKeyPair(s, &gen, pt, 2, qt, 2, &pub, &priv), CKR_OK);
    uint8_t buf[128];
    CK_ATTRIBUTE a = {CKA_EC_PARAMS, buf, sizeof(buf)};
    ck_assert_int_eq(C_GetAttributeValue(s, priv, &a, 1), CKR_OK);
    ck_assert(a.ulValueLen == sizeof(p384) && memcmp(buf, p384, sizeof(p384)) == 0);
    a.ulValueLen = sizeof(buf);
    ck_assert_int_eq(C_GetAttributeValue(s, pub, &a, 1), CKR_OK);
    ck_assert(a.ulValueLen == sizeof(p384) && memcmp(buf, p384, sizeof(p384)) == 0);
    CK_ATTRIBUTE q = {CKA_EC_POINT, buf, sizeof(buf)};
    ck_assert_int_eq(C_GetAttributeValue(s, pub, &q, 1), CKR_OK);
    ck_assert_uint_eq(q.ulValueLen, 2 + 97);
    uint8_t hash48[48];
    memset(hash48, 0xA5, sizeof(hash48));
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    uint8_t sig[96];
    CK_ULONG len = 0;
    ck_assert_int_eq(C_SignInit(s, &m, priv), CKR_OK);
    ck_assert_int_eq(C_Sign(s, hash48, sizeof(hash48), NULL, &len), CKR_OK);
    ck_assert_uint_eq(len, 96);
    ck_assert_int_eq(C_Sign(s, hash48, sizeof(hash48), sig, &len), CKR_OK);
    ck_assert_int_eq(C_VerifyInit(s, &m, pub), CKR_OK);
    ck_assert_int_eq(C_Verify(s, hash48, sizeof(hash48), sig, len), CKR_OK);
    sig[50] ^= 0x01;
    ck_assert_int_eq(C_VerifyInit(s, &m, pub), CKR_OK);
    ck_assert_int_eq(C_Verify(s, hash48, sizeof(hash48), sig, len), CKR_SIGNATURE_INVALID);
    ck_assert_int_eq(C_VerifyInit(s, &m, pub), CKR_OK);
    ck_assert_int_eq(C_Verify(s, hash48, sizeof(hash48), sig, 64), CKR_SIGNATURE_LEN_RANGE);
    /* an imported P-384 key (lwss_pkcs11_import_key, as lwss-provision) signs too */
    CK_OBJECT_HANDLE imp = lwss_p11t_import_key(s, "p384-imp", lwss_p11t_ec384_key_pem,
                                                LWSS_PKCS11_PRIVATE);
    a.ulValueLen = sizeof(buf);
    ck_assert_int_eq(C_GetAttributeValue(s, imp, &a, 1), CKR_OK);
    ck_assert(a.ulValueLen == sizeof(p384) && memcmp(buf, p384, sizeof(p384)) == 0);
    len = sizeof(sig);
    ck_assert_int_eq(C_SignInit(s, &m, imp), CKR_OK);
    ck_assert_int_eq(C_Sign(s, hash48, sizeof(hash48), sig, &len), CKR_OK);
    ck_assert_uint_eq(len, 96);
}

/* A read-only session beside the fixture's R/W one. */
static CK_SESSION_HANDLE ro_session(void)
{
    CK_SESSION_HANDLE ro = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    return ro;
}

/* DER of the EC test certificate (caller frees). */
static uint8_t *cert_der(size_t *len)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    ck_assert_int_eq(mbedtls_x509_crt_parse(&crt, (const unsigned char *)lwss_p11t_ec_crt_pem,
                                            strlen(lwss_p11t_ec_crt_pem) + 1),
                     0);
    uint8_t *der = malloc(crt.raw.len);
    ck_assert_ptr_nonnull(der);
    memcpy(der, crt.raw.p, crt.raw.len);
    *len = crt.raw.len;
    mbedtls_x509_crt_free(&crt);
    return der;
}

/* The image's bytes now (caller frees). */
static uint8_t *image_now(size_t *len)
{
    uint8_t *img = lwss_p11t_read_file(lwss_p11t_image(), len);
    ck_assert_ptr_nonnull(img);
    return img;
}

static void assert_image_is(const uint8_t *before, size_t len)
{
    size_t now_len = 0;
    uint8_t *now = image_now(&now_len);
    ck_assert(now_len == len && memcmp(now, before, len) == 0);
    free(now);
}

/* v2.40 4.4: session objects of every class, made in a read-only session
 * ("read-only sessions ... can create session objects"), CKA_TOKEN FALSE,
 * found by C_FindObjects, never written to the token, handles distinct
 * from token objects'; destroyed "when the session is closed". */
static void row_session_objects_every_class(CK_SESSION_HANDLE s)
{
    CK_OBJECT_HANDLE tok = hmac_key(s); /* a token object beside them */
    size_t img_len = 0;
    uint8_t *img = image_now(&img_len);
    CK_SESSION_HANDLE ro = ro_session();
    CK_OBJECT_CLASS data = CKO_DATA, cert = CKO_CERTIFICATE, sec = CKO_SECRET_KEY;
    CK_KEY_TYPE gen = CKK_GENERIC_SECRET;
    CK_ATTRIBUTE t_data[] = {{CKA_CLASS, &data, sizeof(data)}, {CKA_TOKEN, &no, 1},
                             {CKA_LABEL, "s-data", 6}, {CKA_VALUE, "abc", 3}};
    CK_ATTRIBUTE t_sec[] = {{CKA_CLASS, &sec, sizeof(sec)}, {CKA_KEY_TYPE, &gen, sizeof(gen)},
                            {CKA_TOKEN, &no, 1}, {CKA_LABEL, "mac", 3},
                            {CKA_VALUE, (void *)hash32, 32}};
    size_t der_len = 0;
    uint8_t *der = cert_der(&der_len);
    CK_ATTRIBUTE t_cert[] = {{CKA_CLASS, &cert, sizeof(cert)}, {CKA_TOKEN, &no, 1},
                             {CKA_LABEL, "s-cert", 6}, {CKA_VALUE, der, der_len}};
    CK_ATTRIBUTE tok_false = {CKA_TOKEN, &no, 1};
    CK_OBJECT_HANDLE h[4];
    ck_assert_int_eq(C_CreateObject(ro, t_data, 4, &h[0]), CKR_OK);
    ck_assert_int_eq(C_CreateObject(ro, t_sec, 5, &h[1]), CKR_OK);
    ck_assert_int_eq(C_CreateObject(ro, t_cert, 4, &h[2]), CKR_OK);
    h[3] = create_ec_priv(ro, &tok_false, 1, CKR_OK);
    free(der);
    t_data[1].pValue = &yes; /* a token object still needs a R/W session */
    CK_OBJECT_HANDLE x = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_CreateObject(ro, t_data, 4, &x), CKR_SESSION_READ_ONLY);
    for (int i = 0; i < 4; i++) {
        ck_assert(h[i] != tok);
        ck_assert_uint_eq(get_bool(s, h[i], CKA_TOKEN), CK_FALSE); /* any session of the app */
    }
    ck_assert_uint_eq(get_bool(s, tok, CKA_TOKEN), CK_TRUE);
    CK_OBJECT_HANDLE found[8];
    CK_ULONG n = 0;
    ck_assert_int_eq(C_FindObjectsInit(s, &tok_false, 1), CKR_OK);
    ck_assert_int_eq(C_FindObjects(s, found, 8, &n), CKR_OK);
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OK);
    ck_assert_uint_eq(n, 4);
    CK_ATTRIBUTE by_label = {CKA_LABEL, "mac", 3};
    ck_assert_int_eq(C_FindObjectsInit(s, &by_label, 1), CKR_OK);
    ck_assert_int_eq(C_FindObjects(s, found, 8, &n), CKR_OK);
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OK);
    ck_assert_uint_eq(n, 2); /* the token key and the session key */
    assert_image_is(img, img_len);
    ck_assert_int_eq(C_CloseSession(ro), CKR_OK);
    for (int i = 0; i < 4; i++) {
        CK_ATTRIBUTE a = {CKA_CLASS, &x, sizeof(x)};
        ck_assert_int_eq(C_GetAttributeValue(s, h[i], &a, 1), CKR_OBJECT_HANDLE_INVALID);
    }
    ck_assert_uint_eq(lwss_p11_sessobj_count(), 0);
    assert_image_is(img, img_len);
    free(img);
}

/* v2.40 4.4 / 5.14 C_GenerateKeyPair with CKA_TOKEN=FALSE in a read-only
 * session (what pkcs11-tool --test-ec does): the pair signs and verifies,
 * C_DestroyObject of a session object works in a R/O session, nothing
 * reaches the image; a token half in a R/O session: CKR_SESSION_READ_ONLY. */
static void row_session_keygen(CK_SESSION_HANDLE s)
{
    size_t img_len = 0;
    uint8_t *img = image_now(&img_len);
    CK_SESSION_HANDLE ro = ro_session();
    CK_MECHANISM gen = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    CK_ATTRIBUTE pt[] = {{CKA_EC_PARAMS, (void *)p256, sizeof(p256)}, {CKA_TOKEN, &no, 1}};
    CK_ATTRIBUTE qt[] = {{CKA_TOKEN, &no, 1}, {CKA_SIGN, &yes, 1}};
    CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
    qt[0].pValue = &yes;
    ck_assert_int_eq(C_GenerateKeyPair(ro, &gen, pt, 2, qt, 2, &pub, &priv),
                     CKR_SESSION_READ_ONLY);
    qt[0].pValue = &no;
    ck_assert_int_eq(C_GenerateKeyPair(ro, &gen, pt, 2, qt, 2, &pub, &priv), CKR_OK);
    ck_assert_uint_eq(get_bool(ro, priv, CKA_TOKEN), CK_FALSE);
    ck_assert_uint_eq(get_bool(ro, pub, CKA_TOKEN), CK_FALSE);
    ck_assert_uint_eq(get_bool(ro, priv, CKA_LOCAL), CK_TRUE);
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    uint8_t sig[64];
    CK_ULONG len = sizeof(sig);
    ck_assert_int_eq(C_SignInit(ro, &m, priv), CKR_OK);
    ck_assert_int_eq(C_Sign(ro, (uint8_t *)hash32, sizeof(hash32), sig, &len), CKR_OK);
    ck_assert_int_eq(C_VerifyInit(s, &m, pub), CKR_OK);
    ck_assert_int_eq(C_Verify(s, (uint8_t *)hash32, sizeof(hash32), sig, len), CKR_OK);
    assert_image_is(img, img_len);
    ck_assert_int_eq(C_DestroyObject(ro, priv), CKR_OK);
    ck_assert_int_eq(C_SignInit(ro, &m, priv), CKR_KEY_HANDLE_INVALID);
    ck_assert_int_eq(C_DestroyObject(ro, priv), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_uint_eq(lwss_p11_sessobj_count(), 1);
    ck_assert_int_eq(C_CloseAllSessions(0), CKR_OK); /* the last session: all go */
    ck_assert_uint_eq(lwss_p11_sessobj_count(), 0);
    assert_image_is(img, img_len);
    free(img);
}

/* v2.40 4.4: private session objects follow CKA_PRIVATE like token ones:
 * invisible (and not findable) while login is due. */
static void row_session_private_hidden(CK_SESSION_HANDLE s)
{
    CK_ATTRIBUTE tok_false = {CKA_TOKEN, &no, 1};
    CK_OBJECT_HANDLE k = create_ec_priv(s, &tok_false, 1, CKR_OK);
    ck_assert_int_eq(C_Login(s, CKU_SO, (CK_UTF8CHAR_PTR) "0000", 4), CKR_OK);
    ck_assert_int_eq(C_InitPIN(s, (CK_UTF8CHAR_PTR) "123456", 6), CKR_OK);
    ck_assert_int_eq(C_Logout(s), CKR_OK);
    CK_KEY_TYPE kt = 0;
    CK_ATTRIBUTE a = {CKA_KEY_TYPE, &kt, sizeof(kt)};
    ck_assert_int_eq(C_GetAttributeValue(s, k, &a, 1), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_int_eq(C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "123456", 6), CKR_OK);
    ck_assert_int_eq(C_GetAttributeValue(s, k, &a, 1), CKR_OK);
    ck_assert_uint_eq(kt, CKK_EC);
}

typedef struct row {
    const char *clause;
    void (*run)(CK_SESSION_HANDLE s);
} row;

static const row g_rows[] = {
    {"v2.40 5.12 failed C_SignUpdate ends CKM_ECDSA", row_sign_update_ends_ecdsa},
    {"v2.40 5.12 failed C_SignUpdate ends CKM_RSA_PKCS", row_sign_update_ends_rsa},
    {"v2.40 5.13 failed C_VerifyUpdate ends", row_verify_update_ends},
    {"v2.40 5.12 C_SignFinal always ends", row_sign_final_ends},
    {"v2.40 5.13 C_VerifyFinal always ends", row_verify_final_ends},
    {"v2.40 5.12 C_Sign after C_SignUpdate: OPERATION_ACTIVE, ended", row_sign_after_update},
    {"v2.40 5.10 C_Digest after C_DigestUpdate: OPERATION_ACTIVE", row_digest_after_update},
    {"v2.40 5.10 C_DigestFinal after C_Digest query", row_digest_final_after_query},
    {"v2.40 4.9/5.12 CKA_SIGN=FALSE enforced", row_sign_false_enforced},
    {"v2.40 4.8/5.13 CKA_VERIFY=FALSE enforced", row_verify_false_enforced},
    {"v2.40 4.4/4.7 attributes persist across C_Initialize", row_attributes_persist},
    {"v2.40 4.9/5.7 template honoured or refused", row_template_refused_not_changed},
    {"v2.40 4.7 CKA_LOCAL/KEY_GEN_MECHANISM on imported keys", row_local_on_imported},
    {"mech 2.1.2/2.3.3 public parts of private keys", row_private_public_parts},
    {"v2.40 3.3 no CKF_HW", row_no_ckf_hw},
    {"v2.40 5.4 fork: child C_Initialize OK, parent's lock kept", row_fork_child_initializes},
    {"v2.40 5.4 fork: child works on its own", row_fork_child_works_alone},
    {"v2.40 5.6 C_InitToken checks the SO PIN", row_init_token_needs_so_pin},
    {"mech 2.1.8 CKM_RSA_X_509", row_rsa_x509},
    {"corePKCS11: stray mechanism parameter ignored", row_stray_parameter_ignored},
    {"mech 2.1.4 CKM_RSA_PKCS_KEY_PAIR_GEN", row_rsa_keygen},
    {"mech 2.1.4 RSA key pairs of 3072 and 4096 bits, exponent 65539", row_rsa_keygen_large},
    {"mech 2.3.5/2.3.6 P-384 CKM_EC_KEY_PAIR_GEN + CKM_ECDSA", row_p384},
    {"v2.40 4.4 session objects of every class, R/O session, never stored",
     row_session_objects_every_class},
    {"v2.40 4.4/5.14 session key pair in a R/O session", row_session_keygen},
    {"v2.40 4.4 private session objects need login", row_session_private_hidden},
};
#define ROW_COUNT ((int)(sizeof(g_rows) / sizeof(g_rows[0])))

START_TEST(conformance_row)
{
    fprintf(stderr, "pkcs11_conformance: %s\n", g_rows[_i].clause);
    g_rows[_i].run(lwss_p11t_session());
}
END_TEST

Suite *pkcs11_conformance_suite(void);

Suite *pkcs11_conformance_suite(void)
{
    Suite *su = suite_create("pkcs11_conformance");
    TCase *tc = tcase_create("v2_40");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, conformance_row, 0, ROW_COUNT);
    suite_add_tcase(su, tc);
    return su;
}
