/*
 * Pacing (tcp_output.c, docs/cc.md), segment by segment: a connection with
 * a rate (TCPC_SO_MAX_PACING_RATE, or its congestion-control algorithm's
 * t_pacing_rate under that cap) sends its data in bursts of a quantum and
 * holds the rest until the release, a deadline tcpc_next_deadline names
 * and at which output resumes; ACKs, RST and the retransmission timeout's
 * resend are not held; without a rate nothing changes.
 *
 * Connections are opened actively with MSS 1000, no timestamps or SACK, a
 * 60,000-byte window and the initial window of ten segments. At 100,000
 * bytes/s a segment takes 10 ms and the quantum is two segments (a
 * millisecond at that rate is less), so bursts of two leave every 20 ms.
 */
#include "test_tcp_fixture.h"

#include "core/stack.h"
#include "tcp/tcp_var.h"

#define MSS  1000u
#define RATE 100000
/* One burst of two segments at RATE. */
#define BURST_TIME (20 * MSEC)

/* Where the data queued ends: the segment ending there carries PSH. */
static uint32_t data_end;

static struct tcpcb *tcb_of(struct harness *h, int sd)
{
    return h->stack->tcp->sockets[sd];
}

static struct tcpc_info info_of(struct harness *h, int sd)
{
    struct tcpc_info in;
    assert_int_equal(tcpc_getinfo(h->stack, sd, &in), 0);
    return in;
}

static void expect_data(struct harness *h, uint32_t seq)
{
    uint8_t flags = seq + MSS == data_end ? TH_ACK | TH_PSH : TH_ACK;
    h_expect(h, SEG(.flags = flags, .seq = seq, .len = MSS));
}

static struct harness *pace_h(void)
{
    const char *sys[] = {"net.inet.tcp.always_keepalive=0", NULL};
    struct h_opts o = {.sysctls = sys};
    return h_new(&o);
}

static struct fx_conn open_conn(struct harness *h)
{
    return fx_active(h, 1000, SEG(.mss = MSS, .win = 60000));
}

static void queue(struct harness *h, const struct fx_conn *c, uint32_t segs)
{
    assert_int_equal(tcpc_send(h->stack, c->sd, fx_pattern(segs * MSS, 'a'), segs * MSS),
                     (ssize_t)(segs * MSS));
    data_end = c->rcv + segs * MSS;
}

/* Runs the stack up to `at` by its own deadlines: nothing may be sent
 * before it. */
static void walk_to(struct harness *h, tcpc_time_t at)
{
    while (h->now < at) {
        tcpc_time_t next = tcpc_next_deadline(h->stack);
        assert_true(next >= h->now);
        tcpc_time_t to = next < at ? next : at;
        h_advance(h, to > h->now ? to - h->now : 1);
        if (h->now < at)
            h_expect_nothing(h);
    }
}

/* With a cap of RATE, ten segments the window would let out at once leave
 * two by two, each pair BURST_TIME after the last: the rate is never
 * exceeded, the release is the stack's next deadline, and output resumes
 * at it exactly (not a microsecond before). */
static void test_cap_paces_data_at_the_rate(void **state)
{
    (void)state;
    struct harness *h = pace_h();
    struct fx_conn c = open_conn(h);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_MAX_PACING_RATE, RATE), 0);
    tcpc_time_t t0 = h->now;
    queue(h, &c, 10);
    for (uint32_t pair = 0; pair < 5; pair++) {
        tcpc_time_t release = t0 + pair * BURST_TIME;
        if (pair) {
            /* The release is the connection's deadline; the stack's may
             * come early (a timer-wheel slot), never late. */
            assert_int_equal(tcb_of(h, c.sd)->t_deadline[TT_PACE], release);
            assert_true(tcpc_next_deadline(h->stack) <= release);
            walk_to(h, release - 1);
            h_expect_nothing(h);
            h_advance(h, 1);
        }
        assert_int_equal(h->now, release);
        expect_data(h, c.rcv + 2 * pair * MSS);
        expect_data(h, c.rcv + (2 * pair + 1) * MSS);
        h_expect_nothing(h);
    }
    assert_int_equal(h_stat(h, "tcps_pace_held"), 4);
    assert_int_equal(h_stat(h, "tcps_pace_released"), 4);
    struct tcpc_info in = info_of(h, c.sd);
    assert_int_equal(in.pacing_rate, RATE);
    assert_int_equal(in.max_pacing_rate, RATE);
    h_free(h);
}

