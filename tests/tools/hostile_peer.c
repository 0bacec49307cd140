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
 * usage: lwss-hostile-peer --addr A --port P --mode M [--ready-file F]
 * Exits on SIGTERM or after 600 s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *mode = "silent";

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

static void *serve(void *arg)
{
    int c = (int)(intptr_t)arg;
    uint8_t buf[4096];
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

int main(int argc, char **argv)
{
    const char *addr = "192.0.2.1", *ready = NULL;
    int port = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--addr") == 0) addr = argv[i + 1];
        else if (strcmp(argv[i], "--port") == 0) port = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--mode") == 0) mode = argv[i + 1];
        else if (strcmp(argv[i], "--ready-file") == 0) ready = argv[i + 1];
        else {
            fprintf(stderr, "usage: lwss-hostile-peer --addr A --port P --mode M [--ready-file F]\n");
            return 2;
        }
    }
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "lwss-hostile-peer: --port is required\n");
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
