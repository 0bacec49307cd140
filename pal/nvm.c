/* lwss_nvm_*: the process-wide open image behind one mutex. */
#include "lwss/nvm.h"
#include "lwss/status.h"
#include "pal/nvm_internal.h"
#include "pal/store.h"

#include "src/core/core.h"

#include <limits.h>
#include <mbedtls/platform_util.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t nvm_lock = PTHREAD_MUTEX_INITIALIZER;
static lwss_store *nvm_store;           /* NULL while closed */
static char nvm_path_set[PATH_MAX];     /* from lwss_nvm_set_path(); "" = none */
static char nvm_path_used[PATH_MAX];    /* what lwss_nvm_path() hands out */
static size_t nvm_damage;
static int nvm_inherited;               /* open in the parent of a fork(): unusable here */
static pthread_once_t nvm_atfork_once = PTHREAD_ONCE_INIT;
static _Thread_local int nvm_status;
/* The open transaction: its thread, nesting depth, and whether an inner
 * level aborted it.  Other threads' writes stay plain (committed at once);
 * another thread's begin waits for the end. */
static pthread_cond_t txn_done = PTHREAD_COND_INITIALIZER;
static pthread_t txn_owner;
static unsigned txn_depth;
static int txn_doomed;

static int status(int st)
{
    nvm_status = st;
    return st;
}

int lwss_nvm_last_status(void)
{
    return nvm_status;
}

int lwss_nvm_set_path(const char *path)
{
    int ret = 0;
    lwss_os_lock(&nvm_lock);
    if (nvm_store != NULL) {
        ret = lwss_set_error(LWSS_ERR_BUSY, "nvm: cannot change the path while the image is open");
    } else if (path == NULL) {
        nvm_path_set[0] = '\0';
    } else if (path[0] == '\0' || strlen(path) >= sizeof(nvm_path_set)) {
        ret = lwss_set_error(LWSS_ERR_INVAL, "nvm: image path empty or too long");
    } else {
        strcpy(nvm_path_set, path);
    }
    pthread_mutex_unlock(&nvm_lock);
    return status(ret);
}

static const char *path_locked(void)
{
    const char *env = getenv("LWSS_NVM");
    const char *p = nvm_path_set[0] != '\0' ? nvm_path_set
                    : (env != NULL && env[0] != '\0') ? env : "lwss-nvm.img";
    if (p != nvm_path_used) {
        snprintf(nvm_path_used, sizeof(nvm_path_used), "%s", p);
    }
    return nvm_path_used;
}

const char *lwss_nvm_path(void)
{
    lwss_os_lock(&nvm_lock);
    const char *p = path_locked();
    pthread_mutex_unlock(&nvm_lock);
    return p;
}

static unsigned long env_ulong(const char *name, unsigned long dflt, int *bad)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0') {
        return dflt;
    }
    char *end;
    unsigned long n = strtoul(v, &end, 0);
    if (*end != '\0' || n == 0) {
        *bad = 1;
        lwss_set_error(LWSS_ERR_INVAL, "nvm: bad value of %s: '%s'", name, v);
    }
    return n;
}

/* Geometry asked for: the argument, else the environment, else none. */
static int wanted_geometry(const lwss_nvm_geometry *geo, lwss_nvm_geometry *out, int *have)
{
    int bad = 0;
    *have = 1;
    if (geo != NULL) {
        *out = *geo;
    } else if (getenv("LWSS_NVM_SIZE") != NULL || getenv("LWSS_NVM_SECTOR") != NULL) {
        out->size = (uint32_t)env_ulong("LWSS_NVM_SIZE", LWSS_NVM_DEFAULT_SIZE, &bad);
        out->sector = (uint32_t)env_ulong("LWSS_NVM_SECTOR", LWSS_NVM_DEFAULT_SECTOR, &bad);
    } else {
        *have = 0;
        return 0;
    }
    if (bad) {
        return LWSS_ERR_INVAL;
    }
    uint32_t sec = out->sector;
    if (sec < 512u || sec > 1024u * 1024u || (sec & (sec - 1u)) != 0 || out->size % sec != 0 ||
        out->size / sec < 3u || out->size > LWSS_FLASH_MAX_SIZE) {
        return lwss_set_error(LWSS_ERR_INVAL,
                              "nvm: bad geometry %u bytes / %u-byte sectors (sector a power of "
                              "two 512..1 MiB, at least 3 sectors, at most 64 MiB)",
                              out->size, out->sector);
    }
    return 0;
}

