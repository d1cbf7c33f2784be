/*
 * TCP-AO (RFC 5925) in the engine, segment by segment: passive and active
 * handshakes with every segment authenticated (IPv4 and IPv6, both RFC 5926
 * algorithms), the SYN's options within 40 bytes, a flipped MAC byte, a
 * missing option, an unknown KeyID and an option nobody expects dropped and
 * counted (RSTs and SYNs included), key rollover by RNextKeyID, the SYN
 * cookie path, the TIME_WAIT record's owed ACK, TCPC_TCP_AO_ADD_KEY's
 * validation; and two stacks on the memory link moving data both ways
 * under TCP-AO.
 *
 * The MACs the test checks and injects with come from tcp_ao.c's
 * primitives (traffic key, MAC), which test_tcp_ao_vectors.c holds to RFC
 * 9235's published vectors byte for byte; the choice of key, ISNs, SNE and
 * KeyIDs for each segment is the test's own, from RFC 5925.
 */
#include <errno.h>

#include "hsim.h"
#include "tcpcore/listing.h"
#include "tcp/tcp_ao.h"
#include "test_tcp_fixture.h"
#include "wire/ip.h"

#define KEY_A   "bgp-session-secret"
#define KEY_B   "the next key"
#define OUR_ID  10 /* the stack's SendID (the peer's RecvID) */
#define PEER_ID 20

/* The peer's MKT, the mirror of the one the stack holds. */
static struct tcp_ao_key *peer_mkt(uint8_t alg, uint8_t flags, const char *key, uint8_t sndid,
                                   uint8_t rcvid)
{
    int err;
    struct tcp_ao_key *k =
        tcp_ao_key_new(&mem_libc, alg, flags, (const uint8_t *)key, strlen(key), &err);
    assert_non_null(k);
    k->sndid = sndid;
    k->rcvid = rcvid;
    return k;
}

static struct tcpc_tcp_ao_add ao_add(const struct tcpc_addr *addr, uint8_t prefix, uint8_t alg,
                                     const char *key, uint8_t sndid, uint8_t rcvid)
{
    struct tcpc_tcp_ao_add a;
    memset(&a, 0, sizeof(a));
    a.addr = *addr;
    a.prefix = prefix;
    a.alg = alg;
    a.sndid = sndid;
    a.rcvid = rcvid;
    a.keylen = (uint8_t)strlen(key);
    memcpy(a.key, key, a.keylen);
    return a;
}

static int add_key(struct tcpc_stack *s, int sd, const struct tcpc_tcp_ao_add *a)
{
    return tcpc_setsockopt_buf(s, sd, TCPC_TCP_AO_ADD_KEY, a, sizeof(*a));
}

static void set_mkt(struct harness *h, int sd, uint8_t alg, const char *key, uint8_t sndid,
                    uint8_t rcvid)
{
    struct tcpc_tcp_ao_add a = ao_add(&h->peer, h->v6 ? 128 : 32, alg, key, sndid, rcvid);
    assert_int_equal(add_key(h->stack, sd, &a), 0);
}

/* The MAC s should carry under k, from a sender whose ISN is sisn to one
 * whose ISN is disn: the segment emitted again (our emitter, so the same
 * bytes) and its MAC computed apart. */
