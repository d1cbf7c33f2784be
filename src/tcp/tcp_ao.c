/*
 * The TCP Authentication Option (RFC 5925, RFC 5926); see tcp_ao.h and
 * docs/tcp-ao.md.
 *
 * Both algorithms come from libcrypto, without allocating on the packet
 * path. AES-128-CMAC is OpenSSL 3's EVP_MAC "CMAC" on a context each MKT
 * keeps and re-keys (EVP_MAC_init with a new key allocates nothing). HMAC
 * under EVP_MAC allocates five times at each re-key, and EVP digests once a
 * digest (both measured on 3.0.19 by counting through
 * CRYPTO_set_mem_functions), so HMAC-SHA-1 is built here on the low-level
 * SHA1_Init family on a context on the stack, as tcp_md5.c does MD5: the
 * construction is RFC 2104's (inner and outer hashes of the padded key).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "tcp/tcp_ao.h"

#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "core/ip_input.h"
#include "core/stack.h"
#include "tcp/tcp_demux.h"
#include "tcp/tcp_md5.h"
#include "tcp/tcp_var.h"
#include "util/seq.h"
#include "wire/bytes.h"

static_assert(TCPC_TCP_AO_MAXKEYLEN <= UINT8_MAX, "keylen fits a byte");

#define TCP_AO_HMAC_BLOCK 64 /* SHA-1's block */
#define TCP_AO_SHA1_LEN   20

/* --- the two pseudo-random functions ------------------------------------- */

/* One keyed computation of RFC 5926's PRF: HMAC-SHA1 or AES-128-CMAC. */
struct tcp_ao_prf {
    const struct tcp_ao_key *k;
    SHA_CTX sha;                     /* HMAC: the inner hash */
    uint8_t opad[TCP_AO_HMAC_BLOCK]; /* HMAC: the key xor the outer pad */
};

static void tcp_ao_prf_init(struct tcp_ao_prf *p, const struct tcp_ao_key *k, const uint8_t *key,
                            size_t keylen)
{
    p->k = k;
    if (k->alg == TCPC_TCP_AO_ALG_AES_128_CMAC_96) {
        assert(keylen == TCP_AO_CMAC_KEYLEN);
        int ok = EVP_MAC_init(k->cmac, key, keylen, NULL);
        assert(ok == 1);
        (void)ok;
        return;
    }
    /* RFC 2104 2: a key longer than the block is hashed first. */
    uint8_t kb[TCP_AO_HMAC_BLOCK] = {0};
    if (keylen > TCP_AO_HMAC_BLOCK)
        SHA1(key, keylen, kb);
    else
        memcpy(kb, key, keylen);
    uint8_t ipad[TCP_AO_HMAC_BLOCK];
    for (size_t i = 0; i < TCP_AO_HMAC_BLOCK; i++) {
        ipad[i] = kb[i] ^ 0x36;
        p->opad[i] = kb[i] ^ 0x5c;
    }
    SHA1_Init(&p->sha);
    SHA1_Update(&p->sha, ipad, sizeof(ipad));
    OPENSSL_cleanse(kb, sizeof(kb));
    OPENSSL_cleanse(ipad, sizeof(ipad));
}

static void tcp_ao_prf_update(struct tcp_ao_prf *p, const void *data, size_t len)
{
    if (len == 0)
        return;
    if (p->k->alg == TCPC_TCP_AO_ALG_AES_128_CMAC_96)
        EVP_MAC_update(p->k->cmac, data, len);
    else
        SHA1_Update(&p->sha, data, len);
}

