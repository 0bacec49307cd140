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

# Dependencies (Debian packages) are installed by a step, never while make
# parses: `make deps` alone, and first of all for the goals below, which then
# run in a second make (LWSS_DEPS_DONE=1) that may call pkg-config.
DEPS_GOALS := all test demo bench
ifeq ($(LWSS_DEPS_DONE),)
ifneq ($(filter $(DEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
LWSS_DEPS_WRAP := 1
endif
endif

ifeq ($(LWSS_DEPS_WRAP),1)
$(or $(MAKECMDGOALS),all): deps-then-goals ; @:
deps-then-goals:
	@scripts/install-deps.sh
	@$(MAKE) --no-print-directory LWSS_DEPS_DONE=1 $(MAKECMDGOALS)
.PHONY: deps-then-goals $(or $(MAKECMDGOALS),all)
else

# pkg-config runs when a recipe first needs the flags (not while parsing):
# on a fresh machine the packages arrive in the deps step before that.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags lwip libpcap p11-kit-1))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(shell pkg-config --libs lwip libpcap) -lmbedtls -lmbedx509 \
               -lmbedcrypto -lpthread)$(PKG_LIBS)
CHECK_LIBS = $(eval CHECK_LIBS := $$(shell pkg-config --libs check))$(CHECK_LIBS)

WARN    := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
           -Wformat=2 -Wno-format-nonliteral
OPT     ?= -O2 -g
CFLAGS_BASE = -std=c11 -D_GNU_SOURCE $(OPT) -fPIC $(WARN) \
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
# The same library with the test-only hooks (flash power cut, save faults,
# the kernel transport under TLS): only the test runner links it.
LIB_TEST_A := $(BUILD)/lib/liblwss-test.a

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
# Stages of `make test` defined in this Makefile.
TEST_TARGETS += check-hooks test-uninstall

include lwip_port/module.mk
include $(sort $(wildcard pal/module.mk src/module.mk src/*/module.mk echo_server/module.mk))
include tests/config/module.mk
include tests/module.mk
include $(wildcard tests/bench/module.mk)

# After every fragment, so that all of TEST_TARGETS is known.  Every stage
# is a target run by scripts/stage.sh in its own make: it records pass, fail
# or not run and never stops the stages after it; the summary's last line
# counts every failure and make fails if there was one.
TEST_STAGES = test-build test-unit test-rig $(TEST_TARGETS) test-pipeline
test:
	@scripts/rig.sh --check
	@scripts/stage.sh --begin
	@for s in $(TEST_STAGES); do scripts/stage.sh $$s $(MAKE) --no-print-directory $$s; done
	@scripts/stage.sh --summary

LIB_OBJS := $(call OBJ,$(LIB_SRCS))
# Library code is hidden unless a public header marks it LWSS_API.
$(LIB_OBJS): ALL_CFLAGS += -fvisibility=hidden
# Objects built with other flags (an older tree) are rebuilt, not reused.
LIB_FLAGS_STAMP := $(BUILD)/obj/lib-cflags
LIB_FLAGS_ID = $(CFLAGS_BASE) $(CFLAGS) -fvisibility=hidden
$(LIB_FLAGS_STAMP): FORCE
	@mkdir -p $(@D); echo '$(LIB_FLAGS_ID)' | cmp -s - $@ || echo '$(LIB_FLAGS_ID)' > $@
$(LIB_OBJS): $(LIB_FLAGS_STAMP)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# Files that hold hooks say so (#ifdef LWSS_TEST_HOOKS); only they are
# compiled a second time, with the hooks, for liblwss-test.a.
HOOK_SRCS := $(shell grep -l '^\#ifdef LWSS_TEST_HOOKS' $(LIB_SRCS) 2>/dev/null)
HOOK_OBJS := $(patsubst %.c,$(BUILD)/obj-hooks/%.o,$(HOOK_SRCS))
$(HOOK_OBJS): $(LIB_FLAGS_STAMP)
$(BUILD)/obj-hooks/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fvisibility=hidden -DLWSS_TEST_HOOKS -MMD -MP -c $< -o $@

$(LIB_TEST_A): $(filter-out $(call OBJ,$(HOOK_SRCS)),$(LIB_OBJS)) $(HOOK_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,liblwss.so.0 $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

all: $(LIB_A) $(LIB_SO) $(TOOLS) $(TEST_BIN)

# liblwss.so exports exactly what include/ declares (style rule 2), and the
# release libraries hold no test hook.
# The declared list comes from gcc's -aux-info (clang has no equivalent).
AUX_INFO_CC ?= gcc
check-symbols: $(LIB_SO) $(LIB_A)
	@echo "== exported symbols"
	@scripts/check-exports.sh $(LIB_SO) $(AUX_INFO_CC) -std=c11 -D_GNU_SOURCE -Iinclude $(PKG_CFLAGS) \
	  && echo "1 0" >> $(LWSS_TEST_SUMMARY) || { echo "0 1" >> $(LWSS_TEST_SUMMARY); exit 1; }
# Names of hook symbols (functions and their state); the test archive must
# have some, so that the pattern is known to match.
HOOK_NAMES := _fault_|^fault_|fail_save|kernel_io|_test_hook|_os_test_
check-hooks: $(LIB_SO) $(LIB_A) $(LIB_TEST_A)
	@echo "== no test hooks in the release library"
	@hooks() { nm --defined-only "$$@" 2>/dev/null | awk '{print $$NF}' | grep -E "$(HOOK_NAMES)" | sort -u; }; \
	found=$$(hooks -D $(LIB_SO); hooks $(LIB_A)); seen=$$(hooks $(LIB_TEST_A)); \
	if [ -z "$$found" ] && [ -n "$$seen" ]; then echo "1 passed, 0 failed"; echo "1 0" >> $(LWSS_TEST_SUMMARY); \
	else [ -z "$$found" ] || { echo "test hooks in $(LIB_SO) / $(LIB_A):"; echo "$$found"; }; \
	  [ -n "$$seen" ] || echo "the hook pattern finds nothing in $(LIB_TEST_A) either: check HOOK_NAMES"; \
	  echo "0 passed, 1 failed"; echo "0 1" >> $(LWSS_TEST_SUMMARY); exit 1; fi

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
	install -m 644 include/lwss/freertos_os_adapter.c $(DESTDIR)$(PREFIX)/include/lwss/
	install -m 644 $(wildcard include/lwss/compat/*.h) $(DESTDIR)$(PREFIX)/include/lwss/compat/
	install -m 644 $(BUILD)/lwss.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	$(if $(TOOLS),install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/)

# Remove exactly what `make install` puts under $(DESTDIR)$(PREFIX): the
# list comes from an install into a staging directory, so it follows every
# install rule (the module fragments add theirs).  Directories go only when
# empty (another package may share them).
uninstall:
	@stage=$$(mktemp -d "$${TMPDIR:-/tmp}/lwss-uninstall.XXXXXX"); trap 'rm -rf "$$stage"' EXIT; \
	$(MAKE) --no-print-directory install DESTDIR=$$stage PREFIX='$(PREFIX)' >/dev/null || exit 1; \
	root=$$stage'$(PREFIX)'; \
	( cd "$$root" && find . \( -type f -o -type l \) -print ) | while read -r f; do \
	  rm -f "$(DESTDIR)$(PREFIX)/$${f#./}" && echo "removed $(DESTDIR)$(PREFIX)/$${f#./}"; done; \
	( cd "$$root" && find . -mindepth 1 -type d -print | sort -r ) | while read -r d; do \
	  rmdir "$(DESTDIR)$(PREFIX)/$${d#./}" 2>/dev/null || true; done; \
	rmdir "$(DESTDIR)$(PREFIX)" 2>/dev/null || true

# `make uninstall` after `make install` leaves the prefix as it was: a file
# already there stays, nothing of lwss remains.
test-uninstall:
	@echo "== install + uninstall"
	@p=$(CURDIR)/$(BUILD)/uninstall-test; rm -rf $$p; mkdir -p $$p/bin; echo keep > $$p/bin/other-tool; \
	$(MAKE) --no-print-directory install PREFIX=$$p >/dev/null && n=$$(find $$p -type f | wc -l) && \
	test -f $$p/lib/liblwss.so.$(VERSION) && \
	$(MAKE) --no-print-directory uninstall PREFIX=$$p >/dev/null; ok=$$?; \
	left=$$(cd $$p 2>/dev/null && find . -mindepth 1 ! -path ./bin ! -path ./bin/other-tool); \
	if [ $$ok = 0 ] && [ "$${n:-0}" -gt 1 ] && [ -z "$$left" ] && [ -f $$p/bin/other-tool ]; then \
	  echo "uninstall: $$((n - 1)) installed files removed, the foreign one kept"; rm -rf $$p; \
	  echo "1 passed, 0 failed"; echo "1 0" >> $(LWSS_TEST_SUMMARY); \
	else echo "uninstall: make status $$ok, $${n:-0} files installed; left behind:"; echo "$$left"; \
	  test -f $$p/bin/other-tool || echo "and it removed a file it did not install"; \
	  echo "0 passed, 1 failed"; echo "0 1" >> $(LWSS_TEST_SUMMARY); exit 1; fi

# Install into a scratch prefix and build a client against lwss.pc.
test-install:
	@rm -rf $(BUILD)/install-test && $(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(BUILD)/install-test >/dev/null
	@PKG_CONFIG_PATH=$(CURDIR)/$(BUILD)/install-test/lib/pkgconfig; export PKG_CONFIG_PATH; \
	  $(CC) -std=c11 -Wall -Werror $(ALL_LDFLAGS) tests/support/install_client.c -o $(BUILD)/install-test/client \
	    $$(pkg-config --cflags lwss) $$(pkg-config --libs lwss) && \
	  LD_LIBRARY_PATH=$(BUILD)/install-test/lib $(BUILD)/install-test/client && echo "install: ok"

clean:
	rm -rf $(BUILD) $(EXTRA_CLEAN)

endif # LWSS_DEPS_WRAP

# Install the Debian packages lwss needs (as root; otherwise says what to run).
deps:
	@scripts/install-deps.sh

.PHONY: all test demo bench install uninstall clean check-symbols check-hooks fuzz test-install deps FORCE
FORCE:

-include $(shell find $(BUILD)/obj $(BUILD)/obj-hooks -name '*.d' 2>/dev/null)
