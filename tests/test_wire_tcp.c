/*
 * Unit tests for TCP header and option parsing and emission: Linux SYNs
 * captured off a tun device as known answers (fields and checksums), every
 * option edge case the parser must refuse or skip, the emitted option layout
 * byte for byte, and whole-packet emit/parse round trips for both families.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "wire/bytes.h"
#include "wire/cksum.h"
#include "wire/ip.h"
#include "wire/tcp.h"
#include "wire/wire.h"
#include "vectors.h"

/* Parses an option block given as bytes. */
static int opts(struct tcp_opts *o, size_t n, const uint8_t *b)
{
    return tcp_opts_parse(b, n, o);
}

static void test_parse_captured_syn4(void **state)
{
    uint8_t p[64];
    size_t n = unhex(syn4_hex, p, sizeof(p));
    struct ip_repr ip;
    struct tcp_repr t;

    (void)state;
    assert_int_equal(ip_parse(p, n, &ip), 20);
    assert_int_equal(tcp_parse(p + 20, ip.payload_len, &t), 40);
    assert_int_equal(t.sport, 34140);
    assert_int_equal(t.dport, 80);
    assert_int_equal(t.seq, 0x7a21727f);
    assert_int_equal(t.ack, 0);
    assert_int_equal(t.flags, TH_SYN);
    assert_int_equal(t.win, 64240);
    assert_int_equal(t.urp, 0);
    assert_int_equal(t.hdrlen, 40);
    assert_null(t.payload);
    assert_int_equal(t.payload_len, 0);
    assert_int_equal(t.opts.present, TOF_MSS | TOF_SACKPERM | TOF_TS | TOF_WSCALE);
    assert_int_equal(t.opts.mss, 1460);
    assert_int_equal(t.opts.wscale, 10);
    assert_int_equal(t.opts.tsval, 0x67d9c0b6);
    assert_int_equal(t.opts.tsecr, 0);
    assert_int_equal(t.opts.nsack, 0);
    assert_true(tcp_cksum_ok(&ip, p + 20, 40));
}

static void test_cksum_known_answers(void **state)
{
    uint8_t p[96];
    size_t n;
    struct ip_repr ip;
    uint32_t sum;

    (void)state;
    n = unhex(syn4_hex, p, sizeof(p));
    assert_int_equal(ip_parse(p, n, &ip), 20);
    put_be16(p + 20 + 16, 0);
    sum = cksum_pseudo(&ip.src, &ip.dst, IPPROTO_TCP_, 40);
    assert_int_equal(cksum_finish(cksum_add(sum, p + 20, 40)), 0x2607);

    n = unhex(syn6_hex, p, sizeof(p));
    assert_int_equal(ip_parse(p, n, &ip), 40);
    assert_true(tcp_cksum_ok(&ip, p + 40, 40));
    put_be16(p + 40 + 16, 0);
    sum = cksum_pseudo(&ip.src, &ip.dst, IPPROTO_TCP_, 40);
    assert_int_equal(cksum_finish(cksum_add(sum, p + 40, 40)), 0x3f0c);
}

static void test_cksum_detects_damage(void **state)
{
    uint8_t p[96];
    size_t n = unhex(syn6_hex, p, sizeof(p));
    struct ip_repr ip;

    (void)state;
    assert_int_equal(ip_parse(p, n, &ip), 40);
    for (size_t i = 0; i < 40; i++) {
        p[40 + i] ^= 0x10;
        assert_false(tcp_cksum_ok(&ip, p + 40, 40));
        p[40 + i] ^= 0x10;
    }
    /* The pseudo-header is covered too. */
    ip.dst.bytes[15] ^= 1;
    assert_false(tcp_cksum_ok(&ip, p + 40, 40));
}

