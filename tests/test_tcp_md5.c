/*
 * TCP MD5 signatures (RFC 2385), segment by segment: signed handshakes both
 * ways (IPv4 and IPv6), every segment of a signed connection signed, the
 * SYN option layout within 40 bytes, bad and missing signatures dropped and
 * counted (RSTs and SYNs included), the SYN cookie path keeping the
 * requirement, longest-prefix key choice, TIME_WAIT answers signed, and
 * TCPC_TCP_MD5SIG's validation.
 *
 * The digests the test checks and signs with are computed here, from the
 * segment's fields, with libcrypto directly: an implementation of RFC 2385
 * section 2.0 of its own, not the stack's.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>

#include "tcpcore/listing.h"
#include "test_tcp_fixture.h"
#include "wire/bytes.h"
#include "wire/ip.h"

#define KEY_A "bgp-session-secret"
#define KEY_B "another secret entirely"

/* RFC 2385 2.0 from a segment's fields: pseudo-header (IPv4: addresses,
 * zero, protocol, 16-bit length; IPv6: addresses, 32-bit length, zeros,
 * next header), the fixed header with checksum zero, payload, key. */
static void ref_digest(const struct tcpc_addr *src, const struct tcpc_addr *dst,
                       const struct tcp_repr *th, size_t hdrlen, const uint8_t *payload,
                       size_t plen, const char *key, uint8_t out[16])
{
    uint8_t ph[40] = {0};
    size_t phlen;
    size_t seglen = hdrlen + plen;
    if (tcpc_addr_is_v4(src)) {
        memcpy(ph, src->bytes + 12, 4);
        memcpy(ph + 4, dst->bytes + 12, 4);
        ph[9] = 6;
        ph[10] = (uint8_t)(seglen >> 8);
        ph[11] = (uint8_t)seglen;
        phlen = 12;
    } else {
        memcpy(ph, src->bytes, 16);
        memcpy(ph + 16, dst->bytes, 16);
        ph[34] = (uint8_t)(seglen >> 8);
        ph[35] = (uint8_t)seglen;
        ph[39] = 6;
        phlen = 40;
    }
    uint8_t h[20] = {0};
    h[0] = (uint8_t)(th->sport >> 8);
    h[1] = (uint8_t)th->sport;
    h[2] = (uint8_t)(th->dport >> 8);
    h[3] = (uint8_t)th->dport;
    for (int i = 0; i < 4; i++) {
        h[4 + i] = (uint8_t)(th->seq >> (24 - 8 * i));
        h[8 + i] = (uint8_t)(th->ack >> (24 - 8 * i));
    }
    h[12] = (uint8_t)(hdrlen / 4 << 4);
    h[13] = th->flags;
    h[14] = (uint8_t)(th->win >> 8);
    h[15] = (uint8_t)th->win;
    h[18] = (uint8_t)(th->urp >> 8);
    h[19] = (uint8_t)th->urp;
    MD5_CTX c;
    MD5_Init(&c);
    MD5_Update(&c, ph, phlen);
    MD5_Update(&c, h, sizeof(h));
    MD5_Update(&c, payload, plen);
    MD5_Update(&c, key, strlen(key));
    MD5_Final(out, &c);
}

/* The emitted segment carries a signature under key. */
static void assert_signed(const struct h_seg *s, const char *key)
{
    assert_true(s->th.opts.present & TOF_SIG);
    uint8_t want[16];
    ref_digest(&s->ip.src, &s->ip.dst, &s->th, s->th.hdrlen, s->payload, s->th.payload_len, key,
               want);
    assert_memory_equal(want, s->th.opts.sig, 16);
}

/* Injects s as the peer, signed with key (NULL: unsigned); corrupt flips
 * one bit of the digest. */
static void inject_signed(struct harness *h, struct seg s, const char *key, bool corrupt)
{
    if (!key) {
        h_inject(h, s);
        return;
    }
    struct ip_repr ip;
    struct tcp_repr th;
    h_build_repr(h, s, &ip, &th);
    th.opts.present |= TOF_SIG;
    size_t hdrlen = TCP_HDR_LEN + tcp_opts_len(&th.opts);
    ref_digest(&ip.src, &ip.dst, &th, hdrlen, th.payload, th.payload_len, key, th.opts.sig);
    if (corrupt)
        th.opts.sig[5] ^= 0x10;
    h_inject_repr(h, &ip, &th);
}

