/*
 * Suites "security" (unit) and "security_rig".
 *
 * Private keys are never readable: no attribute of an imported private key
 * (every standard attribute type, not only the named secret ones) holds
 * any part of its secret; sensitivity cannot be lowered, the key cannot be
 * copied out or wrapped, and a template asking for an extractable,
 * non-sensitive private key does not make its value readable.  The tools
 * (lwss-nvm export/list/sectors/verify, lwss-provision show, pkcs11-tool
 * --read-object through lwss-pkcs11.so) never print it, and an application
 * loading lwss-pkcs11.so reads no part of it through any attribute.  Images are created
 * 0600 whatever the umask.  In the rig, lwss-demo run with the capture and
 * the key log on leaves no key material in its output, the pcap or the key
 * log (which holds session secrets only, by design).
 *
 * Covered elsewhere (referenced in GUARANTEES.section.md): secrets wiped
 * before free (tests/pkcs11/wipe_check.c, `make test-pkcs11-wipe`); TLS
 * refuses expired, unknown-CA and wrong-name servers (tls_rig
 * bad_server_certificates_fail_unverified, tls_full_tcp
 * wrong_ca_and_wrong_sni_fail); the named secret attributes of RSA and EC
 * keys (pkcs11_objects).
 */
#include "tests/support/lwss_test.h"
#include "tests/support/test_pkcs11.h"
#include "tests/support/tls_test_util.h"
#include "lwss/nvm.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <mbedtls/ecp.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/rsa.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- what a secret looks like in any output -------------------------------- */

#define MAX_SECRETS 8
#define WINDOW 12 /* bytes of a secret that are enough to recognise it */

typedef struct {
    uint8_t raw[MAX_SECRETS][WINDOW];
    char hex_lower[MAX_SECRETS][2 * WINDOW + 1];
    char hex_upper[MAX_SECRETS][2 * WINDOW + 1];
    int count;
    char pem_lines[64][80]; /* base64 lines of the key file's body */
    int pem_count;
} secret_set;

static void add_mpi(secret_set *ss, const mbedtls_mpi *x)
{
    uint8_t buf[512];
    size_t len = mbedtls_mpi_size(x);
    ck_assert_int_le(len, sizeof(buf));
    ck_assert_int_ge(len, 2 * WINDOW);
    ck_assert_int_eq(mbedtls_mpi_write_binary(x, buf, len), 0);
    ck_assert_int_lt(ss->count, MAX_SECRETS);
    memcpy(ss->raw[ss->count], buf + len / 2 - WINDOW / 2, WINDOW); /* from the middle */
    for (int i = 0; i < WINDOW; i++) {
        snprintf(ss->hex_lower[ss->count] + 2 * i, 3, "%02x", ss->raw[ss->count][i]);
        snprintf(ss->hex_upper[ss->count] + 2 * i, 3, "%02X", ss->raw[ss->count][i]);
    }
    ss->count++;
}

/* The secret numbers of a PEM private key, and the base64 lines of its body. */
static void learn_secrets(const char *pem, secret_set *ss)
{
    memset(ss, 0, sizeof(*ss));
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(pem, &pk);
    if (mbedtls_pk_get_type(&pk) == MBEDTLS_PK_ECKEY) {
        add_mpi(ss, &mbedtls_pk_ec(pk)->d);
    } else {
        const mbedtls_rsa_context *r = mbedtls_pk_rsa(pk);
        add_mpi(ss, &r->D);
        add_mpi(ss, &r->P);
        add_mpi(ss, &r->Q);
        add_mpi(ss, &r->DP);
        add_mpi(ss, &r->DQ);
    }
    mbedtls_pk_free(&pk);
    const char *p = pem;
    while ((p = strchr(p, '\n')) != NULL && ss->pem_count < 64) {
        p++;
        size_t n = strcspn(p, "\r\n");
        if (n >= 40 && n < 80 && p[0] != '-') {
            memcpy(ss->pem_lines[ss->pem_count++], p, n);
        }
    }
}

