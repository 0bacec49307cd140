/* check-config: does a token built with other LWSS_P11_PIN_MIN / _MAX values
 * report and enforce them?  Usage: config-probe [MIN MAX] (expected values),
 * with $LWSS_NVM naming a fresh image.  Exit 0 when every check holds.
 * PKCS #11 v2.40 CK_TOKEN_INFO: ulMinPinLen / ulMaxPinLen are the PIN length
 * bounds; C_InitToken on an image without an SO PIN sets it (lwss/pkcs11.h),
 * refusing a PIN out of range with CKR_PIN_LEN_RANGE.
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

static CK_RV init_token(size_t pin_len)
{
    CK_UTF8CHAR pin[128];
    CK_UTF8CHAR label[32];
    memset(pin, '7', sizeof(pin));
    memset(label, ' ', sizeof(label));
    memcpy(label, "config-probe", 12);
    return C_InitToken(LWSS_PKCS11_SLOT_ID, pin, (CK_ULONG)pin_len, label);
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
    rv = init_token(min - 1);
    expect(rv == CKR_PIN_LEN_RANGE, "C_InitToken, PIN one under the minimum", rv, CKR_PIN_LEN_RANGE);
    rv = init_token(max + 1);
    expect(rv == CKR_PIN_LEN_RANGE, "C_InitToken, PIN one over the maximum", rv, CKR_PIN_LEN_RANGE);
    rv = init_token(min);
    expect(rv == CKR_OK, "C_InitToken, PIN of the minimum length", rv, CKR_OK);
    C_Finalize(NULL);
    printf("config-probe: PIN %lu..%lu: %s\n", min, max, failures == 0 ? "ok" : "FAILED");
    return failures == 0 ? 0 : 1;
}
