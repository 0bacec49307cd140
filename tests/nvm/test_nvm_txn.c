/* nvm suite, part 5: transactions (issue 14).  A group of saves and
 * destroys is visible all together or not at all: after commit, abort,
 * close without commit, and a power cut at every byte of every operation -
 * also when collections run inside the transaction. */
#include "tests/support/lwss_test.h"
#include "tests/support/nvm_util.h"

#include "lwss/pkcs11_std.h"
#include "lwss/port.h"
#include "pal/nvm_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void open_small(void)
{
    ck_assert_msg(lwss_nvm_open(&lwss_tnvm_small) == 0, "open: %s", lwss_last_error());
}

static uint32_t find(const char *label)
{
    return lwss_nvm_find((const uint8_t *)label, strlen(label), CKO_DATA);
}

static void put_or_fail(const char *label, size_t len, uint32_t ver)
{
    uint8_t buf[400];
    lwss_tnvm_pattern(buf, len, ver);
    lwss_nvm_meta m = lwss_tnvm_meta(label, CKO_DATA, 0);
    (void)lwss_nvm_save(&m, buf, len);
}

/* The group: replace "t1", create "t2", destroy "t3". */
static void txn_ops(void)
{
    put_or_fail("t1", 90, 2);
    put_or_fail("t2", 50, 2);
    uint32_t h = find("t3");
    if (h != 0) {
        (void)lwss_nvm_destroy(h);
    }
}

static int state_old(void)
{
    return lwss_tnvm_has("t1", 90, 1) && find("t2") == 0 && lwss_tnvm_has("t3", 40, 1);
}

static int state_new(void)
{
    return lwss_tnvm_has("t1", 90, 2) && lwss_tnvm_has("t2", 50, 2) && find("t3") == 0;
}

static void put_base(void)
{
    lwss_tnvm_put("n1", 100, 1);
    lwss_tnvm_put("t1", 90, 1);
    lwss_tnvm_put("t3", 40, 1);
}

START_TEST(test_txn_commit_abort_close)
{
    open_small();
    put_base();
    uint32_t h1 = find("t1");
    ck_assert_int_eq(lwss_nvm_txn_begin(), 0);
    txn_ops();
    ck_assert(state_new()); /* visible to this process before the commit */
    ck_assert_int_eq(lwss_nvm_txn_abort(), 0);
    ck_assert_msg(state_old(), "abort did not restore the committed state");
    ck_assert_uint_eq(find("t1"), h1); /* handles survive */
    lwss_nvm_close();
    open_small();
    ck_assert(state_old());
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0);

    /* closed without commit (a process that exits or is killed) */
    ck_assert_int_eq(lwss_nvm_txn_begin(), 0);
    txn_ops();
    lwss_nvm_close();
    open_small();
    ck_assert_msg(state_old(), "uncommitted transaction visible after reopen");
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0);

    /* nested levels join; an inner abort dooms the outer commit */
    ck_assert_int_eq(lwss_nvm_txn_begin(), 0);
    put_or_fail("t1", 90, 2);
    ck_assert_int_eq(lwss_nvm_txn_begin(), 0);
    put_or_fail("t2", 50, 2);
    ck_assert_int_eq(lwss_nvm_txn_abort(), 0);
    ck_assert_int_eq(lwss_nvm_txn_commit(), LWSS_ERR_STATE);
    ck_assert(state_old());
    ck_assert_int_eq(lwss_nvm_txn_commit(), LWSS_ERR_STATE); /* none open */

    ck_assert_int_eq(lwss_nvm_txn_begin(), 0);
    ck_assert_int_eq(lwss_nvm_txn_begin(), 0);
    txn_ops();
    ck_assert_int_eq(lwss_nvm_txn_commit(), 0);
    ck_assert_int_eq(lwss_nvm_txn_commit(), 0);
    ck_assert(state_new());
    lwss_nvm_close();
    open_small();
    ck_assert(state_new());
    ck_assert(lwss_tnvm_has("n1", 100, 1));
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
    lwss_nvm_close();
}
END_TEST

