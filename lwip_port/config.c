/* Port configuration: defaults, LWSS_* environment overrides, validation. */
#include "lwip_port/internal.h"
#include "lwss/port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lwss_port_config_default(lwss_port_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    snprintf(cfg->tap, sizeof(cfg->tap), "lwss0");
    cfg->ip = htonl(0xC0000202u);      /* 192.0.2.2 */
    cfg->netmask = htonl(0xFFFFFF00u); /* 255.255.255.0 */
    cfg->gateway = htonl(0xC0000201u); /* 192.0.2.1 */
    static const uint8_t mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
    memcpy(cfg->mac, mac, sizeof(mac));
    cfg->mtu = 1500;
    cfg->tcp_sndbuf = LWSS_TCP_SNDBUF_DEFAULT;
}

static int parse_ip(const char *var, const char *s, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1) {
        return lwss_set_error(LWSS_ERR_INVAL, "%s: '%s' is not an IPv4 address", var, s);
    }
    *out = a.s_addr;
    return LWSS_OK;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &tail) != 6) {
        return lwss_set_error(LWSS_ERR_INVAL, "LWSS_MAC: '%s' is not a MAC address", s);
    }
    for (int i = 0; i < 6; i++) {
        mac[i] = (uint8_t)v[i];
    }
    return LWSS_OK;
}

static int parse_u64(const char *var, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
        return lwss_set_error(LWSS_ERR_INVAL, "%s: '%s' is not a number in %llu..%llu", var, s,
                              (unsigned long long)lo, (unsigned long long)hi);
    }
    *out = v;
    return LWSS_OK;
}

static int parse_dns(const char *s, uint32_t dns[LWSS_PORT_MAX_DNS])
{
    char buf[128];
    if (strlen(s) >= sizeof(buf)) {
        return lwss_set_error(LWSS_ERR_INVAL, "LWSS_DNS: too long");
    }
    strcpy(buf, s);
    uint32_t tmp[LWSS_PORT_MAX_DNS] = {0};
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
        if (n == LWSS_PORT_MAX_DNS) {
            return lwss_set_error(LWSS_ERR_INVAL, "LWSS_DNS: at most %d servers",
                                  LWSS_PORT_MAX_DNS);
        }
        int rc = parse_ip("LWSS_DNS", tok, &tmp[n++]);
        if (rc != LWSS_OK) {
            return rc;
        }
    }
    memcpy(dns, tmp, sizeof(tmp));
    return LWSS_OK;
}

/* "loss=5,delay=50,jitter=20,dup=1,reorder=25,seed=7": percent and ms. */
static int parse_impair(const char *s, lwss_port_impairment *out)
{
    char buf[160];
    if (strlen(s) >= sizeof(buf)) {
        return lwss_set_error(LWSS_ERR_INVAL, "LWSS_IMPAIR: too long");
    }
    strcpy(buf, s);
    lwss_port_impairment im = {0};
    char *save = NULL;
    for (char *tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
        char *eq = strchr(tok, '=');
        char *end = NULL;
        double v = eq != NULL ? strtod(eq + 1, &end) : -1;
        if (eq == NULL || end == eq + 1 || (*end != '\0' && strcmp(end, "%") != 0 &&
                                            strcmp(end, "ms") != 0) || v < 0) {
            return lwss_set_error(LWSS_ERR_INVAL, "LWSS_IMPAIR: bad item '%s'", tok);
        }
        *eq = '\0';
        int pct = strcmp(tok, "loss") == 0 || strcmp(tok, "dup") == 0 || strcmp(tok, "reorder") == 0;
        if ((pct && v > 100) || (!pct && v > 60000 && strcmp(tok, "seed") != 0)) {
            return lwss_set_error(LWSS_ERR_INVAL, "LWSS_IMPAIR: %s=%g out of range", tok, v);
        }
        if (strcmp(tok, "loss") == 0) im.loss_permille = (uint16_t)(v * 10 + 0.5);
        else if (strcmp(tok, "dup") == 0) im.dup_permille = (uint16_t)(v * 10 + 0.5);
        else if (strcmp(tok, "reorder") == 0) im.reorder_permille = (uint16_t)(v * 10 + 0.5);
        else if (strcmp(tok, "delay") == 0) im.delay_ms = (uint32_t)v;
        else if (strcmp(tok, "jitter") == 0) im.jitter_ms = (uint32_t)v;
        else if (strcmp(tok, "seed") == 0 && v <= UINT32_MAX) im.seed = (uint32_t)v;
        else return lwss_set_error(LWSS_ERR_INVAL, "LWSS_IMPAIR: unknown item '%s'", tok);
    }
    *out = im;
    return LWSS_OK;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : NULL;
}

