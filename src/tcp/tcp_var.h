/*
 * The TCP control block and the per-stack TCP state.
 *
 * A tcpcb carries one connection (or listener) from socket() to the moment
 * it is freed. Its socket-facing part (descriptor, buffers, options, error,
 * readiness) lives in the same struct: FreeBSD splits socket, inpcb and
 * tcpcb, but in a single-threaded stack with one protocol the split buys
 * nothing but pointers. Addressing and lookup live in the PCB layer.
 *
 * Timers: a connection has several logical timers (retransmit, persist,
 * connection-establishment, delayed ACK, 2MSL) but one wheel entry, armed at
 * the earliest of them. That keeps one 32-byte timer per connection instead
 * of five.
 */
#ifndef TCPCORE_TCP_TCP_VAR_H
#define TCPCORE_TCP_TCP_VAR_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "pcb/pcb.h"
#include "tcp/cc_state.h"
#include "tcp/sbpool.h"
#include "tcp/sockbuf.h"
#include "tcp/tcp.h"
#include "tcpcore/addr.h"
#include "tcpcore/socket.h"
#include "util/pool.h"
#include "util/timer.h"

struct tcp_md5_key;
struct tcp_ao_info;

/* Logical timers of a connection. */
enum tcp_timer_kind {
    TT_REXMT,
    TT_PERSIST,
    TT_KEEP, /* connection establishment (keepinit), then keepalive */
    TT_DELACK,
    TT_2MSL, /* FIN_WAIT_2 of an orphan (TIME_WAIT has its own clock) */
    TT_COUNT
};

/*
 * The pacing release (tcp_output.c): when a paced connection may send its
 * next burst of data. It shares the FIN_WAIT_2 timer's slot, since the two
 * never overlap: pacing holds only data not yet sent, and FIN_WAIT_2 means
 * every byte and the FIN we sent were acknowledged, so there is none; a
 * release still armed when the FIN's ACK arrives is stopped on the way in
 * (tcp_input.c), and the slot's handler tells the two apart by the state.
 * A separate slot would cost every connection 8 bytes and a sixth deadline
 * in every scan of them.
 */
#define TT_PACE TT_2MSL

/* tcpcb flags */
#define TF_ACKNOW      0x0001     /* send an ACK now */
#define TF_DELACK      0x0002     /* an ACK is being delayed */
#define TF_NODELAY     0x0004     /* TCP_NODELAY: no Nagle */
#define TF_REQ_SCALE   0x0008     /* we offer window scaling */
#define TF_RCVD_SCALE  0x0010     /* the peer offered it too */
#define TF_REQ_TSTMP   0x0020     /* we offer timestamps */
#define TF_RCVD_TSTMP  0x0040     /* the peer offered them too */
#define TF_SACK_PERMIT 0x0080     /* both sides offered SACK */
#define TF_SENTFIN     0x0100     /* our FIN has been sent (snd_max covers it) */
#define TF_NEEDFIN     0x0200     /* the application shut down the write side */
#define TF_RCVDFIN     0x0400     /* the peer's FIN has been received */
#define TF_SYN_REXMT   0x0800     /* the SYN or SYN-ACK had to be retransmitted */
#define TF_CANTRCVMORE 0x1000     /* the application shut down the read side */
#define TF_LINGER0     0x2000     /* SO_LINGER with 0: close resets */
#define TF_ORPHAN      0x4000     /* the descriptor is closed; the connection finishes alone */
#define TF_NOTIFY      0x8000     /* on the pending-notification list */
#define TF_QCOMPLETE   0x10000    /* a child on its listener's completed queue (else incomplete) */
#define TF_NOOPT       0x20000    /* TCP_NOOPT: no options on our SYN or SYN-ACK */
#define TF_TIMEWAIT    0x40000    /* CLOSED because the connection went to a TIME_WAIT record */
#define TF_FASTRECOV   0x80000    /* fast recovery (RFC 6675 / 6582) until snd_recover is acked */
#define TF_SACKRECOV   0x100000   /* that recovery follows the SACK scoreboard (else NewReno) */
#define TF_PREVVALID   0x200000   /* a first timeout may prove spurious (snd_*_prev, t_rxt_tsval) */
#define TF_NOPUSH      0x400000   /* TCP_NOPUSH / TCP_CORK: only full segments until cleared */
#define TF_DONTFRAG    0x800000   /* IP_DONTFRAG: DF even with net.inet.tcp.path_mtu_discovery 0 */
#define TF_SBSTARTED   0x1000000  /* buffers sized: the connection started (SO_*BUF now refused) */
#define TF_SBWAIT      0x2000000  /* on the list of those waiting for buffer memory */
#define TF_RCVSHORT    0x4000000  /* receive storage refused: the window is what storage holds */
#define TF_SNDBUF_SET  0x8000000  /* SO_SNDBUF given: no send-buffer auto-sizing */
#define TF_RCVBUF_SET  0x10000000 /* SO_RCVBUF given: no receive-buffer auto-sizing */
#define TF_SNDSHORT    0x20000000 /* a send found no storage within the budget */
#define TF_KEEPALIVE   0x40000000 /* SO_KEEPALIVE */
#define TF_KEEPPROBED  0x80000000u /* a keepalive probe went out since the last segment arrived */

