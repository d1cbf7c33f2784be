/*
 * Every RFC 9293 close path, segment by segment: active close through
 * FIN_WAIT_1, FIN_WAIT_2 and TIME_WAIT (closed after exactly 2 MSL),
 * passive close through CLOSE_WAIT and LAST_ACK, simultaneous close through
 * CLOSING, half-close, FIN retransmission, abortive closes (unread data,
 * SO_LINGER 0), TIME_WAIT's own rules (retransmitted FIN, RFC 1337), and
 * data arriving for an orphaned connection.
 *
 * MSL is 1 s here, so TIME_WAIT lasts 2 s. Whether a connection still
 * exists is asked on the wire: a bare ACK for it draws nothing while it
 * exists and an RST <SEQ=SEG.ACK> once it is gone.
 */
#include "test_tcp_fixture.h"
#include "tcpcore/listing.h"

#define TWO_MSL (2 * SEC)

static struct harness *new_h(void)
{
    static const char *sys[] = {"net.inet.tcp.msl=1000", NULL};
    struct h_opts o = {.sysctls = sys};
    return h_new(&o);
}

static struct fx_conn open_plain(struct harness *h)
{
    return fx_passive(h, 1000, SEG(.mss = 1460));
}

/* The connection is still there: an in-window bare ACK draws nothing. */
static void expect_alive(struct harness *h, uint32_t seq, uint32_t ack)
{
    h_inject(h, SEG(.flags = TH_ACK, .seq = seq, .ack = ack));
    h_expect_nothing(h);
}

/* The connection is gone: the same ACK draws an RST <SEQ=SEG.ACK>. */
static void expect_gone(struct harness *h, uint32_t seq, uint32_t ack)
{
    h_inject(h, SEG(.flags = TH_ACK, .seq = seq, .ack = ack));
    h_expect(h, SEG(.flags = TH_RST, .seq = ack, .len = 0));
    h_expect_nothing(h);
}

/* ESTABLISHED -close-> FIN_WAIT_1 -ACK-> FIN_WAIT_2 -FIN-> TIME_WAIT
 * -2MSL-> CLOSED. */
static void test_active_close(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_WR), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, "x", 1), -EPIPE);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1)); /* FIN_WAIT_2 */
    h_expect_nothing(h);
    h_events(h, c.sd);
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 1)); /* TIME_WAIT */
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 1, .len = 0));
    h_expect_nothing(h);
    uint32_t ev = h_events(h, c.sd);
    assert_true(ev & TCPC_EV_READABLE);
    assert_true(ev & TCPC_EV_HUP);
    char b[4];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 0);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_advance(h, TWO_MSL - 1);
    h_expect_nothing(h);
    expect_alive(h, c.snd + 1, c.rcv + 1);
    h_advance(h, 1);
    h_expect_nothing(h);
    expect_gone(h, c.snd + 1, c.rcv + 1);
    h_free(h);
}

/* The same through tcpc_close alone (the descriptor goes at once). */
static void test_active_close_orphan(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    assert_int_equal(tcpc_send(h->stack, c.sd, "x", 1), -EBADF);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 1));
    h_advance(h, TWO_MSL - 1);
    expect_alive(h, c.snd + 1, c.rcv + 1);
    h_advance(h, 1);
    expect_gone(h, c.snd + 1, c.rcv + 1);
    assert_true(h_stat(h, "tcps_closed") >= 1);
    h_free(h);
}

/* FIN_WAIT_1 receiving FIN+ACK of our FIN goes straight to TIME_WAIT. */
static void test_fin_wait_1_fin_ack(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 1, .len = 0));
    h_expect_nothing(h);
    h_advance(h, TWO_MSL - 1);
    expect_alive(h, c.snd + 1, c.rcv + 1);
    h_advance(h, 1);
    expect_gone(h, c.snd + 1, c.rcv + 1);
    h_free(h);
}

/* ESTABLISHED -FIN-> CLOSE_WAIT -close-> LAST_ACK -ACK-> CLOSED (no
 * TIME_WAIT on this side). */
static void test_passive_close(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "bye"));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 4, .len = 0));
    h_expect_nothing(h);
    assert_true(h_events(h, c.sd) & TCPC_EV_READABLE);
    fx_recv_exact(h, c.sd, "bye", 3);
    char b[4];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 0);
    /* CLOSE_WAIT still sends. */
    assert_int_equal(tcpc_send(h->stack, c.sd, "ok", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .ack = c.snd + 4, .data = "ok"));
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv + 2, .ack = c.snd + 4, .len = 0));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 4, .ack = c.rcv + 2));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 4, .ack = c.rcv + 3));
    h_expect_nothing(h);
    expect_gone(h, c.snd + 4, c.rcv + 3);
    h_free(h);
}

