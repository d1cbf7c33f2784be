/*
 * Long-lived connections, segment by segment: keepalive (SO_KEEPALIVE,
 * TCP_KEEPIDLE/KEEPINTVL/KEEPCNT, net.inet.tcp.always_keepalive) with
 * FreeBSD's probe <SEQ=SND.UNA-1><ACK=RCV.NXT> and its ETIMEDOUT drop,
 * TCP_USER_TIMEOUT on retransmissions and on keepalive, the FIN_WAIT_2
 * timeout (the idle rule and fast_finwait2_recycle), a FIN that arrives
 * out of order, and path-MTU black-hole detection.
 *
 * Keepalive here: idle 10 s, interval 1 s, 3 probes, unless a test says
 * otherwise.
 */
#include "tcpcore/listing.h"
#include "test_tcp_fixture.h"

static const char *const keep_sys[] = {
    "net.inet.tcp.keepidle=10000",
    "net.inet.tcp.keepintvl=1000",
    "net.inet.tcp.keepcnt=3",
    NULL,
};

static struct harness *keep_h(const char *extra)
{
    static const char *sys[8];
    size_t n = 0;
    for (; keep_sys[n]; n++)
        sys[n] = keep_sys[n];
    sys[n++] = extra;
    sys[n] = NULL;
    struct h_opts o = {.sysctls = sys};
    return h_new(&o);
}

static struct fx_conn keep_open(struct harness *h)
{
    return fx_passive(h, 1000, SEG(.mss = 1460));
}

/* A keepalive probe: no data, one below SND.UNA, our ACK. */
static void expect_probe(struct harness *h, const struct fx_conn *c)
{
    h_expect(h, SEG(.flags = TH_ACK, .seq = c->rcv - 1, .ack = c->snd, .len = 0));
    h_expect_nothing(h);
}

/* Walks the clock by tcpc_next_deadline up to `until`, the next deadline
 * that sends something: each wakeup before it is later than the last one
 * and sends nothing. A deadline that stayed behind after its timer moved
 * or went would stop the walk (at or before now) or skip past `until`. */
static tcpc_time_t settled_deadline(struct harness *h)
{
    /* Work due now (spare buffers set aside after a send, given back
     * after an ACK) is the embedder's to run first; it sends nothing. */
    for (int i = 0; tcpc_next_deadline(h->stack) <= h->now; i++) {
        assert_true(i < 2);
        h_advance(h, 0);
        h_expect_nothing(h);
    }
    return tcpc_next_deadline(h->stack);
}

static void walk_deadlines_to(struct harness *h, tcpc_time_t until)
{
    for (int wakeups = 0;; wakeups++) {
        tcpc_time_t next = settled_deadline(h);
        assert_true(next <= until);
        assert_true(wakeups < 64);
        h_advance(h, next - h->now);
        if (next == until)
            return;
        h_expect_nothing(h);
    }
}

/* tcpc_next_deadline follows a connection's timers as they move (the wheel
 * keeps its earliest deadline rather than searching for it): the
 * keepalive; an earlier retransmission once data is out; the keepalive
 * again, restarted, when the data is acknowledged; nothing once the
 * connection is aborted. */
static void test_next_deadline_follows_timers(void **state)
{
    (void)state;
    struct harness *h = keep_h(NULL);
    struct fx_conn c = keep_open(h);
    tcpc_time_t keep = h->now + 10 * SEC;
    assert_true(tcpc_next_deadline(h->stack) <= keep);
    h_advance(h, 1 * SEC);
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "data"));
    /* The retransmission (or its tail-loss probe) comes before the
     * keepalive would: the deadline moved earlier. */
    tcpc_time_t rexmt = settled_deadline(h);
    assert_true(rexmt > h->now && rexmt <= h->now + 1 * SEC);
    h_advance(h, 1 * MSEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4));
    h_expect_nothing(h);
    c.rcv += 4;
    walk_deadlines_to(h, h->now + 10 * SEC);
    expect_probe(h, &c);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_LINGER, 0), 0);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK));
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
    h_free(h);
}

/* Idle keepidle: a probe, then one a keepintvl; after keepcnt unanswered,
 * an RST and ETIMEDOUT. */
