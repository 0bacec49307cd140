/* lwss-echo-server: reads up to 4096 bytes and writes them back, one thread
 * per connection, for the plain listener and (when compiled in) the TLS one.
 *
 *   lwss-echo-server --addr A --port P --ready-file F --stats-file F
 *                    [--idle-timeout S] [--tls-port P --cert F --key F --ca F
 *                    [--tls-any-client]]
 *
 * SIGTERM / SIGINT: stop accepting, shut the open connections down, wait
 * for their threads (bounded), write the stats, exit 0. */
#include "echo_server/echo_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ECHO_CHUNK 4096
#define MAX_CONNS 1024
#define DRAIN_WAIT_MS 3000

typedef struct conn {
    int fd;
    int in_use;
    unsigned long id;
    char peer[64];
    const echo_conn_ops *ops;
    void *listener_ctx;
} conn_t;

typedef struct {
    int fd;
    const echo_conn_ops *ops;
    void *ctx;
} listener_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drained = PTHREAD_COND_INITIALIZER;
static conn_t conns[MAX_CONNS];
static unsigned active;
static unsigned long next_id = 1;
static unsigned long long stat_conns, stat_tls_conns, stat_resumed, stat_bytes, stat_errors;
static echo_config cfg;
static int stop_pipe[2] = {-1, -1};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- plain listener ops ---- */

static int plain_open(void *lctx, int fd, void **c, char *err, size_t errlen)
{
    (void)lctx;
    (void)err;
    (void)errlen;
    *c = (void *)(intptr_t)fd;
    return 0;
}

static ssize_t plain_read(void *c, void *buf, size_t len)
{
    ssize_t n;
    do {
        n = recv((int)(intptr_t)c, buf, len, 0);
    } while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t plain_write(void *c, const void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = send((int)(intptr_t)c, (const char *)buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        done += (size_t)n;
    }
    return (ssize_t)len;
}

static void plain_close(void *c)
{
    (void)c;
}

static const echo_conn_ops plain_ops = {
    .kind = "plain",
    .open = plain_open,
    .read = plain_read,
    .write = plain_write,
    .resumed = NULL,
    .close = plain_close,
    .free_listener = NULL,
};

/* ---- stats ---- */

/* Lock held.  Written to a temporary file and renamed: readers never see half. */
static void write_stats_locked(void)
{
    if (cfg.stats_file == NULL) {
        return;
    }
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", cfg.stats_file);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        return;
    }
    fprintf(f,
            "{\"connections\":%llu,\"bytes\":%llu,\"tls_connections\":%llu,"
            "\"tls_resumed\":%llu,\"errors\":%llu,\"active\":%u}\n",
            stat_conns, stat_bytes, stat_tls_conns, stat_resumed, stat_errors, active);
    if (fclose(f) == 0) {
        rename(tmp, cfg.stats_file);
    }
}

/* ---- connections ---- */

static void *conn_main(void *arg)
{
    conn_t *c = arg;
    uint64_t started = now_ms();
    unsigned long long bytes = 0;
    const char *end = "eof";
    char err[256] = "";
    void *state = NULL;
    int resumed = 0;
    if (c->ops->open(c->listener_ctx, c->fd, &state, err, sizeof(err)) != 0) {
        end = "setup-failed";
    } else {
        resumed = c->ops->resumed != NULL && c->ops->resumed(state);
        char buf[ECHO_CHUNK];
        for (;;) {
            ssize_t n = c->ops->read(state, buf, sizeof(buf));
            if (n == 0) {
                break;
            }
            if (n < 0) {
                end = (errno == EAGAIN || errno == EWOULDBLOCK) ? "idle-timeout" : "read-error";
                break;
            }
            if (c->ops->write(state, buf, (size_t)n) != n) {
                end = "write-error";
                break;
            }
            bytes += (unsigned long long)n;
        }
        c->ops->close(state);
    }
    fprintf(stderr, "echo: conn %lu %s from %s: %llu bytes, %llu ms, end=%s%s%s%s\n", c->id,
            c->ops->kind, c->peer, bytes, (unsigned long long)(now_ms() - started), end,
            resumed ? " (resumed)" : "", err[0] ? ": " : "", err);
    close(c->fd);
    pthread_mutex_lock(&lock);
    stat_bytes += bytes;
    stat_resumed += (unsigned long long)resumed;
    stat_errors += strcmp(end, "eof") != 0;
    c->in_use = 0;
    active--;
    write_stats_locked();
    pthread_cond_broadcast(&drained);
    pthread_mutex_unlock(&lock);
    return NULL;
}

