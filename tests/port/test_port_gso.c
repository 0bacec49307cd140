/* Unit tests of the GSO coalescing of outgoing TCP segments (lwip_port/gso.c):
 * segments built here with correct checksums are merged, and the super-frame
 * is checked against what the kernel does with it: accept it as one segment
 * (checksum completed over it) or cut it back into gso_size pieces, which
 * must be the original segments byte for byte. */
#include "tests/support/lwss_test.h"
#include "lwip_port/csum.h"
#include "lwip_port/gso.h"

#include <stdlib.h>
#include <string.h>

#define MSS 1460u
#define HDRS 54u /* Ethernet + IPv4 + TCP without options */

typedef struct {
    uint32_t seq, ack;
    uint16_t ip_id, window;
    uint8_t flags;
    size_t payload;
} seg_spec;

static void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffffu);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Complete checksums the way lwIP leaves them on every frame it sends. */
static void set_checksums(uint8_t *f, size_t len)
{
    uint8_t *ip = f + 14, *tcp = f + 34;
    put16(ip + 10, 0);
    put16(ip + 10, (uint16_t)~lwss_inet_sum(ip, 20, 0));
    size_t tcp_len = len - 34;
    put16(tcp + 16, 0);
    uint16_t pseudo = lwss_inet_sum(ip + 12, 8, (uint16_t)(6u + tcp_len));
    put16(tcp + 16, (uint16_t)~lwss_inet_sum(tcp, tcp_len, pseudo));
}

/* One frame from 192.0.2.2:49152 to 192.0.2.1:7; payload byte i of the
 * stream is (seq + i) * 13. */
static size_t make_seg(uint8_t *f, const seg_spec *s)
{
    static const uint8_t eth[14] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00};
    memcpy(f, eth, 14);
    uint8_t *ip = f + 14, *tcp = f + 34;
    memset(ip, 0, 40);
    ip[0] = 0x45;
    put16(ip + 2, 40u + (uint32_t)s->payload);
    put16(ip + 4, s->ip_id);
    ip[6] = 0x40; /* DF */
    ip[8] = 255;
    ip[9] = 6;
    put32(ip + 12, 0xc0000202u);
    put32(ip + 16, 0xc0000201u);
    put16(tcp, 49152);
    put16(tcp + 2, 7);
    put32(tcp + 4, s->seq);
    put32(tcp + 8, s->ack);
    tcp[12] = 5 << 4;
    tcp[13] = s->flags;
    put16(tcp + 14, s->window);
    for (size_t i = 0; i < s->payload; i++) {
        f[HDRS + i] = (uint8_t)((s->seq + i) * 13u);
    }
    set_checksums(f, HDRS + s->payload);
    return HDRS + s->payload;
}

static seg_spec spec(uint32_t seq, size_t payload, uint8_t flags)
{
    seg_spec s = {.seq = seq, .ack = 777, .ip_id = (uint16_t)(seq / MSS), .window = 8192,
                  .flags = flags, .payload = payload};
    return s;
}

/* Offer segments of @p sizes (last one with @p last_flags), starting at seq 1000. */
static int offer(lwss_gso *g, const size_t *sizes, unsigned n, uint8_t last_flags, uint8_t *orig,
                 size_t *orig_len)
{
    uint32_t seq = 1000;
    int r = -1;
    for (unsigned i = 0; i < n; i++) {
        seg_spec s = spec(seq, sizes[i], i + 1 == n ? last_flags : 0x10);
        orig_len[i] = make_seg(orig + (size_t)i * 1600u, &s);
        r = lwss_gso_add(g, orig + (size_t)i * 1600u, orig_len[i]);
        seq += (uint32_t)sizes[i];
    }
    return r;
}

/* Cut the super-frame into gso_size pieces like the kernel's TCPv4 GSO:
 * headers copied, sequence numbers, IP lengths/IDs and checksums per piece,
 * PSH only on the last. */
