/* A small MQTT 3.1.1 test client for the rig suite "mqtt_rig": a few packet
 * encoders and decoders over any transport (two callbacks), not a library,
 * plus a mosquitto_sub watcher that confirms what the broker delivered. */
#ifndef LWSS_MQTT_TEST_CLIENT_H
#define LWSS_MQTT_TEST_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** Transport under the client: > 0 bytes, 0 timeout with nothing moved, < 0 error. */
typedef struct mqtt_tc_io {
    int32_t (*send)(void *ctx, const void *buf, size_t len);
    int32_t (*recv)(void *ctx, void *buf, size_t len);
    void *ctx;
} mqtt_tc_io;

/* MQTT 3.1.1 control packet types (section 2.2.1). */
#define MQTT_CONNACK 2
#define MQTT_PUBLISH 3
#define MQTT_PUBACK 4
#define MQTT_SUBACK 9
#define MQTT_PINGRESP 13

/** One received packet. */
typedef struct mqtt_tc_packet {
    uint8_t type;             /**< high nibble of the first byte */
    uint8_t flags;            /**< low nibble */
    uint8_t body[1024];       /**< variable header + payload */
    size_t len;               /**< remaining length */
} mqtt_tc_packet;

/**
 * The whole exchange of issue 17 with the broker, as client @p client_id on
 * topic @p topic, asserting each step (Check): CONNECT/CONNACK(0),
 * SUBSCRIBE QoS 1/SUBACK(1), PUBLISH QoS 0 and received back, PUBLISH QoS 1
 * with PUBACK and received back (acknowledged), PINGREQ/PINGRESP, DISCONNECT.
 * The two payloads are "<tag> qos0" and "<tag> qos1".
 */
void mqtt_tc_exchange(const mqtt_tc_io *io, const char *client_id, const char *topic,
                      const char *tag);

/** After DISCONNECT the broker closes: the transport's recv must then say so
 *  with a negative code (never bytes), within a bounded number of timeouts. */
void mqtt_tc_expect_close(const mqtt_tc_io *io);

/** mosquitto_sub in the namespace, subscribed to a topic. */
typedef struct mqtt_tc_watch {
    pid_t pid;
    int out_fd;
    char out[4096];
    size_t out_len;
} mqtt_tc_watch;

/** Start `mosquitto_sub -t @p topic -C @p count` on the plain port and wait
 *  (bounded) until the broker acknowledged its subscription. */
void mqtt_tc_watch_start(mqtt_tc_watch *w, const char *topic, int count);
/** Wait (bounded) for it to exit after @p count messages; its output in w->out. */
void mqtt_tc_watch_finish(mqtt_tc_watch *w);

/** Broker address and ports from the rig (LWSS_MQTT_*). */
const char *mqtt_tc_host(void);
uint16_t mqtt_tc_port(void);
uint16_t mqtt_tc_tls_port(void);

#endif
