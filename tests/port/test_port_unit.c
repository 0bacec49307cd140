/* Unit tests of the host port: config, env overrides, errors, entropy. */
#include "tests/support/lwss_test.h"
#include "lwss/port.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static void clear_env(void)
{
    static const char *vars[] = {"LWSS_TAP", "LWSS_IP", "LWSS_NETMASK", "LWSS_GW", "LWSS_MAC",
                                 "LWSS_MTU", "LWSS_DNS", "LWSS_PCAP", "LWSS_PCAP_MAX", "LWSS_IMPAIR",
                                 "LWSS_TCP_SNDBUF"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        unsetenv(vars[i]);
    }
}

START_TEST(defaults_are_documented_values)
{
    lwss_port_config c;
    lwss_port_config_default(&c);
    ck_assert_str_eq(c.tap, "lwss0");
    ck_assert_uint_eq(c.ip, inet_addr("192.0.2.2"));
    ck_assert_uint_eq(c.netmask, inet_addr("255.255.255.0"));
    ck_assert_uint_eq(c.gateway, inet_addr("192.0.2.1"));
    ck_assert_uint_eq(c.mtu, 1500);
    ck_assert_uint_eq(c.mac[0], 0x02);
    ck_assert_uint_eq(c.mac[5], 0x02);
    ck_assert_uint_eq(c.dns[0], 0);
    ck_assert_str_eq(c.pcap_path, "");
    ck_assert_uint_eq(c.tcp_sndbuf, 262144);
}
END_TEST

START_TEST(env_overrides_every_field)
{
    clear_env();
    setenv("LWSS_TAP", "tapx", 1);
    setenv("LWSS_IP", "192.0.2.9", 1);
    setenv("LWSS_NETMASK", "255.255.0.0", 1);
    setenv("LWSS_GW", "192.0.2.254", 1);
    setenv("LWSS_MAC", "02:aa:bb:cc:dd:ee", 1);
    setenv("LWSS_MTU", "1400", 1);
    setenv("LWSS_DNS", "192.0.2.1, 192.0.2.3", 1);
    setenv("LWSS_PCAP", "/tmp/x.pcap", 1);
    setenv("LWSS_PCAP_MAX", "100000", 1);
    setenv("LWSS_TCP_SNDBUF", "65536", 1);
    lwss_port_config c;
    lwss_port_config_default(&c);
    ck_assert_int_eq(lwss_port_config_from_env(&c), LWSS_OK);
    ck_assert_str_eq(c.tap, "tapx");
    ck_assert_uint_eq(c.ip, inet_addr("192.0.2.9"));
    ck_assert_uint_eq(c.netmask, inet_addr("255.255.0.0"));
    ck_assert_uint_eq(c.gateway, inet_addr("192.0.2.254"));
    ck_assert_uint_eq(c.mac[1], 0xaa);
    ck_assert_uint_eq(c.mac[5], 0xee);
    ck_assert_uint_eq(c.mtu, 1400);
    ck_assert_uint_eq(c.dns[0], inet_addr("192.0.2.1"));
    ck_assert_uint_eq(c.dns[1], inet_addr("192.0.2.3"));
    ck_assert_uint_eq(c.dns[2], 0);
    ck_assert_str_eq(c.pcap_path, "/tmp/x.pcap");
    ck_assert_uint_eq(c.pcap_max_bytes, 100000);
    ck_assert_uint_eq(c.tcp_sndbuf, 65536);
    clear_env();
}
END_TEST

static const struct {
    const char *var, *value;
} bad_env[] = {
    {"LWSS_IP", "192.0.2"},        {"LWSS_IP", "banana"},    {"LWSS_GW", "1.2.3.4.5"},
    {"LWSS_MAC", "02:00:00:00:00"}, {"LWSS_MAC", "zz:00:00:00:00:00"},
    {"LWSS_MTU", "100"},           {"LWSS_MTU", "12x"},      {"LWSS_MTU", "-1500"},
    {"LWSS_DNS", "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4"},          {"LWSS_DNS", "nope"},
    {"LWSS_TAP", "a-name-much-too-long-for-ifnamsiz"},        {"LWSS_PCAP_MAX", "lots"},
    {"LWSS_IMPAIR", "loss=101"},   {"LWSS_IMPAIR", "loss"},  {"LWSS_IMPAIR", "wobble=3"},
    {"LWSS_IMPAIR", "delay=abc"},  {"LWSS_IMPAIR", "delay=-5"},
    {"LWSS_TCP_SNDBUF", "2919"},   {"LWSS_TCP_SNDBUF", "262145"}, {"LWSS_TCP_SNDBUF", "1M"},
};

START_TEST(bad_env_is_refused_and_changes_nothing)
{
    clear_env();
    setenv(bad_env[_i].var, bad_env[_i].value, 1);
    lwss_port_config c, before;
    lwss_port_config_default(&c);
    before = c;
    ck_assert_int_eq(lwss_port_config_from_env(&c), LWSS_ERR_INVAL);
    ck_assert_msg(strstr(lwss_last_error(), bad_env[_i].var) != NULL, "message '%s' names %s",
                  lwss_last_error(), bad_env[_i].var);
    ck_assert_mem_eq(&c, &before, sizeof(c));
    clear_env();
}
END_TEST

