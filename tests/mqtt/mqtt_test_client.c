/*
 * MQTT 3.1.1 (OASIS, 2014) packets for the rig suite, encoded and decoded
 * here by hand: section numbers in the comments are the standard's.
 */
#include "tests/mqtt/mqtt_test_client.h"
#include "tests/support/lwss_test.h"
#include "tests/support/tls_rig_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define IO_TRIES 15 /* transport timeouts in a row before a step fails */

const char *mqtt_tc_host(void)
{
    return lwss_test_env("LWSS_MQTT_HOST", "192.0.2.1");
}

uint16_t mqtt_tc_port(void)
{
    return (uint16_t)atoi(lwss_test_env("LWSS_MQTT_PORT", "1883"));
}

uint16_t mqtt_tc_tls_port(void)
{
    return (uint16_t)atoi(lwss_test_env("LWSS_MQTT_TLS_PORT", "8883"));
}

static void send_all(const mqtt_tc_io *io, const uint8_t *p, size_t len)
{
    size_t done = 0;
    for (int idle = 0; done < len && idle < IO_TRIES;) {
        int32_t n = io->send(io->ctx, p + done, len - done);
        ck_assert_int_ge(n, 0);
        done += (size_t)n;
        idle = n == 0 ? idle + 1 : 0;
    }
    ck_assert_uint_eq(done, len);
}

static void recv_exact(const mqtt_tc_io *io, uint8_t *p, size_t len)
{
    size_t done = 0;
    for (int idle = 0; done < len && idle < IO_TRIES;) {
        int32_t n = io->recv(io->ctx, p + done, len - done);
        ck_assert_int_ge(n, 0);
        done += (size_t)n;
        idle = n == 0 ? idle + 1 : 0;
    }
    ck_assert_uint_eq(done, len);
}

/* 2.2.3 Remaining Length: 7 bits a byte, high bit "more". */
static size_t put_length(uint8_t *p, size_t len)
{
    size_t i = 0;
    do {
        uint8_t b = (uint8_t)(len % 128);
        len /= 128;
        p[i++] = (uint8_t)(b | (len > 0 ? 0x80 : 0));
    } while (len > 0);
    return i;
}

static size_t put_string(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (uint8_t)(n >> 8);
    p[1] = (uint8_t)n;
    memcpy(p + 2, s, n);
    return n + 2;
}

/* Fixed header + @p body, sent at once. */
static void send_packet(const mqtt_tc_io *io, uint8_t first, const uint8_t *body, size_t len)
{
    uint8_t pkt[1100];
    ck_assert_uint_le(len, sizeof(pkt) - 5);
    pkt[0] = first;
    size_t h = 1 + put_length(pkt + 1, len);
    if (len > 0) {
        memcpy(pkt + h, body, len);
    }
    send_all(io, pkt, h + len);
}

static void read_packet(const mqtt_tc_io *io, mqtt_tc_packet *pk)
{
    uint8_t b;
    recv_exact(io, &b, 1);
    pk->type = (uint8_t)(b >> 4);
    pk->flags = (uint8_t)(b & 0x0f);
    size_t len = 0, mult = 1;
    for (int i = 0; i < 4; i++) {
        recv_exact(io, &b, 1);
        len += (size_t)(b & 0x7f) * mult;
        mult *= 128;
        if ((b & 0x80) == 0) {
            break;
        }
    }
    ck_assert_uint_le(len, sizeof(pk->body));
    pk->len = len;
    if (len > 0) {
        recv_exact(io, pk->body, len);
    }
}

/* 3.1 CONNECT (clean session, keep alive 60 s) and 3.2 CONNACK. */
static void do_connect(const mqtt_tc_io *io, const char *client_id)
{
    uint8_t body[300];
    static const uint8_t head[] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60};
    memcpy(body, head, sizeof(head));
    size_t n = sizeof(head) + put_string(body + sizeof(head), client_id);
    send_packet(io, 0x10, body, n);
    mqtt_tc_packet pk;
    read_packet(io, &pk);
    ck_assert_uint_eq(pk.type, MQTT_CONNACK);
    ck_assert_uint_eq(pk.len, 2);
    ck_assert_uint_eq(pk.body[1], 0); /* 3.2.2.3: 0x00 Connection Accepted */
}

