/* lwss-nvm: create, inspect, export from and verify an lwss NVM image. */
#include "pal/cli/cli.h"

#include "lwss/nvm.h"

#include <stdlib.h>
#include <string.h>

static int usage(void)
{
    fprintf(stderr,
            "usage: lwss-nvm [--json] COMMAND [IMAGE] [options]\n"
            "  create|format IMAGE [--size BYTES] [--sector BYTES] [--force]\n"
            "  list IMAGE          objects: label, class, size, CRC state, sequence\n"
            "  sectors IMAGE       sectors: state, fill, live bytes, erase counts\n"
            "  export IMAGE LABEL [--class N] [--pem|--der] [-o FILE]\n"
            "                      a public object (certificate, public key, data)\n"
            "  verify IMAGE        exit 1 on any damage (bad CRC, torn write, bad header)\n"
            "IMAGE defaults to $LWSS_NVM.  Exit: 0 ok, 1 error or damage, 2 usage.\n");
    return CLI_USAGE;
}

static int parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (*s == '\0' || (*end != '\0' && strcmp(end, "k") != 0 && strcmp(end, "K") != 0) ||
        v == 0 || v > 0xFFFFFFFFul / 1024u) {
        return -1;
    }
    *out = (uint32_t)(*end != '\0' ? v * 1024u : v);
    return 0;
}

/* Options after the command; positional words fill image then label. */
static int parse_rest(int argc, char **argv, int i, cli_opts *o)
{
    for (; i < argc; i++) {
        const char *a = argv[i];
        int has_next = i + 1 < argc;
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--force") == 0) {
            o->force = 1;
        } else if (strcmp(a, "--pem") == 0) {
            o->pem = 1;
        } else if (strcmp(a, "--der") == 0) {
            o->pem = 0;
        } else if (strcmp(a, "--size") == 0 && has_next) {
            if (parse_u32(argv[++i], &o->size) != 0) {
                return -1;
            }
        } else if (strcmp(a, "--sector") == 0 && has_next) {
            if (parse_u32(argv[++i], &o->sector) != 0) {
                return -1;
            }
        } else if (strcmp(a, "--class") == 0 && has_next) {
            uint32_t cls = 0;
            if (strcmp(argv[i + 1], "0") == 0) {
                i++;
            } else if (parse_u32(argv[++i], &cls) != 0) {
                return -1;
            }
            o->cls = (long)cls;
        } else if (strcmp(a, "-o") == 0 && has_next) {
            o->out = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            return -1;
        } else if (o->image == NULL) {
            o->image = a;
        } else if (o->label == NULL) {
            o->label = a;
        } else {
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    cli_opts o;
    memset(&o, 0, sizeof(o));
    o.size = LWSS_NVM_DEFAULT_SIZE;
    o.sector = LWSS_NVM_DEFAULT_SECTOR;
    o.cls = -1;
    int i = 1;
    while (i < argc && strcmp(argv[i], "--json") == 0) {
        o.json = 1;
        i++;
    }
    if (i >= argc || parse_rest(argc, argv, i + 1, &o) != 0) {
        return usage();
    }
    const char *cmd = argv[i];
    if (o.image == NULL) {
        o.image = getenv("LWSS_NVM");
    }
    if (o.image == NULL || o.image[0] == '\0') {
        return usage();
    }
    if (strcmp(cmd, "create") == 0 || strcmp(cmd, "format") == 0) {
        return o.label == NULL ? lwss_nvm_cli_create(&o) : usage();
    }
    if (strcmp(cmd, "export") == 0) {
        return o.label != NULL ? lwss_nvm_cli_export(&o) : usage();
    }
    if (o.label != NULL) {
        return usage();
    }
    if (strcmp(cmd, "list") == 0) {
        return lwss_nvm_cli_list(&o);
    }
    if (strcmp(cmd, "sectors") == 0) {
        return lwss_nvm_cli_sectors(&o);
    }
    if (strcmp(cmd, "verify") == 0) {
        return lwss_nvm_cli_verify(&o);
    }
    return usage();
}
