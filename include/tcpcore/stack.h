/*
 * The stack instance: packets in, packets out, time passed in.
 *
 * A tcpc_stack owns every table, counter, secret, timer and tunable it uses;
 * two stacks in one process share nothing (FreeBSD's VNET, by construction).
 * The core does no I/O and reads no clock. The embedder:
 *   - hands each received packet to tcpc_input, with the current time;
 *   - receives each packet the stack sends through the output callback;
 *   - calls tcpc_advance when tcpc_next_deadline says a timer is due.
 *
 * What a "packet" is depends on the link the stack is configured for
 * (tcpc_config.link): on an IP-level link (TCPC_LINK_IP, a TUN device)
 * packets are bare IPv4 / IPv6 packets both ways; on an Ethernet link
 * (TCPC_LINK_ETHER: AF_PACKET, a TAP device, a NIC) they are whole Ethernet
 * II frames without the frame check sequence, and the stack runs ARP and
 * IPv6 neighbour discovery itself (docs/link.md). Routes, addresses and the
 * neighbour cache are in tcpcore/link.h.
 * A stack is single-threaded: one thread at a time may call into it. Scale
 * comes from one stack (or connection group) per core.
 */
#ifndef TCPCORE_STACK_H
#define TCPCORE_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "sysctl.h"

struct tcpc_stack;

/*
 * Called for every packet the stack emits: a whole IPv4 or IPv6 packet on
 * an IP-level link, a whole Ethernet frame (header included, no padding to
 * the 60-byte minimum, no FCS) on an Ethernet link. pkt is valid only
 * during the call: copy it to keep it. The callback must not call back into
 * the same stack.
 *
 * Returns 0 when the packet was handed to the link, or a negative errno
 * (-ENOBUFS for a full ring or queue) when it was not sent. A refused packet
 * is counted (ips_odropped) and treated as lost on the wire: the sender's
 * retransmission recovers it, so nothing waits forever on a failed send.
 */
typedef int (*tcpc_output_fn)(void *ctx, const uint8_t *pkt, size_t len);

/* Optional: one line of text for each dropped packet and why, for debugging.
 * Same lifetime rule as the output callback. */
typedef void (*tcpc_trace_fn)(void *ctx, const char *line);

/*
 * Optional: the flow hash the NIC computes for received packets (RSS,
 * usually Toeplitz), as a function of a flow seen from our side: the
 * peer's address and port, then ours. When set, the connection tables hash
 * every 4-tuple with it instead of their keyed SipHash, so that
 * tcpc_input_hash can pass the NIC's value and save the per-packet hash (as
 * FreeBSD's in_pcblookup_mbuf does). It must agree exactly with the NIC.
 */
typedef uint32_t (*tcpc_flow_hash_fn)(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                                      const struct tcpc_addr *laddr, uint16_t lport);

#define TCPC_MAX_LOCAL_ADDRS 16

/*
 * The link MTU (cfg.mtu) a stack accepts: the largest IP packet it sends,
 * from which every MSS it offers derives.
 *   - TCPC_MTU_MIN, 576: the datagram every IPv4 host must accept (RFC 791,
 *     RFC 1122 3.3.3); smaller links would leave too little for TCP.
 *   - TCPC_MTU_MIN_IPV6, 1280: IPv6 requires links of at least this MTU
 *     (RFC 8200 section 5). A stack with a smaller MTU is IPv4-only: a
 *     configuration that lists an IPv6 local address is refused, rather
 *     than sending IPv6 over a link IPv6 does not allow.
 *   - TCPC_MTU_MAX, 65536: a 64 KiB link (Linux's loopback). A packet never
 *     exceeds what its IP header can describe, whatever the MTU: IPv4
 *     segments stop at 65535 bytes in all (an MSS of at most 65495), IPv6
 *     ones at a payload of 65535 after the 40-byte header.
 * Outside these, tcpc_stack_new refuses the configuration with -EINVAL;
 * tcpc_config_check says why in a sentence.
 */
#define TCPC_MTU_MIN      576
#define TCPC_MTU_MIN_IPV6 1280
#define TCPC_MTU_MAX      65536

