/*
 * TCP header and option parsing and emission.
 *
 * Options are parsed in one pass that refuses the whole block when any
 * option's length is impossible: a length that lies about one option would
 * shift every option after it, so nothing past it can be trusted. Emission
 * uses the layout Linux and FreeBSD send (4-byte aligned fields behind NOPs)
 * because middleboxes and peers have been tested against exactly that.
 */
#include "tcp.h"

#include <string.h>

#include "bytes.h"
#include "cksum.h"
#include "wire.h"

#define TCPOPT_EOL      0
#define TCPOPT_NOP      1
#define TCPOPT_MSS      2
#define TCPOPT_WSCALE   3
#define TCPOPT_SACKPERM 4
#define TCPOPT_SACK     5
#define TCPOPT_TS       8
#define TCPOPT_SIG      19 /* RFC 2385 */
#define TCPOPT_AO       29 /* RFC 5925 */
#define TCPOPT_FASTOPEN 34 /* RFC 7413 4.1.1 */

#define TCPOLEN_MSS      4
#define TCPOLEN_WSCALE   3
#define TCPOLEN_SACKPERM 2
#define TCPOLEN_TS       10
#define TCPOLEN_SACKBLK  8
#define TCPOLEN_SIG      18
/* NOP NOP kind len: the aligned lead-in of a SACK option. */

#define TCP_IP_MAXLEN 0xffff

static int tcp_opt_sack(const uint8_t *val, size_t len, struct tcp_opts *out)
{
    size_t n = len / TCPOLEN_SACKBLK;

    if (len == 0 || len % TCPOLEN_SACKBLK != 0)
        return -WIRE_TCPOPT_BADLEN;
    if (n > TCP_SACK_MAX)
        n = TCP_SACK_MAX; /* the first blocks are the freshest (RFC 2018) */
    for (size_t i = 0; i < n; i++) {
        out->sack[i].start = get_be32(val + i * TCPOLEN_SACKBLK);
        out->sack[i].end = get_be32(val + i * TCPOLEN_SACKBLK + 4);
    }
    out->nsack = (uint8_t)n;
    out->present |= TOF_SACK;
    return 0;
}

/* One option of total length len (kind and length bytes included), at
 * offset off of the option block. */
static int tcp_opt_one(const uint8_t *opt, size_t len, size_t off, struct tcp_opts *out)
{
    switch (opt[0]) {
    case TCPOPT_MSS:
        if (len != TCPOLEN_MSS)
            return -WIRE_TCPOPT_BADLEN;
        out->mss = get_be16(opt + 2);
        out->present |= TOF_MSS;
        return 0;
    case TCPOPT_WSCALE:
        if (len != TCPOLEN_WSCALE)
            return -WIRE_TCPOPT_BADLEN;
        out->wscale = opt[2];
        out->present |= TOF_WSCALE;
        return 0;
    case TCPOPT_SACKPERM:
        if (len != TCPOLEN_SACKPERM)
            return -WIRE_TCPOPT_BADLEN;
        out->present |= TOF_SACKPERM;
        return 0;
    case TCPOPT_TS:
        if (len != TCPOLEN_TS)
            return -WIRE_TCPOPT_BADLEN;
        out->tsval = get_be32(opt + 2);
        out->tsecr = get_be32(opt + 6);
        out->present |= TOF_TS;
        return 0;
    case TCPOPT_SACK:
        return tcp_opt_sack(opt + 2, len - 2, out);
    case TCPOPT_SIG:
        if (len != TCPOLEN_SIG)
            return -WIRE_TCPOPT_BADLEN;
        memcpy(out->sig, opt + 2, TCP_SIGLEN);
        out->present |= TOF_SIG;
        return 0;
    case TCPOPT_AO:
        /* Any MAC length is well formed here: the engine judges it. */
        if (len < TCP_AO_HDRLEN || len - TCP_AO_HDRLEN > TCP_AO_MAXMACLEN)
            return -WIRE_TCPOPT_BADLEN; /* shorter than its IDs, or more than 40 bytes */
        out->ao_keyid = opt[2];
        out->ao_rnextkeyid = opt[3];
        out->ao_maclen = (uint8_t)(len - TCP_AO_HDRLEN);
        out->ao_off = (uint8_t)off;
        memcpy(out->ao_mac, opt + TCP_AO_HDRLEN, out->ao_maclen);
        out->present |= TOF_AO;
        return 0;
    case TCPOPT_FASTOPEN: {
        /* Any length a header can hold is well formed here: the engine
         * judges the cookie. */
        if (len - 2 > TCP_FASTOPEN_WIRE_MAX)
            return -WIRE_TCPOPT_BADLEN; /* more than a TCP header's options hold */
        out->tfo_len = (uint8_t)(len - 2);
        memcpy(out->tfo_cookie, opt + 2, out->tfo_len);
        out->present |= TOF_FASTOPEN;
        return 0;
    }
    default:
        return 0; /* unknown kinds are skipped by their length */
    }
}

