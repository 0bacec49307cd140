/* nvm suite, part 3: damage and load.  Random bit flips are detected and
 * never turn into wrong values; thousands of saves across many collections
 * spread the wear; two threads and two processes share one image safely. */
#include "tests/support/lwss_test.h"
#include "tests/support/nvm_util.h"

#include "lwss/pkcs11_std.h"
#include "lwss/port.h"
#include "pal/nvm_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FLIP_OBJECTS 6

static size_t flip_len(int i)
{
    return 40u + (size_t)i * 30u;
}

/* Every object holds one of the versions it ever had: one flip damages one
 * record (or one sector header, whose records are recovered), and the
 * older version is still in the log. */
static int flip_object_sane(int i)
{
    char label[8];
    snprintf(label, sizeof(label), "f%d", i);
    return lwss_tnvm_has(label, flip_len(i), (uint32_t)i) ||
           lwss_tnvm_has(label, flip_len(i), 100u + (uint32_t)i);
}

START_TEST(test_bit_flips_detected)
{
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < FLIP_OBJECTS; i++) {
            char label[8];
            snprintf(label, sizeof(label), "f%d", i);
            lwss_tnvm_put(label, flip_len(i), (uint32_t)(round * 100 + i));
        }
    }
    lwss_nvm_close();
    size_t len = 0;
    uint8_t *base = lwss_tnvm_read_image(&len);
    uint8_t *img = malloc(len);
    ck_assert_ptr_nonnull(img);
    srand(12345);
    int detected = 0, refused = 0;
    for (int trial = 0; trial < 600; trial++) {
        memcpy(img, base, len);
        size_t pos = (size_t)rand() % len;
        img[pos] ^= (uint8_t)(1u << (rand() % 8));
        lwss_tnvm_write_image(img, len);
        int ret = lwss_nvm_open(NULL);
        if (ret != 0) {
            /* Only a flip that leaves no readable sector header may refuse. */
            ck_assert_int_eq(ret, LWSS_ERR_INVAL);
            refused++;
            continue;
        }
        ck_assert_msg(lwss_nvm_damage_count() > 0, "flip at %zu went unnoticed", pos);
        detected++;
        for (int i = 0; i < FLIP_OBJECTS; i++) {
            ck_assert_msg(flip_object_sane(i), "flip at %zu gave f%d a wrong value", pos, i);
        }
        /* Still writable without harm. */
        lwss_tnvm_put("post", 30, (uint32_t)trial);
        lwss_nvm_close();
        ck_assert_int_eq(lwss_nvm_open(NULL), 0);
        ck_assert(lwss_tnvm_has("post", 30, (uint32_t)trial));
        lwss_nvm_close();
    }
    ck_assert_int_gt(detected, 500);
    ck_assert_int_lt(refused, 20);
    free(img);
    free(base);
}
END_TEST

START_TEST(test_many_saves_many_collections)
{
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    static const char *labels[] = {"a", "bb", "ccc"};
    uint32_t ver[3] = {0, 0, 0};
    size_t len[3] = {0, 0, 0};
    lwss_flash_stats before;
    ck_assert_int_eq(lwss_nvm_flash_stats(&before), 0);
    for (uint32_t n = 0; n < 3000; n++) {
        int i = (int)(n % 3);
        ver[i] = n;
        len[i] = 20u + (n * 37u) % 150u;
        lwss_tnvm_put(labels[i], len[i], n);
        if (n % 500 == 499) {
            lwss_nvm_close();
            ck_assert_int_eq(lwss_nvm_open(NULL), 0);
            ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
        }
        if (n % 97 == 0) {
            for (int j = 0; j < 3 && (uint32_t)j <= n; j++) {
                ck_assert_msg(lwss_tnvm_has(labels[j], len[j], ver[j]), "%s wrong at %u",
                              labels[j], n);
            }
        }
    }
    for (int j = 0; j < 3; j++) {
        ck_assert(lwss_tnvm_has(labels[j], len[j], ver[j]));
    }
    /* Wear spread: every sector was erased many times, none far more. */
    lwss_store_sector sec[8];
    uint32_t nsec = 0, lo = UINT32_MAX, hi = 0;
    ck_assert_int_eq(lwss_nvm_sector_info(sec, 8, &nsec), 0);
    ck_assert_uint_eq(nsec, 8);
    for (uint32_t s = 0; s < nsec; s++) {
        lo = sec[s].erase_count < lo ? sec[s].erase_count : lo;
        hi = sec[s].erase_count > hi ? sec[s].erase_count : hi;
    }
    ck_assert_uint_gt(lo, 20);
    ck_assert_uint_le(hi - lo, 2);
}
END_TEST

typedef struct {
    const char *label;
    uint32_t first;
    int failures;
} saver_arg;

static void *saver(void *p)
{
    saver_arg *a = p;
    for (uint32_t v = a->first; v < a->first + 300u; v++) {
        uint8_t buf[200];
        lwss_tnvm_pattern(buf, sizeof(buf), v);
        lwss_nvm_meta m = lwss_tnvm_meta(a->label, CKO_DATA, 0);
        if (lwss_nvm_save(&m, buf, sizeof(buf)) == 0) {
            a->failures++;
        }
        uint32_t h = lwss_nvm_find((const uint8_t *)a->label, strlen(a->label), CKO_DATA);
        uint8_t *data = NULL;
        size_t len = 0;
        if (h == 0 || lwss_nvm_get_value(h, &data, &len) != 0 || len != sizeof(buf) ||
            memcmp(data, buf, len) != 0) {
            a->failures++;
        }
        lwss_nvm_free_value(data, len);
    }
    return NULL;
}

