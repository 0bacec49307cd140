/* DNS against the rig's dnsmasq (192.0.2.1: *.lwss.test, echo.lwss.test -> 192.0.2.1). */
#include "tests/support/lwss_test.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "iot_secure_sockets.h"
#include "lwss/dns.h"
#include "lwss/port.h"

static void rig_setup(void)
{
    ck_assert_msg(lwss_test_in_rig(), "rig suites must run inside scripts/rig.sh");
    ck_assert_msg(getenv("LWSS_DNS") != NULL, "the rig was started without --dns");
    lwss_leak_setup_fds();
}

static void rig_teardown(void)
{
    if (lwss_port_is_up()) {
        lwss_port_down();
    }
    lwss_leak_teardown_fds();
}

START_TEST(name_resolves_via_dnsmasq)
{
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
    ck_assert_uint_eq(SOCKETS_GetHostByName("echo.lwss.test"), inet_addr("192.0.2.1"));
    ck_assert_uint_eq(SOCKETS_GetHostByName("ECHO.lwss.test."), inet_addr("192.0.2.1"));
    ck_assert_uint_eq(SOCKETS_GetHostByName("device.lwss.test"), inet_addr("192.0.2.2"));
    ck_assert_uint_eq(SOCKETS_GetHostByName("192.0.2.1"), inet_addr("192.0.2.1"));
}
END_TEST

START_TEST(unknown_name_gives_zero_quickly)
{
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_uint_eq(SOCKETS_GetHostByName("nope.lwss.test"), 0);
    uint32_t a;
    ck_assert_int_eq(lwss_dns_resolve("nope.lwss.test", &a), LWSS_ERR_IO);
    /* NXDOMAIN is an answer: no retries, no waiting for timeouts. */
    ck_assert_uint_lt(lwss_test_now_ms() - t0, 1500);
}
END_TEST

START_TEST(long_name_gives_zero)
{
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
    char name[300];
    memset(name, 'a', 254);
    name[50] = name[100] = name[150] = name[200] = '.';
    name[254] = '\0';
    ck_assert_uint_eq(SOCKETS_GetHostByName(name), 0);
}
END_TEST

/* 192.0.2.77 does not exist in the namespace: ARP fails, nothing answers. */
START_TEST(unreachable_server_gives_zero_within_bound)
{
    setenv("LWSS_DNS", "192.0.2.77", 1);
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
    ck_assert_int_eq(lwss_dns_set_retry(300, 2), LWSS_OK);
    uint64_t t0 = lwss_test_now_ms();
    uint32_t a = 0;
    ck_assert_int_eq(lwss_dns_resolve("echo.lwss.test", &a), LWSS_ERR_TIMEOUT);
    uint64_t took = lwss_test_now_ms() - t0;
    ck_assert_msg(took >= 550 && took < 1500, "gave up after %llu ms (bound 2 x 300 ms)",
                  (unsigned long long)took);
    ck_assert_uint_eq(SOCKETS_GetHostByName("echo.lwss.test"), 0);
}
END_TEST

/* Second server answers when the first is silent. */
START_TEST(falls_back_to_the_next_server)
{
    setenv("LWSS_DNS", "192.0.2.77,192.0.2.1", 1);
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
    ck_assert_int_eq(lwss_dns_set_retry(300, 1), LWSS_OK);
    ck_assert_uint_eq(SOCKETS_GetHostByName("echo.lwss.test"), inet_addr("192.0.2.1"));
}
END_TEST

static void *resolve_many(void *arg)
{
    (void)arg;
    for (int i = 0; i < 20; i++) {
        const char *n = (i % 2) ? "echo.lwss.test" : "device.lwss.test";
        uint32_t want = inet_addr((i % 2) ? "192.0.2.1" : "192.0.2.2");
        if (SOCKETS_GetHostByName(n) != want) {
            return (void *)1;
        }
    }
    return NULL;
}

START_TEST(concurrent_lookups_do_not_mix)
{
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, resolve_many, NULL), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        ck_assert_ptr_null(r);
    }
}
END_TEST

START_TEST(hosts_table_wins_over_dns)
{
    ck_assert_int_eq(SOCKETS_Init(), pdPASS);
    ck_assert_int_eq(lwss_dns_hosts_add("echo.lwss.test", inet_addr("192.0.2.5")), LWSS_OK);
    ck_assert_uint_eq(SOCKETS_GetHostByName("echo.lwss.test"), inet_addr("192.0.2.5"));
    lwss_dns_hosts_clear();
    ck_assert_uint_eq(SOCKETS_GetHostByName("echo.lwss.test"), inet_addr("192.0.2.1"));
}
END_TEST

Suite *dns_rig_suite(void);

Suite *dns_rig_suite(void)
{
    Suite *s = suite_create("dns_rig");
    TCase *tc = tcase_create("dnsmasq");
    tcase_add_checked_fixture(tc, rig_setup, rig_teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, name_resolves_via_dnsmasq);
    tcase_add_test(tc, unknown_name_gives_zero_quickly);
    tcase_add_test(tc, long_name_gives_zero);
    tcase_add_test(tc, unreachable_server_gives_zero_within_bound);
    tcase_add_test(tc, falls_back_to_the_next_server);
    tcase_add_test(tc, concurrent_lookups_do_not_mix);
    tcase_add_test(tc, hosts_table_wins_over_dns);
    suite_add_tcase(s, tc);
    return s;
}
