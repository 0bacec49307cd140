/* Rig tests of the host port: lwIP on a real TAP inside the rig namespace. */
#include "tests/support/lwss_test.h"
#include "tests/support/port_rig_util.h"
#include "lwss/port.h"
#include "lwip_port/internal.h"

#include "lwip/sockets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void rig_setup(void)
{
    ck_assert_msg(lwss_test_in_rig(), "rig suites must run inside scripts/rig.sh");
    lwss_leak_setup_fds();
}

START_TEST(up_down_up_in_the_rig)
{
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    ck_assert_int_eq(lwss_port_is_up(), 1);
    lwss_port_config c;
    ck_assert_int_eq(lwss_port_get_config(&c), LWSS_OK);
    ck_assert_str_eq(c.tap, getenv("LWSS_TAP"));
    ck_assert_uint_eq(c.ip, inet_addr("192.0.2.2"));
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_ERR_BUSY);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "already up"));
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    ck_assert_int_eq(lwss_port_is_up(), 0);
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    ck_assert_int_eq(lwss_port_down(), LWSS_ERR_STATE);
}
END_TEST

START_TEST(ping_from_the_namespace_reaches_lwip)
{
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    int rc = system("ping -n -q -c 3 -i 0.2 -W 2 192.0.2.2 >/dev/null 2>&1");
    lwss_port_stats st;
    lwss_port_get_stats(&st);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    ck_assert_msg(rc == 0, "ping 192.0.2.2 from the namespace failed (%d)", rc);
    ck_assert_uint_ge(st.rx_frames, 4); /* ARP request + 3 echo requests */
    ck_assert_uint_ge(st.tx_frames, 4);
}
END_TEST

/* ---- a kernel TCP server on the namespace side ---------------------------- */

#define REQUEST "hello from lwIP over TAP"
#define REPLY "hello back from the namespace"

typedef struct {
    int listen_fd;
    uint16_t port;
    char got[64];
    int ok;
} kernel_server;

static void *kernel_server_main(void *arg)
{
    kernel_server *ks = arg;
    int c = accept(ks->listen_fd, NULL, NULL);
    if (c < 0) {
        return NULL;
    }
    struct timeval tv = {.tv_sec = 5};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    size_t have = 0;
    while (have < strlen(REQUEST)) {
        ssize_t n = recv(c, ks->got + have, sizeof(ks->got) - 1 - have, 0);
        if (n <= 0) {
            break;
        }
        have += (size_t)n;
    }
    if (have == strlen(REQUEST) && send(c, REPLY, strlen(REPLY), 0) == (ssize_t)strlen(REPLY)) {
        ks->ok = 1;
    }
    char drain[16];
    while (recv(c, drain, sizeof(drain), 0) > 0) {
    }
    close(c);
    return NULL;
}

static void kernel_server_start(kernel_server *ks, pthread_t *th)
{
    memset(ks, 0, sizeof(*ks));
    ks->listen_fd = lwss_pt_kernel_listen(&ks->port);
    ck_assert_int_eq(pthread_create(th, NULL, kernel_server_main, ks), 0);
}

/* A connected lwIP TCP socket to the namespace side (5 s receive timeout). */
static int lwip_connect_to(uint16_t port)
{
    int s = lwip_socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s, 0);
    struct timeval tv = {.tv_sec = 5};
    lwip_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = inet_addr("192.0.2.1")};
    ck_assert_int_eq(lwip_connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
    return s;
}

/* lwIP client: connect, send REQUEST, read REPLY, close. */
static void lwip_exchange(uint16_t port)
{
    int s = lwip_connect_to(port);
    ck_assert_int_eq(lwip_send(s, REQUEST, strlen(REQUEST), 0), (int)strlen(REQUEST));
    char buf[64] = {0};
    size_t have = 0;
    while (have < strlen(REPLY)) {
        int n = lwip_recv(s, buf + have, sizeof(buf) - 1 - have, 0);
        ck_assert_int_gt(n, 0);
        have += (size_t)n;
    }
    ck_assert_str_eq(buf, REPLY);
    lwip_close(s);
}

