/* Trust anchors given as a socket option, and the IP-address SAN check. */
#include "src/tls/tls_internal.h"

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>

#include <stdlib.h>
#include <string.h>

static int looks_like_pem(const uint8_t *data, size_t len)
{
    static const char marker[] = "-----BEGIN ";
    return memmem(data, len, marker, sizeof(marker) - 1) != NULL;
}

int lwss_tls_parse_certs(mbedtls_x509_crt *chain, const uint8_t *data, size_t len)
{
    if (data == NULL || len == 0) {
        return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
    }
    if (!looks_like_pem(data, len)) {
        return mbedtls_x509_crt_parse_der(chain, data, len);
    }
    /* mbedtls wants PEM NUL-terminated and counted with the NUL; the option
     * may come with or without it, so parse a terminated copy. */
    size_t text_len = strnlen((const char *)data, len);
    unsigned char *copy = malloc(text_len + 1);
    if (copy == NULL) {
        return MBEDTLS_ERR_X509_ALLOC_FAILED;
    }
    memcpy(copy, data, text_len);
    copy[text_len] = '\0';
    int ret = mbedtls_x509_crt_parse(chain, copy, text_len + 1);
    free(copy);
    if (ret > 0) {
        /* Some blocks were not certificates we can use: refuse the whole
         * option rather than trust a partial set silently. */
        ret = MBEDTLS_ERR_X509_INVALID_FORMAT;
    }
    return ret;
}

/* Walk the raw subjectAltName list: iPAddress entries are [7] OCTET STRING. */
int lwss_tls_cert_has_ip(const mbedtls_x509_crt *crt, uint32_t ip)
{
    for (const mbedtls_x509_sequence *san = &crt->subject_alt_names; san != NULL;
         san = san->next) {
        if (san->buf.p == NULL) {
            continue;
        }
        if (san->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7) && san->buf.len == 4 &&
            memcmp(san->buf.p, &ip, 4) == 0) {
            return 1;
        }
    }
    return 0;
}
