/*
 * Compressed TIME_WAIT (src/tcp/timewait.c), segment by segment: what a
 * record answers (RFC 1337 RSTs, RFC 6191 SYNs, PAWS, a retransmitted FIN,
 * data, duplicate ACKs), when it expires (exactly 2 MSL after its last
 * arm), the limits (recycling at net.inet.tcp.maxtcptw, nolocaltimewait),
 * port reuse by connect() and bind, the listing, the IPv6 layout, and
 * reopening by a new SYN (the new ISS above the old sequence space, never
 * a cookie, the record surviving every reopen that fails). The
 * last test runs two stacks on the memory link through 200,000 connections
 * from one client to one server port over 28,000 ephemeral ports.
 *
 * MSL is 1 s here, so TIME_WAIT lasts 2 s. The stack is the side that
 * closes first; the test is its peer.
 */
#include "test_tcp_fixture.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/stack.h"
#include "memlink.h"
#include "tcp/syncache.h"
#include "tcp/tcp_var.h"
#include "tcp/timewait.h"
#include "tcpcore/link.h"
#include "tcpcore/listing.h"

#define TWO_MSL (2 * SEC)

/* A stack with MSL 1 s and up to three more sysctls (NULL ends them). */
static struct harness *tw_h3(bool v6, const char *a, const char *b, const char *c)
{
    const char *sys[] = {"net.inet.tcp.msl=1000", a, b, c, NULL};
    struct h_opts o = {.v6 = v6, .sysctls = sys};
    return h_new(&o);
}

static struct harness *tw_h(bool v6, const char *a, const char *b)
{
    return tw_h3(v6, a, b, NULL);
}

static uint32_t tw_n(struct harness *h)
{
    return tw_count(h->stack);
}

/* A connection in TIME_WAIT as its peer sees it. */
struct twc {
    struct fx_conn c;
    uint32_t snd_nxt; /* the stack's, after its FIN */
    uint32_t rcv_nxt; /* the stack's, after the peer's FIN */
    uint32_t tsval;   /* TSval of the stack's last ACK (timestamps only) */
    uint16_t win;     /* window of that ACK */
};

/*
 * A passive connection (timestamps when ts != 0, starting at ts) that the
 * stack's application closes first; the peer's FIN (TSval ts + 100) brings
 * it to TIME_WAIT.
 */
static struct twc server_tw(struct harness *h, uint32_t ts)
{
    struct twc t;
    t.c = ts ? fx_passive(h, 1000, SEG(.mss = 1460, .tsval = ts))
             : fx_passive(h, 1000, SEG(.mss = 1460));
    assert_int_equal(tcpc_close(h->stack, t.c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = t.c.rcv, .ack = t.c.snd, .len = 0));
    struct seg fin = SEG(.flags = TH_FIN | TH_ACK, .seq = t.c.snd, .ack = t.c.rcv + 1);
    if (ts)
        fin.tsval = ts + 100;
    h_inject(h, fin);
    t.snd_nxt = t.c.rcv + 1;
    t.rcv_nxt = t.c.snd + 1;
    struct h_seg a = h_expect(h, SEG(.flags = TH_ACK, .seq = t.snd_nxt, .ack = t.rcv_nxt, .len = 0,
                                     .tsecr = ts ? (int64_t)ts + 100 : SEG_ANY));
    h_expect_nothing(h);
    t.tsval = a.th.opts.tsval;
    t.win = a.th.win;
    assert_int_equal(tw_n(h), 1);
    return t;
}

/* The record still answers: its pure duplicate ACK draws nothing. */
static void expect_tw(struct harness *h, const struct twc *t)
{
    h_inject(h, SEG(.flags = TH_ACK, .seq = t->rcv_nxt, .ack = t->snd_nxt));
    h_expect_nothing(h);
}

/* Nothing holds the 4-tuple: the same ACK draws an RST <SEQ=SEG.ACK>. */
static void expect_none(struct harness *h, const struct twc *t)
{
    h_inject(h, SEG(.flags = TH_ACK, .seq = t->rcv_nxt, .ack = t->snd_nxt));
    h_expect(h, SEG(.flags = TH_RST, .seq = t->snd_nxt, .len = 0));
    h_expect_nothing(h);
}

/* The control block and its socket are gone; a record holds the 4-tuple. */
static void test_record_replaces_connection(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 0);
    assert_int_equal(h->stack->tcp->nconns, 1); /* only the listener is left */
    assert_int_equal(h_stat(h, "tcps_tw_added"), 1);
    assert_int_equal(tw_entry_bytes(false), 40);
    assert_int_equal(tw_entry_bytes(true), 68);
    expect_tw(h, &t);
    assert_int_equal(h_stat(h, "tcps_tw_dupack"), 1);
    h_free(h);
}

/* RFC 1337: RSTs, with or without ACK, in or out of the window, are
 * ignored and TIME_WAIT goes on. */
static void test_rst_ignored(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 0);
    h_inject(h, SEG(.flags = TH_RST, .seq = t.rcv_nxt));
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = t.rcv_nxt, .ack = t.snd_nxt));
    h_inject(h, SEG(.flags = TH_RST, .seq = t.rcv_nxt + 100000));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tw_resets"), 3);
    assert_int_equal(tw_n(h), 1);
    expect_tw(h, &t);
    h_free(h);
}

