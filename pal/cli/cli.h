/* lwss-nvm: the image tool.  Internal to pal/cli. */
#ifndef LWSS_PAL_CLI_H
#define LWSS_PAL_CLI_H

#include "pal/store.h"

#include <stdio.h>

/** Parsed command line. */
typedef struct cli_opts {
    const char *image;    /* image path */
    int json;             /* --json */
    int force;            /* create: --force */
    uint32_t size, sector;/* create: --size, --sector */
    const char *label;    /* export */
    long cls;             /* export: --class (-1: any) */
    int pem;              /* export: --pem (default DER) */
    const char *out;      /* export: -o FILE ("-" / NULL: stdout) */
} cli_opts;

/* Exit codes. */
#define CLI_OK 0
#define CLI_FAIL 1   /* error, refused image or corruption found */
#define CLI_USAGE 2

int lwss_nvm_cli_create(const cli_opts *o);
int lwss_nvm_cli_list(const cli_opts *o);
int lwss_nvm_cli_sectors(const cli_opts *o);
int lwss_nvm_cli_export(const cli_opts *o);
int lwss_nvm_cli_verify(const cli_opts *o);

/* Output helpers (print.c). */
const char *lwss_nvm_cli_class_name(uint32_t cls);
const char *lwss_nvm_cli_damage_name(uint8_t kind);
/** Label as a JSON string (quoted, escaped) or, for tables, with \xNN escapes. */
void lwss_nvm_cli_put_label(FILE *f, const uint8_t *label, size_t len, int json);
/** Bound on waiting for another process's lock ($LWSS_NVM_LOCK_MS). */
unsigned lwss_nvm_cli_lock_ms(void);
/** Open @p o->image read-only (shared lock) and scan it; prints the error. */
int lwss_nvm_cli_open(const cli_opts *o, lwss_store **st);
/** Print an error (text or JSON object) and return CLI_FAIL. */
int lwss_nvm_cli_error(const cli_opts *o, const char *what);

#endif
