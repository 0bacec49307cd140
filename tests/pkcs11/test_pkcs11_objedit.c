/*
 * Suite "pkcs11_objedit": C_SetAttributeValue, C_CopyObject and
 * C_GetObjectSize (PKCS #11 v2.40 5.7, attribute rules of 4.1.2, 4.4,
 * 4.9, 4.10), and power-loss safety of token object edits.
 */
#include "tests/support/test_pkcs11.h"
#include "pal/flash.h" /* power-cut hooks (test builds) */

#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;

static CK_OBJECT_HANDLE make_data(CK_SESSION_HANDLE s, const char *label, int token,
                                  const char *value)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL tok = token ? CK_TRUE : CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_TOKEN, &tok, 1},
                        {CKA_LABEL, (void *)label, strlen(label)},
                        {CKA_VALUE, (void *)value, strlen(value)}};
    CK_OBJECT_HANDLE h = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_CreateObject(s, t, 4, &h), CKR_OK);
    return h;
}

/* A secret key (CKA_VALUE 32 bytes); extra attributes appended. */
static CK_RV make_secret(CK_SESSION_HANDLE s, const char *label, int token, CK_ATTRIBUTE *extra,
                         CK_ULONG n_extra, CK_OBJECT_HANDLE *h)
{
    static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
    CK_KEY_TYPE kt = CKK_GENERIC_SECRET;
    CK_BBOOL tok = token ? CK_TRUE : CK_FALSE;
    CK_ATTRIBUTE t[12] = {{CKA_CLASS, &cls, sizeof(cls)},
                          {CKA_KEY_TYPE, &kt, sizeof(kt)},
                          {CKA_TOKEN, &tok, 1},
                          {CKA_LABEL, (void *)label, strlen(label)},
                          {CKA_VALUE, (void *)key, sizeof(key)}};
    ck_assert_uint_le(n_extra, 7);
    for (CK_ULONG i = 0; i < n_extra; i++) {
        t[5 + i] = extra[i];
    }
    return C_CreateObject(s, t, 5 + n_extra, h);
}

static CK_BBOOL get_bool(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type)
{
    CK_BBOOL b = 0xAA;
    CK_ATTRIBUTE a = {type, &b, 1};
    ck_assert_int_eq(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    ck_assert(b == CK_TRUE || b == CK_FALSE);
    return b;
}

static void assert_label(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, const char *want)
{
    char buf[64] = {0};
    CK_ATTRIBUTE a = {CKA_LABEL, buf, sizeof(buf) - 1};
    ck_assert_int_eq(C_GetAttributeValue(s, h, &a, 1), CKR_OK);
    ck_assert_uint_eq(a.ulValueLen, strlen(want));
    ck_assert_str_eq(buf, want);
}

static CK_RV set1(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE_TYPE type, void *v,
                  CK_ULONG len)
{
    CK_ATTRIBUTE a = {type, v, len};
    return C_SetAttributeValue(s, h, &a, 1);
}

/* v2.40 5.7 C_SetAttributeValue: CKA_LABEL and CKA_ID change, the object
 * keeps its handle, the change survives a restart; usage attributes are
 * enforced at the next *Init (CKR_KEY_FUNCTION_NOT_PERMITTED). */
START_TEST(set_label_id_usage_token_key)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE priv = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem,
                                                 LWSS_PKCS11_PRIVATE);
    ck_assert_int_eq(set1(s, priv, CKA_LABEL, "ec-renamed", 10), CKR_OK);
    assert_label(s, priv, "ec-renamed"); /* the old handle still names it */
    ck_assert_uint_eq(lwss_p11t_find(s, "ec", CKO_PRIVATE_KEY, NULL, 0), 0);
    CK_OBJECT_HANDLE found = 0;
    ck_assert_uint_eq(lwss_p11t_find(s, "ec-renamed", CKO_PRIVATE_KEY, &found, 1), 1);
    ck_assert_int_eq(set1(s, priv, CKA_ID, "\x01\x02", 2), CKR_OK);
    uint8_t id[8];
    CK_ATTRIBUTE a = {CKA_ID, id, sizeof(id)};
    ck_assert_int_eq(C_GetAttributeValue(s, found, &a, 1), CKR_OK);
    ck_assert_uint_eq(a.ulValueLen, 2);
    ck_assert_mem_eq(id, "\x01\x02", 2);

    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    ck_assert_int_eq(set1(s, priv, CKA_SIGN, &no, 1), CKR_OK);
    ck_assert_int_eq(get_bool(s, priv, CKA_SIGN), CK_FALSE);
    ck_assert_int_eq(C_SignInit(s, &mech, priv), CKR_KEY_FUNCTION_NOT_PERMITTED);
    ck_assert_int_eq(set1(s, priv, CKA_SIGN, &yes, 1), CKR_OK);
    ck_assert_int_eq(C_SignInit(s, &mech, priv), CKR_OK);
    uint8_t hash[32] = {0}, sig[64];
    CK_ULONG sig_len = sizeof(sig);
    ck_assert_int_eq(C_Sign(s, hash, 32, sig, &sig_len), CKR_OK);

    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
    s = lwss_p11t_session();
    ck_assert_uint_eq(lwss_p11t_find(s, "ec-renamed", CKO_PRIVATE_KEY, &found, 1), 1);
    ck_assert_uint_eq(lwss_p11t_find(s, "ec", CKO_PRIVATE_KEY, NULL, 0), 0);
    a.ulValueLen = sizeof(id);
    ck_assert_int_eq(C_GetAttributeValue(s, found, &a, 1), CKR_OK);
    ck_assert_uint_eq(a.ulValueLen, 2);
}
END_TEST

