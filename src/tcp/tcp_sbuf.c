/*
 * Socket-buffer policy; see tcp_sbuf.h.
 */
#include "tcp/tcp_sbuf.h"

#include <errno.h>

#include "core/stack.h"
#include "tcp/tcp_subr.h"

/* The budget of one refill: twice the smallest class's base and one for
 * each other class, so a refill readies the pool in one call and no call
 * does unbounded work. */
static uint32_t tcp_sb_refill_budget(const struct tcpc_stack *stack)
{
    return 2 * (uint32_t)stack->cfg.tun.sockbuf_reserve + SBPOOL_NCLS;
}

/* How long a refill that met an allocation failure waits before the next
 * try: retrying at once would spin the embedder's loop while memory is
 * short, and spares are only a cushion (without them a segment that needs
 * storage is dropped and counted, tcps_rcvmemdrop). */
#define TCP_SB_RETRY_USEC (100 * TCPC_USEC_PER_MSEC)

/* The largest limit auto-sizing may reach for `max` (sendbuf_max or
 * recvbuf_max), never past kern.ipc.maxsockbuf. */
static uint32_t tcp_sb_auto_max(const struct tcpc_stack *stack, int64_t max)
{
    int64_t cap = stack->cfg.tun.sockbuf_max;
    return (uint32_t)(max < cap ? max : cap);
}

/* The largest limit a buffer reaches without SO_SNDBUF/SO_RCVBUF: the
 * default, or what auto-sizing may raise it to. */
static uint32_t tcp_sb_default_reach(const struct tcpc_stack *stack, int64_t space, int64_t on,
                                     int64_t max)
{
    uint32_t top = on ? tcp_sb_auto_max(stack, max) : 0;
    return (uint32_t)space > top ? (uint32_t)space : top;
}

void tcp_sb_limits(struct tcpc_stack *stack)
{
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    /* Worked out once: every window computation asks for it. */
    uint32_t mss = tcp_mss_for_mtu(false, stack->cfg.mtu); /* IPv4's is the larger */
    stack->tcp->rcv_slack = mss ? mss - 1 : 0;
    uint32_t snd = tcp_sb_default_reach(stack, tun->sendspace, tun->sendbuf_auto, tun->sendbuf_max);
    uint32_t rcv = tcp_sb_rcv_reach(
        stack, tcp_sb_default_reach(stack, tun->recvspace, tun->recvbuf_auto, tun->recvbuf_max));
    /* One spare of each class those buffers grow through. */
    uint32_t basecls = sbpool_class_for(snd > rcv ? snd : rcv);
    sbpool_set_limits(&stack->tcp->sbpool, (uint64_t)tun->sockbuf_budget,
                      (uint32_t)tun->sockbuf_reserve, basecls);
    tcp_due_forget(stack->tcp); /* the spares wanted changed */
}

/* After the pool or the waiting list changed: a refill or a wake that became
 * due lowers the layer's cached deadline (tcp_sb_pending's rule). */
static void tcp_sb_note(struct tcpc_stack *stack)
{
    struct tcp_state *ts = stack->tcp;
    if (tcp_sb_pending(stack))
        tcp_due_lower(ts, ts->sb_retry_at > stack->now ? ts->sb_retry_at : stack->now);
}

static uint32_t tcp_sb_rcv_extent(const struct tcpcb *tp)
{
    const struct sb_reass *ra = &tp->rcv_reass;
    return ra->nranges ? ra->ranges[ra->nranges - 1].end : 0;
}

static void tcp_sb_wait(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t why)
{
    struct tcp_state *ts = stack->tcp;
    tp->t_flags |= why;
    ts->sbpool.freed = false; /* what came back before did not suffice */
    if (tp->t_flags & TF_SBWAIT)
        return;
    tp->t_flags |= TF_SBWAIT;
    tp->t_sbwait_next = ts->sbwait_head;
    ts->sbwait_head = tcb_ref_of(ts, tp);
    tcp_due_forget(ts); /* freed went false: a wake due may be gone */
}

void tcp_sb_unwait(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tcp_state *ts = stack->tcp;
    if (!(tp->t_flags & TF_SBWAIT))
        return;
    tcb_ref me = tcb_ref_of(ts, tp);
    for (tcb_ref *link = &ts->sbwait_head; *link;) {
        struct tcpcb *cur = tcb_deref(ts, *link);
        if (*link == me) {
            *link = cur->t_sbwait_next;
            break;
        }
        link = &cur->t_sbwait_next;
    }
    tp->t_sbwait_next = 0;
    tp->t_flags &= ~(TF_SBWAIT | TF_RCVSHORT | TF_SNDSHORT);
}