START_TEST(test_two_threads)
{
    ck_assert_int_eq(lwss_nvm_open(&lwss_tnvm_small), 0);
    saver_arg a = {"thread-a", 0, 0}, b = {"thread-b", 1000, 0};
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, saver, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, saver, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(a.failures, 0);
    ck_assert_int_eq(b.failures, 0);
    lwss_nvm_close();
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
    ck_assert(lwss_tnvm_has("thread-a", 200, 299));
    ck_assert(lwss_tnvm_has("thread-b", 200, 1299));
}
END_TEST

/* Child of the two-process test: exit code says what it saw. */
static int child_process(int ready_fd, int go_fd)
{
    char c;
    if (read(go_fd, &c, 1) != 1) {
        return 10;
    }
    /* The parent holds the image: a short wait must fail clearly. */
    setenv("LWSS_NVM_LOCK_MS", "100", 1);
    if (lwss_nvm_open(NULL) != LWSS_ERR_BUSY || strstr(lwss_last_error(), "locked") == NULL) {
        return 11;
    }
    if (write(ready_fd, "b", 1) != 1) {
        return 12;
    }
    /* Now wait long enough for the parent to finish and close. */
    setenv("LWSS_NVM_LOCK_MS", "10000", 1);
    if (lwss_nvm_open(NULL) != 0) {
        return 13;
    }
    int ok = lwss_tnvm_has("parent", 100, 1);
    uint8_t buf[100];
    lwss_tnvm_pattern(buf, sizeof(buf), 2);
    lwss_nvm_meta m = lwss_tnvm_meta("child", CKO_DATA, 0);
    ok = ok && lwss_nvm_save(&m, buf, sizeof(buf)) != 0;
    lwss_nvm_close();
    return ok ? 0 : 14;
}

START_TEST(test_two_processes_lock)
{
    int to_child[2], to_parent[2];
    ck_assert_int_eq(pipe(to_child), 0);
    ck_assert_int_eq(pipe(to_parent), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        _exit(child_process(to_parent[1], to_child[0]));
    }
    close(to_child[0]);
    close(to_parent[1]);
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    ck_assert_int_eq(write(to_child[1], "g", 1), 1);
    char c;
    ck_assert_int_eq(read(to_parent[0], &c, 1), 1); /* child was refused */
    lwss_tnvm_put("parent", 100, 1);
    /* the child is waiting on the lock now (it retries with sleeps) */
    ck_assert(lwss_test_wait_blocked(pid, 2000));
    lwss_nvm_close();
    int code = lwss_tnvm_wait_ok(pid);
    ck_assert_msg(code == 0, "child status %d", code);
    close(to_child[1]);
    close(to_parent[0]);
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
    ck_assert(lwss_tnvm_has("parent", 100, 1));
    ck_assert(lwss_tnvm_has("child", 100, 2));
}
END_TEST

/* A child of fork() must not write through the parent's open image. */
START_TEST(test_fork_child_cannot_use_parent_image)
{
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    lwss_tnvm_put("kept", 50, 1);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        uint8_t v[4] = {1, 2, 3, 4};
        lwss_nvm_meta m = lwss_tnvm_meta("kept", CKO_DATA, 0);
        int code = 0;
        if (lwss_nvm_save(&m, v, sizeof(v)) != 0 || lwss_nvm_last_status() != LWSS_ERR_STATE) {
            code = 1;
        } else if (lwss_nvm_open(NULL) != LWSS_ERR_STATE) {
            code = 2;
        } else {
            lwss_nvm_close();
            setenv("LWSS_NVM_LOCK_MS", "50", 1);
            code = lwss_nvm_open(NULL) == LWSS_ERR_BUSY ? 0 : 3; /* the parent holds it */
        }
        _exit(code);
    }
    int code = lwss_tnvm_wait_ok(pid);
    ck_assert_msg(code == 0, "child status %d", code);
    lwss_tnvm_put("after-fork", 20, 2);
    lwss_nvm_close();
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
    ck_assert(lwss_tnvm_has("kept", 50, 1));
    ck_assert(lwss_tnvm_has("after-fork", 20, 2));
}
END_TEST

START_TEST(test_find_read_without_file_reads)
{
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    lwss_tnvm_put("x", 500, 1);
    lwss_nvm_close();
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    lwss_flash_stats a, b;
    ck_assert_int_eq(lwss_nvm_flash_stats(&a), 0);
    ck_assert_uint_ge(a.file_reads, 1);
    for (int i = 0; i < 100; i++) {
        ck_assert(lwss_tnvm_has("x", 500, 1));
    }
    ck_assert_int_eq(lwss_nvm_flash_stats(&b), 0);
    ck_assert_uint_eq(b.file_reads, a.file_reads);
}
END_TEST

void lwss_tnvm_add_stress(Suite *s)
{
    TCase *tc = tcase_create("stress");
    tcase_add_checked_fixture(tc, lwss_tnvm_setup, lwss_tnvm_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_bit_flips_detected);
    tcase_add_test(tc, test_many_saves_many_collections);
    tcase_add_test(tc, test_two_threads);
    tcase_add_test(tc, test_two_processes_lock);
    tcase_add_test(tc, test_fork_child_cannot_use_parent_image);
    tcase_add_test(tc, test_find_read_without_file_reads);
    suite_add_tcase(s, tc);
}
