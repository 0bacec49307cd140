/* Writing the log: appends, sectors joining the log, and the collector.
 *
 * Power-loss rules: a record is valid only when both its CRCs are, so a cut
 * append leaves the previous version in force; a collection copies live
 * records (same sequence) and makes them durable before it marks and erases
 * the victim, so a cut anywhere leaves either the original or the copy. */
#include "pal/crc32.h"
#include "pal/layout.h"
#include "pal/store.h"

#include "src/core/core.h"
#include "lwss/status.h"

#include <string.h>

static int broken(lwss_store *st, int ret)
{
    st->broken = 1;
    return ret;
}

static uint32_t payload(const lwss_store *st)
{
    return st->ssize - LWSS_NVM_SHDR_SIZE;
}

static uint32_t max_known_count(const lwss_store *st)
{
    uint32_t m = 0;
    for (uint32_t s = 0; s < st->nsec; s++) {
        if (st->sec[s].count_known && st->sec[s].erase_count > m) {
            m = st->sec[s].erase_count;
        }
    }
    return m;
}

/* Erase sector @p s and give it a fresh static header (one more erase). */
static int erase_sector(lwss_store *st, uint32_t s)
{
    lwss_store_sector *sec = &st->sec[s];
    /* A lost count (header destroyed) is estimated high, never low. */
    uint32_t count = (sec->count_known ? sec->erase_count : max_known_count(st)) + 1u;
    uint8_t hdr[LWSS_NVM_SHDR_STATIC];
    lwss_shdr_encode_static(hdr, st->size, st->ssize, count);
    sec->state = LWSS_SEC_DIRTY;
    int ret = lwss_flash_erase(st->fl, s * st->ssize, st->ssize);
    if (ret == 0) {
        ret = lwss_flash_program(st->fl, s * st->ssize, hdr, sizeof(hdr));
    }
    if (ret != 0) {
        return broken(st, ret);
    }
    memset(sec, 0, sizeof(*sec));
    sec->state = LWSS_SEC_FREE;
    sec->count_known = 1;
    sec->erase_count = count;
    return 0;
}

int lwss_store_format(lwss_store *st)
{
    const uint8_t *img = lwss_flash_map(st->fl);
    for (uint32_t s = 0; s < st->nsec; s++) {
        uint8_t hdr[LWSS_NVM_SHDR_STATIC];
        int ret;
        st->sec[s].state = LWSS_SEC_DIRTY;
        const uint8_t *base = img + s * st->ssize;
        if (base[0] != 0xFF || memcmp(base, base + 1, st->ssize - 1) != 0) {
            ret = erase_sector(st, s); /* left over from a cut format or creation */
        } else {
            lwss_shdr_encode_static(hdr, st->size, st->ssize, 0);
            ret = lwss_flash_program(st->fl, s * st->ssize, hdr, sizeof(hdr));
            st->sec[s].state = LWSS_SEC_FREE;
            st->sec[s].count_known = 1;
        }
        if (ret != 0) {
            return broken(st, ret);
        }
    }
    st->head = -1;
    st->next_seq = 1;
    st->next_sector_seq = 1;
    return lwss_flash_sync(st->fl);
}

static uint32_t free_sectors(const lwss_store *st)
{
    uint32_t n = 0;
    for (uint32_t s = 0; s < st->nsec; s++) {
        n += st->sec[s].state != LWSS_SEC_USED;
    }
    return n;
}

/* The least-worn erasable sector; ties go to the first after the head. */
static int pick_free(const lwss_store *st)
{
    int best = -1;
    uint32_t best_count = 0, est = max_known_count(st);
    uint32_t start = st->head >= 0 ? (uint32_t)st->head + 1u : 0u;
    for (uint32_t i = 0; i < st->nsec; i++) {
        uint32_t s = (start + i) % st->nsec;
        if (st->sec[s].state == LWSS_SEC_USED) {
            continue;
        }
        uint32_t count = st->sec[s].count_known ? st->sec[s].erase_count : est;
        if (best < 0 || count < best_count) {
            best = (int)s;
            best_count = count;
        }
    }
    return best;
}

