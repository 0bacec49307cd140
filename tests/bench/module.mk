# tests/bench/: `make bench` runs every benchmark in BENCHES inside the rig
# BENCH_RUNS times and writes $(BUILD)/bench/{results.json,results.md,chart.png}.
BENCH_REPORT := $(BUILD)/bench/lwss-bench-report
BENCH_RUNS ?= 5

$(BENCH_REPORT): tests/bench/report.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

bench: $(BENCH_REPORT) $(BENCHES) $(TOOLS) $(TEST_DEPS)
	LWSS_BUILD=$(BUILD) BENCH_RUNS=$(BENCH_RUNS) scripts/rig.sh --build $(BUILD) $(RIG_FLAGS) -- \
	  scripts/bench.sh $(BUILD)/bench $(BENCHES)

.PHONY: bench
