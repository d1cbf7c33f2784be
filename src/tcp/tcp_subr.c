/*
 * Control-block lifetime and the small services every TCP module uses;
 * see tcp_subr.h.
 */
#include "tcp/tcp_subr.h"
#include "tcp/tcp_ao.h"
#include "tcp/tcp_md5.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/ip_input.h"
#include "core/stack.h"
#include "tcp/syncache.h"
#include "tcp/tcp_accf.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_demux.h"
#include "tcp/tcp_fastopen.h"
#include "tcp/tcp_group.h"
#include "tcp/tcp_sack.h"
#include "tcp/tcp_sbuf.h"
#include "tcp/tcp_urgent.h"
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

static void tcp_state_free(struct tcp_state *ts)
{
    sbpool_destroy(&ts->sbpool);
    sack_pool_free(ts);
    pool_free(&ts->tcbs);
    free(ts->sd_free);
    free(ts->sockets);
    free(ts);
}

/* The per-stack TCP state. Every array is sized for kern.ipc.maxsockets and
 * left untouched (calloc hands large blocks out as zero pages on demand), so
 * resident memory follows the sockets in use, not the limit. */
static struct tcp_state *tcp_state_new(uint32_t maxsockets, int64_t sackholes)
{
    struct tcp_state *ts = calloc(1, sizeof(*ts));
    if (!ts)
        return NULL;
    ts->maxsockets = maxsockets;
    ts->sockets = calloc(maxsockets, sizeof(*ts->sockets));
    ts->sd_free = calloc(maxsockets, sizeof(*ts->sd_free));
    if (!ts->sockets || !ts->sd_free ||
        pool_init(&ts->tcbs, sizeof(struct tcpcb), maxsockets) != 0 ||
        sack_pool_init(ts, sackholes) != 0) {
        tcp_state_free(ts);
        return NULL;
    }
    return ts;
}

