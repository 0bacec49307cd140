# The one Check runner and the test targets.
# Broken servers for the hostile-peer tests (issue 8).
HOSTILE_PEER := $(BUILD)/tests/lwss-hostile-peer
$(HOSTILE_PEER): tests/tools/hostile_peer.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -lpthread
TEST_DEPS += $(HOSTILE_PEER)

TEST_BIN  := $(BUILD)/tests/lwss-tests
TEST_SRCS += tests/runner.c tests/leak_check.c
TEST_OBJS  = $(call OBJ,$(TEST_SRCS))

$(BUILD)/gen/lwss_suites.h: Makefile $(wildcard */module.mk */*/module.mk)
	@mkdir -p $(@D)
	@{ for s in $(UNIT_SUITES); do echo "LWSS_SUITE($$s, 0)"; done; \
	   for s in $(RIG_SUITES); do echo "LWSS_SUITE($$s, 1)"; done; } > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(BUILD)/obj/tests/runner.o: $(BUILD)/gen/lwss_suites.h

$(TEST_BIN): $(TEST_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(TEST_OBJS) $(LIB_A) $(PKG_LIBS) $(CHECK_LIBS) -ldl

# `make test`: unit suites, rig suites inside a fresh namespace + TAP, then
# whatever the modules add to TEST_TARGETS (fuzz runs, interop). SUITE=name
# runs one suite; CK_RUN_CASE / CK_FORK are Check's own knobs.
RIG_FLAGS ?= --dns --mqtt $(if $(filter %/lwss-echo-server,$(TOOLS)),--echo)
# Every runner invocation appends "passed failed" to the summary file; the
# last line of `make test` adds them up.
export LWSS_TEST_SUMMARY ?= $(CURDIR)/$(BUILD)/test-summary.txt
# glibc's per-thread cache keeps freed blocks counted as in use by
# mallinfo2(): without it the heap fixtures measure exactly.
# Tests that do not choose an NVM image get one in the build directory,
# never lwss-nvm.img in the working tree.
TEST_ENV := LWSS_BUILD=$(BUILD) GLIBC_TUNABLES=glibc.malloc.tcache_count=0 \
            LWSS_NVM=$(CURDIR)/$(BUILD)/tests/default-nvm.img

test-begin:
	@mkdir -p $(BUILD)/tests && : > $(LWSS_TEST_SUMMARY) && rm -f $(BUILD)/tests/default-nvm.img

test-unit: $(TEST_BIN) $(TOOLS) $(TEST_DEPS)
	@echo "== unit suites"
	$(TEST_ENV) $(TEST_BIN) --unit $(SUITE)

test-rig: $(TEST_BIN) $(TOOLS) $(TEST_DEPS)
	@echo "== rig suites (own network namespace + TAP)"
	$(TEST_ENV) scripts/rig.sh --build $(BUILD) $(RIG_FLAGS) -- $(TEST_BIN) --rig $(SUITE)

.PHONY: test-begin test-unit test-rig

# Suites that also run under valgrind (leaks are errors).  Not with SAN=1:
# ASan and valgrind do not mix; the SAN build has LeakSanitizer instead.
VALGRIND := valgrind -q --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite,indirect \
            --error-exitcode=1 --suppressions=tests/valgrind.supp
# run-suites WRAPPER, SUITES: each suite in its own mode (unit, or rig).
define run-suites
	@for s in $(2); do \
	  kind=$$($(TEST_BIN) --list | awk -v s=$$s '$$2==s{print $$1}'); \
	  [ -n "$$kind" ] || { echo "no suite $$s"; exit 1; }; \
	  if [ "$$kind" = rig ]; then \
	    $(TEST_ENV) scripts/rig.sh --build $(BUILD) $(RIG_FLAGS) -- $(1) $(TEST_BIN) --rig $$s || exit 1; \
	  else \
	    $(TEST_ENV) $(1) $(TEST_BIN) --unit $$s || exit 1; \
	  fi; \
	done
endef

test-valgrind: $(TEST_BIN) $(TOOLS) $(TEST_DEPS)
ifeq ($(SAN),0)
	@echo "== valgrind: $(VALGRIND_SUITES)"
	$(call run-suites,$(VALGRIND),$(VALGRIND_SUITES))
endif

# ThreadSanitizer: a separate build (build/tsan) of the thread-heavy suites.
TSAN_OPTIONS_RUN := env TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
test-tsan:
ifeq ($(SAN),0)
	@echo "== ThreadSanitizer: $(TSAN_SUITES)"
	$(MAKE) --no-print-directory SAN=thread -j2 all >/dev/null
	$(MAKE) --no-print-directory SAN=thread test-tsan-run
endif
test-tsan-run: $(TEST_BIN) $(TOOLS) $(TEST_DEPS)
	$(call run-suites,$(TSAN_OPTIONS_RUN),$(TSAN_SUITES))

.PHONY: test-valgrind test-tsan test-tsan-run


# The README's application example compiles as written and echoes over
# mutual TLS through lwIP in the rig.
README_APP := $(BUILD)/tests/readme-app
$(README_APP): README.md $(LIB_A)
	@mkdir -p $(@D)
	awk '/^```c$$/{n++; if (n == 1) {f = 1; next}} f && /^```$$/{f = 0} f' README.md > $@.c
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $@.c $(LIB_A) $(PKG_LIBS)

test-readme: $(README_APP) $(TOOLS) $(TEST_DEPS)
	@echo "== README example"
	@rm -f $(BUILD)/tests/readme.img
	@$(BUILD)/bin/lwss-provision --image $(BUILD)/tests/readme.img import \
	  --cert $(BUILD)/certs/client-ec.crt --key $(BUILD)/certs/client-ec.key \
	  --root-ca $(BUILD)/certs/ca.crt >/dev/null
	@out=$$(LWSS_NVM=$(BUILD)/tests/readme.img scripts/rig.sh --build $(BUILD) --echo --dns -- $(README_APP)); \
	  echo "$$out"; [ "$$out" = "echoed 5 bytes" ] && echo "1 passed, 0 failed" && echo "1 0" >> $(LWSS_TEST_SUMMARY) \
	  || { echo "0 passed, 1 failed"; echo "0 1" >> $(LWSS_TEST_SUMMARY); exit 1; }
TEST_TARGETS += test-readme
.PHONY: test-readme

# The rig leaves nothing behind in TMPDIR (its run directory is removed on
# exit, also after a failing command) and the command sees that directory.
test-rig-cleanup: $(TOOLS) $(TEST_DEPS)
	@echo "== rig cleanup"
	@t=$$(mktemp -d); \
	  TMPDIR=$$t scripts/rig.sh --build $(BUILD) --echo -- sh -c 'case "$$LWSS_RIG_RUNDIR" in "$$TMPDIR"/lwss-rig.*) test -e "$$LWSS_RIG_RUNDIR/echo.ready";; *) exit 1;; esac' \
	    && ok1=1 || ok1=0; \
	  TMPDIR=$$t scripts/rig.sh --build $(BUILD) -- false; \
	  left=$$(ls -A $$t); rmdir $$t 2>/dev/null || rm -rf $$t; \
	  if [ $$ok1 = 1 ] && [ -z "$$left" ]; then echo "1 passed, 0 failed"; echo "1 0" >> $(LWSS_TEST_SUMMARY); \
	  else echo "rig cleanup: command saw run dir: $$ok1; left in TMPDIR: $$left"; echo "0 passed, 1 failed"; \
	    echo "0 1" >> $(LWSS_TEST_SUMMARY); exit 1; fi
TEST_TARGETS += test-rig-cleanup
.PHONY: test-rig-cleanup
