/*
 * lwss-hostile-peer: a deliberately broken TCP/TLS server for the rig tests
 * (kernel sockets, runs in the namespace).  One mode per process:
 *   silent            accept, read, never answer
 *   no-accept         listen but never accept: the SYN is answered, then nothing
 *   rst-handshake     read the ClientHello, then reset the connection
 *   close-mid-record  read the ClientHello, send half a TLS record, close
 *   garbage           read the ClientHello, answer with text that is not TLS
 *   oversized-record  read the ClientHello, send a record longer than TLS allows
 *   rst-after-echo    echo one read back, then reset (plain sockets)
 * Man-in-the-middle modes (need --upstream A:P, a real TLS server): the
 * handshake is relayed untouched; at the first application-data record the
 * server sends, the proxy
 *   proxy-cut-data       relays half of it, then closes both sides
 *   proxy-flip-data      flips one bit of its ciphertext (the MAC fails)
 *   proxy-oversized-data sends a record header announcing 65535 bytes instead
 *   proxy-rst-data       resets the client connection
 *   proxy                (plain relay: a control)
 * usage: lwss-hostile-peer --addr A --port P --mode M [--ready-file F] [--upstream A:P]
 * Exits on SIGTERM or after 600 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *mode = "silent";
static struct sockaddr_in upstream;

static void reset_close(int c)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(c);
}

static ssize_t read_some(int c, uint8_t *buf, size_t len)
{
    struct timeval tv = {.tv_sec = 10};
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return recv(c, buf, len, 0);
}

/* ---- man in the middle ---------------------------------------------------- */

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) {
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Server-to-client bytes, cut into TLS records so that the first
 * application-data record (type 23) can be tampered with. */
typedef struct {
    uint8_t rec[5 + 65535];
    size_t have;
    int tampered;
} record_stream;

/* Apply the mode to one whole record.  @return 1 to go on relaying, 0 to stop. */
static int tamper(int client, uint8_t *rec, size_t len)
{
    if (strcmp(mode, "proxy-cut-data") == 0) {
        send_all(client, rec, len / 2);
        shutdown(client, SHUT_WR);
        usleep(300 * 1000); /* let the half record arrive before the FIN is acted on */
        return 0;
    }
    if (strcmp(mode, "proxy-flip-data") == 0) {
        rec[len - 1] ^= 0x01;
        return send_all(client, rec, len) == 0;
    }
    if (strcmp(mode, "proxy-oversized-data") == 0) {
        uint8_t big[5 + 8192] = {0x17, 0x03, 0x03, 0xff, 0xff};
        memset(big + 5, 0xA5, sizeof(big) - 5);
        send_all(client, big, sizeof(big));
        sleep(2);
        return 0;
    }
    if (strcmp(mode, "proxy-rst-data") == 0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        return 0;
    }
    return send_all(client, rec, len) == 0;
}

/* Relay @p n bytes from the server; @return 0 when the connection must end. */
static int from_server(record_stream *rs, int client, const uint8_t *p, size_t n)
{
    while (n > 0) {
        if (rs->tampered) {
            return send_all(client, p, n) == 0;
        }
        size_t need = rs->have < 5 ? 5 - rs->have
                                   : 5u + ((size_t)rs->rec[3] << 8 | rs->rec[4]) - rs->have;
        size_t take = n < need ? n : need;
        memcpy(rs->rec + rs->have, p, take);
        rs->have += take;
        p += take;
        n -= take;
        size_t total = rs->have < 5 ? 0 : 5u + ((size_t)rs->rec[3] << 8 | rs->rec[4]);
        if (rs->have < 5 || rs->have < total) {
            continue;
        }
        int go_on;
        if (rs->rec[0] == 23) {
            rs->tampered = 1;
            go_on = tamper(client, rs->rec, total);
        } else {
            go_on = send_all(client, rs->rec, total) == 0;
        }
        rs->have = 0;
        if (!go_on) {
            return 0;
        }
    }
    return 1;
}

static void relay(int client)
{
    int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    record_stream *rs = calloc(1, sizeof(*rs));
    if (server < 0 || rs == NULL || connect(server, (struct sockaddr *)&upstream, sizeof(upstream)) != 0) {
        free(rs);
        if (server >= 0) {
            close(server);
        }
        close(client);
        return;
    }
    uint8_t buf[16384];
    struct pollfd p[2] = {{.fd = client, .events = POLLIN}, {.fd = server, .events = POLLIN}};
    for (int alive = 1; alive && poll(p, 2, 30000) > 0;) {
        if (p[0].revents != 0) {
            ssize_t n = recv(client, buf, sizeof(buf), 0);
            alive = n > 0 && send_all(server, buf, (size_t)n) == 0;
        }
        if (alive && p[1].revents != 0) {
            ssize_t n = recv(server, buf, sizeof(buf), 0);
            alive = n > 0 && from_server(rs, client, buf, (size_t)n);
        }
    }
    free(rs);
    close(server);
    close(client);
}

static void *serve(void *arg)
{
    int c = (int)(intptr_t)arg;
    uint8_t buf[4096];
    if (strncmp(mode, "proxy", 5) == 0) {
        relay(c);
        return NULL;
    }
    if (strcmp(mode, "silent") == 0) {
        while (read_some(c, buf, sizeof(buf)) > 0) {
        }
        close(c);
        return NULL;
    }
    ssize_t n = read_some(c, buf, sizeof(buf));
    if (n <= 0) {
        close(c);
        return NULL;
    }
    if (strcmp(mode, "rst-handshake") == 0) {
        reset_close(c);
    } else if (strcmp(mode, "close-mid-record") == 0) {
        static const uint8_t part[] = {0x16, 0x03, 0x03, 0x00, 0x64, 0x02, 0x00, 0x00, 0x46, 0x03};
        send(c, part, sizeof(part), MSG_NOSIGNAL);
        close(c);
    } else if (strcmp(mode, "garbage") == 0) {
        static const char text[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        for (int i = 0; i < 40; i++) {
            send(c, text, sizeof(text) - 1, MSG_NOSIGNAL);
        }
        sleep(1);
        close(c);
    } else if (strcmp(mode, "oversized-record") == 0) {
        uint8_t rec[5 + 4096] = {0x16, 0x03, 0x03, 0xff, 0xff};
        send(c, rec, sizeof(rec), MSG_NOSIGNAL);
        sleep(1);
        close(c);
    } else if (strcmp(mode, "rst-after-echo") == 0) {
        send(c, buf, (size_t)n, MSG_NOSIGNAL);
        usleep(100 * 1000);
        reset_close(c);
    } else {
        close(c);
    }
    return NULL;
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int parse_upstream(const char *text)
{
    char host[64];
    unsigned port = 0;
    if (sscanf(text, "%63[^:]:%u", host, &port) != 2 || port == 0 || port > 65535) {
        return -1;
    }
    upstream.sin_family = AF_INET;
    upstream.sin_port = htons((uint16_t)port);
    return inet_pton(AF_INET, host, &upstream.sin_addr) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *addr = "192.0.2.1", *ready = NULL;
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--addr") == 0) addr = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--mode") == 0) mode = argv[i + 1];
        else if (strcmp(argv[i], "--ready-file") == 0) ready = argv[i + 1];
        else if (strcmp(argv[i], "--upstream") == 0 && parse_upstream(argv[i + 1]) == 0) {
        } else {
            fprintf(stderr, "usage: lwss-hostile-peer --addr A --port P --mode M [--ready-file F] "
                            "[--upstream A:P]\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "lwss-hostile-peer: --port is required\n");
        return 2;
    }
    if (strncmp(mode, "proxy", 5) == 0 && upstream.sin_port == 0) {
        fprintf(stderr, "lwss-hostile-peer: mode %s needs --upstream A:P\n", mode);
        return 2;
    }
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &a.sin_addr) != 1 || bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(ls, 64) != 0) {
        fprintf(stderr, "lwss-hostile-peer: cannot listen on %s:%d: %s\n", addr, port, strerror(errno));
        return 1;
    }
    if (ready != NULL) {
        FILE *f = fopen(ready, "w");
        if (f != NULL) {
            fclose(f);
        }
    }
    alarm(600);
    while (!stop) {
        if (strcmp(mode, "no-accept") == 0) {
            pause();
            continue;
        }
        int c = accept(ls, NULL, NULL);
        if (c < 0) {
            continue;
        }
        pthread_t th;
        if (pthread_create(&th, NULL, serve, (void *)(intptr_t)c) == 0) {
            pthread_detach(th);
        } else {
            close(c);
        }
    }
    close(ls);
    return 0;
}
