/*
 * The socket-style calls of include/tcpcore/socket.h.
 *
 * Each call validates its descriptor and state, does its work on the control
 * block, lets tcp_output send whatever became due, and delivers the
 * readiness events that resulted, so an application sees a consistent
 * socket whenever its callback runs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/stack.h"
#include "core/sysctl.h"
#include "tcp/tcp_accf.h"
#include "tcp/tcp_ao.h"
#include "tcp/tcp_md5.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_demux.h"
#include "tcp/tcp_fastopen.h"
#include "tcp/tcp_group.h"
#include "tcp/tcp_sbuf.h"
#include "tcp/tcp_subr.h"
#include "tcp/tcp_urgent.h"
#include "tcp/timewait.h"
#include "wire/ip.h"
#include "tcpcore/socket.h"

static struct tcpcb *usr_tcb(struct tcpc_stack *stack, int sd)
{
    struct tcp_state *ts = stack->tcp;
    if (sd < 0 || (uint32_t)sd >= ts->maxsockets)
        return NULL;
    return ts->sockets[sd];
}

/* Readiness bits consumed by the call just made may fire again later. */
static void usr_done(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (tp)
        tp->ev_reported &= tcp_readiness(stack, tp);
    if (stack->tcp->notify_head) /* usually none: a call only to find that out */
        tcp_deliver_events(stack);
}

void tcpc_set_event_cb(struct tcpc_stack *stack, tcpc_event_fn fn, void *ctx)
{
    stack->tcp->event_cb = fn;
    stack->tcp->event_ctx = ctx;
}

int tcpc_socket(struct tcpc_stack *stack, int family)
{
    if (family != TCPC_AF_INET && family != TCPC_AF_INET6)
        return -EAFNOSUPPORT;
    int err;
    struct tcpcb *tp = tcb_new(stack, (uint8_t)family, &err);
    if (!tp)
        return err;
    int sd = tcb_sd_assign(stack->tcp, tp);
    if (sd < 0)
        tcb_free(stack, tp);
    return sd;
}

static struct tcpc_addr usr_wildcard(const struct tcpcb *tp)
{
    return tp->family == TCPC_AF_INET ? tcpc_addr_v4(0) : (struct tcpc_addr){{0}};
}

/* Does addr belong to tp's family? An IPv6 socket takes IPv4-mapped
 * addresses unless IPV6_V6ONLY. */
static bool usr_family_ok(const struct tcpcb *tp, const struct tcpc_addr *addr)
{
    bool v4 = tcpc_addr_is_v4(addr);
    if (tp->family == TCPC_AF_INET)
        return v4;
    return !v4 || !(tp->inp->flags & INP_V6ONLY);
}

static int usr_bind(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcpc_addr *addr,
                    uint16_t port)
{
    if (tp->state != TCPS_CLOSED)
        return -EINVAL;
    struct tcpc_addr laddr = addr ? *addr : usr_wildcard(tp);
    return demux_bind(stack, tp, &laddr, port);
}

int tcpc_bind(struct tcpc_stack *stack, int sd, const struct tcpc_addr *addr, uint16_t port)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    return usr_bind(stack, tp, addr, port);
}

static int usr_listen(struct tcpc_stack *stack, struct tcpcb *tp, int backlog)
{
    if (tp->state != TCPS_CLOSED && tp->state != TCPS_LISTEN)
        return -EINVAL;
    if (backlog < 1)
        backlog = 1;
    if ((uint32_t)backlog > stack->tcp->maxsockets)
        backlog = (int)stack->tcp->maxsockets;
    tp->q_limit = (uint32_t)backlog;
    /* Children start without storage; the spares data arriving on them
     * needs are set aside now, off the packet path. */
    tcp_sb_refill(stack);
    if (tp->state == TCPS_LISTEN)
        return 0;
    int err = demux_listen(stack, tp);
    if (err)
        return err;
    tp->state = TCPS_LISTEN;
    return 0;
}

int tcpc_listen(struct tcpc_stack *stack, int sd, int backlog)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    /* In a group the listener is published, so that every member opens
     * its copy (tcp_group.c); the slot is taken first, so that a full
     * group refuses the listen instead of leaving it half done. */
    int slot;
    int err = tcp_group_listen_begin(stack, tp, &slot);
    if (err)
        return err;
    err = usr_listen(stack, tp, backlog);
    tcp_group_listen_end(stack, tp, sd, slot, err);
    return err;
}

int tcpc_accept(struct tcpc_stack *stack, int sd, struct tcpc_addr *peer, uint16_t *port)
{
    struct tcpcb *l = usr_tcb(stack, sd);
    if (!l)
        return -EBADF;
    if (l->state != TCPS_LISTEN)
        return -EINVAL;
    struct tcpcb *tp = tcb_child_accept(stack->tcp, l);
    if (!tp)
        return -EAGAIN;
    tcp_sb_refill(stack); /* the spares this child took */
    int nsd = tcb_sd_assign(stack->tcp, tp);
    if (nsd < 0) {
        tcp_drop(stack, tp, ENOBUFS);
        return nsd;
    }
    if (peer)
        *peer = tp->inp->faddr;
    if (port)
        *port = tp->inp->fport;
    tcp_notify(stack, tp);
    usr_done(stack, l);
    return nsd;
}

