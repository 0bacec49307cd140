# lwip_port/: the host port (TAP netif, capture, config, entropy).
LIB_SRCS += $(wildcard lwip_port/*.c)