/* The SYN-ACK answering a reopening SYN (isn, TSval tsval or none) is
 * ACKed: the new connection completes, and only now does the record go.
 * Returns the new connection's descriptor. */
static int complete_reopen(struct harness *h, uint32_t isn, const struct h_seg *sa, uint32_t tsval)
{
    assert_int_equal(tw_n(h), 1);
    assert_int_equal(h_stat(h, "tcps_tw_reopened"), 0);
    struct seg a = SEG(.flags = TH_ACK, .seq = isn + 1, .ack = sa->th.seq + 1);
    if (tsval) {
        a.tsval = tsval + 1;
        a.tsecr = sa->th.opts.tsval;
    }
    h_inject(h, a);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tw_reopened"), 1);
    assert_int_equal(tw_n(h), 0);
    int sd = tcpc_accept(h->stack, 0, NULL, NULL);
    assert_true(sd >= 0);
    return sd;
}

/* A SYN above rcv_nxt reaches the listener as a new connection (the seed's
 * rule; no timestamps in either incarnation), which replaces the record
 * once its handshake completes. */
static void test_syn_higher_seq_reopens(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 0);
    uint32_t isn = t.rcv_nxt + 100000;
    h_inject(h, SEG(.flags = TH_SYN, .seq = isn, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = isn + 1, .len = 0));
    h_expect_nothing(h);
    complete_reopen(h, isn, &sa, 0);
    h_free(h);
}

/* RFC 6191: with timestamps, a newer TSval reopens even below rcv_nxt. */
static void test_syn_newer_timestamp_reopens(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 100); /* ts_recent 200 */
    uint32_t isn = t.rcv_nxt - 50000;
    h_inject(h, SEG(.flags = TH_SYN, .seq = isn, .mss = 1460, .tsval = 201));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = isn + 1, .tsecr = 201));
    h_expect_nothing(h);
    complete_reopen(h, isn, &sa, 201);
    h_free(h);
}

/* A SYN with a lower sequence number and an older timestamp is an old
 * duplicate: dropped without an answer (FreeBSD's tcp_twcheck), no new
 * connection, TIME_WAIT goes on. */
static void test_syn_old_ignored(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 100);
    h_inject(h, SEG(.flags = TH_SYN, .seq = t.rcv_nxt - 10, .mss = 1460, .tsval = 150));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tw_badsyn"), 1);
    assert_int_equal(h_stat(h, "tcps_tw_reopened"), 0);
    assert_int_equal(tw_n(h), 1);
    /* Without timestamps, the same holds for a SYN at or below rcv_nxt. */
    struct harness *h2 = tw_h(false, NULL, NULL);
    struct twc t2 = server_tw(h2, 0);
    h_inject(h2, SEG(.flags = TH_SYN, .seq = t2.rcv_nxt, .mss = 1460));
    h_expect_nothing(h2);
    assert_int_equal(tw_n(h2), 1);
    h_free(h2);
    h_free(h);
}

/* RFC 6191 with timestamps: a higher sequence number does not make up for
 * an older timestamp (PAWS: an old duplicate SYN), while an equal one with a
 * higher sequence number is accepted. A SYN with ACK never reopens. */
static void test_syn_rfc6191_details(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 100);
    h_inject(h, SEG(.flags = TH_SYN, .seq = t.rcv_nxt + 1000, .mss = 1460, .tsval = 199));
    h_expect_nothing(h); /* refused by RFC 6191, so silence as for any non-reopening SYN */
    h_inject(
        h, SEG(.flags = TH_SYN | TH_ACK, .seq = t.rcv_nxt + 1000, .ack = t.snd_nxt, .tsval = 300));
    h_expect(h, SEG(.flags = TH_ACK, .seq = t.snd_nxt, .ack = t.rcv_nxt, .tsecr = 200));
    h_expect_nothing(h);
    assert_int_equal(tw_n(h), 1);
    h_inject(h, SEG(.flags = TH_SYN, .seq = t.rcv_nxt + 1000, .mss = 1460, .tsval = 200));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = t.rcv_nxt + 1001));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tw_badsyn"), 2);
    complete_reopen(h, t.rcv_nxt + 1000, &sa, 200);
    h_free(h);
}

/* The peer's FIN again: our ACK was lost. It is ACKed and 2 MSL restart
 * from now, exactly. */
static void test_duplicate_fin_rearms(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 0);
    h_advance(h, 700 * MSEC);
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = t.rcv_nxt - 1, .ack = t.snd_nxt));
    h_expect(h, SEG(.flags = TH_ACK, .seq = t.snd_nxt, .ack = t.rcv_nxt, .len = 0, .win = t.win));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tw_finrearm"), 1);
    assert_int_equal(tcpc_next_deadline(h->stack), h->now + TWO_MSL);
    h_advance(h, TWO_MSL - 1);
    assert_int_equal(tw_n(h), 1);
    expect_tw(h, &t);
    h_advance(h, 1);
    assert_int_equal(tw_n(h), 0);
    expect_none(h, &t);
    h_free(h);
}

/* Data (in or out of the old window) and anything that is not a pure
 * duplicate of the final ACK draw an ACK; the pure duplicate draws nothing. */
