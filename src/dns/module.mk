# src/dns/: DNS stub resolver over lwIP UDP.
LIB_SRCS += $(wildcard src/dns/*.c)
TEST_SRCS += tests/dns/test_dns.c tests/dns/test_dns_rig.c
UNIT_SUITES += dns
RIG_SUITES += dns_rig

# libFuzzer target over the response parser (clang only), run ~15 s by `make test`.
FUZZERS += $(BUILD)/fuzz/dns_parse
FUZZ_CC ?= clang
DNS_FUZZ_SECONDS ?= 15
$(BUILD)/fuzz/dns_parse: tests/fuzz/dns_parse.c src/dns/dns_msg.c src/dns/dns_msg.h
	@mkdir -p $(@D)
	$(FUZZ_CC) -std=c11 -D_GNU_SOURCE -g -O1 -I. -Iinclude \
	  -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/dns_parse.c src/dns/dns_msg.c

fuzz-dns-parse: $(BUILD)/fuzz/dns_parse
	@mkdir -p $(BUILD)/fuzz/corpus-dns_parse
	@echo "== fuzz dns_parse ($(DNS_FUZZ_SECONDS) s)"
	@$(BUILD)/fuzz/dns_parse -max_total_time=$(DNS_FUZZ_SECONDS) -max_len=1500 \
	  -artifact_prefix=$(BUILD)/fuzz/dns_parse- $(BUILD)/fuzz/corpus-dns_parse \
	  tests/fuzz/corpus/dns_parse > $(BUILD)/fuzz/dns_parse.log 2>&1 || \
	  { tail -40 $(BUILD)/fuzz/dns_parse.log; echo "fuzz dns_parse: FAILED (crash input under $(BUILD)/fuzz/)"; exit 1; }
	@tail -1 $(BUILD)/fuzz/dns_parse.log

TEST_TARGETS += fuzz-dns-parse
.PHONY: fuzz-dns-parse
TSAN_SUITES += dns_rig
VALGRIND_SUITES += dns
