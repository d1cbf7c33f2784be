/*
 * Congestion control behind its interface (src/tcp/tcp_cc.h), segment by
 * segment: the algorithm chosen by net.inet.tcp.cc.algorithm and by
 * TCPC_TCP_CONGESTION, RFC 3465's limit on slow-start growth per ACK
 * (net.inet.tcp.abc_l_var), RFC 5681 4.1's restart window after an idle
 * period, and CUBIC (RFC 9438): the reduction by beta 0.7, fast
 * convergence, and the window's growth against the RFC's formulas, in the
 * concave / convex region and in the Reno-friendly one.
 *
 * Connections are opened passively with MSS 1000 and no timestamps, so
 * segments carry 1000 bytes and the initial window is ten of them; the
 * window is read back with tcpc_getinfo.
 */
#include <math.h>

#include "test_tcp_fixture.h"

#include "core/stack.h"
#include "tcp/cc_hystart.h"
#include "tcp/tcp_cc.h"
#include "tcp/tcp_var.h"
#include "tcpcore/sysctl.h"
#include "util/seq.h"

#define MSS 1000u

static struct fx_conn open_conn(struct harness *h)
{
    return fx_passive(h, 1000, SEG(.mss = MSS));
}

static struct tcpc_info info_of(struct harness *h, int sd)
{
    struct tcpc_info in;
    assert_int_equal(tcpc_getinfo(h->stack, sd, &in), 0);
    return in;
}

static uint32_t cwnd_of(struct harness *h, int sd)
{
    return info_of(h, sd).snd_cwnd;
}

/* Queues `queued` bytes and takes the ten segments of the initial window. */
static void send_window(struct harness *h, const struct fx_conn *c, size_t queued)
{
    assert_int_equal(tcpc_send(h->stack, c->sd, fx_pattern(queued, 'a'), queued), (ssize_t)queued);
    for (uint32_t i = 0; i < 10; i++)
        h_expect(h, SEG(.flags = TH_ACK, .seq = c->rcv + i * MSS, .len = MSS));
    h_expect_nothing(h);
}

static void ack_to(struct harness *h, const struct fx_conn *c, uint32_t off)
{
    h_inject(h, SEG(.flags = TH_ACK, .seq = c->snd, .ack = c->rcv + off));
}

static struct harness *h_with(const char *s1, const char *s2)
{
    const char *sysctls[] = {s1, s2, NULL};
    struct h_opts o = {.sysctls = sysctls};
    return h_new(&o);
}

/* ---- RFC 3465: appropriate byte counting in slow start ------------------- */

/* A stretch ACK of four segments grows the window by L segments, not four:
 * L = 1 by default (one segment, as before the interface existed). (The
 * initial window is ten segments and a byte: the ACK of our SYN counted.) */
static void test_abc_default_one_segment(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h);
    uint32_t iw = cwnd_of(h, c.sd);
    send_window(h, &c, 30 * MSS);
    ack_to(h, &c, 4 * MSS);
    assert_int_equal(cwnd_of(h, c.sd), iw + MSS);
    assert_int_equal(h_pending(h), 5); /* 11 segments' window, 6 in flight */
    h_free(h);
}

static void test_abc_l_var_two(void **state)
{
    (void)state;
    struct harness *h = h_with("net.inet.tcp.abc_l_var=2", NULL);
    struct fx_conn c = open_conn(h);
    uint32_t iw = cwnd_of(h, c.sd);
    send_window(h, &c, 30 * MSS);
    ack_to(h, &c, 4 * MSS);
    assert_int_equal(cwnd_of(h, c.sd), iw + 2 * MSS);
    assert_int_equal(h_pending(h), 6);
    /* A smaller ACK adds what it acknowledges, not L. */
    h_flush(h);
    ack_to(h, &c, 4 * MSS + 300);
    assert_int_equal(cwnd_of(h, c.sd), iw + 2 * MSS + 300);
    h_free(h);
}

/* RFC 3465 2.3: while a timeout's resending is under way, an ACK counts for
 * one segment at most, whatever L is. (NewReno, whose ssthresh after the
 * timeout is half the flight.) */
