/* DNS message building and validation (RFC 1035), no I/O: shared by the
 * resolver, the unit tests and the fuzz target.  Internal, not installed. */
#ifndef LWSS_DNS_MSG_H
#define LWSS_DNS_MSG_H

#include <stddef.h>
#include <stdint.h>

#define LWSS_DNS_NAME_MAX 253      /* presentation form, without a final dot */
#define LWSS_DNS_QUERY_MAX 512     /* largest query we build */

/* Results of lwss_dns_parse_response(). */
enum {
    LWSS_DNS_OK = 0,
    LWSS_DNS_NXDOMAIN = 1,   /* RCODE 3: the name does not exist */
    LWSS_DNS_NODATA = 2,     /* valid answer without an A record for the name */
    LWSS_DNS_MISMATCH = -1,  /* not an answer to our query (ID / question): ignore it */
    LWSS_DNS_MALFORMED = -2, /* truncated fields, bad lengths, pointer loops... */
    LWSS_DNS_TRUNCATED = -3, /* TC bit: we do not fall back to TCP */
    LWSS_DNS_SERVFAIL = -4,  /* any other RCODE, or not a standard response */
};

/* Check a host name: labels of 1..63 letters, digits, '-' or '_', at most
 * LWSS_DNS_NAME_MAX characters (one final dot allowed).  0 when valid. */
int lwss_dns_name_valid(const char *name);

/* Build an A/IN query with recursion desired into @buf.
 * Returns its length, or 0 when the name is invalid or @cap too small. */
size_t lwss_dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name);

/* Validate @msg as the answer to the query (@id, @name) and extract the
 * first A record of the name (following CNAMEs inside the answer).
 * @addr_out: network order. */
int lwss_dns_parse_response(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                            uint32_t *addr_out);

/* "a.b.c.d" (exactly four decimal octets) to network order; 0 when it is not one. */
int lwss_dns_parse_dotted_quad(const char *s, uint32_t *addr_out);

#endif
