/*
 * Header prediction (tcp_input.c): the in-order segments of an established
 * connection that carry only ACK (and PSH) with the agreed timestamp and
 * leave the send window alone are taken the short way, counted as
 * tcps_predack (a pure ACK of new data) or tcps_preddat (data); every other
 * segment goes the general way. Each test checks which way a segment went
 * and that its outcome (what is sent back, counted, readable, freed) is
 * the general path's.
 *
 * Connections are opened passively with MSS 1000 and timestamps unless a
 * test says otherwise; the peer's window stays 65535 unscaled.
 */
#include "test_tcp_fixture.h"
#include "tcpcore/listing.h"

#define MSS 1000u
#define TS0 1000u

static struct fx_conn open_ts(struct harness *h)
{
    return fx_passive(h, 1000, SEG(.mss = MSS, .tsval = TS0));
}

static void assert_predicted(struct harness *h, uint64_t acks, uint64_t data)
{
    assert_int_equal(h_stat(h, "tcps_predack"), acks);
    assert_int_equal(h_stat(h, "tcps_preddat"), data);
}

/* In-order data: taken, delayed-ACKed as usual, its timestamp echoed. */
static void test_data_predicted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_ts(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .tsval = TS0 + 1,
                    .data = "hello"));
    assert_predicted(h, 0, 1);
    h_expect_nothing(h);
    h_inject(
        h, SEG(.flags = TH_ACK, .seq = c.snd + 5, .ack = c.rcv, .tsval = TS0 + 2, .data = "world"));
    assert_predicted(h, 0, 2);
    /* The second segment is ACKed at once, echoing the timestamp of the
     * first, which the ACK owed since covers (RFC 7323 4.3). */
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 10, .tsecr = TS0 + 1, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvpack"), 2);
    assert_int_equal(h_stat(h, "tcps_rcvbyte"), 10);
    assert_true(h_events(h, c.sd) & TCPC_EV_READABLE);
    fx_recv_exact(h, c.sd, "helloworld", 10);
    h_free(h);
}

/* Without timestamps on either side, in-order data is predicted too. */
static void test_data_predicted_without_timestamps(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = MSS));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = "abc"));
    assert_predicted(h, 0, 1);
    h_advance(h, 40 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 3, .len = 0));
    fx_recv_exact(h, c.sd, "abc", 3);
    h_free(h);
}

/* A pure ACK of data sent: taken, the buffer freed, the RTT sampled from
 * its timestamp, the rest of the data released by the window it opens. */
static void test_ack_predicted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_ts(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(2 * MSS, 'a'), 2 * MSS), 2 * MSS);
    struct h_seg s = h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = MSS - 12));
    h_flush(h);
    h_advance(h, 10 * MSEC);
    uint64_t rtt0 = h_stat(h, "tcps_rttupdated");
    uint64_t pack0 = h_stat(h, "tcps_rcvackpack"), byte0 = h_stat(h, "tcps_rcvackbyte");
    struct tcpc_info info;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &info), 0);
    tcpc_time_t srtt0 = info.srtt;
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + MSS - 12, .tsval = TS0 + 1,
                    .tsecr = s.th.opts.tsval));
    assert_predicted(h, 1, 0);
    assert_int_equal(h_stat(h, "tcps_rcvackpack"), pack0 + 1);
    assert_int_equal(h_stat(h, "tcps_rcvackbyte"), byte0 + MSS - 12);
    assert_int_equal(h_stat(h, "tcps_rttupdated"), rtt0 + 1);
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &info), 0);
    assert_true(info.srtt > srtt0); /* the 10 ms sample went in */
    h_free(h);
}

/* A pure ACK that changes the window: the general way, which counts the
 * update and sends what the new window lets out. */
static void test_window_change_not_predicted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_ts(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, "abcd", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .len = 4));
    uint64_t byte0 = h_stat(h, "tcps_rcvackbyte");
    h_inject(h,
             SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4, .win = 30000, .tsval = TS0 + 1));
    assert_predicted(h, 0, 0);
    assert_int_equal(h_stat(h, "tcps_rcvackbyte"), byte0 + 4);
    assert_int_equal(h_stat(h, "tcps_rcvwinupd"), 1);
    struct tcpc_info info;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &info), 0);
    assert_int_equal(info.snd_wnd, 30000);
    h_free(h);
}

/* Data past RCV.NXT (a hole before it): the general way, held out of
 * order and answered at once with a duplicate ACK; the segment filling
 * the hole has out-of-order data behind it, so it goes the general way
 * too; the next in order is predicted again. */
static void test_out_of_order_not_predicted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_ts(h);
    h_inject(h,
             SEG(.flags = TH_ACK, .seq = c.snd + 3, .ack = c.rcv, .tsval = TS0 + 1, .data = "def"));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd, .len = 0));
    assert_int_equal(h_stat(h, "tcps_rcvoopack"), 1);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .tsval = TS0 + 2, .data = "abc"));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 6, .len = 0));
    assert_predicted(h, 0, 0);
    h_inject(h,
             SEG(.flags = TH_ACK, .seq = c.snd + 6, .ack = c.rcv, .tsval = TS0 + 3, .data = "g"));
    assert_predicted(h, 0, 1);
    fx_recv_exact(h, c.sd, "abcdefg", 7);
    h_free(h);
}

/* Data beyond the window's end: the general way, trimmed to the window
 * (three segments of 1,460 bytes, no timestamps) and ACKed at once. */
static void test_beyond_window_not_predicted(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.recvspace=4380", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = fx_pattern(5000, 'a')));
    assert_predicted(h, 0, 0);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 4380, .win = 0, .len = 0));
    fx_recv_exact(h, c.sd, fx_pattern(5000, 'a'), 4380);
    h_free(h);
}