static void test_keepalive_probes_then_drop(void **state)
{
    (void)state;
    struct harness *h = keep_h(NULL);
    struct fx_conn c = keep_open(h);
    h_advance(h, 10 * SEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    expect_probe(h, &c);
    for (int i = 0; i < 2; i++) {
        h_advance(h, 1 * SEC - 1);
        h_expect_nothing(h);
        h_advance(h, 1);
        expect_probe(h, &c);
    }
    assert_int_equal(h_stat(h, "tcps_keepprobe"), 3);
    h_advance(h, 1 * SEC);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .ack = c.snd, .seq = c.rcv, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_keeptimeo"), 4);
    assert_int_equal(h_stat(h, "tcps_keepdrops"), 1);
    assert_int_equal(fx_so_error(h, c.sd), ETIMEDOUT);
    h_free(h);
}

/* The peer answers a probe: the connection stays, and the next probe
 * comes keepidle after the answer, not keepintvl after the probe. Data
 * counts as an answer as well. */
static void test_keepalive_answered(void **state)
{
    (void)state;
    struct harness *h = keep_h(NULL);
    struct fx_conn c = keep_open(h);
    h_advance(h, 10 * SEC);
    expect_probe(h, &c);
    h_advance(h, 500 * MSEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_expect_nothing(h);
    h_advance(h, 500 * MSEC); /* the check a keepintvl after the probe */
    h_advance(h, 9500 * MSEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    expect_probe(h, &c);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "x"));
    c.snd++;
    h_advance(h, 1 * SEC);
    h_flush(h); /* the delayed ACK of "x" */
    h_advance(h, 9 * SEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    expect_probe(h, &c);
    assert_int_equal(h_stat(h, "tcps_keepdrops"), 0);
    h_free(h);
}

/* A reset in answer (the peer lost the connection) ends it. */
static void test_keepalive_answered_with_rst(void **state)
{
    (void)state;
    struct harness *h = keep_h(NULL);
    struct fx_conn c = keep_open(h);
    h_advance(h, 10 * SEC);
    expect_probe(h, &c);
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd));
    h_expect_nothing(h);
    assert_int_equal(fx_so_error(h, c.sd), ECONNRESET);
    h_free(h);
}

/* always_keepalive 0: nothing without SO_KEEPALIVE; setting it arms the
 * timer keepidle from then, and a connection idle for longer than the
 * probes would take still gets a probe, and an interval to answer it,
 * before the drop. Clearing it stops the probes. */
static void test_keepalive_so_keepalive(void **state)
{
    (void)state;
    struct harness *h = keep_h("net.inet.tcp.always_keepalive=0");
    struct fx_conn c = keep_open(h);
    int v = -1;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_KEEPALIVE, &v), 0);
    assert_int_equal(v, 0);
    h_advance(h, 100 * SEC);
    h_expect_nothing(h);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_KEEPALIVE, 1), 0);
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_KEEPALIVE, &v), 0);
    assert_int_equal(v, 1);
    h_advance(h, 10 * SEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    expect_probe(h, &c);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_advance(h, 1 * SEC);
    h_advance(h, 9 * SEC);
    expect_probe(h, &c);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_KEEPALIVE, 0), 0);
    h_advance(h, 100 * SEC);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_keepdrops"), 0);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_KEEPALIVE, -1), 0); /* non-zero: on */
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_KEEPALIVE, &v), 0);
    assert_int_equal(v, 1);
    h_free(h);
}

/* Keepalive turned on for a connection idle past the whole limit: one
 * probe and one interval for the answer, then the drop (FreeBSD would drop
 * at once, without a probe). */
static void test_keepalive_late_start_probes_first(void **state)
{
    (void)state;
    struct harness *h = keep_h("net.inet.tcp.always_keepalive=0");
    struct fx_conn c = keep_open(h);
    h_advance(h, 100 * SEC);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_KEEPALIVE, 1), 0);
    h_advance(h, 10 * SEC);
    expect_probe(h, &c);
    h_advance(h, 1 * SEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .ack = c.snd, .seq = c.rcv, .len = 0));
    assert_int_equal(h_stat(h, "tcps_keepprobe"), 1);
    assert_int_equal(fx_so_error(h, c.sd), ETIMEDOUT);
    h_free(h);
}

/* TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT: read as the tunables until
 * set, then the socket's (0 goes back to the tunable); a listener's pass to
 * its children. */
static void test_keepalive_socket_options(void **state)
{
    (void)state;
    struct harness *h = keep_h(NULL);
    int lsd = h_listen(h);
    int v = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, lsd, TCPC_TCP_KEEPIDLE, &v), 0);
    assert_int_equal(v, 10);
    assert_int_equal(tcpc_getsockopt(h->stack, lsd, TCPC_TCP_KEEPINTVL, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(tcpc_getsockopt(h->stack, lsd, TCPC_TCP_KEEPCNT, &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_TCP_KEEPIDLE, 65536), -EINVAL);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_TCP_KEEPCNT, 256), -EINVAL);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_TCP_KEEPINTVL, -1), -EINVAL);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_TCP_KEEPIDLE, 5), 0);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_TCP_KEEPINTVL, 2), 0);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_TCP_KEEPCNT, 1), 0);
    assert_int_equal(tcpc_getsockopt(h->stack, lsd, TCPC_TCP_KEEPIDLE, &v), 0);
    assert_int_equal(v, 5);
    /* The child: idle 5 s, one probe, dropped 2 s later. */
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    struct fx_conn c = {.iss = sa.th.seq, .rcv = sa.th.seq + 1, .snd = 1001};
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv));
    c.sd = tcpc_accept(h->stack, lsd, NULL, NULL);
    assert_true(c.sd >= 0);
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_TCP_KEEPCNT, &v), 0);
    assert_int_equal(v, 1);
    h_advance(h, 5 * SEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    expect_probe(h, &c);
    h_advance(h, 2 * SEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .ack = c.snd, .seq = c.rcv, .len = 0));
    assert_int_equal(fx_so_error(h, c.sd), ETIMEDOUT);
    /* 0: the tunable again. */
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_TCP_KEEPIDLE, 0), 0);
    assert_int_equal(tcpc_getsockopt(h->stack, lsd, TCPC_TCP_KEEPIDLE, &v), 0);
    assert_int_equal(v, 10);
    h_free(h);
}

/* On a timestamped connection the probe carries timestamps (a peer that
 * enforces RFC 7323 3.2 would drop it otherwise), echoing TS.Recent. */
static void test_keepalive_probe_timestamps(void **state)
{
    (void)state;
    struct harness *h = keep_h(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460, .tsval = 500));
    h_advance(h, 10 * SEC);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv - 1, .ack = c.snd, .len = 0, .tsecr = 501));
    h_expect_nothing(h);
    h_free(h);
}

/* Keepalive covers ESTABLISHED to CLOSING: a connection in FIN_WAIT_2 (our
 * FIN acknowledged, the socket open) is not probed. */
static void test_keepalive_not_in_fin_wait_2(void **state)
{
    (void)state;
    struct harness *h = keep_h(NULL);
    struct fx_conn c = keep_open(h);
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_WR), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_advance(h, 100 * SEC);
    h_expect_nothing(h);
    h_free(h);
}

/* A passive open with a 100 ms handshake: RTO 300 ms. */
static struct fx_conn open_rtt100(struct harness *h)
{
    struct fx_conn c = {.irs = 1000, .snd = 1001};
    c.lsd = h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    c.iss = sa.th.seq;
    c.rcv = c.iss + 1;
    h_advance(h, 100 * MSEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = c.rcv));
    c.sd = tcpc_accept(h->stack, c.lsd, NULL, NULL);
    assert_true(c.sd >= 0);
    return c;
}

/* TCP_USER_TIMEOUT 1000 ms: retransmissions at 300 and 900 ms, then the
 * drop at 1000 ms exactly (the 1200 ms backoff is cut short), ETIMEDOUT. */
static void test_user_timeout_retransmission(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_rtt100(h);
    int v = -1;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_TCP_USER_TIMEOUT, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_USER_TIMEOUT, -1), -EINVAL);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_USER_TIMEOUT, 1000), 0);
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_TCP_USER_TIMEOUT, &v), 0);
    assert_int_equal(v, 1000);
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "data"));
    h_advance(h, 300 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "data"));
    h_advance(h, 600 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "data"));
    h_advance(h, 100 * MSEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .ack = c.snd, .seq = c.rcv + 4, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_timeoutdrop"), 1);
    assert_int_equal(fx_so_error(h, c.sd), ETIMEDOUT);
    h_free(h);
}