/* t_flags2: ECN (RFC 3168), FreeBSD's TF2_ECN_* */
#define TF2_ECN_SYN     0x01 /* our SYN asked for ECN */
#define TF2_ECN_PERMIT  0x02 /* ECN negotiated: new data goes out ECT(0) */
#define TF2_ECN_SND_ECE 0x04 /* a CE mark arrived: ECE on what we send until the peer's CWR */
#define TF2_ECN_SND_CWR 0x08 /* we reduced for an ECE: CWR on the next new data */
#define TF2_CC_RATE     0x10 /* the algorithm takes delivery-rate samples (tcp_cc.h) */
/* The retransmission timer's slot holds RACK's reorder timer or the
 * tail-loss probe's instead (tcp_rack.h); setting or stopping TT_REXMT
 * clears both. */
#define TF2_RACK_TIMER 0x20
#define TF2_TLP_TIMER  0x40
/* net.inet.tcp.rexmit_drop_options: this connection attempt's SYNs offer
 * no SACK any more (window scale and timestamps go with their TF_REQ_*). */
#define TF2_SYN_NOSACK 0x80

/* A link between control blocks: the pool index plus one, 0 for none (so a
 * zeroed tcpcb links nowhere). Half the size of a pointer, and there are
 * nine links in every tcpcb; tcb_deref and tcb_ref_of (below) convert. */
typedef uint32_t tcb_ref;

struct tcpcb {
    /* Identity */
    int sd;                /* descriptor, or -1 once closed */
    uint8_t state;         /* enum tcp_fsm_state */
    uint8_t family;        /* TCPC_AF_INET or TCPC_AF_INET6 */
    uint8_t t_cc : 4;      /* congestion-control algorithm (tcp_cc.h), an index */
    uint8_t t_hystart : 2; /* enum hystart_phase (cc_hystart.h) */
    /* Accept filter (tcp_accf.h), ACCF_*: a listener's is the one its
     * children pass through; a child's is the one holding it off the
     * accept queue (ACCF_NONE: not held). Two bits, here where they were
     * free: the byte it had holds t_segs_unacked. */
    uint8_t t_accf : 2;
    uint8_t t_flags2; /* TF2_* */
    uint32_t t_flags; /* TF_* */
    /* Addresses and ports live in tp->inp (the PCB layer's record), the one
     * copy the lookup tables, the listing and the engine all read. */

    /* Send sequence space (RFC 9293 3.3.1) */
    uint32_t iss, snd_una, snd_nxt, snd_max;
    uint32_t snd_wnd, max_sndwnd; /* scaled */
    uint32_t snd_wl1, snd_wl2;
    uint32_t snd_cwnd, snd_ssthresh;
    uint32_t snd_recover; /* snd_max when the last recovery or timeout began */
    uint32_t snd_up;      /* RFC 9293 SND.UP: just past our urgent byte (TCPOOB_SNDURG) */
    uint32_t t_sack;      /* SACK record (tcp_sack.h) in the stack's pool, plus one; 0: none */
    /* Before the last timeout, for its undo if it proves spurious (RFC 3522) */
    uint32_t snd_cwnd_prev, snd_ssthresh_prev;
    uint32_t t_rxt_tsval; /* our TSval when it fired */

    /* Congestion control (tcp_cc.h) */
    union cc_state t_ccs; /* the algorithm's own state */

    /* Receive sequence space */
    uint32_t irs, rcv_nxt, rcv_adv, rcv_wnd;
    uint32_t last_ack_sent;
    uint32_t rcv_up; /* RCV.UP: just past the peer's urgent byte (TCPOOB_MARK) */

