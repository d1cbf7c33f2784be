/*
 * Loss recovery on the sending side, segment by segment: limited transmit
 * (RFC 3042), fast retransmit on the third duplicate ACK, SACK-based
 * recovery (RFC 6675: IsLost, pipe, NextSeg) with proportional rate
 * reduction (RFC 6937), and NewReno's partial ACKs (RFC 6582) when SACK is
 * not negotiated.
 *
 * Connections are opened passively with MSS 1000 and no timestamps, so
 * segments carry 1000 bytes and the initial window is ten of them. The
 * application queues more than that; the peer (the test) then reports
 * which segments it holds.
 */
#include "test_tcp_fixture.h"

#include "core/stack.h"
#include "tcp/tcp_sack.h"

#define MSS 1000u

/* PRR's shares and the window after recovery follow ssthresh: these tests
 * pin NewReno's (half the flight); test_tcp_cc.c covers CUBIC's 0.7. */
static struct harness *h_newreno(void)
{
    const char *sysctls[] = {"net.inet.tcp.cc.algorithm=newreno", NULL};
    struct h_opts o = {.sysctls = sysctls};
    return h_new(&o);
}

static struct fx_conn open_conn(struct harness *h, bool sack)
{
    return fx_passive(h, 1000, sack ? SEG(.mss = MSS, .sackperm = 1) : SEG(.mss = MSS));
}

/* Queues `queued` bytes and takes the ten segments of the initial window. */
static void send_window(struct harness *h, const struct fx_conn *c, size_t queued)
{
    assert_int_equal(tcpc_send(h->stack, c->sd, fx_pattern(queued, 'a'), queued), (ssize_t)queued);
    for (uint32_t i = 0; i < 10; i++)
        h_expect(h, SEG(.flags = TH_ACK, .seq = c->rcv + i * MSS, .len = MSS));
    h_expect_nothing(h);
}

/* A duplicate ACK of the first byte sent, with SACK blocks [a, b) given as
 * offsets from it (nblocks 0: a plain duplicate). */
static void dupack(struct harness *h, const struct fx_conn *c, unsigned nblocks, const uint32_t *b)
{
    struct seg s = SEG(.flags = TH_ACK, .seq = c->snd, .ack = c->rcv, .len = 0);
    s.nsack = nblocks;
    for (unsigned i = 0; i < 2 * nblocks; i++)
        s.sack[i] = c->rcv + b[i];
    h_inject(h, s);
}

static void expect_data(struct harness *h, uint32_t seq)
{
    h_expect(h, SEG(.flags = TH_ACK, .seq = seq, .len = MSS));
}

/* RFC 3042: each of the first two duplicate ACKs lets one new segment out
 * beyond the congestion window, and only new data. */
static void test_limited_transmit(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h, false);
    send_window(h, &c, 20 * MSS);
    dupack(h, &c, 0, NULL);
    expect_data(h, c.rcv + 10 * MSS);
    h_expect_nothing(h);
    dupack(h, &c, 0, NULL);
    expect_data(h, c.rcv + 11 * MSS);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvdupack"), 2);
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 0);
    h_free(h);
}

/* RFC 5681 3.2 / RFC 6582: the third duplicate ACK retransmits the first
 * unacknowledged segment at once, without waiting for the timer. */
static void test_fast_retransmit_third_dupack(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h, false);
    send_window(h, &c, 20 * MSS);
    dupack(h, &c, 0, NULL);
    dupack(h, &c, 0, NULL);
    h_flush(h); /* the two limited-transmit segments */
    dupack(h, &c, 0, NULL);
    expect_data(h, c.rcv);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 1);
    assert_int_equal(h_stat(h, "tcps_sndrexmitbyte"), MSS);
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 0);
    h_free(h);
}

/*
 * RFC 6582 3.2 (5): in NewReno recovery an ACK that covers part of the
 * flight (not all of it up to `recover`) shows the next hole: its first
 * segment goes out at once. The full ACK then ends recovery without
 * another retransmission.
 */