static void test_data_acked_dupack_silent(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 0);
    h_inject(h, SEG(.flags = TH_ACK, .seq = t.rcv_nxt, .ack = t.snd_nxt, .data = "late"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = t.snd_nxt, .ack = t.rcv_nxt, .len = 0, .win = t.win));
    h_inject(h, SEG(.flags = TH_ACK, .seq = t.rcv_nxt - 4, .ack = t.snd_nxt, .data = "old!"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = t.snd_nxt, .ack = t.rcv_nxt, .len = 0));
    h_inject(h, SEG(.flags = TH_ACK, .seq = t.rcv_nxt, .ack = t.snd_nxt - 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = t.snd_nxt, .ack = t.rcv_nxt, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tw_responds"), 3);
    h_inject(h, SEG(.flags = TH_ACK, .seq = t.rcv_nxt, .ack = t.snd_nxt));
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = t.rcv_nxt, .ack = t.snd_nxt));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tw_dupack"), 2);
    assert_int_equal(h_stat(h, "tcps_tw_responds"), 3);
    /* No ACK bit: dropped. */
    h_inject(h, SEG(.flags = TH_FIN, .seq = t.rcv_nxt - 1));
    h_inject(h, SEG(.flags = 0, .seq = t.rcv_nxt, .data = "x"));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_tw_noack"), 2);
    assert_int_equal(tw_n(h), 1);
    h_free(h);
}

/* The record's ACK carries timestamps: our clock with the connection's
 * offset, echoing ts_recent (which TIME_WAIT never updates), and the
 * last window advertised. */
static void test_ack_carries_timestamps(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 100);
    h_advance(h, 7 * MSEC);
    h_inject(
        h, SEG(.flags = TH_ACK, .seq = t.rcv_nxt, .ack = t.snd_nxt, .tsval = 250, .data = "late"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = t.snd_nxt, .ack = t.rcv_nxt, .len = 0, .win = t.win,
                    .opts = TOF_TS, .tsval = t.tsval + 7, .tsecr = 200));
    h_expect_nothing(h);
    h_free(h);
}

/* PAWS (RFC 7323 5.3), which the seed left under #if 0: an older TSval is
 * an old duplicate. With ACK it draws an ACK; without, nothing. */
static void test_paws(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 100);
    uint64_t paws = h_stat(h, "tcps_pawsdrop");
    h_inject(h, SEG(.flags = TH_ACK, .seq = t.rcv_nxt, .ack = t.snd_nxt, .tsval = 199));
    h_expect(h, SEG(.flags = TH_ACK, .seq = t.snd_nxt, .ack = t.rcv_nxt, .tsecr = 200));
    h_inject(h, SEG(.flags = TH_FIN, .seq = t.rcv_nxt - 1, .tsval = 199));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_pawsdrop"), paws + 2);
    /* A current TSval passes PAWS: the duplicate ACK is silent again. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = t.rcv_nxt, .ack = t.snd_nxt, .tsval = 200));
    h_expect_nothing(h);
    h_free(h);
}

/* Expiry exactly 2 MSL after entering TIME_WAIT: there at 2 MSL - 1 us,
 * gone at 2 MSL; the stack's next deadline says so. */
static void test_expiry_exactly_2msl(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    tcpc_time_t start = h->now;
    struct twc t = server_tw(h, 0);
    assert_int_equal(tcpc_next_deadline(h->stack), start + TWO_MSL);
    h_advance(h, TWO_MSL - 1);
    assert_int_equal(tw_n(h), 1);
    assert_int_equal(h_stat(h, "tcps_tw_expired"), 0);
    expect_tw(h, &t);
    h_advance(h, 1);
    assert_int_equal(tw_n(h), 0);
    assert_int_equal(h_stat(h, "tcps_tw_expired"), 1);
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
    expect_none(h, &t);
    h_free(h);
}

/* A passive connection from peer port pport, closed by the stack first and
 * brought to TIME_WAIT, on listener l. */
static struct twc server_tw_port(struct harness *h, uint16_t pport)
{
    struct twc t;
    uint32_t iss = fx_passive_to_timewait(h, 0, pport);
    t.snd_nxt = iss + 2;
    t.rcv_nxt = 1002;
    return t;
}

/* At net.inet.tcp.maxtcptw the oldest record makes room for the newest. */
static void test_recycle_at_maxtcptw(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, "net.inet.tcp.maxtcptw=32", NULL);
    int l = h_listen(h);
    assert_int_equal(l, 0);
    struct twc t[33];
    for (uint16_t i = 0; i < 33; i++) {
        t[i] = server_tw_port(h, (uint16_t)(40000 + i));
        h_advance(h, 1 * MSEC);
    }
    assert_int_equal(tw_n(h), 32);
    assert_int_equal(h_stat(h, "tcps_tw_recycles"), 1);
    assert_int_equal(h_stat(h, "tcps_tw_added"), 33);
    h->pport = 40000;
    expect_none(h, &t[0]);
    for (uint16_t i = 1; i < 33; i++) {
        h->pport = (uint16_t)(40000 + i);
        expect_tw(h, &t[i]);
    }
    /* The pools were sized at creation: a larger limit set on the live
     * stack is held to that size. */
    const char *why;
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.tcp.maxtcptw", 40, &why), 0);
    server_tw_port(h, 41000);
    assert_int_equal(tw_n(h), 32);
    assert_int_equal(h_stat(h, "tcps_tw_recycles"), 2);
    h_free(h);
}

/* net.inet.tcp.nolocaltimewait: a connection to one of our own addresses
 * closes without TIME_WAIT. */