/* LAST_ACK retransmits its FIN until acknowledged. */
static void test_last_ack_fin_rexmit(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h); /* RTO = rexmit_min, 200 ms */
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 1));
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd + 1));
    h_advance(h, 200 * MSEC);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd + 1, .len = 0));
    h_advance(h, 400 * MSEC);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd + 1, .len = 0));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 1, .ack = c.rcv + 1));
    h_advance(h, 10 * SEC);
    h_expect_nothing(h);
    expect_gone(h, c.snd + 1, c.rcv + 1);
    h_free(h);
}

/* FIN_WAIT_1 retransmits its FIN with backoff. */
static void test_fin_retransmit(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv));
    h_advance(h, 200 * MSEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_advance(h, 400 * MSEC - 1);
    h_expect_nothing(h);
    h_advance(h, 1);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* The FIN follows queued data: data first, FIN on the last segment or
 * right after it. */
static void test_fin_after_data(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, "abc", 3), 3);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "abc"));
    assert_int_equal(tcpc_send(h->stack, c.sd, "def", 3), 3); /* held by Nagle */
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 3));
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK | TH_PSH, .seq = c.rcv + 3, .data = "def"));
    h_expect_nothing(h);
    h_free(h);
}

/* FIN_WAIT_1 -FIN-> CLOSING -ACK-> TIME_WAIT. */
static void test_simultaneous_close(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv)); /* crossed */
    /* The ACK of the peer's FIN repeats ours, as FreeBSD's does. */
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd + 1, .len = 0));
    h_expect_nothing(h);
    /* CLOSING still retransmits its FIN. */
    h_advance(h, 200 * MSEC);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd + 1));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 1, .ack = c.rcv + 1)); /* TIME_WAIT */
    h_expect_nothing(h);
    h_advance(h, TWO_MSL - 1);
    expect_alive(h, c.snd + 1, c.rcv + 1);
    h_advance(h, 1);
    expect_gone(h, c.snd + 1, c.rcv + 1);
    h_free(h);
}

/* Half-close: after shutdown(WR) the connection still receives. */
static void test_half_close_receives(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_WR), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    for (int i = 0; i < 3; i++) {
        h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 2 * (uint32_t)i, .ack = c.rcv + 1,
                        .data = "zz"));
    }
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 4));
    h_advance(h, 40 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 6));
    fx_recv_exact(h, c.sd, "zzzzzz", 6);
    assert_int_equal(tcpc_send(h->stack, c.sd, "x", 1), -EPIPE);
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd + 6, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 7));
    char b[4];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 0);
    h_free(h);
}

/* The peer half-closes; we keep sending in CLOSE_WAIT (covered above)
 * and shutdown(RD) discards what arrives. */
static void test_shutdown_rd(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_RD), 0);
    h_expect_nothing(h);
    char b[4];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 0);
    assert_int_equal(tcpc_send(h->stack, c.sd, "ok", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .data = "ok"));
    h_free(h);
}

/* RFC 9293 3.10.4 / RFC 2525 2.17: closing with unread data resets. */
static void test_close_with_unread_data_resets(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "unread"));
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .seq = c.rcv, .ack = c.snd + 6, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_drops"), 1);
    expect_gone(h, c.snd + 6, c.rcv);
    h_free(h);
}

/* SO_LINGER 0: close resets, queued data or not. */
static void test_linger_zero_resets(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 0));
    assert_int_equal(tcpc_send(h->stack, c.sd, "queued", 6), 6);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_LINGER, 0), 0);
    int v = -1;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_LINGER, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_expect_nothing(h);
    h_advance(h, 10 * SEC);
    h_expect_nothing(h);
    expect_gone(h, c.snd, c.rcv);
    h_free(h);
}

/* SO_LINGER above 0: every call is non-blocking, so close never waits,
 * as FreeBSD's soclose does not for a non-blocking socket; the close is
 * the graceful one, the queued data and the FIN go, and no RST follows
 * when the linger time has passed. */
static void test_linger_positive_closes_gracefully(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    int v = -1;
    /* The longest linger kept, and one past it refused as FreeBSD does. */
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_LINGER, 32767), 0);
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_LINGER, &v), 0);
    assert_int_equal(v, 32767);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_LINGER, 32768), -EDOM);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_LINGER, 5), 0);
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_LINGER, &v), 0);
    assert_int_equal(v, 5);
    /* Unsent data behind a shut window when close is called. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 0));
    assert_int_equal(tcpc_send(h->stack, c.sd, "queued", 6), 6);
    h_expect_nothing(h);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH | TH_FIN, .seq = c.rcv, .data = "queued"));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 7));
    h_advance(h, 6 * SEC); /* past the linger time: no RST, FIN_WAIT_2 goes on */
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_drops"), 0);
    h_free(h);
}

