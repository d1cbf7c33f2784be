/*
 * The configuration's layout, private to the library.
 *
 * Programs see struct tcpc_config as an opaque type (tcpcore/config.h) and
 * fill it with setters, so that a new setting or tunable never changes
 * what they allocate. Inside the library (and in its own tests, benchmarks
 * and fuzzers, which reach for fields directly) this is the whole struct;
 * a stack keeps a copy of it (struct tcpc_stack.cfg).
 */
#ifndef TCPCORE_CORE_CONFIG_H
#define TCPCORE_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpcore/config.h"
#include "tcpcore/sysctl.h"
#include "util/mem.h"

/* One field per tunable, in the table's units. */
struct tcpc_tunables {
#define TCPC_TUNABLES_FIELD_(field, name, def, min, max, flags, desc) int64_t field;
    TCPC_TUNABLES(TCPC_TUNABLES_FIELD_)
#undef TCPC_TUNABLES_FIELD_
};

struct tcpc_config {
    tcpc_output_fn output; /* required */
    void *output_ctx;
    tcpc_trace_fn trace; /* optional */
    void *trace_ctx;
    /* Addresses this stack answers for at start (tcpc_addr_add and
     * tcpc_addr_del change the set later). Packets to other addresses are
     * dropped (ips_notlocal) unless a socket asked for IP_BINDANY.
     * local_prefixlens[i] is address i's connected prefix in its family's
     * terms (/24 as 24, /64 as 64); 0, the default, means the address
     * alone (/32 or /128). */
    struct tcpc_addr local_addrs[TCPC_MAX_LOCAL_ADDRS];
    uint8_t local_prefixlens[TCPC_MAX_LOCAL_ADDRS];
    unsigned nlocal_addrs;
    /* The link. For TCPC_LINK_ETHER, ether_addr is the stack's own MAC (a
     * unicast address, not all zeros): it answers ARP and neighbour
     * solicitations with it and accepts frames to it, to broadcast and to
     * the IPv6 groups it belongs to. */
    enum tcpc_link_mode link;
    struct tcpc_ether_addr ether_addr;
    /* IP MTU of the link (no link header), TCPC_MTU_MIN..TCPC_MTU_MAX;
     * default 1500. */
    uint32_t mtu;
    tcpc_flow_hash_fn flow_hash; /* optional, see tcpc_flow_hash_fn */
    void *flow_hash_ctx;
    tcpc_steer_fn steer; /* optional, see tcpc_steer_fn */
    void *steer_ctx;
    tcpc_owner_fn owner; /* optional: the group's ownership rule (tcpcore/group.h) */
    void *owner_ctx;
    struct mem mem; /* optional: the allocator (tcpc_config_set_allocator) */
    /* Randomness. With use_seed, every secret and random choice derives from
     * seed, so a run replays exactly (tests, fuzzing, benchmarks). Without
     * it, secrets come from the system's random source (libsodium). */
    bool use_seed;
    uint8_t seed[32];
    struct tcpc_tunables tun; /* set through tcpc_config_sysctl */
    /* The connection group the stack joins (tcpcore/group.h), NULL for
     * none, and its member index there. */
    struct tcpc_group *group;
    unsigned group_index;
};

/*
 * Fills cfg, in the caller's storage, with the defaults tcpc_config_new
 * gives. For the library's own tests, benchmarks and fuzzers, which set
 * fields directly: programs use tcpc_config_new, and libtcpcore.so does not
 * export this (src/libtcpcore.map).
 */
void tcpc_config_init(struct tcpc_config *cfg);

#endif