static int usr_connect_check(const struct tcpcb *tp, const struct tcpc_addr *addr, uint16_t port)
{
    if (tp->state == TCPS_SYN_SENT)
        return -EALREADY;
    if (tp->state == TCPS_LISTEN)
        return -EINVAL;
    if (tp->state != TCPS_CLOSED || tp->inp->fport)
        return -EISCONN;
    if (port == 0 || tcpc_addr_is_any(addr) || !usr_family_ok(tp, addr))
        return -EINVAL;
    return 0;
}

/* The connection-establishment timeout: TCP_KEEPINIT, else the system's. */
static tcpc_time_t usr_keepinit(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    if (tp->t_keepinit)
        return (tcpc_time_t)tp->t_keepinit * TCPC_USEC_PER_SEC;
    return (tcpc_time_t)stack->cfg.tun.keepinit * TCPC_USEC_PER_MSEC;
}

/* An active open up to the first output: addresses, sequence numbers,
 * state and timers. */
static int usr_connect_start(struct tcpc_stack *stack, struct tcpcb *tp,
                             const struct tcpc_addr *addr, uint16_t port)
{
    int err = usr_connect_check(tp, addr, port);
    if (err)
        return err;
    struct tcpc_addr src = tp->inp->laddr;
    if (!tp->inp->lport || tcpc_addr_is_any(&src)) {
        /* RFC 6724 source selection (core/route.c). */
        err = route_source(stack, addr, &src);
        if (err)
            return err;
    }
    err = demux_connect(stack, tp, addr, port, &src);
    if (err)
        return err;
    /* An IPv6 socket connected to an IPv4-mapped address runs over IPv4
     * (FreeBSD turns the inpcb's INP_IPV6 into INP_IPV4): the packets are
     * IPv4 and the mapped form never reaches the wire. */
    if (tcpc_addr_is_v4(addr))
        tp->family = TCPC_AF_INET;
    tp->t_maxseg = tcp_mss_local(stack, tp);
    tp->t_flags |= TF_SBSTARTED;
    tcp_sb_refill(stack); /* spares for what the connection will receive */
    tcp_syn_offer(stack, tp);
    tcp_seq_init_snd(stack, tp);
    tw_connect_inherit(stack, tp); /* a 4-tuple taken over from TIME_WAIT */
    /* RFC 2385: signed from the SYN on when a key covers the peer. */
    tcp_md5_attach(tp, tcp_md5_lookup(tp->t_md5keys, &tp->inp->faddr));
    /* RFC 5925 the same way, with the socket's first MKT for the peer. */
    tcp_ao_connect(tp);
    tp->state = TCPS_SYN_SENT;
    tfo_client_connect(stack, tp);
    STAT_INC(stack, tcps_connattempt);
    tcp_timer_set(stack, tp, TT_KEEP, usr_keepinit(stack, tp));
    return 0;
}

int tcpc_connect(struct tcpc_stack *stack, int sd, const struct tcpc_addr *addr, uint16_t port)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    int err = usr_connect_start(stack, tp, addr, port);
    if (err)
        return err;
    tcp_output(stack, tp);
    usr_done(stack, tp);
    return -EINPROGRESS;
}

/* A pending error is reported once, then cleared (SO_ERROR semantics). */
static int usr_take_error(struct tcpcb *tp)
{
    int err = tp->so_error;
    tp->so_error = 0;
    return -err;
}

/* The bytes iov describes, at most UINT32_MAX (a socket buffer never
 * holds more); -EINVAL for a count outside 0..TCPC_IOV_MAX. */
static int usr_iov_total(const struct iovec *iov, int iovcnt, uint32_t *total)
{
    if (iovcnt < 0 || iovcnt > TCPC_IOV_MAX || (iovcnt > 0 && !iov))
        return -EINVAL;
    uint32_t sum = 0;
    for (int i = 0; i < iovcnt; i++) {
        size_t room = UINT32_MAX - sum;
        sum += iov[i].iov_len > room ? (uint32_t)room : (uint32_t)iov[i].iov_len;
    }
    *total = sum;
    return 0;
}

/* Whether tp may send now: 0, or the answer tcpc_send gives instead. */
static int usr_send_check(struct tcpcb *tp)
{
    if (tp->so_error)
        return usr_take_error(tp);
    if (tp->t_flags & TF_NEEDFIN)
        return -EPIPE;
    if (tp->state == TCPS_SYN_SENT || tp->state == TCPS_SYN_RECEIVED)
        return -EAGAIN;
    if (tp->state != TCPS_ESTABLISHED && tp->state != TCPS_CLOSE_WAIT)
        return tp->state == TCPS_CLOSED && (tp->t_flags & TF_SBSTARTED) ? -EPIPE : -ENOTCONN;
    return 0;
}

