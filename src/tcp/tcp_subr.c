/*
 * Control-block lifetime and the small services every TCP module uses;
 * see tcp_subr.h.
 */
#include "tcp/tcp_subr.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/ip_input.h"
#include "core/stack.h"
#include "tcp/syncache.h"
#include "tcp/tcp_demux.h"
#include "tcp/timewait.h"
#include "util/container.h"

static const char *const tcp_state_names[TCPS_NSTATES] = {
    "CLOSED",     "LISTEN",  "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT",
    "FIN_WAIT_1", "CLOSING", "LAST_ACK", "FIN_WAIT_2",   "TIME_WAIT",
};

const char *tcp_state_name(unsigned state)
{
    return state < TCPS_NSTATES ? tcp_state_names[state] : "?";
}

int tcp_init(struct tcpc_stack *stack)
{
    struct tcp_state *ts = calloc(1, sizeof(*ts));
    if (!ts)
        return -ENOMEM;
    ts->maxsockets = (uint32_t)stack->cfg.tun.maxsockets;
    ts->sockets = calloc(ts->maxsockets, sizeof(*ts->sockets));
    if (!ts->sockets) {
        free(ts);
        return -ENOMEM;
    }
    ts->segbuf = malloc(STACK_OUTBUF_LEN);
    if (!ts->segbuf) {
        free(ts->sockets);
        free(ts);
        return -ENOMEM;
    }
    stack->tcp = ts;
    rand_bytes(&stack->rand, ts->isn_key, sizeof(ts->isn_key));
    int err = demux_init(stack);
    if (!err) {
        err = syncache_init(stack);
        if (err)
            demux_destroy(stack);
    }
    if (!err) {
        err = tw_init(stack);
        if (err) {
            syncache_destroy(stack);
            demux_destroy(stack);
        }
    }
    if (err) {
        free(ts->segbuf);
        free(ts->sockets);
        free(ts);
        stack->tcp = NULL;
    }
    return err;
}

void tcp_destroy(struct tcpc_stack *stack)
{
    struct tcp_state *ts = stack->tcp;
    if (!ts)
        return;
    while (ts->all)
        tcb_free(stack, ts->all);
    tw_destroy(stack);
    syncache_destroy(stack);
    demux_destroy(stack);
    free(ts->segbuf);
    free(ts->sockets);
    free(ts);
    stack->tcp = NULL;
}

struct tcpcb *tcb_new(struct tcpc_stack *stack, uint8_t family, int *err)
{
    struct tcp_state *ts = stack->tcp;
    if (ts->nconns >= ts->maxsockets) {
        *err = -ENOBUFS;
        return NULL;
    }
    struct tcpcb *tp = calloc(1, sizeof(*tp));
    if (!tp) {
        *err = -ENOMEM;
        return NULL;
    }
    tp->sd = -1;
    tp->family = family;
    int aerr = demux_attach(stack, tp);
    if (aerr) {
        free(tp);
        *err = aerr;
        return NULL;
    }
    tp->linger = -1;
    tp->snd_bufsize = (uint32_t)stack->cfg.tun.sendspace;
    tp->rcv_bufsize = (uint32_t)stack->cfg.tun.recvspace;
    tp->t_maxseg = (uint16_t)stack->cfg.tun.mssdflt;
    tp->t_rxtcur = (tcpc_time_t)stack->cfg.tun.rexmit_initial * TCPC_USEC_PER_MSEC;
    timer_init(&tp->t_timer);
    tp->all_next = ts->all;
    if (ts->all)
        ts->all->all_prev = tp;
    ts->all = tp;
    ts->nconns++;
    return tp;
}

/* Buffers are sized when a connection starts, so that SO_SNDBUF/SO_RCVBUF
 * set before connect or listen take effect. */
