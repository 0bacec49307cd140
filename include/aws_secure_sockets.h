/**
 * @file aws_secure_sockets.h
 * @brief Older name of the Secure Sockets header, kept for existing code.
 */
#ifndef LWSS_AWS_SECURE_SOCKETS_H
#define LWSS_AWS_SECURE_SOCKETS_H

#include "iot_secure_sockets.h"

#endif