static void test_parse_captured_syn6(void **state)
{
    uint8_t p[96];
    size_t n = unhex(syn6_hex, p, sizeof(p));
    struct ip_repr ip;
    struct tcp_repr t;

    (void)state;
    assert_int_equal(ip_parse(p, n, &ip), 40);
    assert_int_equal(tcp_parse(p + 40, ip.payload_len, &t), 40);
    assert_int_equal(t.sport, 59320);
    assert_int_equal(t.seq, 0x3e2fdba3);
    assert_int_equal(t.win, 64800);
    assert_int_equal(t.opts.mss, 1440);
    assert_int_equal(t.opts.tsval, 0x70e83dab);
    assert_int_equal(t.opts.present, TOF_MSS | TOF_SACKPERM | TOF_TS | TOF_WSCALE);
}

static void test_header_errors(void **state)
{
    uint8_t s[64] = {0};
    struct tcp_repr t;

    (void)state;
    s[12] = 5 << 4;
    assert_int_equal(tcp_parse(s, 19, &t), -WIRE_TCP_SHORT);
    assert_int_equal(tcp_parse(s, 0, &t), -WIRE_TCP_SHORT);
    assert_int_equal(tcp_parse(s, 20, &t), 20);
    s[12] = 4 << 4;
    assert_int_equal(tcp_parse(s, 20, &t), -WIRE_TCP_BADOFF);
    s[12] = 0;
    assert_int_equal(tcp_parse(s, 20, &t), -WIRE_TCP_BADOFF);
    s[12] = 6 << 4; /* 24 bytes of header in a 23-byte segment */
    assert_int_equal(tcp_parse(s, 23, &t), -WIRE_TCP_BADOFF);
    s[20] = 2, s[21] = 5; /* MSS with length 5 */
    assert_int_equal(tcp_parse(s, 24, &t), -WIRE_TCPOPT_BADLEN);
}

static void test_payload_and_flags(void **state)
{
    uint8_t s[64] = {0};
    struct tcp_repr t;

    (void)state;
    s[12] = 6 << 4 | 0x0f; /* reserved bits are not flags */
    s[13] = 0xff;
    s[20] = 1, s[21] = 1, s[22] = 1, s[23] = 0;
    memcpy(s + 24, "data", 4);
    put_be16(s + 18, 0x1234);
    assert_int_equal(tcp_parse(s, 28, &t), 24);
    assert_int_equal(t.flags, 0xff);
    assert_int_equal(t.urp, 0x1234);
    assert_int_equal(t.payload_len, 4);
    assert_ptr_equal(t.payload, s + 24);
    assert_int_equal(t.opts.present, 0);
}

static void test_opts_eol_and_nop(void **state)
{
    /* EOL mid-block ends parsing; what follows is not looked at. */
    static const uint8_t eol[] = {1, 2, 4, 5, 0xb4, 0, 2, 0xff, 3, 0, 0, 0};
    static const uint8_t nops[] = {1, 1, 1, 1};
    struct tcp_opts o;

    (void)state;
    assert_int_equal(opts(&o, sizeof(eol), eol), 0);
    assert_int_equal(o.present, TOF_MSS);
    assert_int_equal(o.mss, 1460);
    assert_int_equal(opts(&o, sizeof(nops), nops), 0);
    assert_int_equal(o.present, 0);
    assert_int_equal(opts(&o, 0, nops), 0);
}

static void test_opts_bad_lengths(void **state)
{
    static const struct {
        uint8_t len;
        uint8_t b[12];
    } bad[] = {
        {2, {30, 0}},                          /* zero length */
        {2, {30, 1}},                          /* length 1 */
        {4, {30, 5, 0, 0}},                    /* unknown kind past the end */
        {1, {2}},                              /* kind with no length byte */
        {3, {1, 1, 30}},                       /* ... after NOPs */
        {4, {2, 3, 5, 0}},                     /* MSS of length 3 */
        {6, {2, 6, 5, 0, 0, 0}},               /* MSS of length 6 */
        {4, {3, 4, 7, 0}},                     /* WSCALE of length 4 */
        {3, {4, 3, 0}},                        /* SACKPERM of length 3 */
        {8, {8, 8, 0, 0, 0, 0, 0, 0}},         /* TS of length 8 */
        {12, {8, 12, 0}},                      /* TS of length 12 */
        {2, {5, 2}},                           /* SACK with no block */
        {11, {5, 11, 0}},                      /* SACK with a partial block */
        {10, {5, 18, 0, 0, 0, 0, 0, 0, 0, 0}}, /* SACK past the end */
        {8, {8, 10, 0, 0, 0, 0, 0, 0}},        /* TS past the end */
        {12, {19, 12, 0}},                     /* MD5 signature of length 12 */
        {10, {19, 18, 0}},                     /* MD5 signature past the end */
        {3, {29, 3, 0}},                       /* TCP-AO shorter than its IDs */
        {8, {29, 16, 0}},                      /* TCP-AO past the end */
    };
    struct tcp_opts o;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(opts(&o, bad[i].len, bad[i].b), -WIRE_TCPOPT_BADLEN);
}

