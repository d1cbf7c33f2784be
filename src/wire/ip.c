/*
 * IPv4 and IPv6 header parsing and emission.
 *
 * Parsing is deliberately strict about what could mislead the layers above
 * (lengths, checksums, spoofable source addresses, fragments tcpcore cannot
 * reassemble) and lenient about what it merely skips (IPv4 options, the
 * contents of IPv6 extension headers). Emission writes option-free headers.
 */
#include "ip.h"

#include <string.h>

#include "bytes.h"
#include "cksum.h"
#include "wire.h"

#define IP4_DF      0x4000
#define IP4_MF      0x2000
#define IP4_OFFMASK 0x1fff

#define IP6_NH_HOPOPTS  0
#define IP6_NH_ROUTING  43
#define IP6_NH_FRAGMENT 44
#define IP6_NH_DSTOPTS  60

/* The mapped form with the four bytes copied as they are: no swap to host
 * order and back, on every packet in. */
static struct tcpc_addr ip4_addr_at(const uint8_t *p)
{
    struct tcpc_addr a = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}};
    memcpy(a.bytes + 12, p, 4);
    return a;
}

/* A source that cannot have sent a unicast packet: answering it would
 * reflect at a group, a broadcast domain or nobody (RFC 1122 3.2.1.3). */
static bool ip4_src_bad(uint32_t src)
{
    return src == 0 || src == 0xffffffffu || (src >> 28) == 0xe;
}

int ip4_parse(const uint8_t *buf, size_t buflen, struct ip_repr *out)
{
    size_t ihl, total;
    uint16_t frag;

    if (buflen < IP4_HDR_LEN)
        return -WIRE_IP_SHORT;
    if (buf[0] >> 4 != 4)
        return -WIRE_IP_BADVERSION;
    ihl = (size_t)(buf[0] & 0x0f) * 4;
    if (ihl < IP4_HDR_LEN || ihl > buflen)
        return -WIRE_IP_BADHLEN;
    total = get_be16(buf + 2);
    if (total > buflen || total < ihl)
        return -WIRE_IP_BADLEN;
    uint32_t sum = ihl == IP4_HDR_LEN ? cksum_ip4_header(buf) : cksum_add(0, buf, ihl);
    if (cksum_finish(sum) != 0)
        return -WIRE_IP_BADSUM;
    frag = get_be16(buf + 6);
    if (frag & (IP4_MF | IP4_OFFMASK))
        return -WIRE_IP_FRAGMENT;
    if (ip4_src_bad(get_be32(buf + 12)))
        return -WIRE_IP_BADSRC;

    *out = (struct ip_repr){
        .src = ip4_addr_at(buf + 12),
        .dst = ip4_addr_at(buf + 16),
        .version = 4,
        .proto = buf[9],
        .ttl = buf[8],
        .tos = buf[1],
        .df = (frag & IP4_DF) != 0,
        .id = get_be16(buf + 4),
        .hdrlen = (uint16_t)ihl,
        .payload_len = (uint16_t)(total - ihl),
    };
    return (int)ihl;
}

/*
 * Multicast and unspecified sources are forbidden by RFC 4291 2.7 and 2.5.2.
 * A v4-mapped address in either field is refused as well (FreeBSD's
 * ip6_input does the same): tcpcore stores IPv4 in exactly that form, so such
 * a packet would otherwise be taken for IPv4 traffic by every table lookup.
 */
static bool ip6_addrs_bad(const struct tcpc_addr *src, const struct tcpc_addr *dst)
{
    static const uint8_t zero[16];

    if (src->bytes[0] == 0xff || memcmp(src->bytes, zero, 16) == 0)
        return true;
    return tcpc_addr_is_v4(src) || tcpc_addr_is_v4(dst);
}

static bool ip6_is_ext(uint8_t nh)
{
    return nh == IP6_NH_HOPOPTS || nh == IP6_NH_ROUTING || nh == IP6_NH_DSTOPTS ||
           nh == IP6_NH_FRAGMENT;
}

/*
 * Walks the extension headers in buf[*off .. end), leaving *off at the
 * upper-layer header and *nh naming it. The walk is bounded by count as
 * well as by length so that a chain of minimal headers cannot burn cycles.
 */
