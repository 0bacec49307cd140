/*
 * Load a PKCS #11 module through p11-kit's own loader (p11_kit_module_load,
 * which wraps every call), list its slots, token and mechanisms, and count
 * its objects.  Used by tests/pkcs11/interop.sh.
 * usage: lwss-p11kit-probe MODULE.so   (exit 0 when everything answered)
 */
#include <p11-kit/p11-kit.h>
#include <stdio.h>
#include <stdlib.h>

static int probe(CK_FUNCTION_LIST *m)
{
    CK_SLOT_ID slots[4];
    CK_ULONG n = 4;
    CK_TOKEN_INFO ti;
    CK_MECHANISM_TYPE mechs[128];
    CK_ULONG mech_count = 128;
    if (m->C_GetSlotList(CK_TRUE, slots, &n) != CKR_OK || n < 1 ||
        m->C_GetTokenInfo(slots[0], &ti) != CKR_OK ||
        m->C_GetMechanismList(slots[0], mechs, &mech_count) != CKR_OK) {
        return 1;
    }
    char *label = p11_kit_space_strdup(ti.label, sizeof(ti.label));
    printf("slots: %lu\ntoken: %s\nmechanisms: %lu\n", n, label, mech_count);
    free(label);
    CK_SESSION_HANDLE s;
    CK_OBJECT_HANDLE objs[64];
    CK_ULONG found = 0;
    if (m->C_OpenSession(slots[0], CKF_SERIAL_SESSION, NULL, NULL, &s) != CKR_OK ||
        m->C_FindObjectsInit(s, NULL, 0) != CKR_OK ||
        m->C_FindObjects(s, objs, 64, &found) != CKR_OK || m->C_FindObjectsFinal(s) != CKR_OK ||
        m->C_CloseSession(s) != CKR_OK) {
        return 1;
    }
    printf("objects: %lu\n", found);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: lwss-p11kit-probe MODULE.so\n");
        return 2;
    }
    CK_FUNCTION_LIST *m = p11_kit_module_load(argv[1], 0);
    if (m == NULL) {
        fprintf(stderr, "p11-kit could not load %s: %s\n", argv[1], p11_kit_message());
        return 1;
    }
    int ret = 1;
    if (p11_kit_module_initialize(m) == CKR_OK) {
        ret = probe(m);
        p11_kit_module_finalize(m);
    }
    p11_kit_module_release(m);
    return ret;
}
