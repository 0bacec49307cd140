/*
 * Suite "pkcs11_mechtable": the mechanism table of src/pkcs11/README.md
 * ("## Mechanisms": mechanism | functions | key sizes) and what the token
 * reports through C_GetMechanismList / C_GetMechanismInfo (PKCS #11 v2.40
 * 5.5, CK_MECHANISM_INFO) are the same rows (issue 18 item 9).
 */
#include "tests/support/test_pkcs11.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M(x) {#x, x}
static const struct {
    const char *name;
    CK_MECHANISM_TYPE type;
} g_names[] = {
    M(CKM_EC_KEY_PAIR_GEN), M(CKM_RSA_PKCS_KEY_PAIR_GEN), M(CKM_ECDSA), M(CKM_ECDSA_SHA1),
    M(CKM_ECDSA_SHA224), M(CKM_ECDSA_SHA256), M(CKM_ECDSA_SHA384), M(CKM_ECDSA_SHA512),
    M(CKM_RSA_PKCS), M(CKM_SHA1_RSA_PKCS), M(CKM_SHA224_RSA_PKCS), M(CKM_SHA256_RSA_PKCS),
    M(CKM_SHA384_RSA_PKCS), M(CKM_SHA512_RSA_PKCS), M(CKM_RSA_PKCS_PSS),
    M(CKM_SHA1_RSA_PKCS_PSS), M(CKM_SHA224_RSA_PKCS_PSS), M(CKM_SHA256_RSA_PKCS_PSS),
    M(CKM_SHA384_RSA_PKCS_PSS), M(CKM_SHA512_RSA_PKCS_PSS), M(CKM_RSA_X_509),
    M(CKM_RSA_PKCS_OAEP), M(CKM_SHA_1_HMAC), M(CKM_SHA224_HMAC), M(CKM_SHA256_HMAC),
    M(CKM_SHA384_HMAC), M(CKM_SHA512_HMAC), M(CKM_AES_CMAC), M(CKM_SHA_1), M(CKM_SHA224),
    M(CKM_SHA256), M(CKM_SHA384), M(CKM_SHA512), M(CKM_ECDH1_DERIVE), M(CKM_AES_KEY_GEN),
    M(CKM_DES3_KEY_GEN), M(CKM_GENERIC_SECRET_KEY_GEN), M(CKM_AES_ECB), M(CKM_AES_CBC),
    M(CKM_AES_CBC_PAD), M(CKM_AES_CTR), M(CKM_AES_GCM), M(CKM_DES3_ECB), M(CKM_DES3_CBC),
    M(CKM_DES3_CBC_PAD), M(CKM_AES_KEY_WRAP), M(CKM_AES_KEY_WRAP_PAD),
};

static const struct {
    const char *word;
    CK_FLAGS flag;
} g_fns[] = {
    {"encrypt", CKF_ENCRYPT}, {"decrypt", CKF_DECRYPT}, {"digest", CKF_DIGEST},
    {"sign", CKF_SIGN}, {"sign_recover", CKF_SIGN_RECOVER}, {"verify", CKF_VERIFY},
    {"verify_recover", CKF_VERIFY_RECOVER}, {"generate", CKF_GENERATE},
    {"generate_key_pair", CKF_GENERATE_KEY_PAIR}, {"wrap", CKF_WRAP}, {"unwrap", CKF_UNWRAP},
    {"derive", CKF_DERIVE},
};
#define FN_MASK (CKF_ENCRYPT | CKF_DECRYPT | CKF_DIGEST | CKF_SIGN | CKF_SIGN_RECOVER | \
                 CKF_VERIFY | CKF_VERIFY_RECOVER | CKF_GENERATE | CKF_GENERATE_KEY_PAIR | \
                 CKF_WRAP | CKF_UNWRAP | CKF_DERIVE)

typedef struct row {
    CK_MECHANISM_TYPE type;
    CK_FLAGS fns;
    CK_ULONG min, max;
} row;

