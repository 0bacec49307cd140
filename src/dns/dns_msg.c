/* DNS query building and response validation.  Everything read from the
 * wire is bounds-checked; compression pointers must point strictly before
 * every position already visited for the name, so pointer loops end. */
#include "src/dns/dns_msg.h"
#include "lwss/config_defaults.h"

#include <string.h>

#define HEADER_LEN 12u
#define WIRE_NAME_MAX 255u
#define TYPE_A 1u
#define TYPE_CNAME 5u
#define CLASS_IN 1u
#define MAX_CNAME_HOPS LWSS_DNS_MAX_CNAME_HOPS

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static int label_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

static uint8_t lower(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

int lwss_dns_name_valid(const char *name)
{
    if (name == NULL) {
        return -1;
    }
    size_t len = strnlen(name, LWSS_DNS_NAME_MAX + 2);
    if (len > 0 && name[len - 1] == '.') {
        len--; /* one final dot: fully qualified form */
    }
    if (len == 0 || len > LWSS_DNS_NAME_MAX) {
        return -1;
    }
    size_t label = 0;
    for (size_t i = 0; i < len; i++) {
        if (name[i] == '.') {
            if (label == 0) {
                return -1;
            }
            label = 0;
        } else if (!label_char_ok(name[i]) || ++label > 63) {
            return -1;
        }
    }
    return label == 0 ? -1 : 0;
}

/* Valid name to lower-case wire form; returns its length (with the root byte). */
static size_t name_to_wire(const char *name, uint8_t *out)
{
    size_t len = strlen(name);
    if (name[len - 1] == '.') {
        len--;
    }
    size_t o = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            out[o++] = (uint8_t)(i - start);
            for (size_t j = start; j < i; j++) {
                out[o++] = lower((uint8_t)name[j]);
            }
            start = i + 1;
        }
    }
    out[o++] = 0;
    return o;
}

size_t lwss_dns_build_query(uint8_t *buf, size_t cap, uint16_t id, const char *name)
{
    if (buf == NULL || lwss_dns_name_valid(name) != 0 || cap < HEADER_LEN + WIRE_NAME_MAX + 4) {
        return 0;
    }
    memset(buf, 0, HEADER_LEN);
    buf[0] = (uint8_t)(id >> 8);
    buf[1] = (uint8_t)id;
    buf[2] = 0x01; /* RD */
    buf[5] = 1;    /* QDCOUNT */
    size_t n = HEADER_LEN + name_to_wire(name, buf + HEADER_LEN);
    buf[n++] = 0;
    buf[n++] = TYPE_A;
    buf[n++] = 0;
    buf[n++] = CLASS_IN;
    return n;
}

/* Read a (possibly compressed) name at *off into lower-case wire form.
 * On success *off is past the name in the original position. */
static int read_name(const uint8_t *msg, size_t len, size_t *off, uint8_t *out, size_t *out_len)
{
    size_t pos = *off;
    size_t lowest = pos; /* every pointer must go below everything seen */
    size_t o = 0;
    int jumped = 0;
    for (;;) {
        if (pos >= len) {
            return -1;
        }
        uint8_t c = msg[pos];
        if ((c & 0xc0) == 0xc0) {
            if (pos + 1 >= len) {
                return -1;
            }
            size_t target = ((size_t)(c & 0x3f) << 8) | msg[pos + 1];
            if (target >= lowest) {
                return -1;
            }
            if (!jumped) {
                *off = pos + 2;
                jumped = 1;
            }
            lowest = target;
            pos = target;
            continue;
        }
        if ((c & 0xc0) != 0) {
            return -1; /* 0x40 / 0x80: extended label types, not allowed */
        }
        if (o + 1u + c > WIRE_NAME_MAX || pos + 1u + c > len) {
            return -1;
        }
        out[o++] = c;
        for (size_t i = 0; i < c; i++) {
            out[o++] = lower(msg[pos + 1 + i]);
        }
        pos += 1u + c;
        if (c == 0) {
            break;
        }
    }
    if (!jumped) {
        *off = pos;
    }
    *out_len = o;
    return 0;
}