/* The PRF's output (20 or 16 bytes); returns its length. */
static size_t tcp_ao_prf_final(struct tcp_ao_prf *p, uint8_t out[TCP_AO_TKEY_MAX])
{
    if (p->k->alg == TCPC_TCP_AO_ALG_AES_128_CMAC_96) {
        size_t n = 0;
        int ok = EVP_MAC_final(p->k->cmac, out, &n, TCP_AO_TKEY_MAX);
        assert(ok == 1 && n == TCP_AO_CMAC_KEYLEN);
        (void)ok;
        return n;
    }
    uint8_t inner[TCP_AO_SHA1_LEN];
    SHA1_Final(inner, &p->sha);
    SHA1_Init(&p->sha);
    SHA1_Update(&p->sha, p->opad, sizeof(p->opad));
    SHA1_Update(&p->sha, inner, sizeof(inner));
    SHA1_Final(out, &p->sha);
    OPENSSL_cleanse(p, sizeof(*p));
    return TCP_AO_SHA1_LEN;
}

/* --- MKTs ----------------------------------------------------------------- */

static int tcp_ao_cmac_setup(struct tcp_ao_key *k)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "CMAC", NULL);
    if (!mac)
        return -ENOMEM;
    k->cmac = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac); /* the context holds its own reference */
    if (!k->cmac)
        return -ENOMEM;
    char cipher[] = "AES-128-CBC";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher, 0),
                           OSSL_PARAM_construct_end()};
    if (EVP_MAC_CTX_set_params(k->cmac, params) != 1)
        return -ENOMEM;
    /* RFC 5926 3.1.1.2: a master key of another length than 128 bits is
     * first reduced to one, by its CMAC under the zero key. */
    if (k->keylen == TCP_AO_CMAC_KEYLEN) {
        memcpy(k->kdf_key, k->key, TCP_AO_CMAC_KEYLEN);
        return 0;
    }
    static const uint8_t zero[TCP_AO_CMAC_KEYLEN];
    struct tcp_ao_prf p;
    uint8_t out[TCP_AO_TKEY_MAX];
    tcp_ao_prf_init(&p, k, zero, sizeof(zero));
    tcp_ao_prf_update(&p, k->key, k->keylen);
    (void)tcp_ao_prf_final(&p, out);
    memcpy(k->kdf_key, out, TCP_AO_CMAC_KEYLEN);
    OPENSSL_cleanse(out, sizeof(out));
    return 0;
}

struct tcp_ao_key *tcp_ao_key_new(const struct mem *mem, uint8_t alg, uint8_t flags,
                                  const uint8_t *key, size_t keylen, int *err)
{
    *err = -EINVAL;
    if ((alg != TCPC_TCP_AO_ALG_HMAC_SHA1_96 && alg != TCPC_TCP_AO_ALG_AES_128_CMAC_96) ||
        (flags & ~TCPC_TCP_AO_KEYF_EXCLUDE_OPT) || keylen == 0 || keylen > TCPC_TCP_AO_MAXKEYLEN)
        return NULL;
    *err = -ENOMEM;
    struct tcp_ao_key *k = mem_get(mem, sizeof(*k), MEM_ALIGN_ANY, true);
    if (!k)
        return NULL;
    k->mem = mem;
    k->refs = 1;
    k->alg = alg;
    k->flags = flags;
    k->keylen = (uint8_t)keylen;
    memcpy(k->key, key, keylen);
    if (alg == TCPC_TCP_AO_ALG_AES_128_CMAC_96 && (*err = tcp_ao_cmac_setup(k)) != 0) {
        tcp_ao_key_release(k);
        return NULL;
    }
    *err = 0;
    return k;
}

struct tcp_ao_key *tcp_ao_key_hold(struct tcp_ao_key *k)
{
    if (k)
        k->refs++;
    return k;
}

void tcp_ao_key_release(struct tcp_ao_key *k)
{
    if (!k)
        return;
    assert(k->refs > 0);
    if (--k->refs > 0)
        return;
    EVP_MAC_CTX_free(k->cmac);
    const struct mem *mem = k->mem;
    OPENSSL_cleanse(k, sizeof(*k));
    mem_put(mem, k, sizeof(*k));
}