static int ip6_walk_ext(const uint8_t *buf, size_t end, size_t *off, uint8_t *nh)
{
    unsigned count = 0;

    while (ip6_is_ext(*nh)) {
        size_t len;

        if (count++ == IP6_EXT_MAX)
            return -WIRE_IP6_EXTLIMIT;
        if (*nh == IP6_NH_FRAGMENT)
            return -WIRE_IP_FRAGMENT;
        if (end - *off < 2)
            return -WIRE_IP6_EXTSHORT;
        len = ((size_t)buf[*off + 1] + 1) * 8;
        if (end - *off < len)
            return -WIRE_IP6_EXTSHORT;
        *nh = buf[*off];
        *off += len;
    }
    return 0;
}

int ip6_parse(const uint8_t *buf, size_t buflen, struct ip_repr *out)
{
    size_t end, off = IP6_HDR_LEN;
    uint8_t nh;
    uint32_t vtf;
    int err;

    if (buflen < IP6_HDR_LEN)
        return -WIRE_IP_SHORT;
    if (buf[0] >> 4 != 6)
        return -WIRE_IP_BADVERSION;
    end = IP6_HDR_LEN + (size_t)get_be16(buf + 4);
    if (end > buflen)
        return -WIRE_IP_BADLEN;
    nh = buf[6];
    err = ip6_walk_ext(buf, end, &off, &nh);
    if (err < 0)
        return err;

    vtf = get_be32(buf);
    *out = (struct ip_repr){
        .src = tcpc_addr_v6(buf + 8),
        .dst = tcpc_addr_v6(buf + 24),
        .version = 6,
        .proto = nh,
        .ttl = buf[7],
        .tos = (uint8_t)(vtf >> 20),
        .flowlabel = vtf & IP6_FLOWLABEL_MASK,
        .hdrlen = (uint16_t)off,
        .payload_len = (uint16_t)(end - off),
    };
    if (ip6_addrs_bad(&out->src, &out->dst))
        return -WIRE_IP_BADSRC;
    return (int)off;
}

int ip_parse(const uint8_t *buf, size_t buflen, struct ip_repr *out)
{
    if (buflen < 1)
        return -WIRE_IP_SHORT;
    switch (buf[0] >> 4) {
    case 4:
        return ip4_parse(buf, buflen, out);
    case 6:
        return ip6_parse(buf, buflen, out);
    default:
        return -WIRE_IP_BADVERSION;
    }
}

size_t ip_header_len(const struct ip_repr *ip)
{
    return ip->version == 6 ? IP6_HDR_LEN : IP4_HDR_LEN;
}

static int ip4_emit(const struct ip_repr *ip, uint8_t *buf)
{
    /* payload_len is 16 bits but the total length must be, too. */
    if ((size_t)ip->payload_len + IP4_HDR_LEN > IP4_MAXPACKET)
        return -WIRE_IP_BADLEN;
    buf[0] = 0x45;
    buf[1] = ip->tos;
    put_be16(buf + 2, (uint16_t)(ip->payload_len + IP4_HDR_LEN));
    put_be16(buf + 4, ip->id);
    put_be16(buf + 6, ip->df ? IP4_DF : 0);
    buf[8] = ip->ttl;
    buf[9] = ip->proto;
    put_be16(buf + 10, 0);
    memcpy(buf + 12, ip->src.bytes + 12, 4);
    memcpy(buf + 16, ip->dst.bytes + 12, 4);
    put_be16(buf + 10, cksum_finish(cksum_ip4_header(buf)));
    return IP4_HDR_LEN;
}

static int ip6_emit(const struct ip_repr *ip, uint8_t *buf)
{
    put_be32(buf, 6u << 28 | (uint32_t)ip->tos << 20 | (ip->flowlabel & IP6_FLOWLABEL_MASK));
    put_be16(buf + 4, ip->payload_len);
    buf[6] = ip->proto;
    buf[7] = ip->ttl;
    memcpy(buf + 8, ip->src.bytes, 16);
    memcpy(buf + 24, ip->dst.bytes, 16);
    return IP6_HDR_LEN;
}

int ip_emit(const struct ip_repr *ip, uint8_t *buf, size_t buflen)
{
    if (buflen < ip_header_len(ip))
        return -WIRE_NOSPACE;
    return ip->version == 6 ? ip6_emit(ip, buf) : ip4_emit(ip, buf);
}

struct tcpc_addr ip_addr_prefix(const struct tcpc_addr *a, unsigned plen)
{
    struct tcpc_addr p = *a;
    for (unsigned i = 0; i < sizeof(p.bytes); i++) {
        unsigned bit = i * 8;
        if (bit >= plen)
            p.bytes[i] = 0;
        else if (plen - bit < 8)
            p.bytes[i] &= (uint8_t)(0xff << (8 - (plen - bit)));
    }
    return p;
}
