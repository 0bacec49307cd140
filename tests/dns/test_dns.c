/* DNS message building and validation over crafted packets, the hosts
 * table, and the resolver's argument checks (no network). */
#include "tests/support/lwss_test.h"
#include "tests/support/sockets_rig_util.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lwss/dns.h"
#include "lwss/port.h"
#include "src/dns/dns_msg.h"

#define QID 0xbeef
#define NAME "echo.lwss.test"

typedef struct {
    uint8_t b[1024];
    size_t n;
} pkt;

static void put8(pkt *p, uint8_t v) { p->b[p->n++] = v; }
static void put16(pkt *p, uint16_t v) { put8(p, (uint8_t)(v >> 8)); put8(p, (uint8_t)v); }
static void put32(pkt *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p, (uint16_t)v); }

static void put_name(pkt *p, const char *dotted)
{
    const char *s = dotted;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        put8(p, (uint8_t)l);
        memcpy(p->b + p->n, s, l);
        p->n += l;
        s += l + (dot ? 1 : 0);
    }
    put8(p, 0);
}

/* Header + the question for NAME / A / IN. */
static void response_head(pkt *p, uint16_t id, uint16_t flags, uint16_t an)
{
    p->n = 0;
    put16(p, id);
    put16(p, flags);
    put16(p, 1);
    put16(p, an);
    put16(p, 0);
    put16(p, 0);
    put_name(p, NAME);
    put16(p, 1);
    put16(p, 1);
}

static void rr_a(pkt *p, uint16_t name_ptr, const char *addr)
{
    put16(p, (uint16_t)(0xc000 | name_ptr));
    put16(p, 1);
    put16(p, 1);
    put32(p, 60);
    put16(p, 4);
    struct in_addr a;
    inet_pton(AF_INET, addr, &a);
    memcpy(p->b + p->n, &a, 4);
    p->n += 4;
}

static int parse(const pkt *p, uint32_t *addr)
{
    return lwss_dns_parse_response(p->b, p->n, QID, NAME, addr);
}

START_TEST(query_is_well_formed)
{
    uint8_t q[LWSS_DNS_QUERY_MAX];
    size_t n = lwss_dns_build_query(q, sizeof(q), 0x1234, "Echo.LWSS.test.");
    static const uint8_t want[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                   4, 'e', 'c', 'h', 'o', 4, 'l', 'w', 's', 's',
                                   4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
    ck_assert_uint_eq(n, sizeof(want));
    ck_assert_mem_eq(q, want, sizeof(want));
    ck_assert_uint_eq(lwss_dns_build_query(q, 20, 1, NAME), 0); /* too small */
    ck_assert_uint_eq(lwss_dns_build_query(q, sizeof(q), 1, "bad..name"), 0);
}
END_TEST

START_TEST(name_validation)
{
    char name[300];
    /* 253 characters: labels of 63 + dots. */
    memset(name, 'a', 253);
    name[63] = name[127] = name[191] = '.';
    name[253] = '\0';
    ck_assert_int_eq(lwss_dns_name_valid(name), 0);
    name[253] = '.';
    name[254] = '\0';
    ck_assert_int_eq(lwss_dns_name_valid(name), 0); /* final dot allowed */
    name[253] = 'a';
    ck_assert_int_ne(lwss_dns_name_valid(name), 0); /* 254 characters */
    memset(name, 'b', 64);
    name[64] = '\0';
    ck_assert_int_ne(lwss_dns_name_valid(name), 0); /* label of 64 */
    const char *bad[] = {"", ".", "a..b", ".a", "a b", "a/b", "a.b..", NULL};
    for (int i = 0; bad[i] != NULL; i++) {
        ck_assert_msg(lwss_dns_name_valid(bad[i]) != 0, "'%s' accepted", bad[i]);
    }
    ck_assert_int_ne(lwss_dns_name_valid(NULL), 0);
    ck_assert_int_eq(lwss_dns_name_valid("x-1_y.lwss.test"), 0);
}
END_TEST

START_TEST(dotted_quads)
{
    uint32_t a = 0;
    ck_assert_int_eq(lwss_dns_parse_dotted_quad("192.0.2.1", &a), 1);
    ck_assert_uint_eq(a, inet_addr("192.0.2.1"));
    ck_assert_int_eq(lwss_dns_parse_dotted_quad("0.0.0.0", &a), 1);
    const char *bad[] = {"256.0.0.1", "1.2.3", "1.2.3.4.5", "1.2.3.", "a.b.c.d", "1..2.3",
                         " 1.2.3.4", "1.2.3.4 ", "1234.1.1.1", "", NULL};
    for (int i = 0; bad[i] != NULL; i++) {
        ck_assert_msg(lwss_dns_parse_dotted_quad(bad[i], &a) == 0, "'%s' parsed", bad[i]);
    }
    ck_assert_int_eq(lwss_dns_parse_dotted_quad(NULL, &a), 0);
}
END_TEST

START_TEST(valid_answer_with_compression)
{
    pkt p;
    response_head(&p, QID, 0x8180, 1);
    rr_a(&p, 12, "192.0.2.1");
    uint32_t a = 0;
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_OK);
    ck_assert_uint_eq(a, inet_addr("192.0.2.1"));
}
END_TEST