static void test_opts_unknown_skipped(void **state)
{
    static const uint8_t b[] = {30,  6, 0xde, 0xad, 0xbe, 0xef, 3,    3,   7,
                                253, 2, 4,    2,    2,    4,    0x05, 0xdc};
    struct tcp_opts o;

    (void)state;
    assert_int_equal(opts(&o, sizeof(b), b), 0);
    assert_int_equal(o.present, TOF_WSCALE | TOF_SACKPERM | TOF_MSS);
    assert_int_equal(o.wscale, 7);
    assert_int_equal(o.mss, 1500);
}

/* RFC 7413 4.1.1: kind 34; an empty option is a cookie request. Any length
 * parses (the engine judges it), the first 16 cookie bytes are kept. */
static void test_opts_fastopen_parse(void **state)
{
    static const uint8_t req[] = {2, 4, 0x05, 0xb4, 34, 2, 0, 0};
    static const uint8_t c8[] = {34, 10, 1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t odd[] = {34, 5, 1, 2, 3, 0};
    uint8_t c18[20] = {34, 20};
    struct tcp_opts o;

    (void)state;
    assert_int_equal(opts(&o, sizeof(req), req), 0);
    assert_int_equal(o.present, TOF_MSS | TOF_FASTOPEN);
    assert_int_equal(o.tfo_len, 0);
    assert_int_equal(opts(&o, sizeof(c8), c8), 0);
    assert_int_equal(o.present, TOF_FASTOPEN);
    assert_int_equal(o.tfo_len, 8);
    assert_memory_equal(o.tfo_cookie, c8 + 2, 8);
    assert_int_equal(opts(&o, sizeof(odd), odd), 0);
    assert_int_equal(o.tfo_len, 3);
    assert_memory_equal(o.tfo_cookie, odd + 2, 3);
    for (int i = 0; i < 18; i++)
        c18[2 + i] = (uint8_t)(i + 1);
    assert_int_equal(opts(&o, sizeof(c18), c18), 0);
    assert_int_equal(o.tfo_len, 18);
    assert_memory_equal(o.tfo_cookie, c18 + 2, 18); /* all of it, valid or not */
    /* A length past the block is refused like any other. */
    static const uint8_t past[] = {34, 10, 1, 2};
    assert_int_equal(opts(&o, sizeof(past), past), -WIRE_TCPOPT_BADLEN);
    /* So is one longer than 40 option bytes can be, in a longer block. */
    uint8_t huge[48] = {34, 41};
    assert_int_equal(opts(&o, sizeof(huge), huge), -WIRE_TCPOPT_BADLEN);
}

/* FreeBSD's SYN with Fast Open: <mss,nop,wscale,sackOK,TS,FO...> padded
 * with EOL, the option unaligned right behind the timestamps. */
static void test_opts_fastopen_emit(void **state)
{
    static const uint8_t req[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 6, 4,  2, 8, 10,
                                  0, 0, 0,    1,    0, 0, 0, 0, 34, 2, 0, 0};
    static const uint8_t c8[] = {2, 4, 0x05, 0xb4, 1,  3,  3, 6, 4, 2, 8, 10, 0, 0, 0, 1,
                                 0, 0, 0,    0,    34, 10, 1, 2, 3, 4, 5, 6,  7, 8, 0, 0};
    struct tcp_opts o = {
        .present = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS | TOF_FASTOPEN,
        .mss = 1460,
        .wscale = 6,
        .tsval = 1,
    };
    uint8_t b[TCP_MAXOLEN];

    (void)state;
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), sizeof(req));
    assert_memory_equal(b, req, sizeof(req));
    o.tfo_len = 8;
    for (int i = 0; i < 8; i++)
        o.tfo_cookie[i] = (uint8_t)(i + 1);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), sizeof(c8));
    assert_memory_equal(b, c8, sizeof(c8));
    /* The longest cookie still fits the 40 option bytes. */
    o.tfo_len = TCP_FASTOPEN_MAX_COOKIE_LEN;
    assert_int_equal(tcp_opts_len(&o), TCP_MAXOLEN);
}