static uint32_t usr_queue(struct tcpc_stack *stack, struct tcpcb *tp, const struct iovec *iov,
                          int iovcnt, uint32_t total);

static ssize_t usr_sendv(struct tcpc_stack *stack, int sd, const struct iovec *iov, int iovcnt,
                         bool oob)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    uint32_t total;
    int err = usr_iov_total(iov, iovcnt, &total);
    if (!err)
        err = usr_send_check(tp);
    if (err)
        return err;
    uint32_t n = usr_queue(stack, tp, iov, iovcnt, total);
    if (n == 0) {
        usr_done(stack, tp); /* not writable now: the next writable is news */
        return -EAGAIN;
    }
    if (oob) {
        /* Something goes out now even if the window keeps the data back:
         * an ACK carrying the pointer is the notification RFC 9293 wants
         * to pass a closed window. */
        urg_send_mark(tp);
        tp->t_flags |= TF_ACKNOW;
    }
    tcp_output(stack, tp);
    usr_done(stack, tp);
    return (ssize_t)n;
}

ssize_t tcpc_sendv(struct tcpc_stack *stack, int sd, const struct iovec *iov, int iovcnt)
{
    return usr_sendv(stack, sd, iov, iovcnt, false);
}

/* Appends what fits of iov (total bytes) to the send buffer; returns the
 * bytes queued. Everything is queued before output runs, so the pieces
 * leave together in full segments, as writev's do. */
static uint32_t usr_queue(struct tcpc_stack *stack, struct tcpcb *tp, const struct iovec *iov,
                          int iovcnt, uint32_t total)
{
    uint32_t room = tcp_snd_space(stack, tp), n = 0;
    if (room == 0 && total > 0 && tp->snd_bufsize > tp->snd.len)
        room = 1; /* the limit has room, the budget not: count it and wait for memory */
    if (room > total)
        room = total;
    if (room)
        room = tcp_sb_snd_storage(stack, tp, room);
    for (int i = 0; i < iovcnt && n < room; i++) {
        uint32_t want = iov[i].iov_len > room - n ? room - n : (uint32_t)iov[i].iov_len;
        uint32_t got = sb_append(&tp->snd, iov[i].iov_base, want);
        n += got;
        if (got < want)
            break;
    }
    return n;
}

ssize_t tcpc_sendto(struct tcpc_stack *stack, int sd, const void *buf, size_t len,
                    const struct tcpc_addr *addr, uint16_t port)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    if (!addr || tp->state != TCPS_CLOSED || tp->inp->fport)
        return tcpc_send(stack, sd, buf, len); /* connected: the address is not needed */
    if (tp->t_flags & TF_NEEDFIN)
        return -EPIPE;
    /* The implied connect of FreeBSD's sendto on a TCP socket: the data is
     * queued before the SYN is built, so a Fast Open SYN carries it. */
    int err = usr_connect_start(stack, tp, addr, port);
    if (err)
        return err;
    struct iovec v = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
    uint32_t total = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
    uint32_t n = usr_queue(stack, tp, &v, 1, total);
    tcp_output(stack, tp);
    usr_done(stack, tp);
    return n || len == 0 ? (ssize_t)n : -EAGAIN; /* under way, but no room */
}

ssize_t tcpc_send(struct tcpc_stack *stack, int sd, const void *buf, size_t len)
{
    return tcpc_send_flags(stack, sd, buf, len, 0);
}

ssize_t tcpc_send_flags(struct tcpc_stack *stack, int sd, const void *buf, size_t len, int flags)
{
    if (!usr_tcb(stack, sd))
        return -EBADF;
    if (flags & ~(TCPC_MSG_OOB | TCPC_MSG_DONTWAIT))
        return -EINVAL;
    struct iovec v = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
    return usr_sendv(stack, sd, &v, 1, (flags & TCPC_MSG_OOB) != 0);
}

ssize_t tcpc_recv(struct tcpc_stack *stack, int sd, void *buf, size_t len)
{
    return tcpc_recv_flags(stack, sd, buf, len, 0);
}

ssize_t tcpc_recv_flags(struct tcpc_stack *stack, int sd, void *buf, size_t len, int flags)
{
    struct iovec v = {.iov_base = buf, .iov_len = len};
    return tcpc_recvv(stack, sd, &v, 1, flags);
}

/* Can more bytes still arrive for tp to read without a read first? */
static bool usr_more_may_come(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    if (tp->so_error || (tp->t_flags & (TF_RCVDFIN | TF_CANTRCVMORE)))
        return false;
    if (tp->state == TCPS_CLOSED || tp->state == TCPS_LISTEN)
        return false;
    return tcp_rcv_room(stack, tp) > 0;
}

/* Copies n queued bytes, from offset `from`, out into iov; a read (not a
 * peek) consumes them and the `from` bytes before them. */