/* While data is held, the ACK two full segments from the peer call for
 * goes at once, bare; an abort's RST too. */
static void test_ack_and_rst_not_held(void **state)
{
    (void)state;
    struct harness *h = pace_h();
    struct fx_conn c = open_conn(h);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_MAX_PACING_RATE, RATE), 0);
    queue(h, &c, 6);
    expect_data(h, c.rcv);
    expect_data(h, c.rcv + MSS);
    h_expect_nothing(h);
    h_advance(h, 1 * MSEC);
    const char *in = fx_pattern(2 * MSS, 'q');
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .data = in, .len = MSS));
    h_inject(h,
             SEG(.flags = TH_ACK, .seq = c.snd + MSS, .ack = c.rcv, .data = in + MSS, .len = MSS));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 2 * MSS, .ack = c.snd + 2 * MSS, .len = 0));
    h_expect_nothing(h);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_LINGER, 0), 0);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .len = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* The retransmission timeout's resend does not wait for a release: at
 * 2,000 bytes/s the first pair's release is a second off, the timeout
 * well before it. */
static void test_rto_resend_not_held(void **state)
{
    (void)state;
    struct harness *h = pace_h();
    struct fx_conn c = open_conn(h);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_MAX_PACING_RATE, 2000), 0);
    tcpc_time_t t0 = h->now;
    queue(h, &c, 4);
    expect_data(h, c.rcv);
    expect_data(h, c.rcv + MSS);
    h_expect_nothing(h);
    tcpc_time_t rto = info_of(h, c.sd).rto;
    assert_true(rto < 1 * SEC);
    walk_to(h, t0 + rto);
    expect_data(h, c.rcv);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rexmttimeo"), 1);
    h_free(h);
}

/* No rate: the ten segments leave at once, no release is armed, and no
 * counter moves. Lifting a cap mid-hold
 * lets the held data out at once. */
static void test_unpaced_unchanged_and_cap_lifted(void **state)
{
    (void)state;
    struct harness *h = pace_h();
    struct fx_conn c = open_conn(h);
    queue(h, &c, 10);
    for (uint32_t i = 0; i < 10; i++)
        expect_data(h, c.rcv + i * MSS);
    h_expect_nothing(h);
    struct tcpc_info in = info_of(h, c.sd);
    assert_int_equal(tcb_of(h, c.sd)->t_deadline[TT_PACE], 0);
    assert_int_equal(in.pacing_rate, 0);
    assert_int_equal(in.max_pacing_rate, 0);
    assert_int_equal(h_stat(h, "tcps_pace_held"), 0);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 10 * MSS));
    c.rcv += 10 * MSS;

    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_MAX_PACING_RATE, RATE), 0);
    queue(h, &c, 4);
    expect_data(h, c.rcv);
    expect_data(h, c.rcv + MSS);
    h_expect_nothing(h);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_MAX_PACING_RATE, -1), 0);
    expect_data(h, c.rcv + 2 * MSS);
    expect_data(h, c.rcv + 3 * MSS);
    h_expect_nothing(h);
    assert_int_equal(info_of(h, c.sd).pacing_rate, 0);
    h_free(h);
}

/* The option's values: a rate, -1 for none (read back as -1), anything
 * else refused; a listener's children inherit it. */
static void test_option_validation_and_inheritance(void **state)
{
    (void)state;
    struct harness *h = pace_h();
    int sd = fx_socket(h);
    int v = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_SO_MAX_PACING_RATE, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_SO_MAX_PACING_RATE, 0), -EINVAL);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_SO_MAX_PACING_RATE, -2), -EINVAL);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_SO_MAX_PACING_RATE, 12345), 0);
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_SO_MAX_PACING_RATE, &v), 0);
    assert_int_equal(v, 12345);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_SO_MAX_PACING_RATE, -1), 0);
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_SO_MAX_PACING_RATE, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(tcpc_close(h->stack, sd), 0);

    int lsd = h_listen(h);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_SO_MAX_PACING_RATE, 54321), 0);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    int child = tcpc_accept(h->stack, lsd, NULL, NULL);
    assert_true(child >= 0);
    assert_int_equal(tcpc_getsockopt(h->stack, child, TCPC_SO_MAX_PACING_RATE, &v), 0);
    assert_int_equal(v, 54321);
    assert_int_equal(info_of(h, child).pacing_rate, 54321);
    h_free(h);
}

