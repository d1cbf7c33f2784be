/*
 * The TCP Authentication Option (RFC 5925) with the algorithms of RFC 5926:
 * the Master Key Tuples a socket holds, traffic keys, MACs, the Sequence
 * Number Extension, and the check every arriving segment of an
 * authenticated connection passes.
 *
 * MKTs. A socket holds a list of them (TCPC_TCP_AO_ADD_KEY), each for a peer
 * address or prefix with a SendID and RecvID (the KeyIDs of the segments
 * each way), an algorithm, a master key and the option-exclusion flag.
 * MKTs are reference counted: a connection keeps the one it sends with
 * after its listener drops it. Storage is allocated when the option is set
 * and, for a connection accepted by a listener, when the connection is
 * made (its tcp_ao_info); the packet path never allocates.
 *
 * Traffic keys (RFC 5926 3.1) are derived from the MKT's master key and
 * the connection's addresses, ports and ISNs when a segment is signed or
 * checked, not kept: a KDF is one HMAC or CMAC over 30 or 54 bytes, and
 * keeping four keys per connection would cost 80 bytes of its state.
 *
 * The MAC (RFC 5925 5.1) covers, in order: the SNE, the pseudo-header, the
 * TCP header with its checksum zero and its options (all of them, or with
 * the exclusion flag the TCP-AO option alone), the MAC field zero, then
 * the payload.
 */
#ifndef TCPCORE_TCP_TCP_AO_H
#define TCPCORE_TCP_TCP_AO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp/tcp_sigkey.h"
#include "tcp/tcp_var.h"
#include "tcpcore/socket.h"
#include "wire/ip.h"
#include "wire/tcp.h"

struct tcpc_stack;
struct tcpcb;
struct evp_mac_ctx_st;

#define TCP_AO_MACLEN      12 /* both RFC 5926 MACs, truncated to 96 bits */
#define TCP_AO_TKEY_MAX    20 /* a traffic key: SHA-1's 160 bits, CMAC's 128 */
#define TCP_AO_OPTSPACE    16 /* option bytes TCP-AO takes on every segment */
#define TCP_AO_CMAC_KEYLEN 16

struct tcp_ao_key {
    struct tcp_ao_key *next; /* on the owning socket's list */
    const struct mem *mem;   /* where it came from */
    uint32_t refs;           /* the list's and every connection's */
    struct tcp_peer_prefix peer;
    uint8_t sndid, rcvid;
    uint8_t alg;   /* TCPC_TCP_AO_ALG_* */
    uint8_t flags; /* TCPC_TCP_AO_KEYF_* */
    uint8_t keylen;
    uint8_t key[TCPC_TCP_AO_MAXKEYLEN];
    /* AES-128-CMAC: the master key as KDF_AES_128_CMAC's 128-bit key (RFC
     * 5926 3.1.1.2: itself when 16 bytes, else its CMAC under zero), and a
     * context re-keyed for every use (which allocates nothing, measured on
     * OpenSSL 3.0.19, where a new one would). */
    uint8_t kdf_key[TCP_AO_CMAC_KEYLEN];
    struct evp_mac_ctx_st *cmac;
};

/* A connection's TCP-AO state (tp->t_ao), or a socket's MKTs before it has
 * a connection. */
struct tcp_ao_info {
    const struct mem *mem;      /* where it came from */
    struct tcp_ao_key *keys;    /* the socket's MKTs */
    struct tcp_ao_key *current; /* the connection's send MKT (a reference); NULL: none */
    /* RFC 5925 6.2: the SNE of one sequence number each way, the highest
     * sent and the highest received and verified; any other is within
     * 2^31 of it, which places it in its 2^32 cycle. */
    uint32_t snd_sne, snd_seq;
    uint32_t rcv_sne, rcv_seq;
    bool rcv_started; /* rcv_seq holds the peer's ISN or later */
};

/* An MKT from its socket option's fields (peer prefix aside): refs 1, not
 * on a list. NULL with *err -EINVAL (algorithm, lengths, flags) or -ENOMEM. */
struct tcp_ao_key *tcp_ao_key_new(const struct mem *mem, uint8_t alg, uint8_t flags,
                                  const uint8_t *key, size_t keylen, int *err);
struct tcp_ao_key *tcp_ao_key_hold(struct tcp_ao_key *k);
void tcp_ao_key_release(struct tcp_ao_key *k);

/*
 * RFC 5926 3.1: the traffic key of k for segments from src:sport to
 * dst:dport whose sender's ISN is sisn and receiver's disn (0 for a SYN's
 * keys). Returns its length (20 or 16).
 */
size_t tcp_ao_traffic_key(const struct tcp_ao_key *k, const struct tcpc_addr *src,
                          const struct tcpc_addr *dst, uint16_t sport, uint16_t dport,
                          uint32_t sisn, uint32_t disn, uint8_t out[TCP_AO_TKEY_MAX]);

/*
 * RFC 5925 5.1: the MAC under traffic key tkey of a segment from src to
 * dst, with SNE sne, whose TCP header (hdrlen bytes, options included) is
 * hdr, its TCP-AO option at ao_off from the start of the options with a
 * MAC of maclen bytes, and whose payload is payload.
 */
