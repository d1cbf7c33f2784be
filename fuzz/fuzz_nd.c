/*
 * Fuzzes neighbour discovery parsing under fixed IPv6 headers: a unicast
 * exchange and a solicitation to a solicited-node group from the
 * unspecified address (duplicate address detection), each with the input
 * as given and with its checksum repaired so that mutations reach the
 * checks behind it. Whatever parses must emit and parse back to the same
 * form.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_script.h"
#include "wire/bytes.h"
#include "wire/icmp.h"
#include "wire/ip.h"
#include "wire/nd.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t lla[16] = {0xfe, 0x80, [15] = 1};
static const uint8_t glb[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static bool nd_eq(const struct nd_repr *a, const struct nd_repr *b)
{
    return a->type == b->type && a->flags == b->flags && tcpc_addr_eq(&a->target, &b->target) &&
           a->has_lladdr == b->has_lladdr &&
           (!a->has_lladdr || memcmp(a->lladdr.bytes, b->lladdr.bytes, 6) == 0) &&
           a->cur_hop_limit == b->cur_hop_limit && a->router_lifetime == b->router_lifetime &&
           a->reachable_time == b->reachable_time && a->retrans_timer == b->retrans_timer &&
           a->mtu == b->mtu;
}

static void check(const struct ip_repr *ip, const uint8_t *buf, size_t len)
{
    struct nd_repr a, b;
    uint8_t out[IP6_HDR_LEN + 64];
    int r = nd_parse(ip, buf, len, &a);

    if (r < 0) {
        CHECK(-r < WIRE_ERROR_COUNT);
        return;
    }
    CHECK(r == 0 && nd_is_nd_type(a.type) && a.type == buf[0]);
    int n = nd_emit_packet(ip, &a, out, sizeof(out));
    /* The header is checked by hand: ip6_parse refuses the unspecified
     * source of duplicate address detection. */
    CHECK(n > IP6_HDR_LEN && out[0] >> 4 == 6 && out[6] == IPPROTO_ICMP6_ &&
          out[7] == ND_HOPLIMIT && get_be16(out + 4) == n - IP6_HDR_LEN &&
          memcmp(out + 8, ip->src.bytes, 16) == 0 && memcmp(out + 24, ip->dst.bytes, 16) == 0);
    CHECK(nd_parse(ip, out + IP6_HDR_LEN, (size_t)n - IP6_HDR_LEN, &b) == 0);
    CHECK(nd_eq(&a, &b));
}

static void check_fixed(const struct ip_repr *ip, const uint8_t *data, size_t size)
{
    if (size < 4)
        return;
    uint8_t *copy = malloc(size);
    if (copy == NULL)
        return;
    memcpy(copy, data, size);
    icmp_cksum_set(ip, copy, size);
    check(ip, copy, size);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ip_repr uni = {.version = 6, .proto = IPPROTO_ICMP6_, .ttl = ND_HOPLIMIT};
    struct ip_repr dad = uni;

    uni.src = tcpc_addr_v6(lla);
    uni.dst = tcpc_addr_v6(glb);
    dad.dst = nd_solicited_node(&uni.dst);
    check(&uni, data, size);
    check(&dad, data, size);
    check_fixed(&uni, data, size);
    check_fixed(&dad, data, size);
    return 0;
}
