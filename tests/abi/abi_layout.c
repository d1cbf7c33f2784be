/*
 * The ABI a compiled program depends on, one fact a line: the size of the
 * value types programs embed (addresses), the offset of every field a
 * program reads from a struct the library fills (socket info, listings,
 * routes, neighbours, counters), and the value of every constant it
 * passes (options, flags, counter ids). tests/abi/check.sh compares these
 * lines, with the shared library's exported symbols, against the committed
 * baseline: a line that disappears or changes is an ABI break.
 *
 * Structs the library fills may grow at their end (their sizes are not
 * listed): tcpc_getinfo passes the caller's size, and callbacks receive
 * the library's own records.
 */
#include <stddef.h>
#include <stdio.h>

#include "tcpcore/link.h"
#include "tcpcore/listing.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "tcpcore/stats.h"
#include "tcpcore/sysctl.h"
#include "tcpcore/version.h"

#define SIZE(type)     printf("size %s %zu\n", #type, sizeof(struct type))
#define FIELD(type, f) printf("offset %s.%s %zu\n", #type, #f, offsetof(struct type, f))
#define VALUE(name)    printf("value %s %lld\n", #name, (long long)(name))

static void value_types(void)
{
    SIZE(tcpc_addr);
    SIZE(tcpc_ether_addr);
    printf("size tcpc_time_t %zu\n", sizeof(tcpc_time_t));
}

static void records(void)
{
    FIELD(tcpc_info, state);
    FIELD(tcpc_info, snd_wscale);
    FIELD(tcpc_info, rcv_wscale);
    FIELD(tcpc_info, options);
    FIELD(tcpc_info, snd_una);
    FIELD(tcpc_info, snd_nxt);
    FIELD(tcpc_info, snd_max);
    FIELD(tcpc_info, iss);
    FIELD(tcpc_info, rcv_nxt);
    FIELD(tcpc_info, irs);
    FIELD(tcpc_info, snd_wnd);
    FIELD(tcpc_info, rcv_wnd);
    FIELD(tcpc_info, snd_cwnd);
    FIELD(tcpc_info, snd_ssthresh);
    FIELD(tcpc_info, snd_mss);
    FIELD(tcpc_info, snd_queue);
    FIELD(tcpc_info, rcv_queue);
    FIELD(tcpc_info, srtt);
    FIELD(tcpc_info, rttvar);
    FIELD(tcpc_info, rto);
    FIELD(tcpc_info, backoff);
    FIELD(tcpc_info, retransmits);
    FIELD(tcpc_info, pacing_rate);
    FIELD(tcpc_info, max_pacing_rate);
    FIELD(tcpc_conninfo, kind);
    FIELD(tcpc_conninfo, state);
    FIELD(tcpc_conninfo, sd);
    FIELD(tcpc_conninfo, laddr);
    FIELD(tcpc_conninfo, faddr);
    FIELD(tcpc_conninfo, lport);
    FIELD(tcpc_conninfo, fport);
    FIELD(tcpc_conninfo, snd_queue);
    FIELD(tcpc_conninfo, rcv_queue);
    FIELD(tcpc_conninfo, expires_in);
    FIELD(tcpc_route_info, dst);
    FIELD(tcpc_route_info, prefixlen);
    FIELD(tcpc_route_info, flags);
    FIELD(tcpc_route_info, gateway);
    FIELD(tcpc_route_info, ifaddr);
    FIELD(tcpc_neigh_info, addr);
    FIELD(tcpc_neigh_info, lladdr);
    FIELD(tcpc_neigh_info, state);
    FIELD(tcpc_neigh_info, asked);
    FIELD(tcpc_neigh_info, held);
    FIELD(tcpc_neigh_info, expires);
    SIZE(tcpc_md5sig);
    FIELD(tcpc_md5sig, addr);
    FIELD(tcpc_md5sig, flags);
    FIELD(tcpc_md5sig, prefixlen);
    FIELD(tcpc_md5sig, keylen);
    FIELD(tcpc_md5sig, key);
    SIZE(tcpc_tcp_ao_add);
    FIELD(tcpc_tcp_ao_add, addr);
    FIELD(tcpc_tcp_ao_add, prefix);
    FIELD(tcpc_tcp_ao_add, sndid);
    FIELD(tcpc_tcp_ao_add, rcvid);
    FIELD(tcpc_tcp_ao_add, alg);
    FIELD(tcpc_tcp_ao_add, maclen);
    FIELD(tcpc_tcp_ao_add, keyflags);
    FIELD(tcpc_tcp_ao_add, set_current);
    FIELD(tcpc_tcp_ao_add, keylen);
    FIELD(tcpc_tcp_ao_add, key);
    SIZE(tcpc_tcp_ao_del);
    FIELD(tcpc_tcp_ao_del, addr);
    FIELD(tcpc_tcp_ao_del, prefix);
    FIELD(tcpc_tcp_ao_del, sndid);
    FIELD(tcpc_tcp_ao_del, rcvid);
}