/* ---- pcap inspection ------------------------------------------------------- */

typedef struct {
    int arp, syn, synack, ack_after_synack;
    long request_at, reply_at; /* frame index holding the payload */
    int frames;
} pcap_story;

static void read_story(const char *path, pcap_story *st)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    ck_assert_msg(p != NULL, "libpcap cannot open %s: %s", path, err);
    ck_assert_int_eq(pcap_datalink(p), DLT_EN10MB);
    memset(st, 0, sizeof(*st));
    st->request_at = st->reply_at = -1;
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(p, &h, &d) == 1) {
        int idx = st->frames++;
        if (h->caplen < 14) {
            continue;
        }
        uint16_t et = (uint16_t)(d[12] << 8 | d[13]);
        if (et == 0x0806) {
            st->arp++;
            continue;
        }
        if (et != 0x0800 || h->caplen < 14 + 20 || d[14 + 9] != 6) {
            continue;
        }
        size_t ihl = (size_t)(d[14] & 0x0f) * 4;
        const u_char *tcp = d + 14 + ihl;
        size_t thl = (size_t)(tcp[12] >> 4) * 4;
        uint8_t fl = tcp[13];
        if ((fl & 0x12) == 0x02) st->syn++;
        if ((fl & 0x12) == 0x12) st->synack++;
        if (st->synack && (fl & 0x17) == 0x10) st->ack_after_synack++;
        size_t off = 14 + ihl + thl;
        if (off < h->caplen) {
            if (memmem(d + off, h->caplen - off, REQUEST, strlen(REQUEST)) != NULL) {
                st->request_at = idx;
            }
            if (memmem(d + off, h->caplen - off, REPLY, strlen(REPLY)) != NULL) {
                st->reply_at = idx;
            }
        }
    }
    pcap_close(p);
}

static void pcap_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", lwss_test_env("LWSS_RIG_RUNDIR", "/tmp"), name);
}

START_TEST(tcp_exchange_is_captured_in_order)
{
    char path[256];
    pcap_path(path, sizeof(path), "exchange.pcap");
    setenv("LWSS_PCAP", path, 1);
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    kernel_server ks;
    pthread_t th;
    kernel_server_start(&ks, &th);
    lwip_exchange(ks.port);
    pthread_join(th, NULL);
    close(ks.listen_fd);
    lwss_port_stats st;
    lwss_port_get_stats(&st);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    ck_assert_int_eq(ks.ok, 1);
    ck_assert_str_eq(ks.got, REQUEST);

    pcap_story story;
    read_story(path, &story);
    ck_assert_int_ge(story.arp, 2);
    ck_assert_int_ge(story.syn, 1);
    ck_assert_int_ge(story.synack, 1);
    ck_assert_int_ge(story.ack_after_synack, 1);
    ck_assert_int_ge(story.request_at, 0);
    ck_assert_int_gt(story.reply_at, story.request_at);
    /* every frame the port counted is in the file (more may follow the snapshot) */
    ck_assert_uint_ge((uint64_t)story.frames, st.rx_frames + st.tx_frames);
    ck_assert_uint_ge(st.pcap_frames, st.rx_frames + st.tx_frames);
    unsetenv("LWSS_PCAP");
}
END_TEST

START_TEST(capture_respects_size_cap)
{
    char path[256];
    pcap_path(path, sizeof(path), "capped.pcap");
    setenv("LWSS_PCAP", path, 1);
    setenv("LWSS_PCAP_MAX", "400", 1);
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    ck_assert_int_eq(system("ping -n -q -c 5 -i 0.2 -W 2 192.0.2.2 >/dev/null 2>&1"), 0);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    struct stat sb;
    ck_assert_int_eq(stat(path, &sb), 0);
    ck_assert_int_le(sb.st_size, 400);
    ck_assert_int_gt(sb.st_size, 24);
    ck_assert_int_eq(sb.st_mode & 0777 & ~0644, 0);
    unsetenv("LWSS_PCAP");
    unsetenv("LWSS_PCAP_MAX");
}
END_TEST