/* --- traffic keys and MACs ------------------------------------------------ */

/* The bytes of an address as the KDF context and the pseudo-header take
 * it: 4 for IPv4, 16 for IPv6. */
static size_t tcp_ao_put_addr(uint8_t *out, const struct tcpc_addr *a)
{
    size_t n = tcpc_addr_is_v4(a) ? 4 : 16;
    memcpy(out, a->bytes + 16 - n, n);
    return n;
}

size_t tcp_ao_traffic_key(const struct tcp_ao_key *k, const struct tcpc_addr *src,
                          const struct tcpc_addr *dst, uint16_t sport, uint16_t dport,
                          uint32_t sisn, uint32_t disn, uint8_t out[TCP_AO_TKEY_MAX])
{
    /* RFC 5926 3.1.1: i (1: one block suffices), the label, the context
     * (addresses, ports, ISNs), and the output length in bits. */
    uint8_t in[1 + 6 + 16 + 16 + 2 + 2 + 4 + 4 + 2];
    size_t n = 0;
    in[n++] = 1;
    memcpy(in + n, "TCP-AO", 6);
    n += 6;
    n += tcp_ao_put_addr(in + n, src);
    n += tcp_ao_put_addr(in + n, dst);
    put_be16(in + n, sport);
    put_be16(in + n + 2, dport);
    put_be32(in + n + 4, sisn);
    put_be32(in + n + 8, disn);
    n += 12;
    bool cmac = k->alg == TCPC_TCP_AO_ALG_AES_128_CMAC_96;
    put_be16(in + n, cmac ? 128 : 160);
    n += 2;
    struct tcp_ao_prf p;
    if (cmac)
        tcp_ao_prf_init(&p, k, k->kdf_key, sizeof(k->kdf_key));
    else
        tcp_ao_prf_init(&p, k, k->key, k->keylen);
    tcp_ao_prf_update(&p, in, n);
    return tcp_ao_prf_final(&p, out);
}

void tcp_ao_mac(const struct tcp_ao_key *k, const uint8_t *tkey, size_t tklen, uint32_t sne,
                const struct tcpc_addr *src, const struct tcpc_addr *dst, const uint8_t *hdr,
                size_t hdrlen, size_t ao_off, size_t maclen, const uint8_t *payload,
                size_t payload_len, uint8_t mac[TCP_AO_MACLEN])
{
    static const uint8_t zero[TCP_AO_MAXMACLEN];
    const uint8_t *opts = hdr + TCP_HDR_LEN;
    size_t optlen = hdrlen - TCP_HDR_LEN;
    size_t mac_at = ao_off + TCP_AO_HDRLEN;
    assert(mac_at + maclen <= optlen && maclen <= sizeof(zero));

    struct tcp_ao_prf p;
    tcp_ao_prf_init(&p, k, tkey, tklen);
    uint8_t b[4 + TCP_PSEUDO_MAXLEN];
    put_be32(b, sne);
    size_t n = 4 + tcp_pseudo_header(src, dst, (uint32_t)(hdrlen + payload_len), b + 4);
    tcp_ao_prf_update(&p, b, n);
    uint8_t h[TCP_HDR_LEN];
    memcpy(h, hdr, TCP_HDR_LEN);
    h[16] = h[17] = 0; /* the checksum */
    tcp_ao_prf_update(&p, h, TCP_HDR_LEN);
    if (k->flags & TCPC_TCP_AO_KEYF_EXCLUDE_OPT) {
        /* RFC 5925 5.1: excluded options leave the TCP-AO option in. */
        tcp_ao_prf_update(&p, opts + ao_off, TCP_AO_HDRLEN);
    } else {
        tcp_ao_prf_update(&p, opts, mac_at);
        tcp_ao_prf_update(&p, zero, maclen);
        tcp_ao_prf_update(&p, opts + mac_at + maclen, optlen - mac_at - maclen);
        maclen = 0;
    }
    tcp_ao_prf_update(&p, zero, maclen);
    tcp_ao_prf_update(&p, payload, payload_len);
    uint8_t full[TCP_AO_TKEY_MAX];
    (void)tcp_ao_prf_final(&p, full);
    memcpy(mac, full, TCP_AO_MACLEN);
}

