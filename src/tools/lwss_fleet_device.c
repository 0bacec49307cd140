/*
 * lwss-fleet-device: one simulated device of a fleet (scripts/fleet.sh).
 * Brings lwIP up on its own TAP (LWSS_TAP, LWSS_IP, LWSS_MAC), opens its own
 * token (LWSS_NVM), waits for the common start signal, opens one mutual-TLS
 * Secure Sockets connection and exchanges a message every interval until
 * the run time is over; then prints one result line (also to --result):
 *
 *   fleet-device id=K ok=1 hs_ms=12.3 exchanges=60 failed=0 bytes=7680
 *     cpu_ms=.. steady_cpu_ms=.. steady_ms=.. rss_kb=.. pss_kb=.. error=-
 *
 * steady_*: from the end of the handshake to the end of the run.
 *
 * Echo mode (default): the rig's echo server, TLS port LWSS_ECHO_TLS_PORT,
 * server name echo.lwss.test.  --mqtt: mosquitto (LWSS_MQTT_HOST,
 * LWSS_MQTT_TLS_PORT): CONNECT, SUBSCRIBE to the device's own topic, then a
 * QoS 0 PUBLISH per interval that must come back on the subscription.
 *
 *   lwss-fleet-device --id K [--seconds S] [--interval-ms M] [--size B]
 *       [--go-file F] [--go-timeout-ms T] [--ready-file F] [--result F]
 *       [--server IP] [--port P] [--mqtt]
 */
#include "iot_secure_sockets.h"
#include "lwss/pkcs11.h"
#include "lwss/port.h"
#include "lwss/sockets.h"
#include "src/tools/mqtt_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define SERVER_NAME "echo.lwss.test"
#define MAX_MSG 1024
#define IO_TIMEOUT_MS 10000u

typedef struct fleet_args {
    int id, seconds, interval_ms, size, go_timeout_ms, port, mqtt;
    const char *go_file, *ready_file, *result, *server;
} fleet_args;

typedef struct fleet_result {
    int ok;
    double hs_ms, cpu_ms, steady_cpu_ms, steady_ms;
    long exchanges, failed, bytes, rss_kb, pss_kb;
    const char *error;
} fleet_result;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static void sleep_ms(double ms)
{
    if (ms <= 0) {
        return;
    }
    struct timespec ts = {(time_t)(ms / 1e3), (long)((ms - (double)(time_t)(ms / 1e3) * 1e3) * 1e6)};
    nanosleep(&ts, NULL);
}

static int env_int(const char *name, int dflt)
{
    const char *v = getenv(name);
    return v != NULL && atoi(v) > 0 ? atoi(v) : dflt;
}

static int usage(void)
{
    fprintf(stderr, "usage: lwss-fleet-device --id K [--seconds S] [--interval-ms M] [--size B]\n"
                    "         [--go-file F] [--go-timeout-ms T] [--ready-file F] [--result F]\n"
                    "         [--server IP] [--port P] [--mqtt]\n");
    return 2;
}

static int parse(int argc, char **argv, fleet_args *a)
{
    *a = (fleet_args){-1, 5, 1000, 64, 60000, 0, 0, NULL, NULL, NULL, NULL};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--mqtt")) { a->mqtt = 1; continue; }
        if (v == NULL) return usage();
        if (!strcmp(argv[i], "--id")) a->id = atoi(v);
        else if (!strcmp(argv[i], "--seconds")) a->seconds = atoi(v);
        else if (!strcmp(argv[i], "--interval-ms")) a->interval_ms = atoi(v);
        else if (!strcmp(argv[i], "--size")) a->size = atoi(v);
        else if (!strcmp(argv[i], "--go-file")) a->go_file = v;
        else if (!strcmp(argv[i], "--go-timeout-ms")) a->go_timeout_ms = atoi(v);
        else if (!strcmp(argv[i], "--ready-file")) a->ready_file = v;
        else if (!strcmp(argv[i], "--result")) a->result = v;
        else if (!strcmp(argv[i], "--server")) a->server = v;
        else if (!strcmp(argv[i], "--port")) a->port = atoi(v);
        else return usage();
        i++;
    }
    if (a->port == 0) {
        a->port = a->mqtt ? env_int("LWSS_MQTT_TLS_PORT", 8883) : env_int("LWSS_ECHO_TLS_PORT", 8883);
    }
    if (a->server == NULL) {
        a->server = getenv(a->mqtt ? "LWSS_MQTT_HOST" : "LWSS_RIG_PEER");
    }
    if (a->server == NULL) {
        a->server = "192.0.2.1";
    }
    int ok = a->id >= 0 && a->seconds >= 0 && a->interval_ms > 0 && a->size >= 16 &&
             a->size <= MAX_MSG - 64 && a->port > 0 && a->port < 65536 && a->go_timeout_ms > 0;
    return ok ? 0 : usage();
}