START_TEST(impairment_from_env)
{
    clear_env();
    setenv("LWSS_IMPAIR", "loss=5%,delay=50ms,jitter=20,dup=1,reorder=2.5,seed=7", 1);
    lwss_port_config c;
    lwss_port_config_default(&c);
    ck_assert_int_eq(lwss_port_config_from_env(&c), LWSS_OK);
    ck_assert_uint_eq(c.impair.loss_permille, 50);
    ck_assert_uint_eq(c.impair.delay_ms, 50);
    ck_assert_uint_eq(c.impair.jitter_ms, 20);
    ck_assert_uint_eq(c.impair.dup_permille, 10);
    ck_assert_uint_eq(c.impair.reorder_permille, 25);
    ck_assert_uint_eq(c.impair.seed, 7);
    clear_env();
}
END_TEST

START_TEST(invalid_config_is_refused_by_up)
{
    lwss_port_config c;
    lwss_port_config_default(&c);
    c.ip = 0;
    ck_assert_int_eq(lwss_port_up(&c), LWSS_ERR_INVAL);
    lwss_port_config_default(&c);
    c.netmask = inet_addr("255.0.255.0");
    ck_assert_int_eq(lwss_port_up(&c), LWSS_ERR_INVAL);
    lwss_port_config_default(&c);
    c.mac[0] = 0x01;
    ck_assert_int_eq(lwss_port_up(&c), LWSS_ERR_INVAL);
    lwss_port_config_default(&c);
    c.mtu = 100;
    ck_assert_int_eq(lwss_port_up(&c), LWSS_ERR_INVAL);
    lwss_port_config_default(&c);
    c.tap[0] = '\0';
    ck_assert_int_eq(lwss_port_up(&c), LWSS_ERR_INVAL);
    lwss_port_config_default(&c);
    c.impair.loss_permille = 1001;
    ck_assert_int_eq(lwss_port_up(&c), LWSS_ERR_INVAL);
    lwss_port_config_default(&c);
    c.tcp_sndbuf = 1000;
    ck_assert_int_eq(lwss_port_up(&c), LWSS_ERR_INVAL);
    c.tcp_sndbuf = LWSS_TCP_SNDBUF_MAX + 1;
    ck_assert_int_eq(lwss_port_up(&c), LWSS_ERR_INVAL);
    ck_assert_int_eq(lwss_port_set_link(0), LWSS_ERR_STATE);
    ck_assert_int_eq(lwss_port_is_up(), 0);
}
END_TEST

START_TEST(missing_tap_is_a_clear_error)
{
    lwss_port_config c;
    lwss_port_config_default(&c);
    strcpy(c.tap, "lwssnotthere0");
    ck_assert_int_eq(lwss_port_up(&c), LWSS_ERR_NOTAP);
    ck_assert_ptr_nonnull(strstr(lwss_last_error(), "lwssnotthere0"));
    ck_assert_int_eq(lwss_port_is_up(), 0);
    ck_assert_int_eq(lwss_port_down(), LWSS_ERR_STATE);
}
END_TEST

START_TEST(strerror_covers_every_status)
{
    for (int s = LWSS_ERR_TIMEOUT; s <= LWSS_OK; s++) {
        ck_assert_str_ne(lwss_strerror(s), "unknown error");
    }
    ck_assert_str_eq(lwss_strerror(-999), "unknown error");
}
END_TEST

START_TEST(entropy_fills_and_differs)
{
    unsigned char a[64], b[64];
    size_t olen = 0;
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    ck_assert_int_eq(lwss_entropy_poll(NULL, a, sizeof(a), &olen), 0);
    ck_assert_uint_eq(olen, sizeof(a));
    ck_assert_int_eq(lwss_entropy_poll(NULL, b, sizeof(b), &olen), 0);
    ck_assert_int_ne(memcmp(a, b, sizeof(a)), 0);
    ck_assert_int_eq(lwss_entropy_poll(NULL, a, 0, &olen), 0);
    ck_assert_uint_eq(olen, 0);
}
END_TEST

Suite *port_unit_suite(void);
Suite *port_unit_suite(void)
{
    Suite *s = suite_create("port_unit");
    TCase *tc = tcase_create("config");
    /* setenv() grows the environment for good: check descriptors and threads. */
    tcase_add_checked_fixture(tc, lwss_leak_setup_fds, lwss_leak_teardown_fds);
    tcase_add_test(tc, defaults_are_documented_values);
    tcase_add_test(tc, env_overrides_every_field);
    tcase_add_loop_test(tc, bad_env_is_refused_and_changes_nothing, 0,
                        (int)(sizeof(bad_env) / sizeof(bad_env[0])));
    tcase_add_test(tc, impairment_from_env);
    tcase_add_test(tc, strerror_covers_every_status);
    tcase_add_test(tc, entropy_fills_and_differs);
    suite_add_tcase(s, tc);
    TCase *up = tcase_create("bad_up");
    tcase_add_checked_fixture(up, lwss_leak_setup, lwss_leak_teardown);
    tcase_add_test(up, invalid_config_is_refused_by_up);
    tcase_add_test(up, missing_tap_is_a_clear_error);
    suite_add_tcase(s, up);
    return s;
}