/* <nop,nop,TS>: the block of nearly every segment after the handshake
 * (RFC 7323 appendix A), the one tcp_opts_layout writes for TS alone. */
static const uint8_t tcp_ts_block[4] = {TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TS, TCPOLEN_TS};
#define TCP_TS_BLOCK_LEN (sizeof(tcp_ts_block) + 8)

int tcp_opts_parse(const uint8_t *opts, size_t optlen, struct tcp_opts *out)
{
    size_t i = 0;

    if (optlen == TCP_TS_BLOCK_LEN && memcmp(opts, tcp_ts_block, sizeof(tcp_ts_block)) == 0) {
        /* What the walk below finds in it, without the walk. */
        tcp_opts_clear(out);
        out->tsval = get_be32(opts + 4);
        out->tsecr = get_be32(opts + 8);
        out->present = TOF_TS;
        return 0;
    }
    memset(out, 0, sizeof(*out));
    while (i < optlen) {
        size_t len;
        int err;

        if (opts[i] == TCPOPT_EOL)
            break;
        if (opts[i] == TCPOPT_NOP) {
            i++;
            continue;
        }
        if (optlen - i < 2)
            return -WIRE_TCPOPT_BADLEN;
        len = opts[i + 1];
        if (len < 2 || len > optlen - i)
            return -WIRE_TCPOPT_BADLEN;
        err = tcp_opt_one(opts + i, len, i, out);
        if (err < 0)
            return err;
        i += len;
    }
    return 0;
}

int tcp_parse(const uint8_t *seg, size_t seglen, struct tcp_repr *out)
{
    size_t off;
    int err;

    if (seglen < TCP_HDR_LEN)
        return -WIRE_TCP_SHORT;
    off = (size_t)(seg[12] >> 4) * 4;
    if (off < TCP_HDR_LEN || off > seglen)
        return -WIRE_TCP_BADOFF;

    /* Every field is set below and the options by their parser, which
     * clears them first: no memset of the whole representation. */
    err = tcp_opts_parse(seg + TCP_HDR_LEN, off - TCP_HDR_LEN, &out->opts);
    if (err < 0)
        return err;
    out->sport = get_be16(seg);
    out->dport = get_be16(seg + 2);
    out->seq = get_be32(seg + 4);
    out->ack = get_be32(seg + 8);
    out->flags = seg[13];
    out->win = get_be16(seg + 14);
    out->urp = get_be16(seg + 18);
    out->hdrlen = (uint16_t)off;
    out->payload_len = seglen - off;
    out->payload = out->payload_len ? seg + off : NULL;
    return (int)off;
}

bool tcp_cksum_ok(const struct ip_repr *ip, const uint8_t *seg, size_t seglen)
{
    uint32_t sum = cksum_pseudo(&ip->src, &ip->dst, IPPROTO_TCP_, (uint32_t)seglen);

    return cksum_finish(cksum_add(sum, seg, seglen)) == 0;
}

