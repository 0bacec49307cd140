/* MQTT 3.1.1 packet framing over a Secure Sockets connection, for the
 * tools (lwss-demo --mqtt, lwss-fleet-device --mqtt): no MQTT library,
 * just the fixed header (section 2.2) and UTF-8 strings (1.5.3). */
#ifndef LWSS_TOOLS_MQTT_WIRE_H
#define LWSS_TOOLS_MQTT_WIRE_H

#include "iot_secure_sockets.h"

#include <stddef.h>
#include <stdint.h>

/** Largest packet body mqtt_wire_send() takes. */
#define MQTT_WIRE_MAX_BODY 1024

/** Send one packet: @p first (type and flags), Remaining Length, @p body.
 *  @return 0, or -1 (body too large, or the send failed). */
int mqtt_wire_send(Socket_t s, uint8_t first, const uint8_t *body, size_t len);

/** Read exactly @p len bytes (within the socket's receive timeout).
 *  @return 0, or -1 on an error, a timeout or the peer's close. */
int mqtt_wire_recv_exact(Socket_t s, void *p, size_t len);

/** Read one packet, its body into @p body (at most @p cap bytes).
 *  @return the packet type (high nibble of the first byte), or -1. */
int mqtt_wire_read(Socket_t s, uint8_t *body, size_t cap, size_t *len);

/** Write @p str as a length-prefixed string at @p p; @return bytes written. */
size_t mqtt_wire_put_str(uint8_t *p, const char *str);

#endif
