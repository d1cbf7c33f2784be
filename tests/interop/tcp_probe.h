/*
 * Builds the bare IPv4 / IPv6 TCP packets that the fanout tests steer: the
 * unit test (tests/test_fanout.c) runs the fanout program over them, the
 * root selftest (mq_selftest.c) sends them, framed, into a veth. Only the
 * fields the rule reads are meaningful (no checksums): version, header
 * length, protocol / next header, fragment field, addresses, ports.
 */
#ifndef TCPCORE_TESTS_TCP_PROBE_H
#define TCPCORE_TESTS_TCP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tcpcore/addr.h"

/* The largest packet probe_build or probe_icmp_error writes. */
#define PROBE_MAX 200

struct probe {
    struct tcpc_addr src, dst;
    uint16_t sport, dport;
    uint8_t proto;      /* 6 (TCP) unless a test wants another */
    unsigned opt_words; /* IPv4 options, in 4-byte words (0..10) */
    uint16_t frag;      /* IPv4 flags and fragment offset, host order */
    uint8_t v6_next;    /* IPv6: 0 for `proto` directly, else an extension header first */
};

static inline void probe_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Writes the packet into buf (PROBE_MAX bytes) and returns its length. */
static inline size_t probe_build(uint8_t *buf, const struct probe *pr)
{
    memset(buf, 0, PROBE_MAX);
    size_t ip;
    if (tcpc_addr_is_v4(&pr->src)) {
        ip = 20 + 4 * pr->opt_words;
        buf[0] = (uint8_t)(0x40 | ip / 4);
        probe_put16(buf + 6, pr->frag);
        buf[8] = 64;
        buf[9] = pr->proto;
        memcpy(buf + 12, pr->src.bytes + 12, 4);
        memcpy(buf + 16, pr->dst.bytes + 12, 4);
        memset(buf + 20, 1, ip - 20); /* NOP options */
    } else {
        ip = 40;
        buf[0] = 0x60;
        buf[6] = pr->v6_next ? pr->v6_next : pr->proto;
        buf[7] = 64;
        memcpy(buf + 8, pr->src.bytes, 16);
        memcpy(buf + 24, pr->dst.bytes, 16);
        if (pr->v6_next) { /* an 8-byte extension header, then TCP */
            buf[40] = pr->proto;
            ip += 8;
        }
    }
    uint8_t *th = buf + ip;
    probe_put16(th, pr->sport);
    probe_put16(th + 2, pr->dport);
    th[12] = 5 << 4;
    th[13] = 0x02; /* SYN */
    probe_put16(th + 14, 65535);
    size_t len = ip + 20;
    if (tcpc_addr_is_v4(&pr->src))
        probe_put16(buf + 2, (uint16_t)len);
    else
        probe_put16(buf + 4, (uint16_t)(len - 40));
    return len;
}

/*
 * Writes an ICMP error (IPv4: destination unreachable, fragmentation
 * needed; IPv6: packet too big) from router to the quoted segment's source,
 * quoting that segment (its IP header and 8 bytes of TCP, as RFC 792 asks
 * at the least; IPv6: the whole segment), with outer_opt_words of IPv4
 * options on the outer header. Returns its length.
 */
static inline size_t probe_icmp_error(uint8_t *buf, const struct tcpc_addr *router,
                                      const struct probe *quoted, unsigned outer_opt_words)
{
    uint8_t inner[PROBE_MAX];
    size_t ilen = probe_build(inner, quoted);
    bool v4 = tcpc_addr_is_v4(router);
    if (v4)
        ilen = 4u * (inner[0] & 0xf) + 8;
    struct probe outer = {
        .src = *router, .dst = quoted->src, .proto = v4 ? 1 : 58, .opt_words = outer_opt_words};
    size_t olen = probe_build(buf, &outer) - 20; /* its IP header alone */
    uint8_t *icmp = buf + olen;
    memset(icmp, 0, 8);
    icmp[0] = v4 ? 3 : 2;
    icmp[1] = v4 ? 4 : 0;
    probe_put16(icmp + 6, 1280); /* the next hop's MTU */
    memcpy(icmp + 8, inner, ilen);
    size_t len = olen + 8 + ilen;
    if (v4)
        probe_put16(buf + 2, (uint16_t)len);
    else
        probe_put16(buf + 4, (uint16_t)(len - 40));
    return len;
}

#endif
