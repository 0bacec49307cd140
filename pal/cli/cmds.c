/* lwss-nvm commands: create, list, sectors, export, verify. */
#include "pal/cli/cli.h"

#include "lwss/nvm.h"
#include "lwss/pkcs11_std.h"
#include "lwss/port.h"
#include "pal/layout.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int lwss_nvm_cli_create(const cli_opts *o)
{
    char msg[512];
    if (access(o->image, F_OK) == 0) {
        if (!o->force) {
            snprintf(msg, sizeof(msg), "%s exists (--force replaces it)", o->image);
            return lwss_nvm_cli_error(o, msg);
        }
        /* Never pull the file from under a process that has it open. */
        lwss_flash *held = NULL;
        if (lwss_flash_open(&held, o->image, LWSS_FLASH_WRITE, 0, lwss_nvm_cli_lock_ms()) ==
            LWSS_ERR_BUSY) {
            snprintf(msg, sizeof(msg), "%s: %s", o->image, lwss_last_error());
            return lwss_nvm_cli_error(o, msg);
        }
        int gone = unlink(o->image);
        lwss_flash_close(held);
        if (gone != 0) {
            snprintf(msg, sizeof(msg), "cannot remove %s: %s", o->image, strerror(errno));
            return lwss_nvm_cli_error(o, msg);
        }
    }
    lwss_nvm_geometry geo = {o->size, o->sector};
    lwss_flash *fl = NULL;
    lwss_store *st = NULL;
    int ret = lwss_flash_open(&fl, o->image, LWSS_FLASH_WRITE | LWSS_FLASH_CREATE, geo.size,
                              lwss_nvm_cli_lock_ms());
    if (ret == 0) {
        ret = lwss_store_open(&st, fl, &geo, LWSS_NVM_DEFAULT_MAX_OBJECTS);
    }
    if (ret != 0) {
        snprintf(msg, sizeof(msg), "%s: %s", o->image, lwss_last_error());
        if (fl != NULL && st == NULL) {
            unlink(o->image); /* the half-made file is ours */
        }
        return lwss_nvm_cli_error(o, msg);
    }
    if (o->json) {
        printf("{\"ok\":true,\"image\":");
        lwss_nvm_cli_put_label(stdout, (const uint8_t *)o->image, strlen(o->image), 1);
        printf(",\"size\":%u,\"sector\":%u,\"sectors\":%u,\"version\":%u}\n", st->size,
               st->ssize, st->nsec, LWSS_NVM_FMT_VERSION);
    } else {
        printf("created %s: %u bytes, %u sectors of %u bytes, format version %u\n", o->image,
               st->size, st->nsec, st->ssize, LWSS_NVM_FMT_VERSION);
    }
    lwss_store_close(st);
    return CLI_OK;
}

static void list_entry_json(const lwss_store_entry *e, uint32_t handle, int first)
{
    printf("%s{\"handle\":%u,\"label\":", first ? "" : ",", handle);
    lwss_nvm_cli_put_label(stdout, e->meta.label, e->meta.label_len, 1);
    printf(",\"class\":\"%s\",\"class_id\":%u,\"size\":%u,\"private\":%s,\"id_len\":%u,"
           "\"crc\":\"ok\",\"seq\":%u,\"offset\":%u}",
           lwss_nvm_cli_class_name(e->meta.cls), e->meta.cls, e->data_len,
           e->meta.is_private ? "true" : "false", e->meta.id_len, e->seq, e->rec_off);
}

static void list_entry_text(const lwss_store_entry *e, uint32_t handle)
{
    printf("%-6u ", handle);
    lwss_nvm_cli_put_label(stdout, e->meta.label, e->meta.label_len, 0);
    int pad = 24 - (int)e->meta.label_len;
    printf("%*s %-12s %7u %-4s %-4s %8u\n", pad > 0 ? pad : 1, "",
           lwss_nvm_cli_class_name(e->meta.cls), e->data_len, e->meta.is_private ? "yes" : "no",
           "ok", e->seq);
}