size_t tcp_pseudo_header(const struct tcpc_addr *src, const struct tcpc_addr *dst, uint32_t seglen,
                         uint8_t out[TCP_PSEUDO_MAXLEN])
{
    if (tcpc_addr_is_v4(src)) {
        memcpy(out, src->bytes + 12, 4);
        memcpy(out + 4, dst->bytes + 12, 4);
        out[8] = 0;
        out[9] = IPPROTO_TCP_;
        put_be16(out + 10, (uint16_t)seglen);
        return 12;
    }
    memcpy(out, src->bytes, 16);
    memcpy(out + 16, dst->bytes, 16);
    put_be32(out + 32, seglen);
    out[36] = out[37] = out[38] = 0;
    out[39] = IPPROTO_TCP_;
    return TCP_PSEUDO_MAXLEN;
}

/*
 * The option layout, FreeBSD's (its tcp_addoptions), which the RFCs leave
 * open: MSS, window scale, SACK-permitted, timestamps, the MD5 signature,
 * Fast Open, SACK blocks, in that order, each preceded by the NOPs that
 * align it (window scale at an odd offset, SACK-permitted at an even one,
 * timestamps, signature and SACK at 2 mod 4; Fast Open needs no
 * alignment), TCP-AO at 0 mod 4 (its MAC then 4-aligned, where Linux puts
 * it) after the signature, a TCP-AO or Fast Open option that would not fit
 * in 40 bytes left out (the engine never asks for both signatures; a parsed
 * block may hold them), the whole padded to a multiple of 4 with EOL. A SYN-ACK with MSS and
 * SACK-permitted is thus <mss,sackOK,eol,eol>, and a full SYN
 * <mss,nop,wscale,sackOK,TS>. With a signature, that full SYN is exactly
 * 40 bytes (20, two NOPs, 18), so every SYN and SYN-ACK option still fits;
 * on later segments the 20 signature bytes leave no room for SACK blocks
 * beside timestamps, as on FreeBSD and Linux. One walk both counts (out NULL) and writes,
 * so the length and the bytes cannot disagree. It never exceeds
 * TCP_MAXOLEN (SACK blocks stop there).
 */
struct tcp_opt_writer {
    uint8_t *out; /* NULL: count only */
    size_t len;
    size_t ao_off; /* where the TCP-AO option went */
};

static void tcp_ow_put(struct tcp_opt_writer *w, uint8_t b)
{
    if (w->out)
        w->out[w->len] = b;
    w->len++;
}

static void tcp_ow_align(struct tcp_opt_writer *w, size_t mod, size_t rem)
{
    while (w->len % mod != rem)
        tcp_ow_put(w, TCPOPT_NOP);
}

static void tcp_ow_be32(struct tcp_opt_writer *w, uint32_t v)
{
    for (int shift = 24; shift >= 0; shift -= 8)
        tcp_ow_put(w, (uint8_t)(v >> shift));
}

static void tcp_ow_sack(struct tcp_opt_writer *w, const struct tcp_opts *opts)
{
    size_t n = opts->nsack > TCP_SACK_MAX ? TCP_SACK_MAX : opts->nsack;

    if (!(opts->present & TOF_SACK) || n == 0)
        return;
    /* As many blocks as the 40 option bytes hold once the option is
     * aligned (kind and length at 2 mod 4); none: no option. */
    size_t at = w->len + (6 - w->len % 4) % 4 + 2;
    size_t room = at < TCP_MAXOLEN ? (TCP_MAXOLEN - at) / TCPOLEN_SACKBLK : 0;
    if (n > room)
        n = room;
    if (n == 0)
        return;
    tcp_ow_align(w, 4, 2);
    tcp_ow_put(w, TCPOPT_SACK);
    tcp_ow_put(w, (uint8_t)(2 + n * TCPOLEN_SACKBLK));
    for (size_t i = 0; i < n; i++) {
        tcp_ow_be32(w, opts->sack[i].start);
        tcp_ow_be32(w, opts->sack[i].end);
    }
}

