/*
 * Suite "pkcs11_session_objects": the session-object rules that need more
 * than one session or process (the per-class rows are in
 * pkcs11_conformance).  v2.40 4.4: "Only the application that created a
 * session object has access to it"; a session object is destroyed when
 * its session closes; handles (v2.40 2.x, object handles) of live objects
 * are distinct.
 */
#include "tests/support/test_pkcs11.h"
#include "src/pkcs11/token.h" /* LWSS_P11_MAX_SESSION_OBJECTS, lwss_p11_sessobj_count */

#include <check.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static CK_BBOOL no = CK_FALSE;

/* A data object; @p token: CKA_TOKEN. */
static CK_RV make_data(CK_SESSION_HANDLE s, const char *label, int token, CK_OBJECT_HANDLE *h)
{
    CK_OBJECT_CLASS cls = CKO_DATA;
    CK_BBOOL tok = token ? CK_TRUE : CK_FALSE;
    CK_ATTRIBUTE t[] = {{CKA_CLASS, &cls, sizeof(cls)},
                        {CKA_TOKEN, &tok, 1},
                        {CKA_LABEL, (void *)label, strlen(label)},
                        {CKA_VALUE, "v", 1}};
    return C_CreateObject(s, t, 4, h);
}

static CK_ULONG count_session_objects(CK_SESSION_HANDLE s)
{
    CK_ATTRIBUTE t = {CKA_TOKEN, &no, 1};
    CK_OBJECT_HANDLE h[LWSS_P11_MAX_SESSION_OBJECTS + 1];
    CK_ULONG n = 0;
    ck_assert_int_eq(C_FindObjectsInit(s, &t, 1), CKR_OK);
    ck_assert_int_eq(C_FindObjects(s, h, LWSS_P11_MAX_SESSION_OBJECTS + 1, &n), CKR_OK);
    ck_assert_int_eq(C_FindObjectsFinal(s), CKR_OK);
    return n;
}

/* v2.40 4.4: only the application that made a session object sees it.
 * Another process never shares the token's memory; a forked child does get
 * a copy of it, and its C_Initialize (a new application, v2.40 5.4) must
 * drop that copy, wiped, without touching the parent's objects. */
START_TEST(session_object_not_inherited_by_forked_child)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    CK_OBJECT_HANDLE tok = 0, mine = 0;
    ck_assert_int_eq(make_data(s, "shared", 1, &tok), CKR_OK);
    ck_assert_int_eq(make_data(s, "mine", 0, &mine), CKR_OK);
    ck_assert_uint_eq(lwss_p11_sessobj_count(), 1);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int bad = lwss_p11_sessobj_count() != 1; /* the copy fork() made */
        bad |= C_Initialize(NULL) != CKR_OK;
        bad |= lwss_p11_sessobj_count() != 0;
        bad |= C_Finalize(NULL) != CKR_OK;
        _exit(bad ? 2 : 0);
    }
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status 0x%x", st);
    ck_assert_uint_eq(lwss_p11t_find(s, "mine", CKO_DATA, NULL, 0), 1); /* still the parent's */
    ck_assert_uint_eq(lwss_p11t_find(s, "shared", CKO_DATA, NULL, 0), 1);
}
END_TEST

/* v2.40 4.4: a session object belongs to its session: closing another
 * session of the same application leaves it; closing its own destroys it. */
START_TEST(session_object_lives_with_its_session)
{
    CK_SESSION_HANDLE a = lwss_p11t_session();
    CK_SESSION_HANDLE b = lwss_p11t_session();
    CK_OBJECT_HANDLE ha = 0, hb = 0;
    ck_assert_int_eq(make_data(a, "of-a", 0, &ha), CKR_OK);
    ck_assert_int_eq(make_data(b, "of-b", 0, &hb), CKR_OK);
    ck_assert_uint_eq(count_session_objects(a), 2); /* every session of the application sees both */
    ck_assert_int_eq(C_CloseSession(b), CKR_OK);
    ck_assert_uint_eq(count_session_objects(a), 1);
    CK_OBJECT_CLASS cls = 0;
    CK_ATTRIBUTE q = {CKA_CLASS, &cls, sizeof(cls)};
    ck_assert_int_eq(C_GetAttributeValue(a, hb, &q, 1), CKR_OBJECT_HANDLE_INVALID);
    ck_assert_int_eq(C_GetAttributeValue(a, ha, &q, 1), CKR_OK);
    ck_assert_uint_eq(cls, CKO_DATA);
}
END_TEST

/* Handles of live objects are distinct (token and session objects alike);
 * a full table answers CKR_HOST_MEMORY and nothing else changes; a destroyed
 * session object's handle is not reissued to the next one. */
START_TEST(session_object_handles_distinct_and_bounded)
{
    CK_SESSION_HANDLE s = lwss_p11t_session();
    static CK_OBJECT_HANDLE h[LWSS_P11_MAX_SESSION_OBJECTS + 2];
    ck_assert_int_eq(make_data(s, "tok", 1, &h[0]), CKR_OK);
    for (int i = 1; i <= LWSS_P11_MAX_SESSION_OBJECTS; i++) {
        ck_assert_int_eq(make_data(s, "s", 0, &h[i]), CKR_OK);
    }
    CK_OBJECT_HANDLE extra = 0;
    ck_assert_int_eq(make_data(s, "s", 0, &extra), CKR_HOST_MEMORY);
    for (int i = 0; i <= LWSS_P11_MAX_SESSION_OBJECTS; i++) {
        for (int j = i + 1; j <= LWSS_P11_MAX_SESSION_OBJECTS; j++) {
            ck_assert(h[i] != h[j]);
        }
    }
    ck_assert_uint_eq(count_session_objects(s), LWSS_P11_MAX_SESSION_OBJECTS);
    ck_assert_int_eq(C_DestroyObject(s, h[5]), CKR_OK);
    ck_assert_int_eq(make_data(s, "s", 0, &extra), CKR_OK);
    ck_assert(extra != h[5]);
    ck_assert_int_eq(C_DestroyObject(s, h[5]), CKR_OBJECT_HANDLE_INVALID);
}
END_TEST

Suite *pkcs11_session_objects_suite(void);

Suite *pkcs11_session_objects_suite(void)
{
    Suite *su = suite_create("pkcs11_session_objects");
    TCase *tc = tcase_create("session_objects");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, session_object_not_inherited_by_forked_child);
    tcase_add_test(tc, session_object_lives_with_its_session);
    tcase_add_test(tc, session_object_handles_distinct_and_bounded);
    suite_add_tcase(su, tc);
    return su;
}