static void usr_copy_out(struct tcpcb *tp, const struct iovec *iov, uint32_t from, uint32_t n,
                         bool peek)
{
    if (!peek)
        sb_drop(&tp->rcv, from);
    uint32_t off = 0;
    for (int i = 0; off < n; i++) {
        uint32_t k = iov[i].iov_len < n - off ? (uint32_t)iov[i].iov_len : n - off;
        if (peek)
            sb_copy_out(&tp->rcv, from + off, iov[i].iov_base, k);
        else
            sb_read(&tp->rcv, iov[i].iov_base, k);
        off += k;
    }
}

/* A TCPC_MSG_OOB read: the out-of-band byte into the first buffer with
 * room (a read of 0 bytes only checks that there is one). */
static ssize_t usr_recv_oob(struct tcpcb *tp, const struct iovec *iov, int iovcnt, uint32_t n,
                            bool peek)
{
    uint8_t byte;
    int err = urg_recv_oob(tp, &byte, peek || n == 0);
    if (err || n == 0)
        return err;
    for (int i = 0; i < iovcnt; i++) {
        if (iov[i].iov_len) {
            *(uint8_t *)iov[i].iov_base = byte;
            break;
        }
    }
    return 1;
}

ssize_t tcpc_recvv(struct tcpc_stack *stack, int sd, const struct iovec *iov, int iovcnt, int flags)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    if (flags & ~(TCPC_MSG_PEEK | TCPC_MSG_DONTWAIT | TCPC_MSG_WAITALL | TCPC_MSG_OOB))
        return -EINVAL;
    uint32_t n;
    int err = usr_iov_total(iov, iovcnt, &n);
    if (err)
        return err;
    bool peek = (flags & TCPC_MSG_PEEK) != 0;
    if (flags & TCPC_MSG_OOB)
        return usr_recv_oob(tp, iov, iovcnt, n, peek);
    /* A read ends at the urgent mark (even a WAITALL one, as in BSD), and
     * one that starts there steps over the out-of-band byte. */
    uint32_t skip;
    n = urg_read_limit(tp, n, &skip);
    uint32_t held = tp->rcv.len - skip;
    if (n > held) {
        n = held;
        if ((flags & TCPC_MSG_WAITALL) && usr_more_may_come(stack, tp)) {
            /* All or nothing: the next bytes to arrive fire READABLE
             * again, although some were there already. */
            tp->ev_reported &= ~(uint32_t)TCPC_EV_READABLE;
            return -EAGAIN;
        }
    }
    if (n > 0) {
        usr_copy_out(tp, iov, skip, n, peek);
        if (!peek) {
            urg_consumed(tp);
            tcp_sb_drained(stack, tp, false);
            /* A peek takes nothing out: no window to announce, nothing to
             * deliver. A read may have opened the window enough to say so. */
            tcp_output_if_due(stack, tp);
            usr_done(stack, tp);
        }
        return (ssize_t)n;
    }
    /* Past the data: 0 at end of stream, the error (a peek leaves it
     * pending, as FreeBSD's soreceive), or -EAGAIN. */
    if (tp->so_error)
        return peek ? -tp->so_error : usr_take_error(tp);
    if ((tp->t_flags & (TF_RCVDFIN | TF_CANTRCVMORE)) ||
        (tp->state == TCPS_CLOSED && (tp->t_flags & TF_SBSTARTED)))
        return 0;
    if (tp->state == TCPS_CLOSED || tp->state == TCPS_LISTEN)
        return -ENOTCONN;
    return -EAGAIN;
}

/* The application will send no more: FIN after the queued data (RFC 9293
 * 3.10.4, FreeBSD's tcp_usrclosed). */
static void usr_closed(struct tcpc_stack *stack, struct tcpcb *tp)
{
    tp->t_flags |= TF_NEEDFIN;
    switch (tp->state) {
    case TCPS_ESTABLISHED:
        tcp_set_state(stack, tp, TCPS_FIN_WAIT_1);
        break;
    case TCPS_CLOSE_WAIT:
        tcp_set_state(stack, tp, TCPS_LAST_ACK);
        break;
    default:
        break; /* SYN_RECEIVED moves on when the handshake completes */
    }
    tcp_output(stack, tp);
}

int tcpc_shutdown(struct tcpc_stack *stack, int sd, int how)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    if (how != TCPC_SHUT_RD && how != TCPC_SHUT_WR && how != TCPC_SHUT_RDWR)
        return -EINVAL;
    if (!TCPS_HAVEESTABLISHED(tp->state) && tp->state != TCPS_SYN_RECEIVED)
        return -ENOTCONN;
    if (how != TCPC_SHUT_WR) {
        tp->t_flags |= TF_CANTRCVMORE;
        sb_drop(&tp->rcv, tp->rcv.len);
        urg_consumed(tp);
        tcp_sb_drained(stack, tp, false);
    }
    if (how != TCPC_SHUT_RD && !(tp->t_flags & TF_NEEDFIN))
        usr_closed(stack, tp);
    tcp_notify(stack, tp);
    usr_done(stack, tp);
    return 0;
}