/* Which form of which secret is in @p buf, or NULL. */
static const char *find_secret(const secret_set *ss, const void *buf, size_t len)
{
    for (int i = 0; i < ss->count; i++) {
        if (memmem(buf, len, ss->raw[i], WINDOW) != NULL) {
            return "raw bytes";
        }
        if (memmem(buf, len, ss->hex_lower[i], 2 * WINDOW) != NULL ||
            memmem(buf, len, ss->hex_upper[i], 2 * WINDOW) != NULL) {
            return "hex";
        }
    }
    for (int i = 0; i < ss->pem_count; i++) {
        if (memmem(buf, len, ss->pem_lines[i], strlen(ss->pem_lines[i])) != NULL) {
            return "PEM base64";
        }
    }
    return NULL;
}

static void assert_no_secret(const secret_set *ss, const void *buf, size_t len, const char *where)
{
    const char *form = find_secret(ss, buf, len);
    ck_assert_msg(form == NULL, "%s holds the private key (%s)", where, form);
}

/* ---- token: every attribute ---------------------------------------------------- */

static CK_ATTRIBUTE_TYPE attribute_at(size_t i, int *more)
{
    /* every type PKCS #11 3.0 defines lies in these ranges; plus vendor-defined */
    static const CK_ATTRIBUTE_TYPE start[] = {0x0, 0x400, 0x500, 0x600, 0x1200, 0x40000000,
                                              0x80000000};
    static const size_t count[] = {0x220, 0x20, 0x10, 0x40, 0x20, 0x220, 0x40};
    for (size_t r = 0; r < sizeof(start) / sizeof(start[0]); r++) {
        if (i < count[r]) {
            *more = 1;
            return start[r] + i;
        }
        i -= count[r];
    }
    *more = 0;
    return 0;
}

/* Read every attribute of @p obj; none may hold a secret.  @return readable ones. */
static int sweep_with(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                      const secret_set *ss)
{
    int readable = 0, more = 1;
    for (size_t i = 0; more; i++) {
        CK_ATTRIBUTE_TYPE t = attribute_at(i, &more);
        if (!more) {
            break;
        }
        CK_ATTRIBUTE a = {t, NULL, 0};
        CK_RV rv = fl->C_GetAttributeValue(s, obj, &a, 1);
        if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION) {
            continue;
        }
        ck_assert_uint_lt(a.ulValueLen, 65536);
        uint8_t *buf = calloc(1, a.ulValueLen + 1);
        a.pValue = buf;
        ck_assert_int_eq(fl->C_GetAttributeValue(s, obj, &a, 1), CKR_OK);
        char where[64];
        snprintf(where, sizeof(where), "attribute 0x%lx", (unsigned long)t);
        assert_no_secret(ss, buf, a.ulValueLen, where);
        free(buf);
        readable++;
    }
    return readable;
}

static int sweep_attributes(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, const secret_set *ss)
{
    CK_FUNCTION_LIST_PTR fl = NULL;
    ck_assert_int_eq(C_GetFunctionList(&fl), CKR_OK);
    return sweep_with(fl, s, obj, ss);
}

static const CK_ATTRIBUTE_TYPE named_secrets[] = {CKA_VALUE, CKA_PRIVATE_EXPONENT, CKA_PRIME_1,
                                                  CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2,
                                                  CKA_COEFFICIENT};

static void assert_secrets_sensitive(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key)
{
    for (size_t i = 0; i < sizeof(named_secrets) / sizeof(named_secrets[0]); i++) {
        uint8_t buf[600];
        memset(buf, 0xC3, sizeof(buf));
        CK_ATTRIBUTE a = {named_secrets[i], buf, sizeof(buf)};
        CK_RV rv = C_GetAttributeValue(s, key, &a, 1);
        ck_assert_msg(rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID,
                      "attribute 0x%lx: rv 0x%lx", (unsigned long)named_secrets[i],
                      (unsigned long)rv);
        ck_assert_uint_eq(a.ulValueLen, CK_UNAVAILABLE_INFORMATION);
        ck_assert_uint_eq(buf[0], 0xC3);
    }
}

