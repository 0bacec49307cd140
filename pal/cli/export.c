/* lwss-nvm export (public objects only, PEM or DER) and verify. */
#include "pal/cli/cli.h"

#include "lwss/nvm.h"
#include "lwss/pkcs11_std.h"
#include "lwss/port.h"

#include <errno.h>
#include <mbedtls/pem.h>
#include <stdlib.h>
#include <string.h>

static const char *pem_name(uint32_t cls)
{
    return cls == CKO_CERTIFICATE ? "CERTIFICATE" : cls == CKO_PUBLIC_KEY ? "PUBLIC KEY" : "DATA";
}

static int write_out(const cli_opts *o, const uint8_t *buf, size_t len)
{
    FILE *f = (o->out == NULL || strcmp(o->out, "-") == 0) ? stdout : fopen(o->out, "wb");
    if (f == NULL) {
        char msg[512];
        snprintf(msg, sizeof(msg), "cannot write %s: %s", o->out, strerror(errno));
        return lwss_nvm_cli_error(o, msg);
    }
    int ok = fwrite(buf, 1, len, f) == len;
    ok = (f == stdout ? fflush(f) : fclose(f)) == 0 && ok;
    return ok ? CLI_OK : lwss_nvm_cli_error(o, "write failed");
}

static int export_value(const cli_opts *o, const lwss_store_entry *e, const uint8_t *der)
{
    if (!o->pem) {
        return write_out(o, der, e->data_len);
    }
    char header[64], footer[64];
    snprintf(header, sizeof(header), "-----BEGIN %s-----\n", pem_name(e->meta.cls));
    snprintf(footer, sizeof(footer), "-----END %s-----\n", pem_name(e->meta.cls));
    size_t cap = e->data_len * 4u / 3u + e->data_len / 48u + 256u, olen = 0;
    unsigned char *pem = malloc(cap);
    if (pem == NULL) {
        return lwss_nvm_cli_error(o, "out of memory");
    }
    int ret = mbedtls_pem_write_buffer(header, footer, der, e->data_len, pem, cap, &olen);
    ret = ret == 0 ? write_out(o, pem, olen - 1u) /* olen counts the NUL */
                   : lwss_nvm_cli_error(o, "PEM encoding failed");
    free(pem);
    return ret;
}

int lwss_nvm_cli_export(const cli_opts *o)
{
    lwss_store *st = NULL;
    if (lwss_nvm_cli_open(o, &st) != CLI_OK) {
        return CLI_FAIL;
    }
    int ret = CLI_FAIL;
    uint32_t cls = o->cls < 0 ? LWSS_NVM_ANY_CLASS : (uint32_t)o->cls;
    size_t label_len = strlen(o->label);
    uint32_t h = label_len <= LWSS_NVM_LABEL_MAX
                     ? lwss_store_find(st, (const uint8_t *)o->label, label_len, cls)
                     : 0u;
    const lwss_store_entry *e = lwss_store_get(st, h);
    char msg[256];
    if (e == NULL) {
        snprintf(msg, sizeof(msg), "no object labelled '%s'%s", o->label,
                 o->cls < 0 ? "" : " of that class");
        ret = lwss_nvm_cli_error(o, msg);
    } else if (e->meta.is_private || e->meta.cls == CKO_PRIVATE_KEY ||
               e->meta.cls == CKO_SECRET_KEY) {
        snprintf(msg, sizeof(msg), "'%s' is a private object: not exported", o->label);
        ret = lwss_nvm_cli_error(o, msg);
    } else {
        ret = export_value(o, e, lwss_store_value(st, e));
    }
    lwss_store_close(st);
    return ret;
}

int lwss_nvm_cli_verify(const cli_opts *o)
{
    lwss_store *st = NULL;
    if (lwss_nvm_cli_open(o, &st) != CLI_OK) {
        return CLI_FAIL;
    }
    if (o->json) {
        printf("{\"ok\":%s,\"objects\":%zu,\"damaged_places\":%zu,"
               "\"interrupted_writes\":%zu,\"damage\":[",
               st->dmg_total == 0 ? "true" : "false", st->live_count, st->dmg_total,
               st->interrupted);
    }
    for (size_t i = 0; i < st->ndmg; i++) {
        const lwss_store_damage *d = &st->dmg[i];
        if (o->json) {
            printf("%s{\"offset\":%u,\"sector\":%u,\"kind\":\"%s\"}", i ? "," : "", d->off,
                   d->off / st->ssize, lwss_nvm_cli_damage_name(d->kind));
        } else {
            printf("%s at offset %u (sector %u): %s\n",
                   d->kind == LWSS_DMG_INTERRUPTED ? "note" : "DAMAGE", d->off, d->off / st->ssize,
                   lwss_nvm_cli_damage_name(d->kind));
        }
    }
    if (o->json) {
        printf("]}\n");
    } else if (st->dmg_total == 0) {
        printf("%s: OK (%zu objects, %u sectors, every committed record CRC good", o->image,
               st->live_count, st->nsec);
        printf(st->interrupted ? "; %zu write(s) cut by a power loss, skipped)\n" : ")\n",
               st->interrupted);
    } else {
        printf("%s: CORRUPT: %zu damaged place(s) skipped; %zu objects readable\n", o->image,
               st->dmg_total, st->live_count);
    }
    int ret = st->dmg_total == 0 ? CLI_OK : CLI_FAIL;
    lwss_store_close(st);
    return ret;
}
