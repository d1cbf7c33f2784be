/*
 * TCP MD5 signatures (RFC 2385); see tcp_md5.h and docs/md5.md.
 *
 * The digest uses libcrypto's MD5_Init/MD5_Update/MD5_Final on a context
 * on the stack. OpenSSL 3 deprecates them for the EVP interface, but
 * EVP_DigestInit allocates a provider context on every call (one malloc a
 * digest, measured on 3.0.19), and the packet path never allocates; the
 * low-level functions allocate nothing.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "tcp/tcp_md5.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/md5.h>
#include <stdlib.h>
#include <string.h>

#include "core/ip_input.h"
#include "core/stack.h"
#include "tcp/tcp_demux.h"
#include "tcp/tcp_var.h"

static_assert(TCPC_TCP_MD5SIG_MAXKEYLEN <= UINT8_MAX, "keylen fits a byte");

struct tcp_md5_key *tcp_md5_lookup(struct tcp_md5_key *list, const struct tcpc_addr *peer)
{
    struct tcp_md5_key *best = NULL;
    for (struct tcp_md5_key *k = list; k; k = k->next)
        if (tcp_peer_prefix_covers(&k->peer, peer) && (!best || k->peer.plen > best->peer.plen))
            best = k;
    return best;
}

const struct tcp_md5_key *tcp_md5_listener_key(struct tcpc_stack *stack,
                                               const struct tcpc_addr *laddr, uint16_t lport,
                                               const struct tcpc_addr *faddr, uint16_t fport)
{
    struct tcpcb *l = demux_lookup_listener(stack, faddr, fport, laddr, lport, NULL);
    return l && l->state == TCPS_LISTEN ? tcp_md5_lookup(l->t_md5keys, faddr) : NULL;
}

struct tcp_md5_key *tcp_md5_hold(struct tcp_md5_key *key)
{
    if (key)
        key->refs++;
    return key;
}

void tcp_md5_release(struct tcp_md5_key *key)
{
    if (!key)
        return;
    assert(key->refs > 0);
    if (--key->refs == 0) {
        OPENSSL_cleanse(key->key, sizeof(key->key));
        mem_put(key->mem, key, sizeof(*key));
    }
}

void tcp_md5_attach(struct tcpcb *tp, struct tcp_md5_key *key)
{
    struct tcp_md5_key *old = tp->t_md5;
    tp->t_md5 = tcp_md5_hold(key);
    tcp_md5_release(old);
}

void tcp_md5_free(struct tcpcb *tp)
{
    tcp_md5_attach(tp, NULL);
    while (tp->t_md5keys) {
        struct tcp_md5_key *k = tp->t_md5keys;
        tp->t_md5keys = k->next;
        k->next = NULL;
        tcp_md5_release(k);
    }
}

/* Whether tp's connection has a peer (TCPC_TCP_MD5SIG then acts on it). */
static bool tcp_md5_connected(const struct tcpcb *tp)
{
    return tp->state != TCPS_CLOSED && tp->state != TCPS_LISTEN && tp->inp;
}

int tcp_md5_setopt(const struct mem *mem, struct tcpcb *tp, const struct tcpc_md5sig *sig)
{
    if (sig->flags & ~TCPC_MD5SIG_FLAG_PREFIX || sig->keylen > TCPC_TCP_MD5SIG_MAXKEYLEN)
        return -EINVAL;
    struct tcp_peer_prefix peer;
    unsigned plen =
        (sig->flags & TCPC_MD5SIG_FLAG_PREFIX) ? sig->prefixlen : tcp_peer_prefix_max(&sig->addr);
    int err = tcp_peer_prefix_make(&sig->addr, plen, &peer);
    if (err)
        return err;
    struct tcp_md5_key **pp = &tp->t_md5keys;
    while (*pp && !tcp_peer_prefix_eq(&(*pp)->peer, &peer))
        pp = &(*pp)->next;
    struct tcp_md5_key *old = *pp;
    bool ours = tcp_md5_connected(tp) && tcp_peer_prefix_covers(&peer, &tp->inp->faddr);
    if (sig->keylen == 0) {
        if (!old && !(ours && tp->t_md5))
            return -ENOENT;
        if (old) {
            *pp = old->next;
            old->next = NULL;
            tcp_md5_release(old);
        }
        if (ours)
            tcp_md5_attach(tp, NULL);
        return 0;
    }
    struct tcp_md5_key *k = mem_get(mem, sizeof(*k), MEM_ALIGN_ANY, true);
    if (!k)
        return -ENOMEM;
    k->mem = mem;
    k->refs = 1;
    k->peer = peer;
    k->keylen = (uint8_t)sig->keylen;
    memcpy(k->key, sig->key, sig->keylen);
    /* A replaced key stays with the connections that hold it. */
    k->next = old ? old->next : NULL;
    *pp = k;
    if (old) {
        old->next = NULL;
        tcp_md5_release(old);
    }
    if (ours)
        tcp_md5_attach(tp, k);
    return 0;
}