/* What the parser read is what the emitter writes back, a cookie longer
 * than any valid one included; and an option that no longer fits (beside
 * a full SYN's options and a signature) is left out, the rest intact. */
static void test_opts_fastopen_roundtrip_and_room(void **state)
{
    uint8_t in[36] = {34, 34};
    struct tcp_opts o, back;
    uint8_t b[TCP_MAXOLEN];

    (void)state;
    for (int i = 0; i < 32; i++)
        in[2 + i] = (uint8_t)(0x40 + i);
    assert_int_equal(opts(&o, sizeof(in), in), 0);
    assert_int_equal(o.tfo_len, 32);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 36);
    assert_memory_equal(b, in, 34);
    assert_int_equal(opts(&back, 36, b), 0);
    assert_int_equal(back.tfo_len, 32);
    assert_memory_equal(back.tfo_cookie, o.tfo_cookie, 32);

    struct tcp_opts full = {
        .present = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS | TOF_SIG | TOF_FASTOPEN,
        .mss = 1460,
        .wscale = 6,
        .tfo_len = 8,
    };
    assert_int_equal(tcp_opts_emit(&full, b, sizeof(b)), TCP_MAXOLEN);
    assert_int_equal(opts(&back, TCP_MAXOLEN, b), 0);
    assert_int_equal(back.present, full.present & ~TOF_FASTOPEN);
}

/* A SACK option of n blocks, blocks i = [1000 i, 1000 i + 500). */
static size_t make_sack(uint8_t *b, unsigned n)
{
    b[0] = 5;
    b[1] = (uint8_t)(2 + 8 * n);
    for (unsigned i = 0; i < n; i++) {
        put_be32(b + 2 + 8 * i, 1000 * (i + 1));
        put_be32(b + 6 + 8 * i, 1000 * (i + 1) + 500);
    }
    return 2 + 8 * n;
}

static void test_opts_sack_blocks(void **state)
{
    uint8_t b[64];
    struct tcp_opts o;

    (void)state;
    for (unsigned n = 1; n <= 5; n++) {
        size_t len = make_sack(b, n);
        unsigned kept = n < TCP_SACK_MAX ? n : TCP_SACK_MAX;

        assert_int_equal(opts(&o, len, b), 0);
        assert_int_equal(o.present, TOF_SACK);
        assert_int_equal(o.nsack, kept);
        for (unsigned i = 0; i < kept; i++) {
            assert_int_equal(o.sack[i].start, 1000 * (i + 1));
            assert_int_equal(o.sack[i].end, 1000 * (i + 1) + 500);
        }
    }
}