uint32_t tcp_ao_sne(uint32_t ref_sne, uint32_t ref, uint32_t seq)
{
    /* After ref in sequence space but below it as a number: past a wrap;
     * before ref but above it: from the cycle before. */
    if (SEQ_GT(seq, ref) && seq < ref)
        return ref_sne + 1;
    if (SEQ_LT(seq, ref) && seq > ref)
        return ref_sne - 1;
    return ref_sne;
}

/* --- signing -------------------------------------------------------------- */

static bool tcp_ao_syn_only(uint8_t flags)
{
    return (flags & (TH_SYN | TH_ACK)) == TH_SYN;
}

void tcp_ao_sign(const struct tcp_ao_sign *s, const struct ip_repr *ip, struct tcp_repr *th)
{
    struct tcp_opts *o = &th->opts;
    o->present |= TOF_AO;
    o->ao_keyid = s->key->sndid;
    o->ao_rnextkeyid = s->key->rcvid; /* the MKT we ask the peer to send with */
    o->ao_maclen = TCP_AO_MACLEN;
    memset(o->ao_mac, 0, sizeof(o->ao_mac));
    uint8_t hdr[TCP_HDR_LEN + TCP_MAXOLEN];
    tcp_emit_fixed_header(th, hdr);
    int optlen = tcp_opts_emit(o, hdr + TCP_HDR_LEN, TCP_MAXOLEN);
    size_t ao_off = tcp_opts_ao_off(o);
    /* Our own options always leave TCP-AO its room (tcp_output). */
    assert(optlen > 0 && hdr[TCP_HDR_LEN + ao_off] == 29);
    uint8_t tk[TCP_AO_TKEY_MAX];
    size_t tklen = tcp_ao_traffic_key(s->key, &ip->src, &ip->dst, th->sport, th->dport, s->sisn,
                                      tcp_ao_syn_only(th->flags) ? 0 : s->disn, tk);
    tcp_ao_mac(s->key, tk, tklen, s->sne, &ip->src, &ip->dst, hdr, TCP_HDR_LEN + (size_t)optlen,
               ao_off, TCP_AO_MACLEN, th->payload, th->payload_len, o->ao_mac);
    OPENSSL_cleanse(tk, sizeof(tk));
}

bool tcp_ao_sign_of(const struct tcpcb *tp, const struct tcp_repr *th, struct tcp_ao_sign *s)
{
    const struct tcp_ao_info *ai = tp->t_ao;
    if (!ai || !ai->current)
        return false;
    s->key = ai->current;
    s->sisn = tp->iss;
    s->disn = tp->irs;
    s->sne = tcp_ao_sne(ai->snd_sne, ai->snd_seq, th->seq);
    return true;
}

void tcp_ao_sent(struct tcpcb *tp, uint32_t seq)
{
    struct tcp_ao_info *ai = tp->t_ao;
    if (!ai || !ai->current || !SEQ_GT(seq, ai->snd_seq))
        return;
    ai->snd_sne = tcp_ao_sne(ai->snd_sne, ai->snd_seq, seq);
    ai->snd_seq = seq;
}

int tcp_sig_output(struct tcpc_stack *stack, const struct ip_repr *ip, struct tcp_repr *th,
                   const struct tcp_md5_key *md5, const struct tcp_ao_sign *ao)
{
    assert(!(md5 && ao)); /* RFC 5925: never both on one connection */
    if (md5)
        tcp_md5_sign(md5, ip, th);
    else if (ao)
        tcp_ao_sign(ao, ip, th);
    return ip_output_tcp(stack, ip, th);
}