static void test_nolocaltimewait(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, "net.inet.tcp.nolocaltimewait=1", NULL);
    /* Make the peer's address one of the stack's own. */
    assert_int_equal(tcpc_addr_add(h->stack, &h->peer, 0), 0);
    int l = h_listen(h);
    assert_int_equal(l, 0);
    struct twc t = server_tw_port(h, 40000);
    assert_int_equal(tw_n(h), 0);
    assert_int_equal(h_stat(h, "tcps_tw_nolocal"), 1);
    assert_int_equal(h_stat(h, "tcps_tw_added"), 0);
    expect_none(h, &t);
    h_free(h);
}

/* An active open from the only ephemeral port, closed first by the stack:
 * a client-side TIME_WAIT record. synack's options are the peer's. */
static struct twc client_tw(struct harness *h, struct seg synack)
{
    struct twc t;
    bool ts = synack.tsval != SEG_ANY;
    t.c = fx_active(h, 5000, synack);
    assert_int_equal(tcpc_close(h->stack, t.c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = t.c.rcv));
    struct seg fin = SEG(.flags = TH_FIN | TH_ACK, .seq = t.c.snd, .ack = t.c.rcv + 1);
    if (ts)
        fin.tsval = synack.tsval + 1;
    h_inject(h, fin);
    struct h_seg a = h_expect(h, SEG(.flags = TH_ACK, .seq = t.c.rcv + 1, .ack = t.c.snd + 1));
    h_expect_nothing(h);
    t.snd_nxt = t.c.rcv + 1;
    t.rcv_nxt = t.c.snd + 1;
    t.tsval = a.th.opts.tsval;
    assert_int_equal(tw_n(h), 1);
    return t;
}

/* connect() to the same peer with the only port held by TIME_WAIT:
 * taken over once it is safe (timestamps, and a second for the peer's clock
 * to tick), continuing our timestamp clock and beyond the old snd_nxt. */
static void test_client_reuse_timestamps(void **state)
{
    (void)state;
    struct harness *h =
        tw_h(false, "net.inet.ip.portrange.first=50000", "net.inet.ip.portrange.last=50000");
    struct twc t = client_tw(h, SEG(.mss = 1460, .tsval = 70));
    int sd = fx_socket(h);
    /* Unsafe: the peer's timestamp clock may not have ticked yet. */
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EADDRNOTAVAIL);
    assert_int_equal(h_stat(h, "tcps_tw_reuse_refused"), 1);
    assert_int_equal(tw_n(h), 1);
    h_expect_nothing(h);
    h_advance(h, 1 * SEC);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct h_seg syn = h_expect(h, SEG(.flags = TH_SYN, .tsval = t.tsval + 1000));
    assert_int_equal(syn.th.sport, 50000);
    assert_true((int32_t)(syn.th.seq - t.snd_nxt) > 0);
    assert_int_equal(h_stat(h, "tcps_tw_reused"), 1);
    assert_int_equal(tw_n(h), 0);
    h_free(h);
}

/* Without timestamps, only an ISN beyond the old snd_nxt makes the
 * takeover safe; with net.inet.tcp.tw_reuse=0 nothing does. */
static void test_client_reuse_isn(void **state)
{
    (void)state;
    struct harness *h =
        tw_h(false, "net.inet.ip.portrange.first=50000", "net.inet.ip.portrange.last=50000");
    struct twc t = client_tw(h, SEG(.mss = 1460));
    int sd = fx_socket(h);
    /* No time has passed since the old ISS: the new one would not be
     * beyond the old snd_nxt (ISS + SYN + FIN). */
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EADDRNOTAVAIL);
    assert_int_equal(h_stat(h, "tcps_tw_reuse_refused"), 1);
    h_advance(h, 1 * MSEC); /* the RFC 6528 clock: 250 a millisecond */
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct h_seg syn = h_expect(h, SEG(.flags = TH_SYN));
    assert_int_equal(syn.th.sport, 50000);
    assert_true((int32_t)(syn.th.seq - t.snd_nxt) > 0);
    assert_int_equal(h_stat(h, "tcps_tw_reused"), 1);
    h_free(h);

    h = tw_h3(false, "net.inet.ip.portrange.first=50000", "net.inet.ip.portrange.last=50000",
              "net.inet.tcp.tw_reuse=0");
    client_tw(h, SEG(.mss = 1460, .tsval = 70));
    h_advance(h, 1 * SEC);
    sd = fx_socket(h);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EADDRNOTAVAIL);
    assert_int_equal(h_stat(h, "tcps_tw_reused"), 0);
    h_advance(h, TWO_MSL);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    h_free(h);
}

/* bind without SO_REUSEADDR is refused while TIME_WAIT holds the port; with
 * it, TIME_WAIT is ignored (FreeBSD). */
static void test_bind_and_reuseaddr(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 0);
    assert_int_equal(tcpc_close(h->stack, t.c.lsd), 0);
    int a = fx_socket(h);
    assert_int_equal(tcpc_bind(h->stack, a, &h->local, h->lport), -EADDRINUSE);
    int b = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, b, TCPC_SO_REUSEADDR, 1), 0);
    assert_int_equal(tcpc_bind(h->stack, b, &h->local, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, b, 8), 0);
    h_advance(h, TWO_MSL);
    assert_int_equal(tcpc_bind(h->stack, a, &h->local, h->lport), -EADDRINUSE); /* b listens */
    h_free(h);
}

struct list_seen {
    unsigned n;
    struct tcpc_conninfo ci;
};