static void tcp_ow_ao(struct tcp_opt_writer *w, const struct tcp_opts *opts)
{
    size_t at = (w->len + 3) / 4 * 4;
    if (!(opts->present & TOF_AO) || at + TCP_AO_HDRLEN + opts->ao_maclen > TCP_MAXOLEN)
        return;
    tcp_ow_align(w, 4, 0);
    w->ao_off = w->len;
    tcp_ow_put(w, TCPOPT_AO);
    tcp_ow_put(w, (uint8_t)(TCP_AO_HDRLEN + opts->ao_maclen));
    tcp_ow_put(w, opts->ao_keyid);
    tcp_ow_put(w, opts->ao_rnextkeyid);
    for (size_t i = 0; i < opts->ao_maclen; i++)
        tcp_ow_put(w, opts->ao_mac[i]);
}

static size_t tcp_opts_layout(const struct tcp_opts *opts, uint8_t *out, size_t *ao_off)
{
    struct tcp_opt_writer w = {.out = out, .len = 0};

    if (opts->present == TOF_TS) {
        /* Timestamps alone, on nearly every segment: the bytes the walk
         * below writes for them (two NOPs align them), in one go. */
        if (out) {
            memcpy(out, tcp_ts_block, sizeof(tcp_ts_block));
            put_be32(out + 4, opts->tsval);
            put_be32(out + 8, opts->tsecr);
        }
        if (ao_off)
            *ao_off = 0;
        return TCP_TS_BLOCK_LEN;
    }

    if (opts->present & TOF_MSS) {
        tcp_ow_put(&w, TCPOPT_MSS);
        tcp_ow_put(&w, TCPOLEN_MSS);
        tcp_ow_put(&w, (uint8_t)(opts->mss >> 8));
        tcp_ow_put(&w, (uint8_t)opts->mss);
    }
    if (opts->present & TOF_WSCALE) {
        tcp_ow_align(&w, 2, 1);
        tcp_ow_put(&w, TCPOPT_WSCALE);
        tcp_ow_put(&w, TCPOLEN_WSCALE);
        tcp_ow_put(&w, opts->wscale);
    }
    if (opts->present & TOF_SACKPERM) {
        tcp_ow_align(&w, 2, 0);
        tcp_ow_put(&w, TCPOPT_SACKPERM);
        tcp_ow_put(&w, TCPOLEN_SACKPERM);
    }
    if (opts->present & TOF_TS) {
        tcp_ow_align(&w, 4, 2);
        tcp_ow_put(&w, TCPOPT_TS);
        tcp_ow_put(&w, TCPOLEN_TS);
        tcp_ow_be32(&w, opts->tsval);
        tcp_ow_be32(&w, opts->tsecr);
    }
    if (opts->present & TOF_SIG) {
        tcp_ow_align(&w, 4, 2);
        tcp_ow_put(&w, TCPOPT_SIG);
        tcp_ow_put(&w, TCPOLEN_SIG);
        for (size_t i = 0; i < TCP_SIGLEN; i++)
            tcp_ow_put(&w, opts->sig[i]);
    }
    tcp_ow_ao(&w, opts);
    if ((opts->present & TOF_FASTOPEN) && w.len + 2 + opts->tfo_len <= TCP_MAXOLEN) {
        tcp_ow_put(&w, TCPOPT_FASTOPEN);
        tcp_ow_put(&w, (uint8_t)(2 + opts->tfo_len));
        for (size_t i = 0; i < opts->tfo_len; i++)
            tcp_ow_put(&w, opts->tfo_cookie[i]);
    }
    tcp_ow_sack(&w, opts);
    while (w.len % 4)
        tcp_ow_put(&w, TCPOPT_EOL);
    if (ao_off)
        *ao_off = w.ao_off;
    return w.len;
}

