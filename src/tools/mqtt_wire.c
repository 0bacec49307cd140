/* MQTT 3.1.1 packet framing for the tools (see mqtt_wire.h). */
#include "src/tools/mqtt_wire.h"

#include <string.h>

int mqtt_wire_send(Socket_t s, uint8_t first, const uint8_t *body, size_t len)
{
    uint8_t pkt[5 + MQTT_WIRE_MAX_BODY]; /* type + up to 4 length bytes */
    size_t h = 0, rem = len;
    if (len > MQTT_WIRE_MAX_BODY) {
        return -1;
    }
    pkt[h++] = first;
    do { /* Remaining Length (2.2.3) */
        pkt[h++] = (uint8_t)((rem % 128) | (rem >= 128 ? 0x80 : 0));
        rem /= 128;
    } while (rem > 0);
    if (len > 0) {
        memcpy(pkt + h, body, len);
    }
    return SOCKETS_Send(s, pkt, h + len, 0) == (int32_t)(h + len) ? 0 : -1;
}

int mqtt_wire_recv_exact(Socket_t s, void *p, size_t len)
{
    for (size_t got = 0; got < len;) {
        int32_t n = SOCKETS_Recv(s, (uint8_t *)p + got, len - got, 0);
        if (n <= 0) {
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

int mqtt_wire_read(Socket_t s, uint8_t *body, size_t cap, size_t *len)
{
    uint8_t b, first;
    size_t n = 0, mult = 1;
    if (mqtt_wire_recv_exact(s, &first, 1) != 0) {
        return -1;
    }
    do {
        if (mqtt_wire_recv_exact(s, &b, 1) != 0 || mult > 128 * 128 * 128) {
            return -1;
        }
        n += (size_t)(b & 0x7f) * mult;
        mult *= 128;
    } while (b & 0x80);
    if (n > cap || (n > 0 && mqtt_wire_recv_exact(s, body, n) != 0)) {
        return -1;
    }
    *len = n;
    return first >> 4;
}

size_t mqtt_wire_put_str(uint8_t *p, const char *str)
{
    size_t n = strlen(str);
    p[0] = (uint8_t)(n >> 8);
    p[1] = (uint8_t)n;
    memcpy(p + 2, str, n);
    return 2 + n;
}