static void test_abc_one_segment_after_timeout(void **state)
{
    (void)state;
    struct harness *h = h_with("net.inet.tcp.abc_l_var=2", "net.inet.tcp.cc.algorithm=newreno");
    struct fx_conn c = open_conn(h);
    send_window(h, &c, 30 * MSS);
    fx_advance_until_output(h, 5 * SEC);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = MSS)); /* the timeout's resend */
    assert_int_equal(cwnd_of(h, c.sd), MSS);
    assert_int_equal(info_of(h, c.sd).snd_ssthresh, 5 * MSS);
    ack_to(h, &c, 4 * MSS);
    assert_int_equal(cwnd_of(h, c.sd), 2 * MSS);
    h_free(h);
}

static void test_abc_l_var_bounds(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    const char *why = NULL;
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.tcp.abc_l_var", 0, &why), -EINVAL);
    assert_non_null(why);
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.tcp.abc_l_var", 17, &why), -EINVAL);
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.tcp.abc_l_var", 16, &why), 0);
    h_free(h);
}

/* ---- RFC 5681 4.1: restart after idle -------------------------------------- */

/* Grows the window to thirty segments and leaves nothing in flight. */
static void grow_to_thirty(struct harness *h, const struct fx_conn *c)
{
    send_window(h, c, 20 * MSS);
    for (uint32_t i = 1; i <= 10; i++)
        ack_to(h, c, i * MSS);
    assert_int_equal(h_pending(h), 10);
    h_flush(h);
    for (uint32_t i = 11; i <= 20; i++)
        ack_to(h, c, i * MSS);
    h_expect_nothing(h);
    assert_int_equal(cwnd_of(h, c->sd), 30 * MSS + 1); /* the SYN's ACK counted a byte */
}

/* Idle for longer than the retransmission timeout, with nothing heard
 * from the peer: the window restarts at min(IW, cwnd), so the next write
 * goes out as ten segments, not thirty. */
static void test_restart_window_after_idle(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h);
    grow_to_thirty(h, &c);
    tcpc_time_t rto = info_of(h, c.sd).rto;
    h_advance(h, rto + 1 * MSEC);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(40 * MSS, 'a'), 40 * MSS), 40 * MSS);
    for (uint32_t i = 0; i < 10; i++)
        h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + (20 + i) * MSS, .len = MSS));
    h_expect_nothing(h);
    struct tcpc_info in = info_of(h, c.sd);
    assert_int_equal(in.snd_cwnd, 10 * MSS); /* RFC 6928's IW for MSS 1000 */
    /* FreeBSD's RFC 2861 touch: ssthresh keeps 3/4 of the old window at least. */
    assert_true(in.snd_ssthresh >= 30 * MSS * 3 / 4);
    h_free(h);
}

/* Within one RTO the window is still current: all of it goes out. */
static void test_no_restart_within_rto(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h);
    grow_to_thirty(h, &c);
    tcpc_time_t rto = info_of(h, c.sd).rto;
    h_advance(h, rto / 2);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(40 * MSS, 'a'), 40 * MSS), 40 * MSS);
    assert_int_equal(h_pending(h), 30);
    assert_int_equal(cwnd_of(h, c.sd), 30 * MSS + 1);
    h_free(h);
}

/* A segment from the peer during the pause (here a window update) keeps the
 * window current: RFC 5681 counts from the last segment received. */
static void test_no_restart_when_peer_spoke(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_conn(h);
    grow_to_thirty(h, &c);
    tcpc_time_t rto = info_of(h, c.sd).rto;
    h_advance(h, rto);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 20 * MSS, .win = 65000));
    h_advance(h, rto / 2);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(40 * MSS, 'a'), 40 * MSS), 40 * MSS);
    assert_int_equal(h_pending(h), 30);
    h_free(h);
}

/* ---- Choosing the algorithm ---------------------------------------------- */

static void expect_cc(struct harness *h, int sd, const char *want)
{
    char name[16];
    assert_int_equal(tcpc_getsockopt_str(h->stack, sd, TCPC_TCP_CONGESTION, name, sizeof(name)), 0);
    assert_string_equal(name, want);
}

