# pal/: the NVM image (flash emulation, log store, index) and the PKCS #11 PAL.
LIB_SRCS += $(wildcard pal/*.c)

# Check suite "nvm" (tests/test_nvm_*.c).
TEST_SRCS   += $(wildcard tests/test_nvm_*.c)
UNIT_SUITES += nvm

# The image tool.  (LIB_A is defined after the fragments: spell the path.)
NVM_CLI      := $(BUILD)/bin/lwss-nvm
NVM_CLI_OBJS := $(call OBJ,$(wildcard pal/cli/*.c))
TOOLS        += $(NVM_CLI)

$(NVM_CLI): $(NVM_CLI_OBJS) $(BUILD)/lib/liblwss.a
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(NVM_CLI_OBJS) $(BUILD)/lib/liblwss.a $(PKG_LIBS)

# libFuzzer target over the image open/scan path (clang, ASan + UBSan) and a
# bounded run of it inside `make test` (NVM_FUZZ_SECONDS, default 20).
FUZZERS          += nvm_scan
NVM_FUZZ         := $(BUILD)/fuzz/nvm_scan
NVM_FUZZ_SRCS    := tests/fuzz/nvm_scan.c $(wildcard pal/*.c) lwip_port/error.c lwip_port/entropy.c
NVM_FUZZ_SECONDS ?= 20
TEST_TARGETS     += fuzz-nvm

$(NVM_FUZZ): $(NVM_FUZZ_SRCS) $(wildcard pal/*.h include/lwss/*.h)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -g -O1 $(WARN) -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=all -I. -Iinclude $(PKG_CFLAGS) -o $@ $(NVM_FUZZ_SRCS) \
	  -lmbedcrypto -lpthread

# The corpus grows in $(BUILD); the seeds in tests/fuzz/corpus stay as they are.
fuzz-nvm: $(NVM_FUZZ)
	@echo "== fuzz nvm_scan for $(NVM_FUZZ_SECONDS) s"
	@mkdir -p $(BUILD)/fuzz/nvm_scan.corpus $(BUILD)/fuzz/artifacts
	$(NVM_FUZZ) -max_total_time=$(NVM_FUZZ_SECONDS) -max_len=8193 -timeout=10 \
	  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/artifacts/ \
	  $(BUILD)/fuzz/nvm_scan.corpus tests/fuzz/corpus/nvm_scan

fuzz: fuzz-nvm
.PHONY: fuzz-nvm

# Benchmark (make bench): saves/s, write amplification, find + read from RAM.
NVM_BENCH := $(BUILD)/bench/bench_nvm
BENCHES   += $(NVM_BENCH)

$(NVM_BENCH): $(call OBJ,tests/bench/bench_nvm.c) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call OBJ,tests/bench/bench_nvm.c) $(LIB_A) $(PKG_LIBS)

# `make test` also runs the nvm suite under valgrind and ThreadSanitizer.
VALGRIND_SUITES += nvm
TSAN_SUITES     += nvm
