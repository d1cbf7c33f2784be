/*
 * TCP Fast Open (RFC 7413) as FreeBSD runs it: the client side here, the
 * server side below.
 *
 * A socket asks for it with TCPC_TCP_FASTOPEN before it connects
 * (net.inet.tcp.fastopen.client_enable permitting). Its SYN then carries
 * the Fast Open option: the cookie the server gave last time, with the
 * first data, or an empty option, a cookie request, when the cache holds
 * none. The cookie cache is keyed by local address, server address and
 * server port, sized at start (ccache_buckets x ccache_bucket_limit
 * entries, the least recently used entry of a full bucket giving way), and
 * emptied when client_enable is turned off. A server that answers without
 * a usable cookie where one was needed disables Fast Open towards it for
 * net.inet.tcp.fastopen.path_disable_time seconds. docs/tfo.md has the
 * rules and where they differ from FreeBSD.
 */
#ifndef TCPCORE_TCP_TCP_FASTOPEN_H
#define TCPCORE_TCP_TCP_FASTOPEN_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcp_var.h"
#include "wire/tcp.h"

struct tcpc_stack;

/* tcpcb.t_tfo */
#define TFO_ON     0x01 /* TCP_FASTOPEN: the SYN carries the option (a listener: takes it) */
#define TFO_COOKIE 0x02 /* a cached cookie goes on the SYN, and data with it */
#define TFO_SERVER 0x04 /* a passive open by a valid cookie, its SYN's data taken */

/* The cookie a tcpcore server gives: 8 bytes of SipHash-2-4 (FreeBSD's
 * TCP_FASTOPEN_COOKIE_LEN), and the key sizes behind it. */
#define TFO_SERVER_COOKIE_LEN 8
#define TFO_KEY_LEN           16
#define TFO_MAX_KEYS          2

/* Allocates the cookie cache (stack start); 0 or -ENOMEM. */
int tfo_init(struct tcpc_stack *stack);
void tfo_destroy(struct tcpc_stack *stack);

/* Tunables changed: client_enable turned off empties the cache. */
void tfo_tunables_changed(struct tcpc_stack *stack);

/* Whether a cookie length is one a client stores (RFC 7413 4.1.1). */
static inline bool tfo_cookie_len_valid(unsigned len)
{
    return len >= TCP_FASTOPEN_MIN_COOKIE_LEN && len <= TCP_FASTOPEN_MAX_COOKIE_LEN &&
           (len & 1) == 0;
}

/* An active open of a TFO socket, addresses chosen: takes the cached
 * cookie into tp (TFO_COOKIE), or leaves a cookie request, or turns Fast
 * Open off for the connection while its path is disabled. */
void tfo_client_connect(struct tcpc_stack *stack, struct tcpcb *tp);

/* The option on the SYN about to go out, added to o: the cached cookie or
 * a request. Only the first transmission carries it (and data), as on
 * FreeBSD: a retransmitted SYN goes without both, in case they were its
 * trouble. Data goes only beside a cookie (tcp_output checks o). */
void tfo_syn_option(const struct tcpc_stack *stack, const struct tcpcb *tp, struct tcp_opts *o);
static inline bool tfo_syn_data_ok(const struct tcpcb *tp)
{
    return (tp->t_tfo & (TFO_ON | TFO_COOKIE)) == (TFO_ON | TFO_COOKIE) && tp->t_rxtshift == 0 &&
           tp->state == TCPS_SYN_SENT;
}

/* The SYN-ACK (options o, acknowledging ack) answered our TFO SYN: a valid
 * cookie is cached; without one, Fast Open towards the server is disabled
 * unless our cookie did its work (the SYN's data all acknowledged). */
void tfo_client_synack(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o,
                       uint32_t ack);

/* The connection attempt failed in SYN_SENT (an ICMP error): as FreeBSD,
 * Fast Open towards the server is disabled. */
void tfo_client_failed(struct tcpc_stack *stack, struct tcpcb *tp);

/*
 * The server side. A listener with TCPC_TCP_FASTOPEN (and
 * net.inet.tcp.fastopen.server_enable) answers a SYN's Fast Open option:
 * its cookie is the SipHash of the client's address under one of the
 * stack's keys (a new key every net.inet.tcp.fastopen.autokey seconds,
 * the last two valid), and a valid one lets the SYN's data in at once
 * (syncache.c makes the connection then). Fewer than half the backlog may
 * be in that state at a time; past it, SYNs are served without Fast Open.
 */
enum tfo_server_verdict {
    TFO_SRV_NONE,  /* no Fast Open for this SYN: an ordinary SYN-ACK */
    TFO_SRV_OFFER, /* a request or a wrong cookie: the SYN-ACK offers *cookie */
    TFO_SRV_VALID, /* a valid cookie: take the data; the SYN-ACK carries *cookie */
};
enum tfo_server_verdict tfo_server_check(struct tcpc_stack *stack, const struct tcpcb *l,
                                         const struct tcpc_addr *faddr, const struct tcp_opts *o,
                                         uint8_t cookie[TFO_SERVER_COOKIE_LEN]);

/* The read-only tunables (keylen, maxkeys, numkeys). */
bool tfo_sysctl_state(const struct tcpc_stack *stack, const char *name, int64_t *value);

#endif
