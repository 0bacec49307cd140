/* Helpers for the TLS rig suites (see tls_rig_util.h). */
#include "tests/support/tls_rig_util.h"
#include "tests/support/lwss_test.h"
#include "tests/support/tls_test_util.h"
#include "lwss/nvm.h"
#include "lwss/pkcs11.h"
#include "lwss/port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char image_dir[256];
static char image_path[300];

static void import(CK_SESSION_HANDLE s, const char *label, const char *file, int is_key)
{
    char path[512];
    size_t len = 0;
    unsigned char *data = lwss_tt_read_file(lwss_tt_cert_path(file, path, sizeof(path)), &len);
    ck_assert_msg(data != NULL, "cannot read %s", path);
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    CK_RV rv = is_key ? lwss_pkcs11_import_key(s, label, NULL, 0, data, len, LWSS_PKCS11_PRIVATE, &h)
                      : lwss_pkcs11_import_cert(s, label, NULL, 0, data, len, &h);
    free(data);
    ck_assert_msg(rv == CKR_OK, "import %s as \"%s\": rv 0x%lx", file, label, (unsigned long)rv);
}

void lwss_tr_provision(lwss_tr_identity who, int with_root)
{
    snprintf(image_dir, sizeof(image_dir), "%s/lwss-tls-XXXXXX", lwss_test_env("TMPDIR", "/tmp"));
    ck_assert_ptr_nonnull(mkdtemp(image_dir));
    snprintf(image_path, sizeof(image_path), "%s/nvm.img", image_dir);
    ck_assert_int_eq(lwss_nvm_set_path(image_path), 0);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    CK_SLOT_ID slot;
    CK_ULONG n = 1;
    ck_assert_int_eq(C_GetSlotList(CK_TRUE, &slot, &n), CKR_OK);
    CK_SESSION_HANDLE s;
    ck_assert_int_eq(C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s), CKR_OK);
    if (with_root) {
        import(s, pkcs11configLABEL_ROOT_CERTIFICATE, "ca.crt", 0);
    }
    if (who != LWSS_TR_NO_CLIENT) {
        const char *base = who == LWSS_TR_EC ? "client-ec" : who == LWSS_TR_RSA ? "client-rsa"
                                                                                 : "untrusted";
        char cert[64], key[64];
        snprintf(cert, sizeof(cert), "%s.crt", base);
        snprintf(key, sizeof(key), "%s.key", base);
        import(s, pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS, cert, 0);
        import(s, pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS, key, 1);
    }
    ck_assert_int_eq(C_CloseSession(s), CKR_OK);
}

void lwss_tr_unprovision(void)
{
    C_Finalize(NULL);
    if (image_path[0] != '\0') {
        unlink(image_path);
        rmdir(image_dir);
    }
    image_path[0] = '\0';
}

void lwss_tr_stack_up(void)
{
    ck_assert_msg(lwss_test_in_rig(), "rig suites must run inside scripts/rig.sh");
    ck_assert_msg(getenv("LWSS_ECHO_TLS_PORT") != NULL,
                  "the rig has no TLS echo listener (certificates missing?)");
    int rc = lwss_port_up(NULL);
    ck_assert_msg(rc == LWSS_OK, "lwss_port_up: %s", lwss_last_error());
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
}

void lwss_tr_stack_down(void)
{
    lwss_port_down();
}

SocketsSockaddr_t lwss_tr_peer(uint16_t port)
{
    SocketsSockaddr_t a = {.ucLength = sizeof(a), .ucSocketDomain = SOCKETS_AF_INET,
                           .usPort = SOCKETS_htons(port),
                           .ulAddress = inet_addr(lwss_test_env("LWSS_RIG_PEER", "192.0.2.1"))};
    return a;
}

uint16_t lwss_tr_tls_port(void)
{
    return (uint16_t)atoi(lwss_test_env("LWSS_ECHO_TLS_PORT", "8883"));
}

uint16_t lwss_tr_plain_port(void)
{
    return (uint16_t)atoi(lwss_test_env("LWSS_ECHO_PORT", "7"));
}

int32_t lwss_tr_connect_tls(Socket_t *out, uint16_t port, const char *sni)
{
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_ptr_ne(s, SOCKETS_INVALID_SOCKET);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0), 0);
    if (sni != NULL) {
        ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, sni,
                                            strlen(sni)), 0);
    }
    TickType_t t = pdMS_TO_TICKS(5000);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t)), 0);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SNDTIMEO, &t, sizeof(t)), 0);
    SocketsSockaddr_t a = lwss_tr_peer(port);
    int32_t rc = SOCKETS_Connect(s, &a, sizeof(a));
    if (rc != SOCKETS_ERROR_NONE) {
        SOCKETS_Close(s);
        s = SOCKETS_INVALID_SOCKET;
    }
    *out = s;
    return rc;
}

void lwss_tr_echo(Socket_t s, size_t len, uint8_t seed)
{
    uint8_t *out = malloc(len), *in = malloc(len + 4);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i < len; i++) {
        out[i] = (uint8_t)(seed + i * 31);
    }
    size_t sent = 0;
    while (sent < len) {
        int32_t n = SOCKETS_Send(s, out + sent, len - sent, 0);
        ck_assert_int_gt(n, 0);
        sent += (size_t)n;
    }
    memset(in, 0xEE, len + 4);
    size_t got = 0;
    while (got < len) {
        int32_t n = SOCKETS_Recv(s, in + got, len - got, 0);
        ck_assert_msg(n > 0, "Recv after %zu of %zu bytes: %d", got, len, (int)n);
        got += (size_t)n;
    }
    ck_assert_mem_eq(in, out, len);
    ck_assert_uint_eq(in[len], 0xEE); /* no overrun */
    free(out);
    free(in);
}