/* RFC 2385 section 2.0: the digest of a segment whose fixed header is hdr
 * (checksum taken as zero), under the pseudo-header of src, dst and the
 * segment length seglen. */
static void tcp_md5_digest(const struct tcp_md5_key *key, const struct tcpc_addr *src,
                           const struct tcpc_addr *dst, size_t seglen,
                           const uint8_t hdr[TCP_HDR_LEN], const uint8_t *payload,
                           size_t payload_len, uint8_t out[TCP_SIGLEN])
{
    uint8_t ph[TCP_PSEUDO_MAXLEN];
    size_t phlen = tcp_pseudo_header(src, dst, (uint32_t)seglen, ph);
    uint8_t h[TCP_HDR_LEN];
    memcpy(h, hdr, TCP_HDR_LEN);
    h[16] = h[17] = 0; /* the checksum */
    MD5_CTX c;
    MD5_Init(&c);
    MD5_Update(&c, ph, phlen);
    MD5_Update(&c, h, TCP_HDR_LEN);
    if (payload_len)
        MD5_Update(&c, payload, payload_len);
    MD5_Update(&c, key->key, key->keylen);
    MD5_Final(out, &c);
    OPENSSL_cleanse(&c, sizeof(c));
}

bool tcp_md5_input(struct tcpc_stack *stack, const struct tcp_md5_key *key,
                   const struct ip_repr *ip, const uint8_t *seg, size_t seglen,
                   const struct tcp_repr *th)
{
    bool signed_seg = (th->opts.present & TOF_SIG) != 0;
    if (!key) {
        if (!signed_seg)
            return true;
        stack_drop(stack, TCPC_STAT_tcps_sig_err_sigopt, "MD5 signature nobody expects");
        return false;
    }
    if (!signed_seg) {
        stack_drop(stack, TCPC_STAT_tcps_sig_err_nosigopt,
                   "no MD5 signature on a signed connection");
        return false;
    }
    uint8_t want[TCP_SIGLEN];
    tcp_md5_digest(key, &ip->src, &ip->dst, seglen, seg, th->payload, th->payload_len, want);
    if (CRYPTO_memcmp(want, th->opts.sig, TCP_SIGLEN) != 0) {
        stack_drop(stack, TCPC_STAT_tcps_sig_rcvbadsig, "MD5 signature does not match");
        return false;
    }
    STAT_INC(stack, tcps_sig_rcvgoodsig);
    return true;
}

void tcp_md5_sign(const struct tcp_md5_key *key, const struct ip_repr *ip, struct tcp_repr *th)
{
    th->opts.present |= TOF_SIG;
    /* The data offset counts the signature, so the header is taken with
     * the option in place. */
    size_t optlen = tcp_opts_len(&th->opts);
    uint8_t hdr[TCP_HDR_LEN];
    tcp_emit_fixed_header(th, hdr);
    tcp_md5_digest(key, &ip->src, &ip->dst, TCP_HDR_LEN + optlen + th->payload_len, hdr,
                   th->payload, th->payload_len, th->opts.sig);
}
