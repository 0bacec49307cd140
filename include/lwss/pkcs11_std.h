/**
 * @file pkcs11_std.h
 * @brief The standard PKCS #11 v2.40 header (from p11-kit), with the
 *        platform macros it expects defined for Linux.
 */
#ifndef LWSS_PKCS11_STD_H
#define LWSS_PKCS11_STD_H

/* p11-kit's pkcs11.h defines its own platform macros.  Its C_* declarations
 * get default visibility: the token's definitions are part of liblwss.so's
 * API although the library is compiled with -fvisibility=hidden. */
#pragma GCC visibility push(default)
#include <p11-kit/pkcs11.h>
#pragma GCC visibility pop

/** Labels of the reference objects (corePKCS11 defaults). */
#define pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS "Device Priv TLS Key"
/** @see pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS */
#define pkcs11configLABEL_DEVICE_PUBLIC_KEY_FOR_TLS "Device Pub TLS Key"
/** @see pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS */
#define pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS "Device Cert"
/** @see pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS */
#define pkcs11configLABEL_CODE_VERIFICATION_KEY "Code Verify Key"
/** @see pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS */
#define pkcs11configLABEL_HMAC_KEY "HMAC Key"
/** @see pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS */
#define pkcs11configLABEL_CMAC_KEY "CMAC Key"
/** @see pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS */
#define pkcs11configLABEL_CLAIM_PRIVATE_KEY "Claim Key"
/** @see pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS */
#define pkcs11configLABEL_CLAIM_CERTIFICATE "Claim Cert"
/** @see pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS */
#define pkcs11configLABEL_JITP_CERTIFICATE "JITP Cert"
/** @see pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS */
#define pkcs11configLABEL_ROOT_CERTIFICATE "Root Cert"

#endif