int tcb_alloc_buffers(struct tcpcb *tp)
{
    if (!tp->snd.buf && sb_init(&tp->snd, tp->snd_bufsize))
        return -ENOMEM;
    if (!tp->rcv.buf && sb_init(&tp->rcv, tp->rcv_bufsize)) {
        sb_free(&tp->snd);
        return -ENOMEM;
    }
    return 0;
}

static void tcb_unlink_notify(struct tcp_state *ts, struct tcpcb *tp)
{
    if (!(tp->t_flags & TF_NOTIFY))
        return;
    for (struct tcpcb **pp = &ts->notify_head; *pp; pp = &(*pp)->notify_next) {
        if (*pp == tp) {
            *pp = tp->notify_next;
            break;
        }
    }
    tp->t_flags &= ~TF_NOTIFY;
}

/* A listener going away takes its unaccepted children with it. */
static void tcb_abort_children(struct tcpc_stack *stack, struct tcpcb *listener)
{
    for (struct tcpcb *c = stack->tcp->all; c;) {
        struct tcpcb *next = c->all_next;
        if (c->parent == listener) {
            c->parent = NULL;
            tcp_drop(stack, c, ECONNABORTED);
            /* tcp_drop may free c and others after it; restart the walk. */
            c = stack->tcp->all;
            continue;
        }
        c = next;
    }
    listener->q_head = listener->q_tail = NULL;
    listener->q_len = 0;
}

static void tcb_unlink_parent(struct tcpcb *tp)
{
    struct tcpcb *l = tp->parent;
    if (!l)
        return;
    struct tcpcb **pp = &l->q_head;
    struct tcpcb *prev = NULL;
    for (; *pp; prev = *pp, pp = &(*pp)->q_next) {
        if (*pp == tp) {
            *pp = tp->q_next;
            if (l->q_tail == tp)
                l->q_tail = prev;
            l->q_len--;
            break;
        }
    }
    tp->parent = NULL;
}

void tcb_free(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tcp_state *ts = stack->tcp;
    if (tp->state == TCPS_LISTEN)
        tcb_abort_children(stack, tp);
    tcb_unlink_parent(tp);
    demux_detach(stack, tp);
    timer_cancel(&stack->wheel, &tp->t_timer);
    tcb_unlink_notify(ts, tp);
    if (tp->sd >= 0) {
        ts->sockets[tp->sd] = NULL;
        ts->nsockets--;
    }
    if (tp->all_prev)
        tp->all_prev->all_next = tp->all_next;
    else
        ts->all = tp->all_next;
    if (tp->all_next)
        tp->all_next->all_prev = tp->all_prev;
    sb_free(&tp->snd);
    sb_free(&tp->rcv);
    ts->nconns--;
    free(tp);
}

void tcp_tunables_changed(struct tcpc_stack *stack)
{
    demux_set_portrange(stack);
}

const struct ip_protosw tcp_protosw = {
    .input = tcp_input,
    .ctlinput = tcp_ctlinput,
    .tunables_changed = tcp_tunables_changed,
};

void tcp_set_state(struct tcpc_stack *stack, struct tcpcb *tp, enum tcp_fsm_state state)
{
    /* TIME_WAIT is never a control block: tcp_twstart hands it to timewait.c. */
    assert(state != TCPS_TIME_WAIT);
    if (state == TCPS_ESTABLISHED && tp->state < TCPS_ESTABLISHED) {
        STAT_INC(stack, tcps_connects);
        tcp_timer_stop(stack, tp, TT_KEEP);
    }
    tp->state = (uint8_t)state;
    tcp_notify(stack, tp);
}

void tcp_close(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (tp->state >= TCPS_SYN_RECEIVED || tp->state == TCPS_LISTEN)
        STAT_INC(stack, tcps_closed);
    tp->state = TCPS_CLOSED;
    for (int k = 0; k < TT_COUNT; k++)
        tp->t_deadline[k] = 0;
    timer_cancel(&stack->wheel, &tp->t_timer);
    if (tp->sd < 0) {
        tcb_free(stack, tp);
        return;
    }
    /* The descriptor still refers to it: keep it until the application
     * closes it, out of the tables (the 4-tuple is free for others) but
     * still holding its 4-tuple, so the listing shows what it was
     * (FreeBSD's INP_INHASHLIST lesson). */
    demux_remove(stack, tp);
    tcp_notify(stack, tp);
}

