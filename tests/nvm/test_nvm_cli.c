/* nvm suite, part 4: the lwss-nvm tool on images the library wrote. */
#include "tests/support/lwss_test.h"
#include "tests/support/nvm_util.h"

#include "lwss/pkcs11_std.h"
#include "lwss/port.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char cli_out[16384];
static char cert_der[512];

/* Run lwss-nvm with @p args (shell words); output in cli_out; exit code. */
static int cli(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s/bin/lwss-nvm %s 2>&1", lwss_test_build_dir(), args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(cli_out, 1, sizeof(cli_out) - 1, p);
    cli_out[n] = '\0';
    int st = pclose(p);
    ck_assert_msg(WIFEXITED(st), "lwss-nvm did not exit: %s", args);
    return WEXITSTATUS(st);
}

/* Run lwss-nvm with printf-style arguments; assert its exit code and,
 * when @p needle is given, that the output contains it. */
static void cli_expect(int code, const char *needle, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cli_expect(int code, const char *needle, const char *fmt, ...)
{
    char args[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    int got = cli(args);
    ck_assert_msg(got == code, "lwss-nvm %s: exit %d, wanted %d: %s", args, got, code, cli_out);
    if (needle != NULL) {
        ck_assert_msg(strstr(cli_out, needle) != NULL, "lwss-nvm %s: no '%s' in: %s", args,
                      needle, cli_out);
    }
}

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), fmt, a, b);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static uint8_t buf[8192];
    *len = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return buf;
}

/* A real certificate (openssl), a private key and a data blob. */
static void populate(void)
{
    snprintf(cert_der, sizeof(cert_der), "%s.crt.der", lwss_tnvm_path());
    ck_assert_int_eq(sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                        "-keyout %s.key -subj /CN=lwss-nvm-test -days 1 -outform DER -out %s "
                        ">/dev/null 2>&1",
                        lwss_tnvm_path(), cert_der),
                     0);
    size_t len = 0;
    uint8_t *der = slurp(cert_der, &len);
    ck_assert_uint_gt(len, 100);
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    lwss_nvm_meta m = lwss_tnvm_meta("Device Cert", CKO_CERTIFICATE, 0);
    ck_assert_uint_ne(lwss_nvm_save(&m, der, len), 0);
    m = lwss_tnvm_meta("Device Priv TLS Key", CKO_PRIVATE_KEY, 1);
    ck_assert_uint_ne(lwss_nvm_save(&m, (const uint8_t *)"secret-bytes", 12), 0);
    lwss_tnvm_put("blob", 77, 1);
    lwss_nvm_close();
}

START_TEST(test_cli_list_sectors_export)
{
    populate();
    const char *img = lwss_tnvm_path();
    cli_expect(0, "Device Cert", "list %s", img);
    ck_assert_ptr_nonnull(strstr(cli_out, "certificate"));
    ck_assert_ptr_nonnull(strstr(cli_out, "private-key"));
    ck_assert_ptr_null(strstr(cli_out, "secret-bytes"));
    cli_expect(0, "\"label\":\"blob\"", "--json list %s", img);
    ck_assert_ptr_nonnull(strstr(cli_out, "\"crc\":\"ok\""));
    ck_assert_ptr_nonnull(strstr(cli_out, "\"live\":3"));

    cli_expect(0, "used", "sectors %s", img);
    ck_assert_ptr_nonnull(strstr(cli_out, "<- head"));
    cli_expect(0, "\"erase_count\":0", "--json sectors %s", img);

    /* DER export is the stored value; PEM export is what openssl reads. */
    cli_expect(0, NULL, "export %s 'Device Cert' -o %s.out.der", img, img);
    ck_assert_int_eq(sh("cmp -s %s.out.der %s", img, cert_der), 0);
    cli_expect(0, NULL, "export %s 'Device Cert' --pem -o %s.out.pem", img, img);
    ck_assert_int_eq(sh("openssl x509 -in %s.out.pem -outform DER -out %s.rt.der", img, img), 0);
    ck_assert_int_eq(sh("cmp -s %s.rt.der %s", img, cert_der), 0);
    cli_expect(1, "private", "export %s 'Device Priv TLS Key'", img);
    ck_assert_ptr_null(strstr(cli_out, "secret-bytes"));
    cli_expect(1, NULL, "export %s 'No Such'", img);
    sh("rm -f %s.out.der %s.out.pem", img, img);
    sh("rm -f %s.rt.der %s.key", img, img);
    sh("rm -f %s %s", cert_der, "/dev/null/none");
}
END_TEST

START_TEST(test_cli_verify_detects_damage)
{
    populate();
    const char *img = lwss_tnvm_path();
    cli_expect(0, "OK", "verify %s", img);

    size_t len = 0, der_len = 0;
    uint8_t *image = lwss_tnvm_read_image(&len);
    uint8_t *der = slurp(cert_der, &der_len);
    uint8_t *at = memmem(image, len, der, der_len);
    ck_assert_ptr_nonnull(at);
    at[der_len / 2] ^= 0x10;
    lwss_tnvm_write_image(image, len);
    free(image);
    cli_expect(1, "CORRUPT", "verify %s", img);
    cli_expect(1, "\"ok\":false", "--json verify %s", img);
    cli_expect(0, "BAD", "list %s", img);

    /* A flipped bit in sector 0's header: its records are still listed. */
    image = lwss_tnvm_read_image(&len);
    image[9] ^= 0x01;
    lwss_tnvm_write_image(image, len);
    free(image);
    cli_expect(0, "salvaged", "sectors %s", img);
    cli_expect(0, "Device Priv TLS Key", "list %s", img);
    ck_assert_ptr_nonnull(strstr(cli_out, "blob"));
    cli_expect(1, "sector header", "verify %s", img);
    sh("rm -f %s %s.key", cert_der, img);
}
END_TEST

