# echo_server/: lwss-echo-server, the namespace-side peer of the rig (kernel sockets).
# Every echo_server/*.c is linked in: the plain and the TLS listener.
ECHO_SRCS := $(wildcard echo_server/*.c)
ECHO_BIN  := $(BUILD)/bin/lwss-echo-server
TOOLS += $(ECHO_BIN)
TEST_DEPS += $(ECHO_BIN)

$(ECHO_BIN): $(call OBJ,$(ECHO_SRCS))
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lmbedtls -lmbedx509 -lmbedcrypto -lpthread

TEST_SRCS += tests/echo/test_echo_server.c
RIG_SUITES += echo_server_rig

# The one TLS server (tls_server.c) also serves the TLS suites'
# in-process server (tests/support/tls_test_server.c) and the bench peer.
TEST_SRCS += echo_server/tls_server.c