static void check_imported(const char *label, const char *pem)
{
    secret_set ss;
    learn_secrets(pem, &ss);
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE key = lwss_p11t_import_key(s, label, pem, LWSS_PKCS11_PRIVATE);
    assert_secrets_sensitive(s, key);
    int readable = sweep_attributes(s, key, &ss);
    ck_assert_int_ge(readable, 8); /* class, key type, label, flags, public parts... */
    /* and the public half, the token's other objects */
    CK_OBJECT_HANDLE pub = lwss_p11t_import_key(s, "pub", pem, LWSS_PKCS11_PUBLIC);
    sweep_attributes(s, pub, &ss);
}

START_TEST(no_attribute_of_a_private_key_holds_its_secret)
{
    check_imported("ec", lwss_p11t_ec_key_pem);
    check_imported("rsa", lwss_p11t_rsa_key_pem);
    /* a key made inside the token: its value is as unreadable */
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
    static const uint8_t p256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
    static const char label[] = "gen";
    CK_BBOOL yes = CK_TRUE;
    CK_ATTRIBUTE pub_t[] = {{CKA_EC_PARAMS, (void *)p256, sizeof(p256)},
                            {CKA_LABEL, (void *)label, 3}, {CKA_TOKEN, &yes, 1}};
    CK_ATTRIBUTE priv_t[] = {{CKA_LABEL, (void *)label, 3}, {CKA_TOKEN, &yes, 1},
                             {CKA_SIGN, &yes, 1}};
    CK_OBJECT_HANDLE pub, priv;
    ck_assert_int_eq(C_GenerateKeyPair(s, &mech, pub_t, 3, priv_t, 3, &pub, &priv), CKR_OK);
    assert_secrets_sensitive(s, priv);
}
END_TEST

START_TEST(sensitivity_cannot_be_lowered_and_keys_not_copied_or_wrapped)
{
    secret_set ss;
    learn_secrets(lwss_p11t_ec_key_pem, &ss);
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE key = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem, LWSS_PKCS11_PRIVATE);
    CK_BBOOL no = CK_FALSE, yes = CK_TRUE;
    CK_ATTRIBUTE lower[] = {{CKA_SENSITIVE, &no, 1}};
    CK_ATTRIBUTE extract[] = {{CKA_EXTRACTABLE, &yes, 1}};
    ck_assert_int_ne(C_SetAttributeValue(s, key, lower, 1), CKR_OK);
    ck_assert_int_ne(C_SetAttributeValue(s, key, extract, 1), CKR_OK);
    CK_OBJECT_HANDLE copy = CK_INVALID_HANDLE;
    ck_assert_int_ne(C_CopyObject(s, key, lower, 1, &copy), CKR_OK);
    uint8_t wrapped[512];
    CK_ULONG wrapped_len = sizeof(wrapped);
    CK_MECHANISM wrap = {CKM_AES_KEY_WRAP, NULL, 0};
    ck_assert_int_ne(C_WrapKey(s, &wrap, key, key, wrapped, &wrapped_len), CKR_OK);
    assert_secrets_sensitive(s, key);
    CK_BBOOL sens = 0, extr = 1;
    CK_ATTRIBUTE flags[] = {{CKA_SENSITIVE, &sens, 1}, {CKA_EXTRACTABLE, &extr, 1}};
    ck_assert_int_eq(C_GetAttributeValue(s, key, flags, 2), CKR_OK);
    ck_assert(sens == CK_TRUE && extr == CK_FALSE);

    /* a private key created as non-sensitive and extractable: refused, or
     * created with its value still unreadable */
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_ec_key_pem, &pk);
    uint8_t d[32];
    ck_assert_int_eq(mbedtls_mpi_write_binary(&mbedtls_pk_ec(pk)->d, d, sizeof(d)), 0);
    mbedtls_pk_free(&pk);
    static const uint8_t p256[] = {0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07};
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_KEY_TYPE kt = CKK_EC;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_KEY_TYPE, &kt, sizeof(kt)},
                        {CKA_TOKEN, &yes, 1}, {CKA_LABEL, "open", 4},
                        {CKA_EC_PARAMS, (void *)p256, sizeof(p256)}, {CKA_VALUE, d, sizeof(d)},
                        {CKA_SENSITIVE, &no, 1}, {CKA_EXTRACTABLE, &yes, 1}};
    CK_OBJECT_HANDLE open_key = CK_INVALID_HANDLE;
    CK_RV rv = C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), &open_key);
    fprintf(stderr, "security: private key asked non-sensitive + extractable: rv 0x%lx\n",
            (unsigned long)rv);
    if (rv == CKR_OK) {
        assert_secrets_sensitive(s, open_key);
        sweep_attributes(s, open_key, &ss);
    }
    mbedtls_platform_zeroize(d, sizeof(d));
}
END_TEST

