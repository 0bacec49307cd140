/* Rig tests of the port's life cycle seen from outside the stack: which
 * threads lwss leaves behind, and what a new process looks like on the
 * wire. */
#include "tests/support/lwss_test.h"
#include "tests/support/port_rig_util.h"
#include "iot_secure_sockets.h"
#include "lwss/port.h"
#include "lwip_port/tap_netif.h"

#include "lwip/sockets.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void rig_setup(void)
{
    ck_assert_msg(lwss_test_in_rig(), "rig suites must run inside scripts/rig.sh");
    lwss_leak_setup_fds();
}

#define MAX_BEFORE 16

/* Threads that ran before the test (the caller; a sanitizer's own). */
typedef struct {
    long tid[MAX_BEFORE];
    int n;
} thread_set;

static int in_set(const thread_set *set, long tid)
{
    for (int i = 0; i < set->n; i++) {
        if (set->tid[i] == tid) {
            return 1;
        }
    }
    return 0;
}

static void *nothing(void *arg)
{
    return arg;
}

/* ThreadSanitizer starts its background thread at the first
 * pthread_create(): make that happen before the snapshot. */
static void threads_now(thread_set *set)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, nothing, NULL), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    DIR *d = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(d);
    set->n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] != '.') {
            ck_assert_int_lt(set->n, MAX_BEFORE);
            set->tid[set->n++] = atol(e->d_name);
        }
    }
    closedir(d);
}

/* Threads of this process not in @p before, other than liblwip's tcpip
 * thread (which cannot be stopped, port.h); their names go to @p names. */
static int other_threads(const thread_set *before, char *names, size_t cap)
{
    DIR *d = opendir("/proc/self/task");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    names[0] = '\0';
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (e->d_name[0] == '.' || in_set(before, atol(e->d_name))) {
            continue;
        }
        char path[300], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) {
            continue; /* it just ended */
        }
        if (fgets(comm, sizeof(comm), f) == NULL) {
            comm[0] = '\0';
        }
        fclose(f);
        comm[strcspn(comm, "\n")] = '\0';
        if (strcmp(comm, "lwip-tcpip") == 0) {
            continue;
        }
        n++;
        size_t used = strlen(names);
        snprintf(names + used, cap - used, "%s ", comm);
    }
    closedir(d);
    return n;
}

static unsigned wakeups;
static void on_wakeup(Socket_t s)
{
    (void)s;
    __atomic_add_fetch(&wakeups, 1, __ATOMIC_RELAXED);
}

/* port.h: "everything else lwss starts is joined by lwss_port_down()" --
 * the TAP receive thread, the GSO flusher, the impairment delay thread and
 * the wakeup-callback event thread, here all running at once. */
START_TEST(port_down_joins_every_thread_lwss_started)
{
    lwss_port_config c;
    lwss_port_config_default(&c);
    ck_assert_int_eq(lwss_port_config_from_env(&c), LWSS_OK);
    c.impair.delay_ms = 1; /* the delay thread runs */
    thread_set before;
    threads_now(&before);
    ck_assert_int_eq(lwss_port_up(&c), LWSS_OK);
    uint16_t port;
    int lfd = lwss_pt_kernel_listen(&port);
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_ptr_ne(s, SOCKETS_INVALID_SOCKET);
    SocketsSockaddr_t a = {.ucLength = sizeof(a), .ucSocketDomain = SOCKETS_AF_INET,
                           .usPort = SOCKETS_htons(port), .ulAddress = inet_addr("192.0.2.1")};
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), SOCKETS_ERROR_NONE);
    ck_assert_int_eq(SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_WAKEUP_CALLBACK, (void *)on_wakeup,
                                        sizeof(void *)), SOCKETS_ERROR_NONE);
    char names[512];
    ck_assert_int_ge(other_threads(&before, names, sizeof(names)), 4);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    /* Joined threads have ended; the kernel may list one for a moment
     * after the join returns, so look again for a bounded time. */
    uint64_t until = lwss_test_now_ms() + 2000;
    int left;
    while ((left = other_threads(&before, names, sizeof(names))) != 0 &&
           lwss_test_now_ms() < until) {
        sched_yield();
    }
    ck_assert_msg(left == 0, "threads left after lwss_port_down(): %s", names);
    ck_assert_int_eq(SOCKETS_Close(s), SOCKETS_ERROR_NONE);
    close(lfd);
}
END_TEST

/* Issue 13 item 5: the impairment engine is a filter installed only when
 * configured, so the unimpaired path has no impairment step. */