static int touch(const char *path)
{
    FILE *f = fopen(path, "w");
    return f != NULL && fclose(f) == 0 ? 0 : -1;
}

/* The common start: every device connects once the script creates the go
 * file (polled every 2 ms, so the devices start within a few ms). */
static int wait_go(const fleet_args *a)
{
    if (a->go_file == NULL) {
        return 0;
    }
    if (a->ready_file != NULL && touch(a->ready_file) != 0) {
        return -1;
    }
    for (double end = now_ms() + a->go_timeout_ms; now_ms() < end; sleep_ms(2)) {
        if (access(a->go_file, F_OK) == 0) {
            return 0;
        }
    }
    return -1;
}

/* Mutual TLS to @p a->server: SNI and verification against echo.lwss.test,
 * the client key stays in the token (signing through PKCS #11). */
static Socket_t tls_connect(const fleet_args *a, const char **error)
{
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    TickType_t t = pdMS_TO_TICKS(IO_TIMEOUT_MS);
    unsigned o[4];
    SocketsSockaddr_t addr = {sizeof(addr), SOCKETS_AF_INET, SOCKETS_htons((uint16_t)a->port), 0};
    if (sscanf(a->server, "%u.%u.%u.%u", &o[0], &o[1], &o[2], &o[3]) == 4) {
        addr.ulAddress = SOCKETS_inet_addr_quick(o[0], o[1], o[2], o[3]);
    }
    const char *protos[] = {"lwss-echo"};
    int32_t rc = s == SOCKETS_INVALID_SOCKET || addr.ulAddress == 0 ? SOCKETS_SOCKET_ERROR : 0;
    if (rc == 0) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0);
    if (rc == 0) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, SERVER_NAME,
                                         strlen(SERVER_NAME));
    if (rc == 0 && !a->mqtt) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_ALPN_PROTOCOLS, protos, 1);
    if (rc == 0) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t));
    if (rc == 0) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SNDTIMEO, &t, sizeof(t));
    if (rc == 0) rc = SOCKETS_Connect(s, &addr, sizeof(addr));
    if (rc != 0) {
        fprintf(stderr, "fleet-device %d: TLS connect to %s:%d failed: %d (%s)\n", a->id, a->server,
                a->port, (int)rc, lwss_last_error());
        *error = "connect";
        if (s != SOCKETS_INVALID_SOCKET) SOCKETS_Close(s);
        return SOCKETS_INVALID_SOCKET;
    }
    return s;
}

static int send_all(Socket_t s, const void *p, size_t len)
{
    return SOCKETS_Send(s, p, len, 0) == (int32_t)len ? 0 : -1;
}

/* ---- MQTT 3.1.1, QoS 0, by hand (section numbers of the 3.1.1 spec) ------ */

/* CONNECT (3.1) with client id fleet-K, SUBSCRIBE (3.8) to @p topic at QoS 0. */
static int mqtt_open(Socket_t s, int id, const char *topic)
{
    static const uint8_t hello[] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60};
    uint8_t b[256];
    char cid[32];
    size_t n, len;
    snprintf(cid, sizeof(cid), "lwss-fleet-%d", id);
    memcpy(b, hello, sizeof(hello));
    n = sizeof(hello) + mqtt_wire_put_str(b + sizeof(hello), cid);
    if (mqtt_wire_send(s, 0x10, b, n) != 0 || mqtt_wire_read(s, b, sizeof(b), &len) != 2 || len != 2 || b[1] != 0)
        return -1;
    b[0] = 0;
    b[1] = 1;
    n = 2 + mqtt_wire_put_str(b + 2, topic);
    b[n++] = 0;
    return mqtt_wire_send(s, 0x82, b, n) == 0 && mqtt_wire_read(s, b, sizeof(b), &len) == 9 && len == 3 &&
                   b[2] == 0 ? 0 : -1;
}

/* PUBLISH @p msg at QoS 0 (3.3) and read it back from the subscription. */
static int mqtt_exchange(Socket_t s, const char *topic, const char *msg, size_t mlen)
{
    uint8_t b[MAX_MSG];
    size_t n = mqtt_wire_put_str(b, topic), len;
    memcpy(b + n, msg, mlen);
    if (mqtt_wire_send(s, 0x30, b, n + mlen) != 0) return -1;
    for (int i = 0; i < 4; i++) {
        int type = mqtt_wire_read(s, b, sizeof(b), &len);
        if (type < 0) return -1;
        if (type == 3 && len == n + mlen && memcmp(b + n, msg, mlen) == 0) return 0;
    }
    return -1;
}