/* Make a free sector the new head of the log. */
static int activate(lwss_store *st, uint32_t s)
{
    int ret = 0;
    if (st->sec[s].state == LWSS_SEC_DIRTY) {
        ret = erase_sector(st, s);
        if (ret != 0) {
            return ret;
        }
    }
    uint8_t seq[8];
    lwss_shdr_encode_seq(seq, lwss_flash_map(st->fl) + s * st->ssize, st->next_sector_seq);
    ret = lwss_flash_program(st->fl, s * st->ssize + LWSS_NVM_SHDR_SEQ_OFF, seq, sizeof(seq));
    if (ret != 0) {
        return broken(st, ret);
    }
    lwss_store_sector *sec = &st->sec[s];
    sec->state = LWSS_SEC_USED;
    sec->seq = st->next_sector_seq++;
    sec->write_off = LWSS_NVM_SHDR_SIZE;
    sec->live_bytes = 0;
    sec->records = 0;
    st->head = (int)s;
    return 0;
}

static int collect(lwss_store *st);

/* Room for @p extent bytes at the head.  Ordinary appends keep one free
 * sector in reserve so that a collection always has somewhere to copy to;
 * when a cut collection used it up, the collection is finished first. */
static int ensure_room(lwss_store *st, uint32_t extent, int for_gc)
{
    for (uint32_t round = 0; round < 2u * st->nsec + 2u; round++) {
        uint32_t free_count = free_sectors(st);
        if (st->head >= 0 && st->ssize - st->sec[st->head].write_off >= extent &&
            (for_gc || free_count > 0)) {
            return 0;
        }
        if (free_count > (for_gc ? 0u : 1u)) {
            int ret = activate(st, (uint32_t)pick_free(st));
            if (ret != 0) {
                return ret;
            }
            continue;
        }
        if (for_gc) {
            break;
        }
        int ret = collect(st);
        if (ret != 0) {
            return ret;
        }
    }
    return lwss_set_error(LWSS_NVM_ERR_FULL, "nvm: image full (no room for %u bytes)", extent);
}

/* Does entry @p e have to move when its sector is collected?  Live records
 * always; delete records only when older sectors may hold what they hide. */
static int must_copy(const lwss_store_entry *e, int keep_dels)
{
    return e->live || (keep_dels && e->extent != 0);
}

/* Entry to copy with the lowest record offset in [lo, hi), or NULL. */
static lwss_store_entry *next_to_copy(lwss_store *st, uint32_t lo, uint32_t hi, int keep_dels)
{
    lwss_store_entry *best = NULL;
    /* The committed states an open transaction replaced must survive too:
     * a cut before its commit brings them back. */
    for (size_t i = 0; i < st->nent + st->nundo; i++) {
        lwss_store_entry *e = i < st->nent ? &st->ent[i] : &st->undo[i - st->nent].saved;
        if (must_copy(e, keep_dels) && e->rec_off >= lo && e->rec_off < hi &&
            (best == NULL || e->rec_off < best->rec_off)) {
            best = e;
        }
    }
    return best;
}

/* Calls @p fn for each valid commit record of sector @p v (in order). */
static int each_commit(lwss_store *st, uint32_t v, int (*fn)(lwss_store *, uint32_t, uint32_t),
                       uint32_t *bytes)
{
    const uint8_t *img = lwss_flash_map(st->fl);
    uint32_t base = v * st->ssize, off = LWSS_NVM_SHDR_SIZE;
    while (off + LWSS_NVM_RHDR_SIZE <= st->ssize) {
        lwss_rhdr h;
        if (!lwss_rhdr_decode(img + base + off, &h) || lwss_rec_extent(&h) > st->ssize - off) {
            off += 4;
            continue;
        }
        uint32_t ext = lwss_rec_extent(&h);
        if (h.type == LWSS_NVM_REC_COMMIT &&
            lwss_crc32(0, img + base + off + LWSS_NVM_RHDR_SIZE, lwss_rec_body_len(&h)) ==
                h.body_crc) {
            *bytes += ext;
            int ret = fn != NULL ? fn(st, base + off, ext) : 0;
            if (ret != 0) {
                return ret;
            }
        }
        off += ext;
    }
    return 0;
}

