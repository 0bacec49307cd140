/* Helpers shared by the nvm test files (tests/nvm/test_nvm_*.c). */
#ifndef LWSS_NVM_TEST_UTIL_H
#define LWSS_NVM_TEST_UTIL_H

#include "lwss/nvm.h"

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/** Geometry of the small images the exhaustive tests use (8 x 512 bytes). */
extern const lwss_nvm_geometry lwss_tnvm_small;

/** A fresh temporary directory + image path (not created); lwss_nvm path set to it. */
void lwss_tnvm_begin(void);
/** Close the image, remove the file and the directory. */
void lwss_tnvm_end(void);
/** Checked fixture: leak snapshot (descriptors, threads) + lwss_tnvm_begin(). */
void lwss_tnvm_setup(void);
/** Checked fixture: power back on, lwss_tnvm_end(), leak check. */
void lwss_tnvm_teardown(void);
/** Wait for child @p pid: its exit code (128 + signal when killed, -1 on error). */
int lwss_tnvm_wait_ok(pid_t pid);
/** The image path of this test. */
const char *lwss_tnvm_path(void);

/** Metadata for (label, cls). */
lwss_nvm_meta lwss_tnvm_meta(const char *label, uint32_t cls, int is_private);
/** Deterministic bytes for version @p ver of an object. */
void lwss_tnvm_pattern(uint8_t *buf, size_t len, uint32_t ver);
/** Save @p len pattern bytes of version @p ver under (label, CKO_DATA); asserts success. */
uint32_t lwss_tnvm_put(const char *label, size_t len, uint32_t ver);
/** Rewrite a 200-byte "churn" object until a single free sector (the
 *  collector's reserve) is left, so that the next writes collect (asserts). */
void lwss_tnvm_fill_to_reserve(void);
/** 1 when (label, CKO_DATA) holds exactly pattern(len, ver). */
int lwss_tnvm_has(const char *label, size_t len, uint32_t ver);

/** Whole image file into a new heap buffer (size in @p len). */
uint8_t *lwss_tnvm_read_image(size_t *len);
/** Replace the image file by @p len bytes. */
void lwss_tnvm_write_image(const uint8_t *img, size_t len);

/** Register the test cases of each nvm file. */
void lwss_tnvm_add_api(Suite *s);
/** @see lwss_tnvm_add_api */
void lwss_tnvm_add_fault(Suite *s);
/** @see lwss_tnvm_add_api */
void lwss_tnvm_add_stress(Suite *s);
/** @see lwss_tnvm_add_api */
void lwss_tnvm_add_cli(Suite *s);
/** @see lwss_tnvm_add_api */
void lwss_tnvm_add_txn(Suite *s);

#endif