static void test_cc_algorithm_tunable(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    char buf[64];
    const char *why = NULL;
    assert_int_equal(tcpc_sysctl_get_str(h->stack, "net.inet.tcp.cc.algorithm", buf, sizeof(buf)),
                     0);
    assert_string_equal(buf, "cubic"); /* FreeBSD 14's default */
    assert_int_equal(tcpc_sysctl_get_str(h->stack, "net.inet.tcp.cc.available", buf, sizeof(buf)),
                     0);
    assert_string_equal(buf, "newreno, cubic");
    int before = fx_socket(h);
    assert_int_equal(tcpc_sysctl_set_str(h->stack, "net.inet.tcp.cc.algorithm", "newreno", &why),
                     0);
    assert_int_equal(tcpc_sysctl_get_str(h->stack, "net.inet.tcp.cc.algorithm", buf, sizeof(buf)),
                     0);
    assert_string_equal(buf, "newreno");
    int64_t v;
    assert_int_equal(tcpc_sysctl_get(h->stack, "net.inet.tcp.cc.algorithm", &v), 0);
    assert_int_equal(v, 0);
    /* A new socket takes the tunable; one made before keeps its own. */
    expect_cc(h, fx_socket(h), "newreno");
    expect_cc(h, before, "cubic");
    /* Refusals say what is accepted. */
    why = NULL;
    assert_int_equal(tcpc_sysctl_set_str(h->stack, "net.inet.tcp.cc.algorithm", "bbr", &why),
                     -EINVAL);
    assert_non_null(strstr(why, "newreno, cubic"));
    assert_int_equal(tcpc_sysctl_set(h->stack, "net.inet.tcp.cc.algorithm", 2, &why), -EINVAL);
    assert_int_equal(tcpc_sysctl_set_str(h->stack, "net.inet.tcp.cc.available", "cubic", &why),
                     -EPERM);
    assert_int_equal(tcpc_sysctl_set_str(h->stack, "net.inet.tcp.msl", "cubic", &why), -ENOENT);
    assert_int_equal(tcpc_sysctl_get_str(h->stack, "net.inet.tcp.msl", buf, sizeof(buf)), -ENOENT);
    h_free(h);
}

static void test_tcp_congestion_sockopt(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    expect_cc(h, sd, "cubic");
    assert_int_equal(tcpc_setsockopt_str(h->stack, sd, TCPC_TCP_CONGESTION, "newreno"), 0);
    expect_cc(h, sd, "newreno");
    assert_int_equal(tcpc_setsockopt_str(h->stack, sd, TCPC_TCP_CONGESTION, "cubic"), 0);
    expect_cc(h, sd, "cubic");
    int v = -1;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_TCP_CONGESTION, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(tcpc_setsockopt_str(h->stack, sd, TCPC_TCP_CONGESTION, "vegas"), -ESRCH);
    expect_cc(h, sd, "cubic");
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_CONGESTION, 7), -ESRCH);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_CONGESTION, 0), 0);
    expect_cc(h, sd, "newreno");
    assert_int_equal(tcpc_setsockopt_str(h->stack, sd, TCPC_TCP_NODELAY, "1"), -ENOPROTOOPT);
    assert_int_equal(tcpc_setsockopt_str(h->stack, 99, TCPC_TCP_CONGESTION, "cubic"), -EBADF);
    h_free(h);
}

/* A listener's children run the listener's algorithm (FreeBSD copies it in
 * syncache_socket). */
static void test_tcp_congestion_inherited(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = h_listen(h);
    assert_int_equal(tcpc_setsockopt_str(h->stack, l, TCPC_TCP_CONGESTION, "newreno"), 0);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = MSS));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    expect_cc(h, sd, "newreno"); /* the listener's, not the default */
    h_free(h);
}

/* ---- CUBIC ----------------------------------------------------------------- */

static struct tcpcb *tcb_of(struct harness *h, int sd)
{
    return h->stack->tcp->sockets[sd];
}

static struct harness *h_cubic(void)
{
    return h_with("net.inet.tcp.cc.algorithm=cubic", NULL);
}

/* Three duplicate ACKs (the first two let out a segment each) start fast
 * recovery with the window of the flight at the loss. */
static void three_dupacks(struct harness *h, const struct fx_conn *c, uint32_t una)
{
    for (int i = 0; i < 3; i++)
        ack_to(h, c, una);
}

/* RFC 9438 4.6: ssthresh = 0.7 of the flight (NewReno's would be half);
 * W_max = the window at the loss. */
