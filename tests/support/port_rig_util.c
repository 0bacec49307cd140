/* Helpers shared by the port's rig suites. */
#include "tests/support/port_rig_util.h"
#include "tests/support/lwss_test.h"

#include <arpa/inet.h>
#include <sys/socket.h>

int lwss_pt_kernel_listen(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = inet_addr("192.0.2.1")};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t al = sizeof(a);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    *port = ntohs(a.sin_port);
    ck_assert_int_eq(listen(fd, 8), 0);
    return fd;
}
