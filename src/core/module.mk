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
TEST_SRCS += tests/sockets/test_os_hook.c
RIG_SUITES += os_hook

# The FreeRTOS OS adapter as an application compiles it: against the kernel
# stand-in (tests/sockets/kernel_standin, 100 Hz, 64-bit ticks), from the tree and
# from an installed prefix (pkg-config), -Werror; the installed build then
# runs in the rig (a receive timeout waits through vTaskDelay only).
OSAD := $(BUILD)/os-adapter
test-os-adapter: $(LIB_A) $(TOOLS) $(TEST_DEPS)
	@echo "== FreeRTOS OS adapter (kernel stand-in, tree and installed)"
	@rm -rf $(OSAD) && mkdir -p $(OSAD)
	@$(MAKE) --no-print-directory install PREFIX=$(CURDIR)/$(OSAD)/prefix >/dev/null
	@p=0; f=0; K=-Itests/sockets/kernel_standin; \
	  inst=$$(PKG_CONFIG_PATH=$(CURDIR)/$(OSAD)/prefix/lib/pkgconfig pkg-config --cflags lwss) || f=1; \
	  incdir=$$(PKG_CONFIG_PATH=$(CURDIR)/$(OSAD)/prefix/lib/pkgconfig pkg-config --variable=includedir lwss); \
	  build() { n=$$1; ad=$$2; shift 2; \
	    if $(CC) -std=c11 -Wall -Wextra -Werror -Wmissing-prototypes $(ALL_LDFLAGS) "$$@" \
	         tests/sockets/os_adapter_app.c $$ad -o $(OSAD)/$$n $(LIB_A) $(PKG_LIBS) 2>$(OSAD)/$$n.err && \
	       $(OSAD)/$$n >>$(OSAD)/$$n.err 2>&1; \
	    then p=$$((p + 1)); echo "  ok    build $$n"; else f=$$((f + 1)); echo "  FAIL  $$n"; cat $(OSAD)/$$n.err; fi; }; \
	  build tree include/lwss/freertos_os_adapter.c $$K -Iinclude; \
	  build installed $$incdir/lwss/freertos_os_adapter.c $$K $$inst; \
	  out=$$(scripts/rig.sh --build $(BUILD) --echo -- $(OSAD)/installed run 2>&1); rc=$$?; \
	  if [ $$rc = 0 ]; then p=$$((p + 1)); echo "  ok    run installed: $$(echo "$$out" | tail -1)"; \
	  else f=$$((f + 1)); echo "  FAIL  run installed"; echo "$$out"; fi; \
	  echo "$$p passed, $$f failed"; echo "$$p $$f" >> $(LWSS_TEST_SUMMARY); [ $$f = 0 ]
TEST_TARGETS += test-os-adapter
.PHONY: test-os-adapter