/* The algorithm's rate: what a model-based algorithm's rate_sample hook
 * sets (no such algorithm ships; the field is the interface) paces the
 * data alone, a lower cap wins over it, a higher one does not; attaching
 * another algorithm (TCPC_TCP_CONGESTION) drops the old one's rate. */
static void test_algorithm_rate_under_the_cap(void **state)
{
    (void)state;
    struct harness *h = pace_h();
    struct fx_conn c = open_conn(h);
    struct tcpcb *tp = tcb_of(h, c.sd);
    tp->t_pacing_rate = 2 * RATE; /* 5 ms a segment: a pair every 10 ms */
    tcpc_time_t t0 = h->now;
    queue(h, &c, 6);
    expect_data(h, c.rcv);
    expect_data(h, c.rcv + MSS);
    h_expect_nothing(h);
    assert_int_equal(tp->t_deadline[TT_PACE], t0 + BURST_TIME / 2);
    assert_true(tcpc_next_deadline(h->stack) <= t0 + BURST_TIME / 2);
    assert_int_equal(info_of(h, c.sd).pacing_rate, 2 * RATE);
    /* A cap above the algorithm's rate changes nothing. */
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_MAX_PACING_RATE, 4 * RATE), 0);
    assert_int_equal(info_of(h, c.sd).pacing_rate, 2 * RATE);
    walk_to(h, t0 + BURST_TIME / 2);
    expect_data(h, c.rcv + 2 * MSS);
    expect_data(h, c.rcv + 3 * MSS);
    h_expect_nothing(h);
    /* One below it is the rate from the next burst on. */
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_MAX_PACING_RATE, RATE), 0);
    assert_int_equal(info_of(h, c.sd).pacing_rate, RATE);
    walk_to(h, t0 + BURST_TIME);
    expect_data(h, c.rcv + 4 * MSS);
    expect_data(h, c.rcv + 5 * MSS);
    h_expect_nothing(h);
    assert_int_equal(tp->t_deadline[TT_PACE], t0 + 2 * BURST_TIME);
    /* A new algorithm starts without a rate: the cap alone is left. */
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_CONGESTION, 0), 0);
    assert_int_equal(tp->t_pacing_rate, 0);
    assert_int_equal(info_of(h, c.sd).pacing_rate, RATE);
    h_free(h);
}

/* The release shares the FIN_WAIT_2 timer's slot: one still armed when
 * the FIN's ACK arrives must not act as that timer. The last data and the
 * FIN go at a slow rate, the peer acknowledges both at once, and the
 * connection, still open for reading, stays in FIN_WAIT_2 with no
 * deadline at all (keepalive is off). */
static void test_release_gone_in_fin_wait_2(void **state)
{
    (void)state;
    struct harness *h = pace_h();
    struct fx_conn c = open_conn(h);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_MAX_PACING_RATE, 1000), 0);
    queue(h, &c, 1);
    expect_data(h, c.rcv);
    h_expect_nothing(h);
    assert_true(tcpc_next_deadline(h->stack) <= h->now + 1 * SEC);
    /* The FIN alone is no data: the release does not hold it. */
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_WR), 0);
    h_expect(h, SEG(.flags = TH_ACK | TH_FIN, .seq = c.rcv + MSS, .len = 0));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + MSS + 1));
    h_expect_nothing(h);
    assert_int_equal(tcb_of(h, c.sd)->state, TCPS_FIN_WAIT_2);
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_paces_data_at_the_rate),
        cmocka_unit_test(test_ack_and_rst_not_held),
        cmocka_unit_test(test_rto_resend_not_held),
        cmocka_unit_test(test_unpaced_unchanged_and_cap_lifted),
        cmocka_unit_test(test_option_validation_and_inheritance),
        cmocka_unit_test(test_algorithm_rate_under_the_cap),
        cmocka_unit_test(test_release_gone_in_fin_wait_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
