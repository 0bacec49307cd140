/* The one Check runner: `lwss-tests --unit|--rig [suite]`. */
#include "tests/support/lwss_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Tests that cannot run here (lwss_test_not_run) write a line into this
 * file; Check runs each test in a child process, so a file carries it back. */
#define NOTRUN_ENV "LWSS_TEST_NOTRUN_FILE"

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

void lwss_test_not_run(const char *why)
{
    const char *path = getenv(NOTRUN_ENV);
    FILE *f = path != NULL ? fopen(path, "a") : NULL;
    ck_assert_msg(f != NULL, "a test cannot run here (%s), and the runner cannot record it", why);
    fprintf(f, "%s\n", why);
    fclose(f);
}

int lwss_test_wait_blocked(int tid, unsigned bound_ms)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", tid);
    uint64_t deadline = lwss_test_now_ms() + bound_ms;
    do {
        char line[512] = "";
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            size_t n = fread(line, 1, sizeof(line) - 1, f);
            line[n] = '\0';
            fclose(f);
        }
        /* "tid (comm) S ...": the state follows the last ')' */
        const char *paren = strrchr(line, ')');
        if (paren != NULL && (paren[2] == 'S' || paren[2] == 'D')) {
            return 1;
        }
        usleep(1000); /* polling interval of the condition, not a delay */
    } while (lwss_test_now_ms() < deadline);
    return 0;
}

int lwss_test_wait_quiescent(unsigned bound_ms)
{
    uint64_t deadline = lwss_test_now_ms() + bound_ms;
    int self = (int)gettid();
    do {
        DIR *d = opendir("/proc/self/task");
        int busy = d == NULL;
        for (struct dirent *e; d != NULL && !busy && (e = readdir(d)) != NULL;) {
            int tid = atoi(e->d_name);
            busy = tid > 0 && tid != self && !lwss_test_wait_blocked(tid, 0);
        }
        if (d != NULL) {
            closedir(d);
        }
        if (!busy) {
            return 1;
        }
        usleep(1000); /* polling interval of the condition, not a delay */
    } while (lwss_test_now_ms() < deadline);
    return 0;
}

unsigned lwss_test_slowness(void)
{
    const char *v = getenv("LWSS_TEST_SLOW");
    int n = v != NULL ? atoi(v) : 1;
    return n >= 1 && n <= 100 ? (unsigned)n : 1u;
}

/* Print and count the lines lwss_test_not_run() left in @p path; under
 * scripts/stage.sh also hand them to the stage (LWSS_STAGE_NOTRUN_TESTS), whose
 * line in the summary of make test then says which tests did not run and why. */
static int count_not_run(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    const char *stage_path = getenv("LWSS_STAGE_NOTRUN_TESTS");
    FILE *stage = stage_path != NULL && stage_path[0] != '\0' ? fopen(stage_path, "a") : NULL;
    int n = 0;
    char line[512];
    while (fgets(line, sizeof(line), f) != NULL) {
        printf("not run: %s", line);
        if (stage != NULL) {
            fputs(line, stage);
        }
        n++;
    }
    if (stage != NULL) {
        fclose(stage);
    }
    fclose(f);
    return n;
}

/* Select the suites of one kind (all, or @p only); NULL and a message when
 * none matches: a suite of the other kind or an unknown name is an error. */
static SRunner *pick_suites(int want_rig, const char *only, int *picked)
{
    SRunner *sr = NULL;
    for (const suite_entry *e = suites; e->name != NULL; e++) {
        if (only != NULL && strcmp(only, e->name) == 0 && e->rig != want_rig) {
            fprintf(stderr, "lwss-tests: '%s' is a %s suite: run it with %s\n", only,
                    e->rig ? "rig" : "unit",
                    e->rig ? "--rig inside scripts/rig.sh (make test-rig SUITE=...)" : "--unit");
            return NULL;
        }
        if (e->rig != want_rig || (only != NULL && strcmp(only, e->name) != 0)) {
            continue;
        }
        if (sr == NULL) {
            sr = srunner_create(e->make());
        } else {
            srunner_add_suite(sr, e->make());
        }
        (*picked)++;
    }
    if (sr == NULL && only != NULL) {
        fprintf(stderr, "lwss-tests: no suite named '%s' (--list names them)\n", only);
    } else if (sr == NULL) {
        fprintf(stderr, "lwss-tests: no %s suites are built\n", want_rig ? "rig" : "unit");
    }
    return sr;
}

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

    int picked = 0;
    SRunner *sr = pick_suites(want_rig, only, &picked);
    if (sr == NULL) {
        return 2;
    }
    char notrun_path[] = "/tmp/lwss-notrun.XXXXXX";
    int nfd = mkstemp(notrun_path);
    if (nfd < 0) {
        perror("lwss-tests: mkstemp");
        srunner_free(sr);
        return 1;
    }
    close(nfd);
    setenv(NOTRUN_ENV, notrun_path, 1);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    int run = srunner_ntests_run(sr);
    srunner_free(sr);
    int not_run = count_not_run(notrun_path);
    unlink(notrun_path);
    if (run == 0) {
        fprintf(stderr, "lwss-tests: no test ran\n");
        return 1;
    }
    /* a test that gave up as "not run" passed in Check's eyes; it did not here */
    int passed = run - failed - not_run;
    printf("lwss-tests %s: %d suites, %d tests, %d failed, %d not run\n",
           want_rig ? "rig" : "unit", picked, run, failed, not_run);
    const char *summary = getenv("LWSS_TEST_SUMMARY");
    if (summary != NULL && summary[0] != '\0') {
        FILE *f = fopen(summary, "a");
        if (f != NULL) {
            fprintf(f, "%d %d %d\n", passed, failed, not_run);
            fclose(f);
        }
    }
    return failed == 0 ? 0 : 1;
}