static void test_newreno_partial_ack(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h, false);
    send_window(h, &c, 12 * MSS);
    for (int i = 0; i < 2; i++)
        dupack(h, &c, 0, NULL);
    h_flush(h); /* segments 10 and 11 (limited transmit) */
    dupack(h, &c, 0, NULL);
    expect_data(h, c.rcv);
    h_expect_nothing(h);
    /* Segments 0-3 arrive; 4 was lost too. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4 * MSS));
    expect_data(h, c.rcv + 4 * MSS);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 2);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 12 * MSS));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 2);
    assert_int_equal(h_stat(h, "tcps_sack_recovery_episode"), 0);
    h_free(h);
}

/* RFC 6675 5: with SACK, three duplicates whose blocks show more than two
 * segments held above the first one start recovery and retransmit it. */
static void test_sack_fast_retransmit(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h, true);
    send_window(h, &c, 20 * MSS);
    dupack(h, &c, 1, (uint32_t[]){1 * MSS, 2 * MSS});
    expect_data(h, c.rcv + 10 * MSS); /* limited transmit */
    dupack(h, &c, 1, (uint32_t[]){1 * MSS, 3 * MSS});
    expect_data(h, c.rcv + 11 * MSS);
    h_expect_nothing(h);
    dupack(h, &c, 1, (uint32_t[]){1 * MSS, 4 * MSS});
    expect_data(h, c.rcv);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sack_recovery_episode"), 1);
    assert_int_equal(h_stat(h, "tcps_sack_rexmits"), 1);
    assert_int_equal(h_stat(h, "tcps_sack_rexmit_bytes"), MSS);
    h_free(h);
}

/*
 * RFC 6675 4 / 4.3: one ACK whose blocks leave three holes, each with
 * enough SACKed above it to be lost (IsLost), starts recovery by itself.
 * NextSeg then repairs the holes lowest first (rule 1) before any new data
 * (rule 2), and PRR (RFC 6937) bounds the burst: pipe (one retransmission)
 * is below ssthresh (half the flight: 5 segments), so the slow-start
 * reduction bound lets the window fill to ssthresh and no further.
 */
static void test_sack_nextseg_and_prr_ssrb(void **state)
{
    (void)state;
    struct harness *h = h_newreno();
    struct fx_conn c = open_conn(h, true);
    send_window(h, &c, 20 * MSS);
    dupack(h, &c, 3, (uint32_t[]){1 * MSS, 3 * MSS, 4 * MSS, 6 * MSS, 7 * MSS, 10 * MSS});
    expect_data(h, c.rcv);
    expect_data(h, c.rcv + 3 * MSS);
    expect_data(h, c.rcv + 6 * MSS);
    expect_data(h, c.rcv + 10 * MSS);
    expect_data(h, c.rcv + 11 * MSS);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sack_rexmits"), 3);
    /* A hole is retransmitted once (HighRxt): the next duplicate, with
     * nothing newly delivered, sends nothing. */
    dupack(h, &c, 3, (uint32_t[]){1 * MSS, 3 * MSS, 4 * MSS, 6 * MSS, 7 * MSS, 10 * MSS});
    h_expect_nothing(h);
    h_free(h);
}

/*
 * RFC 6937 3: while pipe exceeds ssthresh, the sender sends in proportion
 * to what arrives, ssthresh / RecoverFS = 11 / 22 of it: one segment for
 * every second segment the peer reports received, the fast retransmission
 * counting as the first (so the 4th report's) of them. (The window first
 * grows to twenty segments, so that pipe stays above ssthresh for long.)
 */