/* 3.8 SUBSCRIBE (flags 0010) at QoS 1 and 3.9 SUBACK. */
static void do_subscribe(const mqtt_tc_io *io, const char *topic, uint16_t pid)
{
    uint8_t body[300] = {(uint8_t)(pid >> 8), (uint8_t)pid};
    size_t n = 2 + put_string(body + 2, topic);
    body[n++] = 1;
    send_packet(io, 0x82, body, n);
    mqtt_tc_packet pk;
    read_packet(io, &pk);
    ck_assert_uint_eq(pk.type, MQTT_SUBACK);
    ck_assert_uint_eq(pk.len, 3);
    ck_assert_uint_eq((pk.body[0] << 8) | pk.body[1], pid);
    ck_assert_uint_eq(pk.body[2], 1); /* granted QoS 1 */
}

static void do_publish(const mqtt_tc_io *io, const char *topic, int qos, uint16_t pid,
                       const char *payload)
{
    uint8_t body[600];
    size_t n = put_string(body, topic);
    if (qos > 0) {
        body[n++] = (uint8_t)(pid >> 8);
        body[n++] = (uint8_t)pid;
    }
    memcpy(body + n, payload, strlen(payload));
    n += strlen(payload);
    send_packet(io, (uint8_t)(0x30 | (qos << 1)), body, n);
}

static void send_puback(const mqtt_tc_io *io, uint16_t pid)
{
    uint8_t body[2] = {(uint8_t)(pid >> 8), (uint8_t)pid};
    send_packet(io, 0x40, body, 2);
}

/* Read until @p payload comes back on @p topic (3.3), acknowledging QoS 1
 * deliveries; a PUBACK for @p our_pid on the way is recorded. */
static void expect_delivery(const mqtt_tc_io *io, const char *topic, const char *payload,
                            int want_qos, uint16_t our_pid, int *got_puback)
{
    for (int i = 0; i < 8; i++) {
        mqtt_tc_packet pk;
        read_packet(io, &pk);
        if (pk.type == MQTT_PUBACK) {
            ck_assert_uint_eq(pk.len, 2);
            ck_assert_uint_eq((pk.body[0] << 8) | pk.body[1], our_pid);
            *got_puback = 1;
            continue;
        }
        ck_assert_uint_eq(pk.type, MQTT_PUBLISH);
        int qos = (pk.flags >> 1) & 3;
        size_t tlen = ((size_t)pk.body[0] << 8) | pk.body[1];
        ck_assert_uint_eq(tlen, strlen(topic));
        ck_assert_int_eq(memcmp(pk.body + 2, topic, tlen), 0);
        size_t off = 2 + tlen;
        if (qos > 0) {
            send_puback(io, (uint16_t)((pk.body[off] << 8) | pk.body[off + 1]));
            off += 2;
        }
        ck_assert_int_eq(qos, want_qos);
        ck_assert_uint_eq(pk.len - off, strlen(payload));
        ck_assert_int_eq(memcmp(pk.body + off, payload, pk.len - off), 0);
        return;
    }
    ck_abort_msg("publication on %s did not come back", topic);
}

