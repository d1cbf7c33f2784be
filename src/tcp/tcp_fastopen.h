/*
 * TCP Fast Open (RFC 7413), the client side, as FreeBSD runs it.
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
#define TFO_ON     0x01 /* TCP_FASTOPEN: the SYN carries the option */
#define TFO_COOKIE 0x02 /* a cached cookie goes on the SYN, and data with it */

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

#endif