/* The user timeout replaces the retransmission count: with 200 s, the
 * connection outlives TCP_MAXRXTSHIFT (12) timeouts. */
static void test_user_timeout_outlasts_rexmit_count(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.rexmit_max=1000", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = open_rtt100(h);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_USER_TIMEOUT, 200000), 0);
    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    h_flush(h);
    for (int i = 0; i < 300; i++) {
        h_advance(h, 100 * MSEC);
        h_flush(h);
    }
    assert_true(h_stat(h, "tcps_rexmttimeo") > 13);
    assert_int_equal(h_stat(h, "tcps_timeoutdrop"), 0);
    assert_int_equal(fx_so_error(h, c.sd), 0);
    h_free(h);
}

/* With TCP_USER_TIMEOUT, keepalive drops once the idle time reaches it and
 * a probe has gone unanswered for an interval, not after keepcnt probes:
 * 12.5 s here gives probes at 10, 11 and 12 s and the drop at 13 s, where
 * keepcnt 8 would have waited until 18 s. */
static void test_user_timeout_bounds_keepalive(void **state)
{
    (void)state;
    struct harness *h = keep_h("net.inet.tcp.keepcnt=8");
    struct fx_conn c = keep_open(h);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_USER_TIMEOUT, 12500), 0);
    h_advance(h, 10 * SEC);
    expect_probe(h, &c);
    h_advance(h, 1 * SEC);
    expect_probe(h, &c);
    h_advance(h, 1 * SEC);
    expect_probe(h, &c);
    h_advance(h, 1 * SEC);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .ack = c.snd, .seq = c.rcv, .len = 0));
    assert_int_equal(h_stat(h, "tcps_keepdrops"), 1);
    assert_int_equal(fx_so_error(h, c.sd), ETIMEDOUT);
    h_free(h);
}

/* Closes c's socket and takes it to FIN_WAIT_2. */
static void to_fin_wait_2(struct harness *h, const struct fx_conn *c)
{
    assert_int_equal(tcpc_close(h->stack, c->sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c->rcv));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c->snd, .ack = c->rcv + 1));
    h_expect_nothing(h);
}

/* FreeBSD's FIN_WAIT_2 rule: an orphan stays while the peer is heard from
 * at least every keepcnt * keepintvl (3 s), checked every keepintvl; idle
 * longer, it goes (tcps_closed, and an RST for anything after). */
static void test_fin_wait_2_idle_timeout(void **state)
{
    (void)state;
    struct harness *h = keep_h(NULL);
    struct fx_conn c = keep_open(h);
    to_fin_wait_2(h, &c);
    uint64_t closed = h_stat(h, "tcps_closed");
    /* Heard from at 2.5 s: the check at 3 s and the next ones find it
     * busy until 3 s of silence have passed after that, at 6 s. */
    h_advance(h, 2500 * MSEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_advance(h, 500 * MSEC); /* each check on time: a late one sees a longer idle */
    h_advance(h, 1 * SEC);
    h_advance(h, 1 * SEC);
    h_advance(h, 1 * SEC - 1);
    assert_int_equal(h_stat(h, "tcps_closed"), closed);
    h_advance(h, 1);
    assert_int_equal(h_stat(h, "tcps_closed"), closed + 1);
    assert_int_equal(h_stat(h, "tcps_finwait2_drops"), 0);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_RST, .seq = c.rcv + 1, .len = 0));
    h_free(h);
}

/* fast_finwait2_recycle: finwait2_timeout after entering, busy or not. */
static void test_fin_wait_2_fast_recycle(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.fast_finwait2_recycle=1",
                         "net.inet.tcp.finwait2_timeout=2000", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = keep_open(h);
    to_fin_wait_2(h, &c);
    h_advance(h, 1 * SEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect_nothing(h);
    h_advance(h, 1 * SEC - 1);
    assert_int_equal(h_stat(h, "tcps_finwait2_drops"), 0);
    h_advance(h, 1);
    assert_int_equal(h_stat(h, "tcps_finwait2_drops"), 1);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_RST, .seq = c.rcv + 1, .len = 0));
    h_free(h);
}

