/*
 * The in-memory link: two stacks wired back to back inside one process, and
 * a small seeded network simulator (docs/simulator.md).
 *
 * Each side's output callback hands the packet to the link, which copies it
 * and schedules its delivery to the other side; tcpc_memlink_run delivers
 * due packets and drives both stacks' timers on a virtual clock until the
 * link is quiet. A tap sees every packet delivered, for demos and traces.
 *
 * Each direction (named by the side that sends) has its own faults, set as
 * one struct tcpc_memlink_faults, applied in this order to every packet:
 *
 *   sender -> [rate limit: drop-tail queue, then serialisation]
 *          -> [loss: Bernoulli, then Gilbert-Elliott]
 *          -> [duplication] -> each copy: [corruption] [reordering]
 *          -> [one-way delay] -> receiver
 *
 * A packet lost on the wire has still taken its turn at the bottleneck, as
 * on a lossy link behind a router. Every random choice comes from the
 * link's seed, through a separate stream per direction and per fault, so a
 * run replays exactly from its seed, and turning one fault on does not
 * move the choices another makes on the same packets.
 *
 * Uses only the public API; no global state. Not thread-safe: one link, and
 * the two stacks on it, belong to one thread.
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

/*
 * The faults of one direction. Probabilities are in parts per million
 * (0..1000000), times in microseconds. Fill with tcpc_memlink_faults_init
 * (no faults, `size` set), then change the fields wanted: a later version
 * of this struct adds fields at the end, and `size` tells the link which
 * version the caller was built against.
 */
struct tcpc_memlink_faults {
    uint32_t size;     /* sizeof(struct tcpc_memlink_faults), set by _init */
    tcpc_time_t delay; /* one-way propagation delay, after serialisation */
    /* Rate limit: the bottleneck sends rate_Bps bytes per second (whole
     * packets as handed over, IP header included); 0 means no limit. A
     * packet waits behind those not yet fully sent, and is dropped (tail
     * drop) when that would make the backlog exceed queue_bytes bytes or
     * queue_pkts packets, the one being sent included; 0 means no limit of
     * that kind. Queue limits need a rate. */
    uint64_t rate_Bps;
    uint32_t queue_bytes;
    uint32_t queue_pkts;
    /* Bernoulli loss: each packet lost independently. */
    uint32_t loss_ppm;
    /* Gilbert-Elliott loss: a two-state chain stepped once per packet (from
     * good to bad with ge_p_ppm, from bad to good with ge_r_ppm) that loses
     * a packet with ge_loss_good_ppm or ge_loss_bad_ppm in its state. It
     * starts good; with ge_loss_good_ppm 0 and ge_loss_bad_ppm 1000000 it
     * is the simple Gilbert model: bursts of mean length 1/r, mean loss
     * p / (p + r). Bursts are counted in packets, not time: a flow down to
     * one packet per retransmission timeout stays in the bad state for as
     * many timeouts. */
    uint32_t ge_p_ppm, ge_r_ppm;
    uint32_t ge_loss_good_ppm, ge_loss_bad_ppm;
    /* Reordering: a share of packets is held back reorder_delay more than
     * the others, so that those sent after it overtake it. */
    uint32_t reorder_ppm;
    tcpc_time_t reorder_delay;
    /* Duplication: a share of packets arrives twice. */
    uint32_t dup_ppm;
    /* Corruption: a share of copies has one byte past the IP header
     * changed, which the receiver's TCP (or ICMP) checksum must catch. */
    uint32_t corrupt_ppm;
};

/* The longest delay (and reordering delay) accepted: an hour. */
#define TCPC_MEMLINK_DELAY_MAX (3600ULL * TCPC_USEC_PER_SEC)

/* The fastest rate accepted: 10^12 bytes (8 Tbit) per second. */
#define TCPC_MEMLINK_RATE_MAX 1000000000000ULL