static void kernel_segment_and_compare(const lwss_gso *g, const uint8_t *orig,
                                       const size_t *orig_len, unsigned n)
{
    size_t hdr = g->vh.hdr_len, at = hdr, total = g->len - hdr;
    uint8_t piece[1600];
    for (unsigned i = 0; i < n; i++) {
        size_t pl = total - (at - hdr) < g->vh.gso_size ? total - (at - hdr) : g->vh.gso_size;
        memcpy(piece, g->frame, hdr);
        memcpy(piece + hdr, g->frame + at, pl);
        uint8_t *ip = piece + 14, *tcp = piece + 34;
        put16(ip + 2, 40u + (uint32_t)pl);
        put16(ip + 4, (uint32_t)((ip[4] << 8 | ip[5]) + i) & 0xffffu);
        put32(tcp + 4, get32(g->frame + 38) + (uint32_t)(at - hdr));
        if (i + 1 < n) {
            tcp[13] &= (uint8_t)~0x08u;
        }
        set_checksums(piece, hdr + pl);
        ck_assert_uint_eq(hdr + pl, orig_len[i]);
        ck_assert_msg(memcmp(piece, orig + (size_t)i * 1600u, orig_len[i]) == 0,
                      "piece %u differs from the segment lwIP sent", i);
        at += pl;
    }
    ck_assert_uint_eq(at, g->len);
}

