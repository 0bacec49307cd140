/* Configuration knobs (include/lwss/config_defaults.h) that a built library
 * lets the application change at run time.  Build-time overrides are proved
 * by the check-config stage (tests/config/module.mk), which builds the token
 * a second time with other values. */
#include "tests/support/lwss_test.h"
#include "tests/support/sockets_rig_util.h"

#include <stdint.h>

#include "iot_secure_sockets.h"
#include "lwss/config_defaults.h"
#include "lwss/sockets.h"

/* Runtime knob: lwss_sockets_set_default_timeouts() starts from the
 * library's socketsconfigDEFAULT_RECV/SEND_TIMEOUT and refuses what
 * lwss/sockets.h says it refuses, changing nothing then. */
START_TEST(default_timeouts_setting_starts_from_the_build_values)
{
    uint32_t r = 0, s = 0;
    lwss_sockets_default_timeouts(&r, &s);
    ck_assert_uint_eq(r, socketsconfigDEFAULT_RECV_TIMEOUT);
    ck_assert_uint_eq(s, socketsconfigDEFAULT_SEND_TIMEOUT);
    ck_assert_int_eq(lwss_sockets_set_default_timeouts(0, 500), SOCKETS_EINVAL);
    ck_assert_int_eq(lwss_sockets_set_default_timeouts(500, 3600001u), SOCKETS_EINVAL);
    lwss_sockets_default_timeouts(&r, &s);
    ck_assert_uint_eq(r, socketsconfigDEFAULT_RECV_TIMEOUT);
    ck_assert_uint_eq(s, socketsconfigDEFAULT_SEND_TIMEOUT);
    ck_assert_int_eq(lwss_sockets_set_default_timeouts(250, 750), SOCKETS_ERROR_NONE);
    lwss_sockets_default_timeouts(&r, NULL);
    lwss_sockets_default_timeouts(NULL, &s);
    ck_assert_uint_eq(r, 250);
    ck_assert_uint_eq(s, 750);
    ck_assert_int_eq(lwss_sockets_set_default_timeouts(socketsconfigDEFAULT_RECV_TIMEOUT,
                                                       socketsconfigDEFAULT_SEND_TIMEOUT),
                     SOCKETS_ERROR_NONE);
}
END_TEST

Suite *config_suite(void);

Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("runtime_knobs");
    tcase_add_checked_fixture(tc, lwss_st_unit_setup, lwss_leak_teardown);
    tcase_add_test(tc, default_timeouts_setting_starts_from_the_build_values);
    suite_add_tcase(s, tc);
    return s;
}

#define SHORT_RECV_MS 300u
/* Far below the 10 s build default, with room for a loaded 2-core machine. */
#define SHORT_RECV_SLACK_MS 3000u

/* iot_secure_sockets.h: "Timeouts ... make SOCKETS_Recv() return 0 when
 * nothing could be transferred in time, never before the timeout has
 * passed"; the default a new socket gets is the runtime setting. */
START_TEST(runtime_default_recv_timeout_reaches_new_sockets)
{
    ck_assert_int_eq(lwss_sockets_set_default_timeouts(SHORT_RECV_MS, SHORT_RECV_MS),
                     SOCKETS_ERROR_NONE);
    Socket_t s = SOCKETS_Socket(SOCKETS_AF_INET, SOCKETS_SOCK_STREAM, SOCKETS_IPPROTO_TCP);
    ck_assert_int_eq(lwss_sockets_set_default_timeouts(socketsconfigDEFAULT_RECV_TIMEOUT,
                                                       socketsconfigDEFAULT_SEND_TIMEOUT),
                     SOCKETS_ERROR_NONE);
    ck_assert_ptr_ne(s, SOCKETS_INVALID_SOCKET);
    SocketsSockaddr_t a = lwss_st_echo_addr();
    ck_assert_int_eq(SOCKETS_Connect(s, &a, sizeof(a)), 0);
    char b[4];
    uint64_t t0 = lwss_test_now_ms();
    ck_assert_int_eq(SOCKETS_Recv(s, b, sizeof(b), 0), 0);
    uint64_t took = lwss_test_now_ms() - t0;
    ck_assert_msg(took >= SHORT_RECV_MS && took <= SHORT_RECV_MS + SHORT_RECV_SLACK_MS,
                  "receive gave up after %llu ms (runtime default %u ms, build default %u ms)",
                  (unsigned long long)took, SHORT_RECV_MS, (unsigned)socketsconfigDEFAULT_RECV_TIMEOUT);
    ck_assert_int_eq(SOCKETS_Close(s), 0);
}
END_TEST

Suite *config_rig_suite(void);

Suite *config_rig_suite(void)
{
    Suite *s = suite_create("config_rig");
    TCase *tc = tcase_create("runtime_knobs");
    tcase_add_checked_fixture(tc, lwss_st_setup, lwss_st_teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, runtime_default_recv_timeout_reaches_new_sockets);
    suite_add_tcase(s, tc);
    return s;
}