START_TEST(images_are_created_0600_whatever_the_umask)
{
    (void)C_Finalize(NULL); /* the fixture's image is open */
    mode_t old = umask(0);
    char path[512];
    snprintf(path, sizeof(path), "%s/fresh.img", lwss_p11t_dir());
    ck_assert_int_eq(lwss_nvm_set_path(path), 0);
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    lwss_nvm_close();
    lwss_nvm_set_path(NULL);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    umask(old);
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
    ck_assert_uint_eq(lwss_p11t_file_size(lwss_p11t_image()) > 0, 1);
    ck_assert_int_eq(stat(lwss_p11t_image(), &st), 0); /* the one C_Initialize made */
    ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

/* ---- tools ------------------------------------------------------------------------ */

typedef struct {
    char *out; /* stdout + stderr, NUL-terminated */
    size_t len;
    int status; /* exit status, or 128 + signal */
} run_result;

/* Run argv (env entries "NAME=value" set in the child), bounded to 20 s. */
static void run_capture(const char *const *argv, const char *const *env, run_result *r)
{
    int p[2];
    ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        for (size_t i = 0; env != NULL && env[i] != NULL; i++) {
            putenv((char *)env[i]);
        }
        umask(0); /* whatever the tool creates must not depend on ours */
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    size_t cap = 65536;
    r->out = malloc(cap);
    r->len = 0;
    struct pollfd pf = {.fd = p[0], .events = POLLIN};
    uint64_t deadline = lwss_test_now_ms() + 20000;
    while (lwss_test_now_ms() < deadline && poll(&pf, 1, 200) >= 0) {
        if (r->len + 4096 > cap) {
            cap *= 2;
            r->out = realloc(r->out, cap);
        }
        ssize_t n = read(p[0], r->out + r->len, cap - r->len - 1);
        if (n == 0) {
            break;
        }
        r->len += n > 0 ? (size_t)n : 0;
    }
    close(p[0]);
    r->out[r->len] = '\0';
    int st = 0;
    /* EOF comes as the child exits: give it the rest of the bound to be reaped */
    while (waitpid(pid, &st, WNOHANG) == 0 && lwss_test_now_ms() < deadline) {
        usleep(2000);
    }
    if (lwss_test_now_ms() >= deadline && waitpid(pid, &st, WNOHANG) == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        ck_abort_msg("%s did not finish in 20 s; it printed: %.2000s", argv[0], r->out);
    }
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char tool_dir[256];
static char tool_image[320];

static void tools_setup(void)
{
    lwss_leak_setup_fds();
    snprintf(tool_dir, sizeof(tool_dir), "%s/lwss-sec-XXXXXX", lwss_test_env("TMPDIR", "/tmp"));
    ck_assert_ptr_nonnull(mkdtemp(tool_dir));
    snprintf(tool_image, sizeof(tool_image), "%s/nvm.img", tool_dir);
}

static void tools_teardown(void)
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tool_dir);
    ck_assert_int_eq(system(cmd), 0);
    lwss_leak_teardown_fds();
}