void tcp_ao_mac(const struct tcp_ao_key *k, const uint8_t *tkey, size_t tklen, uint32_t sne,
                const struct tcpc_addr *src, const struct tcpc_addr *dst, const uint8_t *hdr,
                size_t hdrlen, size_t ao_off, size_t maclen, const uint8_t *payload,
                size_t payload_len, uint8_t mac[TCP_AO_MACLEN]);

/* RFC 5925 6.2: the SNE of seq, given that ref has SNE ref_sne and seq is
 * within 2^31 of ref. */
uint32_t tcp_ao_sne(uint32_t ref_sne, uint32_t ref, uint32_t seq);

/* How an outgoing segment is signed: the MKT, our ISN and the peer's (for
 * the traffic key; a SYN without ACK uses only ours), the SNE. */
struct tcp_ao_sign {
    const struct tcp_ao_key *key;
    uint32_t sisn, disn;
    uint32_t sne;
};

/* Adds the TCP-AO option to th with its MAC under ip and s (th's payload
 * in place; its options as they will be emitted). */
void tcp_ao_sign(const struct tcp_ao_sign *s, const struct ip_repr *ip, struct tcp_repr *th);

/* The signing of th by connection tp (tp->t_ao with a current MKT):
 * false when tp does not authenticate. */
bool tcp_ao_sign_of(const struct tcpcb *tp, const struct tcp_repr *th, struct tcp_ao_sign *s);
/* Whether connection tp authenticates its segments with TCP-AO. */
static inline bool tcp_ao_on(const struct tcpcb *tp)
{
    return tp->t_ao && tp->t_ao->current;
}
/* After tp sent a segment starting at seq: the send SNE follows it. */
void tcp_ao_sent(struct tcpcb *tp, uint32_t seq);

/*
 * The one check of an arriving segment (seg/seglen as received, th its
 * parse) under TCP-AO, by whoever takes it on: connection or listener tp
 * (NULL: nobody). True when it may go on; false when it is dropped,
 * counted: tcps_ao_required (an MKT covers the peer, no option),
 * tcps_ao_keynotfound (no MKT for the peer receives its KeyID),
 * tcps_ao_bad (the MAC differs), tcps_ao_unexpected (an option nobody
 * expects). tcps_ao_good counts those that pass with a MAC. On a
 * connection, a verified segment moves the receive SNE on and, with an
 * RNextKeyID naming another of our MKTs for the peer, makes that one
 * current (RFC 5925 6.1).
 */
bool tcp_ao_input(struct tcpc_stack *stack, struct tcpcb *tp, const struct ip_repr *ip,
                  const uint8_t *seg, size_t seglen, const struct tcp_repr *th);

/* Whether tp's socket or listener has an MKT covering peer. */
const struct tcp_ao_key *tcp_ao_lookup(const struct tcpcb *tp, const struct tcpc_addr *peer);

/* The MKT of the listener on laddr/lport for peer faddr, or NULL: what a
 * SYN cache entry signs its SYN-ACK with. */
const struct tcp_ao_key *tcp_ao_listener_key(struct tcpc_stack *stack,
                                             const struct tcpc_addr *laddr, uint16_t lport,
                                             const struct tcpc_addr *faddr, uint16_t fport);

/* TCPC_TCP_AO_ADD_KEY / TCPC_TCP_AO_DEL_KEY on tp (errors as socket.h
 * says). */
int tcp_ao_add(const struct mem *mem, struct tcpcb *tp, const struct tcpc_tcp_ao_add *a);
int tcp_ao_del(struct tcpcb *tp, const struct tcpc_tcp_ao_del *d);

/* Connection start (connect): tp sends with its socket's first MKT for the
 * peer, if any; its send SNE counts from iss. */
void tcp_ao_connect(struct tcpcb *tp);
/* A child of a listener, made from a handshake verified under key, with
 * ISNs iss (ours) and irs: 0, or -ENOMEM. */
int tcp_ao_accept(const struct mem *mem, struct tcpcb *tp, const struct tcp_ao_key *key,
                  uint32_t iss, uint32_t irs);
/* Drops tp's TCP-AO state and MKTs (the tcpcb is freed). */
void tcp_ao_free(struct tcpcb *tp);

/* Emits th under ip (ip_output_tcp), signed with md5 or under ao when
 * either is not NULL: the one door of every TCP segment that may need a
 * signature or a MAC. */
struct tcp_md5_key;
int tcp_sig_output(struct tcpc_stack *stack, const struct ip_repr *ip, struct tcp_repr *th,
                   const struct tcp_md5_key *md5, const struct tcp_ao_sign *ao);

/*
 * Whether signatures concern a segment th that tp (a connection or a
 * listener) takes on: tp has MD5 keys or TCP-AO state, or th carries
 * either option. When they do not, tcp_md5_input and tcp_ao_input both
 * let it pass, so the plain path asks only this.
 */
static inline bool tcp_sig_involved(const struct tcpcb *tp, const struct tcp_repr *th)
{
    return tp->t_md5 || tp->t_md5keys || tp->t_ao || (th->opts.present & (TOF_SIG | TOF_AO));
}

#endif