/* What the stack's packets are (see the top of this file). */
enum tcpc_link_mode {
    TCPC_LINK_IP = 0, /* IP packets (TUN): no link header, no ARP or ND */
    TCPC_LINK_ETHER,  /* Ethernet II frames, with ARP and neighbour discovery */
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
    /* Randomness. With use_seed, every secret and random choice derives from
     * seed, so a run replays exactly (tests, fuzzing, benchmarks). Without
     * it, secrets come from the system's random source (libsodium). */
    bool use_seed;
    uint8_t seed[32];
    struct tcpc_tunables tun; /* set through tcpc_config_sysctl */
};

/* Fills cfg with defaults: no callbacks, no addresses, MTU 1500, every
 * tunable at its default. Call before setting fields. */
void tcpc_config_init(struct tcpc_config *cfg);

/*
 * The check tcpc_stack_new makes of cfg: 0, or -EINVAL for no output
 * callback, too many local addresses, a local address that is unspecified,
 * multicast or broadcast or listed twice, a prefix length past its family's
 * width, an MTU outside TCPC_MTU_MIN..TCPC_MTU_MAX, an IPv6 local address
 * with an MTU below TCPC_MTU_MIN_IPV6, an unknown link mode, an Ethernet
 * link without a unicast MAC, or inconsistent tunables. On error *why (when
 * why is non-NULL) points to a static sentence saying what is accepted.
 */
int tcpc_config_check(const struct tcpc_config *cfg, const char **why);

/*
 * Creates a stack from cfg (copied; cfg may be discarded afterwards), with
 * its tables and pools allocated up front as the tunables size them. `now` is
 * the stack's starting time. Returns the stack in *out and 0, -EINVAL when
 * tcpc_config_check refuses cfg (it says why), or -ENOMEM; on error *out is
 * untouched. The caller owns the stack and frees it with tcpc_stack_del.
 */
int tcpc_stack_new(const struct tcpc_config *cfg, tcpc_time_t now, struct tcpc_stack **out);

/* Frees the stack and everything it holds. Sockets die with it without
 * sending anything. NULL is accepted. */
void tcpc_stack_del(struct tcpc_stack *stack);

/*
 * Processes one received packet of len bytes at time now: an IP packet on an
 * IP-level link, an Ethernet frame (from its destination address on, without
 * FCS; padding is fine) on an Ethernet link. The stack does not keep pkt
 * after returning. Malformed or unwanted packets are dropped
 * and counted, never reported as errors; the stack may emit packets (and
 * fire socket events) from inside this call. `now` earlier than a previous
 * call's is taken as that previous time, and one past TCPC_TIME_MAX as
 * TCPC_TIME_MAX (the same holds for every call that takes `now`).
 */
void tcpc_input(struct tcpc_stack *stack, tcpc_time_t now, const uint8_t *pkt, size_t len);

/*
 * As tcpc_input, with the flow hash the NIC reported for the packet. Only
 * meaningful with cfg.flow_hash set (otherwise the hash is ignored); a
 * wrong hash makes the packet miss its connection, as it would in FreeBSD.
 */
void tcpc_input_hash(struct tcpc_stack *stack, tcpc_time_t now, const uint8_t *pkt, size_t len,
                     uint32_t flow_hash);

/* Runs every timer due at or before now (retransmissions, delayed ACKs,
 * TIME_WAIT expiry, secret rotation, neighbour resolution and expiry). */
void tcpc_advance(struct tcpc_stack *stack, tcpc_time_t now);

/* The earliest time at which tcpc_advance has work, or TCPC_TIME_NEVER. It
 * may be early (a call then finds nothing due), never late. */
tcpc_time_t tcpc_next_deadline(const struct tcpc_stack *stack);

/* The stack's current time: the latest `now` it was given. */
tcpc_time_t tcpc_now(const struct tcpc_stack *stack);

/* True when addr is one of the stack's local addresses (tcpcore/link.h
 * changes them). */
bool tcpc_addr_is_local(const struct tcpc_stack *stack, const struct tcpc_addr *addr);

#endif