/* Every counter: its offset in the block tcpc_stack_stats returns and its
 * id for tcpc_stat_value. New counters go at the end of TCPC_STATS. */
static void counters(void)
{
#define COUNTER_(name, desc)                                                                       \
    FIELD(tcpc_stats, name);                                                                       \
    VALUE(TCPC_STAT_##name);
    TCPC_STATS(COUNTER_)
#undef COUNTER_
}

static void constants(void)
{
    VALUE(TCPC_VERSION_MAJOR);
    VALUE(TCPC_TIME_NEVER);
    VALUE(TCPC_TIME_MAX);
    VALUE(TCPC_USEC_PER_MSEC);
    VALUE(TCPC_USEC_PER_SEC);
    VALUE(TCPC_ADDRSTRLEN);
    VALUE(TCPC_MAX_LOCAL_ADDRS);
    VALUE(TCPC_MTU_MIN);
    VALUE(TCPC_MTU_MIN_IPV6);
    VALUE(TCPC_MTU_MAX);
    VALUE(TCPC_LINK_IP);
    VALUE(TCPC_LINK_ETHER);
    VALUE(TCPC_EV_READABLE);
    VALUE(TCPC_EV_WRITABLE);
    VALUE(TCPC_EV_ACCEPTABLE);
    VALUE(TCPC_EV_ERROR);
    VALUE(TCPC_EV_HUP);
    VALUE(TCPC_EV_URGENT);
    VALUE(TCPC_SO_REUSEADDR);
    VALUE(TCPC_SO_REUSEPORT);
    VALUE(TCPC_SO_REUSEPORT_LB);
    VALUE(TCPC_SO_LINGER);
    VALUE(TCPC_SO_RCVBUF);
    VALUE(TCPC_SO_SNDBUF);
    VALUE(TCPC_SO_ERROR);
    VALUE(TCPC_TCP_NODELAY);
    VALUE(TCPC_TCP_MD5SIG);
    VALUE(TCPC_TCP_MD5SIG_MAXKEYLEN);
    VALUE(TCPC_MD5SIG_FLAG_PREFIX);
    VALUE(TCPC_TCP_MAXSEG);
    VALUE(TCPC_IPV6_V6ONLY);
    VALUE(TCPC_IP_BINDANY);
    VALUE(TCPC_TCP_NOOPT);
    VALUE(TCPC_TCP_KEEPINIT);
    VALUE(TCPC_TCP_NOPUSH);
    VALUE(TCPC_TCP_CORK);
    VALUE(TCPC_IP_TTL);
    VALUE(TCPC_IP_TOS);
    VALUE(TCPC_IPV6_UNICAST_HOPS);
    VALUE(TCPC_IPV6_TCLASS);
    VALUE(TCPC_IP_DONTFRAG);
    VALUE(TCPC_TCP_FASTOPEN);
    VALUE(TCPC_SO_OOBINLINE);
    VALUE(TCPC_TCP_AO_ADD_KEY);
    VALUE(TCPC_TCP_AO_DEL_KEY);
    VALUE(TCPC_SO_MAX_PACING_RATE);
    VALUE(TCPC_TCP_AO_MAXKEYLEN);
    VALUE(TCPC_TCP_AO_ALG_HMAC_SHA1_96);
    VALUE(TCPC_TCP_AO_ALG_AES_128_CMAC_96);
    VALUE(TCPC_TCP_AO_KEYF_EXCLUDE_OPT);
    VALUE(TCPC_AF_INET);
    VALUE(TCPC_AF_INET6);
    VALUE(TCPC_SHUT_RD);
    VALUE(TCPC_SHUT_WR);
    VALUE(TCPC_SHUT_RDWR);
    VALUE(TCPC_MSG_PEEK);
    VALUE(TCPC_MSG_DONTWAIT);
    VALUE(TCPC_MSG_WAITALL);
    VALUE(TCPC_MSG_OOB);
    VALUE(TCPC_IOV_MAX);
    VALUE(TCPC_INFO_TIMESTAMPS);
    VALUE(TCPC_INFO_WSCALE);
    VALUE(TCPC_INFO_SACK);
    VALUE(TCPC_CONN_PCB);
    VALUE(TCPC_CONN_SYNCACHE);
    VALUE(TCPC_CONN_TIMEWAIT);
    VALUE(TCPC_RTF_GATEWAY);
    VALUE(TCPC_RTF_HOST);
    VALUE(TCPC_NEIGH_INCOMPLETE);
    VALUE(TCPC_NEIGH_REACHABLE);
    VALUE(TCPC_NEIGH_STALE);
    VALUE(TCPC_NEIGH_DELAY);
    VALUE(TCPC_NEIGH_PROBE);
    VALUE(TCPC_TUN_RW);
    VALUE(TCPC_TUN_BOOT);
    VALUE(TCPC_TUN_POW2);
    VALUE(TCPC_TUN_AUTO0);
    VALUE(TCPC_TUN_RDONLY);
}

int main(void)
{
    value_types();
    records();
    counters();
    constants();
    return 0;
}
