# src/sockets/: the Secure Sockets API over lwIP.
LIB_SRCS += $(wildcard src/sockets/*.c)
TEST_SRCS += tests/support/sockets_rig_util.c tests/sockets/test_sockets_unit.c tests/sockets/test_sockets_full_tcp.c tests/sockets/test_sockets_extra.c \
             tests/sockets/example_seed.c tests/sockets/test_sockets_tls.c tests/sockets/test_sockets_afr.c \
             tests/sockets/test_sockets_idle.c
UNIT_SUITES += sockets_unit sockets_afr_unit
RIG_SUITES += sockets_full_tcp sockets_extra sockets_tls sockets_afr sockets_idle

# Benchmark: SOCKETS_* vs raw lwIP vs kernel sockets (run inside the rig by `make bench`).
BENCHES += $(BUILD)/bench/bench_sockets
$(BUILD)/bench/bench_sockets: $(call OBJ,tests/bench/bench_sockets.c) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(PKG_LIBS)

# Benchmark: CPU of an idle / blocked-in-Recv process, wake-up after idle (issue 19 item 3).
BENCHES += $(BUILD)/bench/bench_idle
$(BUILD)/bench/bench_idle: $(call OBJ,tests/bench/bench_idle.c) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(PKG_LIBS)


# The seed example compiles as written: it has no prototype and an unused variable.
$(call OBJ,tests/sockets/example_seed.c): CFLAGS += -Wno-missing-prototypes -Wno-unused-variable

# Thread-heavy: also under ThreadSanitizer.  Unit suites also under valgrind
# (the rig suites have timing tolerances that valgrind's slowdown would blur).
TSAN_SUITES += sockets_full_tcp sockets_extra sockets_tls sockets_idle
VALGRIND_SUITES += sockets_unit

# Coexistence with the FreeRTOS kernel: tests/sockets/kernel_app.c built against a
# stand-in of the kernel's headers (tests/sockets/kernel_standin: POSIX port shape,
# 64-bit ticks, 100 Hz) in both include orders, with the in-tree and the
# installed headers (pkg-config, compat directory before and after the
# kernel's), and without a kernel (gcc; clang checks three of them); three
# builds then run in the rig, where a timeout in the application's ticks
# must last what the ticks mean.
KCOMPAT := $(BUILD)/kernel-compat
test-kernel-compat: $(LIB_A) $(TOOLS) $(TEST_DEPS)
	@echo "== kernel coexistence (FreeRTOS.h stand-in, include orders, installed headers)"
	@rm -rf $(KCOMPAT) && mkdir -p $(KCOMPAT)
	@$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(KCOMPAT)/prefix >/dev/null
	@p=0; f=0; K=-Itests/sockets/kernel_standin; \
	  inst=$$(PKG_CONFIG_PATH=$(CURDIR)/$(KCOMPAT)/prefix/lib/pkgconfig pkg-config --cflags lwss) || f=1; \
	  ok() { p=$$((p + 1)); echo "  ok    $$1"; }; \
	  bad() { f=$$((f + 1)); echo "  FAIL  $$1"; [ -f $(KCOMPAT)/$$1.err ] && cat $(KCOMPAT)/$$1.err; }; \
	  build() { n=$$1; shift; \
	    if $(CC) -std=c11 -Wall -Wextra -Werror $(ALL_LDFLAGS) "$$@" tests/sockets/kernel_app.c \
	         -o $(KCOMPAT)/$$n $(LIB_A) $(PKG_LIBS) 2>$(KCOMPAT)/$$n.err; then ok "build $$n"; else bad $$n; fi; }; \
	  build tree-kernel-first $$K -Iinclude; \
	  build tree-sockets-first -DLWSS_TEST_SOCKETS_FIRST $$K -Iinclude; \
	  build tree-no-kernel -DLWSS_TEST_NO_KERNEL -Iinclude -Iinclude/lwss/compat; \
	  build installed-kernel-dir-first $$K $$inst; \
	  build installed-compat-dir-first $$inst $$K; \
	  build installed-compat-dir-first-sockets-first -DLWSS_TEST_SOCKETS_FIRST $$inst $$K; \
	  build installed-no-kernel -DLWSS_TEST_NO_KERNEL $$inst; \
	  build installed-no-kernel-sockets-first -DLWSS_TEST_NO_KERNEL -DLWSS_TEST_SOCKETS_FIRST $$inst; \
	  for v in "-DLWSS_TEST_SOCKETS_FIRST $$inst $$K" "$$inst $$K" "-DLWSS_TEST_NO_KERNEL $$inst"; do \
	    n=clang-syntax-$$((p + f)); \
	    if clang -std=c11 -Wall -Wextra -Werror -fsyntax-only $$v tests/sockets/kernel_app.c 2>$(KCOMPAT)/$$n.err; \
	    then ok "$$n: $$v"; else bad $$n; fi; \
	  done; \
	  for n in tree-kernel-first installed-compat-dir-first installed-no-kernel; do \
	    out=$$(scripts/rig.sh --build $(BUILD) --echo -- $(KCOMPAT)/$$n run 2>&1); rc=$$?; \
	    echo "$$out" > $(KCOMPAT)/$$n.err; \
	    if [ $$rc = 0 ]; then ok "run $$n: $$(tail -1 $(KCOMPAT)/$$n.err)"; else bad $$n; fi; \
	  done; \
	  echo "$$p passed, $$f failed"; echo "$$p $$f" >> $(LWSS_TEST_SUMMARY); [ $$f = 0 ]
TEST_TARGETS += test-kernel-compat
.PHONY: test-kernel-compat
