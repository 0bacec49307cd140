/* lwss-nvm output helpers: names, escaping, opening, errors. */
#include "pal/cli/cli.h"

#include "lwss/nvm.h"
#include "lwss/pkcs11_std.h"
#include "lwss/port.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *lwss_nvm_cli_class_name(uint32_t cls)
{
    switch (cls) {
    case CKO_DATA: return "data";
    case CKO_CERTIFICATE: return "certificate";
    case CKO_PUBLIC_KEY: return "public-key";
    case CKO_PRIVATE_KEY: return "private-key";
    case CKO_SECRET_KEY: return "secret-key";
    default: return "other";
    }
}

const char *lwss_nvm_cli_damage_name(uint8_t kind)
{
    switch (kind) {
    case LWSS_DMG_SECTOR: return "sector header unreadable or torn";
    case LWSS_DMG_GARBAGE: return "bytes that are no valid record (torn write or bit flip)";
    case LWSS_DMG_BODY: return "record CRC mismatch (torn write or bit flip)";
    case LWSS_DMG_FOREIGN: return "sector of another geometry or version";
    case LWSS_DMG_INTERRUPTED: return "interrupted write (power cut; the previous version is in force)";
    default: return "damage";
    }
}

void lwss_nvm_cli_put_label(FILE *f, const uint8_t *label, size_t len, int json)
{
    if (json) {
        fputc('"', f);
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t c = label[i];
        if (json && (c == '"' || c == '\\')) {
            fprintf(f, "\\%c", c);
        } else if (c >= 0x20 && c < 0x7F) {
            fputc(c, f);
        } else {
            fprintf(f, json ? "\\u%04x" : "\\x%02x", c);
        }
    }
    if (json) {
        fputc('"', f);
    }
}

int lwss_nvm_cli_error(const cli_opts *o, const char *what)
{
    if (o->json) {
        printf("{\"ok\":false,\"error\":");
        lwss_nvm_cli_put_label(stdout, (const uint8_t *)what, strlen(what), 1);
        printf("}\n");
    }
    fprintf(stderr, "lwss-nvm: %s\n", what);
    return CLI_FAIL;
}

unsigned lwss_nvm_cli_lock_ms(void)
{
    const char *env = getenv("LWSS_NVM_LOCK_MS");
    return env != NULL ? (unsigned)strtoul(env, NULL, 0) : LWSS_NVM_DEFAULT_LOCK_MS;
}

int lwss_nvm_cli_open(const cli_opts *o, lwss_store **st)
{
    lwss_flash *fl = NULL;
    int ret = lwss_flash_open(&fl, o->image, 0, 0, lwss_nvm_cli_lock_ms());
    if (ret == 0) {
        ret = lwss_store_open(st, fl, NULL, SIZE_MAX);
    }
    if (ret != 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "%s: %s", o->image, lwss_last_error());
        return lwss_nvm_cli_error(o, msg);
    }
    return CLI_OK;
}
