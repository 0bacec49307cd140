/*
 * lwss-demo: a small Secure Sockets application, as firmware would write
 * it, running on the host: lwIP over the rig's TAP, a name looked up by DNS,
 * mutual TLS with the device key in the token (NVM image), one echo.
 *
 *   lwss-demo [--host NAME] [--port N] [--message TEXT]
 *   lwss-demo --import --cert F --key F --root-ca F   (provision $LWSS_NVM directly)
 *
 * Environment: LWSS_* of the host port (LWSS_PCAP for a capture), LWSS_NVM
 * for the image, SSLKEYLOGFILE for the TLS key log.
 */
#include "iot_secure_sockets.h"
#include "lwss/nvm.h"
#include "lwss/pkcs11.h"
#include "lwss/port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct demo_args {
    const char *host, *message, *cert, *key, *root;
    int port, import;
} demo_args;

static int usage(void)
{
    fprintf(stderr, "usage: lwss-demo [--host NAME] [--port N] [--message TEXT]\n"
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
    *a = (demo_args){"echo.lwss.test", "Hello from lwss: FreeRTOS sockets, lwIP, mbedtls, a token.",
                     NULL, NULL, NULL, 8883, 0};
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
        else return usage();
        i++;
    }
    return a->port > 0 && a->port < 65536 ? 0 : usage();
}

/* The application part: what firmware would do with Secure Sockets. */
static int echo_once(const demo_args *a)
{
    static const char *alpn[] = {"lwss-echo"};
    uint32_t ip = SOCKETS_GetHostByName(a->host);
    if (ip == 0) {
        fprintf(stderr, "lwss-demo: cannot resolve %s\n", a->host);
        return 1;
    }
    char dotted[16];
    SOCKETS_inet_ntoa(ip, dotted);
    printf("  resolved %s -> %s (DNS over lwIP)\n", a->host, dotted);
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    TickType_t t = pdMS_TO_TICKS(5000);
    SocketsSockaddr_t addr = {sizeof(addr), SOCKETS_AF_INET, SOCKETS_htons((uint16_t)a->port), ip};
    int32_t rc = s == SOCKETS_INVALID_SOCKET ? SOCKETS_SOCKET_ERROR : 0;
    if (rc == 0) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_REQUIRE_TLS, NULL, 0);
    if (rc == 0) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_SERVER_NAME_INDICATION, a->host, strlen(a->host));
    if (rc == 0) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_ALPN_PROTOCOLS, alpn, 1);
    if (rc == 0) rc = SOCKETS_SetSockOpt(s, 0, SOCKETS_SO_RCVTIMEO, &t, sizeof(t));
    if (rc == 0) rc = SOCKETS_Connect(s, &addr, sizeof(addr));
    if (rc != 0) {
        fprintf(stderr, "lwss-demo: TLS connect failed: %d (%s)\n", (int)rc, lwss_last_error());
        if (s != SOCKETS_INVALID_SOCKET) SOCKETS_Close(s);
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
    lwss_port_down();
    return rc;
}
