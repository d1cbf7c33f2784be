/*
 * The TUN backend: one stack on a Linux TUN device (IFF_TUN | IFF_NO_PI).
 *
 * The device carries bare IPv4/IPv6 packets, exactly what the stack takes
 * and emits, so the backend is a thin pump: packets read from the device go
 * to tcpc_input, packets the stack emits are written to the device, and the
 * wait between them is bounded by the stack's next timer deadline. Time is
 * CLOCK_MONOTONIC in microseconds.
 *
 * The kernel side of the device (its address, routes, link state) is set up
 * by whoever runs the program (ip tuntap / ip addr); this backend only
 * attaches to the device by name. A device created with multiple queues
 * (ip tuntap add ... multi_queue) is attached with TCPC_TUN_MULTI_QUEUE, one
 * descriptor per queue, so that one stack per queue can run on its own core.
 * Uses only the public API. Not thread-safe; one tun per thread.
 */
#ifndef TCPCORE_IO_TUN_H
#define TCPCORE_IO_TUN_H

#include <stddef.h>
#include <stdint.h>

#include "tcpcore/stack.h"

/* Largest packet a TUN device hands over (IPv4/IPv6 without jumbograms). */
#define TCPC_TUN_MAX_PACKET 65535

/* Flags of tcpc_tun_open_flags. */
#define TCPC_TUN_MULTI_QUEUE 0x1 /* IFF_MULTI_QUEUE: attach as one queue */
#define TCPC_TUN_EXISTING    0x2 /* refuse (-ENODEV) to create a missing device */

/* Called for each packet read (dir 'i') or written (dir 'o'), for traces. */
typedef void (*tcpc_tun_tap_fn)(void *ctx, char dir, tcpc_time_t now, const uint8_t *pkt,
                                size_t len);

struct tcpc_tun {
    int fd;
    struct tcpc_stack *stack;
    uint64_t rx_packets, rx_bytes;
    uint64_t tx_packets, tx_bytes;
    uint64_t tx_dropped; /* writes that failed (device queue full, ...) */
    int tx_errno;        /* the last write error, positive errno; 0: none */
    tcpc_tun_tap_fn tap;
    void *tap_ctx;
    /* Fault injection for tests: each packet, read or written, is dropped
     * with this probability in parts per million (0: none), decided by a
     * xorshift generator seeded from loss_seed. */
    uint32_t loss_ppm;
    uint64_t loss_seed;
    uint64_t rx_lost, tx_lost;
    uint8_t rxbuf[TCPC_TUN_MAX_PACKET]; /* one received packet at a time */
};

/*
 * Opens /dev/net/tun and attaches to (or creates) the TUN device `name`
 * (IFF_TUN | IFF_NO_PI), non-blocking and close-on-exec. Returns 0 with the
 * descriptor in *fd, or a negative errno; on error a one-line reason is
 * written to stderr (no such device driver, not permitted, name too long,
 * device busy or of the wrong type).
 */
int tcpc_tun_open(const char *name, int *fd);

/*
 * As tcpc_tun_open, with TCPC_TUN_* flags, and the reason for a failure
 * written into why[0..whylen) (one sentence, no trailing newline) instead of
 * stderr. Errors: -ENODEV (TCPC_TUN_EXISTING and no such interface, no TUN
 * driver, or an interface of another kind by that name), -EPERM / -EACCES
 * (not permitted), -EBUSY (another process holds a single-queue device),
 * -EINVAL (bad name, or the queue flag disagrees with the device).
 */
int tcpc_tun_open_flags(const char *name, unsigned flags, int *fd, char *why, size_t whylen);

/* The most queues a TUN device takes (the kernel's MAX_TAP_QUEUES). */
#define TCPC_TUN_MAX_QUEUES 256

/*
 * Attaches n queues of the multiqueue TUN device `name` (created when
 * missing, unless flags has TCPC_TUN_EXISTING; TCPC_TUN_MULTI_QUEUE is
 * implied), one descriptor each, into fds[0..n): queue i is fds[i], for
 * one stack (struct tcpc_tun, tcpc_tun_init_fd) per queue. All or nothing:
 * 0, or a negative errno as tcpc_tun_open_flags (-EINVAL also for n of 0
 * or above TCPC_TUN_MAX_QUEUES) with every descriptor closed.
 *
 * The kernel hands each packet it sends into the device to one queue:
 * with no steering program set, to the queue its flow table holds for the
 * packet's flow, else to the symmetric flow hash scaled to the queues. The
 * table learns a flow's queue from the packets written to the device, and
 * forgets a flow idle for about 3 s. So each stack's own packets bring
 * their replies back to its queue (an active open too), while a flow the
 * kernel starts, or an idle one, goes by the hash; the queue of a
 * connection can therefore move after an idle spell, and the stacks must be
 * ready to be handed another one's packets (or to share state).
 */
int tcpc_tun_open_queues(const char *name, unsigned flags, int *fds, unsigned n, char *why,
                         size_t whylen);

/*
 * Waits until the kernel reports the device `name` (in the caller's network
 * namespace) up and running, for at most timeout microseconds. Attaching
 * raises the carrier, but the kernel starts transmitting on the device only
 * once it has processed that event, a moment later; packets it sends before
 * then (the answer to a first SYN) are dropped. Returns 0, or -ETIMEDOUT
 * (with a reason on stderr: the link is administratively down, say) or
 * another negative errno.
 */
int tcpc_tun_wait_running(const char *name, tcpc_time_t timeout);

/* The monotonic clock in microseconds, the time base the stack runs on. */
tcpc_time_t tcpc_tun_now(void);

/* Opens `name` into tun (zeroing it first). 0 or a negative errno. */
int tcpc_tun_init(struct tcpc_tun *tun, const char *name);

/* Zeroes tun and adopts an already open TUN descriptor (tcpc_tun_open_flags). */
void tcpc_tun_init_fd(struct tcpc_tun *tun, int fd);

/* Puts the tun's output callback into cfg: call before tcpc_stack_new. */
void tcpc_tun_configure(struct tcpc_tun *tun, struct tcpc_config *cfg);

/* Tells the tun which stack receives its packets. */
void tcpc_tun_attach(struct tcpc_tun *tun, struct tcpc_stack *stack);

/* The output callback itself (ctx is the struct tcpc_tun): writes pkt to the
 * device. A failed write (device queue full, ...) is counted in tx_dropped
 * and reported to the stack as -ENOBUFS; injected loss is silent. */
int tcpc_tun_output(void *ctx, const uint8_t *pkt, size_t len);

/*
 * Hands every packet waiting on the (non-blocking) device to the stack, up
 * to a batch limit, without waiting, then runs the timers that are due: for
 * an embedder with its own event loop, when the descriptor is readable.
 * Returns the number of packets read, or a negative errno when read fails
 * for a reason other than "nothing more" or an interruption.
 */
int tcpc_tun_drain(struct tcpc_tun *tun);

/*
 * One turn of the loop: waits until a packet arrives, the stack's next
 * deadline passes, or max_wait microseconds elapse (whichever comes first),
 * then hands every packet waiting on the device to the stack (up to a batch
 * limit) and runs the timers that are due. Returns the number of packets
 * read (0 on a timeout), or a negative errno when poll or read fail for a
 * reason other than an interruption.
 */
int tcpc_tun_run_once(struct tcpc_tun *tun, tcpc_time_t max_wait);

/* Closes the device descriptor. The stack is the caller's. */
void tcpc_tun_close(struct tcpc_tun *tun);

#endif
