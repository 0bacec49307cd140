# lwip_port/: the host port (TAP netif, capture, config, impairment).
LIB_SRCS += $(wildcard lwip_port/*.c)
UNIT_SUITES += port_unit port_gso
TEST_SRCS += tests/port/test_port_unit.c tests/port/test_port_gso.c
RIG_SUITES += port_rig port_life
TEST_SRCS += tests/port/test_port_rig.c tests/port/test_port_life.c tests/support/port_rig_util.c
VALGRIND_SUITES += port_rig port_life
TEST_TARGETS += test-valgrind
TEST_TARGETS += test-install
TEST_TARGETS += check-symbols
TSAN_SUITES += port_rig port_life
TEST_TARGETS += test-tsan
