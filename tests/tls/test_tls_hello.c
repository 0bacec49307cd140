/*
 * Unit suite "tls_hello": what the ClientHello offers, read from the bytes
 * the TLS layer writes to its descriptor (a kernel socketpair; the test
 * plays a server that reads the hello and hangs up).
 *
 * RFC 8422 5.1.1 / RFC 7919: supported_groups (extension 10) lists the
 * groups in preference order; RFC 5246 7.4.1.4.1: signature_algorithms
 * (extension 13) lists (hash, signature) pairs, hash 2 = SHA-1, 1 = MD5.
 */
#include "tests/support/lwss_test.h"
#include "tests/support/tls_test_util.h"
#include "src/tls/tls_internal.h"
#include "lwss/tls.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { GROUP_X25519 = 0x001d, GROUP_SECP256R1 = 0x0017, GROUP_SECP384R1 = 0x0018 };

typedef struct {
    int fd;
    int32_t result;
} client_run;

static void *client_main(void *arg)
{
    client_run *r = arg;
    lwss_tls_options opts = {.sni = "echo.lwss.test"};
    lwss_tls_conn *c = NULL;
    struct in_addr peer;
    inet_pton(AF_INET, "192.0.2.1", &peer);
    r->result = lwss_tls_connect(&c, r->fd, &lwss_tls_kernel_io, &opts, 5000, peer.s_addr,
                                    htons(8883));
    if (c != NULL) {
        lwss_tls_close(c);
    }
    return NULL;
}

static int read_full(int fd, uint8_t *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0) {
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

typedef struct {
    uint16_t groups[64];
    size_t ngroups;
    uint8_t sigalgs[128]; /* (hash, signature) pairs */
    size_t nsigalgs;
} hello_offer;

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Parse the extensions of a ClientHello body (after the 4-byte handshake header). */
static void parse_hello(const uint8_t *p, size_t len, hello_offer *out)
{
    size_t off = 2 + 32; /* client_version, random */
    ck_assert_uint_lt(off, len);
    off += 1 + p[off];              /* session_id */
    ck_assert_uint_lt(off + 2, len);
    off += 2 + be16(p + off);       /* cipher_suites */
    ck_assert_uint_lt(off, len);
    off += 1 + p[off];              /* compression_methods */
    ck_assert_uint_le(off + 2, len);
    size_t end = off + 2 + be16(p + off);
    ck_assert_uint_le(end, len);
    for (off += 2; off + 4 <= end;) {
        uint16_t type = be16(p + off), elen = be16(p + off + 2);
        const uint8_t *e = p + off + 4;
        ck_assert_uint_le(off + 4 + elen, end);
        if (type == 10) {
            size_t n = be16(e) / 2;
            ck_assert_uint_le(n, 64);
            for (size_t i = 0; i < n; i++) {
                out->groups[i] = be16(e + 2 + 2 * i);
            }
            out->ngroups = n;
        } else if (type == 13) {
            size_t n = be16(e);
            ck_assert_uint_le(n, sizeof(out->sigalgs));
            memcpy(out->sigalgs, e + 2, n);
            out->nsigalgs = n;
        }
        off += 4 + (size_t)elen;
    }
}

/* Run a handshake up to the ClientHello and return what it offered. */
static void capture_hello(hello_offer *out)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    client_run run = {.fd = sv[0], .result = 1};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, client_main, &run), 0);
    uint8_t hdr[5];
    static uint8_t body[16384];
    int ok = read_full(sv[1], hdr, sizeof(hdr)) == 0 && hdr[0] == 22 &&
             be16(hdr + 3) <= sizeof(body) && read_full(sv[1], body, be16(hdr + 3)) == 0;
    close(sv[1]); /* the client's handshake fails: the peer hung up */
    pthread_join(t, NULL);
    close(sv[0]);
    ck_assert_msg(ok, "no ClientHello record");
    ck_assert_int_ne(run.result, 0);
    ck_assert_int_eq(body[0], 1); /* handshake type client_hello */
    size_t hlen = (size_t)body[1] << 16 | (size_t)body[2] << 8 | body[3];
    ck_assert_uint_le(hlen + 4, be16(hdr + 3));
    memset(out, 0, sizeof(*out));
    parse_hello(body + 4, hlen, out);
}

static int offers_hash(const hello_offer *o, uint8_t hash)
{
    for (size_t i = 0; i + 1 < o->nsigalgs; i += 2) {
        if (o->sigalgs[i] == hash) {
            return 1;
        }
    }
    return 0;
}

/* x25519, secp256r1, secp384r1, in that order, first in the list. */
static void assert_strong_groups_first(const hello_offer *o)
{
    ck_assert_uint_ge(o->ngroups, 3);
    ck_assert_uint_eq(o->groups[0], GROUP_X25519);
    ck_assert_uint_eq(o->groups[1], GROUP_SECP256R1);
    ck_assert_uint_eq(o->groups[2], GROUP_SECP384R1);
}

static void setup(void)
{
    lwss_leak_setup_fds();
    lwss_tls_session_cache_clear();
    lwss_tt_token_spec spec = {"ca.crt", "client-ec.crt", "client-ec.key"};
    lwss_tls_set_token(lwss_tt_token(&spec));
}

static void teardown(void)
{
    lwss_tls_allow_legacy_suites(0);
    lwss_tls_set_token(NULL);
    lwss_tt_token_free();
    lwss_leak_teardown_fds();
}

/* Issue: "Offer x25519, secp256r1, secp384r1 (in that order)" and no SHA-1
 * (or MD5) signature hashes unless legacy is enabled. */
START_TEST(hello_offers_only_strong_groups_and_no_sha1)
{
    hello_offer o;
    capture_hello(&o);
    assert_strong_groups_first(&o);
    ck_assert_uint_eq(o.ngroups, 3);
    ck_assert_uint_gt(o.nsigalgs, 0);
    ck_assert_msg(!offers_hash(&o, 2), "SHA-1 signatures offered");
    ck_assert_msg(!offers_hash(&o, 1), "MD5 signatures offered");
    ck_assert(offers_hash(&o, 4)); /* SHA-256 */
}
END_TEST

START_TEST(legacy_switch_adds_groups_and_sha1)
{
    lwss_tls_allow_legacy_suites(1);
    hello_offer o;
    capture_hello(&o);
    assert_strong_groups_first(&o);
    ck_assert_uint_gt(o.ngroups, 3);
    ck_assert(offers_hash(&o, 2));
}
END_TEST

Suite *tls_hello_suite(void);
Suite *tls_hello_suite(void)
{
    Suite *s = suite_create("tls_hello");
    TCase *tc = tcase_create("client_hello");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, hello_offers_only_strong_groups_and_no_sha1);
    tcase_add_test(tc, legacy_switch_adds_groups_and_sha1);
    suite_add_tcase(s, tc);
    return s;
}