static void test_opts_emit_layout(void **state)
{
    static const uint8_t syn[] = {2, 4,  0x05, 0xb4, 1, 3, 3, 10, 4, 2,
                                  8, 10, 0,    0,    0, 1, 0, 0,  0, 2};
    static const uint8_t ts[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    /* FreeBSD's layout: SACK-permitted unpadded, EOL to the word. */
    static const uint8_t sp[] = {4, 2, 0, 0};
    static const uint8_t synack[] = {2, 4, 0x05, 0xb4, 4, 2, 0, 0};
    static const uint8_t synack_ws[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 10, 4, 2, 0, 0};
    static const uint8_t mss_ts[] = {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2};
    struct tcp_opts o = {
        .present = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS,
        .mss = 1460,
        .wscale = 10,
        .tsval = 1,
        .tsecr = 2,
    };
    uint8_t b[TCP_MAXOLEN];

    (void)state;
    assert_int_equal(tcp_opts_len(&o), 20);
    assert_int_equal(tcp_opts_emit(&o, b, 19), -WIRE_NOSPACE);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 20);
    assert_memory_equal(b, syn, sizeof(syn));
    o.present = TOF_TS;
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 12);
    assert_memory_equal(b, ts, sizeof(ts));
    o.present = TOF_SACKPERM;
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 4);
    assert_memory_equal(b, sp, sizeof(sp));
    o.present = TOF_MSS | TOF_SACKPERM;
    assert_int_equal(tcp_opts_len(&o), 8);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 8);
    assert_memory_equal(b, synack, sizeof(synack));
    o.present = TOF_MSS | TOF_WSCALE | TOF_SACKPERM;
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 12);
    assert_memory_equal(b, synack_ws, sizeof(synack_ws));
    o.present = TOF_MSS | TOF_TS;
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 16);
    assert_memory_equal(b, mss_ts, sizeof(mss_ts));
    o.present = 0;
    assert_int_equal(tcp_opts_len(&o), 0);
    assert_int_equal(tcp_opts_emit(&o, b, 0), 0);
}

/* RFC 2385: kind 19, length 18, NOP-aligned at 2 mod 4 after the
 * timestamps; a full SYN with it is exactly 40 bytes; SACK blocks take
 * what room is left. Parsed back, the digest is the one written. */
static void test_opts_md5_signature(void **state)
{
    struct tcp_opts o = {
        .present = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS | TOF_SIG,
        .mss = 1460,
        .wscale = 7,
        .tsval = 1,
        .tsecr = 2,
    };
    for (unsigned i = 0; i < TCP_SIGLEN; i++)
        o.sig[i] = (uint8_t)(0xa0 + i);
    uint8_t b[TCP_MAXOLEN];
    struct tcp_opts back;

    (void)state;
    assert_int_equal(tcp_opts_len(&o), 40);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 40);
    assert_int_equal(b[20], 1);
    assert_int_equal(b[21], 1);
    assert_int_equal(b[22], 19);
    assert_int_equal(b[23], 18);
    assert_memory_equal(b + 24, o.sig, TCP_SIGLEN);
    assert_int_equal(opts(&back, 40, b), 0);
    assert_int_equal(back.present, o.present);
    assert_memory_equal(back.sig, o.sig, TCP_SIGLEN);
    /* Timestamps, signature and SACK: no room for a block. */
    o.present = TOF_TS | TOF_SIG | TOF_SACK;
    o.nsack = 2;
    assert_int_equal(tcp_opts_len(&o), 32);
    /* Signature and SACK alone: two blocks. */
    o.present = TOF_SIG | TOF_SACK;
    assert_int_equal(tcp_opts_len(&o), 40);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 40);
    assert_int_equal(opts(&back, 40, b), 0);
    assert_int_equal(back.nsack, 2);
    assert_true(back.present & TOF_SIG);
}

/* RFC 5925 2.2: kind 29, KeyID, RNextKeyID, MAC. The options of Linux's
 * SYN in RFC 9235 4.1.1 parse with the option's place recorded; emitted, it
 * sits at 0 mod 4 after the timestamps (a full SYN: 36 bytes), leaves room
 * for one SACK block beside timestamps, and is left out where it cannot
 * fit (beside a full SYN's MD5 signature). */
