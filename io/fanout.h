/*
 * The ownership rule of a host that runs one stack per core on one
 * interface: which stack (queue) a received TCP packet belongs to.
 *
 * The kernel's AF_PACKET fanout hands each received frame to one socket of
 * a group, and each socket feeds one stack. Its own hash (PACKET_FANOUT_HASH)
 * keeps a flow on one socket, but no stack can predict where the replies to
 * its active opens land. This rule can be predicted from both ends:
 *
 *   - a packet to a local port inside the stack's ephemeral range goes to
 *     queue (port mod N): an active open that takes only ports p with
 *     p mod N == its queue (tcpc_afp_fanout_owns as the stack's steering
 *     rule, tcpc_config_set_steering) has every reply come back to it;
 *   - any other TCP packet (to a listener's port) goes to the queue of a
 *     hash of its addresses and ports that is the same both ways, so a
 *     passive connection lives where its SYN landed;
 *   - an ICMP or ICMPv6 error quoting a TCP segment (unreachable, too big,
 *     time exceeded, parameter problem) goes where a reply to the quoted
 *     segment would: its quoted source port is the local one;
 *   - everything else (ARP, ND, echo, UDP, IPv4 fragments, IPv6 packets
 *     whose TCP header follows extension headers) goes to queue 0.
 *
 * tcpc_afp_fanout_program writes the same rule as a classic BPF program
 * for PACKET_FANOUT_CBPF, so the kernel and the stacks compute one rule from
 * one description (struct tcpc_afp_fanout_rule). Pure functions, no system
 * calls; the socket side is tcpc_afp_open_group (af_packet.h).
 */
#ifndef TCPCORE_IO_FANOUT_H
#define TCPCORE_IO_FANOUT_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

#include "tcpcore/addr.h"
#include "tcpcore/config.h"

/* The most queues of a group (the kernel's PACKET_FANOUT_MAX). */
#define TCPC_AFP_FANOUT_MAX 256
/* Room for the program tcpc_afp_fanout_program writes, in instructions. */
#define TCPC_AFP_FANOUT_PROG_LEN 160

struct tcpc_afp_fanout_rule {
    unsigned nqueues;    /* stacks (sockets) in the group, 1..TCPC_AFP_FANOUT_MAX */
    uint16_t port_first; /* the stacks' net.inet.ip.portrange.first */
    uint16_t port_last;  /* and .last: every stack must use the same range */
};

/* The context of tcpc_afp_fanout_owns: the rule and the stack's queue. */
struct tcpc_afp_fanout_owner {
    const struct tcpc_afp_fanout_rule *rule;
    unsigned queue;
};

/*
 * Fills rule for nqueues stacks with the ephemeral port range cfg holds
 * (set the range with tcpc_config_sysctl before, and give every stack of
 * the group the same). 0, or -EINVAL for 0 or more than
 * TCPC_AFP_FANOUT_MAX queues.
 */
int tcpc_afp_fanout_rule_init(struct tcpc_afp_fanout_rule *rule, unsigned nqueues,
                              const struct tcpc_config *cfg);

/* The queue a TCP packet from src:sport to dst:dport (ports in host byte
 * order, addresses of one family) is handed to. */
unsigned tcpc_afp_fanout_queue(const struct tcpc_afp_fanout_rule *rule, const struct tcpc_addr *src,
                               uint16_t sport, const struct tcpc_addr *dst, uint16_t dport);

/* A tcpc_steer_fn (ctx: struct tcpc_afp_fanout_owner): true when the reply
 * from faddr:fport to laddr:lport comes to the owner's queue. */
bool tcpc_afp_fanout_owns(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                          const struct tcpc_addr *laddr, uint16_t lport);

/* A tcpc_owner_fn (ctx: the struct tcpc_afp_fanout_rule) for the members
 * of a connection group (tcpc_config_set_owner): the queue the rule gives
 * a packet from faddr:fport to laddr:lport, which is the member that
 * reads it. */
unsigned tcpc_afp_fanout_member(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                                const struct tcpc_addr *laddr, uint16_t lport);

/*
 * Writes the rule as a classic BPF program for PACKET_FANOUT_CBPF into
 * prog (room for TCPC_AFP_FANOUT_PROG_LEN instructions). The program reads
 * the packet through the kernel's network-header offsets (SKF_NET_OFF) and
 * its protocol (SKF_AD_PROTOCOL), so it does not depend on where the
 * frame's data starts. Returns the number of instructions, or -EINVAL for
 * a rule tcpc_afp_fanout_rule_init would refuse.
 */
int tcpc_afp_fanout_program(const struct tcpc_afp_fanout_rule *rule, struct sock_filter *prog);

#endif