static int list_cb(void *ctx, const struct tcpc_conninfo *ci)
{
    struct list_seen *s = ctx;
    if (ci->kind == TCPC_CONN_TIMEWAIT) {
        s->n++;
        s->ci = *ci;
    }
    return 0;
}

/* The listing shows the record with its 4-tuple and the time it has left. */
static void test_listing(void **state)
{
    (void)state;
    for (int v6 = 0; v6 <= 1; v6++) {
        struct harness *h = tw_h(v6, NULL, NULL);
        server_tw(h, 0);
        h_advance(h, 500 * MSEC);
        struct list_seen s = {0};
        assert_int_equal(tcpc_list_connections(h->stack, list_cb, &s), 0);
        assert_int_equal(s.n, 1);
        assert_int_equal(s.ci.state, 10 /* TIME_WAIT */);
        assert_string_equal(tcpc_state_name(s.ci.state), "TIME_WAIT");
        assert_int_equal(s.ci.sd, -1);
        assert_true(tcpc_addr_eq(&s.ci.laddr, &h->local));
        assert_true(tcpc_addr_eq(&s.ci.faddr, &h->peer));
        assert_int_equal(s.ci.lport, h->lport);
        assert_int_equal(s.ci.fport, h->pport);
        assert_int_equal(s.ci.expires_in, TWO_MSL - 500 * MSEC);
        h_free(h);
    }
}

/* IPv6 records (the wide layout) follow the same rules. */
static void test_ipv6(void **state)
{
    (void)state;
    struct harness *h = tw_h(true, NULL, NULL);
    struct twc t = server_tw(h, 100);
    h_inject(h, SEG(.flags = TH_RST, .seq = t.rcv_nxt));
    expect_tw(h, &t);
    h_inject(h,
             SEG(.flags = TH_ACK, .seq = t.rcv_nxt, .ack = t.snd_nxt, .tsval = 300, .data = "x"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = t.snd_nxt, .ack = t.rcv_nxt, .tsecr = 200, .len = 0));
    h_advance(h, TWO_MSL);
    assert_int_equal(tw_n(h), 0);
    expect_none(h, &t);
    h_free(h);
}

/* An IPv4 connection on an address the stack does not list (a transparent
 * proxy's IP_BINDANY socket) cannot store its local address as an index:
 * its record takes the wide layout, and still answers and expires. */
static void test_ipv4_bindany_wide_record(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    assert_int_equal(tcpc_addr_parse("198.18.7.7", &h->local), 0); /* not the stack's */
    int l = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, l, TCPC_IP_BINDANY, 1), 0);
    assert_int_equal(tcpc_bind(h->stack, l, &h->local, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, l, 4), 0);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    uint32_t iss = sa.th.seq;
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = iss + 1));
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    assert_int_equal(tcpc_close(h->stack, sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = iss + 1, .ack = 1001));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = 1001, .ack = iss + 2));
    h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 2, .ack = 1002, .len = 0));
    assert_int_equal(tw_n(h), 1);
    struct pcb_tuple key = {
        .faddr = h->peer, .laddr = h->local, .fport = h->pport, .lport = h->lport};
    const struct pcbinfo *pi = h->stack->tcp->pcb;
    uint32_t ref = pcb_lookup_exact(pi, &key, pcb_hash(pi, &key));
    assert_int_equal(PCB_REF_KIND(ref), PCB_KIND_TIMEWAIT_WIDE);

    /* A retransmitted FIN is answered from the record, from 198.18.7.7. */
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = 1001, .ack = iss + 2));
    h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 2, .ack = 1002, .len = 0));
    struct list_seen s = {0};
    assert_int_equal(tcpc_list_connections(h->stack, list_cb, &s), 0);
    assert_int_equal(s.n, 1);
    assert_true(tcpc_addr_eq(&s.ci.laddr, &h->local));
    assert_true(tcpc_addr_eq(&s.ci.faddr, &h->peer));
    assert_int_equal(s.ci.lport, h->lport);
    h_advance(h, TWO_MSL);
    assert_int_equal(tw_n(h), 0);
    h_free(h);
}

/* --- reopening a TIME_WAIT 4-tuple by a new SYN --------------------------- */

/* The reopening SYN: above rcv_nxt, and with a TSval above ts_recent when
 * ts (the record's incarnation used timestamps, from ts: ts_recent ts+100). */
static struct seg reopen_syn(const struct twc *t, uint32_t ts)
{
    struct seg s = SEG(.flags = TH_SYN, .seq = t->rcv_nxt + 100000, .mss = 1460);
    if (ts)
        s.tsval = ts + 1000;
    return s;
}

/* Our ISS in a SYN-ACK lies above the old incarnation's snd_nxt, by at most
 * TW_ISS_GAP. */
static void expect_iss_above(const struct h_seg *sa, const struct twc *t)
{
    uint32_t d = sa->th.seq - t->snd_nxt;
    if (!((int32_t)d > 0 && d <= TW_ISS_GAP))
        fail_msg("new ISS %u is %d from the old snd_nxt %u", sa->th.seq, (int32_t)d, t->snd_nxt);
}

/* RFC 9293 3.6.1, RFC 1122 4.2.2.13: a reopened 4-tuple's new ISS lies above
 * everything the old incarnation sent, whatever the secrets (32 seeds), with
 * and without timestamps, IPv4 and IPv6; and the new connection completes
 * and sends from it. */