/* Would the copies out of sector @p v fit, placed as copy_record() will? */
static int copies_fit(lwss_store *st, uint32_t v, int keep_dels)
{
    uint32_t lo = v * st->ssize, hi = lo + st->ssize, at = lo;
    uint32_t room = st->head >= 0 ? st->ssize - st->sec[st->head].write_off : 0;
    uint32_t spare = free_sectors(st);
    uint32_t commits = 0;
    if (keep_dels) {
        (void)each_commit(st, v, NULL, &commits);
    }
    if (commits > 0) {
        /* kept commit records go last; count them as one more record */
        if (commits > room) {
            if (spare == 0) {
                return 0;
            }
            spare--;
            room = payload(st);
        }
        room -= commits;
    }
    for (;;) {
        const lwss_store_entry *e = next_to_copy(st, at, hi, keep_dels);
        if (e == NULL) {
            return 1;
        }
        if (e->extent > room) {
            if (spare == 0) {
                return 0;
            }
            spare--;
            room = payload(st);
        }
        room -= e->extent;
        at = e->rec_off + 1u;
    }
}

/* Log order of sectors: sequence, then index (salvaged sectors share 0). */
static int log_before(const lwss_store *st, uint32_t a, uint32_t b)
{
    return st->sec[a].seq < st->sec[b].seq || (st->sec[a].seq == st->sec[b].seq && a < b);
}

/* The sector to collect: the oldest of the log (not the head), else - when
 * its copies do not fit, as after a cut collection - the oldest that fits.
 * @p keep_dels is set unless delete records may be dropped: only in the
 * true oldest sector, and never in a salvaged one (its place is unknown).
 * @return the sector, or -1 when none fits. */
static int pick_victim(lwss_store *st, int *keep_dels)
{
    int prev = -1;
    for (uint32_t rank = 0; rank < st->nsec; rank++) {
        int v = -1;
        for (uint32_t s = 0; s < st->nsec; s++) {
            if (st->sec[s].state == LWSS_SEC_USED && (int)s != st->head &&
                (prev < 0 || log_before(st, (uint32_t)prev, s)) &&
                (v < 0 || log_before(st, s, (uint32_t)v))) {
                v = (int)s;
            }
        }
        if (v < 0) {
            return -1;
        }
        *keep_dels = rank > 0 || st->sec[v].salvage;
        if (copies_fit(st, (uint32_t)v, *keep_dels)) {
            return v;
        }
        prev = v;
    }
    return -1;
}

/* Copy the record of @p e to the head, same sequence and bytes. */
static int copy_record(lwss_store *st, lwss_store_entry *e)
{
    int ret = ensure_room(st, e->extent, 1);
    if (ret != 0) {
        return ret;
    }
    const uint8_t *img = lwss_flash_map(st->fl);
    lwss_store_sector *head = &st->sec[st->head];
    uint32_t dst = (uint32_t)st->head * st->ssize + head->write_off;
    lwss_rhdr h;
    if (!lwss_rhdr_decode(img + e->rec_off, &h)) {
        return broken(st, lwss_set_error(LWSS_ERR_IO, "nvm: indexed record at %u unreadable",
                                         e->rec_off));
    }
    /* A committed transaction record is copied as a plain one: the commit
     * record covering it may be collected before the copy. */
    if ((h.flags & LWSS_NVM_FLAG_TXN) && !(st->txn_active && h.seq >= st->txn_first)) {
        h.flags &= (uint8_t)~LWSS_NVM_FLAG_TXN;
    }
    uint8_t hdr[LWSS_NVM_RHDR_SIZE];
    lwss_rhdr_encode(hdr, &h);
    ret = lwss_flash_program(st->fl, dst, hdr, sizeof(hdr));
    if (ret == 0) {
        ret = lwss_flash_program(st->fl, dst + LWSS_NVM_RHDR_SIZE,
                                 img + e->rec_off + LWSS_NVM_RHDR_SIZE, lwss_rec_body_len(&h));
    }
    if (ret != 0) {
        return broken(st, ret);
    }
    head->write_off += e->extent;
    head->records++;
    uintptr_t at = (uintptr_t)e, first = (uintptr_t)st->undo;
    int undo = st->nundo > 0 && at >= first && at < first + st->nundo * sizeof(*st->undo);
    if (undo) {
        e->rec_off = dst; /* the index holds a newer (pending) version */
        return 0;
    }
    return lwss_store_apply(st, dst, img + dst);
}