static const char *tool(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/bin/%s", lwss_test_build_dir(), name);
    return out;
}

/* Run a tool; its output must not hold the key.  @return its exit status. */
static int run_clean(const secret_set *ss, const char *const *argv, const char *const *env)
{
    run_result r;
    run_capture(argv, env, &r);
    char where[600];
    snprintf(where, sizeof(where), "output of %s %s %s", argv[0], argv[1], argv[2] ? argv[2] : "");
    assert_no_secret(ss, r.out, r.len, where);
    int st = r.status;
    free(r.out);
    return st;
}

/* Written files must not hold it either (absent is fine). */
static void file_clean(const secret_set *ss, const char *path)
{
    size_t len = 0;
    uint8_t *data = lwss_p11t_read_file(path, &len);
    if (data != NULL) {
        assert_no_secret(ss, data, len, path);
        free(data);
    }
}

/* Provision @p base (client-ec / client-rsa) into tool_image with lwss-provision. */
static void provision_file_key(const char *base, secret_set *ss)
{
    char prov[512], crt[512], key[512], ca[512], name[64];
    snprintf(name, sizeof(name), "%s.crt", base);
    lwss_tt_cert_path(name, crt, sizeof(crt));
    snprintf(name, sizeof(name), "%s.key", base);
    lwss_tt_cert_path(name, key, sizeof(key));
    lwss_tt_cert_path("ca.crt", ca, sizeof(ca));
    size_t len = 0;
    unsigned char *pem = lwss_tt_read_file(key, &len);
    ck_assert_ptr_nonnull(pem);
    learn_secrets((const char *)pem, ss);
    free(pem);
    unlink(tool_image);
    const char *const argv[] = {tool("lwss-provision", prov, sizeof(prov)), "--image", tool_image,
                                "import", "--cert", crt, "--key", key, "--root-ca", ca, NULL};
    ck_assert_int_eq(run_clean(ss, argv, NULL), 0);
    struct stat st;
    ck_assert_int_eq(stat(tool_image, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600); /* made under umask 0 */
}

static void nvm_tools_never_print(const secret_set *ss)
{
    char nvm[512], prov[512], out[400];
    tool("lwss-nvm", nvm, sizeof(nvm));
    tool("lwss-provision", prov, sizeof(prov));
    snprintf(out, sizeof(out), "%s/export.out", tool_dir);
    static const char label[] = pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS;
    const char *const refused[][9] = {
        {nvm, "export", tool_image, label, "--class", "3", "--der", "-o", out},
        {nvm, "export", tool_image, label, "--pem", NULL},
        {nvm, "export", tool_image, label, NULL},
        {nvm, "--json", "export", tool_image, label, "--class", "3", NULL},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        const char *argv[10] = {0};
        memcpy(argv, refused[i], sizeof(refused[i]));
        ck_assert_int_ne(run_clean(ss, argv, NULL), 0);
        file_clean(ss, out);
    }
    const char *const fine[][5] = {
        {nvm, "list", tool_image, NULL},   {nvm, "--json", "list", tool_image, NULL},
        {nvm, "sectors", tool_image, NULL}, {nvm, "verify", tool_image, NULL},
        {prov, "--image", tool_image, "show", NULL},
    };
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        const char *argv[6] = {0};
        memcpy(argv, fine[i], sizeof(fine[i]));
        ck_assert_int_eq(run_clean(ss, argv, NULL), 0);
    }
}