START_TEST(not_our_answer_is_a_mismatch)
{
    pkt p;
    uint32_t a = 0;
    response_head(&p, QID + 1, 0x8180, 1);
    rr_a(&p, 12, "192.0.2.1");
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_MISMATCH); /* wrong ID */
    response_head(&p, QID, 0x0100, 1);
    rr_a(&p, 12, "192.0.2.1");
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_MISMATCH); /* a query, not a response */
    ck_assert_int_eq(lwss_dns_parse_response(p.b, p.n, QID, "other.lwss.test", &a),
                     LWSS_DNS_MISMATCH);               /* other question */
    response_head(&p, QID, 0x8180, 1);
    p.b[p.n - 3] = 28;                                  /* question type AAAA */
    rr_a(&p, 12, "192.0.2.1");
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_MISMATCH);
    response_head(&p, QID, 0x8180, 1);
    p.b[5] = 2;                                         /* two questions */
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_MISMATCH);
}
END_TEST

START_TEST(rcodes_and_truncation)
{
    pkt p;
    uint32_t a = 0;
    response_head(&p, QID, 0x8183, 0);
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_NXDOMAIN);
    response_head(&p, QID, 0x8182, 0);
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_SERVFAIL);
    response_head(&p, QID, 0x8380, 1); /* TC */
    rr_a(&p, 12, "192.0.2.1");
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_TRUNCATED);
    response_head(&p, QID, 0x8180, 0);
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_NODATA);
}
END_TEST

START_TEST(compression_loops_and_bad_pointers)
{
    pkt p;
    uint32_t a = 0;
    /* Answer name pointing at itself. */
    response_head(&p, QID, 0x8180, 1);
    size_t here = p.n;
    rr_a(&p, (uint16_t)here, "192.0.2.1");
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_MALFORMED);
    /* Forward pointer. */
    response_head(&p, QID, 0x8180, 1);
    rr_a(&p, 200, "192.0.2.1");
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_MALFORMED);
    /* Two names pointing at each other: label "x" then a pointer back at the label. */
    response_head(&p, QID, 0x8180, 1);
    size_t lbl = p.n;
    put8(&p, 1);
    put8(&p, 'x');
    put16(&p, (uint16_t)(0xc000 | lbl)); /* x -> x -> ... */
    put16(&p, 1);
    put16(&p, 1);
    put32(&p, 60);
    put16(&p, 4);
    put32(&p, 0xc0000201);
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_MALFORMED);
    /* Pointer in the question itself. */
    p.n = 0;
    put16(&p, QID); put16(&p, 0x8180); put16(&p, 1); put16(&p, 0); put16(&p, 0); put16(&p, 0);
    put16(&p, 0xc00c);
    put16(&p, 1);
    put16(&p, 1);
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_MALFORMED);
}
END_TEST