START_TEST(capture_is_on_disk_while_running)
{
    char path[256];
    pcap_path(path, sizeof(path), "live.pcap");
    setenv("LWSS_PCAP", path, 1);
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    ck_assert_int_eq(system("ping -n -q -c 2 -i 0.2 -W 2 192.0.2.2 >/dev/null 2>&1"), 0);
    /* The capture is flushed at least every 100 ms: wait (bounded) until the
     * file holds five frames' worth (24-byte header, 16 + >= 42 per frame). */
    struct stat sb = {0};
    uint64_t deadline = lwss_test_now_ms() + 2000;
    while ((stat(path, &sb) != 0 || sb.st_size < 24 + 5 * (16 + 42)) &&
           lwss_test_now_ms() < deadline) {
        usleep(10 * 1000);
    }
    pcap_story story;
    read_story(path, &story); /* read while the port is still up: as if killed now */
    ck_assert_int_ge(story.frames, 5);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    unsetenv("LWSS_PCAP");
}
END_TEST

START_TEST(bad_capture_path_fails_cleanly)
{
    setenv("LWSS_PCAP", "/nonexistent-dir/x.pcap", 1);
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_ERR_PCAP);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "/nonexistent-dir/x.pcap"));
    ck_assert_int_eq(lwss_port_is_up(), 0);
    unsetenv("LWSS_PCAP");
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK); /* nothing was left half-open */
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
}
END_TEST

START_TEST(tap_held_elsewhere_is_busy)
{
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", getenv("LWSS_TAP"));
    ck_assert_int_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_ERR_BUSY);
    ck_assert_int_eq(lwss_port_is_up(), 0);
    close(fd);
}
END_TEST

START_TEST(no_net_admin_is_permission_denied)
{
    /* A TAP owned by another user; then drop every capability (this test is
     * its own process), so attaching needs a permission we no longer have. */
    if (strcmp(lwss_test_env("LWSS_RIG_MODE", "netns"), "unshare") == 0) {
        /* uid 65534 has no mapping in an unprivileged user namespace */
        lwss_test_not_run("port_rig no_net_admin_is_permission_denied: needs root (a TAP owned by a second uid)");
        return;
    }
    char name[IFNAMSIZ];
    snprintf(name, sizeof(name), "lwp%d", (int)getpid() % 100000);
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    ck_assert_int_eq(ioctl(fd, TUNSETIFF, &ifr), 0);
    ck_assert_msg(ioctl(fd, TUNSETOWNER, 65534) == 0,
                  "cannot give the TAP to uid 65534 (%s): this test needs the root rig",
                  strerror(errno));
    ck_assert_int_eq(ioctl(fd, TUNSETPERSIST, 1), 0);
    close(fd);

    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof(data));
    ck_assert_int_eq(syscall(SYS_capset, &hdr, data), 0);
    lwss_port_config c;
    lwss_port_config_default(&c);
    snprintf(c.tap, sizeof(c.tap), "%s", name);
    int rc = lwss_port_up(&c);
    /* the TAP is removed with the namespace */
    ck_assert_int_eq(rc, LWSS_ERR_PERM);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "not permitted"));
    ck_assert_int_eq(lwss_port_is_up(), 0);
}
END_TEST

/* ---- impairment: bulk transfer with checksum ---------------------------- */

#define BULK_BYTES (128u * 1024u)

typedef struct {
    int listen_fd;
    uint16_t port;
    uint64_t sum;
    size_t got;
} sink_server;

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }
    return h;
}