static void test_opts_tcp_ao(void **state)
{
    static const uint8_t linux_syn[] = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x08, 0x04,
                                        0x02, 0x08, 0x0a, 0x00, 0x15, 0x5a, 0xb7, 0x00, 0x00,
                                        0x00, 0x00, 0x1d, 0x10, 0x3d, 0x54, 0x2e, 0xe4, 0x37,
                                        0xc6, 0xf8, 0xed, 0xe6, 0xd7, 0xc4, 0xd6, 0x02, 0xe7};
    struct tcp_opts o, back;
    uint8_t b[TCP_MAXOLEN];

    (void)state;
    assert_int_equal(opts(&o, sizeof(linux_syn), linux_syn), 0);
    assert_int_equal(o.present, TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS | TOF_AO);
    assert_int_equal(o.ao_keyid, 61);
    assert_int_equal(o.ao_rnextkeyid, 84);
    assert_int_equal(o.ao_maclen, 12);
    assert_int_equal(o.ao_off, 20);
    assert_memory_equal(o.ao_mac, linux_syn + 24, 12);
    /* Ours: <mss,nop,wscale,sackOK,TS,AO>, the option at 20. */
    assert_int_equal(tcp_opts_len(&o), 36);
    assert_int_equal(tcp_opts_ao_off(&o), 20);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 36);
    assert_memory_equal(b + 20, linux_syn + 20, 16);
    assert_int_equal(opts(&back, 36, b), 0);
    assert_int_equal(back.present, o.present);
    assert_int_equal(back.ao_off, 20);
    /* Later segments: NOP NOP TS, AO, one SACK block. */
    o.present = TOF_TS | TOF_AO | TOF_SACK;
    o.nsack = 3;
    assert_int_equal(tcp_opts_len(&o), 40);
    assert_int_equal(tcp_opts_ao_off(&o), 12);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 40);
    assert_int_equal(opts(&back, 40, b), 0);
    assert_int_equal(back.nsack, 1);
    assert_int_equal(back.ao_off, 12);
    /* A MAC of any length is carried. */
    o.present = TOF_AO;
    o.ao_maclen = 5;
    assert_int_equal(tcp_opts_len(&o), 12);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 12);
    assert_int_equal(b[1], 9);
    assert_int_equal(opts(&back, 12, b), 0);
    assert_int_equal(back.ao_maclen, 5);
    /* No room beside a full SYN's signature: left out, the rest intact. */
    o.present = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS | TOF_SIG | TOF_AO;
    o.ao_maclen = 12;
    assert_int_equal(tcp_opts_len(&o), 40);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 40);
    assert_int_equal(opts(&back, 40, b), 0);
    assert_int_equal(back.present, o.present & ~TOF_AO);
}

static void test_opts_emit_sack_fits(void **state)
{
    struct tcp_opts o = {.present = TOF_SACK, .nsack = 4};
    struct tcp_opts back;
    uint8_t b[TCP_MAXOLEN];

    (void)state;
    for (unsigned i = 0; i < 4; i++) {
        o.sack[i].start = 100 * i;
        o.sack[i].end = 100 * i + 50;
    }
    /* Alone, all four blocks fit: NOP NOP 5 34 and 32 bytes of blocks. */
    assert_int_equal(tcp_opts_len(&o), 36);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 36);
    assert_int_equal(b[0], 1);
    assert_int_equal(b[2], 5);
    assert_int_equal(b[3], 34);
    assert_int_equal(tcp_opts_parse(b, 36, &back), 0);
    assert_int_equal(back.nsack, 4);
    assert_int_equal(back.sack[3].end, 350);
    /* Behind timestamps only three fit (12 + 4 + 24 = 40). */
    o.present |= TOF_TS;
    assert_int_equal(tcp_opts_len(&o), 40);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 40);
    assert_int_equal(tcp_opts_parse(b, 40, &back), 0);
    assert_int_equal(back.nsack, 3);
    assert_int_equal(back.present, TOF_TS | TOF_SACK);
    /* All fixed options leave room for two. */
    o.present |= TOF_MSS | TOF_WSCALE | TOF_SACKPERM;
    assert_int_equal(tcp_opts_len(&o), 40);
    assert_int_equal(tcp_opts_emit(&o, b, sizeof(b)), 40);
    assert_int_equal(tcp_opts_parse(b, 40, &back), 0);
    assert_int_equal(back.nsack, 2);
    /* TOF_SACK without blocks emits nothing. */
    o.present = TOF_SACK;
    o.nsack = 0;
    assert_int_equal(tcp_opts_len(&o), 0);
}

