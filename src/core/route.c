/*
 * Addresses, connected prefixes, default gateways and source address
 * selection; see route.h and tcpcore/link.h.
 *
 * The table is tiny (TCPC_MAX_LOCAL_ADDRS addresses, two gateways), so every
 * lookup is a scan of sixteen slots: cheaper than any structure that would
 * have to be kept up to date, and done once per connect and per packet sent
 * on an Ethernet link.
 */
#include "core/route.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "tcpcore/link.h"
#include "tcpcore/socket.h"
#include "wire/ip.h"

#define V4_PLEN_BASE 96 /* the v4-mapped prefix ::ffff:0:0/96 */

static unsigned rt_family(const struct tcpc_addr *a)
{
    return tcpc_addr_is_v4(a) ? 0 : 1;
}

static bool addr_is_ll6(const struct tcpc_addr *a)
{
    return !tcpc_addr_is_v4(a) && a->bytes[0] == 0xfe && (a->bytes[1] & 0xc0) == 0x80;
}

/* Not an address an interface can have or a gateway can be. */
static bool addr_unusable(const struct tcpc_addr *a)
{
    if (tcpc_addr_is_any(a))
        return true;
    if (tcpc_addr_is_v4(a)) {
        uint32_t h = tcpc_addr_v4_host(a);
        return (h >> 28) == 0xe || h == 0xffffffffu;
    }
    return a->bytes[0] == 0xff;
}

/* A family prefix length in 128-bit terms, or -1 when out of range. */
static int plen_internal(const struct tcpc_addr *a, unsigned plen)
{
    bool v4 = tcpc_addr_is_v4(a);
    if (plen > (v4 ? 32u : 128u))
        return -1;
    if (plen == 0)
        return 128;
    return (int)(v4 ? V4_PLEN_BASE + plen : plen);
}

static uint8_t plen_family(const struct tcpc_addr *a, uint8_t plen)
{
    return tcpc_addr_is_v4(a) ? (uint8_t)(plen - V4_PLEN_BASE) : plen;
}

/* Leading bits a and b share, at most max. */
static unsigned common_prefix(const struct tcpc_addr *a, const struct tcpc_addr *b, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < 16 && n < max; i++) {
        uint8_t x = a->bytes[i] ^ b->bytes[i];
        if (x == 0) {
            n += 8;
            continue;
        }
        while (!(x & 0x80)) {
            x = (uint8_t)(x << 1);
            n++;
        }
        break;
    }
    return n < max ? n : max;
}

bool route_is_local(const struct route_table *rt, const struct tcpc_addr *a)
{
    for (unsigned i = 0; i < TCPC_MAX_LOCAL_ADDRS; i++)
        if (rt->slot[i].live && tcpc_addr_eq(&rt->slot[i].addr, a))
            return true;
    return false;
}

int route_addr_slot(const struct route_table *rt, const struct tcpc_addr *a)
{
    for (unsigned i = 0; i < TCPC_MAX_LOCAL_ADDRS; i++) {
        const struct route_ifaddr *s = &rt->slot[i];
        if ((s->live || s->refs) && tcpc_addr_eq(&s->addr, a))
            return (int)i;
    }
    return -1;
}

void route_addr_hold(struct route_table *rt, unsigned slot)
{
    rt->slot[slot].refs++;
}

void route_addr_release(struct route_table *rt, unsigned slot)
{
    assert(rt->slot[slot].refs > 0);
    rt->slot[slot].refs--;
}

static int rt_add(struct route_table *rt, const struct tcpc_addr *a, unsigned plen)
{
    int p = plen_internal(a, plen);
    if (p < 0 || addr_unusable(a))
        return -EINVAL;
    if (route_is_local(rt, a))
        return -EEXIST;
    /* The address's own held slot first, so its TIME_WAIT records stay
     * right; then a slot nothing names. */
    int i = route_addr_slot(rt, a);
    for (unsigned j = 0; i < 0 && j < TCPC_MAX_LOCAL_ADDRS; j++)
        if (!rt->slot[j].live && rt->slot[j].refs == 0)
            i = (int)j;
    if (i < 0)
        return -ENOSPC;
    struct route_ifaddr *s = &rt->slot[i];
    s->addr = *a;
    s->plen = (uint8_t)p;
    s->live = true;
    s->seq = rt->next_seq++;
    return 0;
}

int route_config_check(const struct tcpc_config *cfg, const char **why)
{
    struct route_table rt;
    memset(&rt, 0, sizeof(rt));
    for (unsigned i = 0; i < cfg->nlocal_addrs && i < TCPC_MAX_LOCAL_ADDRS; i++) {
        const struct tcpc_addr *a = &cfg->local_addrs[i];
        if (addr_unusable(a)) {
            *why = "a local address must be unicast (not unspecified, multicast or broadcast)";
            return -EINVAL;
        }
        if (plen_internal(a, cfg->local_prefixlens[i]) < 0) {
            *why = "a local prefix length is at most 32 for IPv4 and 128 for IPv6";
            return -EINVAL;
        }
        if (rt_add(&rt, a, cfg->local_prefixlens[i]) != 0) {
            *why = "a local address is listed twice";
            return -EINVAL;
        }
    }
    return 0;
}

