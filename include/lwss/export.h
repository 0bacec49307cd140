/**
 * @file lwss/export.h
 * @brief LWSS_API: the mark on every function liblwss.so exports.
 *
 * The library is compiled with -fvisibility=hidden, so a function is visible
 * to applications only when a public header declares it with LWSS_API (the
 * PKCS #11 C_* functions are made visible in lwss/pkcs11_std.h).  `make test`
 * checks that the exported set equals what include/ declares.
 */
#ifndef LWSS_EXPORT_H
#define LWSS_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
/** Default visibility: the declaration is part of the shared library's API. */
#define LWSS_API __attribute__((visibility("default")))
#else
/** Compilers without visibility control export everything. */
#define LWSS_API
#endif

#endif