int tcp_sb_rcv_storage_grow(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t need)
{
    uint32_t span = tp->rcv.len + tcp_sb_rcv_extent(tp);
    uint32_t reach = tcp_sb_rcv_reach(stack, tp->rcv_bufsize);
    int err = sbpool_grow(&stack->tcp->sbpool, &tp->rcv, need, reach, span, false);
    tcp_sb_note(stack);
    if (err == 0)
        return 0;
    stack_drop(stack, TCPC_STAT_tcps_rcvmemdrop, "no buffer memory for the segment");
    tcp_sb_wait(stack, tp, TF_RCVSHORT);
    tp->t_flags |= TF_ACKNOW; /* the window the storage allows, at once */
    return -ENOBUFS;
}

uint32_t tcp_sb_snd_storage(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t n)
{
    uint32_t need = tp->snd.len + n;
    if (tp->snd.buf && need <= tp->snd.cap)
        return n; /* a kept ring, usually (tcp_sb_drained) */
    int err = sbpool_grow(&stack->tcp->sbpool, &tp->snd, need, tp->snd_bufsize, tp->snd.len, true);
    tcp_sb_note(stack);
    if (err == 0)
        return n;
    uint32_t fit = sb_space(&tp->snd);
    STAT_INC(stack, tcps_sndmemblock);
    tcp_sb_wait(stack, tp, TF_SNDSHORT);
    return fit < n ? fit : n;
}

/* A drained ring a connection may keep while its exchange goes on: a small
 * one, while the rings connections hold leave at least half the budget. */
static bool tcp_sb_keepable(const struct sbpool *p, const struct sockbuf *sb)
{
    return sb->cap <= TCP_SB_KEEP_MAX && p->held <= p->budget / 2;
}

/* Gives back the rings of drained buffers, but those `keep` lets stay. */
static void tcp_sb_give(struct tcpc_stack *stack, struct tcpcb *tp, bool keep)
{
    struct sbpool *p = &stack->tcp->sbpool;
    bool gave = false;
    if (tp->snd.buf && tp->snd.len == 0 && !(keep && tcp_sb_keepable(p, &tp->snd))) {
        sbpool_put(p, &tp->snd);
        gave = true;
    }
    if (tp->rcv.buf && tp->rcv.len == 0 && tp->rcv_reass.nranges == 0 &&
        !(keep && tcp_sb_keepable(p, &tp->rcv))) {
        sbpool_put(p, &tp->rcv);
        gave = true;
    }
    if (gave)
        tcp_sb_note(stack);
}

void tcp_sb_drained_slow(struct tcpc_stack *stack, struct tcpcb *tp, bool more)
{
    tcp_sb_give(stack, tp, more || tcp_sb_busy(tp));
}

void tcp_sb_quiet_slow(struct tcpc_stack *stack, struct tcpcb *tp)
{
    tcp_sb_give(stack, tp, false);
}

void tcp_sb_release(struct tcpc_stack *stack, struct tcpcb *tp)
{
    sbpool_put(&stack->tcp->sbpool, &tp->snd);
    sbpool_put(&stack->tcp->sbpool, &tp->rcv);
    tcp_sb_note(stack);
}

static uint32_t tcp_sb_raise(uint32_t limit, uint64_t inc, uint32_t max)
{
    uint64_t next = (uint64_t)limit + inc;
    return next < max ? (uint32_t)next : max;
}

void tcp_sb_rcv_autosize_step(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t tlen)
{
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    uint32_t now = (uint32_t)(stack->now / TCPC_USEC_PER_MSEC) | 1; /* 0 means "none" */
    if (!tp->t_rfbuf_ts || !tp->t_srtt) {
        if (!tp->t_rfbuf_ts)
            tp->t_rfbuf_ts = now;
        tp->t_rfbuf_cnt += tlen;
        return;
    }
    uint64_t half_rtt_ms = (uint64_t)tp->t_srtt / TCPC_USEC_PER_MSEC / 2;
    if ((uint32_t)(now - tp->t_rfbuf_ts) <= half_rtt_ms) {
        tp->t_rfbuf_cnt += tlen;
        return;
    }
    uint32_t max = tcp_sb_auto_max(stack, tun->recvbuf_max);
    if (tp->t_rfbuf_cnt > tp->rcv_bufsize / 8 * 3 && tp->rcv_bufsize < max) {
        uint64_t inc = tun->recvbuf_inc ? (uint64_t)tun->recvbuf_inc : tp->rcv_bufsize / 2;
        tp->rcv_bufsize = tcp_sb_raise(tp->rcv_bufsize, inc, max);
        STAT_INC(stack, tcps_rcvbuf_autogrow);
    }
    tp->t_rfbuf_ts = 0;
    tp->t_rfbuf_cnt = 0;
}

