/*
 * NVM benchmark: saves per second (durable, and without fdatasync against
 * a reference-PAL-style file write), write amplification, open time, and
 * find + read after open, which must not read the file at all.
 * One JSON object per line (see the brief); exit 1 if a check fails.
 */
#include "lwss/nvm.h"
#include "lwss/pkcs11_std.h"
#include "lwss/port.h"
#include "pal/nvm_internal.h"
#include "tests/bench/bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *label;
    uint32_t cls;
    size_t len;
    int is_private;
} bench_obj;

/* What a device keeps: a certificate, its key pair, a root. */
static const bench_obj objs[] = {
    {pkcs11configLABEL_DEVICE_CERTIFICATE_FOR_TLS, CKO_CERTIFICATE, 800, 0},
    {pkcs11configLABEL_DEVICE_PRIVATE_KEY_FOR_TLS, CKO_PRIVATE_KEY, 121, 1},
    {pkcs11configLABEL_DEVICE_PUBLIC_KEY_FOR_TLS, CKO_PUBLIC_KEY, 91, 0},
    {pkcs11configLABEL_ROOT_CERTIFICATE, CKO_CERTIFICATE, 900, 0},
};
#define NOBJ (sizeof(objs) / sizeof(objs[0]))

static char dir[512], img[600];

/* One JSON line; @p baseline_of / @p goal only on baselines (ratio goal). */
static void emit_goal(const char *metric, double value, const char *unit, const char *baseline_of,
                      const char *goal)
{
    bench_emit("nvm", metric, value, unit, baseline_of, goal);
}

static void emit(const char *metric, double value, const char *unit, const char *baseline_of)
{
    emit_goal(metric, value, unit, baseline_of, NULL);
}

static int fail(const char *what)
{
    fprintf(stderr, "bench_nvm: %s: %s\n", what, lwss_last_error());
    lwss_nvm_close();
    return 1;
}

/* @p n saves round robin, in transactions of @p per_txn saves (0: none);
 * returns seconds, -1 on failure; bytes saved in @p bytes. */
static double run_saves_txn(unsigned n, unsigned per_txn, uint64_t *bytes)
{
    uint8_t buf[1024];
    double t0 = bench_now_s();
    for (unsigned i = 0; i < n; i++) {
        if (per_txn > 0 && i % per_txn == 0 && lwss_nvm_txn_begin() != 0) {
            return -1;
        }
        const bench_obj *o = &objs[i % NOBJ];
        memset(buf, (int)(i & 0xFF), o->len);
        lwss_nvm_meta m;
        memset(&m, 0, sizeof(m));
        m.label_len = (uint32_t)strlen(o->label);
        memcpy(m.label, o->label, m.label_len);
        m.cls = o->cls;
        m.is_private = (uint8_t)o->is_private;
        if (lwss_nvm_save(&m, buf, o->len) == 0) {
            return -1;
        }
        *bytes += o->len;
        if (per_txn > 0 && (i % per_txn == per_txn - 1 || i == n - 1) &&
            lwss_nvm_txn_commit() != 0) {
            return -1;
        }
    }
    return bench_now_s() - t0;
}

static double run_saves(unsigned n, uint64_t *bytes)
{
    return run_saves_txn(n, 0, bytes);
}

/* Transactions of two saves (a key pair) against plain saves in the same
 * run: durable rate (issue 14: cost <= 10 %) and write amplification. */
static int bench_txn(void)
{
    uint64_t bytes = 0;
    lwss_flash_stats a, b;
    setenv("LWSS_NVM_SYNC", "1", 1);
    if (lwss_nvm_open(NULL) != 0) {
        return fail("open");
    }
    double plain = run_saves(200, &bytes);
    double txn = run_saves_txn(200, 2, &bytes);
    plain = plain + run_saves(200, &bytes); /* interleaved: the disk's mood is shared */
    txn = txn + run_saves_txn(200, 2, &bytes);
    lwss_nvm_close();
    if (plain < 0 || txn < 0) {
        return fail("durable transaction saves");
    }
    emit("txn_saves_per_s", 400 / txn, "1/s", NULL);
    emit_goal("plain_saves_per_s", 400 / plain, "1/s", "txn_saves_per_s", ">=0.9");
    setenv("LWSS_NVM_SYNC", "0", 1);
    if (lwss_nvm_open(NULL) != 0 || lwss_nvm_flash_stats(&a) != 0) {
        return fail("open");
    }
    bytes = 0;
    double t = run_saves_txn(20000, 2, &bytes);
    if (t < 0 || lwss_nvm_flash_stats(&b) != 0) {
        return fail("transaction saves");
    }
    emit("txn_saves_per_s_nosync", 20000 / t, "1/s", NULL);
    double wa = (double)(b.program_bytes - a.program_bytes) / (double)bytes;
    emit("txn_write_amplification", wa, "bytes/byte", NULL);
    emit("txn_image_bytes_written", (double)(b.program_bytes - a.program_bytes), "bytes", NULL);
    emit_goal("txn_object_bytes_saved", (double)bytes, "bytes", "txn_image_bytes_written",
              "<=2");
    lwss_nvm_close();
    unsetenv("LWSS_NVM_SYNC");
    return wa <= 2.0 ? 0 : (fprintf(stderr, "bench_nvm: txn write amplification %.2f > 2\n", wa), 1);
}