/* An open socket, only shut for writing, waits in FIN_WAIT_2 as long as
 * the peer likes (it may still read). */
static void test_fin_wait_2_open_socket_waits(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.fast_finwait2_recycle=1",
                         "net.inet.tcp.finwait2_timeout=2000", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = keep_open(h);
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_WR), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    uint64_t closed = h_stat(h, "tcps_closed");
    h_advance(h, 20000 * SEC);
    assert_int_equal(h_stat(h, "tcps_closed"), closed);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1, .data = "late"));
    fx_recv_exact(h, c.sd, "late", 4);
    h_free(h);
}

/* A FIN after a hole waits with its data: when the hole fills, the FIN is
 * taken with it (ACK past the FIN, CLOSE_WAIT, end of stream after the
 * data), without the peer retransmitting it. */
static void test_out_of_order_fin_kept(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = keep_open(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_FIN, .seq = c.snd + 4, .ack = c.rcv, .data = "bbbb"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "aaaa"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 9, .len = 0));
    h_expect_nothing(h);
    fx_recv_exact(h, c.sd, "aaaabbbb", 8);
    char b[4];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 0);
    struct tcpc_info i;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &i), 0);
    assert_string_equal(tcpc_state_name(i.state), "CLOSE_WAIT");
    h_free(h);
}

/* A bare FIN right after out-of-order data is kept too; one that would
 * leave a hole of its own is not (the peer sends it again). */
static void test_out_of_order_bare_fin(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = keep_open(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 2, .ack = c.rcv, .data = "cc"));
    h_flush(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_FIN, .seq = c.snd + 6, .ack = c.rcv));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd, .len = 0));
    h_inject(h, SEG(.flags = TH_ACK | TH_FIN, .seq = c.snd + 4, .ack = c.rcv));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd, .len = 0));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "aa"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 5, .len = 0));
    h_expect_nothing(h);
    fx_recv_exact(h, c.sd, "aacc", 4);
    h_free(h);
}

/* Data past a FIN held out of order: the FIN is forgotten, the data taken;
 * filling the hole acknowledges the data only. */
static void test_out_of_order_fin_then_data_beyond(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = keep_open(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_FIN, .seq = c.snd + 2, .ack = c.rcv, .data = "bb"));
    h_flush(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 4, .ack = c.rcv, .data = "cc"));
    h_flush(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "aa"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 6, .len = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* Sends n bytes on c and takes the segments they go out in. */
static void send_flight(struct harness *h, const struct fx_conn *c, size_t n)
{
    assert_int_equal(tcpc_setsockopt(h->stack, c->sd, TCPC_TCP_NODELAY, 1), 0);
    assert_int_equal(tcpc_send(h->stack, c->sd, fx_pattern(n, 'a'), n), (ssize_t)n);
    h_flush(h);
}

/* The next retransmission (after its timeout): its length. */
static uint32_t next_rexmit_len(struct harness *h, uint32_t seq)
{
    fx_advance_until_output(h, 200 * SEC);
    struct h_seg s = h_expect(h, SEG(.seq = seq));
    h_flush(h);
    return (uint32_t)s.th.payload_len;
}

/* net.inet.tcp.pmtud_blackhole_detection=1, IPv4, MSS 1460: timeouts 1 at
 * 1460; 2 and 3 at pmtud_blackhole_mss (1200); 4 and 5 at mssdflt (536);
 * from 6 the MSS is given back. */
static void test_blackhole_v4(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.pmtud_blackhole_detection=1", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = keep_open(h);
    send_flight(h, &c, 3000);
    static const uint32_t want[] = {1460, 1200, 1200, 536, 536, 1460, 1460};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(next_rexmit_len(h, c.rcv), want[i]);
    assert_int_equal(h_stat(h, "tcps_pmtud_blackhole_activated"), 1);
    assert_int_equal(h_stat(h, "tcps_pmtud_blackhole_activated_min_mss"), 1);
    assert_int_equal(h_stat(h, "tcps_pmtud_blackhole_failed"), 1);
    h_free(h);
}

/* An ACK of the smaller segment shows the black hole: the MSS stays down. */
static void test_blackhole_helped(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.pmtud_blackhole_detection=1", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = keep_open(h);
    send_flight(h, &c, 3000);
    assert_int_equal(next_rexmit_len(h, c.rcv), 1460);
    assert_int_equal(next_rexmit_len(h, c.rcv), 1200);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1200));
    struct h_seg s = h_expect(h, SEG(.seq = c.rcv + 1200));
    assert_int_equal(s.th.payload_len, 1200);
    struct tcpc_info i;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &i), 0);
    assert_int_equal(i.snd_mss, 1200);
    assert_int_equal(h_stat(h, "tcps_pmtud_blackhole_failed"), 0);
    h_free(h);
}

