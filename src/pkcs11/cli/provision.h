/* Internal interface of lwss-provision (src/pkcs11/cli/). */
#ifndef LWSS_PROVISION_H
#define LWSS_PROVISION_H

#include "lwss/pkcs11_std.h"

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stddef.h>

/** Most root CA certificates one run imports. */
#define PROV_MAX_ROOTS 8

/** Everything an `import` run will write, parsed and checked first. */
typedef struct prov_inputs {
    const char *cert_path, *key_path, *jitp_path, *verify_path;
    const char *root_paths[PROV_MAX_ROOTS];
    size_t root_path_count;
    unsigned char *cert, *key, *jitp, *verify; /* file contents, NUL-terminated */
    size_t cert_len, key_len, jitp_len, verify_len;
    mbedtls_x509_crt roots; /* every certificate of every --root-ca file */
} prov_inputs;

/** Print "lwss-provision: <message>" on stderr; returns 1 (input error). */
int prov_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Load and check every input; 0, or 1 after a message. */
int prov_load_inputs(prov_inputs *in);
/** Free what prov_load_inputs() loaded (the key wiped). */
void prov_free_inputs(prov_inputs *in);
/** Write the checked inputs into the token; 0, or non-zero after a message. */
int prov_write_inputs(CK_SESSION_HANDLE s, const prov_inputs *in);
/** Generate the device key pair in the token and write a CSR (PEM) to @p path. */
int prov_generate(CK_SESSION_HANDLE s, const char *subject, const char *csr_path);
/** Print what the token holds. */
int prov_show(CK_SESSION_HANDLE s);
/** A short name for a CK_RV. */
const char *prov_rv_name(CK_RV rv);

#endif