/* Read what the server printed; with @p until_accept, stop at "ACCEPT". */
static void read_available(lwss_tr_sserver *s, int timeout_ms, int until_accept)
{
    struct pollfd p = {.fd = s->out_fd, .events = POLLIN};
    while (s->log_len + 1 < sizeof(s->log) && poll(&p, 1, timeout_ms) > 0) {
        ssize_t n = read(s->out_fd, s->log + s->log_len, sizeof(s->log) - 1 - s->log_len);
        if (n <= 0) {
            break;
        }
        s->log_len += (size_t)n;
        s->log[s->log_len] = '\0';
        if (until_accept && strstr(s->log, "ACCEPT") != NULL) {
            break;
        }
    }
}

void lwss_tr_sserver_start(lwss_tr_sserver *s, uint16_t port, const char *cert, const char *key,
                           const char *const *extra)
{
    char accept[64], cert_path[512], key_path[512];
    snprintf(accept, sizeof(accept), "%s:%u", lwss_test_env("LWSS_RIG_PEER", "192.0.2.1"), port);
    const char *argv[40] = {"timeout", "30", "openssl", "s_server", "-accept", accept,
                            "-cert", lwss_tt_cert_path(cert, cert_path, sizeof(cert_path)),
                            "-key", lwss_tt_cert_path(key, key_path, sizeof(key_path)),
                            "-tls1_2", "-naccept", "1", "-rev"};
    /* -rev: answers reversed lines and never reads stdin (whose EOF would
     * otherwise make s_server drop the connection). */
    size_t n = 14;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 39; i++) {
        argv[n++] = extra[i];
    }
    argv[n] = NULL;
    int pipefd[2];
    ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
    memset(s, 0, sizeof(*s));
    s->pid = fork();
    ck_assert_int_ge(s->pid, 0);
    if (s->pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    s->out_fd = pipefd[0];
    uint64_t deadline = lwss_test_now_ms() + 5000;
    while (strstr(s->log, "ACCEPT") == NULL && lwss_test_now_ms() < deadline) {
        read_available(s, 100, 1);
    }
    ck_assert_msg(strstr(s->log, "ACCEPT") != NULL, "openssl s_server did not start: %s", s->log);
}

void lwss_tr_sserver_stop(lwss_tr_sserver *s)
{
    /* give it a moment to print what it saw, then stop it */
    read_available(s, 300, 0);
    kill(s->pid, SIGTERM);
    int status;
    waitpid(s->pid, &status, 0);
    read_available(s, 0, 0);
    close(s->out_fd);
}

pid_t lwss_tr_echo_start(uint16_t port, uint16_t tls_port, int any_client)
{
    char bin[512], p[16], tp[16], cert[512], key[512], ca[512], ready[512];
    snprintf(bin, sizeof(bin), "%s/bin/lwss-echo-server", lwss_test_build_dir());
    snprintf(p, sizeof(p), "%u", port);
    snprintf(tp, sizeof(tp), "%u", tls_port);
    snprintf(ready, sizeof(ready), "%s/echo-%u.ready", lwss_test_env("LWSS_RIG_RUNDIR", "/tmp"), port);
    unlink(ready);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execl(bin, bin, "--addr", lwss_test_env("LWSS_RIG_PEER", "192.0.2.1"), "--port", p,
              "--tls-port", tp, "--cert", lwss_tt_cert_path("server.crt", cert, sizeof(cert)),
              "--key", lwss_tt_cert_path("server.key", key, sizeof(key)),
              "--ca", lwss_tt_cert_path("ca.crt", ca, sizeof(ca)), "--ready-file", ready,
              any_client ? "--tls-any-client" : (char *)NULL, (char *)NULL);
        _exit(127);
    }
    uint64_t deadline = lwss_test_now_ms() + 5000;
    while (access(ready, F_OK) != 0 && lwss_test_now_ms() < deadline) {
        usleep(20000);
    }
    if (access(ready, F_OK) != 0) {
        lwss_tr_echo_stop(pid);
        ck_abort_msg("%s did not become ready", bin);
    }
    unlink(ready);
    return pid;
}

void lwss_tr_echo_stop(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < 50 && waitpid(pid, NULL, WNOHANG) == 0; i++) {
        usleep(100000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

long lwss_tr_echo_stat(const char *key)
{
    char path[512], pat[64];
    snprintf(path, sizeof(path), "%s/echo.stats", lwss_test_env("LWSS_RIG_RUNDIR", "."));
    size_t len = 0;
    unsigned char *text = lwss_tt_read_file(path, &len);
    if (text == NULL) {
        return -1;
    }
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *p = strstr((const char *)text, pat);
    long v = p != NULL ? strtol(p + strlen(pat), NULL, 10) : -1;
    free(text);
    return v;
}

int lwss_tr_file_contains(const char *path, const void *needle, size_t len)
{
    size_t n = 0;
    unsigned char *data = lwss_tt_read_file(path, &n);
    int found = data != NULL && memmem(data, n, needle, len) != NULL;
    free(data);
    return found;
}