/* Detaches the descriptor; the control block lives on as an orphan. */
static void usr_release_sd(struct tcpc_stack *stack, struct tcpcb *tp)
{
    tcb_sd_release(stack->tcp, tp);
    tp->t_flags |= TF_ORPHAN;
}

int tcpc_close(struct tcpc_stack *stack, int sd)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    bool abortive = (tp->t_flags & TF_LINGER0) || urg_unread(tp) > 0;
    if (tp->state == TCPS_LISTEN)
        tcp_group_listener_closed(stack, sd);
    usr_release_sd(stack, tp);
    if (tp->state == TCPS_CLOSED || tp->state == TCPS_LISTEN || tp->state == TCPS_SYN_SENT) {
        tcb_free(stack, tp);
    } else if (abortive) {
        /* RFC 9293 3.10.4 / RFC 2525 2.17: unread data means the peer must
         * learn that it was not delivered. */
        tcp_drop(stack, tp, ECONNABORTED);
    } else if (tp->t_flags & TF_NEEDFIN) {
        tcp_fin_wait_2_start(stack, tp);
    } else {
        usr_closed(stack, tp);
    }
    tcp_deliver_events(stack);
    return 0;
}

/* The options the inpcb keeps (FreeBSD caches them as PCB flags). */
static uint32_t usr_inp_opt(enum tcpc_sockopt opt)
{
    switch (opt) {
    case TCPC_SO_REUSEADDR:
        return INP_REUSEADDR;
    case TCPC_SO_REUSEPORT:
        return INP_REUSEPORT;
    case TCPC_SO_REUSEPORT_LB:
        return INP_REUSEPORT_LB;
    case TCPC_IPV6_V6ONLY:
        return INP_V6ONLY;
    case TCPC_IP_BINDANY:
        return INP_BINDANY;
    default:
        return 0;
    }
}

/* An explicit size turns auto-sizing off for that buffer (`fixed`), as
 * FreeBSD's SO_SNDBUF/SO_RCVBUF clear SB_AUTOSIZE. */
static int usr_set_bufsize(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t *field, int value,
                           uint32_t fixed)
{
    if (value < 512 || value > stack->cfg.tun.sockbuf_max)
        return -EINVAL;
    if ((tp->t_flags & TF_SBSTARTED) || tp->state != TCPS_CLOSED)
        return -EISCONN; /* buffers are sized when the connection starts */
    *field = (uint32_t)value;
    tp->t_flags |= fixed;
    return 0;
}

static void usr_set_flag(struct tcpcb *tp, uint32_t flag, int value)
{
    if (value)
        tp->t_flags |= flag;
    else
        tp->t_flags &= ~flag;
}

/* TCP_NOPUSH: clearing it sends what it held (FreeBSD's tcp_ctloutput). */
static int usr_set_nopush(struct tcpc_stack *stack, struct tcpcb *tp, int value)
{
    bool was = (tp->t_flags & TF_NOPUSH) != 0;
    usr_set_flag(tp, TF_NOPUSH, value);
    if (was && !value && TCPS_HAVEESTABLISHED(tp->state))
        tcp_output(stack, tp);
    return 0;
}

/* IP_TTL and IPV6_UNICAST_HOPS: -1 is the default, kept as 0. */
static int usr_set_ttl(struct tcpcb *tp, int value)
{
    if (value != -1 && (value < 1 || value > 255))
        return -EINVAL;
    tp->t_ip_ttl = value < 0 ? 0 : (uint8_t)value;
    return 0;
}

/* IP_TOS and IPV6_TCLASS: the ECN field is the engine's (RFC 3168). */
static int usr_set_tos(struct tcpcb *tp, int value)
{
    if (value < -1 || value > 255)
        return -EINVAL;
    tp->t_ip_tos = value < 0 ? 0 : (uint8_t)(value & ~IPTOS_ECN_MASK);
    return 0;
}

static int usr_get_ttl(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    if (tp->t_ip_ttl)
        return tp->t_ip_ttl;
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    return (int)(tp->family == TCPC_AF_INET ? tun->ip_ttl : tun->ip6_hlim);
}

/* SO_KEEPALIVE and its parameters. As in FreeBSD, a change restarts the
 * idle count of a synchronized connection's keep timer. */
static int usr_set_keep(struct tcpc_stack *stack, struct tcpcb *tp, enum tcpc_sockopt opt,
                        int value)
{
    int max = opt == TCPC_TCP_KEEPCNT ? UINT8_MAX : UINT16_MAX;
    if (opt != TCPC_SO_KEEPALIVE && (value < 0 || value > max))
        return -EINVAL; /* SO_KEEPALIVE: any non-zero value is "on", as in BSD */
    switch (opt) {
    case TCPC_TCP_KEEPIDLE:
        tp->t_keepidle = (uint16_t)value;
        break;
    case TCPC_TCP_KEEPINTVL:
        tp->t_keepintvl = (uint16_t)value;
        break;
    case TCPC_TCP_KEEPCNT:
        tp->t_keepcnt = (uint8_t)value;
        break;
    default:
        if (value)
            tp->t_flags |= TF_KEEPALIVE;
        else
            tp->t_flags &= ~TF_KEEPALIVE;
        break;
    }
    tcp_keep_start(stack, tp);
    return 0;
}

