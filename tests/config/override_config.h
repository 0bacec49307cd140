/* LWSS_CONFIG_FILE of the check-config stage: a user configuration header
 * that changes one token knob (the other, LWSS_P11_PIN_MAX, comes from -D). */
#ifndef LWSS_TEST_OVERRIDE_CONFIG_H
#define LWSS_TEST_OVERRIDE_CONFIG_H

#define LWSS_P11_PIN_MIN 6

#endif