static void test_reopen_iss_above_old_snd_nxt(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.msl=1000", NULL};
    for (int v6 = 0; v6 <= 1; v6++) {
        for (uint32_t ts = 0; ts <= 100; ts += 100) {
            for (uint8_t seed = 1; seed <= 32; seed++) {
                struct h_opts o = {.v6 = v6, .sysctls = sys, .seed = seed};
                struct harness *h = h_new(&o);
                struct twc t = server_tw(h, ts);
                struct seg syn = reopen_syn(&t, ts);
                h_inject(h, syn);
                struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = syn.seq + 1));
                expect_iss_above(&sa, &t);
                int sd = complete_reopen(h, (uint32_t)syn.seq, &sa, ts ? (uint32_t)syn.tsval : 0);
                assert_int_equal(tcpc_send(h->stack, sd, "new", 3), 3);
                h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = sa.th.seq + 1, .len = 3));
                h_free(h);
            }
        }
    }
}

/* With timestamps in both incarnations, the new one continues the old
 * timestamp clock, so the peer's PAWS tells our old duplicates from new
 * segments as well. */
static void test_reopen_continues_timestamp_clock(void **state)
{
    (void)state;
    for (int v6 = 0; v6 <= 1; v6++) {
        struct harness *h = tw_h(v6, NULL, NULL);
        struct twc t = server_tw(h, 100);
        h_advance(h, 5 * MSEC);
        struct seg syn = reopen_syn(&t, 100);
        h_inject(h, syn);
        h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = syn.seq + 1, .tsval = t.tsval + 5,
                        .tsecr = syn.tsval));
        h_free(h);
    }
}

/* A reopen never takes a cookie, whose ISS is a hash that cannot be placed
 * above the old sequence space: in cookies-only mode and while the cache is
 * paused it still gets an entry, and the ISS above (16 seeds each). */
static void test_reopen_never_answered_with_cookie(void **state)
{
    (void)state;
    for (int paused = 0; paused <= 1; paused++) {
        for (uint8_t seed = 1; seed <= 16; seed++) {
            const char *only[] = {"net.inet.tcp.msl=1000", "net.inet.tcp.syncookies_only=1", NULL};
            const char *one[] = {"net.inet.tcp.msl=1000", "net.inet.tcp.syncache.hashsize=1",
                                 "net.inet.tcp.syncache.bucketlimit=1", NULL};
            struct h_opts o = {.sysctls = paused ? one : only, .seed = seed};
            struct harness *h = h_new(&o);
            struct twc t = server_tw(h, 0);
            if (paused) {
                h_inject(h, SEG(.flags = TH_SYN, .seq = 5, .sport = 7));
                h_inject(h, SEG(.flags = TH_SYN, .seq = 5, .sport = 8));
                h_flush(h);
                assert_int_equal(h_stat(h, "tcps_sc_paused"), 1);
            }
            assert_true(syncache_cookies_only(h->stack));
            uint64_t cookies = h_stat(h, "tcps_sc_sendcookie");
            uint64_t entries = h_stat(h, "tcps_sc_added");
            struct seg syn = reopen_syn(&t, 0);
            h_inject(h, syn);
            struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = syn.seq + 1));
            expect_iss_above(&sa, &t);
            assert_int_equal(h_stat(h, "tcps_sc_sendcookie"), cookies);
            assert_int_equal(h_stat(h, "tcps_sc_added"), entries + 1);
            uint64_t recv = h_stat(h, "tcps_sc_recvcookie");
            complete_reopen(h, (uint32_t)syn.seq, &sa, 0);
            assert_int_equal(h_stat(h, "tcps_sc_recvcookie"), recv);
            h_free(h);
        }
    }
}

/* While the cache is paused, entries whose ISS is a cookie go at their
 * first timeout (test_syncache.c); a reopen's entry, whose ISS is no
 * cookie, keeps resending its SYN-ACK on the schedule, and completes. */
static void test_reopen_keeps_schedule_while_paused(void **state)
{
    (void)state;
    struct harness *h = tw_h3(false, "net.inet.tcp.msl=5000", "net.inet.tcp.syncache.hashsize=1",
                              "net.inet.tcp.syncache.bucketlimit=1");
    struct twc t = server_tw(h, 0);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 5, .sport = 7));
    h_inject(h, SEG(.flags = TH_SYN, .seq = 5, .sport = 8)); /* overflow: paused */
    h_flush(h);
    assert_int_equal(h_stat(h, "tcps_sc_paused"), 1);
    struct seg syn = reopen_syn(&t, 0);
    h_inject(h, syn); /* its entry takes the bucket's one place */
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = syn.seq + 1));
    h_advance(h, 1 * SEC);
    assert_true(syncache_cookies_only(h->stack));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .seq = sa.th.seq, .ack = syn.seq + 1));
    assert_int_equal(h_stat(h, "tcps_sc_retransmitted"), 1);
    assert_int_equal(syncache_pcbcount(h->stack), 1);
    complete_reopen(h, (uint32_t)syn.seq, &sa, 0);
    assert_int_equal(h_stat(h, "tcps_sc_recvcookie"), 0);
    h_free(h);
}

/* An old duplicate of the peer's: data below the record's rcv_nxt, which the
 * record answers with its ACK. */
