/*
 * The TCP header (RFC 9293 section 3.1) and its options: MSS (RFC 9293),
 * window scale and timestamps (RFC 7323), SACK-permitted and SACK (RFC 2018),
 * and the MD5 signature (RFC 2385), whose digest this layer only carries:
 * computing it is src/tcp/tcp_md5.c's job; the TCP Authentication Option
 * (RFC 5925), carried the same way (src/tcp/tcp_ao.c computes its MAC); and
 * TCP Fast Open (RFC 7413).
 *
 * Parsing splits the segment into a host-order tcp_repr whose `payload`
 * points into the caller's buffer (nothing is copied). Unknown option kinds
 * are skipped by their length; an option whose length is wrong for its kind
 * or runs past the header is refused as a whole (WIRE_TCPOPT_BADLEN).
 * Checksum verification is separate because it needs the IP pseudo-header.
 */
#ifndef TCPCORE_WIRE_TCP_H
#define TCPCORE_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ip.h"

#define TCP_HDR_LEN  20
#define TCP_MAXOLEN  40
#define TCP_SACK_MAX 4

/* Header flags, as on the wire (RFC 9293, RFC 3168 for ECE/CWR). */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

/* Which options a tcp_opts holds. */
#define TOF_MSS      0x01
#define TOF_WSCALE   0x02
#define TOF_SACKPERM 0x04
#define TOF_TS       0x08
#define TOF_SACK     0x10
#define TOF_SIG      0x20 /* RFC 2385 MD5 signature (sig) */

#define TCP_SIGLEN   16 /* the digest an RFC 2385 option carries */
#define TOF_FASTOPEN 0x40
#define TOF_AO       0x80 /* RFC 5925 authentication option (ao_*) */

/* TCP-AO (RFC 5925 2.2): kind, length, KeyID, RNextKeyID, then a MAC of
 * any length the option's length byte gives (12 bytes for both RFC 5926
 * algorithms); which lengths are valid is the engine's decision. */
#define TCP_AO_HDRLEN    4
#define TCP_AO_MAXMACLEN (TCP_MAXOLEN - TCP_AO_HDRLEN)

/* TCP Fast Open cookies (RFC 7413 4.1.1): 4 to 16 bytes, even. The wire
 * layer carries any length the option's length byte gives; which are valid
 * is the engine's decision. */
#define TCP_FASTOPEN_MIN_COOKIE_LEN 4
#define TCP_FASTOPEN_MAX_COOKIE_LEN 16
/* The most cookie bytes an option can hold: all 40 option bytes but its
 * kind and length. */
#define TCP_FASTOPEN_WIRE_MAX (TCP_MAXOLEN - 2)

#define TCP_MAX_WINSHIFT 14 /* RFC 7323 section 2.3 */

struct tcp_sack_block {
    uint32_t start, end;
};

/*
 * The scalars come first: they say which options are present and how long
 * each variable part is, and the arrays after them are read only within
 * those lengths (a SACK block below nsack, the digest with TOF_SIG, the
 * cookie's tfo_len bytes, the MAC's ao_maclen), so clearing the scalars
 * (tcp_opts_clear) is enough on the paths every segment takes.
 */
struct tcp_opts {
    uint8_t present; /* TOF_* */
    uint8_t wscale;  /* as received; clamping to 14 is the engine's job */
    uint8_t nsack;   /* SACK blocks held (at most TCP_SACK_MAX) */
    /* Fast Open: the cookie as the option carries it, tfo_len bytes (0: a
     * cookie request), however long the option says; emission writes the
     * same bytes back. */
    uint8_t tfo_len;
    /* TOF_AO: the key IDs, the MAC as on the wire (ao_maclen bytes), and,
     * parsed, where the option's kind byte sits from the start of the
     * options (what a MAC check zeroes; emission ignores it). */
    uint8_t ao_keyid, ao_rnextkeyid;
    uint8_t ao_maclen;
    uint8_t ao_off;
    uint16_t mss;
    uint32_t tsval, tsecr;
    struct tcp_sack_block sack[TCP_SACK_MAX];
    uint8_t sig[TCP_SIGLEN]; /* TOF_SIG: the digest, as on the wire */
    uint8_t tfo_cookie[TCP_FASTOPEN_WIRE_MAX];
    uint8_t ao_mac[TCP_AO_MAXMACLEN];
};

/* No option present: the scalars zeroed, the arrays left as they are. */
static inline void tcp_opts_clear(struct tcp_opts *o)
{
    memset(o, 0, offsetof(struct tcp_opts, sack));
}