static void assert_mac(const struct h_seg *s, const struct tcp_ao_key *k, uint32_t sisn,
                       uint32_t disn, uint32_t sne)
{
    assert_true(s->th.opts.present & TOF_AO);
    assert_int_equal(s->th.opts.ao_keyid, k->sndid);
    assert_int_equal(s->th.opts.ao_maclen, TCP_AO_MACLEN);
    static uint8_t pkt[70000];
    struct tcp_repr th = s->th;
    th.payload = s->payload;
    int n = tcp_emit_packet(&s->ip, &th, pkt, sizeof(pkt));
    assert_true(n > 0);
    const uint8_t *seg = pkt + ip_header_len(&s->ip);
    struct tcp_repr back;
    assert_true(tcp_parse(seg, (size_t)n - ip_header_len(&s->ip), &back) > 0);
    bool syn_only = (th.flags & (TH_SYN | TH_ACK)) == TH_SYN;
    uint8_t tk[TCP_AO_TKEY_MAX], mac[TCP_AO_MACLEN];
    size_t tklen = tcp_ao_traffic_key(k, &s->ip.src, &s->ip.dst, th.sport, th.dport, sisn,
                                      syn_only ? 0 : disn, tk);
    tcp_ao_mac(k, tk, tklen, sne, &s->ip.src, &s->ip.dst, seg, back.hdrlen, back.opts.ao_off,
               back.opts.ao_maclen, back.payload, back.payload_len, mac);
    assert_memory_equal(mac, s->th.opts.ao_mac, TCP_AO_MACLEN);
}

/* Injects s as the peer, under k (NULL: no option) with the peer's ISN
 * sisn and ours disn and SNE sne; flip corrupts one MAC byte. */
static void inject_ao_sne(struct harness *h, struct seg s, const struct tcp_ao_key *k,
                          uint32_t sisn, uint32_t disn, uint32_t sne, bool flip)
{
    if (!k) {
        h_inject(h, s);
        return;
    }
    struct ip_repr ip;
    struct tcp_repr th;
    h_build_repr(h, s, &ip, &th);
    struct tcp_ao_sign sign = {.key = k, .sisn = sisn, .disn = disn, .sne = sne};
    tcp_ao_sign(&sign, &ip, &th);
    if (flip)
        th.opts.ao_mac[3] ^= 0x01;
    h_inject_repr(h, &ip, &th);
}

static void inject_ao(struct harness *h, struct seg s, const struct tcp_ao_key *k, uint32_t sisn,
                      uint32_t disn, bool flip)
{
    inject_ao_sne(h, s, k, sisn, disn, 0, flip);
}

#define FULL_SYN                                                                                   \
    SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460, .wscale = 7, .sackperm = 1, .tsval = 500,       \
        .tsecr = 0)

struct ao_conn {
    int l, sd;
    uint32_t iss;
    struct tcp_ao_key *ours, *peers; /* the stack's MKT as the test computes with it, the peer's */
};

/* A passive open under TCP-AO: the SYN-ACK carries every option and the
 * MAC (36 option bytes), under the SYN-ACK's traffic key (both ISNs); the
 * handshake's ACK completes it. */
static struct ao_conn passive_ao(struct harness *h, uint8_t alg)
{
    struct ao_conn c;
    c.ours = peer_mkt(alg, 0, KEY_A, OUR_ID, PEER_ID);
    c.peers = peer_mkt(alg, 0, KEY_A, PEER_ID, OUR_ID);
    c.l = h_listen(h);
    set_mkt(h, c.l, alg, KEY_A, OUR_ID, PEER_ID);
    inject_ao(h, FULL_SYN, c.peers, 1000, 0, false);
    struct h_seg sa =
        h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001,
                        .opts = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS | TOF_AO));
    assert_int_equal(sa.th.hdrlen, 56);
    assert_int_equal(sa.th.opts.ao_rnextkeyid, PEER_ID);
    c.iss = sa.th.seq;
    assert_mac(&sa, c.ours, c.iss, 1000, 0);
    inject_ao(h,
              SEG(.flags = TH_ACK, .seq = 1001, .ack = c.iss + 1, .tsval = 501,
                  .tsecr = sa.th.opts.tsval),
              c.peers, 1000, c.iss, false);
    h_expect_nothing(h);
    c.sd = tcpc_accept(h->stack, c.l, NULL, NULL);
    assert_true(c.sd >= 0);
    return c;
}

static void conn_free(struct ao_conn *c)
{
    tcp_ao_key_release(c->ours);
    tcp_ao_key_release(c->peers);
}

/* Data both ways on an established connection, every segment under its
 * MKT: the peer's data is taken, ours and our ACK carry the right MAC. */
