/* Peer prefixes of signature keys; see tcp_sigkey.h. */
#include "tcp/tcp_sigkey.h"

#include <errno.h>

#include "wire/ip.h"

#define TCP_SIGKEY_V4_PLEN 96 /* the mapped prefix ::ffff:0:0/96 */

unsigned tcp_peer_prefix_max(const struct tcpc_addr *addr)
{
    return tcpc_addr_is_v4(addr) ? 32 : 128;
}

int tcp_peer_prefix_make(const struct tcpc_addr *addr, unsigned plen, struct tcp_peer_prefix *out)
{
    if (plen > tcp_peer_prefix_max(addr))
        return -EINVAL;
    unsigned p = tcpc_addr_is_v4(addr) ? TCP_SIGKEY_V4_PLEN + plen : plen;
    out->plen = (uint8_t)p;
    out->addr = ip_addr_prefix(addr, p);
    return 0;
}

bool tcp_peer_prefix_covers(const struct tcp_peer_prefix *p, const struct tcpc_addr *peer)
{
    struct tcpc_addr m = ip_addr_prefix(peer, p->plen);
    return tcpc_addr_eq(&m, &p->addr);
}

bool tcp_peer_prefix_eq(const struct tcp_peer_prefix *a, const struct tcp_peer_prefix *b)
{
    return a->plen == b->plen && tcpc_addr_eq(&a->addr, &b->addr);
}
