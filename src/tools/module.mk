# src/tools/: lwss-demo (the application of `make demo`).
DEMO_BIN := $(BUILD)/bin/lwss-demo
TOOLS += $(DEMO_BIN)
$(DEMO_BIN): $(call OBJ,src/tools/lwss_demo.c) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIB_A) $(PKG_LIBS)

# `make demo`: rig up, echo server (plain + TLS), credentials provisioned into
# a fresh NVM image, a mutual-TLS echo from lwIP over TAP with pcap + keylog,
# tshark decryption when installed, rig down (scripts/demo.sh).
# A machine where no rig can be made (no root and /dev/net/tun not usable)
# hears it in one line with the fix before anything is built, as `make test`.
demo: demo-rig-check $(DEMO_BIN) $(BUILD)/bin/lwss-echo-server $(BUILD)/bin/lwss-provision $(CERTS_STAMP)
	scripts/demo.sh $(BUILD)
demo-rig-check:
	@scripts/rig.sh --check
.PHONY: demo-rig-check