START_TEST(test_cli_create_usage_and_lock)
{
    const char *img = lwss_tnvm_path();
    cli_expect(0, NULL, "create %s --size 16k --sector 1024", img);
    cli_expect(1, "--force", "create %s --size 16k --sector 1024", img); /* exists */
    cli_expect(0, "\"sectors\":16", "--json create %s --size 16k --sector 1024 --force", img);
    cli_expect(1, NULL, "create %s.bad --size 1000 --sector 300", img);
    ck_assert_int_eq(cli("frobnicate x"), 2);
    ck_assert_int_eq(cli("--json"), 2);

    /* The library opens the image made by the tool, with its geometry. */
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    lwss_tnvm_put("x", 10, 1);
    /* Held by this process: the tool gives up after its bound, clearly. */
    setenv("LWSS_NVM_LOCK_MS", "100", 1);
    cli_expect(1, "locked", "list %s", img);
    cli_expect(1, "locked", "create %s --force", img); /* not pulled from under us */
    unsetenv("LWSS_NVM_LOCK_MS");
    lwss_tnvm_put("y", 10, 2);
    ck_assert(lwss_tnvm_has("x", 10, 1));
    lwss_nvm_close();
    cli_expect(0, "\"label\":\"x\"", "--json list %s", img);
}
END_TEST

/* One non-image path: the library, lwss-nvm and lwss-provision refuse it at
 * once with a message naming what it is (issue 14: a FIFO blocked open()). */
static void refuse_path(const char *path, const char *what)
{
    ck_assert_int_eq(lwss_nvm_set_path(path), 0);
    int ret = lwss_nvm_open(&lwss_tnvm_small);
    ck_assert_msg(ret == LWSS_ERR_INVAL, "%s: open gave %d", path, ret);
    ck_assert_msg(strstr(lwss_last_error(), what) != NULL, "%s: %s", path, lwss_last_error());
    cli_expect(1, what, "verify %s", path);
    cli_expect(1, what, "list %s", path);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "timeout 20 %s/bin/lwss-provision --image %s set-pin --new-pin 12345678 2>&1",
             lwss_test_build_dir(), path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(cli_out, 1, sizeof(cli_out) - 1, p);
    cli_out[n] = '\0';
    int st = pclose(p);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) != 0 && WEXITSTATUS(st) != 124,
                  "lwss-provision on %s: status %d: %s", path, st, cli_out);
    ck_assert_msg(strstr(cli_out, what) != NULL, "lwss-provision on %s: %s", path, cli_out);
}

START_TEST(test_cli_refuses_what_is_no_image)
{
    char dir[512], path[600], link[600];
    snprintf(dir, sizeof(dir), "%s", lwss_tnvm_path());
    *strrchr(dir, '/') = '\0';

    snprintf(path, sizeof(path), "%s/fifo", dir);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    refuse_path(path, "FIFO");
    snprintf(link, sizeof(link), "%s/to-fifo", dir);
    ck_assert_int_eq(symlink(path, link), 0);
    refuse_path(link, "FIFO");
    unlink(link);
    unlink(path);

    snprintf(path, sizeof(path), "%s/sock", dir);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    refuse_path(path, "socket");
    close(fd);
    unlink(path);

    snprintf(path, sizeof(path), "%s/subdir", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    refuse_path(path, "directory");
    rmdir(path);

    snprintf(link, sizeof(link), "%s/to-dev", dir);
    ck_assert_int_eq(symlink("/dev/null", link), 0);
    refuse_path(link, "device");
    unlink(link);

    /* group- or other-writable image: refused, saying why (as ssh does) */
    ck_assert_int_eq(lwss_nvm_set_path(lwss_tnvm_path()), 0);
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    lwss_tnvm_put("x", 10, 1);
    lwss_nvm_close();
    struct stat st;
    ck_assert_int_eq(stat(lwss_tnvm_path(), &st), 0);
    ck_assert_uint_eq(st.st_mode & 0777, 0600); /* as created */
    ck_assert_int_eq(chmod(lwss_tnvm_path(), 0620), 0);
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), LWSS_ERR_PERM);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "too open"));
    cli_expect(1, "too open", "verify %s", lwss_tnvm_path());
    ck_assert_int_eq(chmod(lwss_tnvm_path(), 0644), 0); /* readable by others is fine */
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    ck_assert(lwss_tnvm_has("x", 10, 1));
    lwss_nvm_close();
}
END_TEST

void lwss_tnvm_add_cli(Suite *s)
{
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, lwss_tnvm_setup, lwss_tnvm_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cli_list_sectors_export);
    tcase_add_test(tc, test_cli_verify_detects_damage);
    tcase_add_test(tc, test_cli_create_usage_and_lock);
    tcase_add_test(tc, test_cli_refuses_what_is_no_image);
    suite_add_tcase(s, tc);
}
