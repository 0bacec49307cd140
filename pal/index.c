/* The in-RAM index: one slot per (label, class), rebuilt by the scan and
 * kept current by every write, so finds and reads never touch the file. */
#include "pal/layout.h"
#include "pal/store.h"

#include "src/core/core.h"
#include "lwss/status.h"

#include <stdlib.h>
#include <string.h>

static int key_equal(const lwss_nvm_meta *m, const uint8_t *label, size_t label_len,
                     uint32_t cls)
{
    return m->label_len == label_len && memcmp(m->label, label, label_len) == 0 &&
           (cls == LWSS_NVM_ANY_CLASS || m->cls == cls);
}

/* Slot of exactly (label, cls) whether live or not; -1 when never seen. */
long lwss_store_slot(const lwss_store *st, const uint8_t *label, size_t label_len, uint32_t cls)
{
    for (size_t i = 0; i < st->nent; i++) {
        const lwss_nvm_meta *m = &st->ent[i].meta;
        if (m->cls == cls && key_equal(m, label, label_len, cls)) {
            return (long)i;
        }
    }
    return -1;
}

uint32_t lwss_store_find(const lwss_store *st, const uint8_t *label, size_t label_len,
                         uint32_t cls)
{
    for (size_t i = 0; i < st->nent; i++) {
        if (st->ent[i].live && key_equal(&st->ent[i].meta, label, label_len, cls)) {
            return (uint32_t)i + 1u;
        }
    }
    return 0;
}

const lwss_store_entry *lwss_store_get(const lwss_store *st, uint32_t handle)
{
    if (handle == 0 || handle > st->nent || !st->ent[handle - 1].live) {
        return NULL;
    }
    return &st->ent[handle - 1];
}

const uint8_t *lwss_store_value(const lwss_store *st, const lwss_store_entry *e)
{
    return lwss_flash_map(st->fl) + e->rec_off + LWSS_NVM_RHDR_SIZE + e->meta.label_len +
           e->meta.id_len;
}

static lwss_store_entry *slot_new(lwss_store *st)
{
    if (st->nent == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        lwss_store_entry *grown = realloc(st->ent, cap * sizeof(*grown));
        if (grown == NULL) {
            return NULL;
        }
        st->ent = grown;
        st->cap = cap;
    }
    lwss_store_entry *e = &st->ent[st->nent++];
    memset(e, 0, sizeof(*e));
    return e;
}

static void unaccount(lwss_store *st, lwss_store_entry *e)
{
    if (e->live) {
        st->sec[e->rec_off / st->ssize].live_bytes -= e->extent;
        st->live_total -= e->extent;
        st->live_count--;
        e->live = 0;
    }
}

static void account(lwss_store *st, lwss_store_entry *e)
{
    st->sec[e->rec_off / st->ssize].live_bytes += e->extent;
    st->live_total += e->extent;
    st->live_count++;
    e->live = 1;
}

/* Apply the valid record at @p rec_off (bytes @p rec): newest sequence wins;
 * equal sequence (a copy left by an interrupted collection) takes the later
 * position, which is where the scan and the collector both put copies. */
int lwss_store_apply(lwss_store *st, uint32_t rec_off, const uint8_t *rec)
{
    lwss_rhdr h;
    if (!lwss_rhdr_decode(rec, &h)) {
        return LWSS_ERR_INVAL;
    }
    const uint8_t *label = rec + LWSS_NVM_RHDR_SIZE;
    long i = lwss_store_slot(st, label, h.label_len, h.cls);
    lwss_store_entry *e;
    if (i >= 0) {
        e = &st->ent[i];
        if (h.seq < e->seq) {
            return 0;
        }
        unaccount(st, e);
    } else {
        e = slot_new(st);
        if (e == NULL) {
            return lwss_set_error(LWSS_ERR_NOMEM, "nvm: out of memory for the index");
        }
    }
    e->meta.label_len = h.label_len;
    memcpy(e->meta.label, label, h.label_len);
    e->meta.cls = h.cls;
    e->meta.key_type = h.key_type;
    e->meta.is_private = (h.flags & LWSS_NVM_FLAG_PRIVATE) != 0;
    e->meta.id_len = h.id_len;
    memcpy(e->meta.id, label + h.label_len, h.id_len);
    e->seq = h.seq;
    e->rec_off = rec_off;
    e->extent = lwss_rec_extent(&h);
    e->data_len = h.data_len;
    if (h.type == LWSS_NVM_REC_PUT) {
        account(st, e);
    }
    return 0;
}

/* Recompute per-sector live bytes from the index (after the scan). */
void lwss_store_recount(lwss_store *st)
{
    st->live_total = 0;
    st->live_count = 0;
    for (uint32_t s = 0; s < st->nsec; s++) {
        st->sec[s].live_bytes = 0;
    }
    for (size_t i = 0; i < st->nent; i++) {
        if (st->ent[i].live) {
            st->ent[i].live = 0;
            account(st, &st->ent[i]);
        }
    }
}