static void expect_old_dup_acked(struct harness *h, const struct twc *t)
{
    h_inject(h, SEG(.flags = TH_ACK, .seq = t->rcv_nxt - 4, .ack = t->snd_nxt, .data = "old!"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = t->snd_nxt, .ack = t->rcv_nxt, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(tw_n(h), 1);
}

/* No room for the reopen's entry (the cache is full and the SYN's bucket
 * has nothing to give up): the SYN is dropped, not answered with a cookie,
 * and the record goes on answering for the old incarnation. The client's
 * next retransmission, once there is room, reopens. */
static void test_reopen_without_room_keeps_record(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, "net.inet.tcp.syncache.cachelimit=1", NULL);
    struct twc t = server_tw(h, 0);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 5, .sport = 7)); /* fills the cache */
    h_flush(h);
    assert_int_equal(syncache_pcbcount(h->stack), 1);
    struct seg syn = reopen_syn(&t, 0);
    h_inject(h, syn);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sc_dropped"), 1);
    assert_int_equal(h_stat(h, "tcps_sc_sendcookie"), 0);
    expect_old_dup_acked(h, &t);
    h_inject(h, SEG(.flags = TH_RST, .seq = 6, .sport = 7)); /* the cache empties */
    assert_int_equal(syncache_pcbcount(h->stack), 0);
    h_inject(h, syn);
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = syn.seq + 1));
    expect_iss_above(&sa, &t);
    complete_reopen(h, (uint32_t)syn.seq, &sa, 0);
    h_free(h);
}

/* No listener any more: the reopening SYN is refused with an RST, and the
 * record stays. */
static void test_reopen_without_listener_keeps_record(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, NULL, NULL);
    struct twc t = server_tw(h, 0);
    assert_int_equal(tcpc_close(h->stack, t.c.lsd), 0);
    struct seg syn = reopen_syn(&t, 0);
    h_inject(h, syn);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .ack = syn.seq + 1));
    h_expect_nothing(h);
    expect_old_dup_acked(h, &t);
    h_free(h);
}

/* A reopen whose handshake does not complete leaves the record as it was:
 * while the entry waits, when it times out, when the client resets it, and
 * when the accept queue is full at its ACK. Old duplicates get the record's
 * ACK throughout (2 MSL is 60 s here). */
static void test_reopen_not_completing_keeps_record(void **state)
{
    (void)state;
    struct harness *h = tw_h(false, "net.inet.tcp.msl=30000", NULL);
    struct twc t = server_tw(h, 0);
    struct seg syn = reopen_syn(&t, 0);
    h_inject(h, syn);
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = syn.seq + 1));
    expect_old_dup_acked(h, &t);
    /* A retransmitted SYN gets the same SYN-ACK. */
    h_inject(h, syn);
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .seq = sa.th.seq, .ack = syn.seq + 1));
    /* Timed out: 1 + 2 + 4 + 8 s. */
    for (int i = 0; i < 16; i++)
        h_advance(h, 1 * SEC);
    h_flush(h);
    assert_int_equal(h_stat(h, "tcps_sc_stale"), 1);
    assert_int_equal(syncache_pcbcount(h->stack), 0);
    expect_old_dup_acked(h, &t);
    /* Reset by the client. */
    syn.seq += 10;
    h_inject(h, syn);
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = syn.seq + 1));
    h_inject(h, SEG(.flags = TH_RST, .seq = syn.seq + 1));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sc_reset"), 1);
    assert_int_equal(syncache_pcbcount(h->stack), 0);
    expect_old_dup_acked(h, &t);
    /* The accept queue full (backlog 16: 16 + 8 + 1 waiting) at its ACK. */
    for (uint16_t p = 1; p <= 25; p++) {
        h_inject(h, SEG(.flags = TH_SYN, .seq = 5, .sport = p));
        struct h_seg s = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .sport = p));
        h_inject(h, SEG(.flags = TH_ACK, .seq = 6, .ack = s.th.seq + 1, .sport = p));
    }
    h_expect_nothing(h);
    syn.seq += 10;
    h_inject(h, syn);
    sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = syn.seq + 1));
    h_inject(h, SEG(.flags = TH_ACK, .seq = syn.seq + 1, .ack = sa.th.seq + 1));
    h_expect(h, SEG(.flags = TH_RST, .seq = sa.th.seq + 1));
    assert_int_equal(h_stat(h, "tcps_listendrop"), 1);
    expect_old_dup_acked(h, &t);
    assert_int_equal(h_stat(h, "tcps_tw_reopened"), 0);
    h_free(h);
}

/* --- two stacks: a client hammering one server port ---------------------- */

struct pair {
    struct tcpc_memlink *link;
    struct tcpc_stack *cli, *srv;
    struct tcpc_addr ca, sa;
    tcpc_time_t now;
};

static void pair_new(struct pair *p, const char **cli_sys)
{
    p->link = tcpc_memlink_new(1);
    assert_non_null(p->link);
    assert_int_equal(tcpc_addr_parse("198.18.0.1", &p->ca), 0);
    assert_int_equal(tcpc_addr_parse("198.18.0.2", &p->sa), 0);
    p->now = 1 * SEC;
    for (int side = 0; side < 2; side++) {
        struct tcpc_config cfg;
        tcpc_config_init(&cfg);
        tcpc_memlink_configure(p->link, side, &cfg);
        cfg.local_addrs[0] = side == 0 ? p->ca : p->sa;
        cfg.nlocal_addrs = 1;
        cfg.use_seed = true;
        memset(cfg.seed, 0x11 * (side + 1), sizeof(cfg.seed));
        const char *why = NULL;
        assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.tcp.delayed_ack", 0, &why), 0);
        for (const char **s = side == 0 ? cli_sys : NULL; s && *s; s++) {
            char name[64];
            long long v;
            assert_int_equal(sscanf(*s, "%63[^=]=%lld", name, &v), 2);
            assert_int_equal(tcpc_config_sysctl(&cfg, name, v, &why), 0);
        }
        struct tcpc_stack **st = side == 0 ? &p->cli : &p->srv;
        assert_int_equal(tcpc_stack_new(&cfg, p->now, st), 0);
        tcpc_memlink_attach(p->link, side, *st);
    }
}

