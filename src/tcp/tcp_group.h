/*
 * The listeners of a connection group (docs/groups.md "Listeners"): a
 * listen on one member is published to the group, and every other member
 * opens a copy of it at its next entry, so that a SYN reaching any member
 * is answered. Closing the listener on the member that opened it removes
 * the group's record, and every copy closes at its member's next entry.
 */
#ifndef TCPCORE_TCP_TCP_GROUP_H
#define TCPCORE_TCP_TCP_GROUP_H

#include "core/stack.h"
#include "tcp/tcp_var.h"

/* Before tcp_listen of tp: whether the listen is to be published, with a
 * slot reserved for it in *slot. 0, or -ENOBUFS (the group holds
 * TCPC_GROUP_LISTENERS listeners). */
int tcp_group_listen_begin(struct tcpc_stack *stack, const struct tcpcb *tp, int *slot);
/* After it: publishes tp (descriptor sd) when err is 0, else gives the
 * slot back. slot -1: nothing was reserved. */
void tcp_group_listen_end(struct tcpc_stack *stack, const struct tcpcb *tp, int sd, int slot,
                          int err);
/* Descriptor sd of a listener is being closed. */
void tcp_group_listener_closed(struct tcpc_stack *stack, int sd);
/* Opens and closes this member's copies after the group's listeners
 * changed (ip_protosw.group_changed). */
void tcp_group_sync(struct tcpc_stack *stack);

#endif