/* Reads until EOF, then answers with the FNV-1a of what it read. */
static void *sink_main(void *arg)
{
    sink_server *ss = arg;
    int c = accept(ss->listen_fd, NULL, NULL);
    if (c < 0) {
        return NULL;
    }
    struct timeval tv = {.tv_sec = 60};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    uint8_t buf[8192];
    ss->sum = 0xcbf29ce484222325ULL;
    ssize_t n;
    while ((n = recv(c, buf, sizeof(buf), 0)) > 0) {
        ss->sum = fnv1a(ss->sum, buf, (size_t)n);
        ss->got += (size_t)n;
    }
    send(c, &ss->sum, sizeof(ss->sum), 0);
    close(c);
    return NULL;
}

/* Send BULK_BYTES from lwIP in sends of @p chunk_len bytes (a power of two
 * up to 16 KiB); @p mid runs once half of it is out. */
static void bulk_through_lwip(void (*mid)(void), size_t chunk_len)
{
    sink_server ss;
    memset(&ss, 0, sizeof(ss));
    ss.listen_fd = lwss_pt_kernel_listen(&ss.port);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, sink_main, &ss), 0);

    int s = lwip_socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s, 0);
    struct timeval tv = {.tv_sec = 60};
    lwip_setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    lwip_setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(ss.port),
                            .sin_addr.s_addr = inet_addr("192.0.2.1")};
    ck_assert_int_eq(lwip_connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
    static uint8_t chunk[16384];
    ck_assert_uint_le(chunk_len, sizeof(chunk));
    uint64_t sum = 0xcbf29ce484222325ULL;
    for (size_t off = 0; off < BULK_BYTES; off += chunk_len) {
        for (size_t i = 0; i < chunk_len; i++) {
            chunk[i] = (uint8_t)((off + i) * 7 + (off >> 12));
        }
        sum = fnv1a(sum, chunk, chunk_len);
        size_t done = 0;
        while (done < chunk_len) {
            int n = lwip_send(s, chunk + done, chunk_len - done, 0);
            ck_assert_msg(n > 0, "lwip_send failed at %zu: errno %d", off + done, errno);
            done += (size_t)n;
        }
        if (off == BULK_BYTES / 2 && mid != NULL) {
            mid();
        }
    }
    lwip_shutdown(s, SHUT_WR);
    uint64_t echoed = 0;
    ck_assert_int_eq(lwip_recv(s, &echoed, sizeof(echoed), 0), (int)sizeof(echoed));
    lwip_close(s);
    pthread_join(th, NULL);
    close(ss.listen_fd);
    ck_assert_uint_eq(ss.got, BULK_BYTES);
    ck_assert_msg(echoed == sum, "checksum differs: data damaged in transit");
}

START_TEST(bulk_survives_loss_delay_reorder_dup)
{
    setenv("LWSS_IMPAIR", "loss=5,delay=50,jitter=20,dup=1,reorder=25", 1);
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    bulk_through_lwip(NULL, 4096);
    lwss_port_stats st;
    lwss_port_get_stats(&st);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    ck_assert_uint_gt(st.impaired_drops, 0); /* the impairment really happened */
    unsetenv("LWSS_IMPAIR");
}
END_TEST

static void link_blip(void)
{
    ck_assert_int_eq(lwss_port_set_link(0), LWSS_OK);
    usleep(2000 * 1000); /* the scenario: two seconds without a link, not a wait for anything */
    ck_assert_int_eq(lwss_port_set_link(1), LWSS_OK);
}

START_TEST(bulk_survives_two_seconds_of_link_down)
{
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    bulk_through_lwip(link_blip, 4096);
    lwss_port_stats st;
    lwss_port_get_stats(&st);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    ck_assert_uint_gt(st.impaired_drops, 0);
}
END_TEST

/* lwss_port_set_tcp_sndbuf() on a raw lwIP socket: refused out of range or
 * unconnected; once set, a non-blocking send takes exactly the free space.
 * With the link down nothing is acknowledged, so what is queued stays. */