/* Brings c into TIME_WAIT through an active close. */
static void to_time_wait(struct harness *h, struct fx_conn *c)
{
    assert_int_equal(tcpc_close(h->stack, c->sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c->rcv));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c->snd, .ack = c->rcv + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c->rcv + 1, .ack = c->snd + 1));
    h_expect_nothing(h);
}

/* RFC 9293 3.10.7.4 TIME-WAIT: a retransmitted FIN is acknowledged and
 * the 2 MSL timeout restarted. */
static void test_time_wait_fin_reacked_and_restarted(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    to_time_wait(h, &c);
    h_advance(h, 1 * SEC);
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 1, .len = 0));
    h_expect_nothing(h);
    h_advance(h, TWO_MSL - 1); /* 3 s after entering, 2 s - 1 after the FIN */
    expect_alive(h, c.snd + 1, c.rcv + 1);
    h_advance(h, 1);
    expect_gone(h, c.snd + 1, c.rcv + 1);
    h_free(h);
}

/* RFC 1337: TIME_WAIT ignores RSTs (no assassination). */
static void test_time_wait_ignores_rst(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    to_time_wait(h, &c);
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 1));
    h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = c.snd + 1, .ack = c.rcv + 1));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 1));
    h_free(h);
}

/* Data for a connection whose descriptor is closed cannot be delivered:
 * RST, at SEG.ACK so that an RFC 5961 peer takes it. */
static void test_data_to_orphan_resets(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv));
    /* The peer has not seen our FIN yet: its ACK is c.rcv. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "late"));
    h_expect(h, SEG(.flags = TH_RST, .seq = c.rcv, .len = 0));
    h_expect_nothing(h);
    assert_true(h_stat(h, "tcps_rcvafterclose") >= 1);
    expect_gone(h, c.snd + 4, c.rcv + 1);
    h_free(h);
}

static void test_data_to_orphan_fin_wait_2(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1, .data = "late"));
    h_expect(h, SEG(.flags = TH_RST, .seq = c.rcv + 1, .len = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* An orphan in FIN_WAIT_2 does not wait forever for the peer's FIN: by
 * FreeBSD's rule, once it has heard nothing for keepcnt * keepintvl (8 x
 * 75 s), at the check that follows, every keepintvl (tests/
 * test_tcp_keepalive.c has the rest). */
static void test_orphan_fin_wait_2_times_out(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    uint64_t closed = h_stat(h, "tcps_closed");
    h_advance(h, 600 * SEC); /* the first check: idle 600 s, not more */
    h_advance(h, 75 * SEC - 1);
    assert_int_equal(h_stat(h, "tcps_closed"), closed);
    h_advance(h, 1);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_closed"), closed + 1);
    expect_gone(h, c.snd, c.rcv + 1);
    h_free(h);
}

/* The peer resets a connection in CLOSE_WAIT: ECONNRESET. */
static void test_rst_in_close_wait(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_expect(h, SEG(.flags = TH_ACK));
    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd + 1));
    h_expect_nothing(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, "x", 1), -ECONNRESET);
    h_free(h);
}

/* tcpdrop on an established connection (tcpc_drop_connection): RST|ACK at
 * the connection's own SND.NXT with an ACK of everything received, the
 * descriptor reads ECONNABORTED, and the 4-tuple is free: the peer's next
 * segment draws a plain RST. */
static void test_tcpdrop_established_sends_rst_ack(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    uint64_t drops = h_stat(h, "tcps_drops");
    assert_int_equal(tcpc_drop_connection(h->stack, &h->local, h->lport, &h->peer, h->pport), 0);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_drops"), drops + 1);
    assert_true(h_events(h, c.sd) & TCPC_EV_HUP);
    char b[4];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -ECONNABORTED);
    expect_gone(h, c.snd, c.rcv);
    assert_int_equal(tcpc_drop_connection(h->stack, &h->local, h->lport, &h->peer, h->pport),
                     -ENOENT);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_free(h);
}

/* tcpdrop on a TIME_WAIT record: it goes at once and says nothing to the
 * peer; the ACK that the record would have absorbed now draws an RST. */