/* ---- the device ---------------------------------------------------------- */

static int echo_exchange(Socket_t s, const char *msg, size_t len)
{
    char back[MAX_MSG];
    return send_all(s, msg, len) == 0 && mqtt_wire_recv_exact(s, back, len) == 0 && memcmp(back, msg, len) == 0
               ? 0 : -1;
}

/* Connected: one exchange per interval (on a fixed schedule) until @p end. */
static void exchange_loop(const fleet_args *a, Socket_t s, fleet_result *r, double end)
{
    char topic[48], msg[MAX_MSG];
    snprintf(topic, sizeof(topic), "lwss/fleet/%d", a->id);
    if (a->mqtt && mqtt_open(s, a->id, topic) != 0) {
        r->error = "mqtt-connect";
        return;
    }
    for (double next = now_ms(); next < end; next += a->interval_ms) {
        sleep_ms(next - now_ms());
        int k = snprintf(msg, sizeof(msg), "device %d message %ld ", a->id, r->exchanges);
        memset(msg + k, 'x', (size_t)(a->size - k));
        int rc = a->mqtt ? mqtt_exchange(s, topic, msg, (size_t)a->size)
                         : echo_exchange(s, msg, (size_t)a->size);
        if (rc != 0) {
            r->failed++;
            r->error = "exchange";
            return; /* the connection is gone or out of step */
        }
        r->exchanges++;
        r->bytes += 2L * a->size;
    }
    sleep_ms(end - now_ms()); /* the connection is held for the whole run */
    if (a->mqtt) {
        mqtt_wire_send(s, 0xE0, NULL, 0); /* DISCONNECT (3.14) */
    }
    r->ok = r->exchanges > 0 && r->failed == 0;
}

static void memory(fleet_result *r)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->rss_kb = ru.ru_maxrss;
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[128];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "Pss: %ld kB", &r->pss_kb) == 1) break;
    }
    if (f != NULL) fclose(f);
}

static void report(const fleet_args *a, const fleet_result *r)
{
    char line[320];
    snprintf(line, sizeof(line),
             "fleet-device id=%d ok=%d hs_ms=%.3f exchanges=%ld failed=%ld bytes=%ld cpu_ms=%.1f "
             "steady_cpu_ms=%.1f steady_ms=%.0f rss_kb=%ld pss_kb=%ld error=%s\n",
             a->id, r->ok, r->hs_ms, r->exchanges, r->failed, r->bytes, r->cpu_ms, r->steady_cpu_ms,
             r->steady_ms,
             r->rss_kb, r->pss_kb, r->error);
    fputs(line, stdout);
    fflush(stdout);
    if (a->result != NULL) {
        char tmp[512];
        snprintf(tmp, sizeof(tmp), "%s.tmp", a->result);
        FILE *f = fopen(tmp, "w");
        if (f != NULL && fputs(line, f) >= 0 && fclose(f) == 0) {
            rename(tmp, a->result);
        }
    }
}

static void run(const fleet_args *a, fleet_result *r)
{
    if (lwss_port_up(NULL) != LWSS_OK) {
        fprintf(stderr, "fleet-device %d: lwIP did not come up: %s\n", a->id, lwss_last_error());
        r->error = "port-up";
        return;
    }
    /* As firmware does at boot: PKCS #11 once, the token open for the run. */
    int token = C_Initialize(NULL) == CKR_OK;
    if (!token || SOCKETS_Init() != pdPASS ||
        lwss_sockets_set_connect_timeout((uint32_t)env_int("LWSS_FLEET_CONNECT_MS", 60000)) != 0) {
        r->error = "init";
    } else if (wait_go(a) != 0) {
        r->error = "no-go";
    } else {
        double t0 = now_ms();
        Socket_t s = tls_connect(a, &r->error);
        if (s != SOCKETS_INVALID_SOCKET) {
            r->hs_ms = now_ms() - t0;
            double c0 = cpu_ms(), w0 = now_ms();
            exchange_loop(a, s, r, t0 + a->seconds * 1e3);
            r->steady_cpu_ms = cpu_ms() - c0;
            r->steady_ms = now_ms() - w0;
            SOCKETS_Close(s);
        }
    }
    if (token) C_Finalize(NULL);
    lwss_port_down();
}

int main(int argc, char **argv)
{
    fleet_args a;
    if (parse(argc, argv, &a) != 0) {
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    fleet_result r = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "-"};
    run(&a, &r);
    if (r.ok) r.error = "-";
    r.cpu_ms = cpu_ms();
    memory(&r);
    report(&a, &r);
    return r.ok ? 0 : 1;
}
