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