static void test_cubic_reduction_beta(void **state)
{
    (void)state;
    struct harness *h = h_cubic();
    struct fx_conn c = open_conn(h);
    expect_cc(h, c.sd, "cubic");
    uint32_t iw = cwnd_of(h, c.sd);
    send_window(h, &c, 30 * MSS);
    three_dupacks(h, &c, 0);
    h_flush(h); /* two limited-transmit segments and the fast retransmission */
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 1);
    struct tcpc_info in = info_of(h, c.sd);
    assert_int_equal(in.snd_ssthresh, 12 * MSS * 7 / 10); /* 10 sent + 2 limited transmit */
    assert_int_equal(in.snd_cwnd, in.snd_ssthresh + 3 * MSS);
    assert_int_equal(tcb_of(h, c.sd)->t_ccs.cubic.w_max, iw);
    h_free(h);
}

/* RFC 9438 4.7: a loss below the last W_max means a new flow is taking its
 * share; W_max becomes cwnd (1 + beta) / 2 instead of cwnd. */
static void test_cubic_fast_convergence(void **state)
{
    (void)state;
    struct harness *h = h_cubic();
    struct fx_conn c = open_conn(h);
    uint32_t iw = cwnd_of(h, c.sd);
    send_window(h, &c, 60 * MSS);
    three_dupacks(h, &c, 0);
    h_flush(h);
    assert_int_equal(tcb_of(h, c.sd)->t_ccs.cubic.w_max, iw);
    ack_to(h, &c, 12 * MSS); /* everything: recovery ends with nothing in flight */
    uint32_t cwnd = cwnd_of(h, c.sd);
    assert_true(cwnd < 10 * MSS);
    h_flush(h);
    three_dupacks(h, &c, 12 * MSS);
    h_flush(h);
    assert_int_equal(tcb_of(h, c.sd)->t_ccs.cubic.w_max, cwnd * 85 / 100);
    h_free(h);
}

/*
 * A reference model of RFC 9438's congestion avoidance in floating point,
 * run on the same ACKs at the same times as the stack: W_cubic(t) = C (t -
 * K)^3 + W_max with K = cbrt((W_max - cwnd_epoch) / C), W_est grown by
 * alpha_cubic per window acknowledged, the Reno-friendly region where
 * W_cubic(t) < W_est, otherwise a step of (target - cwnd) / cwnd per
 * segment acknowledged towards W_cubic(t + RTT) clamped to [cwnd, 1.5
 * cwnd]. Windows in segments, time in seconds.
 */
struct cubic_model {
    double w_max, k, w_est, cwnd;
    uint64_t epoch_ms;
    bool started;
    unsigned reno_acks, cubic_acks; /* ACKs that took each region */
};

static double model_w_cubic(const struct cubic_model *m, double t)
{
    return 0.4 * pow(t - m->k, 3) + m->w_max;
}

static void model_start(struct cubic_model *m, double cwnd, uint64_t now_ms)
{
    m->started = true;
    m->cwnd = m->w_est = cwnd;
    m->epoch_ms = now_ms;
    m->k = m->w_max > cwnd ? cbrt((m->w_max - cwnd) / 0.4) : 0;
    if (m->w_max < cwnd)
        m->w_max = cwnd;
}

static void model_ack(struct cubic_model *m, uint64_t now_ms, double rtt_s, double acked)
{
    double t = (double)(now_ms - m->epoch_ms) / 1000;
    double alpha = m->w_est >= m->w_max ? 1 : 3 * (1 - 0.7) / (1 + 0.7);
    m->w_est += alpha * acked / m->cwnd;
    if (model_w_cubic(m, t) < m->w_est) {
        m->cwnd = m->w_est;
        m->reno_acks++;
        return;
    }
    m->cubic_acks++;
    double target = model_w_cubic(m, t + rtt_s);
    if (target > 1.5 * m->cwnd)
        target = 1.5 * m->cwnd;
    if (target > m->cwnd)
        m->cwnd += (target - m->cwnd) / m->cwnd * acked;
}

/* Sends whatever fits in the send buffer. */
static void fill(struct harness *h, int sd)
{
    static const char zeros[16384];
    while (tcpc_send(h->stack, sd, zeros, sizeof(zeros)) > 0)
        ;
}

/* One round trip: the peer acknowledges every segment in flight, one ACK
 * each, spread evenly over rtt (the ACK clock); the model (once started) is
 * shown the same ACKs at the same times. Returns the stack's window after. */
