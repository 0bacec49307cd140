# pal/: the NVM image (flash emulation, log store, index) and the PKCS #11 PAL.
LIB_SRCS += $(wildcard pal/*.c)

# Check suite "nvm" (tests/test_nvm_*.c).
TEST_SRCS   += $(wildcard tests/test_nvm_*.c)
UNIT_SUITES += nvm
