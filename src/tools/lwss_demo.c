/*
 * lwss-demo: a small Secure Sockets application, as firmware would write
 * it, running on the host: lwIP over the rig's TAP, a name looked up by DNS,
 * mutual TLS with the device key in the token (NVM image), one echo; with
 * --mqtt, then an MQTT 3.1.1 round trip through the rig's mosquitto (publish
 * to TOPIC, receive it back on the subscription) over the same kind of socket.
 *
 *   lwss-demo [--host NAME] [--port N] [--message TEXT] [--mqtt TOPIC]
 *   lwss-demo --import --cert F --key F --root-ca F   (provision $LWSS_NVM directly)
 *
 * Environment: LWSS_* of the host port (LWSS_PCAP for a capture), LWSS_NVM
 * for the image, SSLKEYLOGFILE for the TLS key log.
 */
#include "iot_secure_sockets.h"
#include "lwss/nvm.h"
#include "lwss/pkcs11.h"
#include "lwss/port.h"
#include "src/tools/mqtt_wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct demo_args {
    const char *host, *message, *cert, *key, *root, *topic;
    int port, import;
} demo_args;

static int usage(void)
{
    fprintf(stderr, "usage: lwss-demo [--host NAME] [--port N] [--message TEXT] [--mqtt TOPIC]\n"
                    "       lwss-demo --import --cert F --key F --root-ca F\n");
    return 2;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    long n;
    if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        *len = (size_t)n;
    } else {
        free(buf);
        buf = NULL;
    }
    if (f != NULL) {
        fclose(f);
    }
    return buf;
}

/* Fallback provisioning (lwss-provision does the same with more checks). */
static int import_all(const demo_args *a)
{
    const struct { const char *path, *label; int key; } items[] = {
        {a->root, pkcs11configLABEL_ROOT_CERTIFICATE, 0},
        {a->cert, pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS, 0},
        {a->key, pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS, 1},
    };
    CK_SLOT_ID slot;
    CK_ULONG n = 1;
    CK_SESSION_HANDLE s;
    if (C_Initialize(NULL) != CKR_OK || C_GetSlotList(CK_TRUE, &slot, &n) != CKR_OK ||
        C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) != CKR_OK) {
        fprintf(stderr, "lwss-demo: cannot open the token on %s: %s\n", lwss_nvm_path(), lwss_last_error());
        return 1;
    }
    int rc = 0;
    for (size_t i = 0; i < 3 && rc == 0; i++) {
        size_t len = 0;
        unsigned char *data = items[i].path != NULL ? slurp(items[i].path, &len) : NULL;
        CK_OBJECT_HANDLE h;
        CK_RV rv = data == NULL ? CKR_ARGUMENTS_BAD
                   : items[i].key ? lwss_pkcs11_import_key(s, items[i].label, NULL, 0, data, len,
                                                           LWSS_PKCS11_PRIVATE, &h)
                                  : lwss_pkcs11_import_cert(s, items[i].label, NULL, 0, data, len, &h);
        if (rv != CKR_OK) {
            fprintf(stderr, "lwss-demo: importing %s as \"%s\" failed (0x%lx)\n",
                    items[i].path ? items[i].path : "(missing)", items[i].label, (unsigned long)rv);
            rc = 1;
        }
        free(data);
    }
    C_CloseSession(s);
    C_Finalize(NULL);
    return rc;
}

static int parse(int argc, char **argv, demo_args *a)
{
    /* The rig says where its echo server's TLS port is (8884 beside mosquitto). */
    const char *echo_port = getenv("LWSS_ECHO_TLS_PORT");
    *a = (demo_args){"echo.lwss.test", "Hello from lwss: FreeRTOS sockets, lwIP, mbedtls, a token.",
                     NULL, NULL, NULL, NULL, echo_port != NULL ? atoi(echo_port) : 8883, 0};
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--import")) { a->import = 1; continue; }
        if (v == NULL) return usage();
        if (!strcmp(argv[i], "--host")) a->host = v;
        else if (!strcmp(argv[i], "--port")) a->port = atoi(v);
        else if (!strcmp(argv[i], "--message")) a->message = v;
        else if (!strcmp(argv[i], "--cert")) a->cert = v;
        else if (!strcmp(argv[i], "--key")) a->key = v;
        else if (!strcmp(argv[i], "--root-ca")) a->root = v;
        else if (!strcmp(argv[i], "--mqtt")) a->topic = v;
        else return usage();
        i++;
    }
    return a->port > 0 && a->port < 65536 ? 0 : usage();
}

/* Resolve, then a mutual-TLS Secure Sockets connection (ALPN @p alpn or none). */
static Socket_t tls_connect(const char *host, int port, const char *alpn)
{
    uint32_t ip = SOCKETS_GetHostByName(host);
    if (ip == 0) {
        fprintf(stderr, "lwss-demo: cannot resolve %s\n", host);
        return SOCKETS_INVALID_SOCKET;
    }
    char dotted[16];
    SOCKETS_inet_ntoa(ip, dotted);
    printf("  resolved %s -> %s (DNS over lwIP)\n", host, dotted);
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    TickType_t t = pdMS_TO_TICKS(5000);
    SocketsSockaddr_t addr = {sizeof(addr), SOCKETS_AF_INET, SOCKETS_htons((uint16_t)port), ip};
    const char *protos[] = {alpn};
    int32_t rc = s == SOCKETS_INVALID_SOCKET ? SOCKETS_SOCKET_ERROR : 0;
    if (rc == 0) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0);
    if (rc == 0) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, host, strlen(host));
    if (rc == 0 && alpn != NULL) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_ALPN_PROTOCOLS, protos, 1);
    if (rc == 0) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t));
    if (rc == 0) rc = SOCKETS_Connect(s, &addr, sizeof(addr));
    if (rc != 0) {
        fprintf(stderr, "lwss-demo: TLS connect failed: %d (%s)\n", (int)rc, lwss_last_error());
        if (s != SOCKETS_INVALID_SOCKET) SOCKETS_Close(s);
        return SOCKETS_INVALID_SOCKET;
    }
    return s;
}

