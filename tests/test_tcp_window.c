/*
 * RFC 9293 3.10.7.4's first check, segment by segment: which segments a
 * synchronized connection accepts, by the four rows of the acceptability
 * table (zero or non-zero length against a zero or open window), at and
 * around every edge (RCV.NXT-1, RCV.NXT, RCV.NXT+RCV.WND-1,
 * RCV.NXT+RCV.WND, far beyond), with one allowance beyond the table: a
 * segment that ends exactly at RCV.NXT (a retransmission of the last thing
 * received, such as a FIN again with the ACK of ours) keeps its ACK field,
 * as Linux and FreeBSD keep it. An unacceptable segment draws an ACK
 * <SEQ=SND.NXT><ACK=RCV.NXT> and changes nothing: its ACK field does not
 * move snd_una and its window does not replace the send window. Then the
 * attack this protects against: a blind attacker who knows only the
 * 4-tuple and sends bare ACKs far beyond the window must not reset an
 * orphaned connection in FIN_WAIT_1, FIN_WAIT_2, CLOSING or LAST_ACK.
 *
 * The connection's own sequence variables are read from its control block
 * to say exactly what did not move.
 */
#include "test_tcp_fixture.h"

#include <stdio.h>

#include "tcp/tcp_demux.h"
#include "tcp/tcp_var.h"

/* net.inet.tcp.recvspace: the window the stack offers; three segments of
 * 1,460, so that the rounding to the MSS keeps it. */
#define RCV_WND  4380u
#define PEER_WIN 1000u /* the window every crafted segment announces */

static struct tcpcb *win_tcb(struct harness *h)
{
    struct tcpcb *tp = demux_lookup_exact(h->stack, &h->peer, h->pport, &h->local, h->lport);
    assert_non_null(tp);
    return tp;
}

/* ---- The acceptability table ------------------------------------------- */

/*
 * A connection with RCV.WND = RCV_WND (or 0 when shut: the peer filled it)
 * and 4 bytes of ours unacknowledged, so that a segment's ACK field
 * (c.rcv + 4) visibly moves snd_una when the segment is taken.
 */
struct win {
    struct harness *h;
    struct fx_conn c;
    uint32_t nxt; /* RCV.NXT */
    uint32_t wnd; /* RCV.WND */
};

static struct win win_open(bool shut)
{
    static const char *sys[] = {"net.inet.tcp.recvspace=4380", "kern.ipc.maxsockets=64", NULL};
    struct h_opts o = {.sysctls = sys};
    struct win w = {.h = h_new(&o)};
    w.c = fx_passive(w.h, 1000, SEG(.mss = 1460));
    assert_int_equal(tcpc_send(w.h->stack, w.c.sd, "abcd", 4), 4);
    h_expect(w.h, SEG(.flags = TH_ACK | TH_PSH, .seq = w.c.rcv, .data = "abcd"));
    w.nxt = w.c.snd;
    w.wnd = RCV_WND;
    if (shut) {
        h_inject(w.h, SEG(.flags = TH_ACK, .seq = w.nxt, .ack = w.c.rcv,
                          .data = fx_pattern(RCV_WND, 'a')));
        h_advance(w.h, 40 * MSEC);
        h_expect(w.h, SEG(.flags = TH_ACK, .ack = w.nxt + RCV_WND, .win = 0, .len = 0));
        w.nxt += RCV_WND;
        w.wnd = 0;
    }
    h_expect_nothing(w.h);
    return w;
}

/* One probe: off from RCV.NXT, len bytes of text, maybe a FIN. */
struct win_case {
    const char *what;
    int32_t off;
    uint32_t len;
    bool fin;
    bool taken;         /* acceptable (or the zero-window ACK allowance) */
    uint32_t nxt_after; /* RCV.NXT - (old RCV.NXT) once taken */
};