static void ao_exchange(struct harness *h, struct ao_conn *c)
{
    inject_ao(h,
              SEG(.flags = TH_ACK | TH_PSH, .seq = 1001, .ack = c->iss + 1, .tsval = 502,
                  .tsecr = 1, .data = "hello"),
              c->peers, 1000, c->iss, false);
    fx_recv_exact(h, c->sd, "hello", 5);
    assert_int_equal(tcpc_send(h->stack, c->sd, "world", 5), 5);
    struct h_seg d =
        h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c->iss + 1, .ack = 1006, .len = 5));
    assert_mac(&d, c->ours, c->iss, 1000, 0);
    assert_memory_equal(d.payload, "world", 5);
    assert_true(d.th.opts.present & TOF_TS);
}

static void passive_case(bool v6, uint8_t alg)
{
    struct h_opts o = {.v6 = v6};
    struct harness *h = h_new(&o);
    struct ao_conn c = passive_ao(h, alg);
    ao_exchange(h, &c);
    assert_int_equal(h_stat(h, "tcps_ao_good"), 3);
    assert_int_equal(h_stat(h, "tcps_ao_bad"), 0);
    conn_free(&c);
    h_free(h);
}

static void test_passive_sha1_v4(void **state)
{
    (void)state;
    passive_case(false, TCPC_TCP_AO_ALG_HMAC_SHA1_96);
}

static void test_passive_cmac_v6(void **state)
{
    (void)state;
    passive_case(true, TCPC_TCP_AO_ALG_AES_128_CMAC_96);
}

/* An active open: the SYN under the SYN traffic key (our ISN, 0), every
 * option in 36 bytes; a SYN-ACK under the wrong key or none never
 * completes it; a full segment leaves room for timestamps and the MAC. */
static void test_active_ao(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct tcp_ao_key *ours = peer_mkt(TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, KEY_A, OUR_ID, PEER_ID);
    struct tcp_ao_key *peers = peer_mkt(TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, KEY_A, PEER_ID, OUR_ID);
    struct tcp_ao_key *wrong = peer_mkt(TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, KEY_B, PEER_ID, OUR_ID);
    int sd = fx_socket(h);
    set_mkt(h, sd, TCPC_TCP_AO_ALG_HMAC_SHA1_96, KEY_A, OUR_ID, PEER_ID);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &port), 0);
    h->lport = port;
    struct h_seg syn = h_expect(
        h, SEG(.flags = TH_SYN, .opts = TOF_MSS | TOF_WSCALE | TOF_SACKPERM | TOF_TS | TOF_AO));
    assert_int_equal(syn.th.hdrlen, 56);
    uint32_t iss = syn.th.seq;
    assert_mac(&syn, ours, iss, 0, 0);
    struct seg sa = SEG(.flags = TH_SYN | TH_ACK, .seq = 7000, .ack = iss + 1, .mss = 1460,
                        .wscale = 7, .sackperm = 1, .tsval = 90, .tsecr = syn.th.opts.tsval);
    inject_ao(h, sa, wrong, 7000, iss, false);
    inject_ao(h, sa, NULL, 0, 0, false);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_ao_bad"), 1);
    assert_int_equal(h_stat(h, "tcps_ao_required"), 1);
    inject_ao(h, sa, peers, 7000, iss, false);
    struct h_seg ack = h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 1, .ack = 7001));
    assert_mac(&ack, ours, iss, 7000, 0);
    assert_true(h_events(h, sd) & TCPC_EV_WRITABLE);
    /* 1460 less 12 for the timestamps and 16 for TCP-AO. */
    const char *big = fx_pattern(3000, 'a');
    assert_int_equal(tcpc_send(h->stack, sd, big, 3000), 3000);
    struct h_seg d = h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 1, .len = 1432));
    assert_int_equal(d.th.hdrlen, 48);
    assert_mac(&d, ours, iss, 7000, 0);
    tcp_ao_key_release(ours);
    tcp_ao_key_release(peers);
    tcp_ao_key_release(wrong);
    h_free(h);
}

