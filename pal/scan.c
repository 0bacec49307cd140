/* Opening a store: find the geometry, classify sectors, replay the log.
 * Every input is bounded: offsets only grow, every length is checked
 * against the sector before it is used. */
#include "pal/crc32.h"
#include "pal/layout.h"
#include "pal/store.h"

#include "src/core/core.h"
#include "lwss/status.h"

#include <stdlib.h>
#include <string.h>

void lwss_store_note_damage(lwss_store *st, uint32_t off, uint8_t kind)
{
    if (st->dmg != NULL && st->ndmg < LWSS_STORE_DMG_KEEP) {
        st->dmg[st->ndmg].off = off;
        st->dmg[st->ndmg].kind = kind;
        st->ndmg++;
    }
    st->dmg_total++;
}

/* A record whose header is good and whose body is not may be a write cut
 * short by a power loss: the last record written when the cut came (its
 * sequence is the newest), later retried under the same sequence number
 * (the store reuses it after reopening).  Such a record lost nothing: the
 * previous version of its object is in force.  Its body then also ends
 * unprogrammed (0xFF), as a cut leaves it.  Anything else is damage. */
static void torn_note(lwss_store *st, uint32_t off, uint32_t seq, const uint8_t *body,
                      uint32_t body_len)
{
    if (st->torn != NULL && st->ntorn < LWSS_STORE_DMG_KEEP && body_len > 0 &&
        body[body_len - 1] == 0xFF) {
        st->torn[st->ntorn++] = (lwss_store_torn){.off = off, .seq = seq, .superseded = 0};
    }
}

static void torn_valid_seen(lwss_store *st, uint32_t seq)
{
    for (size_t i = 0; i < st->ntorn; i++) {
        if (st->torn[i].seq == seq) {
            st->torn[i].superseded = 1;
        }
    }
    if (seq > st->max_valid_seq) {
        st->max_valid_seq = seq;
    }
}

/* Reclassify the BODY damages that are interrupted writes. */
static void torn_settle(lwss_store *st)
{
    /* A collection copies indexed records under their own sequence: a torn
     * copy shares it with the original, wherever that was scanned. */
    for (size_t i = 0; i < st->ntorn; i++) {
        for (size_t e = 0; e < st->nent && !st->torn[i].superseded; e++) {
            st->torn[i].superseded = st->ent[e].seq == st->torn[i].seq;
        }
    }
    for (size_t i = 0; i < st->ntorn; i++) {
        if (!st->torn[i].superseded && st->torn[i].seq <= st->max_valid_seq) {
            continue;
        }
        for (size_t d = 0; d < st->ndmg; d++) {
            if (st->dmg[d].off == st->torn[i].off && st->dmg[d].kind == LWSS_DMG_BODY) {
                st->dmg[d].kind = LWSS_DMG_INTERRUPTED;
                st->dmg_total--;
                st->interrupted++;
                break;
            }
        }
    }
    free(st->torn);
    st->torn = NULL;
    st->ntorn = 0;
}

static int all_ff(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != 0xFF) {
            return 0;
        }
    }
    return 1;
}

static void note_interrupted(lwss_store *st, uint32_t off)
{
    lwss_store_note_damage(st, off, LWSS_DMG_INTERRUPTED);
    st->dmg_total--;
    st->interrupted++;
}

/* @p len bytes that are a program operation cut short: some bytes, then
 * only 0xFF (at least @p min_tail of them), starting with the first bytes
 * of @p magic when given. */
static int torn_prefix(const uint8_t *p, uint32_t len, uint32_t min_tail, const char *magic)
{
    uint32_t k = len;
    while (k > 0 && p[k - 1] == 0xFF) {
        k--;
    }
    if (k == 0 || len - k < min_tail) {
        return 0;
    }
    return magic == NULL || memcmp(p, magic, k < 4 ? k : 4) == 0;
}

static int geometry_sane(uint32_t size, uint32_t sector)
{
    return sector >= LWSS_NVM_MIN_SECTOR && sector <= LWSS_NVM_MAX_SECTOR &&
           (sector & (sector - 1)) == 0 && size % sector == 0 &&
           size / sector >= LWSS_NVM_MIN_SECTORS;
}