static uint32_t round_trip(struct harness *h, struct fx_conn *c, tcpc_time_t rtt,
                           struct cubic_model *m)
{
    struct tcpc_info in = info_of(h, c->sd);
    uint32_t una = in.snd_una, end = in.snd_max;
    assert_true(end - una >= MSS);
    tcpc_time_t gap = rtt / ((end - una) / MSS);
    for (uint32_t ack = una + MSS; SEQ_LEQ(ack, end); ack += MSS) {
        h_advance(h, gap);
        struct tcpc_info before = info_of(h, c->sd);
        h_inject(h, SEG(.flags = TH_ACK, .seq = c->snd, .ack = ack));
        struct tcpc_info after = info_of(h, c->sd);
        uint64_t now_ms = h->now / 1000;
        if (!m->started && before.snd_cwnd >= before.snd_ssthresh)
            model_start(m, (double)before.snd_cwnd / MSS, now_ms);
        if (m->started)
            model_ack(m, now_ms, (double)(after.srtt / 1000) / 1000, 1);
    }
    h_flush(h);
    fill(h, c->sd);
    h_flush(h);
    return cwnd_of(h, c->sd);
}

/* A CUBIC connection with a large window available (window scaling, big
 * buffers), past one loss at `w_loss` segments: the model holds W_max. */
static struct fx_conn cubic_after_loss(struct harness *h, tcpc_time_t rtt, uint32_t w_loss,
                                       struct cubic_model *m)
{
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = MSS, .wscale = 7));
    assert_int_equal(tcpc_setsockopt_str(h->stack, c.sd, TCPC_TCP_CONGESTION, "cubic"), 0);
    fill(h, c.sd);
    h_flush(h);
    struct cubic_model none = {0};
    while (cwnd_of(h, c.sd) < w_loss * MSS)
        round_trip(h, &c, rtt, &none);
    assert_false(none.started); /* still slow start */
    h_advance(h, rtt);
    uint32_t una = info_of(h, c.sd).snd_una;
    m->w_max = (double)cwnd_of(h, c.sd) / MSS;
    for (int i = 0; i < 3; i++)
        h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = una));
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 1);
    /* Everything arrives but the one segment, which the retransmission
     * repairs: the full ACK ends recovery. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = info_of(h, c.sd).snd_max));
    h_flush(h);
    fill(h, c.sd);
    h_flush(h);
    return c;
}

/* |got - want| within 0.5% of want plus a tenth of a segment: what integer
 * arithmetic may lose (whole bytes per ACK of cwnd, K to the millisecond,
 * the cube in 0.004-segment steps; 0.1% is seen). A wrong beta, C, alpha
 * or region is off by far more. */
static void assert_near(double got, double want)
{
    double tol = want / 200 + 0.1;
    if (fabs(got - want) > tol)
        fail_msg("window %.2f segments, RFC 9438 says %.2f (+-%.2f)", got, want, tol);
}

/* Long RTT, large window: the concave climb back to W_max, reached at K
 * (plateau), then the convex probe beyond it, each round within 0.5% of the
 * RFC's curve. (With 150 ms of RTT, standard TCP's estimate stays below the
 * curve all along, so the Reno-friendly region never takes over.) */
static void test_cubic_growth_follows_rfc(void **state)
{
    (void)state;
    struct harness *h = h_with("net.inet.tcp.sendspace=4194304", "kern.ipc.maxsockbuf=16777216");
    struct cubic_model m = {0};
    const tcpc_time_t rtt = 150 * MSEC;
    struct fx_conn c = cubic_after_loss(h, rtt, 80, &m);
    double w_max = m.w_max;
    bool below_seen = false, plateau_seen = false, beyond_seen = false;
    for (int r = 0; r < 100; r++) {
        uint32_t cwnd = round_trip(h, &c, rtt, &m);
        if (!m.started)
            continue;
        double w = (double)cwnd / MSS;
        assert_near(w, m.cwnd);
        double t = (double)(h->now / 1000 - m.epoch_ms) / 1000;
        if (t < m.k - 1)
            below_seen |= w < w_max - 2;
        if (fabs(t - m.k) < 0.2) {
            assert_near(w, w_max); /* W_cubic(K) = W_max */
            plateau_seen = true;
        }
        if (t > m.k + 2.5) {
            beyond_seen = w > w_max + 0.4 * pow(2.5, 3) * 0.9;
            break;
        }
    }
    assert_true(m.started);
    assert_true(m.k > 3.5 && m.k < 4.2); /* cbrt((80 - 0.7 * 82) / 0.4) = 3.8 s */
    assert_true(below_seen && plateau_seen && beyond_seen);
    assert_int_equal(m.reno_acks, 1); /* only the epoch's first, where both are level */
    h_free(h);
}

