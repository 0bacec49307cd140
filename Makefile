# lwss: FreeRTOS Secure Sockets + PKCS #11 on Linux over lwIP/TAP and mbedtls.
# Non-recursive: every module adds itself through its module.mk fragment.
#
#   make            library, tools, tests
#   make test       install missing deps, build, run unit + rig suites
#   make demo       the end-to-end demo in a throw-away network namespace
#   make bench      benchmarks (tests/bench), report under $(BUILD)/bench
#   make SAN=1 ...  the same under ASan + UBSan (build dir build/san)
#   make SAN=thread ... under ThreadSanitizer (build dir build/tsan)
#   make install PREFIX=/usr/local

.DEFAULT_GOAL := all
SHELL := /bin/bash

SAN     ?= 0
PREFIX  ?= /usr/local
VERSION := 0.1.0

ifeq ($(SAN),1)
BUILD   ?= build/san
else ifeq ($(SAN),thread)
BUILD   ?= build/tsan
else
BUILD   ?= build
endif

CC      ?= cc
PKGS    := lwip libpcap check p11-kit-1
DEPS_OK := $(shell scripts/install-deps.sh >&2 || echo no)
ifeq ($(DEPS_OK),no)
$(error missing dependencies: see the message above)
endif

PKG_CFLAGS := $(shell pkg-config --cflags lwip libpcap p11-kit-1)
PKG_LIBS   := $(shell pkg-config --libs lwip libpcap) -lmbedtls -lmbedx509 -lmbedcrypto -lpthread
CHECK_LIBS := $(shell pkg-config --libs check)

WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
           -Wformat=2 -Wno-format-nonliteral
OPT     ?= -O2 -g
CFLAGS_BASE := -std=c11 -D_GNU_SOURCE $(OPT) -fPIC $(WARN) \
           -I. -Iinclude -I$(BUILD)/gen $(PKG_CFLAGS)
LDFLAGS_BASE :=
ifeq ($(SAN),1)
CFLAGS_BASE  += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS_BASE += -fsanitize=address,undefined
endif
ifeq ($(SAN),thread)
CFLAGS_BASE  += -fsanitize=thread -fno-omit-frame-pointer
LDFLAGS_BASE += -fsanitize=thread
endif
CFLAGS  ?=
ALL_CFLAGS  = $(CFLAGS_BASE) $(CFLAGS)
ALL_LDFLAGS = $(LDFLAGS_BASE) $(LDFLAGS)

OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_A    := $(BUILD)/lib/liblwss.a
LIB_SO   := $(BUILD)/lib/liblwss.so

# Filled in by the module fragments.
LIB_SRCS    :=   # compiled into liblwss.a / liblwss.so
TOOLS       :=   # binaries under $(BUILD)/bin
TEST_SRCS   :=   # Check suites, linked into the one runner
UNIT_SUITES :=   # suites run directly:            Suite *NAME_suite(void)
RIG_SUITES  :=   # suites run inside the TAP rig:  Suite *NAME_suite(void)
FUZZERS     :=   # libFuzzer targets: $(BUILD)/fuzz/NAME from tests/fuzz/NAME.c
BENCHES     :=   # benchmark binaries under $(BUILD)/bench
TEST_DEPS   :=   # extra things `make test` needs built (tools, modules)
VALGRIND_SUITES := # suites `make test` also runs under valgrind
TSAN_SUITES :=     # thread-heavy suites `make test` also runs under ThreadSanitizer
EXTRA_CLEAN :=

include lwip_port/module.mk
include $(sort $(wildcard pal/module.mk src/module.mk src/*/module.mk echo_server/module.mk))
include tests/module.mk
include $(wildcard tests/bench/module.mk)

# After every fragment, so that all of TEST_TARGETS is known.
test: test-begin test-unit test-rig $(TEST_TARGETS)
	@awk '{p+=$$1; f+=$$2} END {printf "lwss: %d passed, %d failed\n", p, f}' $(LWSS_TEST_SUMMARY)

LIB_OBJS := $(call OBJ,$(LIB_SRCS))

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,liblwss.so.0 $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

all: $(LIB_A) $(LIB_SO) $(TOOLS) $(TEST_BIN)

# Exported names must carry our prefix or an API prefix (style rule 2).
check-symbols: $(LIB_SO)
	@bad=$$(nm -D --defined-only $(LIB_SO) | awk '{print $$3}' | \
	  grep -v -E '^(lwss_|SOCKETS_|C_|PKCS11_PAL_|TLS_|Plaintext_FreeRTOS_|_init$$|_fini$$|_edata$$|_end$$|__bss_start$$)|^__odr_asan\.' || true); \
	if [ -n "$$bad" ]; then echo "unprefixed exported symbols:"; echo "$$bad"; exit 1; fi

$(BUILD)/lwss.pc: FORCE
	@mkdir -p $(@D)
	printf 'prefix=%s\nlibdir=$${prefix}/lib\nincludedir=$${prefix}/include\n\nName: lwss\nDescription: FreeRTOS Secure Sockets and PKCS #11 on Linux over lwIP/TAP and mbedtls\nVersion: %s\nRequires.private: lwip libpcap p11-kit-1\nCflags: -I$${includedir} -I$${includedir}/lwss/compat\nLibs: -L$${libdir} -llwss\nLibs.private: -lmbedtls -lmbedx509 -lmbedcrypto -lpthread\n' \
	  '$(PREFIX)' '$(VERSION)' > $@

install: $(LIB_A) $(LIB_SO) $(TOOLS) $(BUILD)/lwss.pc
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/lwss $(DESTDIR)$(PREFIX)/bin
	install -d $(DESTDIR)$(PREFIX)/include/lwss/compat
	install -m 644 $(LIB_A) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIB_SO) $(DESTDIR)$(PREFIX)/lib/liblwss.so.$(VERSION)
	ln -sf liblwss.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/liblwss.so.0
	ln -sf liblwss.so.0 $(DESTDIR)$(PREFIX)/lib/liblwss.so
	install -m 644 $(wildcard include/*.h) $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(wildcard include/lwss/*.h) $(DESTDIR)$(PREFIX)/include/lwss/
	install -m 644 $(wildcard include/lwss/compat/*.h) $(DESTDIR)$(PREFIX)/include/lwss/compat/
	install -m 644 $(BUILD)/lwss.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	$(if $(TOOLS),install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/)

# Install into a scratch prefix and build a client against lwss.pc.
test-install:
	@rm -rf $(BUILD)/install-test && $(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(BUILD)/install-test >/dev/null
	@PKG_CONFIG_PATH=$(CURDIR)/$(BUILD)/install-test/lib/pkgconfig; export PKG_CONFIG_PATH; \
	  $(CC) -std=c11 -Wall -Werror $(ALL_LDFLAGS) tests/install_client.c -o $(BUILD)/install-test/client \
	    $$(pkg-config --cflags lwss) $$(pkg-config --libs lwss) && \
	  LD_LIBRARY_PATH=$(BUILD)/install-test/lib $(BUILD)/install-test/client && echo "install: ok"

clean:
	rm -rf $(BUILD) $(EXTRA_CLEAN)

.PHONY: all test demo bench install clean check-symbols fuzz test-install FORCE
FORCE:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