/* How many sector headers agree with the geometry of @p h. */
static uint32_t geometry_votes(const uint8_t *img, uint32_t size, const lwss_shdr *h)
{
    uint32_t votes = 0;
    for (uint64_t off = 0; off + LWSS_NVM_SHDR_SIZE <= size; off += h->sector_size) {
        lwss_shdr o;
        lwss_shdr_decode(img + off, &o);
        votes += o.static_ok && o.version == h->version && o.image_size == h->image_size &&
                 o.sector_size == h->sector_size;
    }
    return votes;
}

/* Candidates sit at 0 and at every power-of-two offset (sector 0 may be
 * mid-erase); the geometry most sector headers agree on wins, so that one
 * header-like blob inside a value cannot pick the geometry.
 * @return 1 found, 0 none, <0 refused. */
static int probe_header(const uint8_t *img, uint32_t size, lwss_shdr *out)
{
    lwss_shdr h;
    if (size >= LWSS_NVM_SHDR_SIZE) {
        lwss_shdr_decode(img, &h);
        /* Magic, version and the CRC at 20 are the same in every version;
         * a torn header (cut while programming) has no valid CRC. */
        if (h.magic_ok && lwss_le32(img + 20) == lwss_crc32(0, img, 20) &&
            h.version != LWSS_NVM_FMT_VERSION) {
            return lwss_set_error(LWSS_ERR_INVAL,
                                  "nvm: image format version %u, this build reads version %u",
                                  h.version, LWSS_NVM_FMT_VERSION);
        }
    }
    uint32_t best_votes = 0;
    for (uint64_t off = 0; off + LWSS_NVM_SHDR_SIZE <= size;
         off = off ? off * 2 : LWSS_NVM_MIN_SECTOR) {
        lwss_shdr_decode(img + off, &h);
        if (!h.static_ok || h.version != LWSS_NVM_FMT_VERSION ||
            h.sector_size < LWSS_NVM_MIN_SECTOR || off % h.sector_size != 0) {
            continue;
        }
        uint32_t votes = geometry_votes(img, size, &h);
        if (votes > best_votes) {
            best_votes = votes;
            *out = h;
        }
    }
    return best_votes > 0;
}

/* Nothing but (possibly torn) sector headers on an otherwise erased image:
 * a format that was cut; safe to format again. */
static int interrupted_format(const uint8_t *img, uint32_t size, uint32_t sector)
{
    if (!geometry_sane(size, sector)) {
        return 0;
    }
    for (uint32_t s = 0; s < size; s += sector) {
        if (!all_ff(img + s + LWSS_NVM_SHDR_SIZE, sector - LWSS_NVM_SHDR_SIZE)) {
            return 0;
        }
    }
    return 1;
}

static int pick_geometry(lwss_store *st, const lwss_nvm_geometry *want, int *blank)
{
    const uint8_t *img = lwss_flash_map(st->fl);
    uint32_t size = lwss_flash_size(st->fl);
    lwss_shdr h;
    memset(&h, 0, sizeof(h));
    *blank = 0;
    int found = probe_header(img, size, &h);
    if (found < 0) {
        return found;
    }
    if (found == 0) {
        uint32_t sector = want != NULL ? want->sector : LWSS_NVM_DEFAULT_SECTOR;
        /* Erased flash (all 0xFF) or a cut format is formatted; anything
         * else - zeros, garbage - may be someone's data: refused. */
        if (!all_ff(img, size) && !interrupted_format(img, size, sector)) {
            return lwss_set_error(LWSS_ERR_INVAL,
                                  "nvm: not an lwss NVM image (no valid sector header; neither "
                                  "erased nor an lwss image: refused, left untouched)");
        }
        if (!lwss_flash_writable(st->fl)) {
            return lwss_set_error(LWSS_ERR_INVAL, "nvm: image is blank (not formatted)");
        }
        *blank = 1;
        h.image_size = size;
        h.sector_size = sector;
    }
    if (!geometry_sane(h.image_size, h.sector_size) || h.image_size != size) {
        return lwss_set_error(LWSS_ERR_INVAL,
                              "nvm: bad geometry: image of %u bytes, header says %u bytes in "
                              "%u-byte sectors",
                              size, h.image_size, h.sector_size);
    }
    if (want != NULL && (want->size != h.image_size || want->sector != h.sector_size)) {
        return lwss_set_error(LWSS_ERR_INVAL,
                              "nvm: image geometry %u bytes / %u-byte sectors differs from the "
                              "configured %u / %u",
                              h.image_size, h.sector_size, want->size, want->sector);
    }
    st->size = h.image_size;
    st->ssize = h.sector_size;
    st->nsec = h.image_size / h.sector_size;
    return 0;
}