static int same_name(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* Header and question: is this the answer to our query? */
static int check_header_question(const uint8_t *msg, size_t len, uint16_t id, const uint8_t *qname,
                                 size_t qlen, size_t *off)
{
    if (len < HEADER_LEN) {
        return LWSS_DNS_MALFORMED;
    }
    if (rd16(msg) != id || (msg[2] & 0x80) == 0 || (msg[2] & 0x78) != 0 || rd16(msg + 4) != 1) {
        return LWSS_DNS_MISMATCH; /* not a standard response to this one question */
    }
    uint8_t wire[WIRE_NAME_MAX];
    size_t wlen;
    *off = HEADER_LEN;
    if (read_name(msg, len, off, wire, &wlen) != 0 || *off + 4 > len) {
        return LWSS_DNS_MALFORMED;
    }
    if (!same_name(wire, wlen, qname, qlen) || rd16(msg + *off) != TYPE_A ||
        rd16(msg + *off + 2) != CLASS_IN) {
        return LWSS_DNS_MISMATCH;
    }
    *off += 4;
    if (msg[2] & 0x02) {
        return LWSS_DNS_TRUNCATED;
    }
    uint8_t rcode = msg[3] & 0x0f;
    if (rcode == 3) {
        return LWSS_DNS_NXDOMAIN;
    }
    return rcode == 0 ? LWSS_DNS_OK : LWSS_DNS_SERVFAIL;
}

/* One pass over the answer section looking for an A record of @target;
 * a CNAME of @target replaces it (returned through target / tlen). */
static int scan_answers(const uint8_t *msg, size_t len, size_t off, uint16_t ancount,
                        uint8_t *target, size_t *tlen, uint32_t *addr_out)
{
    for (uint16_t i = 0; i < ancount; i++) {
        uint8_t owner[WIRE_NAME_MAX];
        size_t olen;
        if (read_name(msg, len, &off, owner, &olen) != 0 || off + 10 > len) {
            return LWSS_DNS_MALFORMED;
        }
        uint16_t type = rd16(msg + off);
        uint16_t cls = rd16(msg + off + 2);
        uint16_t rdlen = rd16(msg + off + 8);
        size_t rdata = off + 10;
        if (rdata + rdlen > len) {
            return LWSS_DNS_MALFORMED;
        }
        off = rdata + rdlen;
        if (cls != CLASS_IN || !same_name(owner, olen, target, *tlen)) {
            continue;
        }
        if (type == TYPE_A) {
            if (rdlen != 4) {
                return LWSS_DNS_MALFORMED;
            }
            memcpy(addr_out, msg + rdata, 4); /* already network order */
            return LWSS_DNS_OK;
        }
        if (type == TYPE_CNAME) {
            size_t p = rdata;
            uint8_t alias[WIRE_NAME_MAX];
            size_t alen;
            if (read_name(msg, len, &p, alias, &alen) != 0 || p != rdata + rdlen) {
                return LWSS_DNS_MALFORMED;
            }
            memcpy(target, alias, alen);
            *tlen = alen;
        }
    }
    return LWSS_DNS_NODATA;
}

int lwss_dns_parse_response(const uint8_t *msg, size_t len, uint16_t id, const char *name,
                            uint32_t *addr_out)
{
    if (msg == NULL || addr_out == NULL || lwss_dns_name_valid(name) != 0) {
        return LWSS_DNS_MALFORMED;
    }
    uint8_t target[WIRE_NAME_MAX];
    size_t tlen = name_to_wire(name, target);
    size_t off;
    int rc = check_header_question(msg, len, id, target, tlen, &off);
    if (rc != LWSS_DNS_OK) {
        return rc;
    }
    uint16_t ancount = rd16(msg + 6);
    /* CNAMEs may come in any order: rescan while the target keeps changing. */
    for (int hop = 0; hop < MAX_CNAME_HOPS; hop++) {
        uint8_t before[WIRE_NAME_MAX];
        size_t blen = tlen;
        memcpy(before, target, tlen);
        uint32_t addr = 0;
        rc = scan_answers(msg, len, off, ancount, target, &tlen, &addr);
        if (rc == LWSS_DNS_OK) {
            if (addr == 0) {
                return LWSS_DNS_NODATA; /* 0.0.0.0 would read as "failed" to the caller */
            }
            *addr_out = addr;
            return LWSS_DNS_OK;
        }
        if (rc != LWSS_DNS_NODATA || same_name(before, blen, target, tlen)) {
            return rc;
        }
    }
    return LWSS_DNS_NODATA;
}

int lwss_dns_parse_dotted_quad(const char *s, uint32_t *addr_out)
{
    if (s == NULL) {
        return 0;
    }
    uint8_t octets[4];
    const char *p = s;
    for (int i = 0; i < 4; i++) {
        unsigned v = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            v = v * 10u + (unsigned)(*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255) {
            return 0;
        }
        octets[i] = (uint8_t)v;
        if (i < 3) {
            if (*p != '.') {
                return 0;
            }
            p++;
        }
    }
    if (*p != '\0') {
        return 0;
    }
    memcpy(addr_out, octets, 4); /* octets in order = network order */
    return 1;
}
