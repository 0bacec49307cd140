/* Helpers shared by the nvm test files, and the nvm suite itself. */
#include "tests/support/nvm_util.h"
#include "tests/support/lwss_test.h"
#include "pal/flash.h"
#include "pal/nvm_internal.h"

#include "lwss/pkcs11_std.h"
#include "lwss/port.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const lwss_nvm_geometry lwss_tnvm_small = {8u * 512u, 512u};

static char tnvm_dir[256];
static char tnvm_img[300];

void lwss_tnvm_begin(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(tnvm_dir, sizeof(tnvm_dir), "%s/lwss-nvm-test-XXXXXX", base);
    ck_assert_ptr_nonnull(mkdtemp(tnvm_dir));
    snprintf(tnvm_img, sizeof(tnvm_img), "%s/nvm.img", tnvm_dir);
    ck_assert_int_eq(lwss_nvm_set_path(tnvm_img), 0);
}

void lwss_tnvm_end(void)
{
    lwss_nvm_close();
    unlink(tnvm_img);
    rmdir(tnvm_dir);
    lwss_nvm_set_path(NULL);
}

void lwss_tnvm_setup(void)
{
    lwss_leak_setup_fds(); /* heap: ASan / valgrind (see the report on mallinfo2) */
    lwss_tnvm_begin();
}

void lwss_tnvm_teardown(void)
{
    lwss_flash_fault_disarm();
    lwss_tnvm_end();
    lwss_leak_teardown_fds();
}

int lwss_tnvm_wait_ok(pid_t pid)
{
    int status = 0;
    if (waitpid(pid, &status, 0) != pid) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *lwss_tnvm_path(void)
{
    return tnvm_img;
}

lwss_nvm_meta lwss_tnvm_meta(const char *label, uint32_t cls, int is_private)
{
    lwss_nvm_meta m;
    memset(&m, 0, sizeof(m));
    m.label_len = (uint32_t)strlen(label);
    memcpy(m.label, label, m.label_len);
    m.cls = cls;
    m.key_type = 0xFFFFFFFFu; /* CK_UNAVAILABLE_INFORMATION */
    m.is_private = (uint8_t)is_private;
    return m;
}

void lwss_tnvm_pattern(uint8_t *buf, size_t len, uint32_t ver)
{
    uint32_t x = ver * 2654435761u + (uint32_t)len;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
}

uint32_t lwss_tnvm_put(const char *label, size_t len, uint32_t ver)
{
    uint8_t buf[8192];
    ck_assert_uint_le(len, sizeof(buf));
    lwss_tnvm_pattern(buf, len, ver);
    lwss_nvm_meta m = lwss_tnvm_meta(label, CKO_DATA, 0);
    uint32_t h = lwss_nvm_save(&m, buf, len);
    ck_assert_msg(h != 0, "save %s v%u (%zu bytes): %s", label, ver, len, lwss_last_error());
    return h;
}

int lwss_tnvm_has(const char *label, size_t len, uint32_t ver)
{
    uint32_t h = lwss_nvm_find((const uint8_t *)label, strlen(label), CKO_DATA);
    if (h == 0) {
        return 0;
    }
    uint8_t *data = NULL;
    size_t got = 0;
    if (lwss_nvm_get_value(h, &data, &got) != 0) {
        return 0;
    }
    uint8_t want[8192];
    int same = got == len && len <= sizeof(want);
    if (same) {
        lwss_tnvm_pattern(want, len, ver);
        same = memcmp(want, data, len) == 0;
    }
    lwss_nvm_free_value(data, got);
    return same;
}

uint8_t *lwss_tnvm_read_image(size_t *len)
{
    FILE *f = fopen(tnvm_img, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    ck_assert_int_gt(n, 0);
    uint8_t *img = malloc((size_t)n);
    ck_assert_ptr_nonnull(img);
    ck_assert_uint_eq(fread(img, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return img;
}

void lwss_tnvm_write_image(const uint8_t *img, size_t len)
{
    int fd = open(tnvm_img, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, img, len), (ssize_t)len);
    close(fd);
}

Suite *nvm_suite(void);

Suite *nvm_suite(void)
{
    Suite *s = suite_create("nvm");
    lwss_tnvm_add_api(s);
    lwss_tnvm_add_fault(s);
    lwss_tnvm_add_stress(s);
    lwss_tnvm_add_cli(s);
    lwss_tnvm_add_txn(s);
    return s;
}

void lwss_tnvm_fill_to_reserve(void)
{
    for (uint32_t v = 100; v < 200; v++) {
        lwss_store_sector sec[64];
        uint32_t n = 0, free_count = 0;
        ck_assert_int_eq(lwss_nvm_sector_info(sec, 64, &n), 0);
        for (uint32_t s = 0; s < n; s++) {
            free_count += sec[s].state != LWSS_SEC_USED;
        }
        if (free_count <= 1) {
            return;
        }
        lwss_tnvm_put("churn", 200, v);
    }
    ck_abort_msg("image never filled");
}