/* Under ASan the module needs the sanitizer runtime in the host tool. */
static void module_env(const char **env, size_t max)
{
    static char nvm_env[400], preload[700];
    snprintf(nvm_env, sizeof(nvm_env), "LWSS_NVM=%s", tool_image);
    size_t n = 0;
    env[n++] = nvm_env;
#if defined(__SANITIZE_ADDRESS__)
    FILE *p = popen("echo \"$(cc -print-file-name=libasan.so) $(cc -print-file-name=libubsan.so)\"",
                    "r");
    ck_assert_ptr_nonnull(p);
    char libs[512] = "";
    ck_assert_ptr_nonnull(fgets(libs, sizeof(libs), p));
    pclose(p);
    libs[strcspn(libs, "\n")] = '\0';
    snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", libs);
    env[n++] = preload;
    env[n++] = "ASAN_OPTIONS=detect_leaks=0:intercept_strcmp=0:replace_intrin=0:intercept_memcmp=0";
#else
    (void)preload;
#endif
    ck_assert_uint_lt(n, max);
    env[n] = NULL;
}

/* What any PKCS #11 application loading lwss-pkcs11.so could read. */
static void module_never_reads(const secret_set *ss)
{
    char module[512];
    snprintf(module, sizeof(module), "%s/lib/lwss-pkcs11.so", lwss_test_build_dir());
    void *lib = dlopen(module, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(lib != NULL, "dlopen %s: %s", module, dlerror());
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(lib, "C_GetFunctionList");
    ck_assert_ptr_nonnull(get);
    CK_FUNCTION_LIST_PTR fl = NULL;
    ck_assert_int_eq(get(&fl), CKR_OK);
    setenv("LWSS_NVM", tool_image, 1);
    ck_assert_int_eq(fl->C_Initialize(NULL), CKR_OK);
    CK_SESSION_HANDLE s;
    ck_assert_int_eq(fl->C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
    ck_assert_int_eq(fl->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "0000", 4), CKR_OK);
    CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)}};
    CK_OBJECT_HANDLE key[4];
    CK_ULONG n = 0;
    ck_assert_int_eq(fl->C_FindObjectsInit(s, t, 1), CKR_OK);
    ck_assert_int_eq(fl->C_FindObjects(s, key, 4, &n), CKR_OK);
    ck_assert_int_eq(fl->C_FindObjectsFinal(s), CKR_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_int_ge(sweep_with(fl, s, key[0], ss), 8);
    /* every object of the image */
    ck_assert_int_eq(fl->C_FindObjectsInit(s, NULL, 0), CKR_OK);
    ck_assert_int_eq(fl->C_FindObjects(s, key, 4, &n), CKR_OK);
    ck_assert_int_eq(fl->C_FindObjectsFinal(s), CKR_OK);
    ck_assert_int_eq(n, 4);
    for (CK_ULONG i = 0; i < n; i++) {
        sweep_with(fl, s, key[i], ss);
    }
    ck_assert_int_eq(fl->C_Finalize(NULL), CKR_OK);
    unsetenv("LWSS_NVM");
    dlclose(lib);
}

/* OpenSC's pkcs11-tool: no private key comes out (it declines by itself). */
static void pkcs11_tool_never_reads(const secret_set *ss)
{
    char module[512], out[400];
    snprintf(module, sizeof(module), "%s/lib/lwss-pkcs11.so", lwss_test_build_dir());
    snprintf(out, sizeof(out), "%s/p11.out", tool_dir);
    const char *env[5];
    module_env(env, 5);
    static const char label[] = pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS;
    const char *const read_priv[] = {"pkcs11-tool", "--module", module, "--read-object", "--type",
                                     "privkey", "--label", label, "-o", out, NULL};
    run_clean(ss, read_priv, env);
    file_clean(ss, out);
    const char *const read_login[] = {"pkcs11-tool", "--module", module, "--login", "--pin", "0000",
                                      "--read-object", "--type", "privkey", "--label", label, "-o",
                                      out, NULL};
    run_clean(ss, read_login, env);
    file_clean(ss, out);
    const char *const list[] = {"pkcs11-tool", "--module", module, "--login", "--pin", "0000",
                                "--list-objects", NULL};
    ck_assert_int_eq(run_clean(ss, list, env), 0);
}

