/*
 * NSS key log (SSLKEYLOGFILE): one "CLIENT_RANDOM <client random> <master
 * secret>" line per handshake, which Wireshark/tshark use to decrypt
 * captures.  Lines are appended with one write(2) on an O_APPEND file so
 * concurrent handshakes (and processes) never interleave within a line.
 */
#include "src/tls/tls_internal.h"
#include "lwss/tls.h"

#include <mbedtls/platform_util.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

size_t lwss_tls_keylog_format(char *line, size_t size, const unsigned char client_random[32],
                              const unsigned char master[48])
{
    static const char hex[] = "0123456789abcdef";
    static const char tag[] = "CLIENT_RANDOM ";
    size_t need = sizeof(tag) - 1 + 64 + 1 + 96 + 1;
    if (size < need + 1) {
        return 0;
    }
    size_t n = 0;
    for (size_t i = 0; tag[i] != '\0'; i++) {
        line[n++] = tag[i];
    }
    for (size_t i = 0; i < 32; i++) {
        line[n++] = hex[client_random[i] >> 4];
        line[n++] = hex[client_random[i] & 15];
    }
    line[n++] = ' ';
    for (size_t i = 0; i < 48; i++) {
        line[n++] = hex[master[i] >> 4];
        line[n++] = hex[master[i] & 15];
    }
    line[n++] = '\n';
    line[n] = '\0';
    return n;
}

static int keylog_write(void *p_expkey, const unsigned char *ms, const unsigned char *kb,
                        size_t maclen, size_t keylen, size_t ivlen,
                        const unsigned char client_random[32],
                        const unsigned char server_random[32], mbedtls_tls_prf_types prf)
{
    (void)p_expkey; (void)kb; (void)maclen; (void)keylen; (void)ivlen;
    (void)server_random; (void)prf;
    const char *path = getenv(LWSS_TLS_KEYLOG_ENV);
    if (path == NULL || path[0] == '\0') {
        return 0;
    }
    char line[256];
    size_t n = lwss_tls_keylog_format(line, sizeof(line), client_random, ms);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
        /* Best effort: a keylog that cannot be written must not break TLS. */
        ssize_t w = write(fd, line, n);
        (void)w;
        close(fd);
    }
    mbedtls_platform_zeroize(line, sizeof(line));
    return 0;
}

void lwss_tls_keylog_attach(mbedtls_ssl_config *conf)
{
    const char *path = getenv(LWSS_TLS_KEYLOG_ENV);
    if (path != NULL && path[0] != '\0') {
        mbedtls_ssl_conf_export_keys_ext_cb(conf, keylog_write, NULL);
    }
}