/* Short RTT, small window: standard TCP would grow faster than the cubic
 * curve, and CUBIC follows W_est instead (RFC 9438 4.3). */
static void test_cubic_reno_friendly_region(void **state)
{
    (void)state;
    struct harness *h = h_with("net.inet.tcp.sendspace=4194304", "kern.ipc.maxsockbuf=16777216");
    struct cubic_model m = {0};
    const tcpc_time_t rtt = 2 * MSEC;
    struct fx_conn c = cubic_after_loss(h, rtt, 20, &m);
    for (int r = 0; r < 60; r++) {
        uint32_t cwnd = round_trip(h, &c, rtt, &m);
        if (!m.started)
            continue;
        assert_near((double)cwnd / MSS, m.cwnd);
        double t = (double)(h->now / 1000 - m.epoch_ms) / 1000;
        if (m.reno_acks > 100 && t < m.k) /* the cubic curve alone would be lower */
            assert_true((double)cwnd / MSS > model_w_cubic(&m, t) + 1);
    }
    assert_true(m.reno_acks > 100);
    assert_int_equal(m.cubic_acks, 0);
    h_free(h);
}

/* ---- HyStart++ (RFC 9406) in CUBIC's first slow start ------------------- */

/* Timestamps on: every ACK is an RTT sample, and a segment carries the MSS
 * less the option's 12 bytes. */
#define TS_SEG (MSS - 12)

/* A connection with timestamps, window scaling and room to grow, CUBIC by
 * default, its initial window sent. */
static struct fx_conn hystart_conn(struct harness *h)
{
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = MSS, .wscale = 7, .tsval = 1));
    fill(h, c.sd);
    h_flush(h);
    return c;
}

/* The peer acknowledges the next segment in flight (TS_SEG bytes, or
 * what is left), 1 ms after the last ACK, its TSecr making the RTT sample
 * rtt_ms; the send buffer is kept full. Returns the window's growth. */
static uint32_t hs_ack(struct harness *h, struct fx_conn *c, uint32_t rtt_ms)
{
    static uint32_t peer_ts = 10;
    struct tcpcb *tp = tcb_of(h, c->sd);
    uint32_t una = tp->snd_una, left = tp->snd_max - una;
    assert_true(left > 0);
    uint32_t w = tp->snd_cwnd;
    h_advance(h, MSEC);
    uint32_t ts_now = (uint32_t)(h->now / MSEC) + tp->ts_offset;
    h_inject(h, SEG(.flags = TH_ACK, .seq = c->snd, .ack = una + (left < TS_SEG ? left : TS_SEG),
                    .tsval = peer_ts++, .tsecr = ts_now - rtt_ms));
    fill(h, c->sd);
    h_flush(h);
    return tp->snd_cwnd - w;
}

/* ACKs at rtt_ms until the phase is `want`; returns how many it took
 * (fails past `most`). */
static uint32_t hs_ack_until(struct harness *h, struct fx_conn *c, uint32_t rtt_ms,
                             enum hystart_phase want, uint32_t most)
{
    struct tcpcb *tp = tcb_of(h, c->sd);
    uint32_t n = 0;
    while (tp->t_hystart != want) {
        if (++n > most)
            fail_msg("phase %u after %u ACKs at %u ms, %u wanted", tp->t_hystart, most, rtt_ms,
                     want);
        hs_ack(h, c, rtt_ms);
    }
    return n;
}

/* Everything in flight now acknowledged at rtt_ms, each ACK growing the
 * window by what it acknowledged (slow start: RFC 3465's L = 1 caps an
 * ACK at the MSS, more than any of these). */
static void hs_round_in_slow_start(struct harness *h, struct fx_conn *c, uint32_t rtt_ms)
{
    struct tcpcb *tp = tcb_of(h, c->sd);
    uint32_t end = tp->snd_max;
    while (SEQ_LT(tp->snd_una, end)) {
        uint32_t una = tp->snd_una;
        uint32_t grew = hs_ack(h, c, rtt_ms);
        assert_int_equal(grew, tp->snd_una - una);
        assert_int_equal(tp->t_hystart, HYSTART_SS);
    }
}

