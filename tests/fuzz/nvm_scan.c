/*
 * libFuzzer target over the NVM open/scan path: any bytes are an image.
 * The first byte picks a mode: bit 0 repairs the CRCs of whatever looks
 * like a sector or record header (so mutations reach the checks behind the
 * CRCs), bit 1 then writes to the scanned store (save, destroy, collect)
 * and re-scans the result: a save that succeeded must read back exactly and
 * no other object may be lost or changed; bit 2 cuts the power during those
 * writes (after mode >> 3 operations): the saved object is old or new.
 */
#include "lwss/nvm.h"
#include "pal/crc32.h"
#include "pal/flash.h"
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

/* Keys of the live objects before the writes (the one destroyed excluded). */
typedef struct {
    lwss_nvm_meta meta[64];
    uint32_t value_crc[64];
    uint32_t value_len[64];
    size_t n;
} key_list;

static void remember_keys(const lwss_store *st, key_list *keys, uint32_t skip_handle)
{
    keys->n = 0;
    for (size_t i = 0; i < st->nent && keys->n < 64; i++) {
        if (st->ent[i].live && i + 1u != skip_handle) {
            keys->value_len[keys->n] = st->ent[i].data_len;
            keys->value_crc[keys->n] =
                lwss_crc32(0, lwss_store_value(st, &st->ent[i]), st->ent[i].data_len);
            keys->meta[keys->n++] = st->ent[i].meta;
        }
    }
}

/* Nothing that was live and not written to may disappear or change. */
static void check_keys(const lwss_store *st, const key_list *keys, const lwss_nvm_meta *written)
{
    for (size_t i = 0; i < keys->n; i++) {
        const lwss_nvm_meta *m = &keys->meta[i];
        if (m->cls == written->cls && m->label_len == written->label_len &&
            memcmp(m->label, written->label, m->label_len) == 0) {
            continue;
        }
        const lwss_store_entry *e =
            lwss_store_get(st, lwss_store_find(st, m->label, m->label_len, m->cls));
        if (e == NULL || e->data_len != keys->value_len[i] ||
            lwss_crc32(0, lwss_store_value(st, e), e->data_len) != keys->value_crc[i]) {
            fprintf(stderr, "object '%.*s' lost or changed\n", (int)m->label_len,
                    (const char *)m->label);
            abort();
        }
    }
}

/* CRC of the value of (label, cls), or 0 with *present = 0. */
static uint32_t value_crc(const lwss_store *st, const lwss_nvm_meta *m, int *present)
{
    const lwss_store_entry *e =
        lwss_store_get(st, lwss_store_find(st, m->label, m->label_len, m->cls));
    *present = e != NULL;
    return e != NULL ? lwss_crc32(0, lwss_store_value(st, e), e->data_len) : 0;
}

static void check_rescan(const lwss_store *st, const key_list *keys, const lwss_nvm_meta *m,
                         int expect, int had_old, uint32_t old_crc)
{
    static const uint8_t value[] = "fuzzed value that must survive";
    if (expect && !has_value(st, m, value, sizeof(value))) {
        abort();
    }
    int present = 0;
    uint32_t crc = value_crc(st, m, &present);
    if (present && !has_value(st, m, value, sizeof(value)) && !(had_old && crc == old_crc)) {
        fprintf(stderr, "written object is neither old nor new\n");
        abort();
    }
    check_keys(st, keys, m);
}

/* Save, destroy, collect - cut after @p cut_op operations when >= 0 - then
 * scan the result again: what was written is there (or, after a cut, old
 * or new), nothing else changed. */
static void write_and_rescan(lwss_store *st, int cut_op, uint32_t cut_byte)
{
    static const uint8_t value[] = "fuzzed value that must survive";
    key_list *keys = malloc(sizeof(*keys));
    if (keys == NULL) {
        return;
    }
    remember_keys(st, keys, 1);
    lwss_nvm_meta m;
    memset(&m, 0, sizeof(m));
    memcpy(m.label, "fuzz", 4);
    m.label_len = 4;
    int had_old = 0;
    uint32_t old_crc = value_crc(st, &m, &had_old);
    if (cut_op >= 0) {
        lwss_flash_fault_arm((uint64_t)cut_op, cut_byte);
    }
    int64_t h = lwss_store_put(st, &m, value, sizeof(value), 0);
    if (st->nent > 0) {
        (void)lwss_store_del(st, 1, 0);
    }
    (void)lwss_store_gc(st);
    int cut = lwss_flash_fault_tripped();
    lwss_flash_fault_disarm();
    if (st->broken && !cut) {
        fprintf(stderr, "store broken: %s\n", lwss_last_error());
        abort(); /* a RAM flash only fails on a 0 -> 1 program: a store bug */
    }
    int expect = h > 0 && !cut && lwss_store_get(st, (uint32_t)h) != NULL;
    lwss_flash *again = NULL;
    lwss_store *st2 = NULL;
    if (lwss_flash_open_mem(&again, lwss_flash_map(st->fl), lwss_flash_size(st->fl), 0) == 0) {
        if (lwss_store_open(&st2, again, NULL, SIZE_MAX) == 0) {
            read_all(st2);
            check_rescan(st2, keys, &m, expect, had_old, old_crc);
            lwss_store_close(st2);
        } else if (expect) {
            abort(); /* we wrote it, it must open */
        }
    }
    free(keys);
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
            /* bit 2: a power cut after (mode >> 3) operations, inside the next one */
            write_and_rescan(st, (mode & 4u) ? mode >> 3 : -1, (uint32_t)img[len - 1] * 2u);
        }
        lwss_store_close(st);
    }
    free(img);
    return 0;
}