/* IPv6: the first try (1220) is also the smallest (the 1280-byte minimum
 * MTU's MSS), so timeouts 2 and 3 use it and 4 gives the MSS back. Mode 2
 * (IPv4 only) leaves IPv6 alone. */
static void test_blackhole_v6(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.pmtud_blackhole_detection=3", NULL};
    struct h_opts o = {.v6 = true, .sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = keep_open(h);
    send_flight(h, &c, 3000);
    static const uint32_t want[] = {1440, 1220, 1220, 1440};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(next_rexmit_len(h, c.rcv), want[i]);
    assert_int_equal(h_stat(h, "tcps_pmtud_blackhole_activated"), 0);
    assert_int_equal(h_stat(h, "tcps_pmtud_blackhole_activated_min_mss"), 1);
    assert_int_equal(h_stat(h, "tcps_pmtud_blackhole_failed"), 1);
    h_free(h);

    const char *sys2[] = {"net.inet.tcp.pmtud_blackhole_detection=2", NULL};
    struct h_opts o2 = {.v6 = true, .sysctls = sys2};
    h = h_new(&o2);
    c = keep_open(h);
    send_flight(h, &c, 3000);
    for (int i = 0; i < 4; i++)
        assert_int_equal(next_rexmit_len(h, c.rcv), 1440);
    h_free(h);
}

/* Off by default; and a segment shorter than the MSS in flight says nothing
 * about the path's MTU. */
static void test_blackhole_off_and_short_segments(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = keep_open(h);
    send_flight(h, &c, 3000);
    for (int i = 0; i < 5; i++)
        assert_int_equal(next_rexmit_len(h, c.rcv), 1460);
    h_free(h);
    const char *sys[] = {"net.inet.tcp.pmtud_blackhole_detection=1", NULL};
    struct h_opts o = {.sysctls = sys};
    h = h_new(&o);
    c = keep_open(h);
    send_flight(h, &c, 1000);
    for (int i = 0; i < 5; i++)
        assert_int_equal(next_rexmit_len(h, c.rcv), 1000);
    assert_int_equal(h_stat(h, "tcps_pmtud_blackhole_activated"), 0);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keepalive_probes_then_drop),
        cmocka_unit_test(test_next_deadline_follows_timers),
        cmocka_unit_test(test_keepalive_answered),
        cmocka_unit_test(test_keepalive_answered_with_rst),
        cmocka_unit_test(test_keepalive_so_keepalive),
        cmocka_unit_test(test_keepalive_late_start_probes_first),
        cmocka_unit_test(test_keepalive_socket_options),
        cmocka_unit_test(test_keepalive_probe_timestamps),
        cmocka_unit_test(test_keepalive_not_in_fin_wait_2),
        cmocka_unit_test(test_user_timeout_retransmission),
        cmocka_unit_test(test_user_timeout_outlasts_rexmit_count),
        cmocka_unit_test(test_user_timeout_bounds_keepalive),
        cmocka_unit_test(test_fin_wait_2_idle_timeout),
        cmocka_unit_test(test_fin_wait_2_fast_recycle),
        cmocka_unit_test(test_fin_wait_2_open_socket_waits),
        cmocka_unit_test(test_out_of_order_fin_kept),
        cmocka_unit_test(test_out_of_order_bare_fin),
        cmocka_unit_test(test_out_of_order_fin_then_data_beyond),
        cmocka_unit_test(test_blackhole_v4),
        cmocka_unit_test(test_blackhole_helped),
        cmocka_unit_test(test_blackhole_v6),
        cmocka_unit_test(test_blackhole_off_and_short_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
