/*
 * Suite "pkcs11_mechanism_table": the mechanisms x functions table of
 * src/pkcs11/README.md is what C_GetMechanismInfo says (v2.40 5.5
 * CK_MECHANISM_INFO flags), both ways: every row's functions are exactly
 * the token's flags for each mechanism named in it, and every mechanism
 * of C_GetMechanismList has a row.  Names are resolved through the
 * standard header the token is built with (p11-kit's pkcs11.h).
 */
#include "tests/support/test_pkcs11.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define README "src/pkcs11/README.md"
#define HEADER "/usr/include/p11-kit-1/p11-kit/pkcs11.h"
#define MAX_ROWS 128

/* The function groups of the table's columns, in column order. */
static const CK_FLAGS g_columns[] = {
    0, /* generate: CKF_GENERATE, or CKF_GENERATE_KEY_PAIR for "pair" */
    CKF_ENCRYPT | CKF_DECRYPT,
    CKF_SIGN | CKF_VERIFY,
    CKF_WRAP | CKF_UNWRAP,
    CKF_DIGEST,
};
#define GROUPS (CKF_GENERATE | CKF_GENERATE_KEY_PAIR | CKF_ENCRYPT | CKF_DECRYPT | CKF_SIGN | \
                CKF_VERIFY | CKF_WRAP | CKF_UNWRAP | CKF_DIGEST)

/* CKM_ value of @p name from the header; asserts it is defined there. */
static CK_MECHANISM_TYPE mech_value(const char *name)
{
    FILE *f = fopen(HEADER, "r");
    ck_assert_msg(f != NULL, "cannot read %s", HEADER);
    char line[256];
    char want[100];
    snprintf(want, sizeof(want), "#define %s", name);
    size_t wl = strlen(want);
    unsigned long v = 0;
    int found = 0;
    while (!found && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, want, wl) == 0 && (line[wl] == ' ' || line[wl] == '\t')) {
            char *p = strchr(line + wl, '(');
            ck_assert_ptr_nonnull(p);
            v = strtoul(p + 1, NULL, 0);
            found = 1;
        }
    }
    fclose(f);
    ck_assert_msg(found, "README names %s, which %s does not define", name, HEADER);
    return v;
}

/* The flags a table row says, from its function cells. */
static CK_FLAGS row_flags(char **cells)
{
    CK_FLAGS f = 0;
    for (size_t c = 0; c < sizeof(g_columns) / sizeof(g_columns[0]); c++) {
        const char *cell = cells[c];
        while (*cell == ' ') {
            cell++;
        }
        if (*cell == 0) {
            continue;
        }
        f |= c == 0 ? (strncmp(cell, "pair", 4) == 0 ? CKF_GENERATE_KEY_PAIR : CKF_GENERATE)
                    : g_columns[c];
    }
    return f;
}

/* v2.40 5.5: each row's functions are the C_GetMechanismInfo flags of its
 * mechanisms; every listed mechanism has a row. */
START_TEST(readme_table_matches_mechanism_info)
{
    FILE *f = fopen(README, "r");
    ck_assert_msg(f != NULL, "cannot read %s (run from the source tree)", README);
    static CK_MECHANISM_TYPE seen[MAX_ROWS * 4];
    size_t n_seen = 0;
    char line[1024];
    while (fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "  | CKM_", 8) != 0) {
            continue; /* only the mechanisms x functions table */
        }
        char *cells[8] = {0};
        size_t n = 0;
        for (char *p = strtok(line + 3, "|\n"); p != NULL && n < 8; p = strtok(NULL, "|\n")) {
            cells[n++] = p;
        }
        ck_assert_msg(n == 6, "row with %zu cells: %s", n, line);
        CK_FLAGS want = row_flags(cells + 1);
        char *names = cells[0];
        for (char *m = strstr(names, "CKM_"); m != NULL; m = strstr(m, "CKM_")) {
            char name[80];
            size_t k = 0;
            while (k + 1 < sizeof(name) && (m[k] == '_' || (m[k] >= 'A' && m[k] <= 'Z') ||
                                            (m[k] >= '0' && m[k] <= '9'))) {
                name[k] = m[k];
                k++;
            }
            name[k] = 0;
            m += k;
            CK_MECHANISM_TYPE t = mech_value(name);
            CK_MECHANISM_INFO mi;
            ck_assert_msg(C_GetMechanismInfo(0, t, &mi) == CKR_OK, "%s not offered", name);
            ck_assert_msg((mi.flags & GROUPS) == want, "%s: token flags 0x%lx, README 0x%lx",
                          name, mi.flags & GROUPS, want);
            ck_assert_uint_lt(n_seen, sizeof(seen) / sizeof(seen[0]));
            seen[n_seen++] = t;
        }
    }
    fclose(f);
    CK_MECHANISM_TYPE list[MAX_ROWS];
    CK_ULONG count = MAX_ROWS;
    ck_assert_int_eq(C_GetMechanismList(0, list, &count), CKR_OK);
    ck_assert_uint_gt(n_seen, 0);
    for (CK_ULONG i = 0; i < count; i++) {
        int in_table = 0;
        for (size_t j = 0; j < n_seen; j++) {
            in_table |= seen[j] == list[i];
        }
        ck_assert_msg(in_table, "mechanism 0x%lx has no row in %s", list[i], README);
    }
}
END_TEST

Suite *pkcs11_mechanism_table_suite(void);

Suite *pkcs11_mechanism_table_suite(void)
{
    Suite *su = suite_create("pkcs11_mechanism_table");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_add_test(tc, readme_table_matches_mechanism_info);
    suite_add_tcase(su, tc);
    return su;
}
