/*
 * Socket-buffer policy: storage on demand, auto-sizing of the limits, and
 * connections waiting for memory (docs/buffers.md).
 *
 * Two things grow. A buffer's limit (snd_bufsize, rcv_bufsize: FreeBSD's
 * sb_hiwat) starts at net.inet.tcp.sendspace/recvspace and is raised by
 * FreeBSD's auto-sizing rules up to sendbuf_max/recvbuf_max unless the
 * application set SO_SNDBUF/SO_RCVBUF. Its storage (sbpool.h) follows the
 * bytes actually held: none while idle, growing as bytes arrive or are
 * queued, given back when drained (small rings when the exchange is over).
 *
 * Memory: all storage together stays within kern.ipc.sockbuf_budget. The
 * receive window and the send space promise only what the budget can still
 * pay for, so at the budget the window closes (zero, the right edge may
 * come back) and tcpc_send answers -EAGAIN. A segment that finds no
 * storage anyway (no spare on the packet path) is dropped, counted
 * (tcps_rcvmemdrop), and answered with the window storage allows; the
 * sender retransmits it. Either way the connection joins a waiting list,
 * and once memory comes back tcpc_advance reopens its window (a window
 * update) and reports it writable.
 */
#ifndef TCPCORE_TCP_TCP_SBUF_H
#define TCPCORE_TCP_TCP_SBUF_H

#include <stdbool.h>
#include <stdint.h>

#include "core/stack.h"
#include "tcp/tcp_var.h"

struct tcpc_stack;

/* The pool's limits from the tunables (at init and when they change). */
void tcp_sb_limits(struct tcpc_stack *stack);

/* The most bytes a receive buffer whose limit is `limit` may hold: the
 * limit, plus less than one segment of the link's largest MSS for a window
 * rounded up to the scale's unit (tcp_output's window field). */
static inline uint32_t tcp_sb_rcv_reach(const struct tcpc_stack *stack, uint32_t limit)
{
    uint64_t reach = (uint64_t)limit + stack->tcp->rcv_slack;
    return reach > UINT32_MAX ? UINT32_MAX : (uint32_t)reach;
}

/* Receive storage for `need` bytes from the head (in-order data, then
 * out-of-order data and the segment being placed). On the packet path:
 * spares only. -ENOBUFS: the segment is to be dropped; counted, the window
 * now follows the storage, and tp waits for memory. */
int tcp_sb_rcv_storage_grow(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t need);
static inline int tcp_sb_rcv_storage(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t need)
{
    /* Nearly every segment fits the ring it finds (sbpool_grow would say
     * so too, after working out the span and reach it then ignores). */
    if (tp->rcv.buf && need <= tp->rcv.cap)
        return 0;
    return tcp_sb_rcv_storage_grow(stack, tp, need);
}

/* Send storage for n more bytes (tcpc_send, which may allocate): the bytes
 * of n that fit, fewer (or 0) at the budget, counted, tp then waiting. */
uint32_t tcp_sb_snd_storage(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t n);

/*
 * Buffers left empty (after an ACK or a read) give their rings back, but
 * for a connection whose exchange goes on (tcp_sb_busy), or whose segment
 * being processed brings data after the ACK that drained the send buffer
 * (`more`): a small ring then stays (at most TCP_SB_KEEP_MAX bytes, while
 * the rings held leave half the budget), as the next request or response
 * would take it again at once. tcp_sb_quiet gives kept rings back when the
 * exchange is over.
 */
#define TCP_SB_KEEP_MAX 4096

/* Whether tp's exchange goes on: bytes held either way, or an ACK owed
 * (delayed) for data taken, which an answer usually carries. */
static inline bool tcp_sb_busy(const struct tcpcb *tp)
{
    return tp->snd.len || tp->rcv.len || tp->rcv_reass.nranges || (tp->t_flags & TF_DELACK);
}

void tcp_sb_drained_slow(struct tcpc_stack *stack, struct tcpcb *tp, bool more);
static inline void tcp_sb_drained(struct tcpc_stack *stack, struct tcpcb *tp, bool more)
{
    /* Mid-exchange with small rings and memory to spare, the usual drain
     * of request/response traffic, nothing goes back: known inline. */
    const struct sbpool *p = &stack->tcp->sbpool;
    if ((more || tcp_sb_busy(tp)) && tp->snd.cap <= TCP_SB_KEEP_MAX &&
        tp->rcv.cap <= TCP_SB_KEEP_MAX && p->held <= p->budget / 2)
        return;
    tcp_sb_drained_slow(stack, tp, more);
}

/* After the ACK owed went out: a connection no longer busy gives back the
 * rings it kept, so an idle connection holds none. */
void tcp_sb_quiet_slow(struct tcpc_stack *stack, struct tcpcb *tp);
static inline void tcp_sb_quiet(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if ((tp->snd.buf || tp->rcv.buf) && !tcp_sb_busy(tp))
        tcp_sb_quiet_slow(stack, tp);
}

/* Gives both of tp's rings back (tp is going). */
void tcp_sb_release(struct tcpc_stack *stack, struct tcpcb *tp);

/* Receive auto-sizing, for `tlen` in-order bytes just taken (FreeBSD's
 * tcp_autorcvbuf): every half round trip, if more than 3/8 of the limit
 * arrived in it, the limit grows by net.inet.tcp.recvbuf_inc (0: by half). */
