# tests/bench/: `make bench` runs every benchmark in BENCHES inside the rig
# BENCH_RUNS times (scripts/bench.sh) against lwss-bench-peer, and writes
# $(BUILD)/bench/{results.json,results.md,ratios.dat,chart.png}.
# Benchmarks are never part of `make test`.
BENCH_REPORT := $(BUILD)/bench/lwss-bench-report
BENCH_PEER   := $(BUILD)/bench/lwss-bench-peer
BENCH_RUNS ?= 5

$(BENCH_REPORT): tests/bench/report.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

$(BENCH_PEER): $(call OBJ,tests/bench/bench_peer.c echo_server/tls_server.c)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ -lmbedtls -lmbedx509 -lmbedcrypto -lpthread

bench: $(BENCH_REPORT) $(BENCH_PEER) $(BENCHES) $(TOOLS) $(TEST_DEPS)
	LWSS_BUILD=$(BUILD) BENCH_RUNS=$(BENCH_RUNS) scripts/rig.sh --build $(BUILD) -- \
	  scripts/bench.sh $(BUILD)/bench $(BENCHES)

.PHONY: bench