/* Sector @p s whose static header is not valid. */
static void classify_unreadable(lwss_store *st, uint32_t s, const uint8_t *base,
                                const lwss_shdr *h, int empty)
{
    lwss_store_sector *sec = &st->sec[s];
    /* An erased header is normal (cut format or erase), and so is the
     * prefix of a static header cut while programmed on an empty
     * sector; anything else is damage, and the records behind it are
     * still worth recovering. */
    uint32_t erased = 0;
    while (erased < LWSS_NVM_SHDR_SIZE && base[erased] == 0xFF) {
        erased++;
    }
    if (erased > 0 && erased <= LWSS_NVM_SHDR_OBSOLETE_OFF &&
        base[LWSS_NVM_SHDR_OBSOLETE_OFF] == 0x00) {
        /* an erase of a collected (obsolete-marked) sector, cut: its
         * records were copied first; erased on reuse */
        note_interrupted(st, s * st->ssize);
    } else if (empty && torn_prefix(base, LWSS_NVM_SHDR_STATIC, 1, "LWNV") &&
        all_ff(base + LWSS_NVM_SHDR_STATIC, LWSS_NVM_SHDR_SIZE - LWSS_NVM_SHDR_STATIC)) {
        note_interrupted(st, s * st->ssize);
    } else if (!all_ff(base, LWSS_NVM_SHDR_SIZE)) {
        lwss_store_note_damage(st, s * st->ssize, LWSS_DMG_SECTOR);
        sec->salvage = base[LWSS_NVM_SHDR_OBSOLETE_OFF] != 0x00 &&
                       !(h->magic_ok && h->version != LWSS_NVM_FMT_VERSION);
    }
}

static void classify_sector(lwss_store *st, uint32_t s)
{
    const uint8_t *base = lwss_flash_map(st->fl) + (size_t)s * st->ssize;
    lwss_store_sector *sec = &st->sec[s];
    lwss_shdr h;
    lwss_shdr_decode(base, &h);
    sec->state = LWSS_SEC_DIRTY;
    int empty = all_ff(base + LWSS_NVM_SHDR_SIZE, st->ssize - LWSS_NVM_SHDR_SIZE);
    if (!h.static_ok) {
        classify_unreadable(st, s, base, &h, empty);
        return;
    }
    if (h.version != LWSS_NVM_FMT_VERSION || h.image_size != st->size ||
        h.sector_size != st->ssize) {
        lwss_store_note_damage(st, s * st->ssize, LWSS_DMG_FOREIGN);
        return;
    }
    sec->count_known = 1;
    sec->erase_count = h.erase_count;
    uint8_t mark = base[LWSS_NVM_SHDR_OBSOLETE_OFF];
    if (mark == 0x00) {
        return; /* collection was cut between marking and erasing */
    }
    if (mark != 0xFF || !all_ff(base + LWSS_NVM_SHDR_OBSOLETE_OFF + 1,
                                LWSS_NVM_SHDR_SIZE - LWSS_NVM_SHDR_OBSOLETE_OFF - 1)) {
        lwss_store_note_damage(st, s * st->ssize + LWSS_NVM_SHDR_OBSOLETE_OFF, LWSS_DMG_GARBAGE);
    }
    if (h.seq_state == 0 && all_ff(base + LWSS_NVM_SHDR_SIZE, st->ssize - LWSS_NVM_SHDR_SIZE)) {
        sec->state = LWSS_SEC_FREE;
    } else if (h.seq_state == 1) {
        sec->state = LWSS_SEC_USED;
        sec->seq = h.seq;
    } else if (empty && h.seq_state == -1 &&
               torn_prefix(base + LWSS_NVM_SHDR_SEQ_OFF, 8, 1, NULL) &&
               all_ff(base + LWSS_NVM_SHDR_OBSOLETE_OFF,
                      LWSS_NVM_SHDR_SIZE - LWSS_NVM_SHDR_OBSOLETE_OFF)) {
        /* maybe a sequence cut while the sector joined the log (erased on
         * reuse): settled by seq_cut_settle() once every sequence is known */
        sec->seq_cut = 1;
    } else {
        /* sequence torn with data behind it, or data in a free sector */
        lwss_store_note_damage(st, s * st->ssize, LWSS_DMG_SECTOR);
        sec->salvage = 1;
    }
}