static void win_check_one(bool shut, const struct win_case *k)
{
    print_message("  %s window, %s\n", shut ? "zero" : "open", k->what);
    struct win w = win_open(shut);
    struct tcpcb *tp = win_tcb(w.h);
    uint32_t una = tp->snd_una, swnd = tp->snd_wnd;
    uint64_t before = h_stat(w.h, "tcps_rcvpackafterwin") + h_stat(w.h, "tcps_rcvduppack");
    struct seg s = SEG(.flags = TH_ACK | (k->fin ? TH_FIN : 0), .seq = w.nxt + (uint32_t)k->off,
                       .ack = w.c.rcv + 4, .win = PEER_WIN);
    if (k->len) {
        s.data = fx_pattern(k->len, 'k');
        s.len = k->len;
    }
    h_inject(w.h, s);
    tp = win_tcb(w.h);
    if (k->taken) {
        assert_int_equal(tp->snd_una, w.c.rcv + 4);
        assert_int_equal(tp->snd_wnd, PEER_WIN);
        assert_int_equal(tp->rcv_nxt, w.nxt + k->nxt_after);
        h_flush(w.h);
    } else {
        h_expect(w.h,
                 SEG(.flags = TH_ACK, .seq = w.c.rcv + 4, .ack = w.nxt, .win = w.wnd, .len = 0));
        h_expect_nothing(w.h);
        assert_int_equal(tp->snd_una, una);
        assert_int_equal(tp->snd_wnd, swnd);
        assert_int_equal(tp->rcv_nxt, w.nxt);
        assert_int_equal(tp->rcv_reass.nranges, 0);
        assert_int_equal(tp->state, TCPS_ESTABLISHED);
        uint64_t after = h_stat(w.h, "tcps_rcvpackafterwin") + h_stat(w.h, "tcps_rcvduppack");
        assert_int_equal(after, before + 1);
    }
    h_free(w.h);
}

static void win_check(bool shut, const struct win_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        win_check_one(shut, &cases[i]);
}

#define FAR (1 << 30)