START_TEST(tcp_sndbuf_sizes_a_raw_lwip_connection)
{
    static uint8_t big[65535];
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    uint16_t port;
    int lfd = lwss_pt_kernel_listen(&port);
    int s = lwip_socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(s, 0);
    ck_assert_int_eq(lwss_port_set_tcp_sndbuf(s, 8192), LWSS_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "not a connected"));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = inet_addr("192.0.2.1")};
    ck_assert_int_eq(lwip_connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(lwss_port_set_tcp_sndbuf(s, LWSS_TCP_SNDBUF_MIN - 1), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_port_set_tcp_sndbuf(s, LWSS_TCP_SNDBUF_MAX + 1), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_port_set_tcp_sndbuf(s, 8192), LWSS_OK);
    ck_assert_int_eq(lwss_port_set_link(0), LWSS_OK);
    ck_assert_int_eq(lwip_send(s, big, sizeof(big), MSG_DONTWAIT), 8192);
    ck_assert_int_eq(lwss_port_set_tcp_sndbuf(s, 4096), LWSS_ERR_STATE);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "8192 bytes are queued"));
    ck_assert_int_eq(lwss_port_set_tcp_sndbuf(s, 20000), LWSS_OK);
    ck_assert_int_eq(lwip_send(s, big, sizeof(big), MSG_DONTWAIT), 20000 - 8192);
    ck_assert_int_eq(lwss_port_set_link(1), LWSS_OK);
    ck_assert_int_eq(lwip_close(s), 0);
    close(lfd);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
}
END_TEST

/* Without impairment, lwIP's TCP bursts leave as GSO frames (fewer TAP
 * writes than frames), the data arrives intact, and the capture still holds
 * every segment as lwIP made it: none longer than the MTU, all the bytes. */
START_TEST(bulk_leaves_as_gso_frames_captured_per_segment)
{
    char path[256];
    pcap_path(path, sizeof(path), "gso.pcap");
    setenv("LWSS_PCAP", path, 1);
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    bulk_through_lwip(NULL, 16384); /* TLS-record-sized sends */
    lwss_port_stats st;
    lwss_port_get_stats(&st);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    unsetenv("LWSS_PCAP");
    ck_assert_uint_gt(st.tx_frames, BULK_BYTES / 1460u);
    ck_assert_msg(st.tx_writes * 2u < st.tx_frames,
                  "%llu writes for %llu frames: segments were not merged",
                  (unsigned long long)st.tx_writes, (unsigned long long)st.tx_frames);
    ck_assert_uint_eq(st.tx_errors, 0);

    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(path, err);
    ck_assert_msg(p != NULL, "libpcap cannot open %s: %s", path, err);
    struct pcap_pkthdr *h;
    const u_char *d;
    size_t payload = 0, longest = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        if (h->caplen < 54 || d[12] != 0x08 || d[13] != 0x00 || d[23] != 6 ||
            memcmp(d + 26, "\xc0\x00\x02\x02", 4) != 0) {
            continue; /* only TCP from lwIP */
        }
        longest = h->len > longest ? h->len : longest;
        size_t ip_total = (size_t)(d[16] << 8 | d[17]);
        payload += ip_total - (size_t)(d[14] & 0x0f) * 4u - (size_t)(d[46] >> 4) * 4u;
    }
    pcap_close(p);
    ck_assert_uint_le(longest, 1514u);
    ck_assert_uint_ge(payload, BULK_BYTES);
}
END_TEST

Suite *port_rig_suite(void);
/* ---- inline receive --------------------------------------------------------- */

/* A kernel echo server on the namespace side: accepts @p conns connections
 * and echoes each until EOF. */
typedef struct {
    int listen_fd;
    uint16_t port;
    int conns;
} echo_server;