/* v2.40 4.9 / 4.10 footnote 11: CKA_SENSITIVE may only become TRUE and
 * CKA_EXTRACTABLE only FALSE; the other way is CKR_ATTRIBUTE_READ_ONLY.
 * v2.40 4.1.2: attributes the token sets (CKA_CLASS, CKA_LOCAL, CKA_TOKEN,
 * CKA_VALUE, ...) are CKR_ATTRIBUTE_READ_ONLY; attributes the object does
 * not have are CKR_ATTRIBUTE_TYPE_INVALID; a malformed value is
 * CKR_ATTRIBUTE_VALUE_INVALID; nothing changes on any of them. */
START_TEST(set_read_only_and_invalid)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_ATTRIBUTE extractable = {CKA_EXTRACTABLE, &yes, 1};
    CK_OBJECT_HANDLE k = 0;
    ck_assert_int_eq(make_secret(s, "sec", 1, &extractable, 1, &k), CKR_OK);
    ck_assert_int_eq(set1(s, k, CKA_SENSITIVE, &no, 1), CKR_ATTRIBUTE_READ_ONLY);
    ck_assert_int_eq(set1(s, k, CKA_SENSITIVE, &yes, 1), CKR_OK); /* TRUE stays TRUE */
    ck_assert_int_eq(set1(s, k, CKA_EXTRACTABLE, &no, 1), CKR_OK);
    ck_assert_int_eq(get_bool(s, k, CKA_EXTRACTABLE), CK_FALSE);
    ck_assert_int_eq(get_bool(s, k, CKA_NEVER_EXTRACTABLE), CK_FALSE); /* it was extractable */
    ck_assert_int_eq(set1(s, k, CKA_EXTRACTABLE, &yes, 1), CKR_ATTRIBUTE_READ_ONLY);
    CK_OBJECT_CLASS cls = CKO_DATA;
    ck_assert_int_eq(set1(s, k, CKA_CLASS, &cls, sizeof(cls)), CKR_ATTRIBUTE_READ_ONLY);
    ck_assert_int_eq(set1(s, k, CKA_LOCAL, &yes, 1), CKR_ATTRIBUTE_READ_ONLY);
    ck_assert_int_eq(set1(s, k, CKA_ALWAYS_SENSITIVE, &no, 1), CKR_ATTRIBUTE_READ_ONLY);
    ck_assert_int_eq(set1(s, k, CKA_TOKEN, &no, 1), CKR_ATTRIBUTE_READ_ONLY);
    ck_assert_int_eq(set1(s, k, CKA_PRIVATE, &no, 1), CKR_ATTRIBUTE_READ_ONLY);
    ck_assert_int_eq(set1(s, k, CKA_MODIFIABLE, &no, 1), CKR_ATTRIBUTE_READ_ONLY);
    ck_assert_int_eq(set1(s, k, CKA_VALUE, "x", 1), CKR_ATTRIBUTE_READ_ONLY);
    ck_assert_int_eq(set1(s, k, CKA_MODULUS, "x", 1), CKR_ATTRIBUTE_TYPE_INVALID);
    CK_ULONG four = 4;
    ck_assert_int_eq(set1(s, k, CKA_SIGN, &four, sizeof(four)), CKR_ATTRIBUTE_VALUE_INVALID);
    ck_assert_int_eq(set1(s, k, CKA_LABEL, "", 0), CKR_ATTRIBUTE_VALUE_INVALID);
    ck_assert_int_eq(set1(s, k, CKA_LABEL, NULL, 3), CKR_ATTRIBUTE_VALUE_INVALID);
    /* all or nothing: a bad entry after a good one changes nothing */
    CK_ATTRIBUTE two[] = {{CKA_LABEL, "other", 5}, {CKA_SENSITIVE, &no, 1}};
    ck_assert_int_eq(C_SetAttributeValue(s, k, two, 2), CKR_ATTRIBUTE_READ_ONLY);
    assert_label(s, k, "sec");

    /* a public key has no CKA_SIGN: TRUE is CKR_ATTRIBUTE_TYPE_INVALID */
    CK_OBJECT_HANDLE pub = lwss_p11t_import_key(s, "ecp", lwss_p11t_ec_key_pem,
                                                LWSS_PKCS11_PUBLIC);
    ck_assert_int_eq(set1(s, pub, CKA_SIGN, &yes, 1), CKR_ATTRIBUTE_TYPE_INVALID);
    ck_assert_int_eq(set1(s, pub, CKA_VERIFY, &no, 1), CKR_OK);
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    ck_assert_int_eq(C_VerifyInit(s, &mech, pub), CKR_KEY_FUNCTION_NOT_PERMITTED);
    /* informational key attributes are accepted and not kept, as at creation
     * (pkcs11-tool --test-ec sets CKA_SUBJECT on a public key) */
    ck_assert_int_eq(set1(s, pub, CKA_SUBJECT, "subject", 7), CKR_OK);
    uint8_t subj[16];
    CK_ATTRIBUTE sq = {CKA_SUBJECT, subj, sizeof(subj)};
    ck_assert_int_eq(C_GetAttributeValue(s, pub, &sq, 1), CKR_OK);
    ck_assert_uint_eq(sq.ulValueLen, 0);
    /* a data object has no CKA_ID */
    CK_OBJECT_HANDLE d = make_data(s, "d", 1, "v");
    ck_assert_int_eq(set1(s, d, CKA_ID, "i", 1), CKR_ATTRIBUTE_TYPE_INVALID);
    ck_assert_int_eq(set1(s, d, CKA_LABEL, "d2", 2), CKR_OK);
}
END_TEST