static void check_roundtrip(const struct ip_repr *ip, const struct tcp_repr *t)
{
    uint8_t p[256];
    struct ip_repr ip2;
    struct tcp_repr t2;
    int len = tcp_emit_packet(ip, t, p, sizeof(p));
    size_t want = ip_header_len(ip) + TCP_HDR_LEN + tcp_opts_len(&t->opts) + t->payload_len;

    assert_int_equal(len, want);
    assert_int_equal(tcp_emit_packet(ip, t, p, want - 1), -WIRE_NOSPACE);
    assert_int_equal(ip_parse(p, (size_t)len, &ip2), ip_header_len(ip));
    assert_int_equal(ip2.proto, IPPROTO_TCP_);
    assert_int_equal(ip2.version, ip->version);
    assert_true(tcpc_addr_eq(&ip2.src, &ip->src));
    assert_true(tcp_cksum_ok(&ip2, p + ip2.hdrlen, ip2.payload_len));
    assert_int_equal(tcp_parse(p + ip2.hdrlen, ip2.payload_len, &t2),
                     TCP_HDR_LEN + tcp_opts_len(&t->opts));
    assert_int_equal(t2.sport, t->sport);
    assert_int_equal(t2.dport, t->dport);
    assert_int_equal(t2.seq, t->seq);
    assert_int_equal(t2.ack, t->ack);
    assert_int_equal(t2.flags, t->flags);
    assert_int_equal(t2.win, t->win);
    assert_int_equal(t2.urp, t->urp);
    assert_int_equal(t2.opts.present, t->opts.present);
    assert_int_equal(t2.opts.mss, t->opts.mss);
    assert_int_equal(t2.opts.wscale, t->opts.wscale);
    assert_int_equal(t2.opts.tsval, t->opts.tsval);
    assert_int_equal(t2.opts.tsecr, t->opts.tsecr);
    assert_int_equal(t2.opts.nsack, t->opts.nsack);
    assert_memory_equal(t2.opts.sack, t->opts.sack, sizeof(t->opts.sack[0]) * t->opts.nsack);
    assert_int_equal(t2.payload_len, t->payload_len);
    if (t->payload_len)
        assert_memory_equal(t2.payload, t->payload, t->payload_len);
}

static void test_emit_packet_roundtrip(void **state)
{
    static const uint8_t data[] = "hello, tcpcore";
    uint8_t a6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
    uint8_t b6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
    struct ip_repr ip = {
        .src = tcpc_addr_v4(0xc0000201),
        .dst = tcpc_addr_v4(0xc6336402),
        .version = 4,
        .ttl = 64,
        .df = true,
        .id = 7,
    };
    struct tcp_repr t = {
        .sport = 40000,
        .dport = 443,
        .seq = 0xfffffff0,
        .ack = 12345,
        .flags = TH_ACK | TH_PSH,
        .win = 502,
        .urp = 0,
        .opts = {.present = TOF_TS | TOF_SACK,
                 .tsval = 99,
                 .tsecr = 98,
                 .nsack = 2,
                 .sack = {{1, 2}, {3, 4}}},
        .payload = data,
        .payload_len = sizeof(data) - 1,
    };

    (void)state;
    check_roundtrip(&ip, &t);
    ip.version = 6;
    ip.src = tcpc_addr_v6(a6);
    ip.dst = tcpc_addr_v6(b6);
    ip.flowlabel = 0x12345;
    check_roundtrip(&ip, &t);
    t.payload = NULL;
    t.payload_len = 0;
    t.flags = TH_SYN;
    t.opts = (struct tcp_opts){.present = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS,
                               .mss = 1440,
                               .wscale = 7,
                               .tsval = 1};
    check_roundtrip(&ip, &t);
}

