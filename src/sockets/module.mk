# src/sockets/: the Secure Sockets API over lwIP.
LIB_SRCS += $(wildcard src/sockets/*.c)
TEST_SRCS += tests/sockets_rig_util.c tests/test_sockets_unit.c tests/test_sockets_full_tcp.c tests/test_sockets_extra.c \
             tests/example_seed.c tests/test_sockets_tls.c
UNIT_SUITES += sockets_unit
RIG_SUITES += sockets_full_tcp sockets_extra sockets_tls

# Benchmark: SOCKETS_* vs raw lwIP vs kernel sockets (run inside the rig by `make bench`).
BENCHES += $(BUILD)/bench/bench_sockets
$(BUILD)/bench/bench_sockets: $(call OBJ,tests/bench/bench_sockets.c) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(PKG_LIBS)


# The seed example compiles as written: it has no prototype and an unused variable.
$(call OBJ,tests/example_seed.c): CFLAGS += -Wno-missing-prototypes -Wno-unused-variable

# Thread-heavy: also under ThreadSanitizer.  Unit suites also under valgrind
# (the rig suites have timing tolerances that valgrind's slowdown would blur).
TSAN_SUITES += sockets_full_tcp sockets_extra sockets_tls
VALGRIND_SUITES += sockets_unit