void tcp_drop(struct tcpc_stack *stack, struct tcpcb *tp, int err)
{
    if (TCPS_HAVEESTABLISHED(tp->state) || tp->state == TCPS_SYN_RECEIVED) {
        tcp_respond(stack, &tp->inp->laddr, tp->inp->lport, &tp->inp->faddr, tp->inp->fport,
                    tp->snd_nxt, 0, TH_RST);
        STAT_INC(stack, tcps_drops);
    } else if (tp->state == TCPS_SYN_SENT) {
        STAT_INC(stack, tcps_conndrops);
    }
    tp->so_error = err;
    tcp_close(stack, tp);
}

void tcp_twstart(struct tcpc_stack *stack, struct tcpcb *tp)
{
    /* The control block goes; a compressed record (timewait.c) stays. */
    tw_start(stack, tp);
}

uint32_t tcp_new_isn(struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return tcp_isn_for(stack, &tp->inp->laddr, tp->inp->lport, &tp->inp->faddr, tp->inp->fport);
}

uint32_t tcp_isn_for(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                     const struct tcpc_addr *faddr, uint16_t fport)
{
    uint8_t in[36];
    memcpy(in, laddr->bytes, 16);
    memcpy(in + 16, faddr->bytes, 16);
    in[32] = (uint8_t)(lport >> 8);
    in[33] = (uint8_t)lport;
    in[34] = (uint8_t)(fport >> 8);
    in[35] = (uint8_t)fport;
    uint8_t h[crypto_shorthash_BYTES];
    crypto_shorthash(h, in, sizeof(in), stack->tcp->isn_key);
    uint32_t f;
    memcpy(&f, h, sizeof(f));
    /* RFC 6528's M: a timer ticking every 4 microseconds. */
    return f + (uint32_t)(stack->now / 4);
}

uint16_t tcp_mss_local(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    uint32_t hdrs = (tp->family == TCPC_AF_INET ? IP4_HDR_LEN : IP6_HDR_LEN) + TCP_HDR_LEN;
    uint32_t mss = stack->cfg.mtu - hdrs;
    if (tp->t_usermss && tp->t_usermss < mss)
        mss = tp->t_usermss;
    return (uint16_t)mss;
}

void tcp_mss_update(struct tcpc_stack *stack, struct tcpcb *tp, uint16_t peer_mss)
{
    uint32_t mss = peer_mss ? peer_mss : (uint32_t)stack->cfg.tun.mssdflt;
    uint32_t local = tcp_mss_local(stack, tp);
    if (mss > local)
        mss = local;
    if (mss < (uint32_t)stack->cfg.tun.minmss)
        mss = (uint32_t)stack->cfg.tun.minmss;
    tp->t_maxseg = (uint16_t)mss;
}

uint32_t tcp_ts_now(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return (uint32_t)(stack->now / TCPC_USEC_PER_MSEC) + tp->ts_offset;
}

void tcp_timer_rearm(struct tcpc_stack *stack, struct tcpcb *tp)
{
    tcpc_time_t first = 0;
    for (int k = 0; k < TT_COUNT; k++)
        if (tp->t_deadline[k] && (!first || tp->t_deadline[k] < first))
            first = tp->t_deadline[k];
    if (first)
        timer_arm(&stack->wheel, &tp->t_timer, first);
    else
        timer_cancel(&stack->wheel, &tp->t_timer);
}

void tcp_timer_set(struct tcpc_stack *stack, struct tcpcb *tp, enum tcp_timer_kind kind,
                   tcpc_time_t delay)
{
    tp->t_deadline[kind] = stack->now + (delay ? delay : 1);
    tcp_timer_rearm(stack, tp);
}

