/*
 * ICMPv4 and ICMPv6 errors: parse the ones TCP reacts to, emit them for
 * tests and tools.
 *
 * The quoted packet is parsed leniently, because routers quote what they
 * received, truncated at will: its IPv4 total length may claim more than was
 * quoted and its header checksum is not checked (RFC 1812 4.3.2.3 lets
 * routers alter fields). What must hold is that the quote is our own family
 * (an IPv6 quote with v4-mapped addresses is not), is not a later fragment,
 * and carries the first 8 bytes of the transport header, which is all that
 * identifies the connection.
 */
#include "icmp.h"

#include <string.h>

#include "bytes.h"
#include "cksum.h"
#include "wire.h"

#define ICMP_QUOTE_MIN 8 /* bytes of transport header RFC 792 guarantees */
#define ICMP4_OFFMASK  0x1fff
/* RFC 1812 4.3.2.3 and RFC 4443 2.4(c): the size an error may grow to. */
#define ICMP4_MAX_PACKET 576
#define ICMP6_MAX_PACKET 1280

#define IP6_NH_HOPOPTS 0
#define IP6_NH_ROUTING 43
#define IP6_NH_DSTOPTS 60

/* Which errors tcpcore acts on, and what each means to it. */
static int icmp_classify(uint8_t version, const uint8_t *buf, struct icmp_repr *out)
{
    out->type = buf[0];
    out->code = buf[1];
    if (version == 4 && out->type == ICMP4_UNREACH) {
        out->kind = out->code == ICMP4_UNREACH_NEEDFRAG ? ICMP_KIND_NEEDFRAG : ICMP_KIND_UNREACH;
        out->mtu = out->kind == ICMP_KIND_NEEDFRAG ? get_be16(buf + 6) : 0;
        return 0;
    }
    if (version == 6 && (out->type == ICMP6_UNREACH ||
                         (out->type == ICMP6_PARAM_PROB && out->code == ICMP6_PARAMPROB_NEXTHDR))) {
        out->kind = ICMP_KIND_UNREACH;
        return 0;
    }
    /* Time exceeded in transit (a routing loop, or a hop limit too small);
     * in reassembly (code 1) concerns fragments, which TCP never sends. */
    if (out->code == 0 && out->type == (version == 4 ? ICMP4_TIMXCEED : ICMP6_TIME_EXCEEDED)) {
        out->kind = ICMP_KIND_TIMXCEED;
        return 0;
    }
    if (version == 6 && out->type == ICMP6_PACKET_TOO_BIG) {
        out->kind = ICMP_KIND_NEEDFRAG;
        out->mtu = get_be32(buf + 4);
        return 0;
    }
    return -WIRE_ICMP_NOTERROR;
}

/* Returns the quoted header length, or -1 when it is not a usable IPv4 header. */
static int icmp_quote4(const uint8_t *q, size_t qlen, struct icmp_repr *out)
{
    size_t ihl;

    if (qlen < IP4_HDR_LEN || q[0] >> 4 != 4)
        return -1;
    ihl = (size_t)(q[0] & 0x0f) * 4;
    if (ihl < IP4_HDR_LEN || ihl > qlen)
        return -1;
    /* A later fragment holds no transport header at its start. */
    if (get_be16(q + 6) & ICMP4_OFFMASK)
        return -1;
    out->quoted_proto = q[9];
    out->quoted_len = get_be16(q + 2);
    out->quoted_src = tcpc_addr_v4(get_be32(q + 12));
    out->quoted_dst = tcpc_addr_v4(get_be32(q + 16));
    return (int)ihl;
}

/* Walks the quoted extension headers within what was quoted; a fragment
 * header (44) ends the walk as an upper-layer protocol tcpcore ignores. */
static int icmp_quote6(const uint8_t *q, size_t qlen, struct icmp_repr *out)
{
    size_t off = IP6_HDR_LEN;
    uint8_t nh;

    if (qlen < IP6_HDR_LEN || q[0] >> 4 != 6)
        return -1;
    nh = q[6];
    for (unsigned count = 0; nh == IP6_NH_HOPOPTS || nh == IP6_NH_ROUTING || nh == IP6_NH_DSTOPTS;
         count++) {
        size_t len;

        if (count == IP6_EXT_MAX || qlen - off < 2)
            return -1;
        len = ((size_t)q[off + 1] + 1) * 8;
        if (qlen - off < len)
            return -1;
        nh = q[off];
        off += len;
    }
    out->quoted_proto = nh;
    out->quoted_len = IP6_HDR_LEN + (uint32_t)get_be16(q + 4);
    out->quoted_src = tcpc_addr_v6(q + 8);
    out->quoted_dst = tcpc_addr_v6(q + 24);
    /* We never send those (ip6_parse refuses them too); taken at face value
     * an ICMPv6 error could name, and so disturb, an IPv4 connection. */
    if (tcpc_addr_is_v4(&out->quoted_src) || tcpc_addr_is_v4(&out->quoted_dst))
        return -1;
    return (int)off;
}

/* ICMPv4 sums the message alone; ICMPv6 adds the pseudo-header. */
static uint32_t icmp_cksum_start(const struct ip_repr *ip, size_t msglen)
{
    if (ip->version != 6)
        return 0;
    return cksum_pseudo(&ip->src, &ip->dst, IPPROTO_ICMP6_, (uint32_t)msglen);
}

