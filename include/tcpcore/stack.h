/**
 * @file
 * @brief The stack instance: packets in, packets out, time passed in.
 *
 * A tcpc_stack owns every table, counter, secret, timer and tunable it uses;
 * two stacks in one process share nothing (FreeBSD's VNET, by construction).
 * The core does no I/O and reads no clock. The embedder:
 *   - hands each received packet to tcpc_input, with the current time;
 *   - receives each packet the stack sends through the output callback;
 *   - calls tcpc_advance when tcpc_next_deadline says a timer is due.
 *
 * What a "packet" is depends on the link the stack is configured for
 * (tcpc_config_set_link): on an IP-level link (TCPC_LINK_IP, a TUN device)
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
#include "config.h"
#include "sysctl.h"

/** A stack instance (tcpc_stack_new): opaque. */
struct tcpc_stack;

/**
 * Creates a stack from cfg (copied; cfg may be discarded afterwards), with
 * its tables and pools allocated up front as the tunables size them. `now` is
 * the stack's starting time. Returns the stack in *out and 0, -EINVAL when
 * tcpc_config_check refuses cfg (it says why), or -ENOMEM; on error *out is
 * untouched. The caller owns the stack and frees it with tcpc_stack_del.
 */
int tcpc_stack_new(const struct tcpc_config *cfg, tcpc_time_t now, struct tcpc_stack **out);

/** Frees the stack and everything it holds. Sockets die with it without
 * sending anything. NULL is accepted. */
void tcpc_stack_del(struct tcpc_stack *stack);

/**
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

/**
 * As tcpc_input, with the flow hash the NIC reported for the packet. Only
 * meaningful with a flow hash function configured (tcpc_config_set_flow_hash) (otherwise the hash
 * is ignored); a wrong hash makes the packet miss its connection, as it would in FreeBSD.
 */
void tcpc_input_hash(struct tcpc_stack *stack, tcpc_time_t now, const uint8_t *pkt, size_t len,
                     uint32_t flow_hash);

/** Runs every timer due at or before now (retransmissions, delayed ACKs,
 * TIME_WAIT expiry, secret rotation, neighbour resolution and expiry). */
void tcpc_advance(struct tcpc_stack *stack, tcpc_time_t now);

/** The earliest time at which tcpc_advance has work, or TCPC_TIME_NEVER. It
 * may be early (a call then finds nothing due), never late. */
tcpc_time_t tcpc_next_deadline(const struct tcpc_stack *stack);

/** The stack's current time: the latest `now` it was given. */
tcpc_time_t tcpc_now(const struct tcpc_stack *stack);

/** True when addr is one of the stack's local addresses (tcpcore/link.h
 * changes them). */
bool tcpc_addr_is_local(const struct tcpc_stack *stack, const struct tcpc_addr *addr);

#endif
