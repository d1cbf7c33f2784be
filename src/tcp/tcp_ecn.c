/*
 * ECN (RFC 3168) for a connection; see tcp_ecn.h.
 */
#include "tcp/tcp_ecn.h"

#include "core/stack.h"
#include "tcp/tcp_cc.h"
#include "util/seq.h"
#include "wire/ip.h"

uint8_t ecn_syn_flags(struct tcpc_stack *stack, struct tcpcb *tp)
{
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    if (tun->ecn_enable != 1)
        return 0;
    /* A path that drops ECN-setup SYNs would otherwise never connect: the
     * later retransmissions go without (FreeBSD's ecn.maxretries). */
    if (tp->t_rxtshift > tun->ecn_maxretries)
        return 0;
    tp->t_flags2 |= TF2_ECN_SYN;
    return TH_ECE | TH_CWR;
}

void ecn_syn_input(struct tcpc_stack *stack, struct tcpcb *tp, uint8_t flags)
{
    /* A SYN-ACK agrees to what our SYN asked; one with both bits is a peer
     * reflecting what it does not understand (RFC 3168 6.1.1). A crossing
     * SYN that asks is answered as a listener answers it, in modes 1 and 2
     * alike, whether or not our own SYN asked (as FreeBSD does). */
    bool agrees = (flags & TH_ACK)
                      ? (tp->t_flags2 & TF2_ECN_SYN) && (flags & (TH_ECE | TH_CWR)) == TH_ECE
                      : stack->cfg.tun.ecn_enable && ecn_syn_asks(flags);
    if (!agrees)
        return;
    tp->t_flags2 |= TF2_ECN_PERMIT;
    STAT_INC(stack, tcps_ecn_shs);
}

/* RFC 3168 6.1.2: the peer saw congestion. One reduction per window of
 * data: ECEs for what was sent before the last reduction (acknowledging up
 * to t_ecn_recover) or during fast recovery, which reduced already, are
 * the same congestion. */
static void ecn_congestion(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t ack)
{
    if ((tp->t_flags & TF_FASTRECOV) || !SEQ_GT(ack, tp->t_ecn_recover))
        return;
    cc_cong_signal(stack, tp, CC_ECN);
    STAT_INC(stack, tcps_ecn_rcwnd);
    tp->t_ecn_recover = tp->snd_max;
    tp->t_flags2 |= TF2_ECN_SND_CWR;
}

void ecn_input_segment(struct tcpc_stack *stack, struct tcpcb *tp, uint8_t tos, uint8_t flags,
                       uint32_t ack)
{
    /* CWR first: a segment carrying CWR and itself marked CE starts a
     * new echo (RFC 3168 6.1.3). */
    if (flags & TH_CWR)
        tp->t_flags2 &= (uint8_t)~TF2_ECN_SND_ECE;
    switch (tos & IPTOS_ECN_MASK) {
    case IPTOS_ECN_CE:
        STAT_INC(stack, tcps_ecn_ce);
        tp->t_flags2 |= TF2_ECN_SND_ECE;
        break;
    case IPTOS_ECN_ECT0:
        STAT_INC(stack, tcps_ecn_ect0);
        break;
    case IPTOS_ECN_ECT1:
        STAT_INC(stack, tcps_ecn_ect1);
        break;
    default:
        break;
    }
    if ((flags & (TH_ECE | TH_ACK | TH_SYN)) == (TH_ECE | TH_ACK))
        ecn_congestion(stack, tp, ack);
}

uint8_t ecn_output(struct tcpc_stack *stack, struct tcpcb *tp, uint8_t *flags, uint32_t len,
                   bool new_data)
{
    if (*flags & TH_SYN) {
        if (!(*flags & TH_ACK))
            *flags |= ecn_syn_flags(stack, tp);
        else if (tp->t_flags2 & TF2_ECN_PERMIT)
            *flags |= TH_ECE; /* our SYN-ACK of a crossing ECN-setup SYN */
        return IPTOS_ECN_NOTECT;
    }
    if (!(tp->t_flags2 & TF2_ECN_PERMIT))
        return IPTOS_ECN_NOTECT;
    if (tp->t_flags2 & TF2_ECN_SND_ECE)
        *flags |= TH_ECE;
    if (len == 0 || !new_data)
        return IPTOS_ECN_NOTECT;
    if (tp->t_flags2 & TF2_ECN_SND_CWR) {
        *flags |= TH_CWR;
        tp->t_flags2 &= (uint8_t)~TF2_ECN_SND_CWR;
    }
    STAT_INC(stack, tcps_ecn_sndect0);
    return IPTOS_ECN_ECT0;
}