    /* Options */
    uint16_t t_maxseg;            /* payload bytes per segment */
    uint16_t t_usermss;           /* TCP_MAXSEG, 0 when unset */
    uint8_t snd_scale, rcv_scale; /* RFC 7323 shifts in force */
    uint8_t request_r_scale;      /* the shift we offer */
    uint8_t t_rxtshift;           /* RTO backoff shift; cleared by a new RTT sample */
    uint8_t t_rxtcount;           /* timeouts since the last ACK of new data */
    uint8_t t_ip_ttl;             /* IP_TTL / IPV6_UNICAST_HOPS, 0: the family's default */
    uint8_t t_keepcnt;            /* TCP_KEEPCNT, 0: net.inet.tcp.keepcnt */
    /* Full segments received since the last ACK: an ACK goes at two, so a
     * byte is plenty (a count wrapping after 256 ACKs the link refused in
     * a row only delays the next by a segment). Here, where t_accf's byte
     * was, and its four bytes before make room for t_max_pacing_rate. */
    uint8_t t_segs_unacked;
    /* Consecutive duplicate ACKs, saturating: only whether it has reached
     * TCP_DUPTHRESH is ever asked, so a byte holds it. */
    uint8_t t_dupacks;
    /* RACK-TLP's (tcp_rack.h) reordering knowledge, which outlives the
     * SACK record a flight holds (RFC 8985 keeps it per connection): the
     * peer has delivered out of order; D-SACK rounds widening the window;
     * and the recoveries it stays wide for, less one (meaningful only
     * while t_reo_steps is not 0). In the byte t_dupacks gave up. */
    uint8_t t_reordered : 1;
    uint8_t t_reo_steps : 3;
    uint8_t t_reo_persist : 4;
    /* Seconds, 0: the net.inet.tcp tunable of the same name */
    uint16_t t_keepinit;  /* TCP_KEEPINIT */
    uint16_t t_keepidle;  /* TCP_KEEPIDLE */
    uint16_t t_keepintvl; /* TCP_KEEPINTVL */
    uint16_t
        t_pmtud_saved_maxseg; /* t_maxseg before black-hole detection lowered it, 0: not lowered */
    /* TCP_DEFER_ACCEPT seconds (0: none): a listener's limit; a held
     * child's copy says its keep timer measures the hold (tcp_accf.h). */
    uint16_t t_defer_accept;
    uint32_t ts_recent; /* peer's last TSval worth echoing */
    uint8_t t_oobflags; /* TCPOOB_* (tcp_urgent.h) */
    uint8_t t_iobc;     /* the peer's out-of-band byte (TCPOOB_HAVEDATA) */
    int16_t linger;     /* SO_LINGER seconds (0..TCP_LINGER_MAX), -1: off */
    /* The stack's clock in milliseconds when the data a retransmission
     * timeout found unacknowledged was last known to progress (the timer's
     * start): TCP_USER_TIMEOUT counts from it. Set at the first timeout. */
    uint32_t t_rxtstart;
    /* TCP_USER_TIMEOUT in milliseconds, 0: off; beside the clock it
     * counts from. */
    uint32_t t_user_timeout;
    uint32_t ts_recent_age; /* the stack's clock in seconds when ts_recent was taken */
    uint32_t ts_offset;     /* per-connection random TSval offset */
    /* snd_max at the last ECN reduction: one per window (RFC 3168 6.1.2).
     * Here, and t_pacing_rate below, where they fill what
     * would be alignment padding. */
    uint32_t t_ecn_recover;

    /* Round-trip timing (RFC 6298), microseconds; 32 bits hold a 71-minute
     * value, where RTT samples are capped at TCP_RTT_MAX and the RTO at
     * net.inet.tcp.rexmit_max (at most 600 s). */
    uint32_t t_srtt, t_rttvar, t_rxtcur;
    /* IP_TOS / IPV6_TCLASS, ECN bits clear (the engine owns them); here,
     * where it fills what would be alignment padding (t_ip_ttl beside
     * t_rxtcount does the same). */
    uint8_t t_ip_tos;
    /* TCP Fast Open (tcp_fastopen.h): TFO_* flags, and the server's MSS
     * the cache gave with the cookie (0: unknown); the cookie itself stays
     * in the cache. Here, in what would be alignment padding. */
    uint8_t t_tfo;
    uint16_t t_tfo_mss;
    /* When the timed segment was sent: the low 32 bits of the stack's
     * microsecond clock (tcp_rtt_stamp), 0: none; an RTT sample is the
     * 32-bit difference, good for 71 minutes, beyond any RTT kept. */
    uint32_t t_rtttime;
    uint32_t t_rtseq; /* its sequence number */