/* Slow start at a steady 20 ms, then an RTT 10 ms higher (above the
 * threshold, max(4 ms, 20/8)): conservative slow start within the round
 * after the rise, growing a quarter of what each ACK acknowledges. */
static void hs_to_css(struct harness *h, struct fx_conn *c)
{
    struct tcpcb *tp = tcb_of(h, c->sd);
    for (int r = 0; r < 3; r++)
        hs_round_in_slow_start(h, c, 20);
    uint32_t two_rounds = 2 * (tp->snd_max - tp->snd_una) / TS_SEG + 2;
    hs_ack_until(h, c, 30, HYSTART_CSS, two_rounds);
    assert_int_equal(h_stat(h, "tcps_hystart_css"), 1);
    assert_int_equal(tp->snd_ssthresh, UINT32_MAX);
    assert_int_equal(hs_ack(h, c, 30), TS_SEG / 4);
}

/* Rounds at a steady 20 ms grow the window by all they acknowledge; a rise
 * of the RTT past the threshold turns to conservative slow start; after
 * css_rounds (5) rounds of it the connection is in congestion avoidance
 * with ssthresh = cwnd, and CUBIC's state starts clean from there. */
static void test_hystart_exits_slow_start_on_rtt_increase(void **state)
{
    (void)state;
    struct harness *h = h_with("net.inet.tcp.sendspace=4194304", "kern.ipc.maxsockbuf=16777216");
    struct fx_conn c = hystart_conn(h);
    struct tcpcb *tp = tcb_of(h, c.sd);
    assert_int_equal(tp->t_hystart, HYSTART_SS);
    hs_to_css(h, &c);
    /* Five rounds: at most six windows of ACKs (the first began before the
     * switch), at least four (the flight grows by a quarter a round). */
    uint32_t window = (tp->snd_max - tp->snd_una) / TS_SEG;
    uint32_t n = hs_ack_until(h, &c, 30, HYSTART_OFF, 8 * window);
    assert_true(n > 4 * window);
    /* The ACK that ended it set ssthresh where the window was and grew
     * nothing; the next is congestion avoidance: CUBIC's epoch starts with
     * W_max at that window. */
    assert_int_equal(tp->snd_ssthresh, tp->snd_cwnd);
    assert_int_equal(h_stat(h, "tcps_hystart_ca"), 1);
    uint32_t at_exit = tp->snd_cwnd;
    uint32_t grew = hs_ack(h, &c, 30);
    assert_true(grew > 0 && grew < TS_SEG / 4);
    assert_true(tp->t_ccs.cubic.epoch_ms != 0);
    assert_int_equal(tp->t_ccs.cubic.w_max, at_exit);
    h_free(h);
}

/* A rise that the next round takes back was noise: back to full growth
 * once a round has seen eight samples below where CSS began. */
static void test_hystart_css_returns_to_slow_start(void **state)
{
    (void)state;
    struct harness *h = h_with("net.inet.tcp.sendspace=4194304", "kern.ipc.maxsockbuf=16777216");
    struct fx_conn c = hystart_conn(h);
    struct tcpcb *tp = tcb_of(h, c.sd);
    hs_to_css(h, &c);
    uint32_t window = (tp->snd_max - tp->snd_una) / TS_SEG;
    hs_ack_until(h, &c, 20, HYSTART_SS, 2 * window);
    assert_int_equal(hs_ack(h, &c, 20), TS_SEG);
    h_free(h);
}

/* A steady RTT never leaves slow start; nor does a rising one with the
 * tunable off. */
static void test_hystart_steady_rtt_and_tunable_off(void **state)
{
    (void)state;
    for (int on = 1; on >= 0; on--) {
        struct harness *h =
            h_with("kern.ipc.maxsockbuf=16777216", on ? "net.inet.tcp.sendspace=4194304"
                                                      : "net.inet.tcp.cc.hystartplusplus.enable=0");
        if (!on)
            fx_set_tunable(h, "net.inet.tcp.sendspace", 4194304);
        struct fx_conn c = hystart_conn(h);
        struct tcpcb *tp = tcb_of(h, c.sd);
        assert_int_equal(tp->t_hystart, on ? HYSTART_SS : HYSTART_OFF);
        for (uint32_t r = 0; r < 6; r++) {
            uint32_t end = tp->snd_max;
            while (SEQ_LT(tp->snd_una, end)) {
                uint32_t una = tp->snd_una;
                uint32_t grew = hs_ack(h, &c, on ? 20 : 20 + 10 * r);
                assert_int_equal(grew, tp->snd_una - una);
            }
        }
        assert_int_equal(tp->t_hystart, on ? HYSTART_SS : HYSTART_OFF);
        assert_int_equal(tp->snd_ssthresh, UINT32_MAX);
        h_free(h);
    }
}