/* A child of fork() shares the parent's descriptor and lock: writing
 * through it would race the parent, so the copy is marked unusable. */
static void nvm_child_after_fork(void)
{
    nvm_inherited = nvm_store != NULL;
}

static void nvm_register_atfork(void)
{
    pthread_atfork(NULL, NULL, nvm_child_after_fork);
}

static int open_locked(const lwss_nvm_geometry *geo)
{
    pthread_once(&nvm_atfork_once, nvm_register_atfork);
    lwss_nvm_geometry want;
    int have_want = 0;
    int ret = wanted_geometry(geo, &want, &have_want);
    if (ret != 0) {
        return ret;
    }
    int bad = 0;
    unsigned lock_ms = (unsigned)env_ulong("LWSS_NVM_LOCK_MS", LWSS_NVM_DEFAULT_LOCK_MS, &bad);
    size_t max_obj = env_ulong("LWSS_NVM_MAX_OBJECTS", LWSS_NVM_DEFAULT_MAX_OBJECTS, &bad);
    if (bad) {
        return LWSS_ERR_INVAL;
    }
    const char *path = path_locked();
    lwss_flash *fl = NULL;
    ret = lwss_flash_open(&fl, path, LWSS_FLASH_WRITE | LWSS_FLASH_CREATE,
                          have_want ? want.size : LWSS_NVM_DEFAULT_SIZE, lock_ms);
    if (ret != 0) {
        return ret;
    }
    ret = lwss_store_open(&nvm_store, fl, have_want ? &want : NULL, max_obj);
    if (ret != 0) {
        return ret;
    }
    nvm_damage = nvm_store->dmg_total;
    if (nvm_damage > 0) {
        lwss_set_error(0, "nvm: %s: skipped %zu damaged place(s) (torn writes or bad CRC)", path,
                       nvm_damage);
    }
    return 0;
}

static int not_open(void)
{
    return lwss_set_error(LWSS_ERR_STATE, "nvm: image not open (lwss_nvm_open first)");
}

/* The open store, or NULL with LWSS_ERR_STATE in *ret (closed, or inherited). */
static lwss_store *usable(int *ret)
{
    if (nvm_store == NULL) {
        *ret = not_open();
        return NULL;
    }
    if (nvm_inherited) {
        *ret = lwss_set_error(LWSS_ERR_STATE, "nvm: image was opened before fork(); "
                                              "lwss_nvm_close() and open it in this process");
        return NULL;
    }
    *ret = 0;
    return nvm_store;
}

int lwss_nvm_open(const lwss_nvm_geometry *geo)
{
    lwss_os_lock(&nvm_lock);
    int ret = 0;
    if (nvm_store == NULL) {
        ret = open_locked(geo);
    } else {
        (void)usable(&ret);
    }
    pthread_mutex_unlock(&nvm_lock);
    return status(ret);
}

/* 1 when the calling thread writes inside its open transaction. */
static int in_my_txn(void)
{
    return txn_depth > 0 && pthread_equal(txn_owner, pthread_self());
}

static void txn_finish(void)
{
    txn_depth = 0;
    txn_doomed = 0;
    pthread_cond_broadcast(&txn_done);
}

void lwss_nvm_close(void)
{
    lwss_os_lock(&nvm_lock);
    if (txn_depth > 0) {
        /* what the transaction wrote stays uncommitted: invisible from now on */
        if (nvm_store != NULL && !nvm_inherited) {
            lwss_store_txn_abort(nvm_store);
        }
        txn_finish();
    }
    lwss_store_close(nvm_store);
    nvm_store = NULL;
    nvm_damage = 0;
    nvm_inherited = 0;
    pthread_mutex_unlock(&nvm_lock);
}

size_t lwss_nvm_damage_count(void)
{
    lwss_os_lock(&nvm_lock);
    size_t n = nvm_damage;
    pthread_mutex_unlock(&nvm_lock);
    return n;
}

