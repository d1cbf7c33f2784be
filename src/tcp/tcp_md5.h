/*
 * TCP MD5 signatures (RFC 2385): the keys a socket holds, the digest, and
 * the one rule every arriving segment of a signed connection passes.
 *
 * Keys. A socket (listener or not) holds a list of keys, each for a peer
 * address or prefix (TCPC_TCP_MD5SIG, shaped like Linux's tcp_md5sig). A
 * connection signs with one key, chosen when it starts: at connect() the
 * socket's longest-prefix match for the peer, at the end of a passive
 * handshake the listener's. Keys are reference counted and owned by no one
 * socket: a connection keeps the key it started with after its listener
 * drops or replaces it (Linux copies the key into the child; a reference
 * is the same without a copy). The storage is allocated when the option is
 * set, never on the packet path.
 *
 * Digest. MD5 over the pseudo-header (the IPv4 one of RFC 9293 3.1, the
 * IPv6 one of RFC 8200 8.1: one code path, the address type decides), the
 * fixed 20-byte TCP header with its checksum zero (options excluded, the
 * data offset as sent), the payload, and the key (RFC 2385 section 2.0).
 *
 * Owner: the tcpcb owns its list (t_md5keys) and one reference to the key
 * in force (t_md5); SYN cache entries and TIME_WAIT records hold a flag
 * and find the listener's key again when they need it (docs/md5.md).
 */
#ifndef TCPCORE_TCP_TCP_MD5_H
#define TCPCORE_TCP_TCP_MD5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpcore/addr.h"
#include "tcp/tcp_sigkey.h"
#include "util/mem.h"
#include "tcpcore/socket.h"
#include "wire/ip.h"
#include "wire/tcp.h"

struct tcpc_stack;
struct tcpcb;

struct tcp_md5_key {
    struct tcp_md5_key *next; /* on the owning socket's list */
    const struct mem *mem;    /* where it came from */
    uint32_t refs;            /* the list's and every connection's */
    struct tcp_peer_prefix peer;
    uint8_t keylen;
    uint8_t key[TCPC_TCP_MD5SIG_MAXKEYLEN];
};

/* TCPC_TCP_MD5SIG on tp: adds, replaces (same address and prefix) or, with
 * keylen 0, removes a key. On a socket whose connection has started, a key
 * covering the peer also becomes (or, removed, stops being) the
 * connection's. 0, -EINVAL (bad prefix or key length, or a removal of a key
 * there is none of: -ENOENT), -ENOMEM. */
int tcp_md5_setopt(const struct mem *mem, struct tcpcb *tp, const struct tcpc_md5sig *sig);

/* The longest-prefix key of list for peer, or NULL. */
struct tcp_md5_key *tcp_md5_lookup(struct tcp_md5_key *list, const struct tcpc_addr *peer);

/* The key of the listener on laddr/lport for peer faddr, or NULL: where a
 * SYN cache entry's and a TIME_WAIT record's key lives (they keep none). */
const struct tcp_md5_key *tcp_md5_listener_key(struct tcpc_stack *stack,
                                               const struct tcpc_addr *laddr, uint16_t lport,
                                               const struct tcpc_addr *faddr, uint16_t fport);

/* Reference counting; release frees with the last reference. */
struct tcp_md5_key *tcp_md5_hold(struct tcp_md5_key *key);
void tcp_md5_release(struct tcp_md5_key *key);

/* Connection start: tp signs with key from now on (NULL: unsigned). */
void tcp_md5_attach(struct tcpcb *tp, struct tcp_md5_key *key);
/* Drops tp's key in force and its whole list (the tcpcb is freed). */
void tcp_md5_free(struct tcpcb *tp);

/*
 * The one check of an arriving segment against the key of whoever handles
 * it (key NULL: nobody expects a signature). True when it may go on; false
 * when it is dropped, counted by FreeBSD's names: tcps_sig_err_nosigopt (a
 * key, no signature), tcps_sig_rcvbadsig (the digest differs),
 * tcps_sig_err_sigopt (a signature nobody expects). tcps_sig_rcvgoodsig
 * counts those that pass signed. seg/seglen are the TCP segment as
 * received, th its parse.
 */
bool tcp_md5_input(struct tcpc_stack *stack, const struct tcp_md5_key *key,
                   const struct ip_repr *ip, const uint8_t *seg, size_t seglen,
                   const struct tcp_repr *th);

/* Adds the signature option to th, with the digest of th under ip and key
 * (th's payload in place; its options as they will be emitted). */
void tcp_md5_sign(const struct tcp_md5_key *key, const struct ip_repr *ip, struct tcp_repr *th);

/* Segments go out signed through tcp_sig_output (tcp_ao.h), the one door
 * for MD5 signatures and TCP-AO MACs alike. */

/* Option bytes a signature takes on every segment (NOP-aligned). */
#define TCP_MD5_OPTSPACE 20

#endif