/* What corePKCS11's posix PAL does per save: one file, fopen("w"), no sync. */
static double run_reference_saves(unsigned n)
{
    uint8_t buf[1024];
    char path[700];
    double t0 = bench_now_s();
    for (unsigned i = 0; i < n; i++) {
        const bench_obj *o = &objs[i % NOBJ];
        memset(buf, (int)(i & 0xFF), o->len);
        snprintf(path, sizeof(path), "%s/ref-%u.dat", dir, (unsigned)(i % NOBJ));
        FILE *f = fopen(path, "w");
        if (f == NULL || fwrite(buf, 1, o->len, f) != o->len) {
            return -1;
        }
        fclose(f);
    }
    double t = bench_now_s() - t0;
    for (unsigned i = 0; i < NOBJ; i++) {
        snprintf(path, sizeof(path), "%s/ref-%u.dat", dir, i);
        unlink(path);
    }
    return t;
}

static int bench_saves(void)
{
    uint64_t bytes = 0;
    lwss_flash_stats a, b;
    setenv("LWSS_NVM_SYNC", "1", 1);
    if (lwss_nvm_open(NULL) != 0) {
        return fail("open");
    }
    double t = run_saves(200, &bytes);
    if (t < 0) {
        return fail("durable saves");
    }
    emit("saves_per_s", 200 / t, "1/s", NULL);
    lwss_nvm_close();

    setenv("LWSS_NVM_SYNC", "0", 1);
    if (lwss_nvm_open(NULL) != 0 || lwss_nvm_flash_stats(&a) != 0) {
        return fail("open");
    }
    bytes = 0;
    t = run_saves(20000, &bytes);
    if (t < 0 || lwss_nvm_flash_stats(&b) != 0) {
        return fail("saves");
    }
    emit("saves_per_s_nosync", 20000 / t, "1/s", NULL);
    double ref = run_reference_saves(20000);
    if (ref > 0) {
        emit_goal("ref_pal_saves_per_s", 20000 / ref, "1/s", "saves_per_s_nosync", ">=1");
    }
    double wa = (double)(b.program_bytes - a.program_bytes) / (double)bytes;
    emit("write_amplification", wa, "bytes/byte", NULL);
    /* The same as a ratio the report checks: image bytes / object bytes <= 2. */
    emit("image_bytes_written", (double)(b.program_bytes - a.program_bytes), "bytes", NULL);
    emit_goal("object_bytes_saved", (double)bytes, "bytes", "image_bytes_written", "<=2");
    emit("erased_bytes_per_byte", (double)(b.erase_bytes - a.erase_bytes) / (double)bytes,
         "bytes/byte", NULL);
    lwss_nvm_close();
    unsetenv("LWSS_NVM_SYNC");
    return wa <= 2.0 ? 0 : (fprintf(stderr, "bench_nvm: write amplification %.2f > 2\n", wa), 1);
}

static int bench_find_read(void)
{
    double t0 = bench_now_s();
    if (lwss_nvm_open(NULL) != 0) {
        return fail("open");
    }
    emit("open_ms", (bench_now_s() - t0) * 1000.0, "ms", NULL);
    lwss_flash_stats a, b;
    lwss_nvm_flash_stats(&a);
    const unsigned n = 200000;
    t0 = bench_now_s();
    for (unsigned i = 0; i < n; i++) {
        const bench_obj *o = &objs[i % NOBJ];
        uint32_t h = lwss_nvm_find((const uint8_t *)o->label, strlen(o->label), o->cls);
        uint8_t *data = NULL;
        size_t len = 0;
        if (h == 0 || lwss_nvm_get_value(h, &data, &len) != 0 || len != o->len) {
            return fail("find + read");
        }
        lwss_nvm_free_value(data, len);
    }
    double t = bench_now_s() - t0;
    lwss_nvm_flash_stats(&b);
    lwss_nvm_close();
    emit("find_read_per_s", n / t, "1/s", NULL);
    emit("find_read_file_reads", (double)(b.file_reads - a.file_reads), "reads", NULL);
    if (b.file_reads != a.file_reads) {
        fprintf(stderr, "bench_nvm: find + read touched the file\n");
        return 1;
    }
    return 0;
}

int main(void)
{
    const char *build = getenv("LWSS_BUILD");
    /* On disk (not tmpfs), so that fdatasync costs what it costs. */
    snprintf(dir, sizeof(dir), "%s/bench", build != NULL ? build : "build");
    mkdir(dir, 0700);
    snprintf(img, sizeof(img), "%s/bench-nvm.img", dir);
    unlink(img);
    if (lwss_nvm_set_path(img) != 0) {
        return 1;
    }
    int ret = bench_saves();
    if (ret == 0) {
        ret = bench_txn();
    }
    if (ret == 0) {
        ret = bench_find_read();
    }
    unlink(img);
    return ret;
}