/* A timestamp older than the last one: the general way, PAWS drops it. */
static void test_old_timestamp_not_predicted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_ts(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .tsval = TS0 - 1, .data = "x"));
    assert_predicted(h, 0, 0);
    assert_int_equal(h_stat(h, "tcps_pawsdrop"), 1);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd, .len = 0));
    h_free(h);
}

/* With URG set: the general way, which records the urgent byte. */
static void test_urgent_not_predicted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_ts(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_URG, .seq = c.snd, .ack = c.rcv, .urp = 3,
                    .tsval = TS0 + 1, .data = "abc"));
    assert_predicted(h, 0, 0);
    uint8_t oob;
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, &oob, 1, TCPC_MSG_OOB), 1);
    assert_int_equal(oob, 'c');
    h_free(h);
}

/* With FIN: the general way, to CLOSE_WAIT with the FIN ACKed at once. */
static void test_fin_not_predicted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_ts(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_FIN, .seq = c.snd, .ack = c.rcv, .tsval = TS0 + 1,
                    .data = "bye"));
    assert_predicted(h, 0, 0);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 4, .len = 0));
    struct tcpc_info info;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &info), 0);
    assert_string_equal(tcpc_state_name(info.state), "CLOSE_WAIT");
    fx_recv_exact(h, c.sd, "bye", 3);
    h_free(h);
}

/* Opens a SACK connection without timestamps (MSS 1000 of payload) and
 * takes the ten segments of the initial window. */
static struct fx_conn open_sack_window(struct harness *h, size_t queued)
{
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = MSS, .sackperm = 1));
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(queued, 'a'), queued), (ssize_t)queued);
    for (uint32_t i = 0; i < 10; i++)
        h_expect(
            h, SEG(.flags = i < 9 ? TH_ACK : TH_ACK | TH_PSH, .seq = c.rcv + i * MSS, .len = MSS));
    h_expect_nothing(h);
    return c;
}

/* An ACK of new data with SACK blocks: the general way, the blocks taken
 * onto the scoreboard; the next plain ACK then finds blocks held and goes
 * the general way too. */
static void test_sack_blocks_not_predicted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_sack_window(h, 10 * MSS);
    h_advance(h, 10 * MSEC); /* an RTT for RACK, which then waits out reordering */
    struct seg s = SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + MSS, .nsack = 1);
    s.sack[0] = c.rcv + 2 * MSS;
    s.sack[1] = c.rcv + 3 * MSS;
    uint64_t byte0 = h_stat(h, "tcps_rcvackbyte");
    h_inject(h, s);
    assert_predicted(h, 0, 0);
    assert_int_equal(h_stat(h, "tcps_sack_rcv_blocks"), 1);
    assert_int_equal(h_stat(h, "tcps_rcvackbyte"), byte0 + MSS);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 2 * MSS));
    assert_predicted(h, 0, 0);
    /* Everything acknowledged, the scoreboard empties: predicted again. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 5 * MSS));
    assert_predicted(h, 0, 0);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 6 * MSS));
    assert_predicted(h, 1, 0);
    h_free(h);
}

/* In NewReno recovery (no SACK), a partial ACK goes the general way and
 * retransmits the next hole at once. */
static void test_recovery_not_predicted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = MSS));
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(12 * MSS, 'a'), 12 * MSS), 12 * MSS);
    h_flush(h);
    for (int i = 0; i < 2; i++)
        h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_flush(h); /* limited transmit */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = MSS));
    h_expect_nothing(h);
    assert_predicted(h, 0, 0);
    assert_int_equal(h_stat(h, "tcps_rcvdupack"), 3);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4 * MSS));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 4 * MSS, .len = MSS));
    h_expect_nothing(h);
    assert_predicted(h, 0, 0);
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 2);
    h_free(h);
}

/* A duplicate ACK (nothing new acknowledged, no data) is no prediction:
 * the general way counts it. */
static void test_duplicate_ack_not_predicted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_ts(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, "abcd", 4), 4);
    h_flush(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .tsval = TS0 + 1));
    assert_predicted(h, 0, 0);
    assert_int_equal(h_stat(h, "tcps_rcvdupack"), 1);
    h_free(h);
}

/* Data that also acknowledges new data (a request answering a response)
 * is predicted: both are taken. */
static void test_data_with_ack_predicted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_ts(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, "ping", 4), 4);
    h_flush(h);
    uint64_t byte0 = h_stat(h, "tcps_rcvackbyte");
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv + 4, .tsval = TS0 + 1,
                    .data = "pong"));
    assert_predicted(h, 0, 1);
    assert_int_equal(h_stat(h, "tcps_rcvackbyte"), byte0 + 4);
    fx_recv_exact(h, c.sd, "pong", 4);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_predicted),
        cmocka_unit_test(test_data_predicted_without_timestamps),
        cmocka_unit_test(test_ack_predicted),
        cmocka_unit_test(test_data_with_ack_predicted),
        cmocka_unit_test(test_window_change_not_predicted),
        cmocka_unit_test(test_out_of_order_not_predicted),
        cmocka_unit_test(test_beyond_window_not_predicted),
        cmocka_unit_test(test_old_timestamp_not_predicted),
        cmocka_unit_test(test_urgent_not_predicted),
        cmocka_unit_test(test_fin_not_predicted),
        cmocka_unit_test(test_sack_blocks_not_predicted),
        cmocka_unit_test(test_recovery_not_predicted),
        cmocka_unit_test(test_duplicate_ack_not_predicted),
    };
    return cmocka_run_group_tests_name("tcp_predict", tests, NULL, NULL);
}
