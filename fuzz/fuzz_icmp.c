/*
 * Fuzzes ICMP error and echo parsing under a fixed IPv4 and a fixed IPv6
 * outer header. Each input is also parsed with its checksum repaired, so that
 * mutations reach the type and quote checks behind the checksum.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/cksum.h"
#include "wire/icmp.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t v6b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* The kinds an accepted error may have, and the types each comes from. */
static bool kind_ok(const struct ip_repr *ip, const struct icmp_repr *ic)
{
    bool v4 = ip->version == 4;
    switch (ic->kind) {
    case ICMP_KIND_UNREACH:
        return ic->type == (v4 ? ICMP4_UNREACH : ICMP6_UNREACH) ||
               (!v4 && ic->type == ICMP6_PARAM_PROB && ic->code == ICMP6_PARAMPROB_NEXTHDR);
    case ICMP_KIND_NEEDFRAG:
        return ic->type == (v4 ? ICMP4_UNREACH : ICMP6_PACKET_TOO_BIG);
    case ICMP_KIND_TIMXCEED:
        return ic->type == (v4 ? ICMP4_TIMXCEED : ICMP6_TIME_EXCEEDED) && ic->code == 0;
    default:
        return false;
    }
}

/* Echo parsing: an accepted message is an echo of the family whose data
 * is the rest of the input. */
static void check_echo(const struct ip_repr *ip, const uint8_t *buf, size_t len)
{
    struct icmp_echo_repr e;
    int r = icmp_echo_parse(ip, buf, len, &e);

    if (r > 0 || (r < 0 && -r >= WIRE_ERROR_COUNT))
        abort();
    if (r == 0 && (e.type != buf[0] || e.data != buf + ICMP_HDR_LEN ||
                   e.datalen != len - ICMP_HDR_LEN || e.id != get_be16(buf + 4)))
        abort();
}

static int check(const struct ip_repr *ip, const uint8_t *buf, size_t len)
{
    struct icmp_repr ic;
    int r = icmp_parse(ip, buf, len, &ic);

    check_echo(ip, buf, len);
    if (r > 0 || (r < 0 && -r >= WIRE_ERROR_COUNT))
        abort();
    if (r == 0 && (!kind_ok(ip, &ic) || ic.type != buf[0] || ic.code != buf[1] ||
                   (ic.kind != ICMP_KIND_NEEDFRAG && ic.mtu != 0) ||
                   tcpc_addr_is_v4(&ic.quoted_src) != (ip->version == 4)))
        abort();
    return r;
}

static void check_fixed(const struct ip_repr *ip, const uint8_t *data, size_t size)
{
    uint8_t *copy;
    uint32_t sum = 0;

    if (size < 8)
        return;
    copy = malloc(size);
    if (copy == NULL)
        return;
    memcpy(copy, data, size);
    put_be16(copy + 2, 0);
    if (ip->version == 6)
        sum = cksum_pseudo(&ip->src, &ip->dst, IPPROTO_ICMP6_, (uint32_t)size);
    put_be16(copy + 2, cksum_finish(cksum_add(sum, copy, size)));
    if (check(ip, copy, size) == -WIRE_ICMP_BADSUM)
        abort();
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ip_repr ip4 = {
        .src = tcpc_addr_v4(0xcb007101), .dst = tcpc_addr_v4(0xc0000201), .version = 4};
    struct ip_repr ip6 = {.version = 6};

    ip6.src = tcpc_addr_v6(v6a);
    ip6.dst = tcpc_addr_v6(v6b);
    check(&ip4, data, size);
    check(&ip6, data, size);
    check_fixed(&ip4, data, size);
    check_fixed(&ip6, data, size);
    return 0;
}
