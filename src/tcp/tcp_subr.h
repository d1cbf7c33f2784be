/*
 * Shared machinery of the TCP engine's modules: control-block lifetime,
 * closing paths, timers, ISNs, MSS, segments sent without a connection, and
 * the deferred delivery of socket events.
 */
#ifndef TCPCORE_TCP_TCP_SUBR_H
#define TCPCORE_TCP_TCP_SUBR_H

#include "tcp/tcp_var.h"
#include "wire/tcp.h"

struct tcpc_stack;

/* A fresh control block in CLOSED from the pool of kern.ipc.maxsockets,
 * without buffers, or NULL (-ENOBUFS in *err) when the pool is empty. Not
 * yet in any table and without a descriptor. O(1), allocates nothing. */
struct tcpcb *tcb_new(struct tcpc_stack *stack, uint8_t family, int *err);

/* Descriptors: the next free one for tp (-ENOBUFS when all are in use), and
 * giving tp's back (a no-op without one). O(1); see struct tcp_state. */
int tcb_sd_assign(struct tcp_state *ts, struct tcpcb *tp);
void tcb_sd_release(struct tcp_state *ts, struct tcpcb *tp);

/* A listener's children: attach a fresh one (incomplete), move it to the
 * completed queue when its handshake is done (or its accept filter lets it
 * go, tcp_accf.h), take the oldest completed one off for accept (NULL when
 * none). Each O(1). */
void tcb_child_attach(struct tcp_state *ts, struct tcpcb *l, struct tcpcb *tp);
void tcb_child_complete(struct tcp_state *ts, struct tcpcb *tp);
struct tcpcb *tcb_child_accept(struct tcp_state *ts, struct tcpcb *l);

/* Frees tp: out of the tables, timers cancelled, buffers released,
 * descriptor (if any) released. */
void tcb_free(struct tcpc_stack *stack, struct tcpcb *tp);

/* Moves tp to CLOSED; frees it when no descriptor refers to it any more,
 * otherwise leaves it for the application to observe and close. */
void tcp_close(struct tcpc_stack *stack, struct tcpcb *tp);

/* The state tcpc_getinfo and the listing report for tp: its own, except
 * that a socket whose connection became a TIME_WAIT record is in
 * TIME_WAIT for as long as that record lives. */
uint8_t tcp_user_state(struct tcpc_stack *stack, const struct tcpcb *tp);

/* Aborts tp with error err (positive errno): RST to the peer when the
 * connection is synchronized, so_error set, then tcp_close. */
void tcp_drop(struct tcpc_stack *stack, struct tcpcb *tp, int err);

/* The connection entered TIME_WAIT: the one place that decides what
 * TIME_WAIT is made of (FreeBSD's tcp_twstart). */
void tcp_twstart(struct tcpc_stack *stack, struct tcpcb *tp);

/* A new state; counts the transitions that counters follow. */
void tcp_set_state(struct tcpc_stack *stack, struct tcpcb *tp, enum tcp_fsm_state state);

/* RFC 6528: keyed hash of the 4-tuple plus a 4-microsecond clock. */
uint32_t tcp_new_isn(struct tcpc_stack *stack, const struct tcpcb *tp);
/* The keyed hash (under the RFC 6528 secret) of a 4-tuple: the ISN's F and
 * the IPv6 flow label take different bits of it. */
uint64_t tcp_tuple_hash(const struct tcpc_stack *stack, const struct tcpc_addr *laddr,
                        uint16_t lport, const struct tcpc_addr *faddr, uint16_t fport);
/* The same for a 4-tuple without a control block (TIME_WAIT reuse). */
uint32_t tcp_isn_for(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                     const struct tcpc_addr *faddr, uint16_t fport);

/*
 * The one place an MSS derives from an MTU (the link's, or one an ICMP
 * error reports): what a packet of mtu bytes of the family carries after
 * the IP and a bare TCP header, bounded by what the IP header's length
 * field can say (IPv4: 65535 bytes in all; IPv6: 65535 after its 40-byte
 * header). 0 when not even the headers fit.
 */
uint32_t tcp_mss_for_mtu(bool v6, uint32_t mtu);

/* Our MSS on this link for the family, less TCP_MAXSEG (usermss, 0 when
 * unset): what our SYN or SYN-ACK offers and the most we ever send. */
uint16_t tcp_mss_offer(const struct tcpc_stack *stack, bool v6, uint16_t usermss);

/* tcp_mss_offer for tp's family and TCP_MAXSEG. */
uint16_t tcp_mss_local(const struct tcpc_stack *stack, const struct tcpcb *tp);

/* Sets t_maxseg from the peer's MSS option (0: absent). */
void tcp_mss_update(struct tcpc_stack *stack, struct tcpcb *tp, uint16_t peer_mss);

/*
 * The window scale we offer, on a SYN and a SYN-ACK alike: FreeBSD's, the
 * smallest shift whose window covers the largest buffer a socket may have
 * (kern.ipc.maxsockbuf: 6 for its 2 MiB default, 14 at 4 GiB, 1 at 72 KiB),
 * not this socket's buffer, which may grow. Larger shifts than needed make
 * the unscaled window tiny, and some middleboxes rewrite or strip the
 * option: a peer that then believes the window unscaled stalls.
 */