/* RFC 5925 6.2: the peer's sequence numbers wrap. Past the wrap its
 * segments carry SNE 1 in their MAC: one under SNE 0 is dropped (a replay
 * from the cycle before would be), one under SNE 1 is taken; and so is a
 * retransmission from before the wrap, under SNE 0 again. */
static void test_sne_across_wrap(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct tcp_ao_key *ours = peer_mkt(TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, KEY_A, OUR_ID, PEER_ID);
    struct tcp_ao_key *peers = peer_mkt(TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, KEY_A, PEER_ID, OUR_ID);
    int sd = fx_socket(h);
    set_mkt(h, sd, TCPC_TCP_AO_ALG_HMAC_SHA1_96, KEY_A, OUR_ID, PEER_ID);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &port), 0);
    h->lport = port;
    struct h_seg syn = h_expect(h, SEG(.flags = TH_SYN));
    uint32_t iss = syn.th.seq, irs = 0xffffff00u;
    inject_ao(h, SEG(.flags = TH_SYN | TH_ACK, .seq = irs, .ack = iss + 1, .mss = 1460), peers, irs,
              iss, false);
    h_expect(h, SEG(.flags = TH_ACK, .ack = irs + 1));
    /* 255 bytes up to the wrap, then 5 past it. */
    const char *first = fx_pattern(255, 'a');
    inject_ao_sne(h, SEG(.flags = TH_ACK, .seq = irs + 1, .ack = iss + 1, .data = first), peers,
                  irs, iss, 0, false);
    fx_recv_exact(h, sd, first, 255);
    h_flush(h);
    struct seg past = SEG(.flags = TH_ACK | TH_PSH, .seq = 0, .ack = iss + 1, .data = "wrap!");
    inject_ao_sne(h, past, peers, irs, iss, 0, false);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_ao_bad"), 1);
    inject_ao_sne(h, past, peers, irs, iss, 1, false);
    fx_recv_exact(h, sd, "wrap!", 5);
    struct h_seg ack = h_expect(h, SEG(.flags = TH_ACK, .ack = 5));
    assert_mac(&ack, ours, iss, irs, 0); /* our own numbers have not wrapped */
    /* A duplicate from before the wrap: SNE 0 still verifies (and draws
     * the duplicate's ACK). */
    inject_ao_sne(h, SEG(.flags = TH_ACK, .seq = irs + 1, .ack = iss + 1, .data = first), peers,
                  irs, iss, 0, false);
    assert_int_equal(h_stat(h, "tcps_ao_bad"), 1);
    tcp_ao_key_release(ours);
    tcp_ao_key_release(peers);
    h_free(h);
}

/* Established: a segment whose MAC has one byte flipped is dropped without
 * an answer and counted; its data never arrives. */
static void test_flipped_mac_dropped(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct ao_conn c = passive_ao(h, TCPC_TCP_AO_ALG_AES_128_CMAC_96);
    inject_ao(h,
              SEG(.flags = TH_ACK | TH_PSH, .seq = 1001, .ack = c.iss + 1, .tsval = 502, .tsecr = 1,
                  .data = "forged"),
              c.peers, 1000, c.iss, true);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_ao_bad"), 1);
    char buf[16];
    assert_int_equal(tcpc_recv(h->stack, c.sd, buf, sizeof(buf)), -EAGAIN);
    ao_exchange(h, &c); /* the right MAC gets through */
    conn_free(&c);
    h_free(h);
}

/* A blind reset: an RST without the option exactly at rcv_nxt, and a SYN,
 * are dropped (tcps_ao_required); one with an unknown KeyID too
 * (tcps_ao_keynotfound); the connection lives. The peer's RST under the
 * MKT ends it. */