/* Copy the commit record at @p off (@p ext bytes) to the head as it is. */
static int copy_commit(lwss_store *st, uint32_t off, uint32_t ext)
{
    int ret = ensure_room(st, ext, 1);
    if (ret != 0) {
        return ret;
    }
    lwss_store_sector *head = &st->sec[st->head];
    uint32_t dst = (uint32_t)st->head * st->ssize + head->write_off;
    const uint8_t *img = lwss_flash_map(st->fl);
    ret = lwss_flash_program(st->fl, dst, img + off, ext); /* padding is 0xFF: no-op */
    if (ret != 0) {
        return broken(st, ret);
    }
    head->write_off += ext;
    head->records++;
    return 0;
}

/* Collect a sector: copy what must survive, make it durable, mark the
 * victim obsolete, erase it.  In the oldest sector delete records are
 * dropped: everything they hide is older, so it sits in this sector or was
 * erased before. */
static int collect(lwss_store *st)
{
    int keep_dels = 0;
    int v = pick_victim(st, &keep_dels);
    if (v < 0) {
        return lwss_set_error(LWSS_NVM_ERR_FULL, "nvm: image full (nothing to collect)");
    }
    uint32_t lo = (uint32_t)v * st->ssize, hi = lo + st->ssize;
    lwss_store_entry *e;
    int ret = 0;
    while (ret == 0 && (e = next_to_copy(st, lo, hi, keep_dels)) != NULL) {
        ret = copy_record(st, e);
    }
    uint32_t commits = 0;
    if (ret == 0 && keep_dels) {
        /* Older sectors may still hold records these commits cover. */
        ret = each_commit(st, (uint32_t)v, copy_commit, &commits);
    }
    if (ret != 0) {
        return ret;
    }
    for (size_t i = 0; i < st->nent; i++) {
        if (!st->ent[i].live && st->ent[i].rec_off >= lo && st->ent[i].rec_off < hi) {
            st->ent[i].extent = 0; /* its delete record is gone */
        }
    }
    static const uint8_t obsolete = 0x00;
    ret = lwss_flash_sync(st->fl);
    if (ret == 0) {
        ret = lwss_flash_program(st->fl, lo + LWSS_NVM_SHDR_OBSOLETE_OFF, &obsolete, 1);
    }
    if (ret != 0) {
        return broken(st, ret);
    }
    ret = erase_sector(st, (uint32_t)v);
    return ret == 0 ? lwss_flash_sync(st->fl) : ret;
}

int lwss_store_gc(lwss_store *st)
{
    if (st->broken) {
        return lwss_set_error(LWSS_ERR_IO, "nvm: a write failed earlier; reopen the image");
    }
    return collect(st);
}

size_t lwss_store_max_value(const lwss_store *st, size_t label_len, size_t id_len)
{
    size_t room = payload(st) - LWSS_NVM_RHDR_SIZE;
    return room > label_len + id_len ? room - label_len - id_len : 0;
}

/* Append one record (header, label, id, value) at the head and index it.
 * Records of a transaction are synced by its commit, not one by one. */
int lwss_store_append(lwss_store *st, lwss_rhdr *h, const lwss_nvm_meta *meta,
                      const uint8_t *data, int in_txn)
{
    uint32_t extent = lwss_rec_extent(h);
    int ret = ensure_room(st, extent, 0);
    if (ret != 0) {
        return ret;
    }
    h->seq = st->next_seq++;
    if (in_txn) {
        h->flags |= LWSS_NVM_FLAG_TXN;
    }
    uint32_t crc = lwss_crc32(0, meta->label, h->label_len);
    crc = lwss_crc32(crc, meta->id, h->id_len);
    h->body_crc = lwss_crc32(crc, data, h->data_len);
    uint8_t hdr[LWSS_NVM_RHDR_SIZE];
    lwss_rhdr_encode(hdr, h);
    lwss_store_sector *head = &st->sec[st->head];
    uint32_t off = (uint32_t)st->head * st->ssize + head->write_off;
    uint32_t at = off;
    ret = lwss_flash_program(st->fl, at, hdr, sizeof(hdr));
    at += sizeof(hdr);
    if (ret == 0) {
        ret = lwss_flash_program(st->fl, at, meta->label, h->label_len);
        at += h->label_len;
    }
    if (ret == 0) {
        ret = lwss_flash_program(st->fl, at, meta->id, h->id_len);
        at += h->id_len;
    }
    if (ret == 0 && h->data_len > 0) {
        ret = lwss_flash_program(st->fl, at, data, h->data_len);
    }
    if (ret == 0 && !in_txn) {
        ret = lwss_flash_sync(st->fl);
    }
    if (ret != 0) {
        return broken(st, ret);
    }
    head->write_off += extent;
    head->records++;
    if (h->type == LWSS_NVM_REC_COMMIT) {
        return 0;
    }
    long before = lwss_store_slot(st, meta->label, meta->label_len, meta->cls);
    lwss_store_entry pre;
    memset(&pre, 0, sizeof(pre));
    if (before >= 0) {
        pre = st->ent[before];
    }
    ret = lwss_store_apply(st, off, lwss_flash_map(st->fl) + off);
    if (ret == 0) {
        lwss_store_txn_note(st, before >= 0 ? (size_t)before : st->nent - 1u, &pre, in_txn);
    }
    return ret;
}