START_TEST(burst_becomes_one_frame_that_splits_back)
{
    lwss_gso *g = calloc(1, sizeof(*g));
    uint8_t *orig = malloc(11u * 1600u);
    size_t lens[11], sizes[11];
    for (int i = 0; i < 11; i++) {
        sizes[i] = MSS;
    }
    sizes[10] = 333; /* the tail of a TLS record, with PSH */
    ck_assert_int_eq(offer(g, sizes, 11, 0x18, orig, lens), LWSS_GSO_DONE);
    ck_assert_uint_eq(lwss_gso_finish(g), 11);
    ck_assert_uint_eq(g->len, HDRS + 10u * MSS + 333u);
    ck_assert_uint_eq(g->vh.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    ck_assert_uint_eq(g->vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    ck_assert_uint_eq(g->vh.gso_size, MSS);
    ck_assert_uint_eq(g->vh.hdr_len, HDRS);
    ck_assert_uint_eq(g->vh.csum_start, 34);
    ck_assert_uint_eq(g->vh.csum_offset, 16);
    ck_assert_uint_eq(g->frame[47] & 0x08u, 0x08u); /* PSH carried */
    ck_assert_uint_eq(lwss_inet_sum(g->frame + 14, 20, 0), 0xffff); /* IP header ok */
    /* Accepted whole (local delivery), the checksum the kernel completes
     * over the field and the segment verifies against the pseudo-header. */
    uint8_t *whole = malloc(g->len);
    memcpy(whole, g->frame, g->len);
    size_t tl = g->len - 34;
    uint16_t done = (uint16_t)~lwss_inet_sum(whole + 34, tl, 0);
    put16(whole + 50, done);
    uint16_t pseudo = lwss_inet_sum(whole + 26, 8, (uint16_t)(6u + tl));
    ck_assert_uint_eq(lwss_inet_sum(whole + 34, tl, pseudo), 0xffff);
    free(whole);
    kernel_segment_and_compare(g, orig, lens, 11);
    free(orig);
    free(g);
}
END_TEST

START_TEST(full_frame_stops_at_64k)
{
    lwss_gso *g = calloc(1, sizeof(*g));
    uint8_t *orig = malloc(44u * 1600u);
    size_t lens[44], sizes[44];
    for (int i = 0; i < 44; i++) {
        sizes[i] = MSS;
    }
    /* 44 segments of 1460 fill a 64 KiB IPv4 datagram as far as whole
     * segments go: the 44th closes the frame, a 45th is refused. */
    ck_assert_int_eq(offer(g, sizes, 43, 0x10, orig, lens), LWSS_GSO_HELD);
    lwss_gso_reset(g);
    ck_assert_int_eq(offer(g, sizes, 44, 0x10, orig, lens), LWSS_GSO_DONE);
    ck_assert_uint_le(g->len - 14u, 65535u);
    seg_spec s = spec(1000u + 44u * MSS, MSS, 0x10);
    uint8_t next[1600];
    size_t nl = make_seg(next, &s);
    ck_assert_int_eq(lwss_gso_add(g, next, nl), LWSS_GSO_REFUSED);
    ck_assert_uint_eq(lwss_gso_finish(g), 44);
    kernel_segment_and_compare(g, orig, lens, 44);
    free(orig);
    free(g);
}
END_TEST

/* Ways a second segment can fail to continue the first: some change the
 * segment's description (before it is built), some the built frame. */
enum { GAP, OTHER_ACK, OTHER_WINDOW, LONGER, FIN, OTHER_PORT, OTHER_DEST, IPV6, TRUNCATED, N_ALTER };

static void alter_spec(int how, seg_spec *s)
{
    switch (how) {
    case GAP: s->seq += 1; break;
    case OTHER_ACK: s->ack += MSS; break;
    case OTHER_WINDOW: s->window = 4096; break;
    case LONGER: s->payload = MSS + 1; break;
    case FIN: s->flags = 0x11; break;
    default: break;
    }
}

static void alter_frame(int how, uint8_t *f, size_t len)
{
    switch (how) {
    case OTHER_PORT: f[36] ^= 1; set_checksums(f, len); break;
    case OTHER_DEST: f[33] = 9; set_checksums(f, len); break;
    case IPV6: f[12] = 0x86; f[13] = 0xdd; break;
    case TRUNCATED: put16(f + 16, 40u + MSS + 100u); break; /* IP claims more than there is */
    default: break;
    }
}

START_TEST(non_continuation_is_refused)
{
    lwss_gso *g = calloc(1, sizeof(*g));
    uint8_t a[1600], b[1600];
    seg_spec sa = spec(1000, MSS, 0x10), sb = spec(1000 + MSS, MSS, 0x10);
    size_t la = make_seg(a, &sa);
    ck_assert_int_eq(lwss_gso_add(g, a, la), LWSS_GSO_HELD);
    alter_spec(_i, &sb);
    size_t lb = make_seg(b, &sb);
    alter_frame(_i, b, lb);
    ck_assert_int_eq(lwss_gso_add(g, b, lb), LWSS_GSO_REFUSED);
    /* what was pending is untouched: one segment, written as lwIP made it */
    ck_assert_uint_eq(lwss_gso_finish(g), 1);
    ck_assert_uint_eq(g->len, la);
    ck_assert_int_eq(memcmp(g->frame, a, la), 0);
    static const struct virtio_net_hdr zero;
    ck_assert_int_eq(memcmp(&g->vh, &zero, sizeof(zero)), 0);
    free(g);
}
END_TEST

START_TEST(only_plain_data_segments_start_a_frame)
{
    lwss_gso *g = calloc(1, sizeof(*g));
    uint8_t f[1600];
    static const uint8_t flags[] = {0x18 /* PSH */, 0x12 /* SYN */, 0x11 /* FIN */,
                                    0x14 /* RST */, 0x30 /* URG */, 0x00 /* no ACK */};
    for (size_t i = 0; i < sizeof(flags); i++) {
        seg_spec s = spec(1000, MSS, flags[i]);
        size_t l = make_seg(f, &s);
        ck_assert_int_eq(lwss_gso_add(g, f, l), LWSS_GSO_REFUSED);
        ck_assert_uint_eq(g->len, 0);
    }
    seg_spec ack = spec(1000, 0, 0x10); /* a pure ACK */
    size_t l = make_seg(f, &ack);
    ck_assert_int_eq(lwss_gso_add(g, f, l), LWSS_GSO_REFUSED);
    ck_assert_int_eq(lwss_gso_add(g, f, 10), LWSS_GSO_REFUSED); /* runt */
    ck_assert_uint_eq(lwss_gso_finish(g), 0);
    free(g);
}
END_TEST

START_TEST(short_segment_completes_the_frame)
{
    lwss_gso *g = calloc(1, sizeof(*g));
    uint8_t *orig = malloc(3u * 1600u);
    size_t lens[3], sizes[3] = {MSS, MSS, 700};
    ck_assert_int_eq(offer(g, sizes, 3, 0x10, orig, lens), LWSS_GSO_DONE);
    ck_assert_uint_eq(lwss_gso_finish(g), 3);
    kernel_segment_and_compare(g, orig, lens, 3);
    lwss_gso_reset(g);
    ck_assert_uint_eq(g->len, 0);
    ck_assert_uint_eq(lwss_gso_finish(g), 0);
    free(orig);
    free(g);
}
END_TEST

/* RFC 1071 section 3's worked example, a real IPv4 header whose checksum
 * field (0xb861) was computed by a host stack, and odd lengths (RFC 1071
 * 4.1: an odd last byte is padded with zero on the right). */
START_TEST(inet_sum_matches_known_values)
{
    static const uint8_t rfc1071[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    ck_assert_uint_eq(lwss_inet_sum(rfc1071, 8, 0), 0xddf2);
    static const uint8_t iphdr[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                      0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    ck_assert_uint_eq(lwss_inet_sum(iphdr, 20, 0), 0xffff);
    uint8_t zeroed[20];
    memcpy(zeroed, iphdr, 20);
    zeroed[10] = zeroed[11] = 0;
    ck_assert_uint_eq((uint16_t)~lwss_inet_sum(zeroed, 20, 0), 0xb861);
    static const uint8_t odd[3] = {0x12, 0x34, 0x56};
    ck_assert_uint_eq(lwss_inet_sum(odd, 3, 0), 0x1234 + 0x5600);
    ck_assert_uint_eq(lwss_inet_sum(odd, 1, 0x0001), 0x1201);
    ck_assert_uint_eq(lwss_inet_sum(odd, 0, 0xfffe), 0xfffe);
    static const uint8_t carry[4] = {0xff, 0xff, 0x00, 0x02};
    ck_assert_uint_eq(lwss_inet_sum(carry, 4, 0), 0x0002); /* end-around carry */
}
END_TEST

/* Any split at an even offset sums the same as the whole, at every
 * alignment of the buffer: the word-at-a-time loop and its tail agree. */
START_TEST(inet_sum_is_split_and_alignment_independent)
{
    uint8_t buf[3 + 97];
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = (uint8_t)(i * 37u + 11u);
    }
    for (size_t off = 0; off < 4; off++) {
        for (size_t n = 0; n <= 97; n++) {
            uint16_t whole = lwss_inet_sum(buf + off, n, 0);
            for (size_t cut = 0; cut <= n; cut += 2) {
                uint16_t head = lwss_inet_sum(buf + off, cut, 0);
                ck_assert_uint_eq(lwss_inet_sum(buf + off + cut, n - cut, head), whole);
            }
        }
    }
}
END_TEST

/* RFC 1071 section 4.1, as written: big-endian 16-bit words, an odd last
 * byte padded with zero, end-around carry. */
static uint16_t rfc1071_sum(const uint8_t *b, size_t n, uint16_t initial)
{
    uint32_t sum = initial;
    for (size_t i = 0; i < n; i += 2) {
        sum += (uint32_t)(b[i] << 8) | (i + 1 < n ? b[i + 1] : 0u);
        sum = (sum & 0xffffu) + (sum >> 16);
    }
    return (uint16_t)sum;
}

/* The unrolled sum equals RFC 1071's word-by-word sum for every length
 * around its 16-byte steps, every alignment, and data that carries a lot
 * (all 0xff) as well as mixed data. */
START_TEST(inet_sum_matches_rfc1071_reference)
{
    uint8_t buf[16 + 300];
    for (int pattern = 0; pattern < 2; pattern++) {
        for (size_t i = 0; i < sizeof(buf); i++) {
            buf[i] = pattern == 0 ? 0xff : (uint8_t)(i * 131u + 7u);
        }
        for (size_t off = 0; off < 16; off++) {
            for (size_t n = 0; n <= 300; n++) {
                uint16_t initial = (uint16_t)(n * 977u);
                ck_assert_uint_eq(lwss_inet_sum(buf + off, n, initial),
                                  rfc1071_sum(buf + off, n, initial));
            }
        }
    }
}
END_TEST

Suite *port_gso_suite(void);
Suite *port_gso_suite(void)
{
    Suite *s = suite_create("port_gso");
    TCase *tc = tcase_create("gso");
    tcase_add_checked_fixture(tc, lwss_leak_setup, lwss_leak_teardown);
    tcase_add_test(tc, burst_becomes_one_frame_that_splits_back);
    tcase_add_test(tc, full_frame_stops_at_64k);
    tcase_add_loop_test(tc, non_continuation_is_refused, 0, N_ALTER);
    tcase_add_test(tc, only_plain_data_segments_start_a_frame);
    tcase_add_test(tc, short_segment_completes_the_frame);
    tcase_add_test(tc, inet_sum_matches_known_values);
    tcase_add_test(tc, inet_sum_is_split_and_alignment_independent);
    tcase_add_test(tc, inet_sum_matches_rfc1071_reference);
    suite_add_tcase(s, tc);
    return s;
}