static void pair_del(struct pair *p)
{
    tcpc_stack_del(p->cli);
    tcpc_stack_del(p->srv);
    tcpc_memlink_del(p->link);
}

/*
 * n connections in a row from the client to server:80, each closed by the
 * client first, step microseconds apart. Returns how many connect() calls
 * failed with EADDRNOTAVAIL (every other failure fails the test).
 */
static unsigned hammer(struct pair *p, unsigned n, tcpc_time_t step)
{
    int l = tcpc_socket(p->srv, TCPC_AF_INET);
    assert_int_equal(tcpc_bind(p->srv, l, &p->sa, 80), 0);
    assert_int_equal(tcpc_listen(p->srv, l, 128), 0);
    unsigned notavail = 0;
    for (unsigned i = 0; i < n; i++) {
        p->now += step;
        int c = tcpc_socket(p->cli, TCPC_AF_INET);
        assert_true(c >= 0);
        int err = tcpc_connect(p->cli, c, &p->sa, 80);
        if (err == -EADDRNOTAVAIL) {
            notavail++;
            tcpc_close(p->cli, c);
            continue;
        }
        assert_int_equal(err, -EINPROGRESS);
        p->now = tcpc_memlink_run(p->link, p->now, p->now + 1);
        int s = tcpc_accept(p->srv, l, NULL, NULL);
        assert_true(s >= 0);
        assert_int_equal(tcpc_close(p->cli, c), 0);
        p->now = tcpc_memlink_run(p->link, p->now, p->now + 1);
        assert_int_equal(tcpc_close(p->srv, s), 0);
        p->now = tcpc_memlink_run(p->link, p->now, p->now + 1);
    }
    return notavail;
}

/* 200,000 connections over 28,000 ports, 50 us apart (10 s in all, well
 * inside 2 MSL = 60 s): with the default maxtcptw (auto-sized below half the
 * range) recycling keeps ports free; with room for every port in TIME_WAIT
 * the client takes TIME_WAIT 4-tuples over instead. No EADDRNOTAVAIL either
 * way. */
static void test_client_200k_connections(void **state)
{
    (void)state;
    for (int variant = 0; variant < 2; variant++) {
        const char *sys[] = {"net.inet.ip.portrange.first=30000",
                             "net.inet.ip.portrange.last=57999",
                             variant ? "net.inet.tcp.maxtcptw=100000" : NULL, NULL};
        struct pair p;
        pair_new(&p, sys);
        unsigned n = getenv("TW_HAMMER_N") ? (unsigned)atoi(getenv("TW_HAMMER_N")) : 200000;
        assert_int_equal(hammer(&p, n, 50), 0);
        const struct tcpc_stats *st = tcpc_stack_stats(p.cli);
        uint64_t reused = st->tcps_tw_reused, recycled = st->tcps_tw_recycles;
        printf("variant %d: %u connections, TIME_WAIT now %u, recycled %llu, taken over %llu\n",
               variant, n, tw_count(p.cli), (unsigned long long)recycled,
               (unsigned long long)reused);
        if (n >= 100000)
            assert_true(variant ? reused > 0 : recycled > 0);
        pair_del(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_replaces_connection),
        cmocka_unit_test(test_rst_ignored),
        cmocka_unit_test(test_syn_higher_seq_reopens),
        cmocka_unit_test(test_syn_newer_timestamp_reopens),
        cmocka_unit_test(test_syn_old_ignored),
        cmocka_unit_test(test_syn_rfc6191_details),
        cmocka_unit_test(test_duplicate_fin_rearms),
        cmocka_unit_test(test_data_acked_dupack_silent),
        cmocka_unit_test(test_ack_carries_timestamps),
        cmocka_unit_test(test_paws),
        cmocka_unit_test(test_expiry_exactly_2msl),
        cmocka_unit_test(test_recycle_at_maxtcptw),
        cmocka_unit_test(test_nolocaltimewait),
        cmocka_unit_test(test_client_reuse_timestamps),
        cmocka_unit_test(test_client_reuse_isn),
        cmocka_unit_test(test_bind_and_reuseaddr),
        cmocka_unit_test(test_listing),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_ipv4_bindany_wide_record),
        cmocka_unit_test(test_reopen_iss_above_old_snd_nxt),
        cmocka_unit_test(test_reopen_continues_timestamp_clock),
        cmocka_unit_test(test_reopen_never_answered_with_cookie),
        cmocka_unit_test(test_reopen_keeps_schedule_while_paused),
        cmocka_unit_test(test_reopen_without_room_keeps_record),
        cmocka_unit_test(test_reopen_without_listener_keeps_record),
        cmocka_unit_test(test_reopen_not_completing_keeps_record),
        cmocka_unit_test(test_client_200k_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