    /* RFC 5961 challenge-ACK rate limit */
    uint32_t t_challenge_start; /* the stack's clock in milliseconds, 32 bits as t_rcvtime */
    uint32_t t_challenge_count;

    /* The stack's clock in milliseconds when the last segment arrived (RFC
     * 5681 4.1's idle test; 32 bits: only differences are taken, and an idle
     * time past 49 days may read as short). */
    uint32_t t_rcvtime;
    /* TCPC_SO_MAX_PACING_RATE, bytes per second, 0: none. It caps
     * t_pacing_rate, and alone paces at itself (tcp_output.c). Here, where
     * t_segs_unacked was (now a byte, above). */
    uint32_t t_max_pacing_rate;

    /* Timers */
    tcpc_time_t t_deadline[TT_COUNT]; /* 0: not armed */
    struct timer t_timer;

    /* Socket side. Storage is held only while there are bytes to hold
     * (sbpool.h); the limits are FreeBSD's sb_hiwat, grown by auto-sizing. */
    struct sockbuf snd, rcv;
    struct sb_reass rcv_reass; /* out-of-order data held in rcv */
    uint32_t snd_bufsize, rcv_bufsize;
    /* Receive auto-sizing: when the measured interval began (ms, 0: none)
     * and the in-order bytes received since (FreeBSD's rfbuf_ts, _cnt). */
    uint32_t t_rfbuf_ts, t_rfbuf_cnt;
    tcb_ref t_sbwait_next; /* the list of those waiting for buffer memory */
    /* Bytes per second a model-based congestion-control algorithm asks the
     * output path to pace at (tcp_cc.h); 0: no pacing. */
    uint32_t t_pacing_rate;
    /* Positive errno values, all below 200: 16 bits hold them, and the
     * halves saved make room for snd_up and rcv_up within 512 bytes. */
    int16_t so_error;     /* reported once */
    int16_t t_softerror;  /* ICMP error remembered (RFC 1122 4.2.3.9) */
    uint32_t ev_reported; /* readiness bits already delivered */
    tcb_ref notify_next;  /* pending-notification list */

    /* Listener side. Every child is on one of its listener's two lists, so
     * closing a listener visits its children only, and a child leaves in
     * O(1) (FreeBSD's so_incomp and so_comp). */
    tcb_ref parent;         /* listener that spawned us, until accepted */
    tcb_ref q_next, q_prev; /* link on the parent's incomplete or completed list */
    tcb_ref q_head, q_tail; /* listener: completed, awaiting accept (FIFO) */
    /* listener: children not yet acceptable, newest first: in SYN_RECEIVED,
     * or held by an accept filter (FreeBSD's so_incomp); the tail is the
     * oldest, which a full queue of held ones gives up first */
    tcb_ref q_incomp, q_incomp_tail;
    uint32_t q_len, q_limit; /* completed children; backlog */
    uint32_t q_incqlen;      /* children on q_incomp (FreeBSD's so_incqlen) */

    /* Every control block of the stack, for teardown and listing */
    tcb_ref all_next, all_prev;

    /* Addressing in the PCB tables (src/pcb), owned by this tcpcb */
    struct inpcb *inp;

    /* RFC 2385 (tcp_md5.h): the socket's keys (TCPC_TCP_MD5SIG), and the
     * one this connection signs with (a reference), NULL: unsigned. */
    struct tcp_md5_key *t_md5keys;
    struct tcp_md5_key *t_md5;
    /* RFC 5925 (tcp_ao.h): the socket's MKTs and the connection's TCP-AO
     * state, allocated with the first MKT (or, accepted, with the
     * connection); NULL: no TCP-AO. */
    struct tcp_ao_info *t_ao;
};

/* A full connection, buffers aside, fits in eight cache lines; the compact
 * forms (SYN cache entries, TIME_WAIT records) exist so that the states
 * that come in floods never pay this. */
static_assert(sizeof(struct tcpcb) <= 512, "a tcpcb stays within 512 bytes");