/* Emits t with a payload of n bytes (text) already at its place, at
 * offset `at` of p, and checks that the packet parses back with the payload
 * intact behind a TCP header of hdrlen bytes and a good checksum. */
static void emit_in_place(const struct ip_repr *ip, struct tcp_repr *t, uint8_t *p, size_t plen,
                          size_t at, const char *text, size_t hdrlen)
{
    size_t n = strlen(text);
    struct ip_repr ip2;
    struct tcp_repr t2;

    memcpy(p + at, text, n);
    t->payload = p + at;
    t->payload_len = n;
    assert_int_equal(tcp_emit_packet(ip, t, p, plen), (int)(at + n));
    assert_int_equal(ip_parse(p, at + n, &ip2), 20);
    assert_int_equal(tcp_parse(p + 20, ip2.payload_len, &t2), (int)hdrlen);
    assert_memory_equal(t2.payload, text, n);
    assert_true(tcp_cksum_ok(&ip2, p + 20, hdrlen + n));
}

static void test_emit_packet_in_place_and_limits(void **state)
{
    static uint8_t p[70000];
    struct ip_repr ip = {
        .src = tcpc_addr_v4(0x0a000001), .dst = tcpc_addr_v4(0x0a000002), .version = 4, .ttl = 64};
    struct tcp_repr t = {.sport = 1, .dport = 2, .flags = TH_ACK};

    (void)state;
    /* A payload already sitting where it goes is left intact. */
    emit_in_place(&ip, &t, p, sizeof(p), 40, "abcdef", 20);
    /* tcp_payload_offset says where that place is (the output path copies
     * a payload there first), with options and for IPv6 too. */
    assert_int_equal(tcp_payload_offset(&ip, &t.opts), 40);
    t.opts.present = TOF_TS;
    t.opts.tsval = 7;
    assert_int_equal(tcp_payload_offset(&ip, &t.opts), 52);
    emit_in_place(&ip, &t, p, sizeof(p), 52, "ghijk", 32);
    struct ip_repr ip6 = ip;
    ip6.version = 6;
    assert_int_equal(tcp_payload_offset(&ip6, &t.opts), 72);
    t.opts.present = 0;
    /* The largest IPv4 packet, and one byte more. */
    t.payload = p + 40;
    t.payload_len = 65535 - 40;
    assert_int_equal(tcp_emit_packet(&ip, &t, p, sizeof(p)), 65535);
    t.payload_len++;
    assert_int_equal(tcp_emit_packet(&ip, &t, p, sizeof(p)), -WIRE_IP_BADLEN);
    t.payload_len = SIZE_MAX;
    assert_int_equal(tcp_emit_packet(&ip, &t, p, sizeof(p)), -WIRE_IP_BADLEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_captured_syn4),
        cmocka_unit_test(test_parse_captured_syn6),
        cmocka_unit_test(test_cksum_known_answers),
        cmocka_unit_test(test_cksum_detects_damage),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_payload_and_flags),
        cmocka_unit_test(test_opts_eol_and_nop),
        cmocka_unit_test(test_opts_bad_lengths),
        cmocka_unit_test(test_opts_unknown_skipped),
        cmocka_unit_test(test_opts_sack_blocks),
        cmocka_unit_test(test_opts_emit_layout),
        cmocka_unit_test(test_opts_fastopen_parse),
        cmocka_unit_test(test_opts_fastopen_emit),
        cmocka_unit_test(test_opts_fastopen_roundtrip_and_room),
        cmocka_unit_test(test_opts_emit_sack_fits),
        cmocka_unit_test(test_opts_md5_signature),
        cmocka_unit_test(test_opts_tcp_ao),
        cmocka_unit_test(test_emit_packet_roundtrip),
        cmocka_unit_test(test_emit_packet_in_place_and_limits),
    };
    return cmocka_run_group_tests_name("wire_tcp", tests, NULL, NULL);
}
