# src/pkcs11/: the PKCS #11 software token (issue 4).
#   - token sources (src/pkcs11/*.c) go into liblwss: the TLS layer calls C_* directly;
#   - $(BUILD)/lib/lwss-pkcs11.so: the same objects as a loadable module exporting
#     C_GetFunctionList only (image path from $LWSS_NVM), for pkcs11-tool / p11-kit;
#   - $(BUILD)/bin/lwss-provision: the provisioning CLI (src/pkcs11/cli/).
PKCS11_SRCS := $(wildcard src/pkcs11/*.c)
LIB_SRCS    += $(PKCS11_SRCS)
# $(LIB_A) is defined after the fragments are read, so prerequisites here
# name the archive literally (and the test runner gets it too: tests/module.mk
# lists $(LIB_A) while it is still empty).
PKCS11_LIB_A := $(BUILD)/lib/liblwss.a
$(BUILD)/tests/lwss-tests: $(PKCS11_LIB_A)

PKCS11_MODULE := $(BUILD)/lib/lwss-pkcs11.so
# Linking from the archive pulls in only what C_GetFunctionList reaches.
$(PKCS11_MODULE): $(PKCS11_LIB_A) src/pkcs11/module.map
	@mkdir -p $(@D)
	$(CC) -shared $(ALL_LDFLAGS) -Wl,--version-script=src/pkcs11/module.map \
	  -Wl,-u,C_GetFunctionList -Wl,-z,defs -o $@ $(PKCS11_LIB_A) $(PKG_LIBS)
all: $(PKCS11_MODULE)

PROVISION_SRCS := $(wildcard src/pkcs11/cli/*.c)
PROVISION_BIN  := $(BUILD)/bin/lwss-provision
TOOLS += $(PROVISION_BIN)
$(PROVISION_BIN): $(call OBJ,$(PROVISION_SRCS)) $(PKCS11_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call OBJ,$(PROVISION_SRCS)) $(PKCS11_LIB_A) $(PKG_LIBS)

TEST_SRCS   += $(wildcard tests/test_pkcs11_*.c)
UNIT_SUITES += pkcs11_core pkcs11_objects pkcs11_crypto pkcs11_threads
TEST_DEPS   += $(PKCS11_MODULE) $(PROVISION_BIN)