/* TCP_FASTOPEN, as FreeBSD takes it: before connect or listen (a socket
 * that listens with it set takes Fast Open SYNs), or on a listener; only
 * while net.inet.tcp.fastopen.client_enable, for a listener server_enable,
 * allows it. */
static int usr_set_fastopen(struct tcpc_stack *stack, struct tcpcb *tp, int value)
{
    bool listener = tp->state == TCPS_LISTEN;
    if (!listener && (tp->state != TCPS_CLOSED || tp->inp->fport))
        return -EINVAL;
    if (value && !(listener ? stack->cfg.tun.tfo_server_enable : stack->cfg.tun.tfo_client_enable))
        return -EPERM;
    tp->t_tfo = value ? TFO_ON : 0;
    return 0;
}

/* TCP_DEFER_ACCEPT; its removal hands the held connections over, and the
 * listener's readiness is delivered before the call returns. */
static int usr_set_defer(struct tcpc_stack *stack, struct tcpcb *tp, int value)
{
    int err = accf_set_defer(stack, tp, value);
    usr_done(stack, tp);
    return err;
}

/* SO_MAX_PACING_RATE: -1 lifts the cap (Linux's ~0U read as an int); a
 * rate of 0, which would hold the data for ever, is refused. A new cap
 * takes effect from the next release; output runs for data a lifted cap
 * no longer holds. */
static int usr_set_max_pacing(struct tcpc_stack *stack, struct tcpcb *tp, int value)
{
    if (value <= 0 && value != -1)
        return -EINVAL;
    tp->t_max_pacing_rate = value < 0 ? 0 : (uint32_t)value;
    if (TCPS_HAVEESTABLISHED(tp->state))
        tcp_output(stack, tp);
    return 0;
}

int tcpc_setsockopt(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, int value)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    switch (opt) {
    case TCPC_TCP_NOPUSH:
        return usr_set_nopush(stack, tp, value);
    case TCPC_IP_TTL:
    case TCPC_IPV6_UNICAST_HOPS:
        return usr_set_ttl(tp, value);
    case TCPC_IP_TOS:
    case TCPC_IPV6_TCLASS:
        return usr_set_tos(tp, value);
    case TCPC_IP_DONTFRAG:
        usr_set_flag(tp, TF_DONTFRAG, value);
        return 0;
    case TCPC_SO_LINGER:
        if (value > TCP_LINGER_MAX)
            return -EDOM; /* as FreeBSD refuses a linger its field cannot hold */
        tp->linger = (int16_t)(value < 0 ? -1 : value);
        if (value == 0)
            tp->t_flags |= TF_LINGER0;
        else
            tp->t_flags &= ~TF_LINGER0;
        return 0;
    case TCPC_SO_RCVBUF:
        return usr_set_bufsize(stack, tp, &tp->rcv_bufsize, value, TF_RCVBUF_SET);
    case TCPC_SO_SNDBUF:
        return usr_set_bufsize(stack, tp, &tp->snd_bufsize, value, TF_SNDBUF_SET);
    case TCPC_SO_ERROR:
        return -ENOPROTOOPT;
    case TCPC_TCP_NODELAY:
        usr_set_flag(tp, TF_NODELAY, value);
        tcp_output(stack, tp);
        return 0;
    case TCPC_TCP_MAXSEG:
        if (value < stack->cfg.tun.minmss || value > 65495)
            return -EINVAL;
        tp->t_usermss = (uint16_t)value;
        return 0;
    case TCPC_TCP_NOOPT:
        /* Read when the SYN or SYN-ACK is built: set it before connect or
         * listen, as on FreeBSD. */
        usr_set_flag(tp, TF_NOOPT, value);
        return 0;
    case TCPC_TCP_KEEPINIT:
        if (value < 0 || value > TCP_KEEPINIT_MAX)
            return -EINVAL;
        tp->t_keepinit = (uint16_t)value;
        return 0;
    case TCPC_TCP_KEEPIDLE:
    case TCPC_TCP_KEEPINTVL:
    case TCPC_TCP_KEEPCNT:
    case TCPC_SO_KEEPALIVE:
        return usr_set_keep(stack, tp, opt, value);
    case TCPC_TCP_USER_TIMEOUT:
        if (value < 0)
            return -EINVAL;
        tp->t_user_timeout = (uint32_t)value;
        return 0;
    case TCPC_TCP_CONGESTION:
        return value < 0 || cc_attach(stack, tp, (unsigned)value) ? -ESRCH : 0;
    case TCPC_TCP_FASTOPEN:
        return usr_set_fastopen(stack, tp, value);
    case TCPC_TCP_DEFER_ACCEPT:
        return usr_set_defer(stack, tp, value);
    case TCPC_SO_MAX_PACING_RATE:
        return usr_set_max_pacing(stack, tp, value);
    case TCPC_SO_OOBINLINE:
        if (value)
            tp->t_oobflags |= TCPOOB_INLINE;
        else
            tp->t_oobflags &= (uint8_t)~TCPOOB_INLINE;
        tcp_notify(stack, tp); /* the byte may have become readable */
        usr_done(stack, tp);
        return 0;
    default:
        if (!usr_inp_opt(opt))
            return -ENOPROTOOPT;
        return demux_setopt(stack, tp, usr_inp_opt(opt), value != 0);
    }
}