uint8_t tcp_rcv_wscale(const struct tcpc_stack *stack);

/*
 * FreeBSD's tcp_mss rounding, once t_maxseg is known: each buffer's limit
 * (SO_SNDBUF, SO_RCVBUF) grows to a whole number of segments, at most
 * kern.ipc.maxsockbuf (65,536 becomes 65,700 at MSS 1,460), so the window
 * is offered in whole segments; a send limit below one segment lowers the
 * MSS to it instead.
 */
void tcp_sb_fit_mss(const struct tcpc_stack *stack, struct tcpcb *tp);

/* Our timestamp clock (milliseconds) as tp sends it. */
uint32_t tcp_ts_now(const struct tcpc_stack *stack, const struct tcpcb *tp);

/* Timers: arm kind `delay` microseconds from now, cancel, test. */
void tcp_timer_set(struct tcpc_stack *stack, struct tcpcb *tp, enum tcp_timer_kind kind,
                   tcpc_time_t delay);
/* Arms tp's wheel entry at its earliest logical deadline (or cancels it). */
void tcp_timer_rearm(struct tcpc_stack *stack, struct tcpcb *tp);
/* tcp_advance when its check found something due (out of line: the check
 * is what nearly every call runs). */
void tcp_advance_due(struct tcpc_stack *stack);
/* Takes tp's wheel entry off (its deadlines are the caller's). */
void tcp_timer_cancel_all(struct tcpc_stack *stack, struct tcpcb *tp);
/* Inline: most stops find the timer stopped already (every segment sent
 * stops the delayed ACK). A stopped deadline leaves the wheel entry where
 * it is when it is still at or before what remains (tcp_timer_rearm). A
 * filed entry always is (tcp_timer_set), so the earliest of the rest need
 * not be found: tcp_timer_rearm has work only when none remain (the entry
 * is cancelled) or no entry is filed (a timer firing; it files one). */
static inline void tcp_timer_stop(struct tcpc_stack *stack, struct tcpcb *tp,
                                  enum tcp_timer_kind kind)
{
    if (kind == TT_REXMT)
        tp->t_flags2 &= (uint8_t) ~(TF2_RACK_TIMER | TF2_TLP_TIMER);
    if (!tp->t_deadline[kind])
        return;
    tp->t_deadline[kind] = 0;
    tcpc_time_t left = 0;
    for (int k = 0; k < TT_COUNT; k++)
        left |= tp->t_deadline[k];
    if (!left || !timer_armed(&tp->t_timer))
        tcp_timer_rearm(stack, tp);
}
static inline bool tcp_timer_active(const struct tcpcb *tp, enum tcp_timer_kind kind)
{
    return tp->t_deadline[kind] != 0;
}

/*
 * What a segment's IP header carries besides its addresses, as a socket's
 * IP-level options set it: the hop limit (0: the family's default,
 * net.inet.ip.ttl or net.inet6.ip6.hlim), the TOS or traffic class (its
 * ECN bits are the engine's, tcp_ecn.c), DF forced by IP_DONTFRAG, and DF
 * withheld because an ICMP error said the path needs fragments.
 */
struct tcp_md5_key;
struct tcp_ao_sign;

struct tcp_ipopt {
    uint8_t ttl;
    uint8_t tos;
    bool dontfrag;
    bool no_pmtud;
};

/* A connection's (or listener's) IP-level options. */
struct tcp_ipopt tcp_ipopt_of(const struct tcpcb *tp);

/*
 * The one place TCP chooses its IP header fields, for connections, SYN
 * cache entries and segments that belong to no connection alike: version
 * and addresses, hop limit, TOS, DF (IPv4: net.inet.tcp.path_mtu_discovery
 * or IP_DONTFRAG, unless no_pmtud) and the IPv6 flow label (RFC 6437: a
 * keyed hash of the 4-tuple, so that every segment of a connection, its
 * SYN-ACK and its TIME_WAIT answers carry the same label without storing
 * it; 0 with net.inet6.ip6.auto_flowlabel 0). o NULL: the defaults.
 */
void tcp_ip_fill(const struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                 const struct tcpc_addr *faddr, uint16_t fport, const struct tcp_ipopt *o,
                 struct ip_repr *ip);

/* tcp_ip_fill for a segment of tp. */
void tcp_fill_ip(const struct tcpc_stack *stack, const struct tcpcb *tp, struct ip_repr *ip);

/* Sends a segment that belongs to no connection (RST, or an ACK from a
 * compact state): addresses are ours (laddr) and the peer's (faddr). */
void tcp_respond(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                 const struct tcpc_addr *faddr, uint16_t fport, uint32_t seq, uint32_t ack,
                 uint8_t flags, const struct tcp_md5_key *md5);
/* The same with a window field and options (opts may be NULL): a TIME_WAIT
 * record's ACK with its timestamps. Signed with md5 (RFC 2385) or under ao
 * (RFC 5925) unless NULL.
 * 0 when sent, or a negative errno. */