/* First pass over a sector: commit ranges and the newest sequence of any
 * valid record (uncommitted ones too: their sequences are never reused, or
 * a later commit would cover them). */
static int prescan_sector(lwss_store *st, uint32_t s)
{
    const uint8_t *img = lwss_flash_map(st->fl);
    const uint32_t base = s * st->ssize;
    uint32_t off = LWSS_NVM_SHDR_SIZE;
    while (off + LWSS_NVM_RHDR_SIZE <= st->ssize) {
        lwss_rhdr h;
        if (!lwss_rhdr_decode(img + base + off, &h) || lwss_rec_extent(&h) > st->ssize - off) {
            off += 4;
            continue;
        }
        if (lwss_crc32(0, img + base + off + LWSS_NVM_RHDR_SIZE, lwss_rec_body_len(&h)) ==
            h.body_crc) {
            if (h.seq > st->max_any_seq) {
                st->max_any_seq = h.seq;
            }
            if (h.type == LWSS_NVM_REC_COMMIT) {
                if (st->ncmt == st->cmt_cap) {
                    size_t cap = st->cmt_cap ? st->cmt_cap * 2 : 16;
                    lwss_store_range *grown = realloc(st->cmt, cap * sizeof(*grown));
                    if (grown == NULL) {
                        return lwss_set_error(LWSS_ERR_NOMEM, "nvm: out of memory");
                    }
                    st->cmt = grown;
                    st->cmt_cap = cap;
                }
                st->cmt[st->ncmt++] = (lwss_store_range){.first = h.key_type, .end = h.seq};
            }
        }
        off += lwss_rec_extent(&h);
    }
    return 0;
}

static int committed(const lwss_store *st, uint32_t seq)
{
    for (size_t i = 0; i < st->ncmt; i++) {
        if (seq >= st->cmt[i].first && seq < st->cmt[i].end) {
            return 1;
        }
    }
    return 0;
}

/* A valid record: commit marks and uncommitted transaction records (a cut
 * or abort before the commit: not damage) do not enter the index. */
static int replay_record(lwss_store *st, uint32_t s, uint32_t off, const lwss_rhdr *h)
{
    st->sec[s].records++;
    torn_valid_seen(st, h->seq);
    if (h->type == LWSS_NVM_REC_COMMIT) {
        return 0;
    }
    if ((h->flags & LWSS_NVM_FLAG_TXN) && !committed(st, h->seq)) {
        st->interrupted++;
        return 0;
    }
    return lwss_store_apply(st, off, lwss_flash_map(st->fl) + off);
}

/* Bytes at @p off that no header decodes: the prefix of a record header cut
 * while it was programmed (the magic's first bytes, then 0xFF up to the
 * next record or the end) is an interrupted write; anything else is damage.
 * @p next is where the next record starts (or the sector end). */
static int torn_header(const uint8_t *p, uint32_t len)
{
    uint32_t k = len;
    while (k > 0 && p[k - 1] == 0xFF) {
        k--;
    }
    return k < LWSS_NVM_RHDR_SIZE && torn_prefix(p, len, 0, "LWRC");
}