bool icmp_cksum_ok(const struct ip_repr *ip, const uint8_t *msg, size_t msglen)
{
    return cksum_finish(cksum_add(icmp_cksum_start(ip, msglen), msg, msglen)) == 0;
}

void icmp_cksum_set(const struct ip_repr *ip, uint8_t *msg, size_t msglen)
{
    put_be16(msg + 2, 0);
    put_be16(msg + 2, cksum_finish(cksum_add(icmp_cksum_start(ip, msglen), msg, msglen)));
}

int icmp_parse(const struct ip_repr *ip, const uint8_t *buf, size_t buflen, struct icmp_repr *out)
{
    const uint8_t *q = buf + ICMP_HDR_LEN;
    size_t qlen;
    int off, err;

    memset(out, 0, sizeof(*out));
    if (buflen < ICMP_HDR_LEN)
        return -WIRE_ICMP_SHORT;
    if (!icmp_cksum_ok(ip, buf, buflen))
        return -WIRE_ICMP_BADSUM;
    err = icmp_classify(ip->version, buf, out);
    if (err < 0)
        return err;
    qlen = buflen - ICMP_HDR_LEN;
    off = ip->version == 6 ? icmp_quote6(q, qlen, out) : icmp_quote4(q, qlen, out);
    if (off < 0 || qlen - (size_t)off < ICMP_QUOTE_MIN)
        return -WIRE_ICMP_BADQUOTE;
    /* Meaningful as a TCP header only when quoted_proto says TCP; the
     * caller checks that, since UDP ports sit in the same place. */
    out->quoted_sport = get_be16(q + off);
    out->quoted_dport = get_be16(q + off + 2);
    out->quoted_seq = get_be32(q + off + 4);
    return 0;
}

int icmp_emit_packet(const struct ip_repr *ip, uint8_t type, uint8_t code, uint32_t mtu,
                     const uint8_t *quote, size_t quotelen, uint8_t *buf, size_t buflen)
{
    struct ip_repr iph = *ip;
    size_t iplen = ip_header_len(ip);
    size_t max = ip->version == 6 ? ICMP6_MAX_PACKET : ICMP4_MAX_PACKET;
    size_t msglen;
    uint8_t *msg = buf + iplen;
    int err;

    if (quotelen > max - iplen - ICMP_HDR_LEN)
        quotelen = max - iplen - ICMP_HDR_LEN;
    msglen = ICMP_HDR_LEN + quotelen;
    if (buflen < iplen + msglen)
        return -WIRE_NOSPACE;
    iph.proto = ip->version == 6 ? IPPROTO_ICMP6_ : IPPROTO_ICMP_;
    iph.payload_len = (uint16_t)msglen;
    if (quotelen)
        memmove(msg + ICMP_HDR_LEN, quote, quotelen);
    err = ip_emit(&iph, buf, buflen);
    if (err < 0)
        return err;
    msg[0] = type;
    msg[1] = code;
    /* v4 keeps the MTU in the low half of the word (RFC 1191), v6 in all of it. */
    put_be32(msg + 4, ip->version == 6 ? mtu : (mtu & 0xffff));
    icmp_cksum_set(&iph, msg, msglen);
    return (int)(iplen + msglen);
}

static bool icmp_is_echo(uint8_t version, uint8_t type)
{
    if (version == 6)
        return type == ICMP6_ECHO_REQUEST || type == ICMP6_ECHO_REPLY;
    return type == ICMP4_ECHO || type == ICMP4_ECHOREPLY;
}

int icmp_echo_parse(const struct ip_repr *ip, const uint8_t *buf, size_t buflen,
                    struct icmp_echo_repr *out)
{
    memset(out, 0, sizeof(*out));
    if (buflen < ICMP_HDR_LEN)
        return -WIRE_ICMP_SHORT;
    if (!icmp_is_echo(ip->version, buf[0]))
        return -WIRE_ICMP_NOTECHO;
    if (!icmp_cksum_ok(ip, buf, buflen))
        return -WIRE_ICMP_BADSUM;
    out->type = buf[0];
    out->id = get_be16(buf + 4);
    out->seq = get_be16(buf + 6);
    out->data = buf + ICMP_HDR_LEN;
    out->datalen = buflen - ICMP_HDR_LEN;
    return 0;
}

int icmp_echo_emit_packet(const struct ip_repr *ip, const struct icmp_echo_repr *echo, uint8_t *buf,
                          size_t buflen)
{
    struct ip_repr iph = *ip;
    size_t iplen = ip_header_len(ip);
    size_t msglen = ICMP_HDR_LEN + echo->datalen;
    uint8_t *msg = buf + iplen;

    if (buflen < iplen || buflen - iplen < msglen || msglen > UINT16_MAX - IP4_HDR_LEN)
        return -WIRE_NOSPACE;
    iph.proto = ip->version == 6 ? IPPROTO_ICMP6_ : IPPROTO_ICMP_;
    iph.payload_len = (uint16_t)msglen;
    if (echo->datalen)
        memmove(msg + ICMP_HDR_LEN, echo->data, echo->datalen);
    int err = ip_emit(&iph, buf, buflen);
    if (err < 0)
        return err;
    msg[0] = echo->type;
    msg[1] = 0;
    put_be16(msg + 4, echo->id);
    put_be16(msg + 6, echo->seq);
    icmp_cksum_set(&iph, msg, msglen);
    return (int)(iplen + msglen);
}