static void test_unsigned_rst_ignored(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct ao_conn c = passive_ao(h, TCPC_TCP_AO_ALG_HMAC_SHA1_96);
    h_inject(h, SEG(.flags = TH_RST, .seq = 1001));
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = 1001, .ack = c.iss + 1));
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1001));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_ao_required"), 3);
    struct tcp_ao_key *other = peer_mkt(TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, KEY_A, 99, OUR_ID);
    inject_ao(h, SEG(.flags = TH_RST, .seq = 1001), other, 1000, c.iss, false);
    assert_int_equal(h_stat(h, "tcps_ao_keynotfound"), 1);
    assert_int_equal(fx_so_error(h, c.sd), 0);
    struct tcpc_info info;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &info), 0);
    assert_string_equal(tcpc_state_name(info.state), "ESTABLISHED");
    inject_ao(h, SEG(.flags = TH_RST, .seq = 1001), c.peers, 1000, c.iss, false);
    assert_int_equal(fx_so_error(h, c.sd), ECONNRESET);
    tcp_ao_key_release(other);
    conn_free(&c);
    h_free(h);
}

/* Our RST for a connection carries the MAC too: an abortive close. */
static void test_our_rst_authenticated(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct ao_conn c = passive_ao(h, TCPC_TCP_AO_ALG_HMAC_SHA1_96);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_LINGER, 0), 0);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    struct h_seg rst = h_expect(h, SEG(.flags = TH_RST | TH_ACK, .seq = c.iss + 1));
    assert_mac(&rst, c.ours, c.iss, 1000, 0);
    conn_free(&c);
    h_free(h);
}

/* A listener with an MKT drops a SYN without the option; one with the
 * option where no MKT covers the peer is refused too (tcps_ao_unexpected),
 * as is an MKT's SYN on a connection that has none. */
static void test_listener_requires_and_refuses(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct tcp_ao_key *peers = peer_mkt(TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, KEY_A, PEER_ID, OUR_ID);
    int l = h_listen(h);
    set_mkt(h, l, TCPC_TCP_AO_ALG_HMAC_SHA1_96, KEY_A, OUR_ID, PEER_ID);
    h_inject(h, FULL_SYN);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_ao_required"), 1);
    assert_int_equal(h_stat(h, "tcps_sc_added"), 0);
    /* The MKT gone, the option is unexpected; without it, a plain open. */
    struct tcpc_tcp_ao_del d = {.addr = h->peer, .prefix = 32, .sndid = OUR_ID, .rcvid = PEER_ID};
    assert_int_equal(tcpc_setsockopt_buf(h->stack, l, TCPC_TCP_AO_DEL_KEY, &d, sizeof(d)), 0);
    inject_ao(h, FULL_SYN, peers, 1000, 0, false);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_ao_unexpected"), 1);
    h_inject(h, FULL_SYN);
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    assert_false(sa.th.opts.present & TOF_AO);
    tcp_ao_key_release(peers);
    h_free(h);
}

/* RFC 5925 6.1: the peer's RNextKeyID asks for another of our MKTs for
 * it; from the next segment on we send with that one. */
static void test_rollover_by_rnextkeyid(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct ao_conn c = passive_ao(h, TCPC_TCP_AO_ALG_HMAC_SHA1_96);
    /* A second MKT on the accepted socket: SendID 11, RecvID 21. */
    set_mkt(h, c.sd, TCPC_TCP_AO_ALG_HMAC_SHA1_96, KEY_B, 11, 21);
    struct tcp_ao_key *ours2 = peer_mkt(TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, KEY_B, 11, 21);
    /* The peer still sends with the first, but asks for the second. */
    struct tcp_ao_key *ask = peer_mkt(TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, KEY_A, PEER_ID, 11);
    inject_ao(h,
              SEG(.flags = TH_ACK | TH_PSH, .seq = 1001, .ack = c.iss + 1, .tsval = 502, .tsecr = 1,
                  .data = "next"),
              ask, 1000, c.iss, false);
    fx_recv_exact(h, c.sd, "next", 4);
    assert_int_equal(tcpc_send(h->stack, c.sd, "ok", 2), 2);
    struct h_seg d = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .len = 2));
    assert_int_equal(d.th.opts.ao_keyid, 11);
    assert_int_equal(d.th.opts.ao_rnextkeyid, 21);
    assert_mac(&d, ours2, c.iss, 1000, 0);
    /* In force, it cannot be removed; the old one can. */
    struct tcpc_tcp_ao_del del = {.addr = h->peer, .prefix = 32, .sndid = 11, .rcvid = 21};
    assert_int_equal(tcpc_setsockopt_buf(h->stack, c.sd, TCPC_TCP_AO_DEL_KEY, &del, sizeof(del)),
                     -EBUSY);
    tcp_ao_key_release(ours2);
    tcp_ao_key_release(ask);
    conn_free(&c);
    h_free(h);
}