void tcp_sb_snd_autosize(struct tcpc_stack *stack, struct tcpcb *tp)
{
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    uint32_t used = tp->snd.len, hiwat = tp->snd_bufsize;
    /* Asked before every output; most find the buffer far from full. */
    if (used < hiwat / 8 * 7 || !tun->sendbuf_auto || (tp->t_flags & TF_SNDBUF_SET))
        return;
    uint32_t max = tcp_sb_auto_max(stack, tun->sendbuf_max);
    uint32_t sendwin = tp->snd_wnd < tp->snd_cwnd ? tp->snd_wnd : tp->snd_cwnd;
    uint32_t flight = tp->snd_nxt - tp->snd_una;
    uint32_t unsent = used > flight ? used - flight : 0;
    if ((uint64_t)tp->snd_wnd / 4 * 5 >= hiwat && used < max && hiwat < max && sendwin >= unsent) {
        tp->snd_bufsize = tcp_sb_raise(hiwat, (uint64_t)tun->sendbuf_inc, max);
        STAT_INC(stack, tcps_sndbuf_autogrow);
        tcp_notify(stack, tp); /* room to queue more */
    }
}

bool tcp_sb_rcv_memcut(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return tcp_sb_rcv_memcut_of(tp, tcp_sb_rcv_mem(stack, tp));
}

uint32_t tcp_rcv_space(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return tcp_rcv_space_of(tp, tcp_sb_rcv_mem(stack, tp));
}

/* Whether tp should keep waiting: memory still bounds what it waited for. */
static bool tcp_sb_still_short(const struct tcpc_stack *stack, const struct tcpcb *tp, uint32_t why)
{
    if ((why & TF_RCVSHORT) && tcp_sb_rcv_memcut(stack, tp))
        return true;
    uint32_t space = tp->snd_bufsize > tp->snd.len ? tp->snd_bufsize - tp->snd.len : 0;
    return (why & TF_SNDSHORT) && tcp_snd_space(stack, tp) < space;
}

/* Memory came back: every waiting connection gets its window reopened
 * (tcp_output sends the update when it is due) and its readiness looked at
 * again; those still cut short by the budget go on waiting. */
static void tcp_sb_wake(struct tcpc_stack *stack)
{
    struct tcp_state *ts = stack->tcp;
    if (!ts->sbwait_head || !ts->sbpool.freed)
        return;
    ts->sbpool.freed = false;
    tcb_ref next = ts->sbwait_head;
    ts->sbwait_head = 0;
    while (next) {
        struct tcpcb *tp = tcb_deref(ts, next);
        next = tp->t_sbwait_next;
        uint32_t why = tp->t_flags & (TF_RCVSHORT | TF_SNDSHORT);
        tp->t_sbwait_next = 0;
        tp->t_flags &= ~(TF_SBWAIT | TF_RCVSHORT | TF_SNDSHORT);
        if (why & TF_RCVSHORT)
            tp->t_flags |= TF_ACKNOW; /* the window reopens: say so */
        if (TCPS_HAVEESTABLISHED(tp->state) && tp->state != TCPS_TIME_WAIT)
            tcp_output(stack, tp);
        tcp_notify(stack, tp);
        if (tcp_sb_still_short(stack, tp, why))
            tcp_sb_wait(stack, tp, why);
    }
}

void tcp_sb_refill(struct tcpc_stack *stack)
{
    struct tcp_state *ts = stack->tcp;
    if (!tcp_sb_refill_due(ts, stack->now))
        return;
    if (stack->now >= ts->sb_retry_at && sbpool_refill_due(&ts->sbpool, stack->now) &&
        sbpool_refill(&ts->sbpool, tcp_sb_refill_budget(stack), stack->now) == -ENOMEM)
        ts->sb_retry_at = stack->now + TCP_SB_RETRY_USEC;
    tcp_sb_wake(stack);
    tcp_due_forget(ts); /* what was due may be done */
}

bool tcp_sb_pending(const struct tcpc_stack *stack)
{
    const struct tcp_state *ts = stack->tcp;
    return sbpool_pending(&ts->sbpool) || (ts->sbwait_head && ts->sbpool.freed);
}
