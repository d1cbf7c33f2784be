/**
 * @file
 * @brief A stack's configuration: an opaque object built with setters.
 *
 * A configuration is made with tcpc_config_new, filled with the setters
 * below and tunables set by their FreeBSD sysctl names
 * (tcpc_config_sysctl), handed to tcpc_stack_new (which copies it) and
 * freed with tcpc_config_del. Its layout is private to the library, so a
 * new setting or tunable is a new function or name, never a change in the
 * size or layout of something a program allocates: a program built
 * against one version of the library runs with a later one.
 *
 * A configuration is not tied to a stack: one can create several stacks,
 * be changed between them, and be freed while they run. One thread at a
 * time may use a given configuration.
 */
#ifndef TCPCORE_CONFIG_H
#define TCPCORE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/** An opaque configuration (tcpc_config_new). */
struct tcpc_config;

/**
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

/** Optional: one line of text for each dropped packet and why, for
 * debugging. Same lifetime rule as the output callback. */
typedef void (*tcpc_trace_fn)(void *ctx, const char *line);

/**
 * Optional: the flow hash the NIC computes for received packets (RSS,
 * usually Toeplitz), as a function of a flow seen from our side: the
 * peer's address and port, then ours. When set, the connection tables hash
 * every 4-tuple with it instead of their keyed SipHash, so that
 * tcpc_input_hash can pass the NIC's value and save the per-packet hash (as
 * FreeBSD's in_pcblookup_mbuf does). It must agree exactly with the NIC.
 */
typedef uint32_t (*tcpc_flow_hash_fn)(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                                      const struct tcpc_addr *laddr, uint16_t lport);

/**
 * Optional: which active opens are this stack's. When a host runs one
 * stack per core and the NIC (RSS) or the kernel (AF_PACKET fanout,
 * multiqueue TUN) spreads received packets over them by a hash of each
 * packet's addresses and ports, a connection's replies land on whichever
 * stack that hash picks. Returns true when a packet from faddr:fport to
 * laddr:lport (a reply to a connection of ours) is steered to this stack.
 * An active open with no port bound takes only ephemeral ports for which
 * this is true, so every packet of the connection stays on its core; none
 * left is -EADDRNOTAVAIL, as a full port range is. A port the application
 * binds itself is its own choice and is not checked. Passive opens need no
 * rule: they live where their SYN arrived. tcpc_toeplitz_tuple
 * (tcpcore/rss.h) computes a NIC's hash.
 */
typedef bool (*tcpc_steer_fn)(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                              const struct tcpc_addr *laddr, uint16_t lport);

/**
 * Optional, for a member of a connection group (tcpcore/group.h): the
 * group's ownership rule, the member (0..n-1) to which the host's steering
 * (the NIC's RSS, AF_PACKET fanout, a multiqueue TUN) delivers a packet
 * from faddr:fport to laddr:lport, or should. Every member must be given
 * the same rule; io/fanout.h has one (tcpc_afp_fanout_member). Set with
 * tcpc_config_set_owner.
 */
typedef unsigned (*tcpc_owner_fn)(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                                  const struct tcpc_addr *laddr, uint16_t lport);

/**
 * Optional: the memory a stack is made of. Every block the stack allocates
 * comes from tcpc_alloc_fn and goes back through tcpc_release_fn: its
 * tables when it is created, control blocks' buffer rings as connections
 * grow and finish, keys set by socket options. None is asked for per
 * packet. Returns size bytes (never 0) aligned to align (16 or 64), all
 * zero when zero is set, or NULL when there is no memory, which the stack
 * reports as -ENOMEM or, on the way of a packet, as a counted drop. Set
 * with tcpc_config_set_allocator; without one the C library serves. Not
 * served by it: TCP-AO's AES-CMAC contexts, which OpenSSL allocates.
 */
typedef void *(*tcpc_alloc_fn)(void *ctx, size_t size, size_t align, bool zero);
/** Gives back a block tcpc_alloc_fn returned, with the size it was asked
 * for. */
typedef void (*tcpc_release_fn)(void *ctx, void *ptr, size_t size);

/** The most local addresses a stack holds (configured and added later). */
#define TCPC_MAX_LOCAL_ADDRS 16

/**
 * @name The link MTU a stack accepts
 * The largest IP packet it sends, from which every MSS it offers derives.
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
 *
 * Outside these, tcpc_config_set_mtu and tcpc_stack_new refuse the value
 * with -EINVAL; tcpc_config_check says why in a sentence.
 * @{
 */
#define TCPC_MTU_MIN      576   /**< the smallest MTU (IPv4 only) */
#define TCPC_MTU_MIN_IPV6 1280  /**< the smallest MTU with an IPv6 address */
#define TCPC_MTU_MAX      65536 /**< the largest MTU */
/** @} */

/** What the stack's packets are (see tcpcore/stack.h). */
enum tcpc_link_mode {
    TCPC_LINK_IP = 0, /**< IP packets (TUN): no link header, no ARP or ND */
    TCPC_LINK_ETHER,  /**< Ethernet II frames, with ARP and neighbour discovery */
};