/* SYN cookies only: the cookie SYN-ACK is authenticated, and its ACK,
 * checked at the listener under the ISNs it implies, makes a connection
 * that keeps the MKT. */
static void test_syncookie_ao(void **state)
{
    (void)state;
    const char *sysctls[] = {"net.inet.tcp.syncookies_only=1", NULL};
    struct h_opts o = {.sysctls = sysctls};
    struct harness *h = h_new(&o);
    struct tcp_ao_key *ours = peer_mkt(TCPC_TCP_AO_ALG_AES_128_CMAC_96, 0, KEY_A, OUR_ID, PEER_ID);
    struct tcp_ao_key *peers = peer_mkt(TCPC_TCP_AO_ALG_AES_128_CMAC_96, 0, KEY_A, PEER_ID, OUR_ID);
    int l = h_listen(h);
    set_mkt(h, l, TCPC_TCP_AO_ALG_AES_128_CMAC_96, KEY_A, OUR_ID, PEER_ID);
    inject_ao(h, SEG(.flags = TH_SYN, .seq = 9000, .mss = 1460), peers, 9000, 0, false);
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 9001));
    assert_int_equal(h_stat(h, "tcps_sc_sendcookie"), 1);
    assert_mac(&sa, ours, sa.th.seq, 9000, 0);
    inject_ao(h, SEG(.flags = TH_ACK, .seq = 9001, .ack = sa.th.seq + 1), peers, 9000, sa.th.seq,
              true);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_ao_bad"), 1);
    assert_int_equal(h_stat(h, "tcps_sc_recvcookie"), 0);
    inject_ao(h, SEG(.flags = TH_ACK, .seq = 9001, .ack = sa.th.seq + 1), peers, 9000, sa.th.seq,
              false);
    assert_int_equal(h_stat(h, "tcps_sc_recvcookie"), 1);
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    assert_int_equal(tcpc_send(h->stack, sd, "x", 1), 1);
    struct h_seg d = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .len = 1));
    assert_mac(&d, ours, sa.th.seq, 9000, 0);
    tcp_ao_key_release(ours);
    tcp_ao_key_release(peers);
    h_free(h);
}

/* TIME_WAIT: the ACK of the peer's FIN, owed as the record is made, is
 * authenticated; the record, which can check no MAC, drops what reaches
 * it and answers nothing. */
static void test_timewait_ao(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct ao_conn c = passive_ao(h, TCPC_TCP_AO_ALG_HMAC_SHA1_96);
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_WR), 0);
    struct h_seg fin = h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.iss + 1));
    assert_mac(&fin, c.ours, c.iss, 1000, 0);
    inject_ao(h,
              SEG(.flags = TH_FIN | TH_ACK, .seq = 1001, .ack = c.iss + 2, .tsval = 503,
                  .tsecr = fin.th.opts.tsval),
              c.peers, 1000, c.iss, false);
    struct h_seg ack = h_expect(h, SEG(.flags = TH_ACK, .seq = c.iss + 2, .ack = 1002));
    assert_mac(&ack, c.ours, c.iss, 1000, 0);
    assert_int_equal(h_stat(h, "tcps_tw_added"), 1);
    uint64_t before = h_stat(h, "tcps_ao_keynotfound");
    inject_ao(h,
              SEG(.flags = TH_FIN | TH_ACK, .seq = 1001, .ack = c.iss + 2, .tsval = 504,
                  .tsecr = fin.th.opts.tsval),
              c.peers, 1000, c.iss, false);
    h_inject(h, SEG(.flags = TH_RST, .seq = 1002));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_ao_keynotfound"), before + 2);
    conn_free(&c);
    h_free(h);
}