static int meta_valid(const lwss_nvm_meta *meta, const uint8_t *data, size_t len)
{
    if (meta == NULL || meta->label_len == 0 || meta->label_len > LWSS_NVM_LABEL_MAX ||
        meta->id_len > LWSS_NVM_ID_MAX || meta->cls == LWSS_NVM_ANY_CLASS || data == NULL ||
        len == 0) {
        return lwss_set_error(LWSS_ERR_INVAL,
                              "nvm: bad object (label 1..%u bytes, id 0..%u, class not "
                              "LWSS_NVM_ANY_CLASS, value non-empty)",
                              LWSS_NVM_LABEL_MAX, LWSS_NVM_ID_MAX);
    }
    return 0;
}

uint32_t lwss_nvm_save(const lwss_nvm_meta *meta, const uint8_t *data, size_t len)
{
    int64_t ret = meta_valid(meta, data, len);
    lwss_os_lock(&nvm_lock);
    if (ret == 0) {
        int st_ret = 0;
        lwss_store *st = usable(&st_ret);
        ret = st == NULL ? st_ret : lwss_store_put(st, meta, data, len, in_my_txn());
    }
    pthread_mutex_unlock(&nvm_lock);
    status(ret < 0 ? (int)ret : 0);
    return ret > 0 ? (uint32_t)ret : 0u;
}

uint32_t lwss_nvm_find(const uint8_t *label, size_t label_len, uint32_t cls)
{
    if (label == NULL || label_len == 0 || label_len > LWSS_NVM_LABEL_MAX) {
        status(lwss_set_error(LWSS_ERR_INVAL, "nvm: bad label"));
        return 0;
    }
    lwss_os_lock(&nvm_lock);
    int st = 0;
    lwss_store *store = usable(&st);
    uint32_t h = store == NULL ? 0 : lwss_store_find(store, label, label_len, cls);
    pthread_mutex_unlock(&nvm_lock);
    status(st);
    return h;
}

int lwss_nvm_list(uint32_t *handles, size_t max, size_t *count)
{
    if (count == NULL || (handles == NULL && max > 0)) {
        return status(lwss_set_error(LWSS_ERR_INVAL, "nvm: bad list arguments"));
    }
    int ret = 0;
    lwss_os_lock(&nvm_lock);
    if (usable(&ret) != NULL) {
        size_t n = 0;
        for (size_t i = 0; i < nvm_store->nent; i++) {
            if (nvm_store->ent[i].live) {
                if (n < max) {
                    handles[n] = (uint32_t)i + 1u;
                }
                n++;
            }
        }
        *count = n;
    }
    pthread_mutex_unlock(&nvm_lock);
    return status(ret);
}

/* The live entry of @p handle, with the lock held; sets the error. */
static const lwss_store_entry *entry_locked(uint32_t handle, int *ret)
{
    if (usable(ret) == NULL) {
        return NULL;
    }
    const lwss_store_entry *e = lwss_store_get(nvm_store, handle);
    *ret = e != NULL ? 0 : lwss_set_error(LWSS_ERR_INVAL, "nvm: no object with handle %u", handle);
    return e;
}

int lwss_nvm_get_meta(uint32_t handle, lwss_nvm_meta *out)
{
    int ret = LWSS_ERR_INVAL;
    if (out == NULL) {
        return status(lwss_set_error(ret, "nvm: NULL metadata buffer"));
    }
    lwss_os_lock(&nvm_lock);
    const lwss_store_entry *e = entry_locked(handle, &ret);
    if (e != NULL) {
        *out = e->meta;
    }
    pthread_mutex_unlock(&nvm_lock);
    return status(ret);
}