/* Replay the records of one USED sector into the index. */
static int scan_records(lwss_store *st, uint32_t s)
{
    const uint8_t *img = lwss_flash_map(st->fl);
    const uint32_t base = s * st->ssize;
    uint32_t end = st->ssize;
    while (end > LWSS_NVM_SHDR_SIZE && img[base + end - 1] == 0xFF) {
        end--;
    }
    uint32_t off = LWSS_NVM_SHDR_SIZE;
    int in_garbage = 0;
    while (off < end) {
        lwss_rhdr h;
        if (off + LWSS_NVM_RHDR_SIZE <= st->ssize && lwss_rhdr_decode(img + base + off, &h) &&
            lwss_rec_extent(&h) <= st->ssize - off) {
            in_garbage = 0;
            uint32_t body = lwss_rec_body_len(&h);
            if (lwss_crc32(0, img + base + off + LWSS_NVM_RHDR_SIZE, body) == h.body_crc) {
                int ret = replay_record(st, s, base + off, &h);
                if (ret != 0) {
                    return ret;
                }
                uint32_t pad = lwss_rec_extent(&h) - LWSS_NVM_RHDR_SIZE - body;
                if (!all_ff(img + base + off + lwss_rec_extent(&h) - pad, pad)) {
                    lwss_store_note_damage(st, base + off, LWSS_DMG_GARBAGE);
                }
            } else {
                lwss_store_note_damage(st, base + off, LWSS_DMG_BODY);
                torn_note(st, base + off, h.seq, img + base + off + LWSS_NVM_RHDR_SIZE, body);
            }
            off += lwss_rec_extent(&h);
            continue;
        }
        if (!in_garbage) {
            uint32_t next = off + 4;
            lwss_rhdr n;
            while (next < end && !(next + LWSS_NVM_RHDR_SIZE <= st->ssize &&
                                   lwss_rhdr_decode(img + base + next, &n))) {
                next += 4;
            }
            next = next < st->ssize ? next : st->ssize;
            if (torn_header(img + base + off, next - off)) {
                note_interrupted(st, base + off);
                off = next;
                continue;
            }
            lwss_store_note_damage(st, base + off, LWSS_DMG_GARBAGE);
            in_garbage = 1;
        }
        off += 4;
    }
    st->sec[s].write_off = off;
    return 0;
}