START_TEST(impairment_filter_only_when_configured)
{
    lwss_port_config c;
    lwss_port_config_default(&c);
    ck_assert_int_eq(lwss_port_config_from_env(&c), LWSS_OK);
    memset(&c.impair, 0, sizeof(c.impair));
    ck_assert_int_eq(lwss_port_up(&c), LWSS_OK);
    lwss_tap *tap = lwss_port_tap();
    ck_assert_ptr_null(tap->impair); /* only this thread brings the port up or down */
    ck_assert_int_eq(lwss_port_set_link(0), LWSS_OK); /* pulling the cable installs it */
    ck_assert_ptr_nonnull(tap->impair);
    ck_assert_int_eq(lwss_port_set_link(1), LWSS_OK);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    ck_assert_ptr_null(tap->impair);
    c.impair.loss_permille = 1;
    ck_assert_int_eq(lwss_port_up(&c), LWSS_OK);
    ck_assert_ptr_nonnull(tap->impair);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    ck_assert_ptr_null(tap->impair);
}
END_TEST

/* What the first SYN lwIP sent in a capture carried. */
typedef struct {
    int found;
    uint16_t sport;
    uint32_t isn;
} first_syn;

static first_syn read_first_syn(const char *path)
{
    first_syn r = {0, 0, 0};
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    ck_assert_msg(p != NULL, "libpcap cannot open %s: %s", path, err);
    struct pcap_pkthdr *h;
    const u_char *d;
    while (!r.found && pcap_next_ex(p, &h, &d) == 1) {
        if (h->caplen < 14 + 20 + 20 || d[12] != 0x08 || d[13] != 0x00 || d[14 + 9] != 6) {
            continue;
        }
        const u_char *ip = d + 14, *tcp = ip + (size_t)(ip[0] & 0x0f) * 4;
        if (memcmp(ip + 12, "\xc0\x00\x02\x02", 4) == 0 && (tcp[13] & 0x12) == 0x02) {
            r.found = 1;
            r.sport = (uint16_t)(tcp[0] << 8 | tcp[1]);
            r.isn = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
        }
    }
    pcap_close(p);
    return r;
}

/* A new process: port up with a capture, one connection, down.  Exit code
 * 0 when every step worked; alarm() bounds it. */
static void one_process_connection(const char *pcap, uint16_t port)
{
    alarm(20);
    lwss_port_config c;
    lwss_port_config_default(&c);
    if (lwss_port_config_from_env(&c) != LWSS_OK) {
        _exit(2);
    }
    snprintf(c.pcap_path, sizeof(c.pcap_path), "%s", pcap);
    if (lwss_port_up(&c) != LWSS_OK) {
        _exit(3);
    }
    int s = lwip_socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = inet_addr("192.0.2.1")};
    int ok = s >= 0 && lwip_connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
    if (s >= 0) {
        lwip_close(s);
    }
    _exit(lwss_port_down() == LWSS_OK && ok ? 0 : 4);
}

/* Issue 16 item 4 / RFC 6528: each process's first connection must leave
 * from its own port with its own initial sequence number, or a restarted
 * device collides with its previous life's connections in the peer's
 * TIME_WAIT and blind injection is easy.  Both children are forked from
 * the same parent: without seeding they would draw the same values. */
START_TEST(two_processes_first_connections_differ)
{
    uint16_t port;
    int lfd = lwss_pt_kernel_listen(&port);
    first_syn syn[2];
    for (int i = 0; i < 2; i++) {
        char path[256];
        snprintf(path, sizeof(path), "%s/first-syn-%d.pcap",
                 lwss_test_env("LWSS_RIG_RUNDIR", "/tmp"), i);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            one_process_connection(path, port);
        }
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                      "process %d failed (status 0x%x)", i, status);
        syn[i] = read_first_syn(path);
        ck_assert_msg(syn[i].found, "no SYN from 192.0.2.2 in %s", path);
        unlink(path);
    }
    close(lfd);
    ck_assert_msg(syn[0].sport != syn[1].sport, "both first connections from port %u",
                  syn[0].sport);
    ck_assert_msg(syn[0].isn != syn[1].isn, "both first connections with ISN %u", syn[0].isn);
}
END_TEST

Suite *port_life_suite(void);
Suite *port_life_suite(void)
{
    Suite *s = suite_create("port_life");
    TCase *tc = tcase_create("life");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, rig_setup, lwss_leak_teardown_fds);
    tcase_add_test(tc, port_down_joins_every_thread_lwss_started);
    tcase_add_test(tc, two_processes_first_connections_differ);
    tcase_add_test(tc, impairment_filter_only_when_configured);
    suite_add_tcase(s, tc);
    return s;
}
