/**
 * @file dns.h
 * @brief lwss DNS stub resolver (behind SOCKETS_GetHostByName) and its static hosts table.
 *
 * Queries go over lwIP UDP to the servers of the port configuration
 * (LWSS_DNS), with a random query ID and a random source port per attempt;
 * every answer is validated before use.  All calls are thread-safe.
 */
#ifndef LWSS_DNS_H
#define LWSS_DNS_H

#include <stdint.h>
#include "lwss/config_defaults.h"
#include "lwss/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* LWSS_DNS_HOSTS_MAX (static hosts entries): lwss/config_defaults.h */

/**
 * Resolve @p name to an IPv4 address: a dotted quad is parsed directly, then
 * the hosts table is consulted, then the DNS servers (each tried in turn,
 * every attempt bounded by the per-attempt timeout).
 * @param addr_out receives the address in network order
 * @return LWSS_OK; LWSS_ERR_INVAL (NULL, empty, longer than 253, bad label);
 *         LWSS_ERR_STATE (stack down or no DNS server configured);
 *         LWSS_ERR_IO (the name does not exist or has no A record);
 *         LWSS_ERR_TIMEOUT (no valid answer from any server in time);
 *         LWSS_ERR_NOMEM.  Detail in lwss_last_error().
 */
LWSS_API int lwss_dns_resolve(const char *name, uint32_t *addr_out);

/**
 * Add or replace a static hosts entry (names compare case-insensitively).
 * @param addr IPv4 address in network order, not 0
 * @return LWSS_OK; LWSS_ERR_INVAL (bad name or address); LWSS_ERR_NOMEM (table full).
 */
LWSS_API int lwss_dns_hosts_add(const char *name, uint32_t addr);

/**
 * Remove a static hosts entry.
 * @return LWSS_OK, or LWSS_ERR_INVAL when there is no such entry.
 */
LWSS_API int lwss_dns_hosts_remove(const char *name);

/** Remove every static hosts entry. */
LWSS_API void lwss_dns_hosts_clear(void);

/**
 * Set the retry policy: each server gets @p tries attempts of
 * @p attempt_timeout_ms each (defaults: 2 attempts of 1000 ms).
 * @return LWSS_OK, or LWSS_ERR_INVAL (timeout outside 10..30000 ms, tries outside 1..10).
 */
LWSS_API int lwss_dns_set_retry(uint32_t attempt_timeout_ms, unsigned tries);

#ifdef __cplusplus
}
#endif

#endif /* LWSS_DNS_H */