/* Collections inside an open transaction move the committed versions it
 * replaced (an abort or a cut brings them back), and collections after a
 * commit keep it (commit records, transaction flags cleared on copy). */
START_TEST(test_txn_survives_collections)
{
    open_small();
    put_base();
    for (int round = 0; round < 2; round++) {
        int commit = round == 1;
        ck_assert_int_eq(lwss_nvm_txn_begin(), 0);
        txn_ops();
        for (uint32_t v = 0; v < 40; v++) { /* churn: every sector collected */
            lwss_tnvm_put("churn", 200, v);
            ck_assert_int_eq(lwss_nvm_collect(), 0);
        }
        if (commit) {
            ck_assert_int_eq(lwss_nvm_txn_commit(), 0);
            for (uint32_t v = 0; v < 40; v++) {
                lwss_tnvm_put("churn", 200, 100 + v);
                ck_assert_int_eq(lwss_nvm_collect(), 0);
            }
        }
        lwss_nvm_close(); /* round 0: never committed */
        open_small();
        ck_assert_msg(commit ? state_new() : state_old(), "round %d: wrong state", round);
        ck_assert(lwss_tnvm_has("n1", 100, 1));
        ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
    }
    lwss_nvm_close();
}
END_TEST

/* Many transactions mixed with plain writes and collections, against a
 * model; every reopen agrees with it. */
START_TEST(test_txn_model_campaign)
{
    uint32_t ver[4] = {0, 0, 0, 0};
    open_small();
    uint32_t rng = 2463534242u;
    for (uint32_t iter = 1; iter <= 300; iter++) {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        int commit = (rng & 3u) != 0;
        uint32_t pending[4];
        memcpy(pending, ver, sizeof(pending));
        ck_assert_int_eq(lwss_nvm_txn_begin(), 0);
        for (int i = 0; i < 4; i++) {
            if ((rng >> (4 + i)) & 1u) {
                char label[4];
                snprintf(label, sizeof(label), "m%d", i);
                lwss_tnvm_put(label, 60u + 20u * (uint32_t)i, iter);
                pending[i] = iter;
            }
        }
        if ((rng >> 12) % 3 == 0) {
            int ret = lwss_nvm_collect(); /* FULL: only the head is in use */
            ck_assert_msg(ret == 0 || ret == LWSS_NVM_ERR_FULL, "collect: %d", ret);
        }
        if (commit) {
            ck_assert_int_eq(lwss_nvm_txn_commit(), 0);
            memcpy(ver, pending, sizeof(ver));
        } else if ((rng >> 16) & 1u) {
            ck_assert_int_eq(lwss_nvm_txn_abort(), 0);
        } else {
            lwss_nvm_close();
            open_small();
        }
        if (iter % 25 == 0) {
            lwss_nvm_close();
            open_small();
            ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
        }
        for (int i = 0; i < 4; i++) {
            char label[4];
            snprintf(label, sizeof(label), "m%d", i);
            ck_assert_msg(ver[i] == 0 ? find(label) == 0
                                      : lwss_tnvm_has(label, 60u + 20u * (uint32_t)i, ver[i]),
                          "iter %u: %s is not version %u", iter, label, ver[i]);
        }
    }
    lwss_nvm_close();
}
END_TEST

static void txn_whole(void)
{
    if (lwss_nvm_txn_begin() == 0) {
        txn_ops();
        (void)lwss_nvm_txn_commit();
    }
}

/* Cut after every program/erase operation of a transaction (its records,
 * the collections it triggers, the sync points, its commit mark) and at
 * every byte of the one cut: reopened, the group is all old or all new,
 * nothing is reported as damage, and the image takes new writes. */
