/* Helpers shared by the port's rig suites (port_rig, port_life). */
#ifndef LWSS_PORT_RIG_UTIL_H
#define LWSS_PORT_RIG_UTIL_H

#include <stdint.h>

/**
 * A kernel TCP listening socket on the namespace side (192.0.2.1), on a
 * free port written to @p port; backlog 8, so connections complete without
 * accept().  Fails the test when it cannot.
 */
int lwss_pt_kernel_listen(uint16_t *port);

#endif