static struct tcpc_md5sig md5sig(const struct tcpc_addr *addr, int prefix, const char *key)
{
    struct tcpc_md5sig m;
    memset(&m, 0, sizeof(m));
    m.addr = *addr;
    if (prefix >= 0) {
        m.flags = TCPC_MD5SIG_FLAG_PREFIX;
        m.prefixlen = (uint8_t)prefix;
    }
    m.keylen = (uint16_t)(key ? strlen(key) : 0);
    if (key)
        memcpy(m.key, key, m.keylen);
    return m;
}

static void set_key(struct harness *h, int sd, const struct tcpc_addr *addr, int prefix,
                    const char *key)
{
    struct tcpc_md5sig m = md5sig(addr, prefix, key);
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m)), 0);
}

#define FULL_SYN                                                                                   \
    SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460, .wscale = 7, .sackperm = 1, .tsval = 500,       \
        .tsecr = 0)

/* A passive open, signed: the SYN-ACK carries every option and the
 * signature within 40 bytes, and is signed; so are the ACK of data and
 * the data we send. Returns the accepted descriptor. */
static int passive_signed(struct harness *h, int *lsd, uint32_t *iss)
{
    int l = h_listen(h);
    set_key(h, l, &h->peer, -1, KEY_A);
    inject_signed(h, FULL_SYN, KEY_A, false);
    struct h_seg sa =
        h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001, .len = 0,
                        .opts = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS | TOF_SIG));
    assert_signed(&sa, KEY_A);
    assert_int_equal(sa.th.hdrlen, 60);
    inject_signed(h,
                  SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1, .tsval = 501,
                      .tsecr = sa.th.opts.tsval),
                  KEY_A, false);
    h_expect_nothing(h);
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    *lsd = l;
    *iss = sa.th.seq;
    return sd;
}

static void signed_exchange(struct harness *h, int sd, uint32_t iss)
{
    struct tcpc_info info;
    assert_int_equal(tcpc_getinfo(h->stack, sd, &info), 0);
    inject_signed(h,
                  SEG(.flags = TH_ACK | TH_PSH, .seq = 1001, .ack = iss + 1, .tsval = 502,
                      .tsecr = 1, .data = "hello"),
                  KEY_A, false);
    fx_recv_exact(h, sd, "hello", 5);
    assert_int_equal(tcpc_send(h->stack, sd, "world", 5), 5);
    struct h_seg d =
        h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = iss + 1, .ack = 1006, .len = 5));
    assert_signed(&d, KEY_A);
    assert_memory_equal(d.payload, "world", 5);
    assert_true(d.th.opts.present & TOF_TS);
}

static void test_passive_signed_v4(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l;
    uint32_t iss;
    int sd = passive_signed(h, &l, &iss);
    signed_exchange(h, sd, iss);
    assert_int_equal(h_stat(h, "tcps_sig_rcvgoodsig"), 3);
    assert_int_equal(h_stat(h, "tcps_sig_rcvbadsig"), 0);
    h_free(h);
}

static void test_passive_signed_v6(void **state)
{
    (void)state;
    struct h_opts o = {.v6 = true};
    struct harness *h = h_new(&o);
    int l;
    uint32_t iss;
    int sd = passive_signed(h, &l, &iss);
    signed_exchange(h, sd, iss);
    assert_int_equal(h_stat(h, "tcps_sig_rcvgoodsig"), 3);
    h_free(h);
}

/* Active open with a key: the SYN is signed and still holds every option
 * (MSS, window scale, SACK-permitted, timestamps, signature: 40 bytes). */