static void test_tcpdrop_time_wait_is_silent(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 1, .len = 0));
    h_expect_nothing(h);
    expect_alive(h, c.snd + 1, c.rcv + 1);
    assert_int_equal(tcpc_drop_connection(h->stack, &h->local, h->lport, &h->peer, h->pport), 0);
    h_expect_nothing(h);
    expect_gone(h, c.snd + 1, c.rcv + 1);
    h_free(h);
}

/* What tcpdrop cannot name: a wildcard end, a zero port, mixed families;
 * nothing is sent and the connection stays. */
static void test_tcpdrop_refuses_what_is_no_4_tuple(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    struct tcpc_addr any = tcpc_addr_v4(0), v6;
    assert_int_equal(tcpc_addr_parse("2001:db8::1", &v6), 0);
    assert_int_equal(tcpc_drop_connection(h->stack, &any, h->lport, &h->peer, h->pport), -EINVAL);
    assert_int_equal(tcpc_drop_connection(h->stack, &h->local, 0, &h->peer, h->pport), -EINVAL);
    assert_int_equal(tcpc_drop_connection(h->stack, &h->local, h->lport, &v6, h->pport), -EINVAL);
    assert_int_equal(tcpc_drop_connection(h->stack, &h->local, h->lport, &h->peer, 1), -ENOENT);
    h_expect_nothing(h);
    expect_alive(h, c.snd, c.rcv);
    h_free(h);
}

/* Simultaneous close where the peer's FIN comes again, now with the ACK of
 * ours: the segment ends exactly at RCV.NXT, so its FIN is old, but its ACK
 * is news and is taken (as Linux and FreeBSD take it): TIME_WAIT at once,
 * with an ACK, and the socket, still open, reads TIME_WAIT. */
static void test_retransmitted_fin_acking_ours_ends_closing(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_WR), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv)); /* crossed */
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd + 1, .len = 0));
    uint64_t dups = h_stat(h, "tcps_rcvduppack");
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 1)); /* again */
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 1, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvduppack"), dups + 1);
    struct tcpc_info info;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &info), 0);
    assert_string_equal(tcpc_state_name(info.state), "TIME_WAIT");
    /* No retransmission of our FIN: CLOSING is over. */
    h_advance(h, 1 * SEC);
    h_expect_nothing(h);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_free(h);
}

/* A segment older than that (ending before RCV.NXT) stays unacceptable:
 * answered with an ACK of where we are, its ACK field not taken. */
static void test_older_duplicate_keeps_closing(void **state)
{
    (void)state;
    struct harness *h = new_h();
    struct fx_conn c = open_plain(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .data = "abcd"));
    c.snd += 4;
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_WR), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv)); /* crossed */
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd + 1, .len = 0));
    /* The old data again, wholly before RCV.NXT, with the ACK of our FIN. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd - 4, .ack = c.rcv + 1, .data = "ab"));
    /* CLOSING's ACK repeats our FIN (as in test_simultaneous_close). */
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd + 1, .len = 0));
    h_expect_nothing(h);
    struct tcpc_info info;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &info), 0);
    assert_string_equal(tcpc_state_name(info.state), "CLOSING");
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active_close),
        cmocka_unit_test(test_active_close_orphan),
        cmocka_unit_test(test_fin_wait_1_fin_ack),
        cmocka_unit_test(test_passive_close),
        cmocka_unit_test(test_last_ack_fin_rexmit),
        cmocka_unit_test(test_fin_retransmit),
        cmocka_unit_test(test_fin_after_data),
        cmocka_unit_test(test_simultaneous_close),
        cmocka_unit_test(test_half_close_receives),
        cmocka_unit_test(test_shutdown_rd),
        cmocka_unit_test(test_close_with_unread_data_resets),
        cmocka_unit_test(test_linger_zero_resets),
        cmocka_unit_test(test_linger_positive_closes_gracefully),
        cmocka_unit_test(test_time_wait_fin_reacked_and_restarted),
        cmocka_unit_test(test_time_wait_ignores_rst),
        cmocka_unit_test(test_data_to_orphan_resets),
        cmocka_unit_test(test_data_to_orphan_fin_wait_2),
        cmocka_unit_test(test_orphan_fin_wait_2_times_out),
        cmocka_unit_test(test_rst_in_close_wait),
        cmocka_unit_test(test_retransmitted_fin_acking_ours_ends_closing),
        cmocka_unit_test(test_older_duplicate_keeps_closing),
        cmocka_unit_test(test_tcpdrop_established_sends_rst_ack),
        cmocka_unit_test(test_tcpdrop_time_wait_is_silent),
        cmocka_unit_test(test_tcpdrop_refuses_what_is_no_4_tuple),
    };
    return cmocka_run_group_tests_name("tcp_close", tests, NULL, NULL);
}
