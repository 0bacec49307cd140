# src/tls/: one mbedtls context per socket (owned by the TLS work).
LIB_SRCS += $(wildcard src/tls/*.c)
