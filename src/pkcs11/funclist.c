/*
 * The function list, and every C_* entry the token does not implement:
 * a standard client finds no NULL entry, only CKR_FUNCTION_NOT_SUPPORTED
 * (C_GetFunctionStatus / C_CancelFunction return CKR_FUNCTION_NOT_PARALLEL,
 * which is what PKCS #11 v2.40 prescribes for these legacy calls).
 */
#include "src/pkcs11/token.h"

/* The unsupported entries ignore every argument: they only say so. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

#define NOT_SUPPORTED { return CKR_FUNCTION_NOT_SUPPORTED; }

CK_RV C_GetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR st, CK_ULONG_PTR len) NOT_SUPPORTED
CK_RV C_SetOperationState(CK_SESSION_HANDLE h, CK_BYTE_PTR st, CK_ULONG len, CK_OBJECT_HANDLE ek,
                          CK_OBJECT_HANDLE ak) NOT_SUPPORTED
CK_RV C_DigestKey(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE k) NOT_SUPPORTED
CK_RV C_SignRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k) NOT_SUPPORTED
CK_RV C_SignRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                    CK_ULONG_PTR out_len) NOT_SUPPORTED
CK_RV C_VerifyRecoverInit(CK_SESSION_HANDLE h, CK_MECHANISM_PTR m,
                          CK_OBJECT_HANDLE k) NOT_SUPPORTED
CK_RV C_VerifyRecover(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                      CK_ULONG_PTR out_len) NOT_SUPPORTED
CK_RV C_DigestEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                            CK_ULONG_PTR out_len) NOT_SUPPORTED
CK_RV C_DecryptDigestUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                            CK_ULONG_PTR out_len) NOT_SUPPORTED
CK_RV C_SignEncryptUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                          CK_ULONG_PTR out_len) NOT_SUPPORTED
CK_RV C_DecryptVerifyUpdate(CK_SESSION_HANDLE h, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out,
                            CK_ULONG_PTR out_len) NOT_SUPPORTED
CK_RV C_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR rsv) NOT_SUPPORTED

CK_RV C_GetFunctionStatus(CK_SESSION_HANDLE h)
{
    return CKR_FUNCTION_NOT_PARALLEL;
}

CK_RV C_CancelFunction(CK_SESSION_HANDLE h)
{
    return CKR_FUNCTION_NOT_PARALLEL;
}

static CK_FUNCTION_LIST g_function_list = {
    .version = {2, 40},
    .C_Initialize = C_Initialize, .C_Finalize = C_Finalize, .C_GetInfo = C_GetInfo,
    .C_GetFunctionList = C_GetFunctionList, .C_GetSlotList = C_GetSlotList,
    .C_GetSlotInfo = C_GetSlotInfo, .C_GetTokenInfo = C_GetTokenInfo,
    .C_GetMechanismList = C_GetMechanismList, .C_GetMechanismInfo = C_GetMechanismInfo,
    .C_InitToken = C_InitToken, .C_InitPIN = C_InitPIN, .C_SetPIN = C_SetPIN,
    .C_OpenSession = C_OpenSession, .C_CloseSession = C_CloseSession,
    .C_CloseAllSessions = C_CloseAllSessions, .C_GetSessionInfo = C_GetSessionInfo,
    .C_GetOperationState = C_GetOperationState, .C_SetOperationState = C_SetOperationState,
    .C_Login = C_Login, .C_Logout = C_Logout, .C_CreateObject = C_CreateObject,
    .C_CopyObject = C_CopyObject, .C_DestroyObject = C_DestroyObject,
    .C_GetObjectSize = C_GetObjectSize, .C_GetAttributeValue = C_GetAttributeValue,
    .C_SetAttributeValue = C_SetAttributeValue, .C_FindObjectsInit = C_FindObjectsInit,
    .C_FindObjects = C_FindObjects, .C_FindObjectsFinal = C_FindObjectsFinal,
    .C_EncryptInit = C_EncryptInit, .C_Encrypt = C_Encrypt, .C_EncryptUpdate = C_EncryptUpdate,
    .C_EncryptFinal = C_EncryptFinal, .C_DecryptInit = C_DecryptInit, .C_Decrypt = C_Decrypt,
    .C_DecryptUpdate = C_DecryptUpdate, .C_DecryptFinal = C_DecryptFinal,
    .C_DigestInit = C_DigestInit, .C_Digest = C_Digest, .C_DigestUpdate = C_DigestUpdate,
    .C_DigestKey = C_DigestKey, .C_DigestFinal = C_DigestFinal, .C_SignInit = C_SignInit,
    .C_Sign = C_Sign, .C_SignUpdate = C_SignUpdate, .C_SignFinal = C_SignFinal,
    .C_SignRecoverInit = C_SignRecoverInit, .C_SignRecover = C_SignRecover,
    .C_VerifyInit = C_VerifyInit, .C_Verify = C_Verify, .C_VerifyUpdate = C_VerifyUpdate,
    .C_VerifyFinal = C_VerifyFinal, .C_VerifyRecoverInit = C_VerifyRecoverInit,
    .C_VerifyRecover = C_VerifyRecover, .C_DigestEncryptUpdate = C_DigestEncryptUpdate,
    .C_DecryptDigestUpdate = C_DecryptDigestUpdate, .C_SignEncryptUpdate = C_SignEncryptUpdate,
    .C_DecryptVerifyUpdate = C_DecryptVerifyUpdate, .C_GenerateKey = C_GenerateKey,
    .C_GenerateKeyPair = C_GenerateKeyPair, .C_WrapKey = C_WrapKey, .C_UnwrapKey = C_UnwrapKey,
    .C_DeriveKey = C_DeriveKey, .C_SeedRandom = C_SeedRandom,
    .C_GenerateRandom = C_GenerateRandom, .C_GetFunctionStatus = C_GetFunctionStatus,
    .C_CancelFunction = C_CancelFunction, .C_WaitForSlotEvent = C_WaitForSlotEvent,
};

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
    if (ppFunctionList == NULL) {
        return CKR_ARGUMENTS_BAD;
    }
    *ppFunctionList = &g_function_list;
    return CKR_OK;
}
