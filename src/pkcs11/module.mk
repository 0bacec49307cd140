# src/pkcs11/: the PKCS #11 software token.
#   - token sources (src/pkcs11/*.c) go into liblwss: the TLS layer calls C_* directly;
#   - $(BUILD)/lib/lwss-pkcs11.so: the same objects as a loadable module exporting
#     C_GetFunctionList only (image path from $LWSS_NVM), for pkcs11-tool / p11-kit;
#   - $(BUILD)/bin/lwss-provision: the provisioning CLI (src/pkcs11/cli/).
PKCS11_SRCS := $(wildcard src/pkcs11/*.c)
LIB_SRCS    += $(PKCS11_SRCS)
# $(LIB_A) is defined after the fragments are read, so prerequisites here
# name the archive literally (and the test runner gets it too: tests/module.mk
# lists $(LIB_A) while it is still empty).
PKCS11_LIB_A := $(BUILD)/lib/liblwss.a
$(BUILD)/tests/lwss-tests: $(PKCS11_LIB_A)

PKCS11_MODULE := $(BUILD)/lib/lwss-pkcs11.so
# Linking from the archive pulls in only what C_GetFunctionList reaches.
$(PKCS11_MODULE): $(PKCS11_LIB_A) src/pkcs11/module.map
	@mkdir -p $(@D)
	$(CC) -shared $(ALL_LDFLAGS) -Wl,--version-script=src/pkcs11/module.map \
	  -Wl,-u,C_GetFunctionList -Wl,-z,defs -o $@ $(PKCS11_LIB_A) $(PKG_LIBS)
all: $(PKCS11_MODULE)

PROVISION_SRCS := $(wildcard src/pkcs11/cli/*.c)
PROVISION_BIN  := $(BUILD)/bin/lwss-provision
TOOLS += $(PROVISION_BIN)
$(PROVISION_BIN): $(call OBJ,$(PROVISION_SRCS)) $(PKCS11_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call OBJ,$(PROVISION_SRCS)) $(PKCS11_LIB_A) $(PKG_LIBS)

TEST_SRCS   += $(wildcard tests/pkcs11/test_pkcs11_*.c) tests/support/pkcs11_util.c
UNIT_SUITES += pkcs11_core pkcs11_objects pkcs11_crypto pkcs11_threads pkcs11_provision \
               pkcs11_conformance pkcs11_session_objects \
               pkcs11_interop pkcs11_cipher pkcs11_wrap pkcs11_cipher_openssl \
               pkcs11_objedit pkcs11_pin_policy pkcs11_random pkcs11_hashsign pkcs11_derive \
               pkcs11_mechtable pkcs11_openssl_more
# pkcs11_tls: token-generated P-384 / RSA 2048 keys in mutual TLS with the echo server
RIG_SUITES  += pkcs11_tls
TEST_DEPS   += $(PKCS11_MODULE) $(PROVISION_BIN)
VALGRIND_SUITES += pkcs11_core pkcs11_objects pkcs11_crypto pkcs11_threads pkcs11_cipher \
                   pkcs11_wrap pkcs11_objedit pkcs11_pin_policy pkcs11_random pkcs11_hashsign \
                   pkcs11_derive pkcs11_mechtable
TSAN_SUITES     += pkcs11_threads pkcs11_objects pkcs11_objedit

# Interop with OpenSC pkcs11-tool, openssl and p11-kit (a shell script run by `make test`).
PKCS11_PROBE := $(BUILD)/tests/lwss-p11kit-probe
$(PKCS11_PROBE): tests/pkcs11/p11kit_probe.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(shell pkg-config --libs p11-kit-1)
TEST_DEPS    += $(PKCS11_PROBE)
TEST_TARGETS += test-pkcs11-interop
test-pkcs11-interop: $(PKCS11_MODULE) $(PROVISION_BIN) $(PKCS11_PROBE)
	@echo "== pkcs11 interop (pkcs11-tool, p11-kit, openssl)"
	tests/pkcs11/interop.sh $(BUILD)
.PHONY: test-pkcs11-interop

# pkcs11-tool --test, --test-fork, --test-threads, --test-ec (issues 15, 18): one summary line per stage.
TEST_TARGETS += test-pkcs11-conformance
test-pkcs11-conformance: $(PKCS11_MODULE) $(PROVISION_BIN)
	@echo "== pkcs11 conformance (pkcs11-tool --test, --test-fork, --test-threads, --test-ec)"
	tests/pkcs11/conformance.sh $(BUILD)
.PHONY: test-pkcs11-conformance

# Benchmark: C_Sign vs raw mbedtls ECDSA, finds + attribute reads.
BENCH_PKCS11 := $(BUILD)/bench/bench_pkcs11
BENCHES += $(BENCH_PKCS11)
$(BENCH_PKCS11): tests/bench/bench_pkcs11.c $(PKCS11_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKCS11_LIB_A) $(PKG_LIBS)

# libFuzzer targets: C_CreateObject templates and provisioning input.
# The token, the store and the core (src/core/) are rebuilt with clang and
# coverage so the fuzzer sees inside them; each runs PKCS11_FUZZ_SECONDS in `make test`.
PKCS11_FUZZ_CC      ?= clang
PKCS11_FUZZ_SECONDS ?= 15
PKCS11_FUZZ_CFLAGS  = -std=c11 -D_GNU_SOURCE -g -O1 -fPIC $(WARN) -I. -Iinclude $(PKG_CFLAGS) \
                       -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
PKCS11_FUZZ_LIBSRCS := $(wildcard src/pkcs11/*.c) $(wildcard pal/*.c) $(wildcard src/core/*.c)
PKCS11_FUZZ_OBJS    := $(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$(PKCS11_FUZZ_LIBSRCS))
PKCS11_FUZZERS      := $(BUILD)/fuzz/pkcs11_template $(BUILD)/fuzz/pkcs11_provision_input
FUZZERS             += $(PKCS11_FUZZERS)

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(PKCS11_FUZZ_CC) $(PKCS11_FUZZ_CFLAGS) -MMD -MP -c $< -o $@
-include $(shell find $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)
$(PKCS11_FUZZERS): $(BUILD)/fuzz/%: tests/fuzz/%.c $(PKCS11_FUZZ_OBJS)
	@mkdir -p $(@D)
	$(PKCS11_FUZZ_CC) $(PKCS11_FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(PKCS11_FUZZ_OBJS) \
	  -lmbedtls -lmbedx509 -lmbedcrypto -lpthread

TEST_TARGETS += test-pkcs11-fuzz
test-pkcs11-fuzz: $(PKCS11_FUZZERS)
	@echo "== pkcs11 fuzzing ($(PKCS11_FUZZ_SECONDS) s per target)"
	@set -e; for f in $(PKCS11_FUZZERS); do n=$$(basename $$f); w=$(BUILD)/fuzz/work-$$n; \
	  rm -rf $$w; mkdir -p $$w; \
	  $$f -max_total_time=$(PKCS11_FUZZ_SECONDS) -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/crash-$$n- $$w tests/fuzz/corpus/$$n 2>&1 | \
	    grep -E "^(stat::number_of_executed_units|==.*ERROR|SUMMARY|Done)" ; \
	  test $${PIPESTATUS[0]} -eq 0 || { echo "fuzz target $$n failed"; exit 1; }; done
.PHONY: test-pkcs11-fuzz

# Secrets wiped before free: every free() of the library goes through a check.
PKCS11_WIPE := $(BUILD)/tests/lwss-pkcs11-wipe
$(PKCS11_WIPE): tests/pkcs11/wipe_check.c $(PKCS11_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -Wl,--wrap=free -o $@ $< $(PKCS11_LIB_A) $(PKG_LIBS)
TEST_TARGETS += test-pkcs11-wipe
test-pkcs11-wipe: $(PKCS11_WIPE)
	@echo "== pkcs11: secrets wiped before free"
	@d=$$(mktemp -d /tmp/lwss-wipe-XXXXXX); trap 'rm -rf "$$d"' EXIT; \
	openssl ecparam -name prime256v1 -genkey -noout -out $$d/ec.pem && \
	openssl genrsa -out $$d/rsa.pem 2048 2>/dev/null && \
	$(PKCS11_WIPE) $$d/ec.pem $$d/rsa.pem $$d/nvm.img
.PHONY: test-pkcs11-wipe

# `make install` also puts the loadable module where PKCS #11 modules live.
install: install-pkcs11-module
install-pkcs11-module: $(PKCS11_MODULE)
	install -d $(DESTDIR)$(PREFIX)/lib/pkcs11
	install -m 755 $(PKCS11_MODULE) $(DESTDIR)$(PREFIX)/lib/pkcs11/
.PHONY: install-pkcs11-module
