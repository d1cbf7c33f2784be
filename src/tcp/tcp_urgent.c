/*
 * Urgent data and the out-of-band byte; see tcp_urgent.h.
 */
#include "tcp/tcp_urgent.h"

#include <errno.h>

#include "core/stack.h"
#include "tcp/tcp_sbuf.h"
#include "tcp/tcp_subr.h"
#include "util/seq.h"

void urg_send_mark(struct tcpcb *tp)
{
    tp->snd_up = tp->snd_una + tp->snd.len;
    tp->t_oobflags |= TCPOOB_SNDURG;
}

void urg_output_mark(const struct tcpcb *tp, struct tcp_repr *th)
{
    /* A pointer past what the field can say is announced as far as it
     * reaches (RFC 6093 section 4 lets a sender do so); the segments that
     * follow come closer. */
    uint32_t off = tp->snd_up - th->seq;
    th->urp = off > UINT16_MAX ? UINT16_MAX : (uint16_t)off;
    th->flags |= TH_URG;
}

/* The sequence number of the next byte a read would consume: the receive
 * ring holds the in-order bytes before rcv_nxt, which also counts the FIN. */
static uint32_t urg_read_seq(const struct tcpcb *tp)
{
    return tp->rcv_nxt - tp->rcv.len - !!(tp->t_flags & TF_RCVDFIN);
}

/*
 * A later pointer replaces the mark. The earlier byte stops being out of
 * band: FreeBSD loses it, Linux hands it to the stream. Only when the
 * reader stands right at it is it dropped (both agree there); elsewhere it
 * goes to the stream as Linux has it, which leaves the ring's middle alone
 * (taking a byte out there would move every byte before it, at each
 * pointer a peer chooses to send).
 */
static void urg_forget(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (urg_hidden(tp) && tp->rcv.len > 0 && urg_read_seq(tp) == tp->rcv_up - 1) {
        sb_drop(&tp->rcv, 1);
        tcp_sb_drained(stack, tp, false);
    }
}

void urg_input(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t seq, uint8_t flags,
               uint16_t urp)
{
    /* URG with a zero pointer would name the byte before the segment: no
     * urgent byte at all (RFC 6093 section 3 leaves it to be ignored). */
    if (!(flags & TH_URG) || urp == 0 || (tp->t_flags & (TF_RCVDFIN | TF_CANTRCVMORE)))
        return;
    uint32_t up = seq + urp;
    /* A pointer into data already received is a retransmission's (its
     * byte was taken with the first copy), and RCV.UP only moves on. */
    if (!SEQ_GT(up, tp->rcv_nxt))
        return;
    if ((tp->t_oobflags & TCPOOB_MARK) && !SEQ_GT(up, tp->rcv_up))
        return;
    /* Past anything a receive buffer could hold (FreeBSD's bound,
     * kern.ipc.maxsockbuf): not a byte this connection will ever read. */
    if ((uint64_t)(up - tp->rcv_nxt) + tp->rcv.len > (uint64_t)stack->cfg.tun.sockbuf_max)
        return;
    if (tp->t_oobflags & TCPOOB_MARK)
        urg_forget(stack, tp);
    tp->rcv_up = up;
    tp->t_oobflags = (uint8_t)((tp->t_oobflags & ~URG_CAUGHT) | TCPOOB_MARK);
    tcp_notify(stack, tp); /* TCPC_EV_URGENT: RFC 9293's MUST-32 signal */
}

void urg_arrived_marked(struct tcpcb *tp)
{
    uint32_t mark = tp->rcv_up - 1;
    if (!SEQ_LT(mark, tp->rcv_nxt))
        return;
    /* Kept even under SO_OOBINLINE, so that the option may change until
     * the byte is read; which way it is read is decided then. */
    sb_copy_out(&tp->rcv, mark - urg_read_seq(tp), &tp->t_iobc, 1);
    tp->t_oobflags |= TCPOOB_HAVEDATA;
}

uint32_t urg_read_limit(const struct tcpcb *tp, uint32_t n, uint32_t *skip)
{
    *skip = 0;
    if (!(tp->t_oobflags & TCPOOB_MARK))
        return n;
    uint32_t before = tp->rcv_up - 1 - urg_read_seq(tp);
    if (before > 0)
        return n < before ? n : before;
    if (urg_hidden(tp) && tp->rcv.len > 0)
        *skip = 1;
    return n;
}

void urg_consumed(struct tcpcb *tp)
{
    bool passed = SEQ_GT(urg_read_seq(tp), tp->rcv_up - 1) || (tp->t_flags & TF_CANTRCVMORE);
    if ((tp->t_oobflags & TCPOOB_MARK) && passed)
        tp->t_oobflags &= (uint8_t) ~(TCPOOB_MARK | URG_CAUGHT);
}

int urg_recv_oob(struct tcpcb *tp, uint8_t *byte, bool peek)
{
    uint8_t f = tp->t_oobflags;
    if ((f & TCPOOB_INLINE) || !(f & TCPOOB_MARK) || (f & TCPOOB_HADDATA))
        return -EINVAL;
    if (!(f & TCPOOB_HAVEDATA))
        return -EAGAIN;
    *byte = tp->t_iobc;
    if (!peek)
        tp->t_oobflags ^= URG_CAUGHT;
    return 0;
}

bool urg_atmark(const struct tcpcb *tp)
{
    return (tp->t_oobflags & TCPOOB_MARK) && urg_read_seq(tp) == tp->rcv_up - 1;
}
