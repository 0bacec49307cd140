/*
 * lwss-provision: put device credentials into an lwss NVM image through the
 * PKCS #11 token, the way a factory tool would.
 *
 * Every run that writes opens the image itself, through the same store and
 * under the same lock as any token process, after checking every input.
 * All it writes is one NVM transaction: committed only when everything
 * succeeded, so bad input, a failure half-way or a kill leaves the image's
 * objects exactly as they were.
 */
#include "src/pkcs11/cli/provision.h"
#include "lwss/nvm.h"
#include "lwss/pkcs11.h"
#include "lwss/port.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct prov_args {
    const char *image;
    const char *pin;
    const char *command;
    const char *subject;
    const char *csr;
    const char *new_pin;
    prov_inputs in;
} prov_args;

static int usage(void)
{
    fputs("usage: lwss-provision [--image FILE] [--pin PIN] COMMAND [options]\n"
          "  import   [--cert FILE --key FILE] [--root-ca FILE]... [--jitp FILE]\n"
          "           [--code-verify FILE]   (PEM or DER; EC P-256 or RSA 2048)\n"
          "  generate --csr FILE [--subject DN]  (P-256 key made in the token, CSR signed by it)\n"
          "  set-pin  --new-pin PIN           (--pin: the current PIN, default 0000)\n"
          "  show\n"
          "The image is --image, else $LWSS_NVM, else lwss-nvm.img.\n",
          stderr);
    return 2;
}

static int parse_args(int argc, char **argv, prov_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        const char **slot = !strcmp(opt, "--image")         ? &a->image
                            : !strcmp(opt, "--pin")         ? &a->pin
                            : !strcmp(opt, "--subject")     ? &a->subject
                            : !strcmp(opt, "--csr")         ? &a->csr
                            : !strcmp(opt, "--new-pin")     ? &a->new_pin
                            : !strcmp(opt, "--cert")        ? &a->in.cert_path
                            : !strcmp(opt, "--key")         ? &a->in.key_path
                            : !strcmp(opt, "--jitp")        ? &a->in.jitp_path
                            : !strcmp(opt, "--code-verify") ? &a->in.verify_path
                                                            : NULL;
        if (!strcmp(opt, "--root-ca") && val != NULL && a->in.root_path_count < PROV_MAX_ROOTS) {
            a->in.root_paths[a->in.root_path_count++] = val;
            i++;
        } else if (slot != NULL && val != NULL) {
            *slot = val;
            i++;
        } else if (opt[0] != '-' && a->command == NULL) {
            a->command = opt;
        } else {
            fprintf(stderr, "lwss-provision: bad or incomplete option '%s'\n", opt);
            return usage();
        }
    }
    return a->command == NULL ? usage() : 0;
}

static CK_RV open_token(const char *image, const char *pin, CK_SESSION_HANDLE *s)
{
    if (lwss_nvm_set_path(image) != 0) {
        return CKR_ARGUMENTS_BAD;
    }
    CK_RV rv = C_Initialize(NULL);
    if (rv == CKR_OK) {
        rv = C_OpenSession(LWSS_PKCS11_SLOT_ID, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                           s);
    }
    if (rv == CKR_OK && pin != NULL) {
        rv = C_Login(*s, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
    }
    if (rv != CKR_OK) {
        fprintf(stderr, "lwss-provision: %s: cannot open the token: %s%s%s\n", image,
                prov_rv_name(rv), *lwss_last_error() ? ": " : "", lwss_last_error());
        C_Finalize(NULL);
    }
    return rv;
}

static int run_command(CK_SESSION_HANDLE s, prov_args *a)
{
    if (!strcmp(a->command, "import")) {
        return prov_write_inputs(s, &a->in);
    }
    if (!strcmp(a->command, "generate")) {
        return prov_generate(s, a->subject != NULL ? a->subject : "CN=lwss-device", a->csr);
    }
    const char *old_pin = a->pin != NULL ? a->pin : LWSS_PKCS11_DEFAULT_PIN;
    CK_RV rv = C_SetPIN(s, (CK_UTF8CHAR_PTR)old_pin, strlen(old_pin),
                        (CK_UTF8CHAR_PTR)a->new_pin, strlen(a->new_pin));
    if (rv != CKR_OK) {
        fprintf(stderr, "lwss-provision: set-pin failed: %s\n",
                rv == CKR_PIN_LEN_RANGE ? "the PIN must be 4..64 bytes" : prov_rv_name(rv));
        return 3;
    }
    return 0;
}

/* Check inputs, then write everything in one transaction of the image. */
static int write_txn(prov_args *a)
{
    int importing = !strcmp(a->command, "import");
    if (importing && a->in.cert_path == NULL && a->in.root_path_count == 0 &&
        a->in.jitp_path == NULL && a->in.verify_path == NULL) {
        return prov_fail("import: nothing to import (see --help)");
    }
    if (importing && prov_load_inputs(&a->in) != 0) {
        return 1;
    }
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    int ret = open_token(a->image, a->pin, &s) == CKR_OK ? 0 : 3;
    if (ret == 0 && lwss_nvm_txn_begin() != 0) {
        ret = prov_fail("%s: cannot start a transaction: %s", a->image, lwss_last_error());
    } else if (ret == 0) {
        ret = run_command(s, a);
        if (ret == 0 && lwss_nvm_txn_commit() != 0) {
            ret = prov_fail("%s: cannot commit: %s", a->image, lwss_last_error());
        } else if (ret != 0) {
            (void)lwss_nvm_txn_abort();
        }
    }
    (void)C_Finalize(NULL); /* closes the image (already done after a failed open) */
    if (ret != 0) {
        fprintf(stderr, "lwss-provision: nothing was changed in %s\n", a->image);
    }
    return ret;
}

int main(int argc, char **argv)
{
    prov_args a;
    memset(&a, 0, sizeof(a));
    int ret = parse_args(argc, argv, &a);
    if (ret != 0) {
        return ret;
    }
    if (a.image == NULL) {
        a.image = getenv("LWSS_NVM") != NULL ? getenv("LWSS_NVM") : "lwss-nvm.img";
    }
    if (!strcmp(a.command, "show")) {
        CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
        if (access(a.image, F_OK) != 0) {
            return prov_fail("%s: no such image", a.image);
        }
        ret = open_token(a.image, a.pin, &s) == CKR_OK ? prov_show(s) : 3;
        C_Finalize(NULL);
    } else if (!strcmp(a.command, "import") || !strcmp(a.command, "generate") ||
               !strcmp(a.command, "set-pin")) {
        if (!strcmp(a.command, "generate") && a.csr == NULL) {
            return prov_fail("generate needs --csr FILE");
        }
        if (!strcmp(a.command, "set-pin") && a.new_pin == NULL) {
            return prov_fail("set-pin needs --new-pin PIN");
        }
        ret = write_txn(&a);
        prov_free_inputs(&a.in);
    } else {
        fprintf(stderr, "lwss-provision: unknown command '%s'\n", a.command);
        ret = usage();
    }
    return ret;
}
