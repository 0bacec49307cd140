/* Stub resolver over lwIP UDP sockets, and the static hosts table.
 *
 * Each attempt owns its socket and buffers on the caller's stack and waits
 * synchronously with lwip_poll: no callback can outlive the call (the
 * reference's could fire after its caller had returned), and concurrent lookups share nothing but the hosts table. */
#include "lwss/dns.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "lwip/sockets.h"

#include "src/core/core.h"
#include "lwss/port.h"
#include "src/dns/dns_msg.h"

#define DNS_PORT 53
#define RESPONSE_MAX 1500
#define SRC_PORT_MIN 1024u

typedef struct {
    char name[LWSS_DNS_NAME_MAX + 2];
    uint32_t addr;
} host_entry;

static pthread_mutex_t hosts_lock = PTHREAD_MUTEX_INITIALIZER;
static host_entry hosts[LWSS_DNS_HOSTS_MAX];
static size_t hosts_count;

static atomic_uint attempt_timeout_ms = LWSS_DNS_ATTEMPT_TIMEOUT_MS;
static atomic_uint attempts_per_server = LWSS_DNS_ATTEMPTS;

int lwss_dns_set_retry(uint32_t timeout_ms, unsigned tries)
{
    if (timeout_ms < 10 || timeout_ms > 30000 || tries < 1 || tries > 10) {
        return lwss_set_error(LWSS_ERR_INVAL, "dns retry: timeout 10..30000 ms, 1..10 tries");
    }
    atomic_store(&attempt_timeout_ms, timeout_ms);
    atomic_store(&attempts_per_server, tries);
    return LWSS_OK;
}

/* Compare without a final dot and without case. */
static int host_name_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    la -= (la > 0 && a[la - 1] == '.');
    lb -= (lb > 0 && b[lb - 1] == '.');
    return la == lb && strncasecmp(a, b, la) == 0;
}

/* hosts_lock held. */
static host_entry *find_host_locked(const char *name)
{
    for (size_t i = 0; i < hosts_count; i++) {
        if (host_name_eq(hosts[i].name, name)) {
            return &hosts[i];
        }
    }
    return NULL;
}

int lwss_dns_hosts_add(const char *name, uint32_t addr)
{
    if (lwss_dns_name_valid(name) != 0 || addr == 0) {
        return lwss_set_error(LWSS_ERR_INVAL, "hosts: bad name or address");
    }
    int rc = LWSS_OK;
    lwss_os_lock(&hosts_lock);
    host_entry *e = find_host_locked(name);
    if (e == NULL && hosts_count < LWSS_DNS_HOSTS_MAX) {
        e = &hosts[hosts_count++];
        snprintf(e->name, sizeof(e->name), "%s", name);
    }
    if (e != NULL) {
        e->addr = addr;
    } else {
        rc = lwss_set_error(LWSS_ERR_NOMEM, "hosts table full (%d)", LWSS_DNS_HOSTS_MAX);
    }
    pthread_mutex_unlock(&hosts_lock);
    return rc;
}

int lwss_dns_hosts_remove(const char *name)
{
    if (name == NULL) {
        return LWSS_ERR_INVAL;
    }
    int rc = LWSS_ERR_INVAL;
    lwss_os_lock(&hosts_lock);
    host_entry *e = find_host_locked(name);
    if (e != NULL) {
        *e = hosts[--hosts_count];
        rc = LWSS_OK;
    }
    pthread_mutex_unlock(&hosts_lock);
    return rc;
}

void lwss_dns_hosts_clear(void)
{
    lwss_os_lock(&hosts_lock);
    hosts_count = 0;
    pthread_mutex_unlock(&hosts_lock);
}

static int hosts_lookup(const char *name, uint32_t *addr_out)
{
    lwss_os_lock(&hosts_lock);
    host_entry *e = find_host_locked(name);
    if (e != NULL) {
        *addr_out = e->addr;
    }
    pthread_mutex_unlock(&hosts_lock);
    return e != NULL;
}

static int random_bytes(void *buf, size_t len)
{
    return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

/* A UDP socket bound to a random source port (lwIP picks one if all tries collide). */
static int open_random_port_socket(void)
{
    int fd = lwip_socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        return -1;
    }
    for (int i = 0; i < 8; i++) {
        uint16_t r;
        if (random_bytes(&r, sizeof(r)) != 0) {
            break;
        }
        struct sockaddr_in sin = {.sin_family = AF_INET};
        sin.sin_port = htons((uint16_t)(SRC_PORT_MIN + r % (65536u - SRC_PORT_MIN)));
        if (lwip_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0) {
            return fd;
        }
    }
    return fd;
}

/* Wait up to @p ms for a datagram on @p fd: 1 ready, 0 not (yet).  Under
 * the OS hook (lwss/os.h) lwIP is polled without blocking and the task
 * sleeps one slice through the hook; the caller loops to its deadline. */