/* v2.40 5.7: "Only session objects can be modified during a read-only
 * session" (CKR_SESSION_READ_ONLY); unknown handles are
 * CKR_OBJECT_HANDLE_INVALID, bad sessions CKR_SESSION_HANDLE_INVALID,
 * a NULL template with a count CKR_ARGUMENTS_BAD; a label another token
 * object of the class holds is refused (CKR_TEMPLATE_INCONSISTENT: the
 * token names its objects by label and class), the other object untouched. */
START_TEST(set_session_rules)
{
    CK_SESSION_HANDLE rw = lwss_p11t_session();
    CK_SESSION_HANDLE ro = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    CK_OBJECT_HANDLE tok = make_data(rw, "tok", 1, "t");
    CK_OBJECT_HANDLE other = make_data(rw, "other", 1, "o");
    CK_OBJECT_HANDLE ses = make_data(ro, "ses", 0, "s");
    ck_assert_int_eq(set1(ro, tok, CKA_LABEL, "x", 1), CKR_SESSION_READ_ONLY);
    ck_assert_int_eq(set1(ro, ses, CKA_LABEL, "ses2", 4), CKR_OK);
    assert_label(ro, ses, "ses2");
    ck_assert_uint_eq(lwss_p11t_find(ro, "ses2", CKO_DATA, NULL, 0), 1);
    ck_assert_int_eq(set1(rw, 0x7777, CKA_LABEL, "x", 1), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_int_eq(set1(0x4242, tok, CKA_LABEL, "x", 1), CKR_SESSION_HANDLE_INVALID);
    ck_assert_int_eq(C_SetAttributeValue(rw, tok, NULL, 1), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(set1(rw, tok, CKA_LABEL, "other", 5), CKR_TEMPLATE_INCONSISTENT);
    assert_label(rw, other, "other");
    assert_label(rw, tok, "tok");
}
END_TEST

/* A relabelled token object keeps answering through its old handle
 * (several relabels too); destroyed through it, both handles are invalid.
 * The store names objects by (label, class): once a new object takes the
 * old label, the old handle names that new object (documented). */
START_TEST(set_label_handles_stay_consistent)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE a = make_data(s, "a", 1, "first");
    ck_assert_int_eq(set1(s, a, CKA_LABEL, "b", 1), CKR_OK);
    ck_assert_int_eq(set1(s, a, CKA_LABEL, "c", 1), CKR_OK);
    assert_label(s, a, "c");
    CK_OBJECT_HANDLE c = 0;
    ck_assert_uint_eq(lwss_p11t_find(s, "c", CKO_DATA, &c, 1), 1);
    ck_assert_int_eq(C_DestroyObject(s, a), CKR_OK);
    CK_OBJECT_CLASS cls = 0;
    CK_ATTRIBUTE q = {CKA_CLASS, &cls, sizeof(cls)};
    ck_assert_int_eq(C_GetAttributeValue(s, a, &q, 1), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_int_eq(C_GetAttributeValue(s, c, &q, 1), CKR_OBJECT_HANDLE_INVALID);
    /* a new "c" is not reached through the destroyed object's old handle */
    CK_OBJECT_HANDLE c2 = make_data(s, "c", 1, "second");
    assert_label(s, c2, "c");
    ck_assert_int_eq(C_GetAttributeValue(s, a, &q, 1), CKR_OBJECT_HANDLE_INVALID);
    /* relabel, then the old label taken again: the old handle is the new object's */
    CK_OBJECT_HANDLE x = make_data(s, "x", 1, "third");
    ck_assert_int_eq(set1(s, x, CKA_LABEL, "y", 1), CKR_OK);
    CK_OBJECT_HANDLE x2 = make_data(s, "x", 1, "fourth");
    ck_assert_uint_eq(x2, x);
    assert_label(s, x, "x");
    CK_OBJECT_HANDLE y = 0;
    ck_assert_uint_eq(lwss_p11t_find(s, "y", CKO_DATA, &y, 1), 1);
    assert_label(s, y, "y");
}
END_TEST

/* v2.40 4.4: CKA_MODIFIABLE FALSE -> C_SetAttributeValue is
 * CKR_ACTION_PROHIBITED; CKA_COPYABLE FALSE -> C_CopyObject is
 * CKR_ACTION_PROHIBITED; both read back as given. */
START_TEST(modifiable_and_copyable_false)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_ATTRIBUTE ro[] = {{CKA_MODIFIABLE, &no, 1}, {CKA_COPYABLE, &no, 1}};
    CK_OBJECT_HANDLE k = 0, copy = 0;
    ck_assert_int_eq(make_secret(s, "fixed", 1, ro, 2, &k), CKR_OK);
    ck_assert_int_eq(get_bool(s, k, CKA_MODIFIABLE), CK_FALSE);
    ck_assert_int_eq(get_bool(s, k, CKA_COPYABLE), CK_FALSE);
    ck_assert_int_eq(set1(s, k, CKA_LABEL, "x", 1), CKR_ACTION_PROHIBITED);
    ck_assert_int_eq(C_CopyObject(s, k, NULL, 0, &copy), CKR_ACTION_PROHIBITED);
    CK_OBJECT_HANDLE k2 = 0;
    ck_assert_int_eq(make_secret(s, "free", 1, NULL, 0, &k2), CKR_OK);
    ck_assert_int_eq(get_bool(s, k2, CKA_MODIFIABLE), CK_TRUE);
    ck_assert_int_eq(get_bool(s, k2, CKA_COPYABLE), CK_TRUE);
}
END_TEST

/* v2.40 5.7 C_CopyObject: the copy has the original's attributes but those
 * the template changes: CKA_TOKEN / CKA_PRIVATE (a token object copied to
 * a session object), CKA_EXTRACTABLE only to FALSE, CKA_SENSITIVE only to
 * TRUE (else CKR_ATTRIBUTE_READ_ONLY), CKA_MODIFIABLE to FALSE; the copy
 * signs like the original. */
START_TEST(copy_object_rules)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE priv = lwss_p11t_import_key(s, "ec", lwss_p11t_ec_key_pem,
                                                 LWSS_PKCS11_PRIVATE);
    CK_OBJECT_HANDLE copy = 0;
    CK_ATTRIBUTE to_session[] = {{CKA_TOKEN, &no, 1}, {CKA_MODIFIABLE, &no, 1}};
    ck_assert_int_eq(C_CopyObject(s, priv, to_session, 2, &copy), CKR_OK);
    ck_assert(copy != priv);
    ck_assert_int_eq(get_bool(s, copy, CKA_TOKEN), CK_FALSE);
    ck_assert_int_eq(get_bool(s, copy, CKA_MODIFIABLE), CK_FALSE);
    ck_assert_int_eq(get_bool(s, priv, CKA_MODIFIABLE), CK_TRUE);
    ck_assert_int_eq(set1(s, copy, CKA_LABEL, "x", 1), CKR_ACTION_PROHIBITED);
    /* the copy signs; the host verifies with the original's public key */
    CK_MECHANISM mech = {CKM_ECDSA, NULL, 0};
    uint8_t hash[32], sig[64], der[80];
    lwss_p11t_sha256("copy", 4, hash);
    CK_ULONG sig_len = sizeof(sig);
    ck_assert_int_eq(C_SignInit(s, &mech, copy), CKR_OK);
    ck_assert_int_eq(C_Sign(s, hash, 32, sig, &sig_len), CKR_OK);
    mbedtls_pk_context pk;
    lwss_p11t_parse_key(lwss_p11t_ec_key_pem, &pk);
    size_t der_len = lwss_p11t_ecdsa_raw_to_der(sig, der, sizeof(der));
    ck_assert_int_eq(mbedtls_pk_verify(&pk, MBEDTLS_MD_SHA256, hash, 32, der, der_len), 0);
    mbedtls_pk_free(&pk);

    CK_ATTRIBUTE lower[] = {{CKA_SENSITIVE, &no, 1}, {CKA_TOKEN, &no, 1}};
    ck_assert_int_eq(C_CopyObject(s, priv, lower, 2, &copy), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE extract[] = {{CKA_EXTRACTABLE, &yes, 1}, {CKA_TOKEN, &no, 1}};
    ck_assert_int_eq(C_CopyObject(s, priv, extract, 2, &copy), CKR_ATTRIBUTE_READ_ONLY);
    CK_ATTRIBUTE pub_flag[] = {{CKA_PRIVATE, &no, 1}, {CKA_TOKEN, &no, 1}};
    ck_assert_int_eq(C_CopyObject(s, priv, pub_flag, 2, &copy), CKR_TEMPLATE_INCONSISTENT);
    ck_assert_int_eq(C_CopyObject(s, priv, NULL, 0, NULL), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_CopyObject(s, 0x7777, NULL, 0, &copy), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_int_eq(C_CopyObject(s, priv, NULL, 1, &copy), CKR_ARGUMENTS_BAD);
}
END_TEST

/* A token copy is a new token object: it needs a label of its own
 * (CKR_TEMPLATE_INCONSISTENT otherwise, the original untouched) and a R/W
 * session (CKR_SESSION_READ_ONLY); a session copy works in a R/O session. */
START_TEST(copy_to_token)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE d = make_data(s, "orig", 1, "payload");
    CK_OBJECT_HANDLE copy = 0;
    ck_assert_int_eq(C_CopyObject(s, d, NULL, 0, &copy), CKR_TEMPLATE_INCONSISTENT);
    CK_ATTRIBUTE named = {CKA_LABEL, "dup", 3};
    ck_assert_int_eq(C_CopyObject(s, d, &named, 1, &copy), CKR_OK);
    char v[16] = {0};
    CK_ATTRIBUTE q = {CKA_VALUE, v, sizeof(v)};
    ck_assert_int_eq(C_GetAttributeValue(s, copy, &q, 1), CKR_OK);
    ck_assert_uint_eq(q.ulValueLen, 7);
    ck_assert_mem_eq(v, "payload", 7);
    ck_assert_int_eq(get_bool(s, copy, CKA_TOKEN), CK_TRUE);
    ck_assert_int_eq(C_DestroyObject(s, copy), CKR_OK);
    assert_label(s, d, "orig"); /* the copy's end is not the original's */

    CK_SESSION_HANDLE ro = CK_INVALID_HANDLE;
    ck_assert_int_eq(C_OpenSession(0, CKF_SERIAL_SESSION, NULL, NULL, &ro), CKR_OK);
    CK_ATTRIBUTE named2 = {CKA_LABEL, "dup2", 4};
    ck_assert_int_eq(C_CopyObject(ro, d, &named2, 1, &copy), CKR_SESSION_READ_ONLY);
    CK_ATTRIBUTE ses = {CKA_TOKEN, &no, 1};
    ck_assert_int_eq(C_CopyObject(ro, d, &ses, 1, &copy), CKR_OK);
    ck_assert_int_eq(get_bool(ro, copy, CKA_TOKEN), CK_FALSE);
    ck_assert_int_eq(C_CopyObject(ro, copy, NULL, 0, &d), CKR_OK); /* session to session */
}
END_TEST

/* v2.40 5.7 C_GetObjectSize: the size of the stored object; invalid
 * handles CKR_OBJECT_HANDLE_INVALID, a NULL size CKR_ARGUMENTS_BAD. */
START_TEST(object_size)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE d = make_data(s, "d", 1, "12345");
    CK_OBJECT_HANDLE e = make_data(s, "e", 0, "1234567890");
    CK_ULONG n = 0;
    ck_assert_int_eq(C_GetObjectSize(s, d, &n), CKR_OK);
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(C_GetObjectSize(s, e, &n), CKR_OK);
    ck_assert_uint_eq(n, 10);
    ck_assert_int_eq(C_GetObjectSize(s, 0x7777, &n), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_int_eq(C_GetObjectSize(s, d, NULL), CKR_ARGUMENTS_BAD);
    ck_assert_int_eq(C_GetObjectSize(0x4242, d, &n), CKR_SESSION_HANDLE_INVALID);
}
END_TEST

/* Power-loss safety: a cut at every program/erase operation of an edit
 * (a relabel: save + destroy in one store group; an ID change: one
 * replace of the record) leaves, after restart, the old object or the
 * edited one - never neither nor both - with its value intact. */
static void write_image(const uint8_t *img, size_t len)
{
    FILE *f = fopen(lwss_p11t_image(), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(img, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* After a restart: 0 when the object is as before the edit, 1 when edited. */
static int edited_state(CK_SESSION_HANDLE s, int relabel)
{
    CK_OBJECT_HANDLE h = 0;
    size_t n_old = lwss_p11t_find(s, "old", relabel ? CKO_DATA : CKO_PUBLIC_KEY, &h, 1);
    if (relabel) {
        size_t n_new = lwss_p11t_find(s, "new", CKO_DATA, n_old ? NULL : &h, 1);
        ck_assert_msg(n_old + n_new == 1, "old %zu new %zu", n_old, n_new);
        char v[32] = {0};
        CK_ATTRIBUTE q = {CKA_VALUE, v, sizeof(v)};
        ck_assert_int_eq(C_GetAttributeValue(s, h, &q, 1), CKR_OK);
        ck_assert_str_eq(v, "the payload");
        return n_new == 1;
    }
    ck_assert_uint_eq(n_old, 1);
    uint8_t id[8], point[80];
    CK_ATTRIBUTE q[] = {{CKA_ID, id, sizeof(id)}, {CKA_EC_POINT, point, sizeof(point)}};
    ck_assert_int_eq(C_GetAttributeValue(s, h, q, 2), CKR_OK);
    ck_assert_uint_eq(q[1].ulValueLen, 67);
    ck_assert(q[0].ulValueLen == 0 || (q[0].ulValueLen == 1 && id[0] == 5));
    return q[0].ulValueLen == 1;
}

static void edit_under_cut(int relabel)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    (void)make_data(s, "keep", 1, "other object");
    if (relabel) {
        (void)make_data(s, "old", 1, "the payload");
    } else {
        (void)lwss_p11t_import_key(s, "old", lwss_p11t_ec_key_pem, LWSS_PKCS11_PUBLIC);
    }
    CK_ATTRIBUTE change = relabel ? (CK_ATTRIBUTE){CKA_LABEL, "new", 3}
                                  : (CK_ATTRIBUTE){CKA_ID, "\x05", 1};
    ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
    size_t img_len = 0;
    uint8_t *img = lwss_p11t_read_file(lwss_p11t_image(), &img_len);
    ck_assert_ptr_nonnull(img);
    uint64_t ops = 0;
    int olds = 0, news = 0;
    for (uint64_t op = 0; op <= ops; op++) {
        for (int pass = 0; pass < 2; pass++) {
            write_image(img, img_len);
            ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
            s = lwss_p11t_session();
            CK_OBJECT_HANDLE d = 0;
            ck_assert_uint_eq(lwss_p11t_find(s, "old", CK_UNAVAILABLE_INFORMATION, &d, 1), 1);
            int counting = op == 0 && pass == 0;
            lwss_flash_fault_arm(counting ? UINT64_MAX : op - 1, pass ? 7 : 0);
            CK_RV rv = C_SetAttributeValue(s, d, &change, 1);
            if (counting) {
                ops = lwss_flash_fault_ops();
                ck_assert_int_eq(rv, CKR_OK);
            }
            lwss_flash_fault_disarm();
            (void)C_Finalize(NULL);
            ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
            s = lwss_p11t_session();
            int now = edited_state(s, relabel);
            ck_assert_uint_eq(lwss_p11t_find(s, "keep", CKO_DATA, NULL, 0), 1);
            olds += !now;
            news += now;
            ck_assert_int_eq(C_Finalize(NULL), CKR_OK);
            if (counting) {
                break;
            }
        }
    }
    free(img);
    ck_assert_uint_ge(ops, 1);
    ck_assert_int_gt(olds, 0);
    ck_assert_int_gt(news, 0);
    ck_assert_int_eq(C_Initialize(NULL), CKR_OK);
}

START_TEST(relabel_power_cut)
{
    edit_under_cut(1);
}
END_TEST

START_TEST(replace_power_cut)
{
    edit_under_cut(0);
}
END_TEST

/* One thread relabels a token key back and forth while another reads its
 * label and signs with it through the handle it had from the start: every
 * call succeeds (a relabel is atomic to other threads: old record and old
 * handle up to the commit, the new record through the alias after it). */
typedef struct relabel_ctx {
    CK_OBJECT_HANDLE key;
    int rounds;
    atomic_int done;
    int failures;
} relabel_ctx;

static void *relabel_thread(void *arg)
{
    relabel_ctx *c = arg;
    CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
    if (C_OpenSession(0, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s) != CKR_OK) {
        c->failures++;
    }
    for (int i = 0; i < c->rounds && s != CK_INVALID_HANDLE; i++) {
        CK_ATTRIBUTE a = {CKA_LABEL, (i & 1) ? "key-x" : "key-y", 5};
        c->failures += C_SetAttributeValue(s, c->key, &a, 1) != CKR_OK;
    }
    atomic_store(&c->done, 1);
    return NULL;
}

START_TEST(relabel_while_signing)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    relabel_ctx c = {.key = lwss_p11t_import_key(s, "key-x", lwss_p11t_ec_key_pem,
                                                 LWSS_PKCS11_PRIVATE),
                     .rounds = 40};
    atomic_init(&c.done, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, relabel_thread, &c), 0);
    CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
    uint8_t hash[32] = {1}, sig[64];
    int reads = 0;
    for (int i = 0; i < 100000 && (!atomic_load(&c.done) || reads < 4); i++, reads++) {
        char label[8] = {0};
        CK_ATTRIBUTE q = {CKA_LABEL, label, sizeof(label) - 1};
        ck_assert_int_eq(C_GetAttributeValue(s, c.key, &q, 1), CKR_OK);
        ck_assert(strcmp(label, "key-x") == 0 || strcmp(label, "key-y") == 0);
        CK_ULONG len = sizeof(sig);
        ck_assert_int_eq(C_SignInit(s, &m, c.key), CKR_OK);
        ck_assert_int_eq(C_Sign(s, hash, sizeof(hash), sig, &len), CKR_OK);
    }
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(c.failures, 0);
    ck_assert(atomic_load(&c.done));
    ck_assert_uint_eq(lwss_p11t_find(s, "key-x", CKO_PRIVATE_KEY, NULL, 0) +
                          lwss_p11t_find(s, "key-y", CKO_PRIVATE_KEY, NULL, 0),
                      1);
}
END_TEST

Suite *pkcs11_objedit_suite(void);

Suite *pkcs11_objedit_suite(void)
{
    Suite *su = suite_create("pkcs11_objedit");
    TCase *tc = tcase_create("objedit");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, set_label_id_usage_token_key);
    tcase_add_test(tc, set_read_only_and_invalid);
    tcase_add_test(tc, set_session_rules);
    tcase_add_test(tc, set_label_handles_stay_consistent);
    tcase_add_test(tc, modifiable_and_copyable_false);
    tcase_add_test(tc, copy_object_rules);
    tcase_add_test(tc, copy_to_token);
    tcase_add_test(tc, object_size);
    tcase_add_test(tc, relabel_while_signing);
    tcase_add_test(tc, relabel_power_cut);
    tcase_add_test(tc, replace_power_cut);
    suite_add_tcase(su, tc);
    return su;
}
