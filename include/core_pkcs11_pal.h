/**
 * @file core_pkcs11_pal.h
 * @brief The PKCS #11 PAL: the storage seam of the token, with the exact
 *        signatures of FreeRTOS corePKCS11.  lwss implements it over the NVM
 *        image of lwss/nvm.h.
 *
 * The label-only calls store objects of the reference labels with their
 * natural class; any other label is stored as CKO_DATA.
 */
#ifndef CORE_PKCS11_PAL_H
#define CORE_PKCS11_PAL_H

#include "lwss/pkcs11_std.h"
#include "lwss/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Open the NVM image.  @return CKR_OK, CKR_DEVICE_ERROR (detail in lwss_last_error()). */
LWSS_API CK_RV PKCS11_PAL_Initialize(void);

/**
 * Store or replace the object named by @p pxLabel (CKA_LABEL attribute).
 * @return non-zero handle, or CK_INVALID_HANDLE (0) on failure.
 */
LWSS_API CK_OBJECT_HANDLE PKCS11_PAL_SaveObject(CK_ATTRIBUTE_PTR pxLabel, CK_BYTE_PTR pucData,
                                       CK_ULONG ulDataSize);

/** Handle of the object with exactly this label, or CK_INVALID_HANDLE. */
LWSS_API CK_OBJECT_HANDLE PKCS11_PAL_FindObject(CK_BYTE_PTR pxLabel, CK_ULONG usLength);

/**
 * Value of @p xHandle (heap copy), its size and whether it is private.
 * @return CKR_OK, CKR_OBJECT_HANDLE_INVALID, CKR_ARGUMENTS_BAD, CKR_HOST_MEMORY,
 *         CKR_DEVICE_ERROR (the store could not be opened or read).
 */
LWSS_API CK_RV PKCS11_PAL_GetObjectValue(CK_OBJECT_HANDLE xHandle, CK_BYTE_PTR *ppucData,
                                CK_ULONG_PTR pulDataSize, CK_BBOOL *pIsPrivate);

/** Zeroize and free what PKCS11_PAL_GetObjectValue() returned. */
LWSS_API void PKCS11_PAL_GetObjectValueCleanup(CK_BYTE_PTR pucData, CK_ULONG ulDataSize);

/**
 * Remove the object; CKR_OK if it is already gone.
 * @return CKR_OK, CKR_OBJECT_HANDLE_INVALID, CKR_DEVICE_MEMORY (no room to
 *         record the removal), CKR_DEVICE_ERROR.
 */
LWSS_API CK_RV PKCS11_PAL_DestroyObject(CK_OBJECT_HANDLE xHandle);

#ifdef __cplusplus
}
#endif

#endif
