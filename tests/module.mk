# The one Check runner and the test targets.
# Broken servers for the hostile-peer tests.
HOSTILE_PEER := $(BUILD)/tests/lwss-hostile-peer
$(HOSTILE_PEER): tests/tools/hostile_peer.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -lpthread
TEST_DEPS += $(HOSTILE_PEER)

TEST_BIN  := $(BUILD)/tests/lwss-tests
TEST_SRCS += tests/support/runner.c tests/support/leak_check.c
TEST_OBJS  = $(call OBJ,$(TEST_SRCS))

$(BUILD)/gen/lwss_suites.h: Makefile $(wildcard */module.mk */*/module.mk)
	@mkdir -p $(@D)
	@{ for s in $(UNIT_SUITES); do echo "LWSS_SUITE($$s, 0)"; done; \
	   for s in $(RIG_SUITES); do echo "LWSS_SUITE($$s, 1)"; done; } > $@.tmp
	@cmp -s $@.tmp $@ || mv $@.tmp $@; rm -f $@.tmp

$(BUILD)/obj/tests/support/runner.o: $(BUILD)/gen/lwss_suites.h

$(TEST_BIN): $(TEST_OBJS) $(LIB_TEST_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(TEST_OBJS) $(LIB_TEST_A) $(PKG_LIBS) $(CHECK_LIBS) -ldl

# `make test`: unit suites, rig suites inside a fresh namespace + TAP, then
# whatever the modules add to TEST_TARGETS (fuzz runs, interop). SUITE=name
# runs one suite; CK_RUN_CASE / CK_FORK are Check's own knobs.
RIG_FLAGS ?= --dns --mqtt $(if $(filter %/lwss-echo-server,$(TOOLS)),--echo)
# Every runner invocation appends "passed failed not-run" to the summary file;
# scripts/stage.sh records each stage of `make test` in LWSS_STAGES and adds up.
export LWSS_TEST_SUMMARY ?= $(CURDIR)/$(BUILD)/test-summary.txt
export LWSS_STAGES ?= $(CURDIR)/$(BUILD)/test-stages.txt
# glibc's per-thread cache keeps freed blocks counted as in use by
# mallinfo2(): without it the heap fixtures measure exactly.
# Tests that do not choose an NVM image get one in the build directory,
# never lwss-nvm.img in the working tree; unit and rig runs each their own.
# LWSS_TEST_SLOW scales the time bounds tests give lwss (lwss_test_slowness),
# CK_TIMEOUT_MULTIPLIER Check's per-test timeouts, for slow builds.
TEST_SLOW     := $(if $(filter 0,$(SAN)),1,3)
TEST_ENV_BASE := LWSS_BUILD=$(BUILD) GLIBC_TUNABLES=glibc.malloc.tcache_count=0 \
                 LWSS_TEST_SLOW=$(TEST_SLOW) CK_TIMEOUT_MULTIPLIER=$(TEST_SLOW)
TEST_ENV_UNIT := $(TEST_ENV_BASE) LWSS_NVM=$(CURDIR)/$(BUILD)/tests/unit-nvm.img
TEST_ENV_RIG  := $(TEST_ENV_BASE) LWSS_NVM=$(CURDIR)/$(BUILD)/tests/rig-nvm.img

# The build as a stage of its own: a compile error is one named failure.
test-build: all $(TEST_BIN) $(TOOLS) $(TEST_DEPS)

test-unit: $(TEST_BIN) $(TOOLS) $(TEST_DEPS)
	@echo "== unit suites"
	@rm -f $(BUILD)/tests/unit-nvm.img
	$(TEST_ENV_UNIT) $(TEST_BIN) --unit $(SUITE)

test-rig: $(TEST_BIN) $(TOOLS) $(TEST_DEPS)
	@echo "== rig suites (own network namespace + TAP)"
	@rm -f $(BUILD)/tests/rig-nvm.img
	$(TEST_ENV_RIG) scripts/rig.sh --build $(BUILD) $(RIG_FLAGS) -- $(TEST_BIN) --rig $(SUITE)

.PHONY: test-build test-unit test-rig

# Suites that also run under valgrind (leaks are errors).  Not with SAN=1:
# ASan and valgrind do not mix; the SAN build has LeakSanitizer instead.
VALGRIND := env LWSS_TEST_SLOW=5 CK_TIMEOUT_MULTIPLIER=5 valgrind -q --leak-check=full --show-possibly-lost=no --errors-for-leak-kinds=definite,indirect \
            --error-exitcode=1 --suppressions=tests/support/valgrind.supp
# run-suites WRAPPER, SUITES: each suite in its own mode (unit, or rig); a
# failing suite does not stop the others, the recipe fails at the end.
define run-suites
	@bad=""; for s in $(2); do \
	  kind=$$($(TEST_BIN) --list | awk -v s=$$s '$$2==s{print $$1}'); \
	  if [ "$$kind" = rig ]; then \
	    $(TEST_ENV_RIG) scripts/rig.sh --build $(BUILD) $(RIG_FLAGS) -- $(1) $(TEST_BIN) --rig $$s || bad="$$bad $$s"; \
	  elif [ "$$kind" = unit ]; then \
	    $(TEST_ENV_UNIT) $(1) $(TEST_BIN) --unit $$s || bad="$$bad $$s"; \
	  else echo "no suite $$s"; bad="$$bad $$s"; fi; \
	done; [ -z "$$bad" ] || { echo "failed suites:$$bad"; exit 1; }
endef

test-valgrind: $(TEST_BIN) $(TOOLS) $(TEST_DEPS)
ifeq ($(SAN),0)
	@echo "== valgrind: $(VALGRIND_SUITES)"
	$(call run-suites,$(VALGRIND),$(VALGRIND_SUITES))
else
	@scripts/stage.sh --not-run "SAN=$(SAN): valgrind cannot run a sanitizer build (make test runs it)"
endif

# ThreadSanitizer: a separate build (build/tsan) of the thread-heavy suites.
TSAN_OPTIONS_RUN := env LWSS_TEST_SLOW=5 CK_TIMEOUT_MULTIPLIER=5 TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1"
test-tsan:
ifeq ($(SAN),0)
	@echo "== ThreadSanitizer: $(TSAN_SUITES)"
	$(MAKE) --no-print-directory SAN=thread -j2 all >/dev/null
	$(MAKE) --no-print-directory SAN=thread test-tsan-run
else
	@scripts/stage.sh --not-run "SAN=$(SAN): the TSan build runs in make test (SAN=0)"
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
	  echo "$$out"; [ "$$out" = "echoed 5 bytes" ]
TEST_TARGETS += test-readme
.PHONY: test-readme

# The rig leaves nothing behind: its run directory in TMPDIR is removed on
# exit, also after a failing command, and the command sees that directory;
# every server it started (echo, dnsmasq, mosquitto: the pids it lists in
# $$LWSS_RIG_RUNDIR/servers) is gone when it returns.  In each mode this user
# gets: as root `ip netns` and the unprivileged one (--unshare), where no
# namespace removal stops what the rig itself does not.
test-rig-cleanup: $(TOOLS) $(TEST_DEPS)
	@echo "== rig cleanup"
	@bad=0; for mode in $$([ "$$(id -u)" = 0 ] && echo netns) unshare; do 	  t=$$(mktemp -d); list=$$(mktemp); 	  TMPDIR=$$t scripts/rig.sh $$([ $$mode = unshare ] && echo --unshare) --build $(BUILD) --echo --dns --mqtt -- 	    sh -c 'cp "$$LWSS_RIG_RUNDIR/servers" "$$0" && case "$$LWSS_RIG_RUNDIR" in "$$TMPDIR"/lwss-rig.*) test -e "$$LWSS_RIG_RUNDIR/echo.ready";; *) exit 1;; esac' "$$list" 	    && ok1=1 || ok1=0; 	  TMPDIR=$$t scripts/rig.sh $$([ $$mode = unshare ] && echo --unshare) --build $(BUILD) -- false; 	  left=$$(ls -A $$t); rmdir $$t 2>/dev/null || rm -rf $$t; 	  n=$$(wc -l < $$list); alive=""; for p in $$(cat $$list); do kill -0 $$p 2>/dev/null && alive="$$alive $$p"; done; rm -f $$list; 	  if [ $$ok1 = 1 ] && [ -z "$$left" ] && [ "$$n" = 3 ] && [ -z "$$alive" ]; then 	    echo "rig cleanup ($$mode): run dir removed, $$n servers stopped"; 	  else bad=1; echo "rig cleanup ($$mode): command saw run dir: $$ok1; left in TMPDIR: $$left; servers listed: $$n, still running:$$alive"; 	    [ -z "$$alive" ] || kill -KILL $$alive; fi; 	done; [ $$bad = 0 ]
TEST_TARGETS += test-rig-cleanup
.PHONY: test-rig-cleanup

# The pipeline tests itself: a nested `make test` over five probe stages, one
# forced to fail through PIPELINE_PROBE_FAIL, one not runnable and one with a
# test not run, must count the failure, name it, run the stages after it, name
# the test not run and exit non-zero.
test-pipeline:
	@echo "== the test pipeline reports a failed stage"
	@scripts/test-pipeline.sh "$(MAKE)" $(BUILD)
pipeline-probe-%:
	@echo "probe $*"; [ "$*" != "$(PIPELINE_PROBE_FAIL)" ]
pipeline-probe-counts:
	@echo "3 0" >> $(LWSS_TEST_SUMMARY)
pipeline-probe-notrun:
	@scripts/stage.sh --not-run "probe: cannot run here"
# two tests pass, one cannot run here (as lwss-tests reports lwss_test_not_run)
pipeline-probe-partial:
	@echo "2 0 1" >> $(LWSS_TEST_SUMMARY); echo "probe test: needs root" >> $$LWSS_STAGE_NOTRUN_TESTS

# The rig's unprivileged mode (what a user without root gets): namespace
# root there may not call setgroups, so the name service must start without
# changing user or groups.  Forced with --unshare when make test runs as root.
test-rig-unshare: $(TEST_BIN) $(TOOLS) $(TEST_DEPS)
	@echo "== rig in an unprivileged user namespace (dnsmasq, echo server, DNS suite)"
	$(TEST_ENV_RIG) scripts/rig.sh --unshare --build $(BUILD) --dns --echo -- sh -c \
	  'test "$$LWSS_RIG_MODE" = unshare && exec $(TEST_BIN) --rig dns_rig'
TEST_TARGETS += test-rig-unshare
.PHONY: test-pipeline pipeline-probe-counts pipeline-probe-notrun pipeline-probe-partial test-rig-unshare