START_TEST(bad_lengths)
{
    pkt p;
    uint32_t a = 0;
    response_head(&p, QID, 0x8180, 1);
    rr_a(&p, 12, "192.0.2.1");
    p.b[p.n - 5] = 5; /* rdlength 5 for an A record, past the end */
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_MALFORMED);
    response_head(&p, QID, 0x8180, 1);
    rr_a(&p, 12, "192.0.2.1");
    p.b[p.n - 5] = 3; /* rdlength 3 */
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_MALFORMED);
    response_head(&p, QID, 0x8180, 2); /* says two answers, has one */
    rr_a(&p, 12, "192.0.2.1");
    a = 0;
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_OK); /* the first one is complete and ours */
    response_head(&p, QID, 0x8180, 2);
    put16(&p, 0xc00c); put16(&p, 16); put16(&p, 1); put32(&p, 1); put16(&p, 2); put16(&p, 0x0101);
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_MALFORMED); /* TXT, then nothing */
    ck_assert_int_eq(lwss_dns_parse_response(p.b, 11, QID, NAME, &a), LWSS_DNS_MALFORMED);
    ck_assert_int_eq(lwss_dns_parse_response(NULL, 0, QID, NAME, &a), LWSS_DNS_MALFORMED);
}
END_TEST

/* Every truncation of a valid answer is rejected or still exact; never a crash. */
START_TEST(every_truncation_is_safe)
{
    pkt p;
    response_head(&p, QID, 0x8180, 1);
    rr_a(&p, 12, "192.0.2.1");
    for (size_t n = 0; n < p.n; n++) {
        uint32_t a = 0;
        int rc = lwss_dns_parse_response(p.b, n, QID, NAME, &a);
        ck_assert_msg(rc != LWSS_DNS_OK, "truncated to %zu bytes accepted", n);
    }
}
END_TEST

START_TEST(cname_chain_in_any_order)
{
    pkt p;
    uint32_t a = 0;
    /* NAME CNAME real.lwss.test ; real.lwss.test A 192.0.2.9 */
    response_head(&p, QID, 0x8180, 2);
    put16(&p, 0xc00c); put16(&p, 5); put16(&p, 1); put32(&p, 60);
    size_t rdlen_at = p.n;
    put16(&p, 0);
    size_t cname_at = p.n;
    put8(&p, 4); memcpy(p.b + p.n, "real", 4); p.n += 4;
    put16(&p, 0xc000 | 17); /* ".lwss.test" inside the question */
    p.b[rdlen_at + 1] = (uint8_t)(p.n - cname_at);
    rr_a(&p, (uint16_t)cname_at, "192.0.2.9");
    ck_assert_int_eq(parse(&p, &a), LWSS_DNS_OK);
    ck_assert_uint_eq(a, inet_addr("192.0.2.9"));

    /* The A record first, then the CNAME that leads to it. */
    pkt q;
    response_head(&q, QID, 0x8180, 2);
    size_t name_at = q.n;
    put8(&q, 4); memcpy(q.b + q.n, "real", 4); q.n += 4;
    put16(&q, 0xc000 | 17);
    put16(&q, 1); put16(&q, 1); put32(&q, 60); put16(&q, 4); put32(&q, 0xc0000209);
    put16(&q, 0xc00c); put16(&q, 5); put16(&q, 1); put32(&q, 60); put16(&q, 2);
    put16(&q, (uint16_t)(0xc000 | name_at));
    a = 0;
    ck_assert_int_eq(parse(&q, &a), LWSS_DNS_OK);
    ck_assert_uint_eq(a, htonl(0xc0000209));

    /* An A record for some other name is not an answer. */
    response_head(&q, QID, 0x8180, 1);
    put8(&q, 5); memcpy(q.b + q.n, "other", 5); q.n += 5; put8(&q, 0);
    put16(&q, 1); put16(&q, 1); put32(&q, 60); put16(&q, 4); put32(&q, 0x01020304);
    ck_assert_int_eq(parse(&q, &a), LWSS_DNS_NODATA);
}
END_TEST