int lwss_nvm_get_value(uint32_t handle, uint8_t **data, size_t *len)
{
    int ret = LWSS_ERR_INVAL;
    if (data == NULL || len == NULL) {
        return status(lwss_set_error(ret, "nvm: NULL output pointer"));
    }
    *data = NULL;
    *len = 0;
    lwss_os_lock(&nvm_lock);
    const lwss_store_entry *e = entry_locked(handle, &ret);
    if (e != NULL) {
        uint8_t *copy = malloc(e->data_len > 0 ? e->data_len : 1u);
        if (copy == NULL) {
            ret = lwss_set_error(LWSS_ERR_NOMEM, "nvm: out of memory for a value copy");
        } else {
            memcpy(copy, lwss_store_value(nvm_store, e), e->data_len);
            *data = copy;
            *len = e->data_len;
        }
    }
    pthread_mutex_unlock(&nvm_lock);
    return status(ret);
}

void lwss_nvm_free_value(uint8_t *data, size_t len)
{
    if (data != NULL) {
        mbedtls_platform_zeroize(data, len);
        free(data);
    }
}

int lwss_nvm_destroy(uint32_t handle)
{
    int ret = 0;
    lwss_os_lock(&nvm_lock);
    lwss_store *st = usable(&ret);
    if (st != NULL) {
        ret = handle == 0 || handle > st->nent
                  ? lwss_set_error(LWSS_ERR_INVAL, "nvm: no object with handle %u", handle)
                  : lwss_store_del(st, handle, in_my_txn());
    }
    pthread_mutex_unlock(&nvm_lock);
    return status(ret);
}

int lwss_nvm_collect(void)
{
    lwss_os_lock(&nvm_lock);
    int ret = 0;
    if (usable(&ret) != NULL) {
        ret = lwss_store_gc(nvm_store);
    }
    pthread_mutex_unlock(&nvm_lock);
    return status(ret);
}

int lwss_nvm_flash_stats(lwss_flash_stats *out)
{
    lwss_os_lock(&nvm_lock);
    int ret = nvm_store == NULL ? not_open() : 0;
    if (nvm_store != NULL) {
        lwss_flash_get_stats(nvm_store->fl, out);
    }
    pthread_mutex_unlock(&nvm_lock);
    return status(ret);
}

int lwss_nvm_sector_info(lwss_store_sector *out, uint32_t max, uint32_t *nsec)
{
    lwss_os_lock(&nvm_lock);
    int ret = nvm_store == NULL ? not_open() : 0;
    if (nvm_store != NULL) {
        *nsec = nvm_store->nsec;
        for (uint32_t s = 0; s < nvm_store->nsec && s < max; s++) {
            out[s] = nvm_store->sec[s];
        }
    }
    pthread_mutex_unlock(&nvm_lock);
    return status(ret);
}

int lwss_nvm_txn_begin(void)
{
    int ret = 0;
    lwss_os_lock(&nvm_lock);
    while (txn_depth > 0 && !in_my_txn() && nvm_store != NULL) {
        lwss_os_cond_wait(&txn_done, &nvm_lock);
    }
    lwss_store *st = usable(&ret);
    if (st != NULL && txn_depth > 0) {
        txn_depth++; /* nested: joins the open one */
    } else if (st != NULL) {
        ret = lwss_store_txn_begin(st);
        if (ret == 0) {
            txn_owner = pthread_self();
            txn_depth = 1;
            txn_doomed = 0;
        }
    }
    pthread_mutex_unlock(&nvm_lock);
    return status(ret);
}

/* Ends one level of the calling thread's transaction: @p commit, or abort. */
static int txn_end_level(int commit)
{
    int ret = 0;
    lwss_os_lock(&nvm_lock);
    lwss_store *st = usable(&ret);
    if (st != NULL && !in_my_txn()) {
        ret = lwss_set_error(LWSS_ERR_STATE, "nvm: no transaction open in this thread");
    } else if (st != NULL) {
        txn_doomed |= !commit;
        if (--txn_depth == 0) {
            if (txn_doomed) {
                lwss_store_txn_abort(st);
                ret = commit ? lwss_set_error(LWSS_ERR_STATE,
                                              "nvm: transaction aborted by an inner level")
                             : 0;
            } else {
                ret = lwss_store_txn_commit(st);
            }
            txn_finish();
        }
    }
    pthread_mutex_unlock(&nvm_lock);
    return status(ret);
}

int lwss_nvm_txn_commit(void)
{
    return txn_end_level(1);
}

int lwss_nvm_txn_abort(void)
{
    return txn_end_level(0);
}