size_t tcp_opts_len(const struct tcp_opts *opts)
{
    return tcp_opts_layout(opts, NULL, NULL);
}

size_t tcp_opts_ao_off(const struct tcp_opts *opts)
{
    size_t off = 0;
    (void)tcp_opts_layout(opts, NULL, &off);
    return off;
}

int tcp_opts_emit(const struct tcp_opts *opts, uint8_t *buf, size_t buflen)
{
    size_t len = tcp_opts_len(opts);

    if (buflen < len)
        return -WIRE_NOSPACE;
    return (int)tcp_opts_layout(opts, buf, NULL);
}

static void tcp_emit_header(const struct tcp_repr *tcp, size_t hdrlen, uint8_t *p)
{
    put_be16(p, tcp->sport);
    put_be16(p + 2, tcp->dport);
    put_be32(p + 4, tcp->seq);
    put_be32(p + 8, tcp->ack);
    p[12] = (uint8_t)(hdrlen / 4 << 4);
    p[13] = tcp->flags;
    put_be16(p + 14, tcp->win);
    put_be16(p + 16, 0);
    put_be16(p + 18, tcp->urp);
}

void tcp_emit_fixed_header(const struct tcp_repr *tcp, uint8_t out[TCP_HDR_LEN])
{
    tcp_emit_header(tcp, TCP_HDR_LEN + tcp_opts_len(&tcp->opts), out);
}

size_t tcp_payload_offset(const struct ip_repr *ip, const struct tcp_opts *opts)
{
    return ip_header_len(ip) + TCP_HDR_LEN + tcp_opts_len(opts);
}

int tcp_emit_packet(const struct ip_repr *ip, const struct tcp_repr *tcp, uint8_t *buf,
                    size_t buflen)
{
    struct ip_repr iph = *ip;
    size_t iplen = ip_header_len(ip);
    /* Laid out once, here, and copied into place below: the length is
     * needed before the payload is placed, the bytes after. Timestamps
     * alone (nearly every segment) have a known length and are written in
     * place instead. */
    uint8_t optbuf[TCP_MAXOLEN];
    size_t optlen =
        tcp->opts.present == TOF_TS ? TCP_TS_BLOCK_LEN : tcp_opts_layout(&tcp->opts, optbuf, NULL);
    size_t hdrlen = TCP_HDR_LEN + optlen;
    size_t payoff = iplen + hdrlen;
    uint8_t *seg = buf + iplen;
    size_t seglen;
    uint32_t sum;
    int err;

    /* Checked before adding so that a huge payload_len cannot wrap. */
    if (tcp->payload_len > TCP_IP_MAXLEN)
        return -WIRE_IP_BADLEN;
    seglen = hdrlen + tcp->payload_len;
    /* IPv4 counts its header in the 16-bit length, IPv6 does not. */
    if (seglen > TCP_IP_MAXLEN - (ip->version == 6 ? 0 : iplen))
        return -WIRE_IP_BADLEN;
    if (buflen < iplen + seglen)
        return -WIRE_NOSPACE;
    iph.proto = IPPROTO_TCP_;
    iph.payload_len = (uint16_t)seglen;
    /* Payload first: the caller may hand a payload that sits inside buf. */
    if (tcp->payload_len && tcp->payload != buf + payoff)
        memmove(buf + payoff, tcp->payload, tcp->payload_len);
    err = ip_emit(&iph, buf, buflen);
    if (err < 0)
        return err;
    tcp_emit_header(tcp, hdrlen, seg);
    if (tcp->opts.present == TOF_TS)
        (void)tcp_opts_layout(&tcp->opts, seg + TCP_HDR_LEN, NULL);
    else
        memcpy(seg + TCP_HDR_LEN, optbuf, optlen);
    sum = cksum_pseudo(&iph.src, &iph.dst, IPPROTO_TCP_, (uint32_t)seglen);
    put_be16(seg + 16, cksum_finish(cksum_add(sum, seg, seglen)));
    return (int)(iplen + seglen);
}