void tcp_timer_stop(struct tcpc_stack *stack, struct tcpcb *tp, enum tcp_timer_kind kind)
{
    if (!tp->t_deadline[kind])
        return;
    tp->t_deadline[kind] = 0;
    tcp_timer_rearm(stack, tp);
}

void tcp_respond(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                 const struct tcpc_addr *faddr, uint16_t fport, uint32_t seq, uint32_t ack,
                 uint8_t flags)
{
    tcp_respond_opts(stack, laddr, lport, faddr, fport, seq, ack, flags, 0, NULL);
}

int tcp_respond_opts(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                     const struct tcpc_addr *faddr, uint16_t fport, uint32_t seq, uint32_t ack,
                     uint8_t flags, uint16_t win, const struct tcp_opts *opts)
{
    struct ip_repr ip = {.src = *laddr, .dst = *faddr, .ttl = 64};
    ip.version = tcpc_addr_is_v4(laddr) ? 4 : 6;
    ip.df = true;
    struct tcp_repr th = {
        .sport = lport, .dport = fport, .seq = seq, .ack = ack, .flags = flags, .win = win};
    if (opts)
        th.opts = *opts;
    int err = ip_output_tcp(stack, &ip, &th);
    if (err == 0) {
        if (flags & TH_RST) {
            STAT_INC(stack, tcps_sndrst);
            STAT_INC(stack, tcps_sndctrl);
        } else {
            STAT_INC(stack, tcps_sndacks);
        }
    }
    return err;
}

uint32_t tcp_readiness(const struct tcpcb *tp)
{
    uint32_t ev = 0;
    if (tp->state == TCPS_LISTEN)
        return tp->q_len ? TCPC_EV_ACCEPTABLE | TCPC_EV_READABLE : 0;
    bool closed = tp->state == TCPS_CLOSED;
    bool started = closed || tp->state >= TCPS_ESTABLISHED;
    if (tp->so_error)
        ev |= TCPC_EV_ERROR | TCPC_EV_READABLE;
    if (tp->rcv.len > 0 || (tp->t_flags & TF_RCVDFIN) || (closed && tp->so_error))
        ev |= TCPC_EV_READABLE;
    if (started && !closed && !(tp->t_flags & TF_NEEDFIN) && sb_space(&tp->snd) > 0)
        ev |= TCPC_EV_WRITABLE;
    bool rd_done = (tp->t_flags & (TF_RCVDFIN | TF_CANTRCVMORE)) || closed;
    bool wr_done = (tp->t_flags & TF_NEEDFIN) || closed;
    if (rd_done && wr_done)
        ev |= TCPC_EV_HUP;
    return ev;
}

void tcp_notify(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (tp->sd < 0 || (tp->t_flags & TF_NOTIFY))
        return;
    tp->t_flags |= TF_NOTIFY;
    tp->notify_next = stack->tcp->notify_head;
    stack->tcp->notify_head = tp;
}

void tcp_deliver_events(struct tcpc_stack *stack)
{
    struct tcp_state *ts = stack->tcp;
    while (ts->notify_head) {
        struct tcpcb *tp = ts->notify_head;
        ts->notify_head = tp->notify_next;
        tp->t_flags &= ~TF_NOTIFY;
        uint32_t now_ev = tcp_readiness(tp);
        uint32_t fresh = now_ev & ~tp->ev_reported;
        tp->ev_reported = now_ev;
        if (fresh && ts->event_cb && tp->sd >= 0)
            ts->event_cb(ts->event_ctx, tp->sd, fresh); /* tp may be gone after this */
    }
}

uint32_t tcp_rcv_space(const struct tcpcb *tp)
{
    uint32_t space = sb_space(&tp->rcv);
    uint32_t max = (uint32_t)TCP_MAXWIN << tp->rcv_scale;
    return space < max ? space : max;
}