int tcp_init(struct tcpc_stack *stack)
{
    struct tcp_state *ts =
        tcp_state_new((uint32_t)stack->cfg.tun.maxsockets, stack->cfg.tun.sack_globalmaxholes);
    if (!ts)
        return -ENOMEM;
    stack->tcp = ts;
    tcp_sb_limits(stack);
    rand_bytes(&stack->rand, ts->isn_key, sizeof(ts->isn_key));
    if (stack->group) /* every member numbers a 4-tuple alike (RFC 6528) */
        group_secret(stack->group, GROUP_SECRET_ISN, 0, ts->isn_key, sizeof(ts->isn_key));
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
    if (!err) {
        err = tfo_init(stack);
        if (err) {
            tw_destroy(stack);
            syncache_destroy(stack);
            demux_destroy(stack);
        }
    }
    if (err) {
        tcp_state_free(ts);
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
        tcb_free(stack, tcb_deref(ts, ts->all));
    tfo_destroy(stack);
    tw_destroy(stack);
    syncache_destroy(stack);
    demux_destroy(stack);
    tcp_state_free(ts);
    stack->tcp = NULL;
}

int tcb_sd_assign(struct tcp_state *ts, struct tcpcb *tp)
{
    uint32_t sd;
    if (ts->sd_fresh < ts->maxsockets) {
        sd = ts->sd_fresh++;
    } else if (ts->sd_nfree > 0) {
        sd = ts->sd_free[ts->sd_free_head];
        ts->sd_free_head = (ts->sd_free_head + 1) % ts->maxsockets;
        ts->sd_nfree--;
    } else {
        return -ENOBUFS;
    }
    assert(!ts->sockets[sd]);
    ts->sockets[sd] = tp;
    ts->nsockets++;
    tp->sd = (int)sd;
    return (int)sd;
}

void tcb_sd_release(struct tcp_state *ts, struct tcpcb *tp)
{
    if (tp->sd < 0)
        return;
    uint32_t sd = (uint32_t)tp->sd;
    ts->sockets[sd] = NULL;
    ts->nsockets--;
    /* The ring cannot overflow: it holds only descriptors handed out. */
    ts->sd_free[(ts->sd_free_head + ts->sd_nfree) % ts->maxsockets] = sd;
    ts->sd_nfree++;
    tp->sd = -1;
}

struct tcpcb *tcb_new(struct tcpc_stack *stack, uint8_t family, int *err)
{
    struct tcp_state *ts = stack->tcp;
    uint32_t idx = pool_get(&ts->tcbs);
    if (idx == POOL_NONE) {
        *err = -ENOBUFS; /* kern.ipc.maxsockets */
        return NULL;
    }
    struct tcpcb *tp = pool_at(&ts->tcbs, idx);
    memset(tp, 0, sizeof(*tp));
    tp->sd = -1;
    tp->family = family;
    int aerr = demux_attach(stack, tp);
    if (aerr) {
        pool_put(&ts->tcbs, idx);
        *err = aerr;
        return NULL;
    }
    tp->linger = -1;
    tp->snd_bufsize = (uint32_t)stack->cfg.tun.sendspace;
    tp->rcv_bufsize = (uint32_t)stack->cfg.tun.recvspace;
    tp->t_maxseg = (uint16_t)stack->cfg.tun.mssdflt;
    tp->t_rxtcur = (uint32_t)stack->cfg.tun.rexmit_initial * TCPC_USEC_PER_MSEC;
    (void)cc_attach(stack, tp, (unsigned)stack->cfg.tun.cc_algorithm); /* validated: in range */
    timer_init(&tp->t_timer);
    tp->all_next = ts->all;
    if (ts->all)
        tcb_deref(ts, ts->all)->all_prev = idx + 1;
    ts->all = idx + 1;
    ts->nconns++;
    return tp;
}

static void tcb_unlink_notify(struct tcp_state *ts, struct tcpcb *tp)
{
    if (!(tp->t_flags & TF_NOTIFY))
        return;
    tcb_ref self = tcb_ref_of(ts, tp);
    for (tcb_ref *pp = &ts->notify_head; *pp; pp = &tcb_deref(ts, *pp)->notify_next) {
        if (*pp == self) {
            *pp = tp->notify_next;
            break;
        }
    }
    tp->t_flags &= ~TF_NOTIFY;
}

static tcb_ref *tcb_child_list(struct tcpcb *l, const struct tcpcb *tp)
{
    return (tp->t_flags & TF_QCOMPLETE) ? &l->q_head : &l->q_incomp;
}

void tcb_child_attach(struct tcp_state *ts, struct tcpcb *l, struct tcpcb *tp)
{
    tcb_ref self = tcb_ref_of(ts, tp);
    tp->parent = tcb_ref_of(ts, l);
    tp->t_flags &= ~TF_QCOMPLETE;
    tp->q_prev = 0;
    tp->q_next = l->q_incomp;
    if (l->q_incomp)
        tcb_deref(ts, l->q_incomp)->q_prev = self;
    else
        l->q_incomp_tail = self;
    l->q_incomp = self;
    l->q_incqlen++;
}

/* Out of whichever list of its parent tp is on; the parent is kept. */
static void tcb_child_unlink(struct tcp_state *ts, struct tcpcb *tp)
{
    struct tcpcb *l = tcb_deref(ts, tp->parent);
    tcb_ref *head = tcb_child_list(l, tp);
    if (tp->q_prev)
        tcb_deref(ts, tp->q_prev)->q_next = tp->q_next;
    else
        *head = tp->q_next;
    if (tp->q_next)
        tcb_deref(ts, tp->q_next)->q_prev = tp->q_prev;
    else if (tp->t_flags & TF_QCOMPLETE)
        l->q_tail = tp->q_prev;
    else
        l->q_incomp_tail = tp->q_prev;
    if (tp->t_flags & TF_QCOMPLETE)
        l->q_len--;
    else
        l->q_incqlen--;
    tp->q_next = tp->q_prev = 0;
    tp->t_flags &= ~TF_QCOMPLETE;
}

void tcb_child_complete(struct tcp_state *ts, struct tcpcb *tp)
{
    struct tcpcb *l = tcb_deref(ts, tp->parent);
    tcb_ref self = tcb_ref_of(ts, tp);
    tcb_child_unlink(ts, tp);
    tp->t_flags |= TF_QCOMPLETE;
    tp->q_prev = l->q_tail;
    if (l->q_tail)
        tcb_deref(ts, l->q_tail)->q_next = self;
    else
        l->q_head = self;
    l->q_tail = self;
    l->q_len++;
}

struct tcpcb *tcb_child_accept(struct tcp_state *ts, struct tcpcb *l)
{
    struct tcpcb *tp = tcb_deref(ts, l->q_head);
    if (!tp)
        return NULL;
    tcb_child_unlink(ts, tp);
    tp->parent = 0;
    return tp;
}

static void tcb_unlink_parent(struct tcp_state *ts, struct tcpcb *tp)
{
    if (!tp->parent)
        return;
    tcb_child_unlink(ts, tp);
    tp->parent = 0;
}

/* A listener going away takes its unaccepted children with it: each list
 * is emptied from its head, so the cost is the number of children. */
static void tcb_abort_children(struct tcpc_stack *stack, struct tcpcb *listener)
{
    struct tcp_state *ts = stack->tcp;
    tcb_ref c;
    while ((c = listener->q_incomp) != 0 || (c = listener->q_head) != 0) {
        struct tcpcb *child = tcb_deref(ts, c);
        tcb_unlink_parent(ts, child);
        tcp_drop(stack, child, ECONNABORTED);
    }
}

void tcb_free(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tcp_state *ts = stack->tcp;
    if (tp->state == TCPS_LISTEN)
        tcb_abort_children(stack, tp);
    tcb_unlink_parent(ts, tp);
    demux_detach(stack, tp);
    tcp_timer_cancel_all(stack, tp);
    tcb_unlink_notify(ts, tp);
    tcp_sb_unwait(stack, tp);
    tcb_sd_release(ts, tp);
    if (tp->all_prev)
        tcb_deref(ts, tp->all_prev)->all_next = tp->all_next;
    else
        ts->all = tp->all_next;
    if (tp->all_next)
        tcb_deref(ts, tp->all_next)->all_prev = tp->all_prev;
    sack_release(stack, tp, true);
    tcp_md5_free(tp);
    tcp_ao_free(tp);
    tcp_sb_release(stack, tp);
    ts->nconns--;
    pool_put(&ts->tcbs, pool_index(&ts->tcbs, tp));
}

void tcp_tunables_changed(struct tcpc_stack *stack)
{
    demux_set_portrange(stack);
    tcp_sb_limits(stack);
    tfo_tunables_changed(stack);
}

static bool tcp_sysctl_state(const struct tcpc_stack *stack, const char *name, int64_t *value)
{
    if (tfo_sysctl_state(stack, name, value))
        return true;
    if (strcmp(name, "net.inet.tcp.syncache.count") != 0)
        return false;
    *value = syncache_pcbcount(stack);
    return true;
}

const struct ip_protosw tcp_protosw = {
    .input = tcp_input,
    .ctlinput = tcp_ctlinput,
    .tunables_changed = tcp_tunables_changed,
    .group_changed = tcp_group_sync,
    .sysctl_state = tcp_sysctl_state,
};

void tcp_set_state(struct tcpc_stack *stack, struct tcpcb *tp, enum tcp_fsm_state state)
{
    /* TIME_WAIT is never a control block: tcp_twstart hands it to timewait.c.
     * Internal: every caller passes a constant state, never this one. */
    assert(state != TCPS_TIME_WAIT);
    bool established = state == TCPS_ESTABLISHED && tp->state < TCPS_ESTABLISHED;
    if (established)
        STAT_INC(stack, tcps_connects);
    tp->state = (uint8_t)state;
    if (established)
        tcp_keep_start(stack, tp); /* the keep timer turns from keepinit to keepalive */
    tcp_notify(stack, tp);
}

void tcp_close(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (tp->state >= TCPS_SYN_RECEIVED || tp->state == TCPS_LISTEN)
        STAT_INC(stack, tcps_closed);
    tp->state = TCPS_CLOSED;
    for (int k = 0; k < TT_COUNT; k++)
        tp->t_deadline[k] = 0;
    tcp_timer_cancel_all(stack, tp);
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

uint8_t tcp_user_state(struct tcpc_stack *stack, const struct tcpcb *tp)
{
    /* The record, not the control block, holds TIME_WAIT (timewait.c);
     * FreeBSD's socket sees its tcpcb in TIME_WAIT, and so should ours. */
    if (tp->state != TCPS_CLOSED || !(tp->t_flags & TF_TIMEWAIT))
        return tp->state;
    uint32_t ref;
    demux_lookup_tw(stack, &tp->inp->faddr, tp->inp->fport, &tp->inp->laddr, tp->inp->lport, NULL,
                    &ref);
    return ref != DEMUX_REF_NONE ? TCPS_TIME_WAIT : TCPS_CLOSED;
}

void tcp_drop(struct tcpc_stack *stack, struct tcpcb *tp, int err)
{
    if (TCPS_HAVEESTABLISHED(tp->state) || tp->state == TCPS_SYN_RECEIVED) {
        /* The connection's own last word: its next sequence number and an
         * ACK of everything received, as FreeBSD's tcp_drop sends it (its
         * output in CLOSED is RST|ACK). */
        tcp_respond_tp(stack, tp, tp->snd_nxt, tp->rcv_nxt, TH_RST | TH_ACK);
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

uint64_t tcp_tuple_hash(const struct tcpc_stack *stack, const struct tcpc_addr *laddr,
                        uint16_t lport, const struct tcpc_addr *faddr, uint16_t fport)
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
    uint64_t v;
    memcpy(&v, h, sizeof(v));
    return v;
}

uint32_t tcp_isn_for(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                     const struct tcpc_addr *faddr, uint16_t fport)
{
    /* RFC 6528's F: the hash's low half (the flow label takes bits of the
     * high half, so neither reveals the other); M: a timer ticking every 4
     * microseconds. */
    uint32_t f = (uint32_t)tcp_tuple_hash(stack, laddr, lport, faddr, fport);
    return f + (uint32_t)(stack->now / 4);
}

uint32_t tcp_mss_for_mtu(bool v6, uint32_t mtu)
{
    /* A 64 KiB link MTU is larger than an IPv4 packet can be: its total
     * length field (65535) counts the header. IPv6's payload length field
     * does not count its fixed header, so it allows 40 bytes more. */
    uint32_t iphdr = v6 ? IP6_HDR_LEN : IP4_HDR_LEN;
    uint32_t biggest = v6 ? IP6_HDR_LEN + IP6_MAXPAYLOAD : IP4_MAXPACKET;
    if (mtu > biggest)
        mtu = biggest;
    return mtu > iphdr + TCP_HDR_LEN ? mtu - iphdr - TCP_HDR_LEN : 0;
}

uint16_t tcp_mss_offer(const struct tcpc_stack *stack, bool v6, uint16_t usermss)
{
    uint32_t mss = tcp_mss_for_mtu(v6, stack->cfg.mtu);
    if (usermss && usermss < mss)
        mss = usermss;
    return (uint16_t)mss;
}

uint16_t tcp_mss_local(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return tcp_mss_offer(stack, tp->family != TCPC_AF_INET, tp->t_usermss);
}

void tcp_mss_update(struct tcpc_stack *stack, struct tcpcb *tp, uint16_t peer_mss)
{
    uint32_t mss = peer_mss ? peer_mss : (uint32_t)stack->cfg.tun.mssdflt;
    /* minmss keeps a peer from making us send tiny segments; the local
     * MSS, applied last, keeps every segment within what the link and the
     * IP length field carry, whatever minmss says. */
    if (mss < (uint32_t)stack->cfg.tun.minmss)
        mss = (uint32_t)stack->cfg.tun.minmss;
    uint32_t local = tcp_mss_local(stack, tp);
    if (mss > local)
        mss = local;
    tp->t_maxseg = (uint16_t)mss;
}

uint8_t tcp_rcv_wscale(const struct tcpc_stack *stack)
{
    uint8_t s = 0;
    while (s < TCP_MAX_WINSHIFT &&
           ((uint64_t)TCP_MAXWIN << s) < (uint64_t)stack->cfg.tun.sockbuf_max)
        s++;
    return s;
}

/* A limit raised to a whole number of mss-byte segments, never past max
 * (and never lowered). */
static uint32_t tcp_sb_roundup(uint32_t limit, uint32_t mss, uint32_t max)
{
    uint64_t r = ((uint64_t)limit + mss - 1) / mss * mss;
    if (r > max)
        r = max;
    return r > limit ? (uint32_t)r : limit;
}

void tcp_sb_fit_mss(const struct tcpc_stack *stack, struct tcpcb *tp)
{
    uint32_t max = (uint32_t)stack->cfg.tun.sockbuf_max;
    if (tp->snd_bufsize < tp->t_maxseg)
        tp->t_maxseg = (uint16_t)tp->snd_bufsize; /* a segment never outgrows the buffer */
    else
        tp->snd_bufsize = tcp_sb_roundup(tp->snd_bufsize, tp->t_maxseg, max);
    if (tp->rcv_bufsize > tp->t_maxseg)
        tp->rcv_bufsize = tcp_sb_roundup(tp->rcv_bufsize, tp->t_maxseg, max);
}

uint32_t tcp_ts_now(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return (uint32_t)(stack->now / TCPC_USEC_PER_MSEC) + tp->ts_offset;
}

/*
 * The wheel entry must fire no later than the first deadline. An entry
 * already filed at or before it stays: most moves are the retransmission
 * timer pushed later by each ACK, and moving the entry every time costs a
 * wheel unlink and insert per segment. An entry that fires early finds
 * nothing due and is filed again for what remains (tcp_timer_fire), which
 * tcpc_next_deadline allows (early, never late). With no deadline left the
 * entry goes, so an idle connection has none.
 */
void tcp_timer_rearm(struct tcpc_stack *stack, struct tcpcb *tp)
{
    tcpc_time_t first = 0;
    for (int k = 0; k < TT_COUNT; k++)
        if (tp->t_deadline[k] && (!first || tp->t_deadline[k] < first))
            first = tp->t_deadline[k];
    if (!first) {
        if (timer_armed(&tp->t_timer)) {
            timer_cancel(&stack->wheel, &tp->t_timer);
            tcp_due_forget(stack->tcp);
        }
    } else if (!timer_armed(&tp->t_timer) || timer_deadline(&tp->t_timer) > first) {
        timer_arm(&stack->wheel, &tp->t_timer, first);
        tcp_due_lower(stack->tcp, first);
    }
}

void tcp_timer_cancel_all(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (!timer_armed(&tp->t_timer))
        return;
    timer_cancel(&stack->wheel, &tp->t_timer);
    tcp_due_forget(stack->tcp);
}

void tcp_timer_set(struct tcpc_stack *stack, struct tcpcb *tp, enum tcp_timer_kind kind,
                   tcpc_time_t delay)
{
    tcpc_time_t at = stack->now + (delay ? delay : 1);
    tp->t_deadline[kind] = at;
    if (kind == TT_REXMT)
        tp->t_flags2 &= (uint8_t) ~(TF2_RACK_TIMER | TF2_TLP_TIMER);
    /* A filed entry is at or before every deadline (tcp_timer_rearm
     * leaves it so, and only this function sets one): when it is at or
     * before this one too, tcp_timer_rearm would leave it where it is. */
    if (timer_armed(&tp->t_timer) && timer_deadline(&tp->t_timer) <= at)
        return;
    tcp_timer_rearm(stack, tp);
}

struct tcp_ipopt tcp_ipopt_of(const struct tcpcb *tp)
{
    return (struct tcp_ipopt){
        .ttl = tp->t_ip_ttl, .tos = tp->t_ip_tos, .dontfrag = (tp->t_flags & TF_DONTFRAG) != 0};
}

void tcp_ip_fill(const struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                 const struct tcpc_addr *faddr, uint16_t fport, const struct tcp_ipopt *o,
                 struct ip_repr *ip)
{
    static const struct tcp_ipopt defaults;
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    if (!o)
        o = &defaults;
    bool v4 = tcpc_addr_is_v4(laddr);
    memset(ip, 0, sizeof(*ip));
    ip->src = *laddr;
    ip->dst = *faddr;
    ip->version = v4 ? 4 : 6;
    ip->ttl = o->ttl ? o->ttl : (uint8_t)(v4 ? tun->ip_ttl : tun->ip6_hlim);
    ip->tos = o->tos & (uint8_t)~IPTOS_ECN_MASK;
    /* RFC 1191: DF for path MTU discovery. IPv6 routers never fragment
     * and tcpcore sends no fragments, so there is nothing to say there. */
    ip->df = o->dontfrag || (tun->path_mtu_discovery && !o->no_pmtud);
    if (!v4 && tun->auto_flowlabel)
        ip->flowlabel = (uint32_t)(tcp_tuple_hash(stack, laddr, lport, faddr, fport) >> 32) &
                        IP6_FLOWLABEL_MASK;
}

void tcp_fill_ip(const struct tcpc_stack *stack, const struct tcpcb *tp, struct ip_repr *ip)
{
    struct tcp_ipopt o = tcp_ipopt_of(tp);
    const struct inpcb *inp = tp->inp;
    tcp_ip_fill(stack, &inp->laddr, inp->lport, &inp->faddr, inp->fport, &o, ip);
}

void tcp_respond(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                 const struct tcpc_addr *faddr, uint16_t fport, uint32_t seq, uint32_t ack,
                 uint8_t flags, const struct tcp_md5_key *md5)
{
    tcp_respond_opts(stack, laddr, lport, faddr, fport, seq, ack, flags, 0, NULL, NULL, md5, NULL);
}

void tcp_respond_tp(struct tcpc_stack *stack, const struct tcpcb *tp, uint32_t seq, uint32_t ack,
                    uint8_t flags)
{
    struct tcp_ipopt o = tcp_ipopt_of(tp);
    const struct inpcb *inp = tp->inp;
    struct tcp_ao_sign ao;
    bool authenticated = tcp_ao_sign_of(tp, &(struct tcp_repr){.seq = seq}, &ao);
    tcp_respond_opts(stack, &inp->laddr, inp->lport, &inp->faddr, inp->fport, seq, ack, flags, 0,
                     NULL, &o, tp->t_md5, authenticated ? &ao : NULL);
}

int tcp_respond_opts(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                     const struct tcpc_addr *faddr, uint16_t fport, uint32_t seq, uint32_t ack,
                     uint8_t flags, uint16_t win, const struct tcp_opts *opts,
                     const struct tcp_ipopt *ipo, const struct tcp_md5_key *md5,
                     const struct tcp_ao_sign *ao)
{
    struct ip_repr ip;
    tcp_ip_fill(stack, laddr, lport, faddr, fport, ipo, &ip);
    struct tcp_repr th = {
        .sport = lport, .dport = fport, .seq = seq, .ack = ack, .flags = flags, .win = win};
    if (opts)
        th.opts = *opts;
    int err = tcp_sig_output(stack, &ip, &th, md5, ao);
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

uint32_t tcp_readiness(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    uint32_t ev = 0;
    if (tp->state == TCPS_LISTEN)
        return tp->q_len ? TCPC_EV_ACCEPTABLE | TCPC_EV_READABLE : 0;
    bool closed = tp->state == TCPS_CLOSED;
    bool started = closed || tp->state >= TCPS_ESTABLISHED;
    if (tp->so_error)
        ev |= TCPC_EV_ERROR | TCPC_EV_READABLE;
    if (urg_unread(tp) > 0 || (tp->t_flags & TF_RCVDFIN) || (closed && tp->so_error))
        ev |= TCPC_EV_READABLE;
    if (tp->t_oobflags & TCPOOB_MARK)
        ev |= TCPC_EV_URGENT;
    if (started && !closed && !(tp->t_flags & TF_NEEDFIN) && tcp_snd_has_space(stack, tp))
        ev |= TCPC_EV_WRITABLE;
    bool rd_done = (tp->t_flags & (TF_RCVDFIN | TF_CANTRCVMORE)) || closed;
    bool wr_done = (tp->t_flags & TF_NEEDFIN) || closed;
    if (rd_done && wr_done)
        ev |= TCPC_EV_HUP;
    return ev;
}

void tcp_notify(struct tcpc_stack *stack, struct tcpcb *tp)
{
    /* A held child has no descriptor to tell; its filter is told instead. */
    if (accf_held(tp)) {
        accf_recheck(stack, tp);
        return;
    }
    if (tp->sd < 0 || (tp->t_flags & TF_NOTIFY))
        return;
    tp->t_flags |= TF_NOTIFY;
    tp->notify_next = stack->tcp->notify_head;
    stack->tcp->notify_head = tcb_ref_of(stack->tcp, tp);
}

void tcp_deliver_events(struct tcpc_stack *stack)
{
    struct tcp_state *ts = stack->tcp;
    while (ts->notify_head) {
        struct tcpcb *tp = tcb_deref(ts, ts->notify_head);
        ts->notify_head = tp->notify_next;
        tp->t_flags &= ~TF_NOTIFY;
        uint32_t now_ev = tcp_readiness(stack, tp);
        uint32_t fresh = now_ev & ~tp->ev_reported;
        tp->ev_reported = now_ev;
        if (fresh && ts->event_cb && tp->sd >= 0)
            ts->event_cb(ts->event_ctx, tp->sd, fresh); /* tp may be gone after this */
    }
}