struct tcp_repr {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags; /* TH_* */
    uint16_t win;  /* unscaled, as on the wire */
    uint16_t urp;
    uint16_t hdrlen; /* data offset in bytes */
    struct tcp_opts opts;
    const uint8_t *payload; /* into the parsed buffer; NULL when empty */
    size_t payload_len;
};

/* A header to be filled in for emission: the ports and flags given,
 * everything else zero, no option present (tcp_opts_clear). */
static inline void tcp_repr_init(struct tcp_repr *th, uint16_t sport, uint16_t dport, uint8_t flags)
{
    th->sport = sport;
    th->dport = dport;
    th->seq = th->ack = 0;
    th->flags = flags;
    th->win = th->urp = th->hdrlen = 0;
    tcp_opts_clear(&th->opts);
    th->payload = NULL;
    th->payload_len = 0;
}

/*
 * Parses a TCP segment of seglen bytes (header, options, payload). Returns
 * hdrlen and fills *out, or -WIRE_TCP_SHORT / -WIRE_TCP_BADOFF /
 * -WIRE_TCPOPT_BADLEN. Does not verify the checksum.
 */
int tcp_parse(const uint8_t *seg, size_t seglen, struct tcp_repr *out);

/* Parses an option block of optlen bytes (the bytes between the fixed header
 * and the data offset). Returns 0 or -WIRE_TCPOPT_BADLEN. */
int tcp_opts_parse(const uint8_t *opts, size_t optlen, struct tcp_opts *out);

/* True when the checksum of the segment under ip's pseudo-header is right. */
bool tcp_cksum_ok(const struct ip_repr *ip, const uint8_t *seg, size_t seglen);

/* The largest pseudo-header tcp_pseudo_header writes (IPv6's). */
#define TCP_PSEUDO_MAXLEN 40

/*
 * The pseudo-header of a TCP segment of seglen bytes from src to dst, as
 * bytes: IPv4's (RFC 9293 3.1: addresses, a zero byte, protocol, 16-bit
 * length) or IPv6's (RFC 8200 8.1: addresses, 32-bit length, three zero
 * bytes, next header), chosen by the address type. What the checksum sums,
 * and what RFC 2385 digests and RFC 5925 MACs cover. Returns its length.
 */
size_t tcp_pseudo_header(const struct tcpc_addr *src, const struct tcpc_addr *dst, uint32_t seglen,
                         uint8_t out[TCP_PSEUDO_MAXLEN]);

/* Bytes tcp_opts_emit will write for opts (a multiple of 4, at most 40). */
size_t tcp_opts_len(const struct tcp_opts *opts);

/*
 * Writes opts in the customary order and alignment (MSS, then NOP-padded
 * window scale, SACK-permitted, timestamps, the MD5 signature, TCP-AO when
 * it fits, then Fast Open when it fits, then SACK blocks as far as room
 * allows), padded to a multiple of 4. Returns bytes written or
 * -WIRE_NOSPACE.
 */
int tcp_opts_emit(const struct tcp_opts *opts, uint8_t *buf, size_t buflen);

/*
 * Emits a whole IP packet: the IP header from ip (its proto set to TCP and
 * payload_len computed here), the TCP header and options from tcp, then
 * tcp->payload_len bytes from tcp->payload, with both checksums filled in.
 * tcp->hdrlen is ignored (it follows from the options). The payload may lie
 * inside buf; when it already sits at its place (buf +
 * tcp_payload_offset), it is not moved. Returns the packet length, -WIRE_NOSPACE, or
 * -WIRE_IP_BADLEN when the packet would not fit the IP length field.
 */
int tcp_emit_packet(const struct ip_repr *ip, const struct tcp_repr *tcp, uint8_t *buf,
                    size_t buflen);

/*
 * The fixed 20-byte header tcp_emit_packet writes for tcp with opts' options,
 * checksum zero: what an RFC 2385 digest covers of the header.
 */
void tcp_emit_fixed_header(const struct tcp_repr *tcp, uint8_t out[TCP_HDR_LEN]);

/* Offset of the TCP-AO option's kind byte within the option block
 * tcp_opts_emit writes for opts (TOF_AO set, and the option kept). */
size_t tcp_opts_ao_off(const struct tcp_opts *opts);

/* Where tcp_emit_packet puts the payload of a segment with options opts
 * behind ip's header: the IP header, the TCP header and the options. */
size_t tcp_payload_offset(const struct ip_repr *ip, const struct tcp_opts *opts);

#endif
