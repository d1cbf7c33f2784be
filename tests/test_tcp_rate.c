/*
 * Delivery-rate estimation (tcp_rate.h), rule by rule on the estimator's
 * own state: the interval is the longer of the send and the ACK interval,
 * a sample shorter than the minimum RTT is dropped, an empty flight
 * restarts the intervals, the newest delivered range is the one sampled,
 * and an application-limited stretch lasts until what was in flight is
 * delivered. tests/test_tcp_rack.c checks the same through a connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tcp/tcp_rate.h"

#define MS 1000u

struct sent {
    struct rate_stamp s;
    bool applim;
};

static struct sent send_at(struct rate_state *c, uint32_t now, bool flight_empty)
{
    struct sent x;
    rate_stamp_take(c, now, flight_empty, &x.s, &x.applim);
    return x;
}

/* An ACK at now of `bytes`, the newest range it delivered sent at xmit. */
static struct rate_sample ack_at(struct rate_state *c, uint32_t now, const struct sent *p,
                                 uint32_t xmit, uint32_t end, uint32_t bytes, uint32_t min_rtt)
{
    struct rate_sample rs;
    rate_delivered(c, &p->s, xmit, end, p->applim);
    rate_ack(c, now, bytes, min_rtt, &rs);
    return rs;
}

/* A segment sent right after an ACK but a round trip after the flight's
 * first, then acknowledged half a millisecond later (a compressed ACK):
 * the ACK interval alone would claim 2 MB/s; the send interval, 100 ms,
 * is the one the path set. */
static void test_rate_interval_is_the_longer_of_send_and_ack(void **state)
{
    (void)state;
    struct rate_state c = {0};
    struct sent s0 = send_at(&c, 0, true);
    struct rate_sample rs = ack_at(&c, 100 * MS, &s0, 0, 1000, 1000, 0);
    assert_int_equal(rs.delivered, 1000);
    assert_int_equal(rs.interval, 100 * MS); /* the ACK interval: nothing sent since */
    assert_int_equal(rs.rtt, 100 * MS);
    struct sent s1 = send_at(&c, 100 * MS, false);
    assert_int_equal(s1.s.delivered, 1000);
    assert_int_equal(s1.s.delivered_time, 100 * MS);
    assert_int_equal(s1.s.first_sent, 0); /* the range just sampled went at 0 */
    rs = ack_at(&c, 100 * MS + 500, &s1, 100 * MS, 2000, 1000, 0);
    assert_int_equal(rs.delivered, 1000);
    assert_int_equal(rs.interval, 100 * MS);
    assert_int_equal(rs.rtt, 500);
}

/* The same compressed ACK with a minimum RTT of 150 ms known: an
 * interval shorter than it is no measurement; the count still moves. */
static void test_rate_sample_shorter_than_min_rtt_dropped(void **state)
{
    (void)state;
    struct rate_state c = {0};
    struct sent s0 = send_at(&c, 0, true);
    struct rate_sample rs = ack_at(&c, 100 * MS, &s0, 0, 1000, 1000, 150 * MS);
    assert_int_equal(rs.interval, 0);
    assert_int_equal(rs.delivered, 1000);
    assert_int_equal(c.delivered, 1000);
    struct sent s1 = send_at(&c, 100 * MS, false);
    rs = ack_at(&c, 260 * MS, &s1, 100 * MS, 2000, 1000, 150 * MS);
    assert_int_equal(rs.interval, 160 * MS);
    assert_int_equal(c.delivered, 2000);
}

/* An ACK with no range of its own (a duplicate, or a record that came
 * late) moves the count and gives no sample. */
static void test_rate_ack_without_candidate_gives_none(void **state)
{
    (void)state;
    struct rate_state c = {0};
    struct rate_sample rs;
    rate_ack(&c, 5 * MS, 1000, 0, &rs);
    assert_int_equal(rs.interval, 0);
    assert_int_equal(rs.delivered, 0);
    assert_int_equal(c.delivered, 1000);
    assert_int_equal(c.delivered_time, 5 * MS);
}

/* Two ranges delivered by one ACK: the one sent last is sampled, in
 * whichever order they are reported. */
static void test_rate_newest_range_sampled(void **state)
{
    (void)state;
    struct rate_state c = {0};
    struct sent a = send_at(&c, 0, true);
    struct sent b = send_at(&c, 30 * MS, false);
    b.s.delivered = 7; /* tells the two apart */
    rate_delivered(&c, &b.s, 30 * MS, 2000, false);
    rate_delivered(&c, &a.s, 0, 1000, false);
    struct rate_sample rs;
    rate_ack(&c, 130 * MS, 2000, 0, &rs);
    assert_int_equal(rs.rtt, 100 * MS);
    assert_int_equal(rs.delivered, 2000 - 7);
    assert_int_equal(rs.interval, 130 * MS);
}

/* Nothing in flight for a second: the next flight's intervals start at
 * its first send, not at the last delivery a second before. */
static void test_rate_empty_flight_restarts_intervals(void **state)
{
    (void)state;
    struct rate_state c = {0};
    struct sent s0 = send_at(&c, 0, true);
    (void)ack_at(&c, 100 * MS, &s0, 0, 1000, 1000, 0);
    struct sent s1 = send_at(&c, 1100 * MS, true);
    assert_int_equal(s1.s.delivered_time, 1100 * MS);
    assert_int_equal(s1.s.first_sent, 1100 * MS);
    struct rate_sample rs = ack_at(&c, 1200 * MS, &s1, 1100 * MS, 2000, 1000, 0);
    assert_int_equal(rs.interval, 100 * MS);
    assert_int_equal(rs.delivered, 1000);
}

/* Output ran dry with 3,000 bytes out at a count of 1,000: ranges sent
 * until the count passes 4,000 carry the mark, and their samples say so. */
static void test_rate_app_limited_until_flight_delivered(void **state)
{
    (void)state;
    struct rate_state c = {0};
    struct sent s0 = send_at(&c, 0, true);
    (void)ack_at(&c, 100 * MS, &s0, 0, 1000, 1000, 0);
    rate_mark_app_limited(&c, 3000);
    assert_int_equal(c.app_limited, 4000);
    struct sent s1 = send_at(&c, 110 * MS, false);
    assert_true(s1.applim);
    struct rate_sample rs = ack_at(&c, 210 * MS, &s1, 110 * MS, 5000, 3000, 0);
    assert_true(rs.app_limited);
    assert_int_equal(c.app_limited, 4000); /* exactly delivered: not past yet */
    rs = ack_at(&c, 220 * MS, &s1, 110 * MS, 6000, 1000, 0);
    assert_int_equal(c.app_limited, 0);
    struct sent s2 = send_at(&c, 220 * MS, false);
    assert_false(s2.applim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_interval_is_the_longer_of_send_and_ack),
        cmocka_unit_test(test_rate_sample_shorter_than_min_rtt_dropped),
        cmocka_unit_test(test_rate_ack_without_candidate_gives_none),
        cmocka_unit_test(test_rate_newest_range_sampled),
        cmocka_unit_test(test_rate_empty_flight_restarts_intervals),
        cmocka_unit_test(test_rate_app_limited_until_flight_delivered),
    };
    return cmocka_run_group_tests_name("tcp_rate", tests, NULL, NULL);
}