/* Per-stack TCP state. */
struct tcp_state {
    const struct mem *mem;  /* the stack's allocator (util/mem.h) */
    struct tcpcb **sockets; /* by descriptor */
    uint32_t nsockets, maxsockets;
    /* Descriptors never used are handed out first, in order; after that, the
     * one closed longest ago (a FIFO of freed descriptors, a ring of
     * maxsockets entries): a stale descriptor is reused as late as possible,
     * and assigning one is O(1). */
    uint32_t sd_fresh; /* descriptors [sd_fresh, maxsockets) never used */
    uint32_t *sd_free; /* ring of freed descriptors */
    uint32_t sd_free_head, sd_nfree;
    struct pool tcbs;        /* control blocks, kern.ipc.maxsockets of them */
    struct sbpool sbpool;    /* connections' ring buffers */
    struct pool sackpool;    /* SACK records (tcp_sack.h), net.inet.tcp.sack.globalmaxholes */
    tcpc_time_t sb_retry_at; /* after a failed refill: when to try again */
    uint32_t rcv_slack;      /* tcp_sb_rcv_reach's margin: the link's IPv4 MSS less one */
    tcb_ref notify_head;     /* sockets whose readiness may have changed */
    tcb_ref sbwait_head;     /* connections waiting for buffer memory (tcp_sbuf.h) */
    tcpc_event_fn event_cb;
    void *event_ctx;
    uint8_t isn_key[16];       /* RFC 6528 secret */
    struct pcbinfo *pcb;       /* connection tables */
    struct tcpcb *demux_last;  /* the connection the last segment was for (tcp_demux.c) */
    tcb_ref all;               /* every control block (all_next list) */
    uint32_t nconns;           /* control blocks alive, with or without sd */
    struct syncache *syncache; /* half-open connections (src/tcp/syncache.c) */
    struct tw_state *tw;       /* compressed TIME_WAIT (src/tcp/timewait.c) */
    struct tfo_state *tfo;     /* Fast Open cookie cache (src/tcp/tcp_fastopen.c) */
    bool group_syncing;        /* tcp_group_sync is running (tcp_group.c) */
    /* The earliest deadline of the layer's timer sources (connection
     * timers, the syncache, TIME_WAIT, spares to refill), or 0 when not
     * known: tcp_advance then looks at every source and sets it again.
     * Whatever arms a deadline lowers it (tcp_due_lower) and whatever
     * cancels one forgets it (tcp_due_forget), so tcpc_next_deadline
     * answers from it, and tcpc_advance returns at once while it lies ahead. */
    tcpc_time_t due;
    /* The pacing burst under way (tcp_output.c): whose (compared, never
     * followed: a control block freed and reused has no release ahead, so
     * it begins a burst of its own), begun when, and the time its release
     * must stay before. */
    const struct tcpcb *pace_tp;
    tcpc_time_t pace_at, pace_end;
};

static inline void tcp_due_lower(struct tcp_state *ts, tcpc_time_t at)
{
    if (at < ts->due)
        ts->due = at;
}

/* A deadline went or moved later: the cached one may now be early. */
static inline void tcp_due_forget(struct tcp_state *ts)
{
    ts->due = 0;
}

static inline struct tcpcb *tcb_deref(const struct tcp_state *ts, tcb_ref r)
{
    return r ? (struct tcpcb *)pool_at(&ts->tcbs, r - 1) : NULL;
}

static inline tcb_ref tcb_ref_of(const struct tcp_state *ts, const struct tcpcb *tp)
{
    return tp ? pool_index(&ts->tcbs, tp) + 1 : 0;
}

#define TCPS_HAVEESTABLISHED(s) ((s) >= TCPS_ESTABLISHED)
#define TCPS_HAVERCVDFIN(s)                                                                        \
    ((s) == TCPS_CLOSE_WAIT || (s) == TCPS_CLOSING || (s) == TCPS_LAST_ACK || (s) == TCPS_TIME_WAIT)

/* Retransmissions before a connection is dropped (FreeBSD's TCP_MAXRXTSHIFT). */
#define TCP_MAXRXTSHIFT 12
/* The largest RTT sample taken, microseconds (about 9 minutes): smoothing
 * multiplies it by 8 in 32 bits. */
#define TCP_RTT_MAX (UINT32_MAX / 8)
/* Largest TCP_KEEPINIT in seconds: net.inet.tcp.keepinit's bound, an hour. */
#define TCP_KEEPINIT_MAX 3600
/* Largest unscaled window. */
/* The longest SO_LINGER a tcpcb holds (int16_t linger): 9 hours. */
#define TCP_LINGER_MAX 32767
#define TCP_MAXWIN     65535
/* Initial window in segments (RFC 6928). */
#define TCP_INITIAL_WINDOW 10
/* Duplicate ACKs that signal a loss (RFC 5681 3.2, RFC 6675's DupThresh). */
#define TCP_DUPTHRESH 3

#endif
