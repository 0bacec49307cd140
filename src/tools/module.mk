# src/tools/: lwss-demo (the application of `make demo`).
DEMO_BIN := $(BUILD)/bin/lwss-demo
TOOLS += $(DEMO_BIN)
$(DEMO_BIN): $(call OBJ,src/tools/lwss_demo.c src/tools/mqtt_wire.c) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

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

# lwss-fleet-device: one simulated device of `scripts/fleet.sh` (its own TAP,
# MAC/IP and NVM image; mutual TLS to the echo server or mosquitto).
FLEET_DEVICE_BIN := $(BUILD)/bin/lwss-fleet-device
TOOLS += $(FLEET_DEVICE_BIN)
$(FLEET_DEVICE_BIN): $(call OBJ,src/tools/lwss_fleet_device.c src/tools/mqtt_wire.c) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# `make test-fleet`: a 4-device fleet for 5 s must connect and exchange on
# every device; devices that cannot connect must fail the run; a full run, a
# failed one, Ctrl-C and the whole-run bound each leave nothing behind
# (tests/fleet/fleet-test.sh; counts go to the summary).
test-fleet: $(TOOLS) $(TEST_DEPS)
	@echo "== fleet (scripts/fleet.sh)"
	@LWSS_TEST_SLOW=$(TEST_SLOW) tests/fleet/fleet-test.sh $(BUILD)
TEST_TARGETS += test-fleet
.PHONY: test-fleet