static int by_seq(const void *a, const void *b, void *arg)
{
    const lwss_store *st = arg;
    uint32_t sa = st->sec[*(const uint32_t *)a].seq, sb = st->sec[*(const uint32_t *)b].seq;
    if (sa != sb) {
        return sa < sb ? -1 : 1;
    }
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* 1 when the programmed prefix of the sequence at @p p (bytes up to the
 * first 0xFF tail) is the start of the encoding of @p seq. */
static int seq_prefix_of(const uint8_t *p, uint32_t seq)
{
    uint32_t k = 4;
    while (k > 0 && p[k - 1] == 0xFF) {
        k--;
    }
    /* programmed in order: CRC bytes only after the whole sequence */
    if (k == 0 || (k < 4 && !all_ff(p + 4, 4))) {
        return 0;
    }
    for (uint32_t i = 0; i < k; i++) {
        if (p[i] != (uint8_t)(seq >> (8 * i))) {
            return 0;
        }
    }
    return 1;
}

/* A torn sector sequence is a cut only when its bytes start the sequence a
 * sector was given then: one in use now, or the next one.  A flipped bit
 * in an erased header is not. */
static void seq_cut_settle(lwss_store *st)
{
    uint32_t max = 0;
    for (uint32_t s = 0; s < st->nsec; s++) {
        if (st->sec[s].state == LWSS_SEC_USED && st->sec[s].seq > max) {
            max = st->sec[s].seq;
        }
    }
    const uint8_t *img = lwss_flash_map(st->fl);
    for (uint32_t s = 0; s < st->nsec; s++) {
        if (!st->sec[s].seq_cut) {
            continue;
        }
        st->sec[s].seq_cut = 0;
        const uint8_t *p = img + (size_t)s * st->ssize + LWSS_NVM_SHDR_SEQ_OFF;
        int cut = seq_prefix_of(p, max + 1u);
        for (uint32_t o = 0; o < st->nsec && !cut; o++) {
            cut = st->sec[o].state == LWSS_SEC_USED && seq_prefix_of(p, st->sec[o].seq);
        }
        if (cut) {
            note_interrupted(st, s * st->ssize);
        } else {
            lwss_store_note_damage(st, s * st->ssize, LWSS_DMG_SECTOR);
            st->sec[s].salvage = 1;
        }
    }
}

/* Replay USED sectors in log order; find the head and the next sequences. */
static int replay(lwss_store *st)
{
    uint32_t *order = malloc(st->nsec * sizeof(*order));
    if (order == NULL) {
        return lwss_set_error(LWSS_ERR_NOMEM, "nvm: out of memory");
    }
    uint32_t n = 0;
    for (uint32_t s = 0; s < st->nsec; s++) {
        if (st->sec[s].state == LWSS_SEC_USED) {
            order[n++] = s;
        }
    }
    qsort_r(order, n, sizeof(*order), by_seq, st);
    /* Sectors with a damaged header first: oldest in the log, closed for
     * appends, collected (live records copied out) before any erase. */
    int ret = 0;
    for (uint32_t s = 0; s < st->nsec && ret == 0; s++) {
        if (st->sec[s].state == LWSS_SEC_USED || st->sec[s].salvage) {
            ret = prescan_sector(st, s);
        }
    }
    for (uint32_t s = 0; s < st->nsec && ret == 0; s++) {
        if (st->sec[s].salvage) {
            ret = scan_records(st, s);
            if (st->sec[s].records > 0) {
                st->sec[s].state = LWSS_SEC_USED;
                st->sec[s].seq = 0;
                st->sec[s].write_off = st->ssize;
            }
        }
    }
    st->torn = calloc(LWSS_STORE_DMG_KEEP, sizeof(*st->torn)); /* NULL: all stays damage */
    st->max_valid_seq = 0;
    for (uint32_t i = 0; i < n && ret == 0; i++) {
        ret = scan_records(st, order[i]);
    }
    torn_settle(st);
    st->head = n > 0 ? (int)order[n - 1] : -1;
    st->next_sector_seq = n > 0 ? st->sec[order[n - 1]].seq + 1u : 1u;
    free(order);
    st->next_seq = st->max_any_seq + 1u;
    free(st->cmt);
    st->cmt = NULL;
    st->ncmt = st->cmt_cap = 0;
    for (size_t i = 0; i < st->nent; i++) {
        if (st->ent[i].seq >= st->next_seq) {
            st->next_seq = st->ent[i].seq + 1u;
        }
    }
    lwss_store_recount(st);
    return ret;
}

static int store_init(lwss_store *st, const lwss_nvm_geometry *want)
{
    int blank = 0;
    int ret = pick_geometry(st, want, &blank);
    if (ret != 0) {
        return ret;
    }
    st->sec = calloc(st->nsec, sizeof(*st->sec));
    st->dmg = calloc(LWSS_STORE_DMG_KEEP, sizeof(*st->dmg));
    if (st->sec == NULL || st->dmg == NULL) {
        return lwss_set_error(LWSS_ERR_NOMEM, "nvm: out of memory");
    }
    if (blank) {
        return lwss_store_format(st);
    }
    for (uint32_t s = 0; s < st->nsec; s++) {
        classify_sector(st, s);
    }
    seq_cut_settle(st);
    return replay(st);
}

int lwss_store_open(lwss_store **out, lwss_flash *fl, const lwss_nvm_geometry *want,
                    size_t max_objects)
{
    *out = NULL;
    lwss_store *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        lwss_flash_close(fl);
        return lwss_set_error(LWSS_ERR_NOMEM, "nvm: out of memory");
    }
    st->fl = fl;
    st->head = -1;
    st->max_objects = max_objects;
    int ret = store_init(st, want);
    if (ret != 0) {
        lwss_store_close(st);
        return ret;
    }
    *out = st;
    return 0;
}

void lwss_store_close(lwss_store *st)
{
    if (st == NULL) {
        return;
    }
    lwss_flash_close(st->fl);
    free(st->sec);
    free(st->dmg);
    free(st->cmt);
    if (st->undo != NULL) {
        memset(st->undo, 0, st->undo_cap * sizeof(*st->undo));
        free(st->undo);
    }
    if (st->ent != NULL) {
        memset(st->ent, 0, st->cap * sizeof(*st->ent)); /* ids and labels */
        free(st->ent);
    }
    free(st);
}
