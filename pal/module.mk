# pal/: the NVM image (flash emulation, log store, index) and the PKCS #11 PAL.
LIB_SRCS += $(wildcard pal/*.c)

# Check suite "nvm" (tests/nvm/test_nvm_*.c).
TEST_SRCS   += $(wildcard tests/nvm/test_nvm_*.c) tests/support/nvm_util.c
UNIT_SUITES += nvm

# Check suite "token_store": the token's storage seam (src/pkcs11/token_store.h).
TEST_SRCS   += tests/nvm/test_token_store.c
UNIT_SUITES += token_store

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
NVM_FUZZ_SRCS    := tests/fuzz/nvm_scan.c $(wildcard pal/*.c) $(wildcard src/core/*.c)
NVM_FUZZ_SECONDS ?= 20
TEST_TARGETS     += fuzz-nvm

$(NVM_FUZZ): $(NVM_FUZZ_SRCS) $(wildcard pal/*.h include/lwss/*.h)
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -DLWSS_TEST_HOOKS -g -O1 $(WARN) -fsanitize=fuzzer,address,undefined \
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

# Cross-process tests of issue 14 (scripts/nvm-txn-test.sh): provisioning
# loops, token writers and pkcs11-tool writers on one image, every
# acknowledged write checked; SIGKILLs of C_GenerateKeyPair and of
# provisioning on small images (collections all the time).  Counts are
# smaller under SAN=1.
NVM_WRITER := $(BUILD)/tests/lwss-nvm-writer
$(NVM_WRITER): $(call OBJ,tests/tools/nvm_writer.c) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call OBJ,tests/tools/nvm_writer.c) $(LIB_A) $(PKG_LIBS)
TEST_DEPS += $(NVM_WRITER)
NVM_TXN_SCALE := $(if $(filter 0,$(SAN)),2,1)
test-nvm-txn: $(NVM_WRITER) $(REL_KILL_AFTER) $(TOOLS) $(CERTS_STAMP) $(PKCS11_MODULE)
	@echo "== nvm transactions across processes (issue 14)"
	@timeout 600 scripts/nvm-txn-test.sh $(BUILD) $(NVM_TXN_SCALE) && echo "1 0" >> $(LWSS_TEST_SUMMARY) || \
	  { echo "0 1" >> $(LWSS_TEST_SUMMARY); exit 1; }
TEST_TARGETS += test-nvm-txn
.PHONY: test-nvm-txn
