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
#include "wire/bytes.h"

#define TCP_MD5_V4_PLEN 96 /* the mapped prefix ::ffff:0:0/96 */

static_assert(TCPC_TCP_MD5SIG_MAXKEYLEN <= UINT8_MAX, "keylen fits a byte");

/* addr with every bit past plen cleared. */
static struct tcpc_addr tcp_md5_mask(const struct tcpc_addr *addr, unsigned plen)
{
    struct tcpc_addr m = *addr;
    for (unsigned i = 0; i < sizeof(m.bytes); i++) {
        unsigned bit = i * 8;
        if (bit >= plen)
            m.bytes[i] = 0;
        else if (plen - bit < 8)
            m.bytes[i] &= (uint8_t)(0xff << (8 - (plen - bit)));
    }
    return m;
}

static bool tcp_md5_covers(const struct tcp_md5_key *k, const struct tcpc_addr *peer)
{
    struct tcpc_addr m = tcp_md5_mask(peer, k->plen);
    return tcpc_addr_eq(&m, &k->addr);
}

struct tcp_md5_key *tcp_md5_lookup(struct tcp_md5_key *list, const struct tcpc_addr *peer)
{
    struct tcp_md5_key *best = NULL;
    for (struct tcp_md5_key *k = list; k; k = k->next)
        if (tcp_md5_covers(k, peer) && (!best || k->plen > best->plen))
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
        free(key);
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

/* The key's address and prefix in the 128-bit form; -EINVAL when the
 * prefix is longer than the family's address. */
static int tcp_md5_prefix(const struct tcpc_md5sig *sig, struct tcpc_addr *addr, unsigned *plen)
{
    bool v4 = tcpc_addr_is_v4(&sig->addr);
    unsigned max = v4 ? 32 : 128;
    unsigned p = (sig->flags & TCPC_MD5SIG_FLAG_PREFIX) ? sig->prefixlen : max;
    if (p > max)
        return -EINVAL;
    *plen = v4 ? TCP_MD5_V4_PLEN + p : p;
    *addr = tcp_md5_mask(&sig->addr, *plen);
    return 0;
}

/* Whether tp's connection has a peer (TCPC_TCP_MD5SIG then acts on it). */
static bool tcp_md5_connected(const struct tcpcb *tp)
{
    return tp->state != TCPS_CLOSED && tp->state != TCPS_LISTEN && tp->inp;
}

int tcp_md5_setopt(struct tcpcb *tp, const struct tcpc_md5sig *sig)
{
    if (sig->flags & ~TCPC_MD5SIG_FLAG_PREFIX || sig->keylen > TCPC_TCP_MD5SIG_MAXKEYLEN)
        return -EINVAL;
    struct tcpc_addr addr;
    unsigned plen;
    int err = tcp_md5_prefix(sig, &addr, &plen);
    if (err)
        return err;
    struct tcp_md5_key **pp = &tp->t_md5keys;
    while (*pp && !((*pp)->plen == plen && tcpc_addr_eq(&(*pp)->addr, &addr)))
        pp = &(*pp)->next;
    struct tcp_md5_key *old = *pp;
    const struct tcp_md5_key probe = {.addr = addr, .plen = (uint8_t)plen};
    bool ours = tcp_md5_connected(tp) && tcp_md5_covers(&probe, &tp->inp->faddr);
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
    struct tcp_md5_key *k = calloc(1, sizeof(*k));
    if (!k)
        return -ENOMEM;
    k->refs = 1;
    k->addr = addr;
    k->plen = (uint8_t)plen;
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
    uint8_t ph[40];
    size_t phlen;
    if (tcpc_addr_is_v4(src)) {
        /* IPv4: source, destination, zero, protocol, TCP length (16 bits). */
        memcpy(ph, src->bytes + 12, 4);
        memcpy(ph + 4, dst->bytes + 12, 4);
        ph[8] = 0;
        ph[9] = IPPROTO_TCP_;
        put_be16(ph + 10, (uint16_t)seglen);
        phlen = 12;
    } else {
        /* IPv6 (RFC 8200 8.1): source, destination, 32-bit length, three
         * zero bytes, next header. */
        memcpy(ph, src->bytes, 16);
        memcpy(ph + 16, dst->bytes, 16);
        put_be32(ph + 32, (uint32_t)seglen);
        ph[36] = ph[37] = ph[38] = 0;
        ph[39] = IPPROTO_TCP_;
        phlen = 40;
    }
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

int tcp_md5_output(struct tcpc_stack *stack, const struct ip_repr *ip, struct tcp_repr *th,
                   const struct tcp_md5_key *key)
{
    if (key)
        tcp_md5_sign(key, ip, th);
    return ip_output_tcp(stack, ip, th);
}
