/*
 * What the two segment-authentication schemes share: the peer a key is
 * for, an address or a prefix of one. TCP MD5 (RFC 2385, tcp_md5.c) and
 * TCP-AO (RFC 5925, tcp_ao.c) keys both name their peer this way and are
 * both chosen by it, so the masking and the matching live here once.
 *
 * A prefix is kept in the 128-bit form of tcpc_addr (IPv4 mapped), its
 * length counted over those 128 bits, so that an IPv4 prefix never covers
 * an IPv6 peer.
 */
#ifndef TCPCORE_TCP_TCP_SIGKEY_H
#define TCPCORE_TCP_TCP_SIGKEY_H

#include <stdbool.h>

#include "tcpcore/addr.h"

struct tcp_peer_prefix {
    struct tcpc_addr addr; /* masked to plen bits */
    uint8_t plen;          /* over the 128-bit (v4-mapped) form */
};

/* The prefix of plen bits of addr, plen counted in addr's own family
 * (0..32 for IPv4, 0..128 for IPv6); -EINVAL when it is longer. */
int tcp_peer_prefix_make(const struct tcpc_addr *addr, unsigned plen, struct tcp_peer_prefix *out);

/* Whether p covers peer. */
bool tcp_peer_prefix_covers(const struct tcp_peer_prefix *p, const struct tcpc_addr *peer);

/* Whether a and b name the same prefix. */
bool tcp_peer_prefix_eq(const struct tcp_peer_prefix *a, const struct tcp_peer_prefix *b);

/* The longest prefix length in addr's family (32 or 128). */
unsigned tcp_peer_prefix_max(const struct tcpc_addr *addr);

#endif