static int await_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (lwss_os_hook_applies()) {
        if (lwip_poll(&p, 1, 0) > 0) {
            return 1;
        }
        lwss_os_sleep(ms < (int)LWSS_OS_WAIT_SLICE_MS ? (uint32_t)ms : LWSS_OS_WAIT_SLICE_MS);
        return 0;
    }
#ifdef LWSS_TEST_HOOKS
    lwss_os_test_note_wait(ms);
#endif
    return lwip_poll(&p, 1, ms) > 0;
}

/* Wait for the one valid answer until @deadline; anything else is dropped. */
static int await_answer(int fd, uint32_t server, uint16_t id, const char *name, uint64_t deadline,
                        uint32_t *addr_out)
{
    uint8_t buf[RESPONSE_MAX];
    for (;;) {
        uint64_t now = lwss_now_ms();
        if (now >= deadline) {
            return LWSS_DNS_MISMATCH; /* nothing valid in time */
        }
        if (!await_readable(fd, (int)(deadline - now))) {
            continue;
        }
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        ssize_t n = lwip_recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from,
                                  &flen);
        if (n <= 0 || from.sin_addr.s_addr != server || from.sin_port != htons(DNS_PORT)) {
            continue;
        }
        int rc = lwss_dns_parse_response(buf, (size_t)n, id, name, addr_out);
        if (rc != LWSS_DNS_MISMATCH && rc != LWSS_DNS_MALFORMED) {
            return rc; /* OK, NXDOMAIN, NODATA, TRUNCATED, SERVFAIL */
        }
        /* A forged or broken datagram must not end the lookup: keep waiting. */
    }
}

static int query_once(uint32_t server, const char *name, uint32_t timeout_ms, uint32_t *addr_out)
{
    uint16_t id;
    uint8_t query[LWSS_DNS_QUERY_MAX];
    if (random_bytes(&id, sizeof(id)) != 0) {
        return LWSS_DNS_SERVFAIL;
    }
    size_t qlen = lwss_dns_build_query(query, sizeof(query), id, name);
    if (qlen == 0) {
        return LWSS_DNS_MALFORMED;
    }
    int fd = open_random_port_socket();
    if (fd < 0) {
        return LWSS_DNS_SERVFAIL;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(DNS_PORT)};
    to.sin_addr.s_addr = server;
    int rc = LWSS_DNS_SERVFAIL;
    if (lwip_sendto(fd, query, qlen, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)qlen) {
        rc = await_answer(fd, server, id, name, lwss_now_ms() + timeout_ms, addr_out);
    }
    lwip_close(fd);
    return rc;
}

static int resolve_via_servers(const char *name, uint32_t *addr_out)
{
    lwss_port_config cfg;
    if (!lwss_port_is_up() || lwss_port_get_config(&cfg) != LWSS_OK) {
        return lwss_set_error(LWSS_ERR_STATE, "dns: the lwIP port is not up");
    }
    int have_server = 0;
    unsigned tries = atomic_load(&attempts_per_server);
    uint32_t timeout = atomic_load(&attempt_timeout_ms);
    for (unsigned t = 0; t < tries; t++) {
        for (int s = 0; s < LWSS_PORT_MAX_DNS; s++) {
            if (cfg.dns[s] == 0) {
                continue;
            }
            have_server = 1;
            int rc = query_once(cfg.dns[s], name, timeout, addr_out);
            if (rc == LWSS_DNS_OK) {
                return LWSS_OK;
            }
            if (rc == LWSS_DNS_NXDOMAIN || rc == LWSS_DNS_NODATA) {
                return lwss_set_error(LWSS_ERR_IO, "dns: %s: %s", name,
                                      rc == LWSS_DNS_NXDOMAIN ? "no such name" : "no A record");
            }
        }
        if (!have_server) {
            return lwss_set_error(LWSS_ERR_STATE, "dns: no server configured (LWSS_DNS)");
        }
    }
    return lwss_set_error(LWSS_ERR_TIMEOUT, "dns: %s: no valid answer", name);
}

int lwss_dns_resolve(const char *name, uint32_t *addr_out)
{
    if (name == NULL || addr_out == NULL) {
        return lwss_set_error(LWSS_ERR_INVAL, "dns: NULL argument");
    }
    if (strnlen(name, LWSS_DNS_NAME_MAX + 1) > LWSS_DNS_NAME_MAX) {
        return lwss_set_error(LWSS_ERR_INVAL, "dns: name longer than %d", LWSS_DNS_NAME_MAX);
    }
    uint32_t addr;
    if (lwss_dns_parse_dotted_quad(name, &addr)) {
        *addr_out = addr;
        return LWSS_OK;
    }
    if (lwss_dns_name_valid(name) != 0) {
        return lwss_set_error(LWSS_ERR_INVAL, "dns: invalid host name");
    }
    if (hosts_lookup(name, addr_out)) {
        return LWSS_OK;
    }
    return resolve_via_servers(name, addr_out);
}
