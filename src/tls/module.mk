# src/tls/: one mbedtls context per socket (owned by the TLS work).
LIB_SRCS += $(wildcard src/tls/*.c)

# Test PKI (scripts/make-certs.sh): the rig starts the TLS listener when
# $(BUILD)/certs/server.crt exists, and the TLS suites read these files.
CERTS_STAMP := $(BUILD)/certs/.complete
$(CERTS_STAMP): scripts/make-certs.sh
	scripts/make-certs.sh $(BUILD)/certs
certs: $(CERTS_STAMP)
TEST_DEPS += $(CERTS_STAMP)
.PHONY: certs

TEST_SRCS += tests/test_tls_engine.c tests/tls_test_server.c tests/tls_test_token.c tests/test_tls_hello.c
UNIT_SUITES += tls_engine tls_hello
TSAN_SUITES += tls_engine tls_full_tcp
TEST_SRCS += tests/test_tls_full_tcp.c tests/test_tls_rig.c tests/tls_rig_util.c
RIG_SUITES += tls_full_tcp tls_rig

# Benchmark (make bench): TLS over lwIP/TAP beside the same engine over kernel TCP on a veth pair.
BENCHES += $(BUILD)/bench/bench_tls
$(BUILD)/bench/bench_tls: $(call OBJ,tests/bench/bench_tls.c) $(LIB_A) $(BUILD)/bin/lwss-demo
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(PKG_LIBS)
VALGRIND_SUITES += tls_engine

# AFR's iot_tls.h over the same engine (issue 17): src/tls/iot_tls.c is in LIB_SRCS above.
TEST_SRCS += tests/test_iot_tls.c
UNIT_SUITES += iot_tls
# MQTT 3.1.1 with mosquitto over each layer (rig.sh --mqtt, added to RIG_FLAGS in tests/module.mk).
TEST_SRCS += tests/test_mqtt_rig.c tests/mqtt_test_client.c
RIG_SUITES += mqtt_rig