START_TEST(test_txn_cut_everywhere)
{
    open_small();
    put_base();
    if (_i == 1) {
        lwss_tnvm_fill_to_reserve();
    }
    lwss_nvm_close();
    size_t len = 0;
    uint8_t *base = lwss_tnvm_read_image(&len);
    open_small();
    lwss_flash_fault_arm(UINT64_MAX, 0);
    txn_whole();
    uint64_t ops = lwss_flash_fault_ops();
    lwss_flash_fault_disarm();
    ck_assert(state_new());
    lwss_nvm_close();
    ck_assert_uint_ge(ops, _i == 1 ? 6u : 4u);
    int olds = 0, news = 0;
    for (uint64_t op = 0; op < ops; op++) {
        uint32_t cut_len = 0;
        for (uint32_t byte = 0; byte <= cut_len || byte == 0; byte++) {
            lwss_tnvm_write_image(base, len);
            open_small();
            lwss_flash_fault_arm(op, byte);
            txn_whole();
            cut_len = lwss_flash_fault_cut_len();
            lwss_flash_fault_disarm();
            lwss_nvm_close();
            open_small();
            int is_old = state_old(), is_new = state_new();
            ck_assert_msg(is_old || is_new, "cut %llu/%u: a mix of old and new",
                          (unsigned long long)op, byte);
            ck_assert_msg(lwss_nvm_damage_count() == 0, "cut %llu/%u reported as damage: %s",
                          (unsigned long long)op, byte, lwss_last_error());
            ck_assert(lwss_tnvm_has("n1", 100, 1));
            olds += is_old;
            news += is_new;
            lwss_tnvm_put("after", 24, (uint32_t)op);
            lwss_nvm_close();
            open_small();
            ck_assert(is_old ? state_old() : state_new());
            ck_assert(lwss_tnvm_has("after", 24, (uint32_t)op));
            lwss_nvm_close();
        }
    }
    ck_assert_int_gt(olds, 0);
    ck_assert_int_gt(news, 0);
    free(base);
}
END_TEST

/* Property: a record header that straddles a program page (256 bytes) cut
 * at every byte is an interrupted write - never damage - and the object is
 * old or new.  Fillers of every length put the header at each 4-byte
 * position across the boundary (issue 14: a header programmed up to the
 * page boundary and erased after it was reported as damage). */
START_TEST(test_cut_header_across_page)
{
    int straddled = 0;
    for (uint32_t fill = 4; fill <= 64; fill += 4) {
        lwss_tnvm_end();
        lwss_tnvm_begin();
        open_small();
        lwss_tnvm_put("obj", 40, 1);
        /* header(32) + label(4) + value: place the next record near 256 */
        uint32_t used = 40 + 32 + 4 + 40; /* sector header + first record */
        uint32_t to = 256 - fill;
        uint32_t filler = to - used - 32 - 4;
        lwss_tnvm_put("fill", filler, 1);
        lwss_nvm_close();
        size_t len = 0;
        uint8_t *base = lwss_tnvm_read_image(&len);
        for (uint64_t op = 0; op < 4; op++) {
            for (uint32_t byte = 0; byte <= 40; byte++) {
                lwss_tnvm_write_image(base, len);
                open_small();
                lwss_flash_fault_arm(op, byte);
                put_or_fail("obj", 40, 2);
                int tripped = lwss_flash_fault_tripped();
                lwss_flash_fault_disarm();
                lwss_nvm_close();
                open_small();
                ck_assert_msg(lwss_tnvm_has("obj", 40, 1) || lwss_tnvm_has("obj", 40, 2),
                              "fill %u cut %llu/%u: neither old nor new", fill,
                              (unsigned long long)op, byte);
                ck_assert_msg(lwss_nvm_damage_count() == 0,
                              "fill %u cut %llu/%u reported as damage", fill,
                              (unsigned long long)op, byte);
                ck_assert(lwss_tnvm_has("fill", filler, 1));
                lwss_nvm_close();
                straddled += tripped && op == 0 && fill < 32;
            }
        }
        free(base);
    }
    ck_assert_int_gt(straddled, 0);
}
END_TEST

