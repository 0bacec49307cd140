# src/core/: status codes, the per-thread error detail, the monotonic clock and
# the entropy source: the module under every other one (lwss/status.h, core.h).
LIB_SRCS += $(wildcard src/core/*.c)

# No layer above the port reaches into it: pal/, src/pkcs11/, src/dns/ and
# src/tls/ include nothing from lwip_port/, and src/tls/ calls no lwIP or port
# function (its transport comes from src/sockets/ through the BIO seam); the
# token calls no lwss_nvm_* (src/pkcs11/token_store.h is its only door to storage).
TEST_TARGETS += check-layers
check-layers:
	@echo "== layers: no lwip_port/ include above the port, no lwIP call in src/tls/, token storage via its seam"
	@bad=$$(grep -n -E '#[[:space:]]*include[[:space:]]*[<"](\.\./)*lwip_port/' \
	    $$(find pal src/pkcs11 src/dns src/tls -name '*.[ch]') ; \
	  grep -n -E '\b(lwip_[a-z_]+|lwss_port_[a-z_]+)[[:space:]]*\(' src/tls/*.[ch]; \
	  grep -n -E '#[[:space:]]*include[[:space:]]*[<"]lwip/' src/tls/*.[ch]; \
	  grep -n -E '\blwss_nvm_[a-z_]+[[:space:]]*\(' src/pkcs11/*.[ch]); \
	if [ -z "$$bad" ]; then echo "1 passed, 0 failed"; echo "1 0" >> $(LWSS_TEST_SUMMARY); \
	else echo "$$bad"; echo "0 passed, 1 failed"; echo "0 1" >> $(LWSS_TEST_SUMMARY); exit 1; fi
.PHONY: check-layers

# The OS seam (lwss/os.h): a fake wait hook records every wait (rig suite).
TEST_SRCS += tests/test_os_hook.c
RIG_SUITES += os_hook