int tcp_respond_opts(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                     const struct tcpc_addr *faddr, uint16_t fport, uint32_t seq, uint32_t ack,
                     uint8_t flags, uint16_t win, const struct tcp_opts *opts,
                     const struct tcp_ipopt *ipo, const struct tcp_md5_key *md5,
                     const struct tcp_ao_sign *ao);
/* A RST (or other bare segment) for connection tp, with its IP options
 * and its signature key or MKT. */
void tcp_respond_tp(struct tcpc_stack *stack, const struct tcpcb *tp, uint32_t seq, uint32_t ack,
                    uint8_t flags);

/* Readiness: mark tp for event delivery; deliver everything marked. */
void tcp_notify(struct tcpc_stack *stack, struct tcpcb *tp);
void tcp_deliver_events(struct tcpc_stack *stack);
uint32_t tcp_readiness(const struct tcpc_stack *stack, const struct tcpcb *tp);

/* tcp_input.c: option negotiation and initial sequence state */
void tcp_syn_offer(struct tcpc_stack *stack, struct tcpcb *tp);
void tcp_syn_negotiate(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o);
void tcp_seq_init_snd(struct tcpc_stack *stack, struct tcpcb *tp);

/* tcp_output.c */
int tcp_output(struct tcpc_stack *stack, struct tcpcb *tp);
int tcp_output_force(struct tcpc_stack *stack, struct tcpcb *tp);
/* The rate tp's data is paced at, bytes per second (0: not paced): the
 * algorithm's t_pacing_rate under t_max_pacing_rate, or the cap alone. */
uint32_t tcp_pacing_rate(const struct tcpcb *tp);
/* tcp_output, the same segments, for the callers that usually find
 * nothing due (after a read, after a segment's text): the common case,
 * where only a window update could be due, is asked cheaply first. */
int tcp_output_if_due(struct tcpc_stack *stack, struct tcpcb *tp);
void tcp_send_challenge_ack(struct tcpc_stack *stack, struct tcpcb *tp);
void tcp_xmit_timer(struct tcpc_stack *stack, struct tcpcb *tp, tcpc_time_t rtt);
/* t_rtttime's clock: the low 32 bits of the stack's, never 0 (which means
 * no segment is timed); and the time since such a stamp. */
uint32_t tcp_rtt_stamp(const struct tcpc_stack *stack);
tcpc_time_t tcp_rtt_since(const struct tcpc_stack *stack, uint32_t stamp);
/* Payload bytes a full segment of tp carries (the MSS less options). */
uint32_t tcp_seg_payload(const struct tcpcb *tp);
/* Bytes in the send buffer not yet sent. */
uint32_t tcp_sb_unsent(const struct tcpcb *tp);
/* Resends at most maxlen bytes from seq (already sent, below snd_max)
 * without moving snd_nxt: the retransmissions loss recovery picks. Returns
 * the sequence space sent, 0 when there was nothing there, or the link's
 * error. */
int tcp_rexmit_segment(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t seq, uint32_t maxlen);
/* One segment of new data past snd_max (nothing being resent), whatever
 * the congestion window says, if the peer's window takes it: the
 * tail-loss probe's first choice. Returns as tcp_rexmit_segment. */
int tcp_probe_new_data(struct tcpc_stack *stack, struct tcpcb *tp);
/* Where the last segment of data sent starts, not below floor; *len: its
 * bytes (0 when only the FIN is there). */
uint32_t tcp_tail_seq(const struct tcpcb *tp, uint32_t floor, uint32_t *len);
/* A keepalive probe in FreeBSD's form: no data, SEQ one below SND.UNA (old
 * to the peer, who must answer with an ACK, or an RST if it lost the
 * connection), our ACK, window and timestamps; 0 or the link's error. */
int tcp_send_keepalive(struct tcpc_stack *stack, struct tcpcb *tp);

/* tcp_timer.c */
void tcp_timer_fire(struct tcpc_stack *stack, struct tcpcb *tp);
uint32_t tcp_rexmt_timeout(const struct tcpc_stack *stack, const struct tcpcb *tp);
/* Keepalive parameters in force for tp (TCP_KEEPIDLE etc., else the
 * net.inet.tcp tunables), whether keepalive is on (SO_KEEPALIVE or
 * always_keepalive), and the keep timer armed keepidle from now for a
 * synchronized connection (stopped when keepalive is off). */
uint64_t tcp_keepidle_ms(const struct tcpc_stack *stack, const struct tcpcb *tp);
uint64_t tcp_keepintvl_ms(const struct tcpc_stack *stack, const struct tcpcb *tp);
unsigned tcp_keepcnt(const struct tcpc_stack *stack, const struct tcpcb *tp);
bool tcp_keep_enabled(const struct tcpc_stack *stack, const struct tcpcb *tp);
void tcp_keep_start(struct tcpc_stack *stack, struct tcpcb *tp);
/* A connection in FIN_WAIT_2 that can read no more (closed, or shut down
 * both ways) gets its FIN_WAIT_2 timeout armed. */
void tcp_fin_wait_2_start(struct tcpc_stack *stack, struct tcpcb *tp);

#endif