/* --- checking ------------------------------------------------------------- */

static const struct tcp_ao_key *tcp_ao_first(const struct tcp_ao_key *list,
                                             const struct tcpc_addr *peer)
{
    for (const struct tcp_ao_key *k = list; k; k = k->next)
        if (tcp_peer_prefix_covers(&k->peer, peer))
            return k;
    return NULL;
}

const struct tcp_ao_key *tcp_ao_lookup(const struct tcpcb *tp, const struct tcpc_addr *peer)
{
    return tp->t_ao ? tcp_ao_first(tp->t_ao->keys, peer) : NULL;
}

const struct tcp_ao_key *tcp_ao_listener_key(struct tcpc_stack *stack,
                                             const struct tcpc_addr *laddr, uint16_t lport,
                                             const struct tcpc_addr *faddr, uint16_t fport)
{
    struct tcpcb *l = demux_lookup_listener(stack, faddr, fport, laddr, lport, NULL);
    return l && l->state == TCPS_LISTEN ? tcp_ao_lookup(l, faddr) : NULL;
}

/* The MKT of list (or cur) for peer that receives KeyID id. */
static const struct tcp_ao_key *tcp_ao_by_rcvid(const struct tcp_ao_key *cur,
                                                const struct tcp_ao_key *list,
                                                const struct tcpc_addr *peer, uint8_t id)
{
    if (cur && cur->rcvid == id)
        return cur;
    for (const struct tcp_ao_key *k = list; k; k = k->next)
        if (k->rcvid == id && tcp_peer_prefix_covers(&k->peer, peer))
            return k;
    return NULL;
}

/* The MKT that must authenticate a segment tp takes from peer: a
 * listener's first for the peer; a connection's current one (a connection
 * that started without TCP-AO has none). */
static const struct tcp_ao_key *tcp_ao_required(const struct tcpcb *tp,
                                                const struct tcpc_addr *peer)
{
    if (!tp || !tp->t_ao)
        return NULL;
    return tp->state == TCPS_LISTEN ? tcp_ao_first(tp->t_ao->keys, peer) : tp->t_ao->current;
}

/* The ISNs (the sender's, ours) and SNE of a segment tp receives: a SYN
 * gives its own ISN (and, without ACK, takes the SYN traffic key); a
 * listener's other segment can only be the handshake's third, whose
 * sequence and acknowledgment numbers follow the ISNs. */
static void tcp_ao_rcv_context(const struct tcpcb *tp, const struct tcp_repr *th, uint32_t *sisn,
                               uint32_t *disn, uint32_t *sne)
{
    const struct tcp_ao_info *ai = tp->t_ao;
    bool listen = tp->state == TCPS_LISTEN;
    *sne = 0;
    if (th->flags & TH_SYN)
        *sisn = th->seq;
    else
        *sisn = listen ? th->seq - 1 : tp->irs;
    if (tcp_ao_syn_only(th->flags))
        *disn = 0;
    else
        *disn = listen ? th->ack - 1 : tp->iss;
    if (!listen && !(th->flags & TH_SYN) && ai->rcv_started)
        *sne = tcp_ao_sne(ai->rcv_sne, ai->rcv_seq, th->seq);
}

/* A verified segment on a connection: the receive SNE follows it, and an
 * RNextKeyID naming another of our MKTs for the peer makes that one ours. */
static void tcp_ao_verified(struct tcpcb *tp, const struct tcp_repr *th, uint32_t sne,
                            const struct tcpc_addr *peer)
{
    struct tcp_ao_info *ai = tp->t_ao;
    if (th->flags & TH_SYN) {
        ai->rcv_seq = th->seq;
        ai->rcv_sne = 0;
        ai->rcv_started = true;
    } else if (ai->rcv_started && SEQ_GT(th->seq, ai->rcv_seq)) {
        ai->rcv_seq = th->seq;
        ai->rcv_sne = sne;
    }
    uint8_t want = th->opts.ao_rnextkeyid;
    if (ai->current->sndid == want)
        return;
    for (struct tcp_ao_key *k = ai->keys; k; k = k->next) {
        if (k->sndid == want && tcp_peer_prefix_covers(&k->peer, peer)) {
            tcp_ao_key_release(ai->current);
            ai->current = tcp_ao_key_hold(k);
            return;
        }
    }
}

