/*
 * Shared by the PKCS #11 fuzz targets: one R/W session on a token over a
 * fresh image in a temp dir, created on the first input and removed at exit
 * (libFuzzer ends with exit()).  Aborts when the harness itself cannot start.
 */
#ifndef LWSS_PKCS11_FUZZ_SESSION_H
#define LWSS_PKCS11_FUZZ_SESSION_H

#include "lwss/nvm.h"
#include "lwss/pkcs11.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[] = "/tmp/lwss-fuzz-pkcs11-XXXXXX";
static char fuzz_image[64];

static void fuzz_cleanup(void)
{
    (void)C_Finalize(NULL);
    unlink(fuzz_image);
    rmdir(fuzz_dir);
}

static CK_SESSION_HANDLE fuzz_session(void)
{
    static CK_SESSION_HANDLE session = CK_INVALID_HANDLE;
    if (session == CK_INVALID_HANDLE) {
        setenv("LWSS_NVM_SYNC", "0", 1); /* no fdatasync per write: speed */
        if (mkdtemp(fuzz_dir) == NULL) {
            abort();
        }
        snprintf(fuzz_image, sizeof(fuzz_image), "%s/nvm.img", fuzz_dir);
        atexit(fuzz_cleanup);
        if (lwss_nvm_set_path(fuzz_image) != 0 || C_Initialize(NULL) != CKR_OK ||
            C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session) !=
                CKR_OK) {
            abort();
        }
    }
    return session;
}

#endif