static void test_active_signed(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    set_key(h, sd, &h->peer, -1, KEY_B);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &port), 0);
    h->lport = port;
    struct h_seg syn = h_expect(
        h, SEG(.flags = TH_SYN, .opts = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS | TOF_SIG));
    assert_signed(&syn, KEY_B);
    assert_int_equal(syn.th.hdrlen, 60);
    inject_signed(h,
                  SEG(.flags = TH_SYN | TH_ACK, .seq = 7000, .ack = syn.th.seq + 1, .mss = 1460,
                      .wscale = 7, .sackperm = 1, .tsval = 90, .tsecr = syn.th.opts.tsval),
                  KEY_B, false);
    struct h_seg ack = h_expect(h, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .ack = 7001));
    assert_signed(&ack, KEY_B);
    assert_true(h_events(h, sd) & TCPC_EV_WRITABLE);
    /* A full segment leaves room for timestamps and the signature: 1460
     * less 12 and 20 bytes. */
    const char *big = fx_pattern(3000, 'a');
    assert_int_equal(tcpc_send(h->stack, sd, big, 3000), 3000);
    struct h_seg d = h_expect(h, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .len = 1428));
    assert_signed(&d, KEY_B);
    assert_int_equal(d.th.hdrlen, 52);
    h_free(h);
}

/* A SYN-ACK signed with the wrong key, or not signed, never completes an
 * active open. */
static void test_active_bad_synack_dropped(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    set_key(h, sd, &h->peer, -1, KEY_A);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &port), 0);
    h->lport = port;
    struct h_seg syn = h_expect(h, SEG(.flags = TH_SYN));
    struct seg sa = SEG(.flags = TH_SYN | TH_ACK, .seq = 7000, .ack = syn.th.seq + 1, .mss = 1460);
    inject_signed(h, sa, KEY_B, false);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sig_rcvbadsig"), 1);
    inject_signed(h, sa, NULL, false);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sig_err_nosigopt"), 1);
    /* An RST, unsigned, that would otherwise refuse the connection. */
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = syn.th.seq + 1));
    assert_int_equal(h_stat(h, "tcps_sig_err_nosigopt"), 2);
    assert_int_equal(fx_so_error(h, sd), 0);
    inject_signed(h, sa, KEY_A, false);
    struct h_seg ack = h_expect(h, SEG(.flags = TH_ACK, .ack = 7001));
    assert_signed(&ack, KEY_A);
    h_free(h);
}

/* Established and signed: a segment with a wrong digest is dropped without
 * an answer and counted; its data never arrives. */
static void test_bad_signature_dropped(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l;
    uint32_t iss;
    int sd = passive_signed(h, &l, &iss);
    inject_signed(h,
                  SEG(.flags = TH_ACK | TH_PSH, .seq = 1001, .ack = iss + 1, .tsval = 502,
                      .tsecr = 1, .data = "forged"),
                  KEY_A, true);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sig_rcvbadsig"), 1);
    char buf[16];
    assert_int_equal(tcpc_recv(h->stack, sd, buf, sizeof(buf)), -EAGAIN);
    /* The right key gets through. */
    signed_exchange(h, sd, iss);
    h_free(h);
}

/* A blind reset: an unsigned RST exactly at rcv_nxt (which RFC 5961 alone
 * would take) is dropped, and so is an unsigned SYN; the connection lives. */
static void test_unsigned_rst_ignored(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l;
    uint32_t iss;
    int sd = passive_signed(h, &l, &iss);
    h_inject(h, SEG(.flags = TH_RST, .seq = 1001));
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = 1001, .ack = iss + 1));
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1001));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sig_err_nosigopt"), 3);
    assert_int_equal(fx_so_error(h, sd), 0);
    struct tcpc_info info;
    assert_int_equal(tcpc_getinfo(h->stack, sd, &info), 0);
    assert_string_equal(tcpc_state_name(info.state), "ESTABLISHED");
    /* A signed RST, by contrast, is the peer's and ends the connection. */
    inject_signed(h, SEG(.flags = TH_RST, .seq = 1001), KEY_A, false);
    assert_int_equal(fx_so_error(h, sd), ECONNRESET);
    h_free(h);
}

/* A listener with a key drops an unsigned SYN from that peer without an
 * answer; a signature on a SYN to a listener without keys is refused too. */
