# src/tls/: one mbedtls context per socket.
LIB_SRCS += $(wildcard src/tls/*.c)

# Test PKI (scripts/make-certs.sh): the rig starts the TLS listener when
# $(BUILD)/certs/server.crt exists, and the TLS suites read these files.
CERTS_STAMP := $(BUILD)/certs/.complete
$(CERTS_STAMP): scripts/make-certs.sh
	scripts/make-certs.sh $(BUILD)/certs
certs: $(CERTS_STAMP)
TEST_DEPS += $(CERTS_STAMP)
.PHONY: certs

TEST_SRCS += tests/tls/test_tls_engine.c tests/support/tls_test_server.c tests/support/tls_test_token.c tests/tls/test_tls_hello.c
UNIT_SUITES += tls_engine tls_hello
TSAN_SUITES += tls_engine tls_full_tcp
TEST_SRCS += tests/tls/test_tls_full_tcp.c tests/tls/test_tls_rig.c tests/support/tls_rig_util.c
RIG_SUITES += tls_full_tcp tls_rig

# Benchmark (make bench): TLS over lwIP/TAP beside the same engine over kernel TCP on a veth pair.
BENCHES += $(BUILD)/bench/bench_tls
$(BUILD)/bench/bench_tls: $(call OBJ,tests/bench/bench_tls.c) $(LIB_A) $(BUILD)/bin/lwss-demo
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(PKG_LIBS)
VALGRIND_SUITES += tls_engine

# AFR's iot_tls.h over the same engine (issue 17): src/tls/iot_tls.c is in LIB_SRCS above.
TEST_SRCS += tests/tls/test_iot_tls.c
UNIT_SUITES += iot_tls
VALGRIND_SUITES += iot_tls
TSAN_SUITES += iot_tls mqtt_rig
# MQTT 3.1.1 with mosquitto over each layer (rig.sh --mqtt, added to RIG_FLAGS in tests/module.mk).
TEST_SRCS += tests/mqtt/test_mqtt_rig.c tests/mqtt/mqtt_test_client.c
RIG_SUITES += mqtt_rig

# The core FreeRTOS transport headers and iot_tls.h as an application sees
# them: with and without coreMQTT's transport_interface.h, gcc and clang, linked and run.
# Under a sanitizer build the library needs its compiler's runtime: the app is
# linked by gcc (the compiler of the build) only; clang then checks it compiles.
THDR := $(BUILD)/transport-headers
THDR_LINK := $(if $(filter 0,$(SAN)),gcc clang,gcc)
test-transport-headers: $(LIB_A)
	@echo "== transport headers (coreMQTT-style application)"
	@mkdir -p $(THDR); p=0; f=0; \
	  for cc in gcc clang; do for ti in "" "-DLWSS_TEST_WITH_TI -Itests/mqtt/transport_standin"; do \
	    n=$$cc$${ti:+-ti}; \
	    case " $(THDR_LINK) " in *" $$cc "*) how="-o $(THDR)/$$n $(ALL_LDFLAGS)"; run=$(THDR)/$$n;; \
	      *) how="-fsyntax-only"; run=true; n=$$n-syntax;; esac; \
	    if $$cc -std=c11 -Wall -Wextra -Werror -Iinclude $$ti tests/mqtt/transport_app.c $$how \
	         $$( [ "$$run" = true ] || echo "$(LIB_A) $(PKG_LIBS)") 2>$(THDR)/$$n.err && $$run; \
	    then p=$$((p + 1)); echo "  ok    $$n"; else f=$$((f + 1)); echo "  FAIL  $$n"; cat $(THDR)/$$n.err; fi; \
	  done; done; \
	  echo "$$p passed, $$f failed"; echo "$$p $$f" >> $(LWSS_TEST_SUMMARY); [ $$f = 0 ]
TEST_TARGETS += test-transport-headers
.PHONY: test-transport-headers