/* Records whose header is good but body CRC is not: listed as BAD. */
static void list_bad(const lwss_store *st, int json, int first)
{
    const uint8_t *img = lwss_flash_map(st->fl);
    for (size_t i = 0; i < st->ndmg; i++) {
        lwss_rhdr h;
        if (st->dmg[i].kind != LWSS_DMG_BODY || !lwss_rhdr_decode(img + st->dmg[i].off, &h)) {
            continue;
        }
        const uint8_t *label = img + st->dmg[i].off + LWSS_NVM_RHDR_SIZE;
        if (json) {
            printf("%s{\"handle\":0,\"label\":", first ? "" : ",");
            lwss_nvm_cli_put_label(stdout, label, h.label_len, 1);
            printf(",\"class\":\"%s\",\"class_id\":%u,\"size\":%u,\"crc\":\"bad\",\"seq\":%u,"
                   "\"offset\":%u}",
                   lwss_nvm_cli_class_name(h.cls), h.cls, h.data_len, h.seq, st->dmg[i].off);
            first = 0;
        } else {
            printf("%-6s ", "-");
            lwss_nvm_cli_put_label(stdout, label, h.label_len, 0);
            int pad = 24 - (int)h.label_len;
            printf("%*s %-12s %7u %-4s %-4s %8u\n", pad > 0 ? pad : 1, "",
                   lwss_nvm_cli_class_name(h.cls), h.data_len, "?", "BAD", h.seq);
        }
    }
}

int lwss_nvm_cli_list(const cli_opts *o)
{
    lwss_store *st = NULL;
    if (lwss_nvm_cli_open(o, &st) != CLI_OK) {
        return CLI_FAIL;
    }
    int first = 1;
    if (o->json) {
        printf("{\"ok\":true,\"objects\":[");
    } else {
        printf("%-6s %-24s %-12s %7s %-4s %-4s %8s\n", "HANDLE", "LABEL", "CLASS", "SIZE",
               "PRIV", "CRC", "SEQ");
    }
    for (size_t i = 0; i < st->nent; i++) {
        if (!st->ent[i].live) {
            continue;
        }
        if (o->json) {
            list_entry_json(&st->ent[i], (uint32_t)i + 1u, first);
        } else {
            list_entry_text(&st->ent[i], (uint32_t)i + 1u);
        }
        first = 0;
    }
    list_bad(st, o->json, first);
    if (o->json) {
        printf("],\"live\":%zu,\"damaged_places\":%zu}\n", st->live_count, st->dmg_total);
    } else if (st->dmg_total > 0) {
        printf("%zu damaged place(s): run 'lwss-nvm verify %s'\n", st->dmg_total, o->image);
    }
    lwss_store_close(st);
    return CLI_OK;
}

/* "salvaged": header damaged, records recovered, collected first. */
static const char *state_name(const lwss_store_sector *sec)
{
    if (sec->state == LWSS_SEC_USED) {
        return sec->salvage ? "salvaged" : "used";
    }
    return sec->state == LWSS_SEC_FREE ? "free" : "dirty";
}

int lwss_nvm_cli_sectors(const cli_opts *o)
{
    lwss_store *st = NULL;
    if (lwss_nvm_cli_open(o, &st) != CLI_OK) {
        return CLI_FAIL;
    }
    uint32_t payload = st->ssize - LWSS_NVM_SHDR_SIZE;
    if (o->json) {
        printf("{\"ok\":true,\"size\":%u,\"sector_size\":%u,\"head\":%d,\"sectors\":[", st->size,
               st->ssize, st->head);
    } else {
        printf("image %s: %u bytes, %u sectors of %u bytes\n", o->image, st->size, st->nsec,
               st->ssize);
        printf("%-6s %-8s %8s %6s %8s %7s %8s\n", "SECTOR", "STATE", "SEQ", "FILL", "LIVE",
               "RECORDS", "ERASES");
    }
    for (uint32_t s = 0; s < st->nsec; s++) {
        const lwss_store_sector *sec = &st->sec[s];
        uint32_t used = sec->state == LWSS_SEC_USED ? sec->write_off - LWSS_NVM_SHDR_SIZE : 0;
        double fill = 100.0 * used / payload;
        if (o->json) {
            printf("%s{\"index\":%u,\"state\":\"%s\",\"seq\":%u,\"fill_pct\":%.1f,"
                   "\"used_bytes\":%u,\"live_bytes\":%u,\"records\":%u,\"erase_count\":",
                   s ? "," : "", s, state_name(sec), sec->seq, fill, used,
                   sec->live_bytes, sec->records);
            sec->count_known ? printf("%u}", sec->erase_count) : printf("null}");
        } else {
            char erases[16];
            snprintf(erases, sizeof(erases), sec->count_known ? "%u" : "?", sec->erase_count);
            printf("%-6u %-8s %8u %5.1f%% %8u %7u %8s%s\n", s, state_name(sec), sec->seq,
                   fill, sec->live_bytes, sec->records, erases,
                   (int)s == st->head ? "  <- head" : "");
        }
    }
    if (o->json) {
        printf("]}\n");
    }
    lwss_store_close(st);
    return CLI_OK;
}