/* The application part: what firmware would do with Secure Sockets. */
static int echo_once(const demo_args *a)
{
    Socket_t s = tls_connect(a->host, a->port, "lwss-echo");
    if (s == SOCKETS_INVALID_SOCKET) {
        return 1;
    }
    printf("  TLS 1.2 session up: server verified against the token's root, "
           "client authenticated with the token's key (C_Sign)\n");
    size_t len = strlen(a->message), got = 0;
    char reply[1024];
    if (len >= sizeof(reply) || SOCKETS_Send(s, a->message, len, 0) != (int32_t)len) {
        fprintf(stderr, "lwss-demo: send failed\n");
        SOCKETS_Close(s);
        return 1;
    }
    printf("  sent     \"%s\"\n", a->message);
    while (got < len) {
        int32_t n = SOCKETS_Recv(s, reply + got, len - got, 0);
        if (n <= 0) break;
        got += (size_t)n;
    }
    reply[got] = '\0';
    printf("  received \"%s\"\n", reply);
    SOCKETS_Close(s); /* close_notify, then the TCP close */
    return got == len && memcmp(reply, a->message, len) == 0 ? 0 : 1;
}

/* ---- --mqtt: a few MQTT 3.1.1 packets by hand (no MQTT library) ---------- */

/* CONNECT, SUBSCRIBE (QoS 1) to @p topic, PUBLISH (QoS 1) the message and
 * read until it comes back on the subscription; then DISCONNECT. */
static int mqtt_session(Socket_t s, const char *topic, const char *msg)
{
    uint8_t b[512];
    size_t n, len;
    static const uint8_t hello[] = {0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60};
    if (strlen(topic) + strlen(msg) > 400) return -1;
    memcpy(b, hello, sizeof(hello));
    n = sizeof(hello) + mqtt_wire_put_str(b + sizeof(hello), "lwss-demo");
    if (mqtt_wire_send(s, 0x10, b, n) != 0 || mqtt_wire_read(s, b, sizeof(b), &len) != 2 || b[1] != 0)
        return -1;
    printf("  MQTT CONNECT accepted (CONNACK 0)\n");
    b[0] = 0; b[1] = 1;
    n = 2 + mqtt_wire_put_str(b + 2, topic);
    b[n++] = 1;
    if (mqtt_wire_send(s, 0x82, b, n) != 0 || mqtt_wire_read(s, b, sizeof(b), &len) != 9 || b[2] != 1)
        return -1;
    printf("  subscribed to \"%s\" (SUBACK, QoS 1)\n", topic);
    n = mqtt_wire_put_str(b, topic);
    b[n++] = 0; b[n++] = 2; /* packet identifier 2 */
    memcpy(b + n, msg, strlen(msg));
    if (mqtt_wire_send(s, 0x32, b, n + strlen(msg)) != 0) return -1;
    printf("  published \"%s\" (QoS 1)\n", msg);
    for (int i = 0, acked = 0, back = 0; i < 6; i++) {
        int type = mqtt_wire_read(s, b, sizeof(b) - 1, &len);
        if (type == 4) { printf("  PUBACK from the broker\n"); acked = 1; }
        if (type == 3 && len >= 4) {
            size_t t = ((size_t)b[0] << 8 | b[1]) + 2, off = t + 2; /* QoS 1: packet id */
            uint8_t ack[2] = {b[t], b[t + 1]};
            b[len] = 0;
            printf("  received back on the subscription: \"%s\"\n", (char *)b + off);
            back = strcmp((char *)b + off, msg) == 0 && mqtt_wire_send(s, 0x40, ack, 2) == 0;
        }
        if (type < 0) return -1;
        if (acked && back) return mqtt_wire_send(s, 0xE0, NULL, 0);
    }
    return -1;
}

static int mqtt_round_trip(const demo_args *a)
{
    const char *port = getenv("LWSS_MQTT_TLS_PORT");
    printf("  -- MQTT: mosquitto in the rig, same device identity from the token --\n");
    Socket_t s = tls_connect(a->host, port != NULL ? atoi(port) : 8883, NULL);
    if (s == SOCKETS_INVALID_SOCKET) {
        return 1;
    }
    int rc = mqtt_session(s, a->topic, a->message);
    if (rc != 0) {
        fprintf(stderr, "lwss-demo: the MQTT round trip failed\n");
    }
    SOCKETS_Close(s);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    demo_args a;
    if (parse(argc, argv, &a) != 0) {
        return 2;
    }
    if (a.import) {
        return import_all(&a);
    }
    int rc = lwss_port_up(NULL);
    if (rc != LWSS_OK) {
        fprintf(stderr, "lwss-demo: lwIP did not come up: %s\n", lwss_last_error());
        return 1;
    }
    rc = SOCKETS_Init() == pdPASS ? echo_once(&a) : 1;
    if (rc == 0 && a.topic != NULL) {
        rc = mqtt_round_trip(&a);
    }
    lwss_port_down();
    return rc;
}
