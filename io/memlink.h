/*
 * The in-memory link: two stacks wired back to back inside one process.
 *
 * Each side's output callback queues a copy of the packet for the other
 * side; tcpc_memlink_run delivers queued packets and drives both stacks'
 * timers on a virtual clock until the link is quiet. Optional faults (fixed
 * one-way delay, seeded random loss) make it a small network simulator whose
 * runs replay exactly from their seed. A tap sees every packet delivered,
 * for demos and traces.
 *
 * Uses only the public API. Not thread-safe; one link per thread.
 */
#ifndef TCPCORE_IO_MEMLINK_H
#define TCPCORE_IO_MEMLINK_H

#include <stddef.h>
#include <stdint.h>

#include "tcpcore/stack.h"

struct tcpc_memlink;

/* Called for each packet as it is delivered: from_side (0 or 1) sent it. */
typedef void (*tcpc_memlink_tap_fn)(void *ctx, int from_side, tcpc_time_t now, const uint8_t *pkt,
                                    size_t len);

/* A link with no faults; seed drives the loss generator. NULL on ENOMEM.
 * The caller frees it with tcpc_memlink_del (after or before the stacks). */
struct tcpc_memlink *tcpc_memlink_new(uint64_t seed);
void tcpc_memlink_del(struct tcpc_memlink *link);

/* Puts side's output into cfg (callback and context): call on each side's
 * configuration before tcpc_stack_new. */
void tcpc_memlink_configure(struct tcpc_memlink *link, int side, struct tcpc_config *cfg);

/* Tells the link which stack sits on side (0 or 1). */
void tcpc_memlink_attach(struct tcpc_memlink *link, int side, struct tcpc_stack *stack);

void tcpc_memlink_set_tap(struct tcpc_memlink *link, tcpc_memlink_tap_fn fn, void *ctx);

/* One-way delay in microseconds and loss in parts per million. */
void tcpc_memlink_set_faults(struct tcpc_memlink *link, tcpc_time_t delay, uint32_t loss_ppm);

/* Packets queued and not yet delivered. */
size_t tcpc_memlink_pending(const struct tcpc_memlink *link);

/*
 * Runs the link from time now: delivers due packets, advances both stacks
 * to their next deadlines, and so on, until nothing is queued and no timer
 * is due before `limit`. Returns the virtual time reached. The caller may
 * call socket functions between runs.
 */
tcpc_time_t tcpc_memlink_run(struct tcpc_memlink *link, tcpc_time_t now, tcpc_time_t limit);

#endif