void route_init(struct route_table *rt, const struct tcpc_config *cfg)
{
    memset(rt, 0, sizeof(*rt));
    for (unsigned i = 0; i < cfg->nlocal_addrs; i++) {
        int err = rt_add(rt, &cfg->local_addrs[i], cfg->local_prefixlens[i]);
        assert(err == 0); /* route_config_check accepted cfg */
        (void)err;
    }
}

/*
 * Whether a connected prefix holds dst. The table's routes are the
 * connected prefixes and one /0 per family, so the longest match is a
 * connected prefix whenever any holds dst, and with one interface every
 * connected prefix has the same next hop: dst itself.
 */
static bool rt_connected(const struct route_table *rt, const struct tcpc_addr *dst)
{
    for (unsigned i = 0; i < TCPC_MAX_LOCAL_ADDRS; i++) {
        const struct route_ifaddr *s = &rt->slot[i];
        if (s->live && rt_family(&s->addr) == rt_family(dst) &&
            common_prefix(&s->addr, dst, s->plen) == s->plen)
            return true;
    }
    return false;
}

static bool rt_on_link(const struct route_table *rt, const struct tcpc_addr *dst)
{
    return addr_is_ll6(dst) || route_is_local(rt, dst) || rt_connected(rt, dst);
}

int route_nexthop(const struct tcpc_stack *stack, const struct tcpc_addr *dst,
                  struct tcpc_addr *nexthop)
{
    const struct route_table *rt = &stack->rt;
    if (stack->cfg.link == TCPC_LINK_IP || rt_on_link(rt, dst)) {
        *nexthop = *dst;
        return 0;
    }
    unsigned f = rt_family(dst);
    if (!rt->has_gw[f])
        return -EHOSTUNREACH;
    *nexthop = rt->gw[f];
    return 0;
}

/* --- source address selection (RFC 6724) -------------------------------- */

/* Section 3.1's scopes: 2 link-local, 5 site-local, 14 global; IPv4 maps
 * by section 3.2 (loopback and 169.254/16 are link-local). */
static int sas_scope(const struct tcpc_addr *a)
{
    const uint8_t *b = a->bytes;
    if (tcpc_addr_is_v4(a)) {
        bool ll = b[12] == 127 || (b[12] == 169 && b[13] == 254);
        return ll ? 2 : 14;
    }
    if (b[0] == 0xff)
        return b[1] & 0x0f;
    if (addr_is_ll6(a))
        return 2;
    static const uint8_t loopback[16] = {[15] = 1};
    if (memcmp(b, loopback, 16) == 0)
        return 2;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return 5;
    return 14;
}

/* The label of section 2.1's default policy table: the longest prefix of
 * the table that matches. */
static int sas_label(const struct tcpc_addr *a)
{
    static const struct {
        uint8_t prefix[16];
        uint8_t plen, label;
    } policy[] = {
        {{[15] = 1}, 128, 0},                /* ::1/128 loopback */
        {{[10] = 0xff, [11] = 0xff}, 96, 4}, /* ::ffff:0:0/96 IPv4 */
        {{0}, 96, 3},                        /* ::/96 IPv4-compatible */
        {{0x20, 0x01}, 32, 5},               /* 2001::/32 Teredo */
        {{0x20, 0x02}, 16, 2},               /* 2002::/16 6to4 */
        {{0x3f, 0xfe}, 16, 12},              /* 3ffe::/16 6bone */
        {{0xfe, 0xc0}, 10, 11},              /* fec0::/10 site-local */
        {{0xfc}, 7, 13},                     /* fc00::/7 unique local */
    };
    for (size_t i = 0; i < sizeof(policy) / sizeof(policy[0]); i++) {
        struct tcpc_addr p;
        memcpy(p.bytes, policy[i].prefix, 16);
        if (common_prefix(a, &p, policy[i].plen) == policy[i].plen)
            return policy[i].label;
    }
    return 1; /* ::/0 */
}

/* Section 5: > 0 when candidate a is the better source for dst, < 0 when b
 * is, 0 when no rule decides. Rules 3 (deprecated), 4 (home), 5 (outgoing
 * interface: there is one) and 7 (temporary) cannot tell these apart. */