/* tests/data/nvm-pre-txn.img: 8 x 512 bytes written by the code before
 * transactions (main at 7a8a256, with a program that saved "churn" 40
 * times (200 bytes), the two halves of "Device Priv TLS Key" (classes 3
 * and 2), "Device Cert" twice, "gone" (destroyed), and collected).  Values
 * are v*31 + i*7 + (i >> 8); ids are {0xAB, v}. */
static int old_has(const char *label, uint32_t cls, size_t len, uint32_t v)
{
    uint32_t h = lwss_nvm_find((const uint8_t *)label, strlen(label), cls);
    uint8_t *val = NULL;
    size_t got = 0;
    lwss_nvm_meta m;
    if (h == 0 || lwss_nvm_get_meta(h, &m) != 0 || lwss_nvm_get_value(h, &val, &got) != 0) {
        return 0;
    }
    int ok = got == len && m.id_len == 2 && m.id[0] == 0xAB && m.id[1] == (uint8_t)v;
    for (size_t i = 0; ok && i < len; i++) {
        ok = val[i] == (uint8_t)(v * 31u + i * 7u + (i >> 8));
    }
    lwss_nvm_free_value(val, got);
    return ok;
}

static void check_old_image(void)
{
    ck_assert(old_has("churn", 0, 200, 40));
    ck_assert(old_has("Device Priv TLS Key", CKO_PRIVATE_KEY, 121, 7));
    ck_assert(old_has("Device Priv TLS Key", CKO_PUBLIC_KEY, 91, 8));
    ck_assert(old_has("Device Cert", CKO_CERTIFICATE, 310, 11));
    ck_assert_uint_eq(lwss_nvm_find((const uint8_t *)"gone", 4, 0), 0);
    ck_assert_uint_eq(lwss_nvm_damage_count(), 0);
}

/* Images of the format before transactions open unchanged and keep every
 * object through new transactions and collections. */
START_TEST(test_pre_txn_image_migrates)
{
    size_t len = 0;
    FILE *f = fopen("tests/data/nvm-pre-txn.img", "rb");
    ck_assert_ptr_nonnull(f);
    uint8_t img[4096];
    len = fread(img, 1, sizeof(img), f);
    fclose(f);
    ck_assert_uint_eq(len, sizeof(img));
    lwss_tnvm_write_image(img, len);
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    check_old_image();
    ck_assert_int_eq(lwss_nvm_txn_begin(), 0);
    lwss_tnvm_put("new", 80, 1);
    ck_assert_int_eq(lwss_nvm_txn_commit(), 0);
    for (uint32_t v = 0; v < 20; v++) {
        ck_assert_int_eq(lwss_nvm_txn_begin(), 0);
        lwss_tnvm_put("spin", 150, v);
        ck_assert_int_eq(lwss_nvm_txn_commit(), 0);
    }
    lwss_nvm_close();
    ck_assert_int_eq(lwss_nvm_open(NULL), 0);
    check_old_image();
    ck_assert(lwss_tnvm_has("new", 80, 1));
    ck_assert(lwss_tnvm_has("spin", 150, 19));
    lwss_nvm_close();
}
END_TEST

void lwss_tnvm_add_txn(Suite *s)
{
    TCase *tc = tcase_create("txn");
    tcase_add_checked_fixture(tc, lwss_tnvm_setup, lwss_tnvm_teardown);
    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, test_txn_commit_abort_close);
    tcase_add_test(tc, test_txn_survives_collections);
    tcase_add_test(tc, test_txn_model_campaign);
    tcase_add_loop_test(tc, test_txn_cut_everywhere, 0, 2);
    tcase_add_test(tc, test_cut_header_across_page);
    tcase_add_test(tc, test_pre_txn_image_migrates);
    suite_add_tcase(s, tc);
}