int tcpc_getsockopt(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, int *value)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    switch (opt) {
    case TCPC_TCP_NOPUSH:
        *value = !!(tp->t_flags & TF_NOPUSH);
        return 0;
    case TCPC_IP_TTL:
    case TCPC_IPV6_UNICAST_HOPS:
        *value = usr_get_ttl(stack, tp);
        return 0;
    case TCPC_IP_TOS:
    case TCPC_IPV6_TCLASS:
        *value = tp->t_ip_tos;
        return 0;
    case TCPC_IP_DONTFRAG:
        *value = !!(tp->t_flags & TF_DONTFRAG);
        return 0;
    case TCPC_SO_LINGER:
        *value = tp->linger;
        return 0;
    case TCPC_SO_RCVBUF:
        *value = (int)tp->rcv_bufsize;
        return 0;
    case TCPC_SO_SNDBUF:
        *value = (int)tp->snd_bufsize;
        return 0;
    case TCPC_SO_ERROR:
        *value = tp->so_error;
        tp->so_error = 0;
        return 0;
    case TCPC_TCP_NODELAY:
        *value = !!(tp->t_flags & TF_NODELAY);
        return 0;
    case TCPC_TCP_MAXSEG:
        *value = tp->t_maxseg;
        return 0;
    case TCPC_TCP_NOOPT:
        *value = !!(tp->t_flags & TF_NOOPT);
        return 0;
    case TCPC_TCP_KEEPINIT:
        /* Unset reads as the system's value, in the option's unit. */
        *value = tp->t_keepinit ? (int)tp->t_keepinit
                                : (int)(stack->cfg.tun.keepinit / 1000); /* ms to s */
        return 0;
    case TCPC_TCP_CONGESTION:
        *value = tp->t_cc;
        return 0;
    case TCPC_SO_MAX_PACING_RATE:
        *value = tp->t_max_pacing_rate ? (int)tp->t_max_pacing_rate : -1;
        return 0;
    case TCPC_SO_KEEPALIVE:
        *value = !!(tp->t_flags & TF_KEEPALIVE);
        return 0;
    case TCPC_TCP_KEEPIDLE:
        *value = (int)(tcp_keepidle_ms(stack, tp) / 1000); /* in force, in seconds */
        return 0;
    case TCPC_TCP_KEEPINTVL:
        *value = (int)(tcp_keepintvl_ms(stack, tp) / 1000);
        return 0;
    case TCPC_TCP_KEEPCNT:
        *value = (int)tcp_keepcnt(stack, tp);
        return 0;
    case TCPC_TCP_USER_TIMEOUT:
        *value = (int)tp->t_user_timeout;
        return 0;
    case TCPC_TCP_FASTOPEN:
        *value = !!(tp->t_tfo & TFO_ON);
        return 0;
    case TCPC_TCP_DEFER_ACCEPT:
        *value = tp->t_defer_accept;
        return 0;
    case TCPC_SO_OOBINLINE:
        *value = !!(tp->t_oobflags & TCPOOB_INLINE);
        return 0;
    default:
        if (!usr_inp_opt(opt))
            return -ENOPROTOOPT;
        *value = !!(tp->inp->flags & usr_inp_opt(opt));
        return 0;
    }
}

int tcpc_setsockopt_buf(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, const void *val,
                        size_t len)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    switch (opt) {
    case TCPC_TCP_MD5SIG: {
        if (!val || len != sizeof(struct tcpc_md5sig))
            return -EINVAL;
        /* RFC 5925: a socket uses MD5 signatures or TCP-AO, not both. */
        if (tp->t_ao && tp->t_ao->keys)
            return -EKEYREJECTED;
        struct tcpc_md5sig sig;
        memcpy(&sig, val, sizeof(sig));
        return tcp_md5_setopt(&stack->cfg.mem, tp, &sig);
    }
    case TCPC_TCP_AO_ADD_KEY: {
        if (!val || len != sizeof(struct tcpc_tcp_ao_add))
            return -EINVAL;
        struct tcpc_tcp_ao_add a;
        memcpy(&a, val, sizeof(a));
        return tcp_ao_add(&stack->cfg.mem, tp, &a);
    }
    case TCPC_TCP_AO_DEL_KEY: {
        if (!val || len != sizeof(struct tcpc_tcp_ao_del))
            return -EINVAL;
        struct tcpc_tcp_ao_del d;
        memcpy(&d, val, sizeof(d));
        return tcp_ao_del(tp, &d);
    }
    default:
        return -ENOPROTOOPT;
    }
}