static void test_prr_proportional(void **state)
{
    (void)state;
    struct harness *h = h_newreno();
    struct fx_conn c = open_conn(h, true);
    send_window(h, &c, 60 * MSS);
    for (uint32_t i = 1; i <= 10; i++) /* slow start: two out per ACK */
        h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + i * MSS));
    assert_int_equal(h_pending(h), 20);
    h_flush(h);
    struct fx_conn d = c;
    d.rcv = c.rcv + 10 * MSS; /* the first of twenty in flight, lost */
    for (uint32_t k = 2; k <= 3; k++) {
        dupack(h, &d, 1, (uint32_t[]){1 * MSS, k * MSS});
        h_flush(h); /* limited transmit */
    }
    dupack(h, &d, 1, (uint32_t[]){1 * MSS, 4 * MSS});
    expect_data(h, d.rcv); /* fast retransmit */
    h_expect_nothing(h);
    uint32_t next = d.rcv + 22 * MSS;
    for (uint32_t k = 5; k <= 14; k++) {
        dupack(h, &d, 1, (uint32_t[]){1 * MSS, k * MSS});
        if (k % 2 == 1 && k >= 7) {
            expect_data(h, next);
            next += MSS;
        }
        h_expect_nothing(h);
    }
    h_free(h);
}

/*
 * RFC 6675 4.3 rule 3: when there is no full segment of new data to send
 * (here 500 bytes wait, held by Nagle), a hole below a SACKed byte is
 * retransmitted though IsLost does not hold for it (segment 8: one segment
 * SACKed above it), so that the window keeps repairing.
 */
static void test_sack_nextseg_rule3(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h, true);
    send_window(h, &c, 10 * MSS + 500);
    dupack(h, &c, 2, (uint32_t[]){1 * MSS, 8 * MSS, 9 * MSS, 10 * MSS});
    expect_data(h, c.rcv);
    expect_data(h, c.rcv + 8 * MSS);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sack_rexmits"), 2);
    h_free(h);
}

/*
 * RFC 6675 4.3 rule 4: with the last two segments lost as well and nothing
 * else to send, the last segment goes again once (the rescue), so that its
 * SACK can show the tail lost rather than the timer.
 */
static void test_sack_rescue_retransmission(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h, true);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(10 * MSS, 'a'), 10 * MSS),
                     (ssize_t)(10 * MSS));
    h_flush(h);
    dupack(h, &c, 1, (uint32_t[]){1 * MSS, 8 * MSS});
    expect_data(h, c.rcv);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 9 * MSS, .len = MSS));
    h_expect_nothing(h);
    dupack(h, &c, 1, (uint32_t[]){1 * MSS, 8 * MSS});
    h_expect_nothing(h); /* once per recovery */
    h_free(h);
}

/* Recovery ends when everything sent before it began is acknowledged; a
 * later ACK of new data grows the window again and sends, rather than
 * retransmitting. */
static void test_sack_recovery_ends_on_full_ack(void **state)
{
    (void)state;
    struct harness *h = h_newreno();
    struct fx_conn c = open_conn(h, true);
    send_window(h, &c, 30 * MSS);
    dupack(h, &c, 3, (uint32_t[]){1 * MSS, 3 * MSS, 4 * MSS, 6 * MSS, 7 * MSS, 10 * MSS});
    h_flush(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 12 * MSS));
    /* Out of recovery: new data only, from where sending stopped. */
    struct h_seg g = h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 12 * MSS, .len = MSS));
    (void)g;
    while (h_pending(h)) {
        struct h_seg d = h_expect(h, SEG(.flags = TH_ACK, .len = MSS));
        assert_true(d.th.seq >= c.rcv + 13 * MSS);
    }
    assert_int_equal(h_stat(h, "tcps_sack_rexmits"), 3);
    h_free(h);
}

/*
 * RFC 6582 3.2 (2): after a timeout, duplicates of the old flight (below
 * `recover`, snd_max when the timer fired) are no new loss and start no
 * fast retransmit; once the old flight is acknowledged, a new loss is.
 */
