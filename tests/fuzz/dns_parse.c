/* libFuzzer target: lwss_dns_parse_response() must never read out of
 * bounds, loop, or accept an answer that is not for the question asked.
 * The first two input bytes pick the expected query ID. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/dns/dns_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    uint16_t id = (uint16_t)((data[0] << 8) | data[1]);
    /* A private copy of exactly @size bytes: ASan sees any overread. */
    uint8_t *msg = malloc(size);
    if (msg == NULL) {
        return 0;
    }
    memcpy(msg, data, size);
    uint32_t addr = 0;
    int rc = lwss_dns_parse_response(msg, size, id, "echo.lwss.test", &addr);
    if (rc == LWSS_DNS_OK && addr == 0) {
        abort(); /* success always carries an address */
    }
    rc = lwss_dns_parse_response(msg, size, id, "a.b", &addr);
    (void)rc;
    free(msg);
    return 0;
}