bool tcp_ao_input(struct tcpc_stack *stack, struct tcpcb *tp, const struct ip_repr *ip,
                  const uint8_t *seg, size_t seglen, const struct tcp_repr *th)
{
    const struct tcp_opts *o = &th->opts;
    bool has = (o->present & TOF_AO) != 0;
    const struct tcp_ao_key *req = tcp_ao_required(tp, &ip->src);
    if (!req) {
        if (!has)
            return true;
        stack_drop(stack, TCPC_STAT_tcps_ao_unexpected, "TCP-AO option nobody expects");
        return false;
    }
    if (!has) {
        stack_drop(stack, TCPC_STAT_tcps_ao_required,
                   "no TCP-AO option on an authenticated "
                   "connection");
        return false;
    }
    const struct tcp_ao_key *k =
        tcp_ao_by_rcvid(tp->t_ao->current, tp->t_ao->keys, &ip->src, o->ao_keyid);
    if (!k) {
        stack_drop(stack, TCPC_STAT_tcps_ao_keynotfound, "TCP-AO KeyID no MKT receives");
        return false;
    }
    uint32_t sisn, disn, sne;
    tcp_ao_rcv_context(tp, th, &sisn, &disn, &sne);
    uint8_t want[TCP_AO_MACLEN];
    if (o->ao_maclen == TCP_AO_MACLEN) {
        uint8_t tk[TCP_AO_TKEY_MAX];
        size_t tklen =
            tcp_ao_traffic_key(k, &ip->src, &ip->dst, th->sport, th->dport, sisn, disn, tk);
        tcp_ao_mac(k, tk, tklen, sne, &ip->src, &ip->dst, seg, th->hdrlen, o->ao_off, o->ao_maclen,
                   th->payload, th->payload_len, want);
        OPENSSL_cleanse(tk, sizeof(tk));
    }
    (void)seglen;
    if (o->ao_maclen != TCP_AO_MACLEN || CRYPTO_memcmp(want, o->ao_mac, TCP_AO_MACLEN) != 0) {
        stack_drop(stack, TCPC_STAT_tcps_ao_bad, "TCP-AO MAC does not match");
        return false;
    }
    STAT_INC(stack, tcps_ao_good);
    if (tp->state != TCPS_LISTEN)
        tcp_ao_verified(tp, th, sne, &ip->src);
    return true;
}

/* --- the socket option and connection lifetime ---------------------------- */

static struct tcp_ao_info *tcp_ao_info_of(const struct mem *mem, struct tcpcb *tp)
{
    if (!tp->t_ao) {
        tp->t_ao = mem_get(mem, sizeof(*tp->t_ao), MEM_ALIGN_ANY, true);
        if (tp->t_ao)
            tp->t_ao->mem = mem;
    }
    return tp->t_ao;
}

/* Whether tp's connection has started (its use of TCP-AO then decided). */
static bool tcp_ao_started(const struct tcpcb *tp)
{
    return tp->state != TCPS_CLOSED && tp->state != TCPS_LISTEN;
}