static void *echo_main(void *arg)
{
    echo_server *es = arg;
    int fds[4];
    int n = 0;
    for (; n < es->conns && n < 4; n++) {
        if ((fds[n] = accept(es->listen_fd, NULL, NULL)) < 0) {
            break;
        }
    }
    struct pollfd p[4];
    int open_conns = n;
    for (int i = 0; i < n; i++) p[i] = (struct pollfd){.fd = fds[i], .events = POLLIN};
    while (open_conns > 0 && poll(p, (nfds_t)n, 10000) > 0) {
        for (int i = 0; i < n; i++) {
            if (p[i].fd < 0 || p[i].revents == 0) continue;
            char buf[512];
            ssize_t got = read(p[i].fd, buf, sizeof(buf));
            if (got <= 0 || write(p[i].fd, buf, (size_t)got) != got) {
                close(p[i].fd);
                p[i].fd = -1;
                open_conns--;
            }
        }
    }
    for (int i = 0; i < n; i++) if (p[i].fd >= 0) close(p[i].fd);
    return NULL;
}

/* Send one byte and read it back with a blocking lwip_recv: ms taken. */
static uint64_t raw_echo(int s, char c)
{
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_eq(lwip_send(s, &c, 1, 0), 1);
    char got = 0;
    ck_assert_int_eq(lwip_recv(s, &got, 1, 0), 1);
    ck_assert_int_eq(got, c);
    return lwss_test_now_ms() - t0;
}

typedef struct {
    int fd, timeout_ms, result;
    uint64_t took_ms;
    _Atomic int tid;
} waiter;

static void *waiter_main(void *arg)
{
    waiter *w = arg;
    w->tid = (int)gettid();
    uint64_t t0 = lwss_test_now_ms();
    w->result = lwss_port_wait(w->fd, POLLIN, w->timeout_ms);
    w->took_ms = lwss_test_now_ms() - t0;
    return NULL;
}

/* Until the waiter's thread sleeps in lwss_port_wait (2 s bound). */
static void wait_waiter_blocked(waiter *w)
{
    uint64_t deadline = lwss_test_now_ms() + 2000;
    while (w->tid == 0 && lwss_test_now_ms() < deadline) {
        usleep(1000);
    }
    ck_assert_msg(lwss_test_wait_blocked(w->tid, 2000), "the waiter did not block within 2 s");
}

/* Until the counter at @p off of the stats grows past *before (1 s bound);
 * the stats are left in @p now. */
static int stats_grow(const uint64_t *before, size_t off, lwss_port_stats *now)
{
    uint64_t deadline = lwss_test_now_ms() + 1000;
    do {
        lwss_port_get_stats(now);
        if (*(const uint64_t *)((const char *)now + off) > *before) {
            return 1;
        }
        usleep(1000);
    } while (lwss_test_now_ms() < deadline);
    return 0;
}

/* A thread waiting in lwss_port_wait reads the TAP for everybody: another
 * thread's raw blocking lwip_recv is answered while it waits; once no one
 * waits, the port's receive thread reads again. */
START_TEST(inline_wait_reads_the_tap_for_everyone)
{
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    echo_server es = {.conns = 2};
    es.listen_fd = lwss_pt_kernel_listen(&es.port);
    pthread_t srv;
    ck_assert_int_eq(pthread_create(&srv, NULL, echo_main, &es), 0);
    int s1 = lwip_connect_to(es.port), s2 = lwip_connect_to(es.port);

    waiter w = {.fd = s1, .timeout_ms = 1500, .result = -2};
    pthread_t wt;
    ck_assert_int_eq(pthread_create(&wt, NULL, waiter_main, &w), 0);
    wait_waiter_blocked(&w); /* the waiter is the TAP reader now */
    lwss_port_stats a, b;
    lwss_port_get_stats(&a);
    ck_assert_uint_lt(raw_echo(s2, 'x'), 500);
    ck_assert(stats_grow(&a.rx_inline, offsetof(lwss_port_stats, rx_inline), &b));
    ck_assert_uint_gt(b.rx_inline, a.rx_inline); /* the echo came in through the waiter */
    pthread_join(wt, NULL);
    ck_assert_int_eq(w.result, 0); /* nothing for s1: it timed out */
    ck_assert_uint_ge(w.took_ms, 1400);

    /* Its own data wakes a waiter at once. */
    ck_assert_int_eq(lwip_send(s1, "y", 1, 0), 1);
    ck_assert_int_gt(lwss_port_wait(s1, POLLIN, 2000), 0);
    char c = 0;
    ck_assert_int_eq(lwip_recv(s1, &c, 1, MSG_DONTWAIT), 1);
    ck_assert_int_eq(c, 'y');

    /* Nobody waits in lwss: the receive thread serves raw lwIP again. */
    lwss_port_get_stats(&a);
    ck_assert_uint_lt(raw_echo(s2, 'z'), 500);
    /* a reader counts a frame after lwIP has it */
    ck_assert(stats_grow(&a.rx_frames, offsetof(lwss_port_stats, rx_frames), &b));
    ck_assert_uint_eq(b.rx_inline, a.rx_inline);
    ck_assert_uint_gt(b.rx_frames, a.rx_frames);

    lwip_close(s1);
    lwip_close(s2);
    pthread_join(srv, NULL);
    close(es.listen_fd);
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
}
END_TEST

