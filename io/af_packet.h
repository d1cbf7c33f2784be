/*
 * The AF_PACKET backend: one stack on a Linux network interface (one end of
 * a veth pair, a physical port), Ethernet frames in and out.
 *
 * Receive uses a TPACKET_V2 ring shared with the kernel: frames land in
 * slots of the mmap'ed ring, each with its own status word, and one wakeup
 * hands every frame that has arrived to the stack without a system call
 * per frame (a slot is ours as soon as it is written, so a lone segment
 * waits for no block timer). Transmit uses a mmap'ed TX ring:
 * the output callback copies a frame into the next free slot and marks it
 * for sending; one send() per loop turn (or when the ring fills) kicks the
 * kernel for the whole batch. When every slot is still owned by the kernel
 * the callback reports -ENOBUFS, so the stack counts the drop and its
 * retransmission recovers, instead of the frame vanishing unnoticed.
 *
 * The stack must be configured for Ethernet (it takes and emits whole
 * frames) with the interface's MAC address (tcpc_afp_hwaddr). The kernel's
 * own stack keeps seeing the interface's frames: leave the interface
 * without kernel addresses so that only tcpcore answers. Uses only the
 * public API. Not thread-safe; one backend per thread.
 */
#ifndef TCPCORE_IO_AF_PACKET_H
#define TCPCORE_IO_AF_PACKET_H

#include <stddef.h>
#include <stdint.h>

#include "fanout.h"
#include "tcpcore/stack.h"

/* Called for each frame read (dir 'i') or queued for sending (dir 'o'). */
typedef void (*tcpc_afp_tap_fn)(void *ctx, char dir, tcpc_time_t now, const uint8_t *frame,
                                size_t len);

struct tcpc_afp_ring {
    uint8_t *map; /* the ring's mmap'ed memory */
    size_t map_len;
    uint32_t block_size; /* bytes per frame slot */
    uint32_t nslots;     /* frame slots */
    uint32_t next;       /* the next slot to look at */
};

struct tcpc_afp {
    int fd;
    int ifindex;
    uint32_t mtu; /* the interface's MTU: the largest IP packet in a frame */
    struct tcpc_stack *stack;
    struct tcpc_afp_ring rx, tx;
    uint32_t tx_pending; /* slots marked for sending since the last kick */
    uint64_t rx_packets, rx_bytes;
    uint64_t tx_packets, tx_bytes;
    uint64_t tx_ring_full;  /* frames refused because every slot was busy */
    uint64_t tx_too_big;    /* frames longer than a slot */
    uint64_t tx_bad_format; /* frames the kernel refused as malformed */
    uint64_t tx_kick_errors;
    uint64_t rx_dropped; /* frames the kernel dropped because the RX ring was full */
    int tx_errno;        /* the last kick error, positive errno; 0: none */
    tcpc_afp_tap_fn tap;
    void *tap_ctx;
};

/* Ring sizes; zeroes take the defaults. */
struct tcpc_afp_opts {
    uint32_t rx_block_size; /* default 256 KiB; a page multiple, at least one largest frame */
    uint32_t rx_blocks;     /* default 64: 8192 frames of up to 2 KiB at MTU 1500 */
    uint32_t tx_slots;      /* default 512 */
    int sndbuf; /* SO_SNDBUF: bytes of sent frames the qdisc may hold; 0 keeps the default */
};

/*
 * Opens an AF_PACKET socket bound to interface `ifname`, with the RX and TX
 * rings mapped, non-blocking and close-on-exec. Frames this socket sends
 * are not looped back into its own RX ring. Returns 0, or a negative errno
 * with a one-line reason on stderr (no such interface, not permitted,
 * kernel without TPACKET_V2).
 */
int tcpc_afp_open(struct tcpc_afp *afp, const char *ifname, const struct tcpc_afp_opts *opts);

/* How a group of sockets on one interface shares the received frames. */
enum tcpc_afp_fanout_mode {
    /* The kernel's flow hash (PACKET_FANOUT_HASH): both directions of a
     * flow on one socket, but no stack can tell where a reply lands. */
    TCPC_AFP_FANOUT_HASH,
    /* The ownership rule of fanout.h as classic BPF (PACKET_FANOUT_CBPF):
     * replies to an active open land on the socket of the stack that took
     * the port under tcpc_afp_fanout_owns. */
    TCPC_AFP_FANOUT_OWNER,
};

/*
 * Opens n sockets on interface `ifname` as tcpc_afp_open does (each with
 * its own rings, into afps[0..n)) and joins them, in that order, in a new
 * fanout group of the given mode: each received frame goes to one of them,
 * afps[i] being the rule's queue i. TCPC_AFP_FANOUT_OWNER takes the rule
 * (rule->nqueues must be n); TCPC_AFP_FANOUT_HASH ignores it (may be NULL).
 * The group has its own identifier (PACKET_FANOUT_FLAG_UNIQUEID), so groups
 * of other programs are not joined by mistake, and does not take the
 * frames leaving the interface (PACKET_FANOUT_FLAG_IGNORE_OUTGOING, as a
 * lone socket's PACKET_IGNORE_OUTGOING, which a group member loses; a
 * kernel without the flag may hand other senders' frames to the group).
 * All or nothing: 0, or a negative errno with every socket closed and a
 * reason on stderr. Close each with tcpc_afp_close.
 */
int tcpc_afp_open_group(struct tcpc_afp *afps, unsigned n, const char *ifname,
                        const struct tcpc_afp_opts *opts, enum tcpc_afp_fanout_mode mode,
                        const struct tcpc_afp_fanout_rule *rule);

/* The interface's MAC address (6 bytes), for the stack's configuration.
 * 0 or a negative errno. */
int tcpc_afp_hwaddr(const char *ifname, uint8_t mac[6]);

/* Adds the frames the kernel dropped for a full RX ring since the last call
 * (PACKET_STATISTICS, which the kernel resets on reading) to rx_dropped and
 * returns the total. A system call: for reports, not the packet path. */
uint64_t tcpc_afp_sync_drops(struct tcpc_afp *afp);

/* Puts the backend's output callback into cfg: call before tcpc_stack_new. */
void tcpc_afp_configure(struct tcpc_afp *afp, struct tcpc_config *cfg);

/* Tells the backend which stack receives its frames. */
void tcpc_afp_attach(struct tcpc_afp *afp, struct tcpc_stack *stack);

/* The output callback (ctx is the struct tcpc_afp): copies the frame into
 * the TX ring. 0, or -ENOBUFS (ring full) / -EMSGSIZE (frame too long). */
int tcpc_afp_output(void *ctx, const uint8_t *frame, size_t len);

/* Hands every frame waiting in the RX ring to the stack (whole blocks, up
 * to a batch limit). Returns the number of frames. Never blocks. */
int tcpc_afp_receive(struct tcpc_afp *afp);

/* Asks the kernel to send every frame queued in the TX ring. 0 or a
 * negative errno (counted in tx_kick_errors; the frames stay queued). */
int tcpc_afp_flush(struct tcpc_afp *afp);

/*
 * One turn of a simple loop: waits for frames, the stack's next deadline
 * or max_wait microseconds, receives, runs due timers and flushes the TX
 * ring. Returns the frames received, or a negative errno from poll.
 */
int tcpc_afp_run_once(struct tcpc_afp *afp, tcpc_time_t max_wait);

/* Unmaps the rings and closes the socket. The stack is the caller's. */
void tcpc_afp_close(struct tcpc_afp *afp);

#endif