int tcp_ao_add(const struct mem *mem, struct tcpcb *tp, const struct tcpc_tcp_ao_add *a)
{
    struct tcp_peer_prefix peer;
    if ((a->maclen != 0 && a->maclen != TCP_AO_MACLEN) || a->set_current > 1 ||
        tcp_peer_prefix_make(&a->addr, a->prefix, &peer) != 0)
        return -EINVAL;
    /* RFC 5925: a connection uses TCP-AO from its SYN or never, and
     * never beside an MD5 signature. */
    if (tp->t_md5keys || (tcp_ao_started(tp) && !(tp->t_ao && tp->t_ao->current)))
        return -EKEYREJECTED;
    for (const struct tcp_ao_key *k = tp->t_ao ? tp->t_ao->keys : NULL; k; k = k->next)
        if (tcp_peer_prefix_eq(&k->peer, &peer) && (k->sndid == a->sndid || k->rcvid == a->rcvid))
            return -EEXIST;
    int err;
    struct tcp_ao_key *k = tcp_ao_key_new(mem, a->alg, a->keyflags, a->key, a->keylen, &err);
    if (!k)
        return err;
    struct tcp_ao_info *ai = tcp_ao_info_of(mem, tp);
    if (!ai) {
        tcp_ao_key_release(k);
        return -ENOMEM;
    }
    k->peer = peer;
    k->sndid = a->sndid;
    k->rcvid = a->rcvid;
    /* At the end: the first added for a peer is the one connections start
     * with. */
    struct tcp_ao_key **pp = &ai->keys;
    while (*pp)
        pp = &(*pp)->next;
    *pp = k;
    if (a->set_current && ai->current && tcp_peer_prefix_covers(&peer, &tp->inp->faddr)) {
        tcp_ao_key_release(ai->current);
        ai->current = tcp_ao_key_hold(k);
    }
    return 0;
}

int tcp_ao_del(struct tcpcb *tp, const struct tcpc_tcp_ao_del *d)
{
    struct tcp_peer_prefix peer;
    if (tcp_peer_prefix_make(&d->addr, d->prefix, &peer) != 0)
        return -EINVAL;
    struct tcp_ao_key **pp = tp->t_ao ? &tp->t_ao->keys : NULL;
    while (pp && *pp &&
           !(tcp_peer_prefix_eq(&(*pp)->peer, &peer) && (*pp)->sndid == d->sndid &&
             (*pp)->rcvid == d->rcvid))
        pp = &(*pp)->next;
    if (!pp || !*pp)
        return -ENOENT;
    struct tcp_ao_key *k = *pp;
    if (k == tp->t_ao->current)
        return -EBUSY;
    *pp = k->next;
    k->next = NULL;
    tcp_ao_key_release(k);
    return 0;
}

void tcp_ao_connect(struct tcpcb *tp)
{
    struct tcp_ao_info *ai = tp->t_ao;
    if (!ai)
        return;
    tcp_ao_key_release(ai->current);
    ai->current = tcp_ao_key_hold((struct tcp_ao_key *)tcp_ao_first(ai->keys, &tp->inp->faddr));
    ai->snd_sne = 0;
    ai->snd_seq = tp->iss;
    ai->rcv_started = false;
}

int tcp_ao_accept(const struct mem *mem, struct tcpcb *tp, const struct tcp_ao_key *key,
                  uint32_t iss, uint32_t irs)
{
    struct tcp_ao_info *ai = tcp_ao_info_of(mem, tp);
    if (!ai)
        return -ENOMEM;
    /* The listener's MKT, shared (a reference): the connection keeps it
     * whatever the listener does. */
    ai->current = tcp_ao_key_hold((struct tcp_ao_key *)key);
    ai->snd_seq = iss;
    ai->rcv_seq = irs;
    ai->rcv_started = true;
    return 0;
}

void tcp_ao_free(struct tcpcb *tp)
{
    struct tcp_ao_info *ai = tp->t_ao;
    if (!ai)
        return;
    tcp_ao_key_release(ai->current);
    while (ai->keys) {
        struct tcp_ao_key *k = ai->keys;
        ai->keys = k->next;
        k->next = NULL;
        tcp_ao_key_release(k);
    }
    mem_put(ai->mem, ai, sizeof(*ai));
    tp->t_ao = NULL;
}