/* Taking the port down while a thread waits inline neither hangs nor
 * leaves the waiter reading a closed TAP. */
START_TEST(port_down_with_an_inline_waiter)
{
    ck_assert_int_eq(lwss_port_up(NULL), LWSS_OK);
    echo_server es = {.conns = 1};
    es.listen_fd = lwss_pt_kernel_listen(&es.port);
    pthread_t srv;
    ck_assert_int_eq(pthread_create(&srv, NULL, echo_main, &es), 0);
    int s1 = lwip_connect_to(es.port);
    waiter w = {.fd = s1, .timeout_ms = 1000, .result = -2};
    pthread_t wt;
    ck_assert_int_eq(pthread_create(&wt, NULL, waiter_main, &w), 0);
    wait_waiter_blocked(&w);
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_eq(lwss_port_down(), LWSS_OK);
    ck_assert_uint_lt(lwss_test_now_ms() - t0, 500);
    pthread_join(wt, NULL);
    ck_assert_int_ge(w.result, 0); /* timed out, or woken by the connection's end */
    ck_assert_uint_le(w.took_ms, 3000);
    lwip_close(s1);
    shutdown(es.listen_fd, SHUT_RDWR);
    pthread_join(srv, NULL);
    close(es.listen_fd);
}
END_TEST

Suite *port_rig_suite(void)
{
    Suite *s = suite_create("port_rig");
    TCase *tc = tcase_create("tap");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, rig_setup, lwss_leak_teardown_fds);
    tcase_add_test(tc, up_down_up_in_the_rig);
    tcase_add_test(tc, ping_from_the_namespace_reaches_lwip);
    tcase_add_test(tc, tcp_exchange_is_captured_in_order);
    tcase_add_test(tc, capture_respects_size_cap);
    tcase_add_test(tc, capture_is_on_disk_while_running);
    tcase_add_test(tc, bad_capture_path_fails_cleanly);
    tcase_add_test(tc, tap_held_elsewhere_is_busy);
    tcase_add_test(tc, no_net_admin_is_permission_denied);
    tcase_add_test(tc, bulk_leaves_as_gso_frames_captured_per_segment);
    tcase_add_test(tc, tcp_sndbuf_sizes_a_raw_lwip_connection);
    tcase_add_test(tc, inline_wait_reads_the_tap_for_everyone);
    tcase_add_test(tc, port_down_with_an_inline_waiter);
    suite_add_tcase(s, tc);
    TCase *im = tcase_create("impair");
    tcase_set_timeout(im, 120);
    tcase_add_checked_fixture(im, rig_setup, lwss_leak_teardown_fds);
    tcase_add_test(im, bulk_survives_loss_delay_reorder_dup);
    tcase_add_test(im, bulk_survives_two_seconds_of_link_down);
    suite_add_tcase(s, im);
    return s;
}
