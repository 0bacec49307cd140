# Configuration knobs (include/lwss/config_defaults.h).
#   - suites config / config_rig: the runtime knobs take effect;
#   - check-config: every knob documented and in the README's table (and the
#     check itself fails on a header with an undocumented knob), and a
#     build-time override takes effect: the token is built a second time with
#     LWSS_CONFIG_FILE (LWSS_P11_PIN_MIN 6) and -DLWSS_P11_PIN_MAX=10, and a
#     probe linked against each build sees that build's bounds.
TEST_SRCS   += tests/config/test_config.c
UNIT_SUITES += config
RIG_SUITES  += config_rig

CONFIG_PROBE     := $(BUILD)/tests/config-probe
CONFIG_PROBE_OVR := $(BUILD)/tests/config-probe-override
CONFIG_OVR_FLAGS := -DLWSS_CONFIG_FILE='"tests/config/override_config.h"' -DLWSS_P11_PIN_MAX=10
CONFIG_OVR_OBJS  := $(patsubst %.c,$(BUILD)/obj-config/%.o,$(filter src/pkcs11/%.c,$(LIB_SRCS)))
-include $(CONFIG_OVR_OBJS:.o=.d)

$(BUILD)/obj-config/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CONFIG_OVR_FLAGS) -MMD -MP -c $< -o $@

# The override objects come first: the archive's own token objects are then
# never pulled in (a duplicate would fail the link, not pass silently).
$(CONFIG_PROBE): $(call OBJ,tests/config/config_probe.c) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(CONFIG_PROBE_OVR): $(call OBJ,tests/config/config_probe.c) $(CONFIG_OVR_OBJS) $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# record NAME, COMMAND: one "passed failed" line for the summary.
define config-record
	if $(2); then echo "$(1): passed"; echo "1 0" >> $(LWSS_TEST_SUMMARY); \
	else echo "$(1): FAILED"; echo "0 1" >> $(LWSS_TEST_SUMMARY); bad=1; fi
endef

check-config: $(CONFIG_PROBE) $(CONFIG_PROBE_OVR)
	@echo "== configuration knobs"
	@bad=0; d=$(BUILD)/tests/config; rm -rf $$d; mkdir -p $$d; \
	printf '#ifndef LWSS_CONFIG_DEFAULTS_H\n#define LWSS_CONFIG_DEFAULTS_H\n#ifndef LWSS_UNDOCUMENTED\n#define LWSS_UNDOCUMENTED 1\n#endif\n#endif\n' > $$d/bad.h; \
	$(call config-record,knobs documented and in the README,scripts/check-config-knobs.sh include/lwss/config_defaults.h README.md); \
	$(call config-record,the knob check refuses an undocumented knob,! scripts/check-config-knobs.sh $$d/bad.h README.md >/dev/null); \
	$(call config-record,built-in PIN bounds,LWSS_NVM=$$d/plain.img $(CONFIG_PROBE)); \
	$(call config-record,build-time override PIN bounds 6..10,LWSS_NVM=$$d/override.img $(CONFIG_PROBE_OVR) 6 10); \
	rm -rf $$d; exit $$bad
TEST_TARGETS += check-config
.PHONY: check-config