int lwss_port_config_from_env(lwss_port_config *cfg)
{
    lwss_port_config c = *cfg;
    const char *v;
    int rc = LWSS_OK;
    uint64_t n;
    if ((v = env("LWSS_TAP")) != NULL) {
        if (strlen(v) >= sizeof(c.tap)) {
            return lwss_set_error(LWSS_ERR_INVAL, "LWSS_TAP: '%s' is longer than 15", v);
        }
        snprintf(c.tap, sizeof(c.tap), "%s", v);
    }
    if (rc == LWSS_OK && (v = env("LWSS_IP")) != NULL) rc = parse_ip("LWSS_IP", v, &c.ip);
    if (rc == LWSS_OK && (v = env("LWSS_NETMASK")) != NULL) rc = parse_ip("LWSS_NETMASK", v, &c.netmask);
    if (rc == LWSS_OK && (v = env("LWSS_GW")) != NULL) rc = parse_ip("LWSS_GW", v, &c.gateway);
    if (rc == LWSS_OK && (v = env("LWSS_MAC")) != NULL) rc = parse_mac(v, c.mac);
    if (rc == LWSS_OK && (v = env("LWSS_DNS")) != NULL) rc = parse_dns(v, c.dns);
    if (rc == LWSS_OK && (v = env("LWSS_MTU")) != NULL) {
        rc = parse_u64("LWSS_MTU", v, 576, 9000, &n);
        c.mtu = (uint16_t)n;
    }
    if (rc == LWSS_OK && (v = env("LWSS_PCAP_MAX")) != NULL) {
        rc = parse_u64("LWSS_PCAP_MAX", v, 0, UINT64_MAX, &c.pcap_max_bytes);
    }
    if (rc == LWSS_OK && (v = env("LWSS_IMPAIR")) != NULL) rc = parse_impair(v, &c.impair);
    if (rc == LWSS_OK && (v = env("LWSS_TCP_SNDBUF")) != NULL) {
        rc = parse_u64("LWSS_TCP_SNDBUF", v, LWSS_TCP_SNDBUF_MIN, LWSS_TCP_SNDBUF_MAX, &n);
        c.tcp_sndbuf = (uint32_t)n;
    }
    if (rc == LWSS_OK && (v = env("LWSS_PCAP")) != NULL) {
        if (strlen(v) >= sizeof(c.pcap_path)) {
            return lwss_set_error(LWSS_ERR_INVAL, "LWSS_PCAP: path too long");
        }
        snprintf(c.pcap_path, sizeof(c.pcap_path), "%s", v);
    }
    if (rc == LWSS_OK) {
        *cfg = c;
    }
    return rc;
}

int lwss_port_config_check(const lwss_port_config *cfg)
{
    size_t tl = strnlen(cfg->tap, sizeof(cfg->tap));
    if (tl == 0 || tl == sizeof(cfg->tap)) {
        return lwss_set_error(LWSS_ERR_INVAL, "TAP name empty or longer than 15 bytes");
    }
    uint32_t ip = ntohl(cfg->ip), mask = ntohl(cfg->netmask);
    if (ip == 0 || ip == 0xFFFFFFFFu || (ip >> 24) == 127 || (ip >> 28) == 0xE) {
        return lwss_set_error(LWSS_ERR_INVAL, "address is not a usable unicast IPv4 address");
    }
    if (mask == 0 || ((~mask + 1) & ~mask) != 0) {
        return lwss_set_error(LWSS_ERR_INVAL, "netmask is not contiguous");
    }
    if ((cfg->mac[0] & 1) != 0) {
        return lwss_set_error(LWSS_ERR_INVAL, "MAC address is multicast");
    }
    if (cfg->mtu < 576 || cfg->mtu > 9000) {
        return lwss_set_error(LWSS_ERR_INVAL, "MTU %u outside 576..9000", cfg->mtu);
    }
    const lwss_port_impairment *im = &cfg->impair;
    if (im->loss_permille > 1000 || im->dup_permille > 1000 || im->reorder_permille > 1000 ||
        im->jitter_ms > im->delay_ms + 60000 || im->delay_ms > 60000) {
        return lwss_set_error(LWSS_ERR_INVAL, "impairment out of range (permille <= 1000, ms <= 60000)");
    }
    if (cfg->tcp_sndbuf != 0 &&
        (cfg->tcp_sndbuf < LWSS_TCP_SNDBUF_MIN || cfg->tcp_sndbuf > LWSS_TCP_SNDBUF_MAX)) {
        return lwss_set_error(LWSS_ERR_INVAL, "TCP send buffer %u outside %u..%u", cfg->tcp_sndbuf,
                              LWSS_TCP_SNDBUF_MIN, LWSS_TCP_SNDBUF_MAX);
    }
    if (strnlen(cfg->pcap_path, sizeof(cfg->pcap_path)) == sizeof(cfg->pcap_path)) {
        return lwss_set_error(LWSS_ERR_INVAL, "pcap path not terminated");
    }
    return LWSS_OK;
}
