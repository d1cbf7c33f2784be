/**
 * @file
 * @brief Connection groups: several stacks, one per thread, that behave as
 * one host.
 *
 * A stack is single-threaded. A host with several cores runs one stack per
 * core, each on its own thread, with the NIC (RSS) or the kernel (AF_PACKET
 * fanout, multiqueue TUN) spreading packets over them by flow
 * (tcpcore/rss.h, tcpc_config_set_steering). A group makes those stacks
 * agree where a host must be one: the secrets behind SYN cookies, the SYN
 * cache's hash, initial sequence numbers and ephemeral ports (a handshake
 * whose SYN reached one member completes on another), the tunables (a
 * tcpc_sysctl_set on one member reaches every member), the TIME_WAIT
 * limit (net.inet.tcp.maxtcptw counts the group's records), the port space
 * (a bind, or an ephemeral port, that one stack holding every member's
 * sockets would refuse is refused) and the listeners (one opened on any
 * member is open on every member: see tcpc_group_listener_sd).
 *
 * The group is allocated once and is read-mostly: nothing in it is written
 * on the path of an established connection's packets, and a stack not in a
 * group behaves exactly as without this header. docs/groups.md lists every
 * shared write.
 *
 * Use: one thread creates the group (tcpc_group_new), then each worker
 * thread makes its own configuration with tcpc_config_set_group(cfg, group,
 * i) and creates its member with tcpc_stack_new, as any stack; it drives
 * that stack from its own thread only. Every member must be fed the same
 * clock (the same source of tcpc_time_t: the cookie periods are cut from
 * it) and be configured with the same tunables.
 */
#ifndef TCPCORE_GROUP_H
#define TCPCORE_GROUP_H

#include "config.h"
#include "stack.h"

/** An opaque group of stacks (tcpc_group_new). */
struct tcpc_group;

/** The most members a group holds. */
#define TCPC_GROUP_MAX 1024

/**
 * Allocates a group of n members (1..TCPC_GROUP_MAX), its secrets drawn
 * from the system's random source. Returns 0 with the group in *out,
 * -EINVAL for a bad n, or -ENOMEM (*out untouched). Callable from any
 * thread.
 */
int tcpc_group_new(unsigned n, struct tcpc_group **out);

/**
 * Gives up the caller's hold on the group. Each member holds the group
 * too, so it is freed when the last of the caller and the members lets go
 * (tcpc_stack_del): call it once every member is created, or at any time
 * after. No configuration naming the group may be used for tcpc_stack_new
 * afterwards. NULL is accepted.
 */
void tcpc_group_del(struct tcpc_group *group);

/** The number of members group was made for. */
unsigned tcpc_group_size(const struct tcpc_group *group);

/**
 * Makes stacks created from cfg member index (0..n-1) of group; NULL
 * leaves groups (the default). Returns 0 or -EINVAL (index out of range).
 * tcpc_stack_new refuses a member index already taken by a live stack
 * with -EBUSY.
 */
int tcpc_config_set_group(struct tcpc_config *cfg, struct tcpc_group *group, unsigned index);

/** The member index of stack in its group, or -ENOENT when it is in none. */
int tcpc_stack_group_index(const struct tcpc_stack *stack);

/** The most listeners a group holds open at once. */
#define TCPC_GROUP_LISTENERS 64

/*
 * Listeners. In a group, tcpc_listen on one member opens the listener on
 * every member: the others each open a copy (same address, port, backlog
 * and the options connections inherit: SO_REUSEADDR/REUSEPORT/REUSEPORT_LB,
 * IPV6_V6ONLY, IP_BINDANY, SO_LINGER, buffer sizes, TCP_NODELAY,
 * TCP_NOOPT, TCP_NOPUSH, TCP_MAXSEG, keepalive settings,
 * TCP_USER_TIMEOUT, TCP_CONGESTION, IP_TTL/TOS, IP_DONTFRAG,
 * SO_OOBINLINE) at their next entry (tcpc_input, tcpc_input_hash,
 * tcpc_advance, or tcpc_group_listener_sd). The copy's descriptor gets a
 * TCPC_EV_LISTENER event when it opens. tcpc_listen fails with -ENOBUFS
 * when the group holds TCPC_GROUP_LISTENERS listeners.
 *
 * Closing the listener on the member that opened it closes it everywhere:
 * each copy gets TCPC_EV_HUP at its member's next entry and is then closed
 * (its descriptor released; connections not yet accepted are reset, as
 * for any listener closed). Closing a copy closes only that copy. MD5 and
 * TCP-AO keys, accept filters and Fast Open are the original's alone.
 */

/**
 * The group listener id (above 0) of descriptor sd, a listener opened on
 * this member or a copy of one; -ENOENT for any other descriptor or a
 * stack in no group. The id names the listener on every member.
 */
int tcpc_group_listener_id(struct tcpc_stack *stack, int sd);

/**
 * This member's descriptor for group listener id, taking what the group
 * published first (so it may be called before any entry). Returns the
 * descriptor, -ENOENT when the group has no such listener (never had, or
 * closed), -EBADF when the application closed this member's copy, or the
 * error opening the copy failed with (-EADDRINUSE when a socket of this
 * member holds the port). Only on stack's own thread, as any call.
 */
int tcpc_group_listener_sd(struct tcpc_stack *stack, int id);

/**
 * Sets (or with NULL removes) the ownership rule of a member of a group,
 * with its context. It does two jobs, so that the rule is stated once:
 *
 *   - steering: unless tcpc_config_set_steering gives another rule, an
 *     active open takes only ephemeral ports whose replies the rule gives
 *     to this member;
 *   - hand-off: a TCP segment that matches nothing in the member that
 *     received it, and that the rule gives to another member, is copied to
 *     that member's queue instead of being answered with a reset (counted
 *     in tcps_handoff, tcps_handoff_rcvd and tcps_handoff_qdrop). The
 *     owner takes it at its next tcpc_input, tcpc_advance or
 *     tcpc_group_poll.
 *
 * On an Ethernet link, a member of a group also copies the ARP and
 * neighbour discovery frames it receives to every other member
 * (ifi_grp_out, ifi_grp_in, ifi_grp_qdrops), since a fanout hands each
 * frame to one member and every member resolves its own next hops.
 */
void tcpc_config_set_owner(struct tcpc_config *cfg, tcpc_owner_fn fn, void *ctx);

/**
 * Called on the thread of a member that just queued a packet for member
 * `member` whose queue was empty, so that the embedder can wake that
 * member's thread (an eventfd write, a condition variable); the woken
 * thread calls tcpc_group_poll (or tcpc_advance). The callback must not
 * call into any stack.
 */
typedef void (*tcpc_group_wake_fn)(void *ctx, unsigned member);

/**
 * Sets the group's wake callback. Call it before the first member is made
 * (tcpc_stack_new): members read it without a lock. NULL: no callback;
 * tcpc_next_deadline of the owner still says the queue is waiting.
 */
void tcpc_group_set_wake(struct tcpc_group *group, tcpc_group_wake_fn fn, void *ctx);

/**
 * Takes what other members of stack's group handed it (see
 * tcpc_config_set_owner), with now as the current time, as tcpc_input
 * would. Returns the number of packets taken (0 for a stack in no group).
 * tcpc_input and tcpc_advance take them too; while any wait,
 * tcpc_next_deadline is no later than the stack's current time.
 */
unsigned tcpc_group_poll(struct tcpc_stack *stack, tcpc_time_t now);

#endif
