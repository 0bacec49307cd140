/*
 * libFuzzer target over the NVM open/scan path: any bytes are an image.
 * The first byte picks a mode: bit 0 repairs the CRCs of whatever looks
 * like a sector or record header (so mutations reach the checks behind the
 * CRCs), bit 1 then writes to the scanned store (save, destroy, collect)
 * and re-scans the result: a save that succeeded must read back exactly.
 */
#include "lwss/nvm.h"
#include "pal/crc32.h"
#include "pal/layout.h"
#include "pal/store.h"

#include "lwss/port.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void repair_crcs(uint8_t *img, size_t len)
{
    for (size_t off = 0; off + LWSS_NVM_SHDR_SIZE <= len; off += LWSS_NVM_MIN_SECTOR) {
        if (memcmp(img + off, "LWNV", 4) == 0) {
            lwss_put_le32(img + off + 8, (uint32_t)len);
            lwss_put_le32(img + off + 20, lwss_crc32(0, img + off, 20));
            if (lwss_le32(img + off + 24) != 0xFFFFFFFFu) {
                lwss_put_le32(img + off + 28, lwss_crc32(0, img + off + 20, 8));
            }
        }
    }
    for (size_t off = 0; off + LWSS_NVM_RHDR_SIZE <= len; off += 4) {
        if (memcmp(img + off, "LWRC", 4) != 0) {
            continue;
        }
        uint32_t body = (uint32_t)img[off + 9] + img[off + 10] + lwss_le32(img + off + 20);
        if (body <= len - off - LWSS_NVM_RHDR_SIZE) {
            lwss_put_le32(img + off + 24, lwss_crc32(0, img + off + LWSS_NVM_RHDR_SIZE, body));
        }
        lwss_put_le32(img + off + 28, lwss_crc32(0, img + off, 28));
    }
}

/* Touch every value (ASan checks the bounds) and look each label up. */
static void read_all(const lwss_store *st)
{
    volatile uint32_t sink = 0;
    for (size_t i = 0; i < st->nent; i++) {
        const lwss_store_entry *e = lwss_store_get(st, (uint32_t)i + 1u);
        if (e == NULL) {
            continue;
        }
        sink ^= lwss_crc32(0, lwss_store_value(st, e), e->data_len);
        if (lwss_store_find(st, e->meta.label, e->meta.label_len, e->meta.cls) == 0) {
            abort();
        }
    }
    (void)sink;
}

static int has_value(const lwss_store *st, const lwss_nvm_meta *m, const uint8_t *v, size_t n)
{
    const lwss_store_entry *e =
        lwss_store_get(st, lwss_store_find(st, m->label, m->label_len, m->cls));
    return e != NULL && e->data_len == n && memcmp(lwss_store_value(st, e), v, n) == 0;
}

static void write_and_rescan(lwss_store *st)
{
    static const uint8_t value[] = "fuzzed value that must survive";
    lwss_nvm_meta m;
    memset(&m, 0, sizeof(m));
    memcpy(m.label, "fuzz", 4);
    m.label_len = 4;
    int64_t h = lwss_store_put(st, &m, value, sizeof(value));
    if (st->nent > 0) {
        (void)lwss_store_del(st, 1);
    }
    (void)lwss_store_gc(st);
    if (st->broken) {
        fprintf(stderr, "store broken: %s\n", lwss_last_error());
        abort(); /* a RAM flash only fails on a 0 -> 1 program: a store bug */
    }
    int expect = h > 0 && !st->broken && lwss_store_get(st, (uint32_t)h) != NULL;
    lwss_flash *again = NULL;
    lwss_store *st2 = NULL;
    if (lwss_flash_open_mem(&again, lwss_flash_map(st->fl), lwss_flash_size(st->fl), 0) != 0) {
        return;
    }
    if (lwss_store_open(&st2, again, NULL, SIZE_MAX) != 0) {
        if (expect) {
            abort(); /* we wrote it, it must open */
        }
        return;
    }
    read_all(st2);
    if (expect && !has_value(st2, &m, value, sizeof(value))) {
        abort();
    }
    lwss_store_close(st2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 1u + 256u * 1024u) {
        return 0;
    }
    uint8_t mode = data[0];
    size_t len = size - 1;
    uint8_t *img = malloc(len);
    if (img == NULL) {
        return 0;
    }
    memcpy(img, data + 1, len);
    if (mode & 1u) {
        repair_crcs(img, len);
    }
    lwss_flash *fl = NULL;
    lwss_store *st = NULL;
    if (lwss_flash_open_mem(&fl, img, len, (mode & 2u) != 0) == 0 &&
        lwss_store_open(&st, fl, NULL, 64) == 0) {
        read_all(st);
        if (mode & 2u) {
            write_and_rescan(st);
        }
        lwss_store_close(st);
    }
    free(img);
    return 0;
}
