/* The one Check runner: `lwss-tests --unit|--rig [suite]`. */
#include "lwss_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LWSS_SUITE(name, rig) Suite *name##_suite(void);
#include "lwss_suites.h"
#undef LWSS_SUITE

typedef struct {
    const char *name;
    Suite *(*make)(void);
    int rig;
} suite_entry;

static const suite_entry suites[] = {
#define LWSS_SUITE(name, rig) {#name, name##_suite, rig},
#include "lwss_suites.h"
#undef LWSS_SUITE
    {NULL, NULL, 0},
};

static int usage(void)
{
    fprintf(stderr, "usage: lwss-tests --unit|--rig|--list [suite]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        return usage();
    }
    int want_rig;
    if (strcmp(argv[1], "--unit") == 0) {
        want_rig = 0;
    } else if (strcmp(argv[1], "--rig") == 0) {
        want_rig = 1;
    } else if (strcmp(argv[1], "--list") == 0) {
        for (const suite_entry *e = suites; e->name != NULL; e++) {
            printf("%s %s\n", e->rig ? "rig " : "unit", e->name);
        }
        return 0;
    } else {
        return usage();
    }
    const char *only = argc > 2 ? argv[2] : NULL;

    if (want_rig && !lwss_test_in_rig()) {
        fprintf(stderr, "lwss-tests: --rig must run inside scripts/rig.sh "
                        "(LWSS_RIG is not set); refusing to count these tests as passed\n");
        return 1;
    }

    SRunner *sr = NULL;
    int picked = 0;
    for (const suite_entry *e = suites; e->name != NULL; e++) {
        if (e->rig != want_rig || (only != NULL && strcmp(only, e->name) != 0)) {
            continue;
        }
        if (sr == NULL) {
            sr = srunner_create(e->make());
        } else {
            srunner_add_suite(sr, e->make());
        }
        picked++;
    }
    if (sr == NULL) {
        if (only != NULL) {
            /* Asked for a suite of the other kind: nothing to do here. */
            for (const suite_entry *e = suites; e->name != NULL; e++) {
                if (strcmp(only, e->name) == 0) {
                    return 0;
                }
            }
            fprintf(stderr, "lwss-tests: no suite named '%s'\n", only);
            return 2;
        }
        fprintf(stderr, "lwss-tests: no %s suites are built\n", want_rig ? "rig" : "unit");
        return 1;
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    int run = srunner_ntests_run(sr);
    srunner_free(sr);
    if (run == 0) {
        fprintf(stderr, "lwss-tests: no test ran\n");
        return 1;
    }
    printf("lwss-tests %s: %d suites, %d tests, %d failed\n", want_rig ? "rig" : "unit",
           picked, run, failed);
    const char *summary = getenv("LWSS_TEST_SUMMARY");
    if (summary != NULL && summary[0] != '\0') {
        FILE *f = fopen(summary, "a");
        if (f != NULL) {
            fprintf(f, "%d %d\n", run - failed, failed);
            fclose(f);
        }
    }
    return failed == 0 ? 0 : 1;
}