/* Row 2: SEG.LEN = 0, RCV.WND > 0: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND. */
static void test_acceptable_empty_segment_open_window(void **state)
{
    (void)state;
    static const struct win_case cases[] = {
        {"empty at RCV.NXT-1", -1, 0, false, false, 0},
        {"empty at RCV.NXT", 0, 0, false, true, 0},
        {"empty at RCV.NXT+1", 1, 0, false, true, 0},
        {"empty at RCV.NXT+RCV.WND-1", RCV_WND - 1, 0, false, true, 0},
        {"empty at RCV.NXT+RCV.WND", RCV_WND, 0, false, false, 0},
        {"empty at RCV.NXT+RCV.WND+1", RCV_WND + 1, 0, false, false, 0},
        {"empty 2^30 beyond", FAR, 0, false, false, 0},
        {"empty 2^30 before", -FAR, 0, false, false, 0},
    };
    win_check(false, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Row 4: SEG.LEN > 0, RCV.WND > 0: the first or the last octet in the
 * window. SEG.LEN counts the FIN; a FIN just past the window's last octet
 * is kept (it needs no buffer room). */
static void test_acceptable_data_open_window(void **state)
{
    (void)state;
    static const struct win_case cases[] = {
        {"10 bytes ending at RCV.NXT-2", -11, 10, false, false, 0},
        {"10 bytes ending at RCV.NXT-1 (keeps its ACK)", -10, 10, false, true, 0},
        {"1 byte at RCV.NXT-1 (ends at RCV.NXT: keeps its ACK)", -1, 1, false, true, 0},
        {"10 bytes ending at RCV.NXT", -9, 10, false, true, 1},
        {"2 bytes from RCV.NXT-1", -1, 2, false, true, 1},
        {"10 bytes at RCV.NXT", 0, 10, false, true, 10},
        {"10 bytes ending at RCV.NXT+RCV.WND-1", RCV_WND - 10, 10, false, true, 0},
        {"10 bytes from RCV.NXT+RCV.WND-1", RCV_WND - 1, 10, false, true, 0},
        {"10 bytes at RCV.NXT+RCV.WND", RCV_WND, 10, false, false, 0},
        {"1 byte at RCV.NXT+RCV.WND", RCV_WND, 1, false, false, 0},
        {"10 bytes 2^30 beyond", FAR, 10, false, false, 0},
        {"old data with its FIN at RCV.NXT", -10, 10, true, true, 1},
        {"a FIN alone at RCV.NXT-1 (retransmitted: keeps its ACK)", -1, 0, true, true, 0},
        {"a FIN alone at RCV.NXT-2", -2, 0, true, false, 0},
        {"a FIN alone at RCV.NXT", 0, 0, true, true, 1},
        {"a window of data, its FIN just past it", 0, RCV_WND, true, true, RCV_WND + 1},
        {"a FIN alone at RCV.NXT+RCV.WND", RCV_WND, 0, true, false, 0},
    };
    win_check(false, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Row 1: SEG.LEN = 0, RCV.WND = 0: SEG.SEQ = RCV.NXT only. */
static void test_acceptable_empty_segment_zero_window(void **state)
{
    (void)state;
    static const struct win_case cases[] = {
        {"empty at RCV.NXT-1", -1, 0, false, false, 0},
        {"empty at RCV.NXT", 0, 0, false, true, 0},
        {"empty at RCV.NXT+1", 1, 0, false, false, 0},
        {"empty 2^30 beyond", FAR, 0, false, false, 0},
    };
    win_check(true, cases, sizeof(cases) / sizeof(cases[0]));
}

/* Row 3: SEG.LEN > 0, RCV.WND = 0: never acceptable, except that a
 * segment at exactly RCV.NXT (the peer's window probe) keeps its ACK; its
 * text is dropped, a FIN alone taken. */
static void test_acceptable_data_zero_window(void **state)
{
    (void)state;
    static const struct win_case cases[] = {
        {"1 byte at RCV.NXT-1 (ends at RCV.NXT: keeps its ACK)", -1, 1, false, true, 0},
        {"2 bytes at RCV.NXT-2", -2, 2, false, true, 0},
        {"1 byte at RCV.NXT-2", -2, 1, false, false, 0},
        {"2 bytes from RCV.NXT-1", -1, 2, false, false, 0},
        {"a probe byte at RCV.NXT", 0, 1, false, true, 0},
        {"10 bytes at RCV.NXT", 0, 10, false, true, 0},
        {"1 byte at RCV.NXT+1", 1, 1, false, false, 0},
        {"10 bytes 2^30 beyond", FAR, 10, false, false, 0},
        {"a FIN alone at RCV.NXT", 0, 0, true, true, 1},
        {"a FIN alone at RCV.NXT+1", 1, 0, true, false, 0},
    };
    win_check(true, cases, sizeof(cases) / sizeof(cases[0]));
}

/* The probe at RCV.NXT is answered with the unchanged zero window and
 * counted; its byte is not taken. */
static void test_zero_window_probe_answered(void **state)
{
    (void)state;
    struct win w = win_open(true);
    h_inject(w.h, SEG(.flags = TH_ACK, .seq = w.nxt, .ack = w.c.rcv + 4, .data = "z"));
    h_expect(w.h, SEG(.flags = TH_ACK, .seq = w.c.rcv + 4, .ack = w.nxt, .win = 0, .len = 0));
    h_expect_nothing(w.h);
    assert_int_equal(h_stat(w.h, "tcps_rcvwinprobe"), 1);
    assert_int_equal(win_tcb(w.h)->snd_una, w.c.rcv + 4);
    h_free(w.h);
}

/*
 * Our own ACKs must pass the peer's table: after a timeout sends snd_nxt
 * back to snd_una, a bare ACK still carries the highest sequence number
 * sent (RFC 9293's SND.NXT), not the retransmission point, which the peer
 * has passed and would find wholly before its window.
 */
static void test_ack_after_timeout_carries_highest_seq(void **state)
{
    (void)state;
    static const char *sys[] = {"kern.ipc.maxsockets=64", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 536));
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(1608, 'a'), 1608), 1608);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = 536));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 536, .len = 536));
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 1072, .len = 536));
    fx_advance_until_output(h, 1 * SEC); /* the RTO: one segment again */
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = 536));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "xy"));
    h_advance(h, 40 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1608, .ack = c.snd + 2, .len = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* ---- A blind attacker against orphaned connections ---------------------- */

static struct harness *orphan_h(void)
{
    static const char *sys[] = {"net.inet.tcp.msl=1000", "kern.ipc.maxsockets=64", NULL};
    struct h_opts o = {.sysctls = sys};
    return h_new(&o);
}

/*
 * The attacker knows the 4-tuple, nothing else: bare ACKs at SEQs far
 * beyond the window (from its very end to 2^31 - 1 past RCV.NXT), each
 * acknowledging as much as would count (una_ack: some of what is
 * outstanding; max_ack: all of it) and shutting the window. Each is
 * answered with <SEQ=snd_max><ACK=rcv_nxt> and dropped: the connection
 * stays in its state with snd_una and snd_wnd as they were.
 */
static void blind_acks(struct harness *h, uint8_t state, uint32_t snd_max, uint32_t rcv_nxt,
                       uint32_t una_ack)
{
    struct tcpcb *tp = win_tcb(h);
    assert_int_equal(tp->sd, -1);
    assert_int_equal(tp->state, state);
    uint32_t una = tp->snd_una, wnd = tp->snd_wnd;
    /* The window checked is the receive room: 65,536 rounded to 45
     * segments of 1,460 = 65,700, past the 65,535 offered. */
    static const uint32_t offs[] = {65700, 65701, 1u << 20, 1u << 30, 0x7fffffffu};
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        uint32_t ack = i % 2 ? snd_max : una_ack;
        h_inject(h, SEG(.flags = TH_ACK, .seq = rcv_nxt + offs[i], .ack = ack, .win = 0));
        h_expect(h, SEG(.flags = TH_ACK, .seq = snd_max, .ack = rcv_nxt, .len = 0));
    }
    h_expect_nothing(h);
    tp = win_tcb(h);
    assert_int_equal(tp->state, state);
    assert_int_equal(tp->snd_una, una);
    assert_int_equal(tp->snd_wnd, wnd);
    assert_int_equal(h_stat(h, "tcps_drops"), 0);
    assert_int_equal(h_stat(h, "tcps_rcvpackafterwin"), sizeof(offs) / sizeof(offs[0]));
}