/* The rest of tcp_sb_rcv_autosize: a half round trip started or over. */
void tcp_sb_rcv_autosize_step(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t tlen);
static inline void tcp_sb_rcv_autosize(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t tlen)
{
    /* Inline: asked on every in-order segment, and nearly always only
     * counting within the half round trip under way. */
    if (!stack->cfg.tun.recvbuf_auto || (tp->t_flags & TF_RCVBUF_SET))
        return;
    uint32_t now = (uint32_t)(stack->now / TCPC_USEC_PER_MSEC) | 1; /* 0 means "none" */
    if (tp->t_rfbuf_ts && tp->t_srtt &&
        (uint32_t)(now - tp->t_rfbuf_ts) <= (uint64_t)tp->t_srtt / TCPC_USEC_PER_MSEC / 2) {
        tp->t_rfbuf_cnt += tlen;
        return;
    }
    tcp_sb_rcv_autosize_step(stack, tp, tlen);
}

/* Send auto-sizing (FreeBSD's tcp_sndbuf_autoscale), before output: when
 * the buffer is 7/8 full, the peer's window covers 4/5 of it and the
 * congestion window could take what is unsent, the limit grows by
 * net.inet.tcp.sendbuf_inc. */
void tcp_sb_snd_autosize(struct tcpc_stack *stack, struct tcpcb *tp);

/* Free room in the receive buffer: the limit less the in-order bytes held,
 * within what the storage may hold (tcp_sb_rcv_mem). */
static inline uint32_t tcp_rcv_room(const struct tcpc_stack *stack, const struct tcpcb *tp);
/* tcp_rcv_room as a window we may advertise (what the window field and
 * scale can say). */
uint32_t tcp_rcv_space(const struct tcpc_stack *stack, const struct tcpcb *tp);
/* Bytes the storage could take past the in-order data: up to the reach
 * while the budget allows, only the ring's room after a refusal. */
static inline uint32_t tcp_sb_rcv_mem(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    uint32_t storage;
    if (tp->t_flags & TF_RCVSHORT)
        storage = tp->rcv.cap;
    else
        storage =
            sbpool_room(&stack->tcp->sbpool, &tp->rcv, tcp_sb_rcv_reach(stack, tp->rcv_bufsize));
    return storage > tp->rcv.len ? storage - tp->rcv.len : 0;
}
/* Whether memory, not the limit, bounds the receive window now: the
 * window may then shrink (RFC 9293 3.8.6.2.2 allows it when buffers are
 * short). */
bool tcp_sb_rcv_memcut(const struct tcpc_stack *stack, const struct tcpcb *tp);
/*
 * The three above given mem, what tcp_sb_rcv_mem says now: for a caller
 * that asks more than one of them at a time (the window field), so the
 * storage is looked at once.
 */
static inline uint32_t tcp_rcv_limit_room(const struct tcpcb *tp)
{
    return tp->rcv_bufsize > tp->rcv.len ? tp->rcv_bufsize - tp->rcv.len : 0;
}
static inline uint32_t tcp_rcv_room_of(const struct tcpcb *tp, uint32_t mem)
{
    /* The limit (SO_RCVBUF, FreeBSD's sb_hiwat) less the in-order bytes
     * held: out-of-order data does not close the window, as in FreeBSD,
     * whose reassembly queue lies outside the socket buffer. Never more
     * than the storage may hold. */
    uint32_t space = tcp_rcv_limit_room(tp);
    return space < mem ? space : mem;
}
static inline uint32_t tcp_rcv_space_of(const struct tcpcb *tp, uint32_t mem)
{
    uint32_t space = tcp_rcv_room_of(tp, mem);
    uint32_t max = (uint32_t)TCP_MAXWIN << tp->rcv_scale;
    return space < max ? space : max;
}
static inline bool tcp_sb_rcv_memcut_of(const struct tcpcb *tp, uint32_t mem)
{
    return mem < tcp_rcv_limit_room(tp);
}
static inline uint32_t tcp_rcv_room(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return tcp_rcv_room_of(tp, tcp_sb_rcv_mem(stack, tp));
}
/* Bytes the application may still queue: the send limit less what is
 * held, within what the budget lets the storage hold. */
static inline uint32_t tcp_snd_space(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    uint32_t space = tp->snd_bufsize > tp->snd.len ? tp->snd_bufsize - tp->snd.len : 0;
    uint32_t storage = sbpool_room(&stack->tcp->sbpool, &tp->snd, tp->snd_bufsize);
    uint32_t room = storage > tp->snd.len ? storage - tp->snd.len : 0;
    return space < room ? space : room;
}

/* Whether tcp_snd_space is above 0. Readiness asks after every call and
 * segment; while the ring held has room the answer needs no budget
 * arithmetic, as the storage the budget allows is never below that ring
 * (sbpool_room). */
static inline bool tcp_snd_has_space(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    if (tp->snd.len < tp->snd.cap && tp->snd.len < tp->snd_bufsize)
        return true;
    return tcp_snd_space(stack, tp) > 0;
}

/* One bounded refill of the buffer pool (off the packet path), then the
 * connections waiting for memory woken if memory came back; and whether
 * either is due (tcpc_next_deadline is then "now"). */
void tcp_sb_refill(struct tcpc_stack *stack);
bool tcp_sb_pending(const struct tcpc_stack *stack);

/* Whether tcp_sb_refill at now has anything to do: a refill whose retry
 * time has come, or waiting connections to wake. Inline, for
 * tcpc_advance to skip the call on the turns of the loop with neither. */
static inline bool tcp_sb_refill_due(const struct tcp_state *ts, tcpc_time_t now)
{
    return (now >= ts->sb_retry_at && sbpool_refill_due(&ts->sbpool, now)) ||
           (ts->sbwait_head && ts->sbpool.freed);
}

/* Takes tp off the waiting list (before it is freed). */
void tcp_sb_unwait(struct tcpc_stack *stack, struct tcpcb *tp);

#endif