static void test_listener_unsigned_syn_dropped(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = h_listen(h);
    set_key(h, l, &h->peer, -1, KEY_A);
    h_inject(h, FULL_SYN);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sig_err_nosigopt"), 1);
    assert_int_equal(h_stat(h, "tcps_sc_added"), 0);
    /* The key removed: a signed SYN is unexpected now. */
    set_key(h, l, &h->peer, -1, NULL);
    inject_signed(h, FULL_SYN, KEY_A, false);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sig_err_sigopt"), 1);
    /* And unsigned, an ordinary handshake. */
    h_inject(h, FULL_SYN);
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    assert_false(sa.th.opts.present & TOF_SIG);
    h_free(h);
}

/* SYN cookies only: the cookie SYN-ACK is signed, the connection it makes
 * is signed, and a cookie made for an unsigned SYN does not complete from
 * a signed ACK after a key appears (the requirement is in the cookie). */
static void test_syncookie_keeps_requirement(void **state)
{
    (void)state;
    const char *sysctls[] = {"net.inet.tcp.syncookies_only=1", NULL};
    struct h_opts o = {.sysctls = sysctls};
    struct harness *h = h_new(&o);
    int l = h_listen(h);

    /* An unsigned SYN, answered with an unsigned cookie. */
    h_inject(h, SEG(.flags = TH_SYN, .seq = 5000, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 5001));
    assert_false(sa.th.opts.present & TOF_SIG);
    assert_int_equal(h_stat(h, "tcps_sc_sendcookie"), 1);
    /* The key arrives before the ACK: the signed ACK passes the signature
     * check but not the cookie, and gets a signed RST. */
    set_key(h, l, &h->peer, -1, KEY_A);
    inject_signed(h, SEG(.flags = TH_ACK, .seq = 5001, .ack = sa.th.seq + 1), KEY_A, false);
    struct h_seg rst = h_expect(h, SEG(.flags = TH_RST, .seq = sa.th.seq + 1));
    assert_signed(&rst, KEY_A);
    assert_int_equal(h_stat(h, "tcps_sc_failcookie"), 1);
    assert_int_equal(tcpc_accept(h->stack, l, NULL, NULL), -EAGAIN);

    /* A signed SYN: signed cookie, signed connection. */
    h_inject(h, SEG(.flags = TH_SYN, .seq = 9000, .mss = 1460));
    h_expect_nothing(h); /* unsigned: dropped (nosigopt) */
    inject_signed(h, SEG(.flags = TH_SYN, .seq = 9000, .mss = 1460), KEY_A, false);
    sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 9001));
    assert_signed(&sa, KEY_A);
    assert_int_equal(h_stat(h, "tcps_sc_sendcookie"), 2);
    /* The unsigned ACK of it is dropped before the cookie is looked at. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = 9001, .ack = sa.th.seq + 1));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sc_recvcookie"), 0);
    inject_signed(h, SEG(.flags = TH_ACK, .seq = 9001, .ack = sa.th.seq + 1), KEY_A, false);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sc_recvcookie"), 1);
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    assert_int_equal(tcpc_send(h->stack, sd, "x", 1), 1);
    struct h_seg d = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .len = 1));
    assert_signed(&d, KEY_A);
    h_free(h);
}

/* A SYN cache entry's retransmitted SYN-ACK is signed; once the listener's
 * key is gone there is nothing to sign with, and nothing is sent. */
static void test_syncache_rexmit_signed(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = h_listen(h);
    set_key(h, l, &h->peer, -1, KEY_A);
    inject_signed(h, FULL_SYN, KEY_A, false);
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    assert_signed(&sa, KEY_A);
    fx_advance_until_output(h, 5 * TCPC_USEC_PER_SEC);
    struct h_seg again = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .seq = sa.th.seq, .ack = 1001));
    assert_signed(&again, KEY_A);
    set_key(h, l, &h->peer, -1, NULL);
    h_advance(h, 10 * TCPC_USEC_PER_SEC);
    h_expect_nothing(h);
    assert_true(h_stat(h, "tcps_sig_err_buildsig") >= 1);
    h_free(h);
}

/* RFC 5961 on a signed connection: a signed SYN in the window draws a
 * challenge ACK, itself signed. */