void mqtt_tc_exchange(const mqtt_tc_io *io, const char *client_id, const char *topic,
                      const char *tag)
{
    char p0[128], p1[128];
    snprintf(p0, sizeof(p0), "%s qos0", tag);
    snprintf(p1, sizeof(p1), "%s qos1", tag);
    do_connect(io, client_id);
    do_subscribe(io, topic, 1);
    do_publish(io, topic, 0, 0, p0);
    int puback = 0;
    expect_delivery(io, topic, p0, 0, 0, &puback); /* min(0, granted 1) = 0 */
    do_publish(io, topic, 1, 7, p1);
    expect_delivery(io, topic, p1, 1, 7, &puback);
    if (!puback) {
        mqtt_tc_packet pk;
        read_packet(io, &pk);
        ck_assert_uint_eq(pk.type, MQTT_PUBACK); /* 3.4: PUBACK for packet 7 */
        ck_assert_uint_eq((pk.body[0] << 8) | pk.body[1], 7);
    }
    send_packet(io, 0xC0, NULL, 0); /* 3.12 PINGREQ */
    mqtt_tc_packet pk;
    read_packet(io, &pk);
    ck_assert_uint_eq(pk.type, MQTT_PINGRESP);
    send_packet(io, 0xE0, NULL, 0); /* 3.14 DISCONNECT */
}

void mqtt_tc_expect_close(const mqtt_tc_io *io)
{
    uint8_t b;
    for (int i = 0; i < IO_TRIES; i++) {
        int32_t n = io->recv(io->ctx, &b, 1);
        ck_assert_int_le(n, 0);
        if (n < 0) {
            return;
        }
    }
    ck_abort_msg("the broker's close was not reported");
}

/* Append what the watcher printed, waiting at most @p ms. Returns 0 at EOF. */
static int watch_read(mqtt_tc_watch *w, int ms)
{
    struct pollfd p = {w->out_fd, POLLIN, 0};
    if (poll(&p, 1, ms) <= 0) {
        return 1;
    }
    ssize_t n = read(w->out_fd, w->out + w->out_len, sizeof(w->out) - 1 - w->out_len);
    if (n <= 0) {
        return 0;
    }
    w->out_len += (size_t)n;
    w->out[w->out_len] = 0;
    return 1;
}

void mqtt_tc_watch_start(mqtt_tc_watch *w, const char *topic, int count)
{
    memset(w, 0, sizeof(*w));
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    char port[8], cnt[8], id[64], log[512], mark[128];
    snprintf(id, sizeof(id), "watch-%d-%s", (int)getpid(), topic);
    for (char *c = id; *c != 0; c++) {
        *c = *c == '/' ? '-' : *c;
    }
    /* Its stdout is a pipe (buffered until exit): readiness is the broker's
     * log line for the SUBACK it sent (rig.sh --mqtt logs everything). */
    snprintf(log, sizeof(log), "%s/mosquitto.log", lwss_test_env("LWSS_RIG_RUNDIR", "."));
    snprintf(mark, sizeof(mark), "Sending SUBACK to %s", id);
    snprintf(port, sizeof(port), "%u", mqtt_tc_port());
    snprintf(cnt, sizeof(cnt), "%d", count);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        execlp("mosquitto_sub", "mosquitto_sub", "-i", id, "-v", "-h", mqtt_tc_host(), "-p", port,
               "-t", topic, "-q", "1", "-C", cnt, "-W", "30", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    w->pid = pid;
    w->out_fd = fds[0];
    uint64_t deadline = lwss_test_now_ms() + 10000;
    int ready = 0;
    while (!(ready = lwss_tr_file_contains(log, mark, strlen(mark))) &&
           lwss_test_now_ms() < deadline) {
        if (!watch_read(w, 50)) {
            break;
        }
    }
    ck_assert_msg(ready, "mosquitto_sub did not subscribe: %s", w->out);
}

void mqtt_tc_watch_finish(mqtt_tc_watch *w)
{
    uint64_t deadline = lwss_test_now_ms() + 15000;
    while (lwss_test_now_ms() < deadline && watch_read(w, 200)) {
    }
    int status = 0;
    if (waitpid(w->pid, &status, WNOHANG) == 0) {
        kill(w->pid, SIGKILL);
        waitpid(w->pid, &status, 0);
    }
    close(w->out_fd);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "mosquitto_sub: %s", w->out);
}