/* TCPC_TCP_AO_ADD_KEY and _DEL_KEY refuse what they cannot take, each
 * with its error; MD5 keys and MKTs never share a socket. */
static void test_setsockopt_validation(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    struct tcpc_tcp_ao_add a = ao_add(&h->peer, 32, TCPC_TCP_AO_ALG_HMAC_SHA1_96, KEY_A, 1, 2);
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_AO_ADD_KEY, &a, sizeof(a) - 1),
                     -EINVAL);
    struct tcpc_tcp_ao_add b = a;
    b.alg = 7;
    assert_int_equal(add_key(h->stack, sd, &b), -EINVAL);
    b = a;
    b.maclen = 16;
    assert_int_equal(add_key(h->stack, sd, &b), -EINVAL);
    b = a;
    b.keylen = 0;
    assert_int_equal(add_key(h->stack, sd, &b), -EINVAL);
    b = a;
    b.keylen = TCPC_TCP_AO_MAXKEYLEN + 1;
    assert_int_equal(add_key(h->stack, sd, &b), -EINVAL);
    b = a;
    b.prefix = 33;
    assert_int_equal(add_key(h->stack, sd, &b), -EINVAL);
    b = a;
    b.keyflags = 0x01;
    assert_int_equal(add_key(h->stack, sd, &b), -EINVAL);
    assert_int_equal(add_key(h->stack, sd, &a), 0);
    assert_int_equal(add_key(h->stack, sd, &a), -EEXIST);
    b = a;
    b.rcvid = 3; /* the same SendID for the same peer */
    assert_int_equal(add_key(h->stack, sd, &b), -EEXIST);
    b.sndid = 4;
    b.maclen = 12;
    b.keyflags = TCPC_TCP_AO_KEYF_EXCLUDE_OPT;
    assert_int_equal(add_key(h->stack, sd, &b), 0);
    /* MD5 beside TCP-AO: refused both ways. */
    struct tcpc_md5sig m;
    memset(&m, 0, sizeof(m));
    m.addr = h->peer;
    m.keylen = 3;
    memcpy(m.key, "abc", 3);
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m)),
                     -EKEYREJECTED);
    int sd2 = fx_socket(h);
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd2, TCPC_TCP_MD5SIG, &m, sizeof(m)), 0);
    assert_int_equal(add_key(h->stack, sd2, &a), -EKEYREJECTED);
    /* Removal: unknown, then known. */
    struct tcpc_tcp_ao_del d = {.addr = h->peer, .prefix = 32, .sndid = 1, .rcvid = 9};
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_AO_DEL_KEY, &d, sizeof(d)),
                     -ENOENT);
    d.rcvid = 2;
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_AO_DEL_KEY, &d, sizeof(d)), 0);
    d.prefix = 40;
    assert_int_equal(tcpc_setsockopt_buf(h->stack, sd, TCPC_TCP_AO_DEL_KEY, &d, sizeof(d)),
                     -EINVAL);
    /* A connection that started without TCP-AO takes no MKT. */
    int sd3 = fx_socket(h);
    assert_int_equal(tcpc_connect(h->stack, sd3, &h->peer, h->pport), -EINPROGRESS);
    assert_int_equal(add_key(h->stack, sd3, &a), -EKEYREJECTED);
    h_free(h);
}

/* Two stacks on the memory link (tests/harness/hsim.h), each with the
 * other's MKT: a handshake, 256 KiB each way and the close, every segment
 * authenticated and checked: the bytes arrive intact, nothing is dropped,
 * and without loss each end's tcps_ao_good is the other's tcps_sndtotal;
 * with 1% loss each way, retransmissions and all, nothing fails a check. */