static void test_challenge_ack_signed(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l;
    uint32_t iss;
    passive_signed(h, &l, &iss);
    inject_signed(h, SEG(.flags = TH_SYN, .seq = 1500, .tsval = 503, .tsecr = 1), KEY_A, false);
    struct h_seg ack = h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 1, .ack = 1001));
    assert_signed(&ack, KEY_A);
    assert_int_equal(h_stat(h, "tcps_challenge_ack"), 1);
    h_free(h);
}

/* Keys by prefix, the longest match winning; a prefix in IPv4's own bit
 * count. */
static void test_prefix_key_match(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = h_listen(h);
    struct tcpc_addr net;
    assert_int_equal(tcpc_addr_parse("198.18.0.0", &net), 0);
    set_key(h, l, &net, 15, KEY_A);
    /* Covered by the /15: signed with its key. */
    inject_signed(h, SEG(.flags = TH_SYN, .seq = 100, .mss = 1460), KEY_A, false);
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 101));
    assert_signed(&sa, KEY_A);
    /* A /32 for the peer now wins over the /15. */
    set_key(h, l, &h->peer, 32, KEY_B);
    inject_signed(h, SEG(.flags = TH_SYN, .seq = 200, .mss = 1460, .sport = 40001), KEY_A, false);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sig_rcvbadsig"), 1);
    inject_signed(h, SEG(.flags = TH_SYN, .seq = 200, .mss = 1460, .sport = 40001), KEY_B, false);
    sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 201, .sport = 40001));
    assert_signed(&sa, KEY_B);
    /* An IPv4 prefix 0 covers every IPv4 peer, and only IPv4 ones. */
    set_key(h, l, &h->peer, 32, NULL);
    set_key(h, l, &net, 15, NULL);
    struct tcpc_addr any4 = tcpc_addr_v4(0);
    set_key(h, l, &any4, 0, KEY_B);
    inject_signed(h, SEG(.flags = TH_SYN, .seq = 300, .mss = 1460, .sport = 40002), KEY_B, false);
    sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 301, .sport = 40002));
    assert_signed(&sa, KEY_B);
    h_free(h);
}

/* TIME_WAIT of a signed, accepted connection: the final ACK and the ACK of
 * a retransmitted FIN are signed with the listener's key, and an unsigned
 * FIN gets nothing. */
static void test_timewait_signed(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l;
    uint32_t iss;
    int sd = passive_signed(h, &l, &iss);
    assert_int_equal(tcpc_shutdown(h->stack, sd, TCPC_SHUT_WR), 0);
    struct h_seg fin = h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = iss + 1));
    assert_signed(&fin, KEY_A);
    inject_signed(h,
                  SEG(.flags = TH_FIN | TH_ACK, .seq = 1001, .ack = iss + 2, .tsval = 600,
                      .tsecr = fin.th.opts.tsval),
                  KEY_A, false);
    struct h_seg ack = h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 2, .ack = 1002));
    assert_signed(&ack, KEY_A);
    assert_int_equal(tcpc_close(h->stack, sd), 0);
    assert_int_equal(h_stat(h, "tcps_tw_added"), 1);
    /* The peer did not get our ACK: its FIN again. */
    h_advance(h, 200 * 1000);
    inject_signed(h,
                  SEG(.flags = TH_FIN | TH_ACK, .seq = 1001, .ack = iss + 2, .tsval = 700,
                      .tsecr = fin.th.opts.tsval),
                  KEY_A, false);
    ack = h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 2, .ack = 1002));
    assert_signed(&ack, KEY_A);
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = 1001, .ack = iss + 2, .tsval = 701,
                    .tsecr = fin.th.opts.tsval));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sig_err_nosigopt"), 1);
    /* The listener's key gone, the record reaches none: it stays silent. */
    set_key(h, l, &h->peer, -1, NULL);
    inject_signed(h,
                  SEG(.flags = TH_FIN | TH_ACK, .seq = 1001, .ack = iss + 2, .tsval = 702,
                      .tsecr = fin.th.opts.tsval),
                  KEY_A, false);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sig_err_buildsig"), 1);
    h_free(h);
}

