/* lwss-echo-server as a process, inside the rig namespace: echo, many
 * clients, idle timeout, SIGTERM, stats, bad arguments. */
#include "tests/support/lwss_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define ADDR "192.0.2.1"
#define PORT 7070

static char ready_path[512], stats_path[512];

static pid_t start_server(const char *extra1, const char *extra2)
{
    const char *dir = lwss_test_env("LWSS_RIG_RUNDIR", "/tmp");
    snprintf(ready_path, sizeof(ready_path), "%s/t-echo.%d.ready", dir, (int)getpid());
    snprintf(stats_path, sizeof(stats_path), "%s/t-echo.%d.stats", dir, (int)getpid());
    unlink(ready_path);
    char bin[512];
    snprintf(bin, sizeof(bin), "%s/bin/lwss-echo-server", lwss_test_build_dir());
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char port[8];
        snprintf(port, sizeof(port), "%d", PORT);
        execl(bin, bin, "--addr", ADDR, "--port", port, "--ready-file", ready_path,
              "--stats-file", stats_path, "--idle-timeout", "1", extra1, extra2, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int wait_ready(void)
{
    for (int i = 0; i < 100; i++) {
        if (access(ready_path, F_OK) == 0) {
            return 1;
        }
        usleep(20000);
    }
    return 0;
}

static int exit_status(pid_t pid, unsigned ms)
{
    for (unsigned waited = 0; waited < ms; waited += 10) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        }
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static int client(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT),
                            .sin_addr.s_addr = inet_addr(ADDR)};
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void echo_roundtrip(int fd, size_t len, unsigned seed)
{
    static char out[10000], in[10000];
    for (size_t i = 0; i < len; i++) {
        out[i] = (char)(i * 13u + seed);
    }
    ck_assert_int_eq(send(fd, out, len, MSG_NOSIGNAL), (ssize_t)len);
    size_t got = 0;
    while (got < len) {
        ssize_t n = recv(fd, in + got, len - got, 0);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    ck_assert_mem_eq(in, out, len);
}

static long stat_value(const char *key)
{
    FILE *f = fopen(stats_path, "r");
    if (f == NULL) {
        return -1;
    }
    char line[512] = "";
    char *got = fgets(line, sizeof(line), f);
    fclose(f);
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\":", key);
    char *p = got != NULL ? strstr(line, pat) : NULL;
    return p != NULL ? strtol(p + strlen(pat), NULL, 10) : -1;
}

START_TEST(echoes_many_clients_idles_out_and_stops_cleanly)
{
    pid_t pid = start_server(NULL, NULL);
    ck_assert_msg(wait_ready(), "echo server did not write its ready file");
    int one = client();
    echo_roundtrip(one, 10000, 1); /* more than one 4096-byte read */
    int many[20];
    for (int i = 0; i < 20; i++) {
        many[i] = client();
    }
    for (int i = 0; i < 20; i++) {
        echo_roundtrip(many[i], 100, (unsigned)i);
    }
    for (int i = 0; i < 20; i++) {
        close(many[i]);
    }
    /* Idle for longer than --idle-timeout 1: the server hangs up. */
    int idle = client();
    char b[4];
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_eq(recv(idle, b, sizeof(b), 0), 0);
    uint64_t took = lwss_test_now_ms() - t0;
    ck_assert_msg(took >= 900 && took < 3000, "idle close after %llu ms", (unsigned long long)took);
    close(idle);
    /* SIGTERM with a connection still open. */
    ck_assert_int_eq(kill(pid, SIGTERM), 0);
    ck_assert_int_eq(exit_status(pid, 5000), 0);
    ck_assert_int_eq(recv(one, b, sizeof(b), 0), 0);
    close(one);
    ck_assert_int_eq(stat_value("connections"), 22);
    ck_assert_int_eq(stat_value("bytes"), 10000 + 20 * 100);
    ck_assert_int_eq(stat_value("active"), 0);
    unlink(ready_path);
    unlink(stats_path);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    pid_t pid = start_server("--port", "0");
    ck_assert_int_eq(exit_status(pid, 3000), 2);
    /* A TLS port whose certificate cannot be loaded (or no TLS listener built in). */
    pid = start_server("--tls-port", "7071");
    ck_assert_int_ne(exit_status(pid, 3000), 0);
    ck_assert_int_ne(access(ready_path, F_OK), 0);
}
END_TEST

Suite *echo_server_rig_suite(void);

Suite *echo_server_rig_suite(void)
{
    Suite *s = suite_create("echo_server_rig");
    TCase *tc = tcase_create("process");
    tcase_add_checked_fixture(tc, lwss_leak_setup_fds, lwss_leak_teardown_fds);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, echoes_many_clients_idles_out_and_stops_cleanly);
    tcase_add_test(tc, bad_arguments_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
