/* check-config: does a token built with other LWSS_P11_PIN_MIN / _MAX values
 * report and enforce them?  Usage: config-probe [MIN MAX] (expected values),
 * with $LWSS_NVM naming a fresh image.  Exit 0 when every check holds.
 * PKCS #11 v2.40 CK_TOKEN_INFO: ulMinPinLen / ulMaxPinLen are the PIN length
 * bounds; C_InitPIN (the SO sets the user PIN, v2.40 §5.6) refuses a PIN out
 * of range with CKR_PIN_LEN_RANGE.  The SO logs in with the factory default
 * PIN (LWSS_PKCS11_DEFAULT_PIN), which is accepted whatever the bounds.
 * Without arguments the expected values are those this probe itself was
 * compiled with (the library's own build flags). */
#include "lwss/pkcs11.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void expect(int ok, const char *what, unsigned long got, unsigned long want)
{
    if (!ok) {
        fprintf(stderr, "config-probe: %s: got %lu, want %lu\n", what, got, want);
        failures++;
    }
}

static CK_RV init_pin(CK_SESSION_HANDLE h, size_t pin_len)
{
    CK_UTF8CHAR pin[128];
    memset(pin, '7', sizeof(pin));
    return C_InitPIN(h, pin, (CK_ULONG)pin_len);
}

int main(int argc, char **argv)
{
    unsigned long min = LWSS_P11_PIN_MIN, max = LWSS_P11_PIN_MAX;
    if (argc == 3) {
        min = strtoul(argv[1], NULL, 10);
        max = strtoul(argv[2], NULL, 10);
    } else if (argc != 1) {
        fprintf(stderr, "usage: config-probe [MIN MAX]\n");
        return 2;
    }
    if (min < 1 || max + 1 > 128 || min > max) {
        fprintf(stderr, "config-probe: bad bounds\n");
        return 2;
    }
    CK_RV rv = C_Initialize(NULL);
    expect(rv == CKR_OK, "C_Initialize", rv, CKR_OK);
    CK_TOKEN_INFO ti;
    rv = C_GetTokenInfo(LWSS_PKCS11_SLOT_ID, &ti);
    expect(rv == CKR_OK, "C_GetTokenInfo", rv, CKR_OK);
    expect(ti.ulMinPinLen == min, "ulMinPinLen", ti.ulMinPinLen, min);
    expect(ti.ulMaxPinLen == max, "ulMaxPinLen", ti.ulMaxPinLen, max);
    CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
    rv = C_OpenSession(LWSS_PKCS11_SLOT_ID, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &h);
    expect(rv == CKR_OK, "C_OpenSession", rv, CKR_OK);
    rv = C_Login(h, CKU_SO, (CK_UTF8CHAR_PTR)LWSS_PKCS11_DEFAULT_PIN, (CK_ULONG)strlen(LWSS_PKCS11_DEFAULT_PIN));
    expect(rv == CKR_OK, "C_Login as SO with the default PIN", rv, CKR_OK);
    rv = init_pin(h, min - 1);
    expect(rv == CKR_PIN_LEN_RANGE, "C_InitPIN, PIN one under the minimum", rv, CKR_PIN_LEN_RANGE);
    rv = init_pin(h, max + 1);
    expect(rv == CKR_PIN_LEN_RANGE, "C_InitPIN, PIN one over the maximum", rv, CKR_PIN_LEN_RANGE);
    rv = init_pin(h, min);
    expect(rv == CKR_OK, "C_InitPIN, PIN of the minimum length", rv, CKR_OK);
    rv = init_pin(h, max);
    expect(rv == CKR_OK, "C_InitPIN, PIN of the maximum length", rv, CKR_OK);
    C_CloseSession(h);
    C_Finalize(NULL);
    printf("config-probe: PIN %lu..%lu: %s\n", min, max, failures == 0 ? "ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}
