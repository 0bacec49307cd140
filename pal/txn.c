/* Transactions of the store: records written with the transaction flag
 * count only once a commit record covers them (layout.h), and the index
 * keeps each changed slot's committed state until the end, so an abort -
 * or a cut, seen by the next open - returns to it. */
#include "pal/crc32.h"
#include "pal/layout.h"
#include "pal/store.h"

#include "src/core/core.h"
#include "lwss/status.h"

#include <stdlib.h>
#include <string.h>

static long undo_find(const lwss_store *st, size_t slot)
{
    for (size_t i = 0; i < st->nundo; i++) {
        if (st->undo[i].slot == slot) {
            return (long)i;
        }
    }
    return -1;
}

uint64_t lwss_store_undo_bytes(const lwss_store *st)
{
    uint64_t n = 0;
    for (size_t i = 0; i < st->nundo; i++) {
        n += st->undo[i].saved.live ? st->undo[i].saved.extent : 0u;
    }
    return n;
}

/* After a write to @p slot whose state before was @p pre: a transaction
 * write keeps the committed state (first change only); a plain write from
 * another thread supersedes it, so the slot leaves the transaction's undo. */
void lwss_store_txn_note(lwss_store *st, size_t slot, const lwss_store_entry *pre, int in_txn)
{
    if (!st->txn_active) {
        return;
    }
    long i = undo_find(st, slot);
    if (!in_txn) {
        if (i >= 0) {
            st->undo[i] = st->undo[--st->nundo];
        }
        return;
    }
    st->txn_records++;
    if (i >= 0) {
        return;
    }
    if (st->nundo == st->undo_cap) {
        size_t cap = st->undo_cap ? st->undo_cap * 2 : 8;
        lwss_store_undo *grown = realloc(st->undo, cap * sizeof(*grown));
        if (grown == NULL) {
            /* The record is on flash but unprotected: refuse further writes. */
            st->broken = 1;
            return;
        }
        st->undo = grown;
        st->undo_cap = cap;
    }
    st->undo[st->nundo].slot = slot;
    st->undo[st->nundo].saved = *pre;
    st->nundo++;
}

int lwss_store_txn_begin(lwss_store *st)
{
    if (st->txn_active) {
        return lwss_set_error(LWSS_ERR_STATE, "nvm: a transaction is already open");
    }
    int ret = lwss_store_broken(st);
    if (ret != 0) {
        return ret;
    }
    st->txn_active = 1;
    st->txn_first = st->next_seq;
    st->txn_records = 0;
    st->nundo = 0;
    return 0;
}

static void txn_end(lwss_store *st)
{
    st->txn_active = 0;
    st->txn_records = 0;
    if (st->undo != NULL) {
        memset(st->undo, 0, st->undo_cap * sizeof(*st->undo)); /* labels and ids */
    }
    st->nundo = 0;
}

void lwss_store_txn_abort(lwss_store *st)
{
    if (!st->txn_active) {
        return;
    }
    for (size_t i = 0; i < st->nundo; i++) {
        st->ent[st->undo[i].slot] = st->undo[i].saved;
    }
    txn_end(st);
    lwss_store_recount(st);
}

/* Sync what the transaction wrote, then write and sync the commit record:
 * without the first sync the commit could reach the disk before them. */
int lwss_store_txn_commit(lwss_store *st)
{
    if (!st->txn_active) {
        return lwss_set_error(LWSS_ERR_STATE, "nvm: no transaction is open");
    }
    if (st->txn_records == 0) {
        txn_end(st);
        return 0;
    }
    int ret = lwss_store_broken(st);
    if (ret == 0) {
        ret = lwss_flash_sync(st->fl);
    }
    if (ret == 0) {
        lwss_nvm_meta meta;
        memset(&meta, 0, sizeof(meta));
        meta.label_len = sizeof(LWSS_NVM_COMMIT_LABEL) - 1u;
        memcpy(meta.label, LWSS_NVM_COMMIT_LABEL, meta.label_len);
        lwss_rhdr h;
        memset(&h, 0, sizeof(h));
        h.type = LWSS_NVM_REC_COMMIT;
        h.label_len = (uint8_t)meta.label_len;
        h.key_type = st->txn_first;
        ret = lwss_store_append(st, &h, &meta, NULL, 0);
    }
    if (ret != 0) {
        lwss_store_txn_abort(st);
        return ret;
    }
    txn_end(st);
    return 0;
}