static void test_no_fast_retransmit_below_recover(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h, false);
    send_window(h, &c, 20 * MSS);
    fx_advance_until_output(h, 2 * SEC);
    expect_data(h, c.rcv); /* the timeout resends from snd_una, one segment */
    h_expect_nothing(h);
    for (int i = 0; i < 3; i++)
        dupack(h, &c, 0, NULL);
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 10 * MSS));
    expect_data(h, c.rcv + 10 * MSS);
    expect_data(h, c.rcv + 11 * MSS);
    h_expect_nothing(h);
    struct fx_conn d = c;
    d.rcv = c.rcv + 10 * MSS;
    dupack(h, &d, 0, NULL);
    dupack(h, &d, 0, NULL);
    h_flush(h); /* limited transmit */
    dupack(h, &d, 0, NULL);
    expect_data(h, d.rcv);
    /* ssthresh + 3 segments (RFC 6582 3.2 (3)): five, with four out. */
    expect_data(h, d.rcv + 4 * MSS);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 1);
    h_free(h);
}

/*
 * RFC 6675 5.1 / RFC 2018 8: a timeout ends SACK recovery and forgets the
 * scoreboard (the peer may have reneged); resending then goes from
 * snd_una, skipping what the peer SACKs afterwards, so segments 2-9 are
 * never sent again.
 */
static void test_timeout_then_resend_skips_sacked(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h, true);
    send_window(h, &c, 20 * MSS);
    dupack(h, &c, 1, (uint32_t[]){2 * MSS, 10 * MSS});
    expect_data(h, c.rcv); /* IsLost: eight segments SACKed above */
    h_flush(h);
    fx_advance_until_output(h, 2 * SEC);
    expect_data(h, c.rcv);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 1);
    /* Segment 0 arrives; 1 is missing, the rest still held. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + MSS, .nsack = 1,
                    .sack = {c.rcv + 2 * MSS, c.rcv + 10 * MSS}));
    expect_data(h, c.rcv + MSS);
    h_expect_nothing(h); /* not segment 2: the window counts what it skipped */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 10 * MSS));
    for (uint32_t i = 10; i < 13; i++)
        expect_data(h, c.rcv + i * MSS);
    h_expect_nothing(h);
    /* Two in recovery, one by the timeout, then segments 1 and 10-12. */
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 2 + 1 + 1 + 3);
    h_free(h);
}

/* A D-SACK block (RFC 2883: the first, below the cumulative ACK) reports a
 * duplicate and goes in no scoreboard: it is counted, and starts nothing. */
static void test_dsack_received(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h, true);
    send_window(h, &c, 11 * MSS);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 2 * MSS, .nsack = 1,
                    .sack = {c.rcv, c.rcv + MSS}));
    for (int i = 0; i < 3; i++)
        h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 2 * MSS, .nsack = 1,
                        .sack = {c.rcv, c.rcv + MSS}));
    assert_int_equal(h_stat(h, "tcps_dsack_count"), 4);
    assert_int_equal(h_stat(h, "tcps_sack_recovery_episode"), 0);
    h_free(h);
}

/*
 * The SACK records come from a pool of net.inet.tcp.sack.globalmaxholes /
 * TCP_SACK_HOLES: with room for one, a second connection holding out-of-order data
 * finds none (tcps_sack_sboverflow) and still reports its islands, highest
 * first.
 */