struct two_stacks {
    uint8_t alg, flags;
    bool v6;
};

static void two_stacks_mkt(struct tcpc_stack *stack, int sd, int side, void *ctx)
{
    const struct two_stacks *t = ctx;
    struct tcpc_addr peer;
    const char *a =
        t->v6 ? (side ? "2001:db8::1" : "2001:db8::2") : (side ? "198.18.0.1" : "198.18.0.2");
    assert_int_equal(tcpc_addr_parse(a, &peer), 0);
    struct tcpc_tcp_ao_add add =
        ao_add(&peer, t->v6 ? 128 : 32, t->alg, KEY_A, side ? 84 : 61, side ? 61 : 84);
    add.keyflags = t->flags;
    assert_int_equal(add_key(stack, sd, &add), 0);
}

static uint64_t st_get(const struct tcpc_stats *st, const char *name)
{
    int id = tcpc_stat_lookup(name);
    assert_true(id >= 0);
    return tcpc_stat_value(st, (unsigned)id);
}

static void two_stacks(bool v6, uint8_t alg, uint8_t flags, bool lossy)
{
    struct two_stacks t = {.alg = alg, .flags = flags, .v6 = v6};
    struct hsim_opts o;
    hsim_opts_init(&o, hsim_seed(0xA0 + alg, "two_stacks"));
    o.v6 = v6;
    o.bytes[0] = o.bytes[1] = 256 * 1024;
    o.sock_setup = two_stacks_mkt;
    o.sock_ctx = &t;
    if (lossy) {
        for (int i = 0; i < 2; i++) {
            o.path[i].delay = 1 * TCPC_USEC_PER_MSEC;
            o.path[i].loss_ppm = 10000;
        }
    }
    struct hsim_result r;
    hsim_run(&o, &r);
    for (int k = 0; k < 2; k++) {
        assert_true(r.intact[k] && r.eof[k]);
        assert_int_equal(r.rcvd[k], o.bytes[k]);
        assert_int_equal(st_get(&r.stats[k], "tcps_ao_bad"), 0);
        assert_int_equal(st_get(&r.stats[k], "tcps_ao_required"), 0);
        assert_int_equal(st_get(&r.stats[k], "tcps_ao_unexpected"), 0);
        assert_true(st_get(&r.stats[k], "tcps_ao_good") > o.bytes[k] / 1500);
        if (!lossy) {
            assert_int_equal(st_get(&r.stats[k], "tcps_ao_keynotfound"), 0);
            assert_int_equal(st_get(&r.stats[k], "tcps_ao_good"),
                             st_get(&r.stats[1 - k], "tcps_sndtotal"));
        }
    }
}

static void test_two_stacks_sha1_v4(void **state)
{
    (void)state;
    two_stacks(false, TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, false);
}

static void test_two_stacks_cmac_v6_noopt(void **state)
{
    (void)state;
    two_stacks(true, TCPC_TCP_AO_ALG_AES_128_CMAC_96, TCPC_TCP_AO_KEYF_EXCLUDE_OPT, false);
}

static void test_two_stacks_lossy(void **state)
{
    (void)state;
    two_stacks(false, TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passive_sha1_v4),
        cmocka_unit_test(test_passive_cmac_v6),
        cmocka_unit_test(test_active_ao),
        cmocka_unit_test(test_sne_across_wrap),
        cmocka_unit_test(test_flipped_mac_dropped),
        cmocka_unit_test(test_unsigned_rst_ignored),
        cmocka_unit_test(test_our_rst_authenticated),
        cmocka_unit_test(test_listener_requires_and_refuses),
        cmocka_unit_test(test_rollover_by_rnextkeyid),
        cmocka_unit_test(test_syncookie_ao),
        cmocka_unit_test(test_timewait_ao),
        cmocka_unit_test(test_setsockopt_validation),
        cmocka_unit_test(test_two_stacks_sha1_v4),
        cmocka_unit_test(test_two_stacks_cmac_v6_noopt),
        cmocka_unit_test(test_two_stacks_lossy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