START_TEST(hosts_table)
{
    lwss_dns_hosts_clear();
    uint32_t a = 0;
    ck_assert_int_eq(lwss_dns_hosts_add("broker.example", inet_addr("10.0.0.1")), LWSS_OK);
    ck_assert_int_eq(lwss_dns_hosts_add("BROKER.example.", inet_addr("10.0.0.2")), LWSS_OK);
    ck_assert_int_eq(lwss_dns_resolve("broker.EXAMPLE", &a), LWSS_OK);
    ck_assert_uint_eq(a, inet_addr("10.0.0.2")); /* replaced, not added */
    ck_assert_int_eq(lwss_dns_hosts_add("bad..name", inet_addr("10.0.0.1")), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_dns_hosts_add("zero.example", 0), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_dns_hosts_add(NULL, 1), LWSS_ERR_INVAL);
    char name[32];
    for (int i = 1; i < LWSS_DNS_HOSTS_MAX; i++) {
        snprintf(name, sizeof(name), "h%d.example", i);
        ck_assert_int_eq(lwss_dns_hosts_add(name, htonl(0x0a000000u + (uint32_t)i)), LWSS_OK);
    }
    ck_assert_int_eq(lwss_dns_hosts_add("one-too-many.example", 1), LWSS_ERR_NOMEM);
    ck_assert_int_eq(lwss_dns_resolve("h7.example", &a), LWSS_OK);
    ck_assert_uint_eq(a, htonl(0x0a000007u));
    ck_assert_int_eq(lwss_dns_hosts_remove("h7.example"), LWSS_OK);
    ck_assert_int_eq(lwss_dns_hosts_remove("h7.example"), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_dns_resolve("h7.example", &a), LWSS_ERR_STATE); /* no stack */
    lwss_dns_hosts_clear();
    ck_assert_int_eq(lwss_dns_resolve("broker.example", &a), LWSS_ERR_STATE);
}
END_TEST

START_TEST(resolve_argument_checks)
{
    uint32_t a = 0;
    ck_assert_int_eq(lwss_dns_resolve(NULL, &a), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_dns_resolve("x.example", NULL), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_dns_resolve("has space", &a), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_dns_resolve("10.1.2.3", &a), LWSS_OK);
    ck_assert_uint_eq(a, inet_addr("10.1.2.3"));
    ck_assert_int_eq(lwss_dns_set_retry(5, 2), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_dns_set_retry(100, 0), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_dns_set_retry(100, 11), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_dns_set_retry(1000, 2), LWSS_OK);
}
END_TEST

Suite *dns_suite(void);

Suite *dns_suite(void)
{
    Suite *s = suite_create("dns");
    TCase *tc = tcase_create("messages");
    tcase_add_checked_fixture(tc, lwss_st_unit_setup, lwss_leak_teardown);
    tcase_add_test(tc, query_is_well_formed);
    tcase_add_test(tc, name_validation);
    tcase_add_test(tc, dotted_quads);
    tcase_add_test(tc, valid_answer_with_compression);
    tcase_add_test(tc, not_our_answer_is_a_mismatch);
    tcase_add_test(tc, rcodes_and_truncation);
    tcase_add_test(tc, compression_loops_and_bad_pointers);
    tcase_add_test(tc, bad_lengths);
    tcase_add_test(tc, every_truncation_is_safe);
    tcase_add_test(tc, cname_chain_in_any_order);
    tcase_add_test(tc, hosts_table);
    tcase_add_test(tc, resolve_argument_checks);
    suite_add_tcase(s, tc);
    return s;
}