/* A connection keeps the key it started with when its listener replaces
 * it; setting a key on the connected socket replaces the connection's. */
static void test_key_lifetime(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l;
    uint32_t iss;
    int sd = passive_signed(h, &l, &iss);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_NODELAY, 1), 0);
    set_key(h, l, &h->peer, -1, KEY_B);
    assert_int_equal(tcpc_close(h->stack, l), 0);
    assert_int_equal(tcpc_send(h->stack, sd, "a", 1), 1);
    struct h_seg d = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .len = 1));
    assert_signed(&d, KEY_A);
    set_key(h, sd, &h->peer, -1, KEY_B);
    assert_int_equal(tcpc_send(h->stack, sd, "b", 1), 1);
    d = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .len = 1));
    assert_signed(&d, KEY_B);
    /* Removed: the connection goes on unsigned. */
    set_key(h, sd, &h->peer, -1, NULL);
    assert_int_equal(tcpc_send(h->stack, sd, "c", 1), 1);
    d = h_expect(h, SEG(.flags = TH_ACK | TH_PSH));
    assert_false(d.th.opts.present & TOF_SIG);
    h_free(h);
}

static void test_setsockopt_validation(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    struct tcpc_md5sig m = md5sig(&h->peer, 33, KEY_A);
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m)), -EINVAL);
    m = md5sig(&h->peer, -1, KEY_A);
    m.keylen = TCPC_TCP_MD5SIG_MAXKEYLEN + 1;
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m)), -EINVAL);
    m = md5sig(&h->peer, -1, KEY_A);
    m.flags = 0x80;
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m)), -EINVAL);
    m = md5sig(&h->peer, -1, KEY_A);
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m) - 1),
                     -EINVAL);
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_NODELAY, &m, sizeof(m)),
                     -ENOPROTOOPT);
    assert_int_equal(tcpc_setsockopt_buf(h->stack, 99, TCPC_TCP_MD5SIG, &m, sizeof(m)), -EBADF);
    m = md5sig(&h->peer, -1, NULL);
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m)), -ENOENT);
    m = md5sig(&h->peer, -1, KEY_A);
    m.keylen = TCPC_TCP_MD5SIG_MAXKEYLEN;
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m)), 0);
    /* The same address and prefix: replaced, not added. */
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m)), 0);
    m = md5sig(&h->peer, -1, NULL);
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m)), 0);
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m)), -ENOENT);
    h_free(h);
}

/* A signed SYN leaves no room for Fast Open beside the other options: a
 * TCP_FASTOPEN socket with a key opens plainly, its SYN signed and without
 * the option or data, and reads TCP_FASTOPEN 0 (fallen back). */
static void test_signed_connect_forgoes_fastopen(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    set_key(h, sd, &h->peer, -1, KEY_B);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_FASTOPEN, 1), 0);
    assert_int_equal(tcpc_sendto(h->stack, sd, "hello", 5, &h->peer, h->pport), 5);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &port), 0);
    h->lport = port;
    struct h_seg syn =
        h_expect(h, SEG(.flags = TH_SYN, .len = 0,
                        .opts = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS | TOF_SIG));
    assert_signed(&syn, KEY_B);
    h_expect_nothing(h);
    int v = -1;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_TCP_FASTOPEN, &v), 0);
    assert_int_equal(v, 0);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passive_signed_v4),
        cmocka_unit_test(test_passive_signed_v6),
        cmocka_unit_test(test_active_signed),
        cmocka_unit_test(test_signed_connect_forgoes_fastopen),
        cmocka_unit_test(test_active_bad_synack_dropped),
        cmocka_unit_test(test_bad_signature_dropped),
        cmocka_unit_test(test_unsigned_rst_ignored),
        cmocka_unit_test(test_listener_unsigned_syn_dropped),
        cmocka_unit_test(test_syncookie_keeps_requirement),
        cmocka_unit_test(test_syncache_rexmit_signed),
        cmocka_unit_test(test_challenge_ack_signed),
        cmocka_unit_test(test_prefix_key_match),
        cmocka_unit_test(test_timewait_signed),
        cmocka_unit_test(test_key_lifetime),
        cmocka_unit_test(test_setsockopt_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