static void fill_header(lwss_rhdr *h, uint8_t type, const lwss_nvm_meta *meta, size_t len)
{
    memset(h, 0, sizeof(*h));
    h->type = type;
    h->label_len = (uint8_t)meta->label_len;
    h->id_len = meta->id_len;
    h->flags = meta->is_private ? LWSS_NVM_FLAG_PRIVATE : 0;
    h->cls = meta->cls;
    h->key_type = meta->key_type;
    h->data_len = (uint32_t)len;
}

int lwss_store_broken(lwss_store *st)
{
    return st->broken
               ? lwss_set_error(LWSS_ERR_IO, "nvm: a write failed earlier; reopen the image")
               : 0;
}

int64_t lwss_store_put(lwss_store *st, const lwss_nvm_meta *meta, const uint8_t *data,
                       size_t len, int in_txn)
{
    if (st->broken) {
        return lwss_store_broken(st);
    }
    if (len > lwss_store_max_value(st, meta->label_len, meta->id_len)) {
        return lwss_set_error(LWSS_ERR_INVAL,
                              "nvm: object of %zu bytes too large (at most %zu with %u-byte "
                              "sectors)",
                              len, lwss_store_max_value(st, meta->label_len, meta->id_len),
                              st->ssize);
    }
    if (meta->cls == LWSS_NVM_ANY_CLASS) {
        return lwss_set_error(LWSS_ERR_INVAL, "nvm: LWSS_NVM_ANY_CLASS is no class to store");
    }
    uint32_t existing = lwss_store_find(st, meta->label, meta->label_len, meta->cls);
    if (existing == 0 && st->live_count >= st->max_objects) {
        return lwss_set_error(LWSS_NVM_ERR_FULL, "nvm: object limit (%zu) reached",
                              st->max_objects);
    }
    lwss_rhdr h;
    fill_header(&h, LWSS_NVM_REC_PUT, meta, len);
    /* The old version stays live until the new one is complete (until the
     * commit, with its commit record, in a transaction). */
    uint64_t need = st->live_total + lwss_rec_extent(&h) +
                    (st->txn_active ? lwss_store_undo_bytes(st) + LWSS_NVM_COMMIT_EXTENT : 0u);
    if (need > (uint64_t)(st->nsec - 1u) * payload(st)) {
        return lwss_set_error(LWSS_NVM_ERR_FULL, "nvm: image full (%llu bytes live)",
                              (unsigned long long)st->live_total);
    }
    int ret = lwss_store_append(st, &h, meta, data, in_txn);
    if (ret != 0) {
        return ret;
    }
    return lwss_store_find(st, meta->label, meta->label_len, meta->cls);
}

int lwss_store_del(lwss_store *st, uint32_t handle, int in_txn)
{
    if (st->broken) {
        return lwss_set_error(LWSS_ERR_IO, "nvm: a write failed earlier; reopen the image");
    }
    const lwss_store_entry *e = lwss_store_get(st, handle);
    if (e == NULL) {
        return 0; /* already absent */
    }
    lwss_nvm_meta meta = e->meta;
    meta.is_private = 0;
    meta.key_type = 0;
    meta.id_len = 0;
    lwss_rhdr h;
    fill_header(&h, LWSS_NVM_REC_DEL, &meta, 0);
    return lwss_store_append(st, &h, &meta, NULL, in_txn);
}
