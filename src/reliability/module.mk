# Reliability and security: fault, hostile-peer, soak and security
# suites, the cross-process power-cut loop.  Only this fragment lives here:
# the Makefile auto-includes src/*/module.mk, not tests/*.mk.
TEST_SRCS   += tests/support/rel_util.c tests/reliability/test_faults.c tests/reliability/test_hostile.c tests/reliability/test_soak.c \
               tests/reliability/test_security.c
UNIT_SUITES += security
RIG_SUITES  += faults hostile soak security_rig

# A certificate chain larger than mbedtls' 16 KiB input buffer, for the
# hostile suite's openssl s_server (-cert_chain): 48 unrelated self-signed
# P-256 certificates with long names, about 25 KiB of DER.
REL_DIR      := $(BUILD)/rel
REL_BIGCHAIN := $(REL_DIR)/bigchain.pem
$(REL_BIGCHAIN):
	@mkdir -p $(@D)
	@rm -f $@.tmp; for i in $$(seq 48); do \
	  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
	    -subj "/O=lwss hostile chain filler $$i/OU=padding padding padding padding padding/CN=filler-$$i.lwss.test" \
	    -days 30 2>/dev/null >> $@.tmp || exit 1; done; mv $@.tmp $@
TEST_DEPS += $(REL_BIGCHAIN)

# Power cut across processes: provisioning SIGKILLed at random moments,
# POWERCUT_RUNS times; the image must verify and every object be old or new.
REL_KILL_AFTER := $(BUILD)/tests/lwss-kill-after
$(REL_KILL_AFTER): tests/tools/kill_after.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<
TEST_DEPS += $(REL_KILL_AFTER)
# Sized for the build: up to POWERCUT_RUNS cuts, at least POWERCUT_MIN, the
# loop ends early once POWERCUT_BUDGET s are used (a loaded machine, a
# sanitizer build); POWERCUT_TIMEOUT is the hard bound.
ifeq ($(SAN),0)
POWERCUT_RUNS    ?= 200
POWERCUT_MIN     ?= 50
POWERCUT_BUDGET  ?= 90
POWERCUT_TIMEOUT ?= 300
else
POWERCUT_RUNS    ?= 100
POWERCUT_MIN     ?= 25
POWERCUT_BUDGET  ?= 150
POWERCUT_TIMEOUT ?= 480
endif
test-powercut: $(REL_KILL_AFTER) $(TOOLS) $(CERTS_STAMP)
	@echo "== power cut across processes ($(POWERCUT_MIN) to $(POWERCUT_RUNS) runs, budget $(POWERCUT_BUDGET) s, at most $(POWERCUT_TIMEOUT) s)"
	@POWERCUT_MIN=$(POWERCUT_MIN) POWERCUT_BUDGET=$(POWERCUT_BUDGET) \
	  timeout -k 10 $(POWERCUT_TIMEOUT) scripts/powercut.sh $(BUILD) $(POWERCUT_RUNS) || \
	  { rc=$$?; [ $$rc = 124 ] && echo "powercut: timed out after $(POWERCUT_TIMEOUT) s"; exit $$rc; }
TEST_TARGETS += test-powercut
.PHONY: test-powercut

# Sanitizer stages of `make test`: the security and hostile-peer suites under
# valgrind (~35 s; the heap figures of hostile are then valgrind's leak
# check).  The token's multi-thread suite (pkcs11_threads) is in TSAN_SUITES
# already (src/pkcs11/module.mk).  faults and soak stay out of both: minutes
# under instrumentation; `make SAN=1 test-rig SUITE=...` covers them.
VALGRIND_SUITES += security hostile