int tcpc_setsockopt_str(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, const char *value)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    if (opt == TCPC_SO_ACCEPTFILTER) {
        int err = accf_setopt(stack, tp, value);
        usr_done(stack, tp); /* held connections handed over by a removal */
        return err;
    }
    if (opt != TCPC_TCP_CONGESTION)
        return -ENOPROTOOPT;
    int id = value ? sysctl_cc_find(value) : -ENOENT;
    /* Switching mid-connection starts the new algorithm from the window in
     * force, with fresh state (as FreeBSD does). */
    return id < 0 ? -ESRCH : cc_attach(stack, tp, (unsigned)id);
}

int tcpc_getsockopt_str(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, char *buf,
                        size_t len)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    if (opt != TCPC_TCP_CONGESTION && opt != TCPC_SO_ACCEPTFILTER)
        return -ENOPROTOOPT;
    if (len == 0)
        return -EINVAL;
    if (opt == TCPC_SO_ACCEPTFILTER)
        return accf_getopt(tp, buf, len);
    snprintf(buf, len, "%s", cc_algo_of(tp->t_cc)->name);
    return 0;
}

int tcpc_sockatmark(struct tcpc_stack *stack, int sd)
{
    const struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    return urg_atmark(tp);
}

int tcpc_poll(struct tcpc_stack *stack, int sd)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    return (int)tcp_readiness(stack, tp);
}

static uint8_t usr_info_options(const struct tcpcb *tp)
{
    uint8_t o = 0;
    if ((tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) == (TF_REQ_TSTMP | TF_RCVD_TSTMP))
        o |= TCPC_INFO_TIMESTAMPS;
    if ((tp->t_flags & (TF_REQ_SCALE | TF_RCVD_SCALE)) == (TF_REQ_SCALE | TF_RCVD_SCALE))
        o |= TCPC_INFO_WSCALE;
    if (tp->t_flags & TF_SACK_PERMIT)
        o |= TCPC_INFO_SACK;
    if (tp->t_flags2 & TF2_ECN_PERMIT)
        o |= TCPC_INFO_ECN;
    return o;
}

static int usr_getinfo(struct tcpc_stack *stack, int sd, struct tcpc_info *info)
{
    const struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    *info = (struct tcpc_info){
        .state = tcp_user_state(stack, tp),
        .snd_wscale = tp->snd_scale,
        .rcv_wscale = tp->rcv_scale,
        .options = usr_info_options(tp),
        .snd_una = tp->snd_una,
        .snd_nxt = tp->snd_nxt,
        .snd_max = tp->snd_max,
        .iss = tp->iss,
        .rcv_nxt = tp->rcv_nxt,
        .irs = tp->irs,
        .snd_wnd = tp->snd_wnd,
        .rcv_wnd = tcp_rcv_space(stack, tp),
        .snd_cwnd = tp->snd_cwnd,
        .snd_ssthresh = tp->snd_ssthresh,
        .snd_mss = tp->t_maxseg,
        .snd_queue = tp->snd.len,
        .rcv_queue = urg_unread(tp),
        .srtt = tp->t_srtt,
        .rttvar = tp->t_rttvar,
        .rto = tp->t_rxtcur,
        .backoff = tp->t_rxtshift,
        .retransmits = tp->t_rxtcount,
        .pacing_rate = tcp_pacing_rate(tp),
        .max_pacing_rate = tp->t_max_pacing_rate,
    };
    return 0;
}

/* The caller's struct may be shorter (an older program) or longer (a newer
 * header than this library) than ours: copy what both know, zero the rest. */
int tcpc_getinfo_sized(struct tcpc_stack *stack, int sd, struct tcpc_info *info, size_t infolen)
{
    struct tcpc_info full;
    int err = usr_getinfo(stack, sd, &full);
    if (err)
        return err;
    size_t n = infolen < sizeof(full) ? infolen : sizeof(full);
    memcpy(info, &full, n);
    memset((char *)info + n, 0, infolen - n);
    return 0;
}

int tcpc_getsockname(struct tcpc_stack *stack, int sd, struct tcpc_addr *addr, uint16_t *port)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    *addr = tp->inp->lport ? tp->inp->laddr : usr_wildcard(tp);
    *port = tp->inp->lport;
    return 0;
}

int tcpc_getpeername(struct tcpc_stack *stack, int sd, struct tcpc_addr *addr, uint16_t *port)
{
    struct tcpcb *tp = usr_tcb(stack, sd);
    if (!tp)
        return -EBADF;
    if (!tp->inp->fport || tp->state == TCPS_CLOSED)
        return -ENOTCONN;
    *addr = tp->inp->faddr;
    *port = tp->inp->fport;
    return 0;
}