static int sas_compare(const struct tcpc_addr *dst, const struct route_ifaddr *a,
                       const struct route_ifaddr *b)
{
    /* Rule 1: the destination itself. */
    if (tcpc_addr_eq(&a->addr, dst) != tcpc_addr_eq(&b->addr, dst))
        return tcpc_addr_eq(&a->addr, dst) ? 1 : -1;
    /* Rule 2: the smallest scope that still reaches dst. */
    int sa = sas_scope(&a->addr), sb = sas_scope(&b->addr), sd = sas_scope(dst);
    if (sa != sb) {
        if (sa < sb)
            return sa < sd ? -1 : 1;
        return sb < sd ? 1 : -1;
    }
    /* Rule 6: the same label as the destination. */
    int ld = sas_label(dst);
    bool ma = sas_label(&a->addr) == ld, mb = sas_label(&b->addr) == ld;
    if (ma != mb)
        return ma ? 1 : -1;
    /* Rule 8: the longest common prefix, counted up to the source's own
     * prefix length (section 2.2). */
    unsigned ca = common_prefix(&a->addr, dst, a->plen);
    unsigned cb = common_prefix(&b->addr, dst, b->plen);
    if (ca != cb)
        return ca > cb ? 1 : -1;
    return 0;
}

int route_source(const struct tcpc_stack *stack, const struct tcpc_addr *dst, struct tcpc_addr *src)
{
    const struct route_table *rt = &stack->rt;
    const struct route_ifaddr *best = NULL;
    for (unsigned i = 0; i < TCPC_MAX_LOCAL_ADDRS; i++) {
        const struct route_ifaddr *s = &rt->slot[i];
        if (!s->live || rt_family(&s->addr) != rt_family(dst))
            continue;
        int c = best ? sas_compare(dst, s, best) : 1;
        /* No rule decides: the address configured first. */
        if (c > 0 || (c == 0 && s->seq < best->seq))
            best = s;
    }
    if (!best)
        return -EADDRNOTAVAIL;
    struct tcpc_addr nh;
    if (route_nexthop(stack, dst, &nh) != 0)
        return -ENETUNREACH;
    *src = best->addr;
    return 0;
}

/* --- the public API (tcpcore/link.h, tcpcore/stack.h) ------------------- */

bool tcpc_addr_is_local(const struct tcpc_stack *stack, const struct tcpc_addr *addr)
{
    return route_is_local(&stack->rt, addr);
}

int tcpc_addr_add(struct tcpc_stack *stack, const struct tcpc_addr *addr, unsigned prefixlen)
{
    return rt_add(&stack->rt, addr, prefixlen);
}

int tcpc_addr_del(struct tcpc_stack *stack, const struct tcpc_addr *addr)
{
    struct route_table *rt = &stack->rt;
    for (unsigned i = 0; i < TCPC_MAX_LOCAL_ADDRS; i++) {
        if (rt->slot[i].live && tcpc_addr_eq(&rt->slot[i].addr, addr)) {
            /* The bytes stay: TIME_WAIT records may still name the slot. */
            rt->slot[i].live = false;
            return 0;
        }
    }
    return -EADDRNOTAVAIL;
}

int tcpc_route_set_gateway(struct tcpc_stack *stack, int family, const struct tcpc_addr *gw)
{
    if (family != TCPC_AF_INET && family != TCPC_AF_INET6)
        return -EAFNOSUPPORT;
    struct route_table *rt = &stack->rt;
    unsigned f = family == TCPC_AF_INET ? 0 : 1;
    if (!gw) {
        rt->has_gw[f] = false;
        return 0;
    }
    if (rt_family(gw) != f || addr_unusable(gw) || route_is_local(rt, gw))
        return -EINVAL;
    if (stack->cfg.link == TCPC_LINK_ETHER && !rt_on_link(rt, gw))
        return -ENETUNREACH;
    rt->gw[f] = *gw;
    rt->has_gw[f] = true;
    return 0;
}

int tcpc_route_list(const struct tcpc_stack *stack, tcpc_route_fn fn, void *ctx)
{
    const struct route_table *rt = &stack->rt;
    /* Live slots in the order their addresses were added. */
    unsigned order[TCPC_MAX_LOCAL_ADDRS], n = 0;
    for (unsigned i = 0; i < TCPC_MAX_LOCAL_ADDRS; i++) {
        if (!rt->slot[i].live)
            continue;
        unsigned j = n++;
        for (; j > 0 && rt->slot[order[j - 1]].seq > rt->slot[i].seq; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
    for (unsigned k = 0; k < n; k++) {
        const struct route_ifaddr *s = &rt->slot[order[k]];
        struct tcpc_route_info ri = {
            .dst = ip_addr_prefix(&s->addr, s->plen),
            .prefixlen = plen_family(&s->addr, s->plen),
            .flags = s->plen == 128 ? TCPC_RTF_HOST : 0,
            .ifaddr = s->addr,
        };
        int r = fn(ctx, &ri);
        if (r)
            return r;
    }
    for (unsigned f = 0; f < 2; f++) {
        if (!rt->has_gw[f])
            continue;
        struct tcpc_route_info ri = {.flags = TCPC_RTF_GATEWAY, .gateway = rt->gw[f]};
        if (f == 0)
            ri.dst = tcpc_addr_v4(0);
        int r = fn(ctx, &ri);
        if (r)
            return r;
    }
    return 0;
}