static void test_sack_record_pool_exhausted(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.sack.globalmaxholes=64", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn a = open_conn(h, true);
    uint16_t lport_a = h->lport;
    h_inject(h, SEG(.flags = TH_ACK, .seq = a.snd + MSS, .ack = a.rcv, .data = "x"));
    h_expect(h, SEG(.flags = TH_ACK, .nsack = 1, .sack = {a.snd + MSS, a.snd + MSS + 1}));
    h->lport = (uint16_t)(lport_a + 1);
    struct fx_conn b = open_conn(h, true);
    h_inject(h, SEG(.flags = TH_ACK, .seq = b.snd + MSS, .ack = b.rcv, .data = "y"));
    h_expect(h, SEG(.flags = TH_ACK, .nsack = 1, .sack = {b.snd + MSS, b.snd + MSS + 1}));
    assert_int_equal(h_stat(h, "tcps_sack_sboverflow"), 1);
    h_inject(h, SEG(.flags = TH_ACK, .seq = b.snd + 3 * MSS, .ack = b.rcv, .data = "z"));
    h_expect(h, SEG(.flags = TH_ACK, .nsack = 2,
                    .sack = {b.snd + 3 * MSS, b.snd + 3 * MSS + 1, b.snd + MSS, b.snd + MSS + 1}));
    h_free(h);
}

/*
 * A drop-tail queue overflowing in congestion avoidance loses segments
 * scattered over a window: the scoreboard keeps 64 islands, so that what the peer holds is neither
 * resent (a D-SACK's wasted segment each) nor counted in flight. Past that many the highest are
 * forgotten, counted in tcps_sack_sboverflow. Every other segment of a
 * 130-segment flight is SACKed, one new island per duplicate ACK; nothing
 * the stack sends meanwhile is a SACKed segment.
 */
static void test_sack_scoreboard_holds_64_islands(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.sendspace=1048576", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = MSS, .sackperm = 1, .wscale = 7));
    struct tcpcb *tp = h->stack->tcp->sockets[c.sd];
    const uint32_t holes = 64, islands = holes + 1, flight = 2 * islands + 2;
    static const char data[300 * MSS];
    assert_int_equal(tcpc_send(h->stack, c.sd, data, sizeof(data)), sizeof(data));
    /* Slow start, one ACK a segment, until the flight is long enough. */
    while (tp->snd_max - tp->snd_una < flight * MSS) {
        h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = tp->snd_una + MSS));
        h_flush(h);
    }
    uint32_t una = tp->snd_una;
    for (uint32_t k = 0; k < islands; k++) {
        uint32_t start = una + (2 * k + 1) * MSS;
        struct seg s = SEG(.flags = TH_ACK, .seq = c.snd, .ack = una, .nsack = 1);
        s.sack[0] = start;
        s.sack[1] = start + MSS;
        h_inject(h, s);
        while (h_pending(h)) {
            struct h_seg out = h_expect(h, SEG(.flags = TH_ACK));
            uint32_t off = out.th.seq - una;
            if (out.th.payload_len && off < 2 * islands * MSS)
                assert_true(off / MSS % 2 == 0); /* a hole, never an island */
        }
        struct tcp_sack *sk = sack_of(h->stack, tp);
        assert_non_null(sk);
        if (k < holes) {
            assert_int_equal(sk->nsb, k + 1);
            assert_int_equal(h_stat(h, "tcps_sack_sboverflow"), 0);
        }
    }
    struct tcp_sack *sk = sack_of(h->stack, tp);
    assert_int_equal(sk->nsb, holes);
    assert_int_equal(h_stat(h, "tcps_sack_sboverflow"), 1);
    assert_int_equal(sk->sb[holes - 1].start, una + (2 * holes - 1) * MSS);
    h_free(h);
}

/* A connection with timestamps whose ten-segment window (988 bytes each
 * beside the option) timed out once; returns the first segment's TSval
 * and the retransmission's in *orig and *rexmit. RACK-TLP is off: a tail
 * probe would come first (test_tcp_rack.c has it), and these tests are
 * about the timeout itself. */