/* A loss in conservative slow start ends HyStart++ and CUBIC reduces from
 * a clean state: W_max is the window at the loss, beta 0.7 of the flight
 * (two limited-transmit segments included). */
static void test_hystart_loss_hands_state_to_cubic(void **state)
{
    (void)state;
    struct harness *h = h_with("net.inet.tcp.sendspace=4194304", "kern.ipc.maxsockbuf=16777216");
    struct fx_conn c = hystart_conn(h);
    struct tcpcb *tp = tcb_of(h, c.sd);
    hs_to_css(h, &c);
    uint32_t w = tp->snd_cwnd, una = tp->snd_una, flight = tp->snd_max - tp->snd_una;
    for (uint32_t i = 0; i < 3; i++)
        h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = una, .tsval = 100000 + i,
                        .tsecr = tp->ts_offset + (uint32_t)(h->now / MSEC) - 30));
    assert_int_equal(tp->t_hystart, HYSTART_OFF);
    assert_int_equal(h_stat(h, "tcps_hystart_ca"), 0);
    assert_int_equal(tp->t_ccs.cubic.w_max, w);
    assert_int_equal(tp->snd_ssthresh, (uint32_t)((uint64_t)(flight + 2 * TS_SEG) * 7 / 10));
    h_free(h);
}

static void test_hystart_tunables_validated(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    const char *why = NULL;
    assert_int_equal(
        tcpc_sysctl_set(h->stack, "net.inet.tcp.cc.hystartplusplus.minrtt_thresh", 20000, &why),
        -EINVAL);
    assert_non_null(strstr(why, "maxrtt_thresh"));
    assert_int_equal(
        tcpc_sysctl_set(h->stack, "net.inet.tcp.cc.hystartplusplus.css_rounds", 0, &why), -EINVAL);
    assert_int_equal(
        tcpc_sysctl_set(h->stack, "net.inet.tcp.cc.hystartplusplus.n_rttsamples", 4, &why), 0);
    h_free(h);
}

/* An integer cube root, exact on cubes and floor between them. */
static void test_cbrt(void **state)
{
    (void)state;
    assert_int_equal(cc_cbrt(0), 0);
    assert_int_equal(cc_cbrt(7), 1);
    assert_int_equal(cc_cbrt(8), 2);
    assert_int_equal(cc_cbrt(26), 2);
    assert_int_equal(cc_cbrt(27), 3);
    assert_int_equal(cc_cbrt(1000000000000ULL), 10000);
    assert_int_equal(cc_cbrt(999999999999ULL), 9999);
    assert_int_equal(cc_cbrt(UINT64_MAX), 2642245);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abc_default_one_segment),
        cmocka_unit_test(test_abc_l_var_two),
        cmocka_unit_test(test_abc_one_segment_after_timeout),
        cmocka_unit_test(test_abc_l_var_bounds),
        cmocka_unit_test(test_restart_window_after_idle),
        cmocka_unit_test(test_no_restart_within_rto),
        cmocka_unit_test(test_no_restart_when_peer_spoke),
        cmocka_unit_test(test_cc_algorithm_tunable),
        cmocka_unit_test(test_tcp_congestion_sockopt),
        cmocka_unit_test(test_tcp_congestion_inherited),
        cmocka_unit_test(test_cubic_reduction_beta),
        cmocka_unit_test(test_cubic_fast_convergence),
        cmocka_unit_test(test_cubic_growth_follows_rfc),
        cmocka_unit_test(test_cubic_reno_friendly_region),
        cmocka_unit_test(test_cbrt),
        cmocka_unit_test(test_hystart_exits_slow_start_on_rtt_increase),
        cmocka_unit_test(test_hystart_css_returns_to_slow_start),
        cmocka_unit_test(test_hystart_steady_rtt_and_tunable_off),
        cmocka_unit_test(test_hystart_loss_hands_state_to_cubic),
        cmocka_unit_test(test_hystart_tunables_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