static void set_idle_timeout(int fd)
{
    struct timeval tv = {.tv_sec = (time_t)cfg.idle_timeout_s, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Lock held. */
static conn_t *alloc_conn_locked(void)
{
    for (size_t i = 0; i < MAX_CONNS; i++) {
        if (!conns[i].in_use) {
            return &conns[i];
        }
    }
    return NULL;
}

static void accept_one(const listener_t *l)
{
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    int fd = accept4(l->fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
    if (fd < 0) {
        return;
    }
    set_idle_timeout(fd);
    pthread_mutex_lock(&lock);
    conn_t *c = alloc_conn_locked();
    if (c == NULL) {
        pthread_mutex_unlock(&lock);
        fprintf(stderr, "echo: too many connections, refusing one\n");
        close(fd);
        return;
    }
    c->in_use = 1;
    c->fd = fd;
    c->id = next_id++;
    c->ops = l->ops;
    c->listener_ctx = l->ctx;
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
    snprintf(c->peer, sizeof(c->peer), "%s:%u", ip, (unsigned)ntohs(peer.sin_port));
    active++;
    stat_conns++;
    stat_tls_conns += strcmp(l->ops->kind, "plain") != 0;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    if (pthread_create(&t, &attr, conn_main, c) != 0) {
        c->in_use = 0;
        active--;
        close(fd);
    }
    write_stats_locked(); /* readers see the connection (and "active") at once */
    pthread_attr_destroy(&attr);
    pthread_mutex_unlock(&lock);
}

static int open_listener(const char *addr, int port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        fprintf(stderr, "echo: bad address %s\n", addr);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 || listen(fd, 128) != 0) {
        fprintf(stderr, "echo: cannot listen on %s:%d: %s\n", addr, port, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

/* ---- main ---- */

static void on_signal(int sig)
{
    (void)sig;
    int saved = errno;
    if (write(stop_pipe[1], "x", 1) < 0) {
        /* nothing to do in a handler */
    }
    errno = saved;
}

static int usage(void)
{
    fprintf(stderr, "usage: lwss-echo-server --addr A --port P [--ready-file F] [--stats-file F]\n"
                    "       [--idle-timeout S] [--tls-port P --cert F --key F --ca F [--tls-any-client]]\n");
    return 2;
}

static int parse_args(int argc, char **argv)
{
    static const struct option opts[] = {
        {"addr", required_argument, NULL, 'a'},       {"port", required_argument, NULL, 'p'},
        {"ready-file", required_argument, NULL, 'r'}, {"stats-file", required_argument, NULL, 's'},
        {"idle-timeout", required_argument, NULL, 'i'}, {"tls-port", required_argument, NULL, 't'},
        {"cert", required_argument, NULL, 'c'},       {"key", required_argument, NULL, 'k'},
        {"ca", required_argument, NULL, 'A'},
        {"tls-any-client", no_argument, NULL, 'y'},   {NULL, 0, NULL, 0},
    };
    cfg.idle_timeout_s = 300;
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'a': cfg.addr = optarg; break;
        case 'p': cfg.port = atoi(optarg); break;
        case 'r': cfg.ready_file = optarg; break;
        case 's': cfg.stats_file = optarg; break;
        case 'i': cfg.idle_timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
        case 't': cfg.tls_port = atoi(optarg); break;
        case 'c': cfg.cert = optarg; break;
        case 'k': cfg.key = optarg; break;
        case 'A': cfg.ca = optarg; break;
        case 'y': cfg.tls_any_client = 1; break;
        default: return -1;
        }
    }
    if (cfg.addr == NULL || cfg.port <= 0 || cfg.port > 65535 || cfg.idle_timeout_s == 0 ||
        cfg.tls_port < 0 || cfg.tls_port > 65535) {
        return -1;
    }
    return 0;
}

static int setup_listeners(listener_t *ls, int *count)
{
    *count = 0;
    ls[0] = (listener_t){.fd = open_listener(cfg.addr, cfg.port), .ops = &plain_ops, .ctx = NULL};
    if (ls[0].fd < 0) {
        return -1;
    }
    *count = 1;
    if (cfg.tls_port == 0) {
        return 0;
    }
    char err[256] = "";
    if (echo_tls_listener_init(&cfg, &ls[1].ops, &ls[1].ctx, err, sizeof(err)) != 0) {
        fprintf(stderr, "echo: TLS listener: %s\n", err);
        return -1;
    }
    ls[1].fd = open_listener(cfg.addr, cfg.tls_port);
    if (ls[1].fd < 0) {
        if (ls[1].ops->free_listener != NULL) {
            ls[1].ops->free_listener(ls[1].ctx);
        }
        return -1;
    }
    *count = 2;
    return 0;
}

static void serve(listener_t *ls, int count)
{
    for (;;) {
        struct pollfd p[3] = {{.fd = stop_pipe[0], .events = POLLIN}};
        for (int i = 0; i < count; i++) {
            p[i + 1] = (struct pollfd){.fd = ls[i].fd, .events = POLLIN};
        }
        if (poll(p, (nfds_t)count + 1, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (p[0].revents != 0) {
            return;
        }
        for (int i = 0; i < count; i++) {
            if (p[i + 1].revents != 0) {
                accept_one(&ls[i]);
            }
        }
    }
}

/* Wake every connection thread (shutdown ends their blocking reads) and wait, bounded. */
static void drain(void)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < MAX_CONNS; i++) {
        if (conns[i].in_use) {
            shutdown(conns[i].fd, SHUT_RDWR);
        }
    }
    uint64_t deadline = now_ms() + DRAIN_WAIT_MS;
    while (active > 0 && now_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&drained, &lock, &ts);
    }
    write_stats_locked();
    pthread_mutex_unlock(&lock);
}

int main(int argc, char **argv)
{
    if (parse_args(argc, argv) != 0) {
        return usage();
    }
    if (pipe2(stop_pipe, O_CLOEXEC) != 0) {
        return 1;
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    listener_t ls[2];
    int count;
    if (setup_listeners(ls, &count) != 0) {
        for (int i = 0; i < count; i++) {
            close(ls[i].fd);
        }
        return 1;
    }
    pthread_mutex_lock(&lock);
    write_stats_locked();
    pthread_mutex_unlock(&lock);
    if (cfg.ready_file != NULL) {
        FILE *f = fopen(cfg.ready_file, "w");
        if (f == NULL) {
            fprintf(stderr, "echo: cannot write %s\n", cfg.ready_file);
            return 1;
        }
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
    }
    fprintf(stderr, "echo: listening on %s:%d%s\n", cfg.addr, cfg.port,
            count > 1 ? " (+TLS)" : "");
    serve(ls, count);
    for (int i = 0; i < count; i++) {
        close(ls[i].fd);
    }
    drain();
    for (int i = 0; i < count; i++) {
        if (ls[i].ops->free_listener != NULL && active == 0) {
            ls[i].ops->free_listener(ls[i].ctx);
        }
    }
    fprintf(stderr, "echo: stopped (%llu connections, %llu bytes)\n", stat_conns, stat_bytes);
    return 0;
}