/* Our "abcd" then our FIN, each with ACK `ack`, and the descriptor
 * closed: an orphan with five sequence numbers outstanding. */
static void orphan_abcd_fin(struct harness *h, const struct fx_conn *c, uint32_t ack)
{
    assert_int_equal(tcpc_send(h->stack, c->sd, "abcd", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c->rcv, .ack = ack, .data = "abcd"));
    assert_int_equal(tcpc_close(h->stack, c->sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c->rcv + 4, .ack = ack, .len = 0));
}

/* The retransmission timeout resends "abcd" and the FIN from where they
 * started, in the window the peer really offered. */
static void expect_abcd_fin_resent(struct harness *h, const struct fx_conn *c)
{
    fx_advance_until_output(h, 1 * SEC);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK | TH_PSH, .seq = c->rcv, .data = "abcd"));
}

/* FIN_WAIT_1 with "abcd" and the FIN outstanding survives, and its
 * retransmission starts where it did, in the window the peer offered. */
static void test_blind_ack_spares_orphan_fin_wait_1(void **state)
{
    (void)state;
    struct harness *h = orphan_h();
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    orphan_abcd_fin(h, &c, c.snd);
    blind_acks(h, TCPS_FIN_WAIT_1, c.rcv + 5, c.snd, c.rcv + 4);
    expect_abcd_fin_resent(h, &c);
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 5));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 5, .ack = c.snd + 1, .len = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* FIN_WAIT_2 (everything of ours acknowledged) survives and still takes
 * the peer's FIN. */
static void test_blind_ack_spares_orphan_fin_wait_2(void **state)
{
    (void)state;
    struct harness *h = orphan_h();
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect_nothing(h);
    blind_acks(h, TCPS_FIN_WAIT_2, c.rcv + 1, c.snd, c.rcv + 1);
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 1, .len = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* CLOSING (FINs crossed, ours and "abcd" outstanding) survives. */
static void test_blind_ack_spares_orphan_closing(void **state)
{
    (void)state;
    struct harness *h = orphan_h();
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    orphan_abcd_fin(h, &c, c.snd);
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 5, .ack = c.snd + 1, .len = 0));
    blind_acks(h, TCPS_CLOSING, c.rcv + 5, c.snd + 1, c.rcv + 4);
    expect_abcd_fin_resent(h, &c);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 1, .ack = c.rcv + 5));
    h_expect_nothing(h);
    assert_null(demux_lookup_exact(h->stack, &h->peer, h->pport, &h->local, h->lport));
    assert_int_equal(h_stat(h, "tcps_drops"), 0);
    h_free(h);
}

/* LAST_ACK (the peer closed first; our "abcd" and FIN outstanding)
 * survives, and closes when the real ACK comes. */
static void test_blind_ack_spares_orphan_last_ack(void **state)
{
    (void)state;
    struct harness *h = orphan_h();
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 1, .len = 0));
    orphan_abcd_fin(h, &c, c.snd + 1);
    blind_acks(h, TCPS_LAST_ACK, c.rcv + 5, c.snd + 1, c.rcv + 4);
    expect_abcd_fin_resent(h, &c);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 1, .ack = c.rcv + 5));
    h_expect_nothing(h);
    assert_null(demux_lookup_exact(h->stack, &h->peer, h->pport, &h->local, h->lport));
    assert_int_equal(h_stat(h, "tcps_drops"), 0);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acceptable_empty_segment_open_window),
        cmocka_unit_test(test_acceptable_data_open_window),
        cmocka_unit_test(test_acceptable_empty_segment_zero_window),
        cmocka_unit_test(test_acceptable_data_zero_window),
        cmocka_unit_test(test_zero_window_probe_answered),
        cmocka_unit_test(test_ack_after_timeout_carries_highest_seq),
        cmocka_unit_test(test_blind_ack_spares_orphan_fin_wait_1),
        cmocka_unit_test(test_blind_ack_spares_orphan_fin_wait_2),
        cmocka_unit_test(test_blind_ack_spares_orphan_closing),
        cmocka_unit_test(test_blind_ack_spares_orphan_last_ack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
