/* Coalescing of consecutive lwIP TCP segments into one TAP GSO frame. */
#include "lwip_port/gso.h"
#include "lwip_port/csum.h"

#include <string.h>

#define ETH_LEN 14u
#define IP_LEN 20u /* only option-less IPv4 headers are merged */
#define TCP_FLAG_PSH 0x08u
#define TCP_FLAG_ACK 0x10u

/* Where the parts of a frame that lwss_gso_add() accepts are. */
typedef struct seg_view {
    size_t tcp_len;     /* TCP header with options */
    size_t payload;     /* TCP payload bytes */
    uint32_t seq;
    uint8_t flags;
} seg_view;

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* An unfragmented, option-less IPv4 TCP segment carrying data with ACK and
 * at most PSH besides (no SYN, FIN, RST, URG, ECN bits). */
static int parse(const uint8_t *f, size_t len, seg_view *v)
{
    if (len < ETH_LEN + IP_LEN + 20u || get16(f + 12) != 0x0800) {
        return 0;
    }
    const uint8_t *ip = f + ETH_LEN;
    size_t ip_total = get16(ip + 2);
    if (ip[0] != 0x45 || ip[9] != 6 || (get16(ip + 6) & 0x3fffu) != 0 ||
        ip_total < IP_LEN + 20u || ETH_LEN + ip_total > len) {
        return 0;
    }
    const uint8_t *tcp = ip + IP_LEN;
    v->tcp_len = (size_t)(tcp[12] >> 4) * 4u;
    v->flags = tcp[13];
    if (v->tcp_len < 20u || IP_LEN + v->tcp_len >= ip_total ||
        (v->flags & (uint8_t)~(TCP_FLAG_ACK | TCP_FLAG_PSH)) != 0 ||
        (v->flags & TCP_FLAG_ACK) == 0) {
        return 0;
    }
    v->payload = ip_total - IP_LEN - v->tcp_len;
    v->seq = get32(tcp + 4);
    return 1;
}

/* Same Ethernet header, same IPv4 header apart from length, ID and
 * checksum, same TCP header apart from sequence number, flags and checksum. */
static int same_flow(const uint8_t *a, const uint8_t *b, size_t tcp_len)
{
    const uint8_t *ia = a + ETH_LEN, *ib = b + ETH_LEN;
    const uint8_t *ta = ia + IP_LEN, *tb = ib + IP_LEN;
    return memcmp(a, b, ETH_LEN) == 0 && ia[1] == ib[1] && ia[6] == ib[6] && ia[8] == ib[8] &&
           memcmp(ia + 12, ib + 12, 8) == 0 && memcmp(ta, tb, 4) == 0 &&
           memcmp(ta + 8, tb + 8, 5) == 0 && memcmp(ta + 14, tb + 14, 2) == 0 &&
           memcmp(ta + 18, tb + 18, tcp_len - 18) == 0;
}

static int start(lwss_gso *g, const uint8_t *f, const seg_view *v)
{
    if ((v->flags & TCP_FLAG_PSH) != 0) {
        return LWSS_GSO_REFUSED;
    }
    size_t used = ETH_LEN + IP_LEN + v->tcp_len + v->payload;
    memcpy(g->frame, f, used);
    g->len = used;
    g->segs = 1;
    g->mss = (uint16_t)v->payload;
    g->next_seq = v->seq + (uint32_t)v->payload;
    g->complete = 0;
    return LWSS_GSO_HELD;
}

int lwss_gso_add(lwss_gso *g, const uint8_t *frame, size_t len)
{
    seg_view v;
    if (!parse(frame, len, &v)) {
        return LWSS_GSO_REFUSED;
    }
    if (g->len == 0) {
        return start(g, frame, &v);
    }
    size_t held_tcp = (size_t)(g->frame[ETH_LEN + IP_LEN + 12] >> 4) * 4u;
    if (g->complete || v.tcp_len != held_tcp || v.seq != g->next_seq || v.payload > g->mss ||
        g->len + v.payload > LWSS_GSO_FRAME_MAX || !same_flow(g->frame, frame, held_tcp)) {
        return LWSS_GSO_REFUSED;
    }
    memcpy(g->frame + g->len, frame + ETH_LEN + IP_LEN + v.tcp_len, v.payload);
    g->len += v.payload;
    g->segs++;
    g->next_seq += (uint32_t)v.payload;
    if ((v.flags & TCP_FLAG_PSH) != 0) {
        g->frame[ETH_LEN + IP_LEN + 13] |= TCP_FLAG_PSH;
    }
    g->complete = (v.flags & TCP_FLAG_PSH) != 0 || v.payload < g->mss ||
                  g->len + g->mss > LWSS_GSO_FRAME_MAX;
    return g->complete ? LWSS_GSO_DONE : LWSS_GSO_HELD;
}

unsigned lwss_gso_finish(lwss_gso *g)
{
    memset(&g->vh, 0, sizeof(g->vh));
    if (g->segs < 2) {
        return g->segs; /* one segment: lwIP's frame as it was */
    }
    uint8_t *ip = g->frame + ETH_LEN;
    uint8_t *tcp = ip + IP_LEN;
    size_t ip_total = g->len - ETH_LEN;
    size_t tcp_hdr = (size_t)(tcp[12] >> 4) * 4u;
    put16(ip + 2, (uint16_t)ip_total);
    put16(ip + 10, 0);
    put16(ip + 10, (uint16_t)~lwss_inet_sum(ip, IP_LEN, 0));
    /* CHECKSUM_PARTIAL convention: the field holds the folded pseudo-header
     * sum; the kernel adds the segment and complements (per segment when it
     * has to split the frame). */
    put16(tcp + 16, lwss_inet_sum(ip + 12, 8, (uint16_t)(6u + (ip_total - IP_LEN))));
    g->vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    g->vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    g->vh.hdr_len = (uint16_t)(ETH_LEN + IP_LEN + tcp_hdr);
    g->vh.gso_size = g->mss;
    g->vh.csum_start = (uint16_t)(ETH_LEN + IP_LEN);
    g->vh.csum_offset = 16;
    return g->segs;
}

void lwss_gso_reset(lwss_gso *g)
{
    g->len = 0;
    g->segs = 0;
    g->complete = 0;
}