static struct fx_conn timed_out_with_timestamps(struct harness *h, uint32_t *orig, uint32_t *rexmit)
{
    fx_set_tunable(h, "net.inet.tcp.rack.enable", 0);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = MSS, .sackperm = 1, .tsval = 100));
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(30 * MSS, 'a'), 30 * MSS),
                     (ssize_t)(30 * MSS));
    *orig = h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = 988)).th.opts.tsval;
    for (uint32_t i = 1; i < 10; i++)
        h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + i * 988, .len = 988));
    h_expect_nothing(h);
    fx_advance_until_output(h, 2 * SEC);
    *rexmit = h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = 988)).th.opts.tsval;
    /* The one-segment window counts the MSS, of which the option took 12. */
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 988, .len = 12));
    h_expect_nothing(h);
    assert_true(*rexmit > *orig);
    return c;
}

/*
 * RFC 3522 / RFC 4015: the first ACK after a timeout echoes the original
 * segment's timestamp, so the original flight arrived and the timeout was
 * needless: the window from before it comes back (ten segments, grown by
 * one for the ACK), not one segment of slow start.
 */
static void test_spurious_timeout_undone(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    uint32_t orig, rexmit;
    struct fx_conn c = timed_out_with_timestamps(h, &orig, &rexmit);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 10 * 988, .tsval = 200,
                    .tsecr = orig));
    assert_int_equal(h_pending(h), 11);
    h_flush(h);
    assert_int_equal(h_stat(h, "tcps_sndrexmitbad"), 1);
    h_free(h);
}

/* The same ACK echoing the retransmission's timestamp: a real loss, and
 * slow start goes on from one segment (two after this ACK). */
static void test_real_timeout_not_undone(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    uint32_t orig, rexmit;
    struct fx_conn c = timed_out_with_timestamps(h, &orig, &rexmit);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 10 * 988, .tsval = 200,
                    .tsecr = rexmit));
    assert_int_equal(h_pending(h), 2);
    h_flush(h);
    assert_int_equal(h_stat(h, "tcps_sndrexmitbad"), 0);
    h_free(h);
}

/* The peer's retransmission of data we already hold, ending exactly at
 * RCV.NXT, keeps its ACK (tcp_trim_to_window) but is no duplicate ACK
 * (RFC 5681: a duplicate ACK carries no data), however many come: each is
 * answered with an ACK, and neither limited transmit nor a fast
 * retransmission follows. */
static void test_old_data_with_ack_is_no_dupack(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h, false);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .data = "abcd"));
    c.snd += 4;
    send_window(h, &c, 20 * MSS);
    for (int i = 0; i < 4; i++) {
        h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd - 2, .ack = c.rcv, .data = "cd"));
        h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 10 * MSS, .ack = c.snd, .len = 0));
        h_expect_nothing(h);
    }
    assert_int_equal(h_stat(h, "tcps_rcvdupack"), 0);
    assert_int_equal(h_stat(h, "tcps_rcvduppack"), 4);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limited_transmit),
        cmocka_unit_test(test_old_data_with_ack_is_no_dupack),
        cmocka_unit_test(test_fast_retransmit_third_dupack),
        cmocka_unit_test(test_newreno_partial_ack),
        cmocka_unit_test(test_sack_fast_retransmit),
        cmocka_unit_test(test_sack_nextseg_and_prr_ssrb),
        cmocka_unit_test(test_prr_proportional),
        cmocka_unit_test(test_sack_nextseg_rule3),
        cmocka_unit_test(test_sack_rescue_retransmission),
        cmocka_unit_test(test_sack_recovery_ends_on_full_ack),
        cmocka_unit_test(test_no_fast_retransmit_below_recover),
        cmocka_unit_test(test_timeout_then_resend_skips_sacked),
        cmocka_unit_test(test_dsack_received),
        cmocka_unit_test(test_sack_record_pool_exhausted),
        cmocka_unit_test(test_sack_scoreboard_holds_64_islands),
        cmocka_unit_test(test_spurious_timeout_undone),
        cmocka_unit_test(test_real_timeout_not_undone),
    };
    return cmocka_run_group_tests_name("tcp_recovery", tests, NULL, NULL);
}