/**
 * Allocates a configuration with the defaults: no callbacks, no addresses,
 * an IP-level link, MTU 1500, secrets from the system's random source and
 * every tunable at its default. Returns 0 with the configuration in *out,
 * or -ENOMEM (*out untouched). The caller owns it and frees it with
 * tcpc_config_del. Callable at any time.
 */
int tcpc_config_new(struct tcpc_config **out);

/** Frees a configuration; stacks made from it are not affected. NULL is
 * accepted. */
void tcpc_config_del(struct tcpc_config *cfg);

/**
 * Sets the output callback (required before tcpc_stack_new) and the
 * context it is called with. The callback is called from inside the
 * stack's calls only, never after tcpc_stack_del.
 */
void tcpc_config_set_output(struct tcpc_config *cfg, tcpc_output_fn fn, void *ctx);

/** Sets (or with NULL removes) the trace callback and its context. */
void tcpc_config_set_trace(struct tcpc_config *cfg, tcpc_trace_fn fn, void *ctx);

/** Sets (or with NULL removes) the NIC's flow hash function and its
 * context; see tcpc_flow_hash_fn. */
void tcpc_config_set_flow_hash(struct tcpc_config *cfg, tcpc_flow_hash_fn fn, void *ctx);

/** Sets (or with NULL removes) the steering rule for active opens and its
 * context; see tcpc_steer_fn. */
void tcpc_config_set_steering(struct tcpc_config *cfg, tcpc_steer_fn fn, void *ctx);

/**
 * Sets the allocator and its context (see tcpc_alloc_fn), or with both
 * NULL the C library's again. -EINVAL, the configuration unchanged, when
 * only one of the two is given. The allocator must outlive every stack
 * made from the configuration.
 */
int tcpc_config_set_allocator(struct tcpc_config *cfg, tcpc_alloc_fn alloc, tcpc_release_fn release,
                              void *ctx);

/**
 * Adds a local address the stack answers for from its start, with its
 * connected prefix in its family's terms (24 for a /24, 64 for a /64; 0
 * means the address alone, /32 or /128). tcpc_addr_add and tcpc_addr_del
 * (tcpcore/link.h) change the set on a live stack. Packets to other
 * addresses are dropped (ips_notlocal) unless a socket asked for
 * IP_BINDANY. Returns 0, -EINVAL (a prefix past the family's width) or
 * -ENOSPC (TCPC_MAX_LOCAL_ADDRS already); tcpc_config_check refuses
 * unspecified, multicast, broadcast and repeated addresses.
 */
int tcpc_config_add_addr(struct tcpc_config *cfg, const struct tcpc_addr *addr, unsigned prefixlen);

/**
 * Sets the link: TCPC_LINK_IP (mac ignored, may be NULL) or
 * TCPC_LINK_ETHER with the stack's own unicast MAC, which it answers ARP
 * and neighbour solicitations with and accepts frames to (with broadcast
 * and the IPv6 groups it belongs to). Returns 0, or -EINVAL for an unknown
 * mode or an Ethernet link without a unicast MAC (NULL, all zeros, or the
 * group bit set).
 */
int tcpc_config_set_link(struct tcpc_config *cfg, enum tcpc_link_mode mode,
                         const struct tcpc_ether_addr *mac);

/** Sets the IP MTU of the link (no link header): 0, or -EINVAL outside
 * TCPC_MTU_MIN..TCPC_MTU_MAX. The default is 1500. */
int tcpc_config_set_mtu(struct tcpc_config *cfg, uint32_t mtu);

/**
 * Makes every secret and random choice derive from the 32 bytes at seed,
 * so that a run replays exactly (tests, fuzzing, benchmarks); NULL goes
 * back to the system's random source (libsodium), the default. Never seed
 * a stack that faces a real network: its ISNs and SYN cookies would be
 * predictable.
 */
void tcpc_config_set_seed(struct tcpc_config *cfg, const uint8_t *seed);

/**
 * Sets the tunable `name` (a FreeBSD sysctl name, tcpcore/sysctl.h) on a
 * configuration. Returns 0, -ENOENT for an unknown name, or -EINVAL for a
 * value the tunable refuses; in either error case *why (when why is
 * non-NULL) points to a static sentence saying what is accepted.
 */
int tcpc_config_sysctl(struct tcpc_config *cfg, const char *name, int64_t value, const char **why);

/** tcpc_config_sysctl for a tunable whose value is a name
 * (net.inet.tcp.cc.algorithm=cubic: tcpcore/sysctl.h). */
int tcpc_config_sysctl_str(struct tcpc_config *cfg, const char *name, const char *value,
                           const char **why);

/** Reads the tunable `name` as set on the configuration into *value (an
 * auto-sized tunable reads as its 0). Returns 0 or -ENOENT. */
int tcpc_config_sysctl_get(const struct tcpc_config *cfg, const char *name, int64_t *value);

/**
 * The check tcpc_stack_new makes of cfg: 0, or -EINVAL for no output
 * callback, a local address that is unspecified, multicast or broadcast
 * or listed twice, an IPv6 local address with an MTU below
 * TCPC_MTU_MIN_IPV6, an Ethernet link without a unicast MAC, or
 * inconsistent tunables. On error *why (when why is non-NULL) points to a
 * static sentence saying what is accepted.
 */
int tcpc_config_check(const struct tcpc_config *cfg, const char **why);

#endif