static CK_MECHANISM_TYPE type_of(const char *name)
{
    for (size_t i = 0; i < sizeof(g_names) / sizeof(g_names[0]); i++) {
        if (strcmp(g_names[i].name, name) == 0) {
            return g_names[i].type;
        }
    }
    ck_abort_msg("README names %s, which this test does not know (add it to g_names)", name);
    return 0;
}

static CK_FLAGS fns_of(char *words)
{
    CK_FLAGS f = 0;
    for (char *w = strtok(words, " "); w != NULL; w = strtok(NULL, " ")) {
        size_t i = 0;
        while (i < sizeof(g_fns) / sizeof(g_fns[0]) && strcmp(g_fns[i].word, w) != 0) {
            i++;
        }
        ck_assert_msg(i < sizeof(g_fns) / sizeof(g_fns[0]), "unknown function '%s'", w);
        f |= g_fns[i].flag;
    }
    return f;
}

/* The rows "| `CKM_x` | functions | min..max |" of the README table. */
static size_t read_table(row *rows, size_t max)
{
    FILE *f = fopen("src/pkcs11/README.md", "r");
    ck_assert_msg(f != NULL, "src/pkcs11/README.md not found (run from the source tree)");
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        char name[64], fns[128];
        unsigned long lo = 0, hi = 0;
        if (strncmp(line, "| `CKM_", 7) != 0) {
            continue;
        }
        ck_assert_msg(sscanf(line, "| `%63[A-Z0-9_]` | %127[a-z_ ] | %lu..%lu |", name, fns, &lo,
                             &hi) == 4,
                      "README row not understood: %s", line);
        ck_assert_uint_lt(n, max);
        rows[n].type = type_of(name);
        rows[n].fns = fns_of(fns);
        rows[n].min = lo;
        rows[n].max = hi;
        n++;
    }
    fclose(f);
    return n;
}

/* Every README row is reported with exactly its functions and key sizes,
 * and the token reports no mechanism the README does not list. */
START_TEST(readme_table_matches_mechanism_info)
{
    static row rows[128];
    size_t n = read_table(rows, 128);
    ck_assert_uint_ge(n, 30);
    CK_ULONG count = 0;
    ck_assert_int_eq(C_GetMechanismList(0, NULL, &count), CKR_OK);
    ck_assert_uint_eq(count, n);
    static CK_MECHANISM_TYPE list[128];
    ck_assert_int_eq(C_GetMechanismList(0, list, &count), CKR_OK);
    for (size_t i = 0; i < n; i++) {
        CK_MECHANISM_INFO mi;
        ck_assert_msg(C_GetMechanismInfo(0, rows[i].type, &mi) == CKR_OK,
                      "README row 0x%lx is not a token mechanism", rows[i].type);
        ck_assert_msg((mi.flags & FN_MASK) == rows[i].fns, "0x%lx: flags 0x%lx, README 0x%lx",
                      rows[i].type, mi.flags & FN_MASK, rows[i].fns);
        ck_assert_msg(!(mi.flags & CKF_HW), "0x%lx claims CKF_HW", rows[i].type);
        ck_assert_uint_eq(mi.ulMinKeySize, rows[i].min);
        ck_assert_uint_eq(mi.ulMaxKeySize, rows[i].max);
    }
    for (CK_ULONG j = 0; j < count; j++) {
        int seen = 0;
        for (size_t i = 0; i < n; i++) {
            seen |= rows[i].type == list[j];
        }
        ck_assert_msg(seen, "mechanism 0x%lx is missing from the README table", list[j]);
    }
}
END_TEST

Suite *pkcs11_mechtable_suite(void);

Suite *pkcs11_mechtable_suite(void)
{
    Suite *su = suite_create("pkcs11_mechtable");
    TCase *tc = tcase_create("mechtable");
    tcase_add_checked_fixture(tc, lwss_p11t_setup, lwss_p11t_teardown);
    tcase_add_test(tc, readme_table_matches_mechanism_info);
    suite_add_tcase(su, tc);
    return su;
}
