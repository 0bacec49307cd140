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

# The fleet rows (scripts/fleet.sh, before the other benchmarks, on an idle
# rig): BENCH_FLEET_DEVICES devices each holding a mutual-TLS connection and
# exchanging a message every second for BENCH_FLEET_SECONDS; handshake times
# while all connect at once, CPU and memory per device.  Run once per
# `make bench`, not BENCH_RUNS times (it loads the machine for a minute);
# BENCH_FLEET=0 leaves it out.  Summary and logs in $(BUILD)/bench/fleet/.
BENCH_FLEET ?= 1
BENCH_FLEET_DEVICES ?= 100
BENCH_FLEET_SECONDS ?= 60
BENCH_FLEET_JSON := $(BUILD)/bench/fleet.jsonl

bench: $(BENCH_REPORT) $(BENCH_PEER) $(BENCHES) $(TOOLS) $(TEST_DEPS)
	@rm -f $(BENCH_FLEET_JSON); fleet=0; \
	if [ "$(BENCH_FLEET)" != 0 ]; then \
	  scripts/fleet.sh --build $(BUILD) --devices $(BENCH_FLEET_DEVICES) --seconds $(BENCH_FLEET_SECONDS) \
	    --interval-ms 1000 --out $(BUILD)/bench/fleet --json $(BENCH_FLEET_JSON) || fleet=1; fi; \
	LWSS_BUILD=$(BUILD) BENCH_RUNS=$(BENCH_RUNS) BENCH_EXTRA_JSONL=$(CURDIR)/$(BENCH_FLEET_JSON) \
	  scripts/rig.sh --build $(BUILD) -- scripts/bench.sh $(BUILD)/bench $(BENCHES); rc=$$?; \
	[ $$fleet = 0 ] || echo "bench: the fleet run FAILED (see $(BUILD)/bench/fleet/summary.txt)" >&2; \
	exit $$(( rc | fleet ))

.PHONY: bench