/* What happened in one direction since the link was made. */
struct tcpc_memlink_counters {
    uint64_t sent;        /* packets handed to the link */
    uint64_t delivered;   /* copies handed to the receiver (duplicates included) */
    uint64_t queue_drops; /* refused by the drop-tail queue */
    uint64_t lost;        /* lost on the wire (Bernoulli or Gilbert-Elliott) */
    uint64_t reordered;   /* copies held back by the reordering delay */
    uint64_t duplicated;  /* extra copies made */
    uint64_t corrupted;   /* copies with a byte changed */
};

/* A link with no faults; seed drives every random choice. NULL on ENOMEM.
 * The caller frees it with tcpc_memlink_del (after or before the stacks). */
struct tcpc_memlink *tcpc_memlink_new(uint64_t seed);
void tcpc_memlink_del(struct tcpc_memlink *link);

/* Puts side's output into cfg (callback and context): call on each side's
 * configuration before tcpc_stack_new. */
void tcpc_memlink_configure(struct tcpc_memlink *link, int side, struct tcpc_config *cfg);

/* Tells the link which stack sits on side (0 or 1). */
void tcpc_memlink_attach(struct tcpc_memlink *link, int side, struct tcpc_stack *stack);

void tcpc_memlink_set_tap(struct tcpc_memlink *link, tcpc_memlink_tap_fn fn, void *ctx);

/* A tap that prints each packet on one line, tcpdump-like, with its time
 * and "A>" or "B>" for the side that sent it, to ctx (a FILE *; NULL:
 * stdout). */
void tcpc_memlink_tap_print(void *ctx, int from_side, tcpc_time_t now, const uint8_t *pkt,
                            size_t len);

/* No faults, and f->size set. */
void tcpc_memlink_faults_init(struct tcpc_memlink_faults *f);

/*
 * 0 if f is acceptable, else -EINVAL with *why (when why is non-NULL)
 * pointing to a static sentence saying what is accepted: f->size must be
 * sizeof(struct tcpc_memlink_faults), probabilities at most 1000000,
 * delays at most TCPC_MEMLINK_DELAY_MAX, the rate at most
 * TCPC_MEMLINK_RATE_MAX, reordering needs a reorder_delay,
 * and queue limits a rate.
 */
int tcpc_memlink_faults_check(const struct tcpc_memlink_faults *f, const char **why);

/*
 * Sets the faults of the direction from_side (0 or 1) sends in, from the
 * next packet on (packets already in flight keep their schedule). Returns 0,
 * or -EINVAL (side other than 0 or 1, or what tcpc_memlink_faults_check
 * refuses; *why says why) with the link unchanged.
 */
int tcpc_memlink_set_path(struct tcpc_memlink *link, int from_side,
                          const struct tcpc_memlink_faults *f, const char **why);

/* The faults of the direction from_side sends in, into *f. */
void tcpc_memlink_get_path(const struct tcpc_memlink *link, int from_side,
                           struct tcpc_memlink_faults *f);

/* Shorthand for both directions: one-way delay in microseconds and
 * Bernoulli loss in parts per million (more than 1000000 counts as all),
 * other faults unchanged. */
void tcpc_memlink_set_faults(struct tcpc_memlink *link, tcpc_time_t delay, uint32_t loss_ppm);

/* The counters of the direction from_side sends in. */
const struct tcpc_memlink_counters *tcpc_memlink_counters(const struct tcpc_memlink *link,
                                                          int from_side);

/* Packets queued and not yet delivered. */
size_t tcpc_memlink_pending(const struct tcpc_memlink *link);

/* The link's virtual time: where the last tcpc_memlink_run stopped. */
tcpc_time_t tcpc_memlink_now(const struct tcpc_memlink *link);

/*
 * Runs the link from time now: delivers due packets, advances both stacks
 * to their next deadlines, and so on, until nothing is queued and no timer
 * is due before `limit`. Returns the virtual time reached. The caller may
 * call socket functions between runs, or from the stacks' event callbacks.
 */
tcpc_time_t tcpc_memlink_run(struct tcpc_memlink *link, tcpc_time_t now, tcpc_time_t limit);

#endif