START_TEST(tools_never_print_private_keys)
{
    static const char *const bases[] = {"client-ec", "client-rsa"};
    for (size_t i = 0; i < 2; i++) {
        secret_set ss;
        provision_file_key(bases[i], &ss);
        /* the image plays flash: it holds the key (mode 0600, checked above) */
        size_t len = 0;
        uint8_t *img = lwss_p11t_read_file(tool_image, &len);
        ck_assert_ptr_nonnull(find_secret(&ss, img, len));
        free(img);
        nvm_tools_never_print(&ss);
        module_never_reads(&ss);
        pkcs11_tool_never_reads(&ss);
    }
}
END_TEST

/* ---- rig: the app with every debug output on ------------------------------------- */

START_TEST(debug_outputs_of_the_app_hold_no_key_material)
{
    ck_assert_msg(lwss_test_in_rig(), "rig suites must run inside scripts/rig.sh");
    ck_assert_msg(getenv("LWSS_ECHO_TLS_PORT") != NULL, "the rig has no TLS echo listener");
    secret_set ss;
    provision_file_key("client-ec", &ss);
    char demo[512], pcap_env[400], keylog_env[400], nvm_env[400], pcap[350], keylog[350];
    snprintf(pcap, sizeof(pcap), "%s/app.pcap", tool_dir);
    snprintf(keylog, sizeof(keylog), "%s/keylog.txt", tool_dir);
    snprintf(pcap_env, sizeof(pcap_env), "LWSS_PCAP=%s", pcap);
    snprintf(keylog_env, sizeof(keylog_env), "SSLKEYLOGFILE=%s", keylog);
    snprintf(nvm_env, sizeof(nvm_env), "LWSS_NVM=%s", tool_image);
    const char *const env[] = {pcap_env, keylog_env, nvm_env, NULL};
    const char *const argv[] = {tool("lwss-demo", demo, sizeof(demo)), "--host", "echo.lwss.test",
                                "--port", getenv("LWSS_ECHO_TLS_PORT"), "--message",
                                "security review", NULL};
    run_result r;
    run_capture(argv, env, &r);
    assert_no_secret(&ss, r.out, r.len, "lwss-demo output");
    ck_assert_msg(r.status == 0, "lwss-demo failed (%d): %s", r.status, r.out);
    free(r.out);
    file_clean(&ss, pcap);
    file_clean(&ss, keylog);
    ck_assert_int_gt(lwss_p11t_file_size(pcap), 1000); /* the outputs were really written */
    size_t len = 0;
    uint8_t *kl = lwss_p11t_read_file(keylog, &len);
    ck_assert_ptr_nonnull(kl);
    ck_assert_ptr_nonnull(memmem(kl, len, "CLIENT_RANDOM ", 14));
    free(kl);
    struct stat st;
    ck_assert_int_eq(stat(keylog, &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600); /* session secrets: owner only */
}
END_TEST

Suite *security_suite(void);
Suite *security_suite(void)
{
    Suite *s = suite_create("security");
    TCase *tok = tcase_create("token");
    tcase_add_checked_fixture(tok, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_set_timeout(tok, 60);
    tcase_add_test(tok, no_attribute_of_a_private_key_holds_its_secret);
    tcase_add_test(tok, sensitivity_cannot_be_lowered_and_keys_not_copied_or_wrapped);
    tcase_add_test(tok, images_are_created_0600_whatever_the_umask);
    suite_add_tcase(s, tok);
    TCase *tools = tcase_create("tools");
    tcase_add_checked_fixture(tools, tools_setup, tools_teardown);
    tcase_set_timeout(tools, 120);
    tcase_add_test(tools, tools_never_print_private_keys);
    suite_add_tcase(s, tools);
    return s;
}

Suite *security_rig_suite(void);
Suite *security_rig_suite(void)
{
    Suite *s = suite_create("security_rig");
    TCase *tc = tcase_create("app");
    tcase_add_checked_fixture(tc, tools_setup, tools_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, debug_outputs_of_the_app_hold_no_key_material);
    suite_add_tcase(s, tc);
    return s;
}
