/*
 * The simulator's faults (io/memlink), each on its own and then together.
 *
 * Most tests hand the link numbered packets of their own (a bare IPv4 header
 * whose source address is the packet's number, and a payload derived from
 * that number, so that a changed byte shows) through a
 * side's output callback, at chosen virtual times, and watch what the tap
 * sees delivered and when. Shares (loss, duplication, reordering) are
 * checked against the configured probability within five standard
 * deviations of the binomial count; the seed is fixed, so a pass is no
 * luck of the draw, and the tolerance says the generator is not merely
 * deterministic but right. Corruption is checked against a real receiving
 * stack, whose checksum counter must count every corrupted copy.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harness.h"
#include "hsim.h"
#include "memlink.h"

#define MAXPKT 2048
#define MAXREC 300000

struct rec {
    int from;
    tcpc_time_t at;
    uint32_t num;
    size_t len;
};

struct tap {
    struct rec *recs;
    size_t n;
    uint32_t changed_bytes, bad_offset; /* corruption: bytes changed, changes in the IP header */
};

struct bench {
    struct tcpc_memlink *link;
    struct tcpc_config cfg[2];
    struct tap tap;
};

static void fill(uint8_t *p, size_t len, uint32_t num)
{
    memset(p, 0, len);
    p[0] = 0x45;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    p[8] = 64;
    p[9] = 253; /* an experimental protocol: nothing but our tap reads these */
    memcpy(p + 12, &num, sizeof(num)); /* the source address: corruption spares it */
    for (size_t i = 20; i < len; i++)
        p[i] = (uint8_t)(i * 7 + num);
}

static void tap_fn(void *ctx, int from_side, tcpc_time_t now, const uint8_t *pkt, size_t len)
{
    struct tap *t = ctx;
    assert_true(t->n < MAXREC);
    assert_true(len >= 20 && len <= MAXPKT);
    uint8_t want[MAXPKT];
    uint32_t num;
    memcpy(&num, pkt + 12, sizeof(num));
    fill(want, len, num);
    for (size_t i = 0; i < len; i++) {
        if (pkt[i] == want[i])
            continue;
        t->changed_bytes++;
        if (i < 20)
            t->bad_offset++;
    }
    t->recs[t->n++] = (struct rec){from_side, now, num, len};
}

static struct bench *bench_new(uint64_t seed)
{
    struct bench *b = calloc(1, sizeof(*b));
    assert_non_null(b);
    b->link = tcpc_memlink_new(seed);
    assert_non_null(b->link);
    b->tap.recs = calloc(MAXREC, sizeof(struct rec));
    assert_non_null(b->tap.recs);
    for (int i = 0; i < 2; i++) {
        tcpc_config_init(&b->cfg[i]);
        tcpc_memlink_configure(b->link, i, &b->cfg[i]);
    }
    tcpc_memlink_set_tap(b->link, tap_fn, &b->tap);
    return b;
}

static void bench_free(struct bench *b)
{
    tcpc_memlink_del(b->link);
    free(b->tap.recs);
    free(b);
}

static void set_path(struct bench *b, int side, const struct tcpc_memlink_faults *f)
{
    const char *why = NULL;
    int err = tcpc_memlink_set_path(b->link, side, f, &why);
    if (err)
        fail_msg("set_path: %s", why);
}

/* Side `side` sends packet num of len bytes at virtual time t. */
static int send_at(struct bench *b, int side, tcpc_time_t t, uint32_t num, size_t len)
{
    /* Deliver what is due before t at its own time, then stand at t. */
    tcpc_memlink_run(b->link, tcpc_memlink_now(b->link), t);
    tcpc_memlink_run(b->link, t, t);
    uint8_t p[MAXPKT];
    fill(p, len, num);
    return b->cfg[side].output(b->cfg[side].output_ctx, p, len);
}

static void run_all(struct bench *b)
{
    tcpc_memlink_run(b->link, tcpc_memlink_now(b->link), TCPC_TIME_NEVER - 1);
    assert_int_equal(tcpc_memlink_pending(b->link), 0);
}

/* |count - n p| within five binomial standard deviations. */
static void assert_share(uint64_t count, uint64_t n, uint32_t ppm)
{
    double p = ppm / 1e6, mean = (double)n * p, sd = sqrt((double)n * p * (1 - p));
    if (fabs((double)count - mean) > 5 * sd)
        fail_msg("%llu of %llu, expected %.0f +- %.0f (5 sd)", (unsigned long long)count,
                 (unsigned long long)n, mean, 5 * sd);
}

static void test_faults_checked(void **state)
{
    (void)state;
    struct bench *b = bench_new(1);
    struct tcpc_memlink_faults f, got;
    const char *why = NULL;
    tcpc_memlink_faults_init(&f);
    assert_int_equal(f.size, sizeof(f));
    assert_int_equal(tcpc_memlink_faults_check(&f, &why), 0);
    assert_int_equal(tcpc_memlink_faults_check(NULL, &why), -EINVAL);

    struct tcpc_memlink_faults bad = f;
    bad.size = 8;
    assert_int_equal(tcpc_memlink_faults_check(&bad, &why), -EINVAL);
    assert_non_null(strstr(why, "size"));
    bad = f;
    bad.loss_ppm = 1000001;
    assert_int_equal(tcpc_memlink_faults_check(&bad, &why), -EINVAL);
    assert_non_null(strstr(why, "parts per million"));
    bad = f;
    bad.ge_loss_bad_ppm = 2000000;
    assert_int_equal(tcpc_memlink_faults_check(&bad, &why), -EINVAL);
    bad = f;
    bad.delay = TCPC_MEMLINK_DELAY_MAX + 1;
    assert_int_equal(tcpc_memlink_faults_check(&bad, &why), -EINVAL);
    assert_non_null(strstr(why, "delay"));
    bad = f;
    bad.reorder_ppm = 1000;
    assert_int_equal(tcpc_memlink_faults_check(&bad, &why), -EINVAL);
    assert_non_null(strstr(why, "reorder_delay"));
    bad = f;
    bad.queue_pkts = 10;
    assert_int_equal(tcpc_memlink_faults_check(&bad, &why), -EINVAL);
    assert_non_null(strstr(why, "rate"));

    /* A refused setting leaves the link as it was. */
    f.delay = 1234;
    set_path(b, 1, &f);
    assert_int_equal(tcpc_memlink_set_path(b->link, 1, &bad, &why), -EINVAL);
    assert_int_equal(tcpc_memlink_set_path(b->link, 2, &f, &why), -EINVAL);
    assert_int_equal(tcpc_memlink_set_path(b->link, -1, &f, &why), -EINVAL);
    tcpc_memlink_get_path(b->link, 1, &got);
    assert_int_equal(got.delay, 1234);
    assert_int_equal(got.queue_pkts, 0);

    /* The shorthand sets delay and loss both ways and keeps the rest. */
    f.dup_ppm = 77;
    set_path(b, 0, &f);
    tcpc_memlink_set_faults(b->link, 500, 20000);
    for (int i = 0; i < 2; i++) {
        tcpc_memlink_get_path(b->link, i, &got);
        assert_int_equal(got.delay, 500);
        assert_int_equal(got.loss_ppm, 20000);
    }
    tcpc_memlink_get_path(b->link, 0, &got);
    assert_int_equal(got.dup_ppm, 77);
    bench_free(b);
}

/* One-way delay, each direction its own. */
static void test_delay_per_direction(void **state)
{
    (void)state;
    struct bench *b = bench_new(2);
    struct tcpc_memlink_faults f;
    tcpc_memlink_faults_init(&f);
    f.delay = 3000;
    set_path(b, 0, &f);
    f.delay = 700;
    set_path(b, 1, &f);
    assert_int_equal(send_at(b, 0, 100, 1, 100), 0);
    assert_int_equal(send_at(b, 1, 100, 2, 100), 0);
    run_all(b);
    assert_int_equal(b->tap.n, 2);
    assert_int_equal(b->tap.recs[0].num, 2);
    assert_int_equal(b->tap.recs[0].at, 800);
    assert_int_equal(b->tap.recs[0].from, 1);
    assert_int_equal(b->tap.recs[1].num, 1);
    assert_int_equal(b->tap.recs[1].at, 3100);
    assert_int_equal(tcpc_memlink_counters(b->link, 0)->delivered, 1);
    assert_int_equal(tcpc_memlink_counters(b->link, 1)->delivered, 1);
    bench_free(b);
}

/*
 * Rate limit: a burst leaves one packet per serialisation time (len / rate)
 * after the one before, then the propagation delay; a packet sent to an idle
 * bottleneck waits only for its own serialisation. The other direction is
 * not limited.
 */
static void test_rate_serialisation(void **state)
{
    (void)state;
    struct bench *b = bench_new(3);
    struct tcpc_memlink_faults f;
    tcpc_memlink_faults_init(&f);
    f.delay = 5000;
    f.rate_Bps = 12500000; /* 100 Mbit/s: 1500 bytes in 120 us, 1000 in 80 */
    set_path(b, 0, &f);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(send_at(b, 0, 1000, i, 1500), 0);
    assert_int_equal(send_at(b, 0, 1000, 10, 1000), 0);
    assert_int_equal(send_at(b, 1, 1000, 11, 1500), 0);
    /* Long after the burst: an idle bottleneck. */
    assert_int_equal(send_at(b, 0, 100000, 12, 1000), 0);
    run_all(b);
    assert_int_equal(b->tap.n, 13);
    assert_int_equal(b->tap.recs[0].num, 11); /* no limit, no delay that way */
    assert_int_equal(b->tap.recs[0].at, 1000);
    for (uint32_t i = 0; i < 10; i++) {
        assert_int_equal(b->tap.recs[1 + i].num, i);
        assert_int_equal(b->tap.recs[1 + i].at, 1000 + 120 * (i + 1) + 5000);
    }
    assert_int_equal(b->tap.recs[11].at, 1000 + 1200 + 80 + 5000);
    assert_int_equal(b->tap.recs[12].at, 100000 + 80 + 5000);

    /* A rate that does not divide into whole microseconds keeps its
     * fractions: 1000 packets of 100 bytes at 3 MB/s take 33,333.3 us. */
    f.delay = 0;
    f.rate_Bps = 3000000;
    set_path(b, 0, &f);
    b->tap.n = 0;
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal(send_at(b, 0, 200000, i, 100), 0);
    run_all(b);
    assert_int_equal(b->tap.n, 1000);
    assert_int_equal(b->tap.recs[999].at, 200000 + 33334);
    bench_free(b);
}

/* Drop-tail by packets: a burst into an idle bottleneck keeps queue_pkts
 * (the one being sent included) and drops the rest; as the queue drains,
 * room comes back one packet per serialisation time. */
static void test_queue_drops_packets(void **state)
{
    (void)state;
    struct bench *b = bench_new(4);
    struct tcpc_memlink_faults f;
    tcpc_memlink_faults_init(&f);
    f.rate_Bps = 1000000; /* 1000 bytes per ms */
    f.queue_pkts = 4;
    set_path(b, 0, &f);
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(send_at(b, 0, 0, i, 1000), 0); /* drops are silent */
    const struct tcpc_memlink_counters *c = tcpc_memlink_counters(b->link, 0);
    assert_int_equal(c->sent, 10);
    assert_int_equal(c->queue_drops, 6);
    /* At 1 ms the first has left: one more fits, not two. */
    assert_int_equal(send_at(b, 0, 1000, 10, 1000), 0);
    assert_int_equal(send_at(b, 0, 1000, 11, 1000), 0);
    assert_int_equal(c->queue_drops, 7);
    run_all(b);
    assert_int_equal(b->tap.n, 5);
    uint32_t want[] = {0, 1, 2, 3, 10};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(b->tap.recs[i].num, want[i]);
        assert_int_equal(b->tap.recs[i].at, 1000 * (tcpc_time_t)(i + 1));
    }
    assert_int_equal(c->delivered, 5);
    bench_free(b);
}

/* Drop-tail by bytes: a packet that would take the backlog past
 * queue_bytes is dropped, a smaller one behind it may still fit. */
static void test_queue_drops_bytes(void **state)
{
    (void)state;
    struct bench *b = bench_new(5);
    struct tcpc_memlink_faults f;
    tcpc_memlink_faults_init(&f);
    f.rate_Bps = 1000000;
    f.queue_bytes = 2600;
    set_path(b, 0, &f);
    assert_int_equal(send_at(b, 0, 0, 0, 1000), 0);
    assert_int_equal(send_at(b, 0, 0, 1, 1000), 0);
    assert_int_equal(send_at(b, 0, 0, 2, 1000), 0); /* 3000 > 2600: dropped */
    assert_int_equal(send_at(b, 0, 0, 3, 600), 0);  /* 2600: fits */
    assert_int_equal(send_at(b, 0, 0, 4, 24), 0);   /* 2624: dropped */
    run_all(b);
    assert_int_equal(tcpc_memlink_counters(b->link, 0)->queue_drops, 2);
    assert_int_equal(b->tap.n, 3);
    assert_int_equal(b->tap.recs[2].num, 3);
    assert_int_equal(b->tap.recs[2].at, 2600);
    bench_free(b);
}

#define NPKT 100000u

/* Sends NPKT numbered packets from side 0, spaced by gap, and delivers. */
static void send_many(struct bench *b, tcpc_time_t gap, size_t len)
{
    for (uint32_t i = 0; i < NPKT; i++)
        assert_int_equal(send_at(b, 0, 1000 + i * gap, i, len), 0);
    run_all(b);
}

/* Runs of consecutive numbers missing from what was delivered (in order). */
static void loss_runs(const struct tap *t, uint64_t *lost, uint64_t *runs)
{
    *lost = *runs = 0;
    uint32_t expect = 0;
    for (size_t i = 0; i <= t->n; i++) {
        uint32_t num = i < t->n ? t->recs[i].num : NPKT;
        if (num > expect) {
            *lost += num - expect;
            (*runs)++;
        }
        expect = num + 1;
    }
}

/* Bernoulli loss: the share configured, in short runs. */
static void test_bernoulli_loss(void **state)
{
    (void)state;
    struct bench *b = bench_new(hsim_seed(6, "test_bernoulli_loss"));
    struct tcpc_memlink_faults f;
    tcpc_memlink_faults_init(&f);
    f.loss_ppm = 50000;
    set_path(b, 0, &f);
    send_many(b, 10, 100);
    const struct tcpc_memlink_counters *c = tcpc_memlink_counters(b->link, 0);
    assert_int_equal(c->sent, NPKT);
    assert_int_equal(c->lost + c->delivered, NPKT);
    assert_share(c->lost, NPKT, f.loss_ppm);
    uint64_t lost, runs;
    loss_runs(&b->tap, &lost, &runs);
    assert_int_equal(lost, c->lost);
    /* Independent losses: mean run 1 / (1 - p), about 1.05. */
    double mean = (double)lost / (double)runs;
    print_message("bernoulli 5%%: %llu lost, mean run %.3f\n", (unsigned long long)lost, mean);
    assert_true(mean < 1.1);
    bench_free(b);
}

/*
 * Gilbert-Elliott: with p = 1% (good to bad), r = 20% (bad to good), no
 * loss when good and all when bad, the long-run loss is p / (p + r) = 4.76%
 * in runs of mean length 1 / r = 5. With the bad state losing half its
 * packets and the good one 0.1%, the share is (r 0.1% + p 50%) / (p + r).
 */
static void test_gilbert_elliott_loss(void **state)
{
    (void)state;
    struct bench *b = bench_new(hsim_seed(7, "test_gilbert_elliott_loss"));
    struct tcpc_memlink_faults f;
    tcpc_memlink_faults_init(&f);
    f.ge_p_ppm = 10000;
    f.ge_r_ppm = 200000;
    f.ge_loss_bad_ppm = 1000000;
    set_path(b, 0, &f);
    send_many(b, 10, 100);
    const struct tcpc_memlink_counters *c = tcpc_memlink_counters(b->link, 0);
    uint64_t lost, runs;
    loss_runs(&b->tap, &lost, &runs);
    assert_int_equal(lost, c->lost);
    double share = (double)lost / NPKT, mean = (double)lost / (double)runs;
    print_message("gilbert p 1%% r 20%%: loss %.4f (expected 0.0476), mean burst %.2f "
                  "(expected 5)\n",
                  share, mean);
    /* Bursty losses are not independent: the binomial bound does not
     * apply; the chain's own spread over ~950 bursts is a few percent. */
    assert_true(fabs(share - 10000.0 / 210000) < 0.006);
    assert_true(mean > 4.5 && mean < 5.5);
    bench_free(b);

    b = bench_new(hsim_seed(8, "test_gilbert_elliott_loss"));
    f.ge_loss_good_ppm = 1000;
    f.ge_loss_bad_ppm = 500000;
    set_path(b, 0, &f);
    send_many(b, 10, 100);
    share = (double)tcpc_memlink_counters(b->link, 0)->lost / NPKT;
    double want = (200000.0 * 0.001 + 10000.0 * 0.5) / 210000;
    print_message("gilbert with state losses: %.4f (expected %.4f)\n", share, want);
    assert_true(fabs(share - want) < 0.004);
    bench_free(b);
}

/* Duplication: the share configured; the copy arrives with the original. */
static void test_duplication(void **state)
{
    (void)state;
    struct bench *b = bench_new(hsim_seed(9, "test_duplication"));
    struct tcpc_memlink_faults f;
    tcpc_memlink_faults_init(&f);
    f.dup_ppm = 20000;
    f.delay = 100;
    set_path(b, 0, &f);
    send_many(b, 10, 100);
    const struct tcpc_memlink_counters *c = tcpc_memlink_counters(b->link, 0);
    assert_share(c->duplicated, NPKT, f.dup_ppm);
    assert_int_equal(c->delivered, NPKT + c->duplicated);
    assert_int_equal(b->tap.n, c->delivered);
    uint64_t twice = 0;
    for (size_t i = 1; i < b->tap.n; i++) {
        const struct rec *p = &b->tap.recs[i - 1], *r = &b->tap.recs[i];
        assert_true(r->num == p->num + 1 || r->num == p->num); /* nothing else moves */
        if (r->num == p->num) {
            assert_int_equal(r->at, p->at);
            twice++;
        }
    }
    assert_int_equal(twice, c->duplicated);
    bench_free(b);
}

/* Reordering: the share configured is held back by reorder_delay, and is
 * overtaken by exactly the packets sent during that time. */
static void test_reordering(void **state)
{
    (void)state;
    struct bench *b = bench_new(hsim_seed(10, "test_reordering"));
    struct tcpc_memlink_faults f;
    tcpc_memlink_faults_init(&f);
    f.delay = 1000;
    f.reorder_ppm = 30000;
    f.reorder_delay = 350; /* 3.5 gaps of 100 us: three later packets overtake */
    set_path(b, 0, &f);
    send_many(b, 100, 100);
    const struct tcpc_memlink_counters *c = tcpc_memlink_counters(b->link, 0);
    assert_share(c->reordered, NPKT, f.reorder_ppm);
    assert_int_equal(b->tap.n, NPKT);
    uint64_t late = 0;
    for (size_t i = 0; i < b->tap.n; i++) {
        const struct rec *r = &b->tap.recs[i];
        tcpc_time_t sent = 1000 + (tcpc_time_t)r->num * 100;
        if (r->at == sent + 1000 + 350)
            late++;
        else
            assert_int_equal(r->at, sent + 1000);
    }
    assert_int_equal(late, c->reordered);
    /* Out of order as seen by the receiver: a number below one already
     * seen. A packet held back alone is overtaken by three. */
    uint64_t below = 0;
    uint32_t high = 0;
    for (size_t i = 0; i < b->tap.n; i++) {
        if (i && b->tap.recs[i].num < high)
            below++;
        if (b->tap.recs[i].num > high)
            high = b->tap.recs[i].num;
    }
    assert_true(below > 0 && below <= c->reordered);
    bench_free(b);
}

/* Corruption changes one byte, never in the IP header. */
static void test_corruption_one_byte(void **state)
{
    (void)state;
    struct bench *b = bench_new(hsim_seed(11, "test_corruption_one_byte"));
    struct tcpc_memlink_faults f;
    tcpc_memlink_faults_init(&f);
    f.corrupt_ppm = 100000;
    set_path(b, 0, &f);
    send_many(b, 10, 200);
    const struct tcpc_memlink_counters *c = tcpc_memlink_counters(b->link, 0);
    assert_share(c->corrupted, NPKT, f.corrupt_ppm);
    assert_int_equal(b->tap.changed_bytes, c->corrupted);
    assert_int_equal(b->tap.bad_offset, 0);
    bench_free(b);
}

/*
 * Turning one fault on does not move another's choices: the same seed loses
 * the same packets whether or not duplication, reordering and corruption
 * are on too.
 */
static void test_faults_compose(void **state)
{
    (void)state;
    uint64_t seed = hsim_seed(12, "test_faults_compose");
    uint8_t *lost[2];
    for (int run = 0; run < 2; run++) {
        struct bench *b = bench_new(seed);
        struct tcpc_memlink_faults f;
        tcpc_memlink_faults_init(&f);
        f.loss_ppm = 30000;
        if (run) {
            f.dup_ppm = 50000;
            f.reorder_ppm = 50000;
            f.reorder_delay = 50;
            f.corrupt_ppm = 50000;
        }
        set_path(b, 0, &f);
        send_many(b, 100, 100);
        lost[run] = calloc(NPKT, 1);
        assert_non_null(lost[run]);
        memset(lost[run], 1, NPKT);
        for (size_t i = 0; i < b->tap.n; i++) {
            assert_true(b->tap.recs[i].num < NPKT);
            lost[run][b->tap.recs[i].num] = 0;
        }
        if (run) {
            const struct tcpc_memlink_counters *c = tcpc_memlink_counters(b->link, 0);
            assert_true(c->duplicated > 0 && c->reordered > 0 && c->corrupted > 0);
        }
        bench_free(b);
    }
    assert_memory_equal(lost[0], lost[1], NPKT);
    free(lost[0]);
    free(lost[1]);
}

/* --- with stacks --- */

static const char *const quick_close[] = {"net.inet.tcp.msl=200", NULL};

/*
 * Every corrupted copy reaches the receiving stack and is dropped by its TCP
 * checksum (tcps_rcvbadsum), in each direction, and the data still arrives
 * intact: the retransmissions repair what corruption cost.
 */
static void check_corruption_caught(bool v6)
{
    struct hsim_opts o;
    hsim_opts_init(&o, hsim_seed(v6 ? 14 : 13,
                                 v6 ? "test_corruption_caught_v6" : "test_corruption_caught_v4"));
    o.v6 = v6;
    o.bytes[0] = 1 << 20;
    o.bytes[1] = 1 << 20;
    o.sysctls = quick_close;
    for (int i = 0; i < 2; i++) {
        o.path[i].delay = 2000;
        o.path[i].corrupt_ppm = 20000;
    }
    struct hsim_result r;
    hsim_run(&o, &r);
    hsim_check_intact(&o, &r);
    for (int i = 0; i < 2; i++) {
        assert_true(r.link[i].corrupted > 10);
        assert_int_equal(r.stats[1 - i].tcps_rcvbadsum, r.link[i].corrupted);
    }
}

static void test_corruption_caught_v4(void **state)
{
    (void)state;
    check_corruption_caught(false);
}

static void test_corruption_caught_v6(void **state)
{
    (void)state;
    check_corruption_caught(true);
}

/* A packet trace's digest: when and which bytes reached each side. */
static void digest_tap(void *ctx, int from_side, tcpc_time_t now, const uint8_t *pkt, size_t len)
{
    crypto_generichash_state *st = ctx;
    uint8_t hdr[9];
    hdr[0] = (uint8_t)from_side;
    memcpy(hdr + 1, &now, sizeof(now));
    crypto_generichash_update(st, hdr, sizeof(hdr));
    crypto_generichash_update(st, pkt, len);
}

static void traced_run(uint64_t seed, uint8_t out[32], struct hsim_result *r)
{
    struct hsim_opts o;
    hsim_opts_init(&o, seed);
    o.bytes[0] = 2 << 20;
    o.bytes[1] = 1 << 20;
    o.sysctls = quick_close;
    for (int i = 0; i < 2; i++) {
        struct tcpc_memlink_faults *f = &o.path[i];
        f->delay = 5000;
        f->rate_Bps = 5000000;
        f->queue_pkts = 8; /* less than the window: some tail drops */
        f->loss_ppm = 20000;
        f->ge_p_ppm = 5000;
        f->ge_r_ppm = 300000;
        f->ge_loss_bad_ppm = 800000;
        f->reorder_ppm = 20000;
        f->reorder_delay = 3000;
        f->dup_ppm = 10000;
        f->corrupt_ppm = 10000;
    }
    CRYPTO_ALIGN(64) crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    o.tap = digest_tap;
    o.tap_ctx = &st;
    hsim_run(&o, r);
    hsim_check_intact(&o, r);
    crypto_generichash_final(&st, out, 32);
}

/* Same seed, same run, packet for packet and microsecond for microsecond,
 * with every fault on at once; another seed, another run. */
static void test_replays_from_seed(void **state)
{
    (void)state;
    uint64_t seed = hsim_seed(15, "test_replays_from_seed");
    uint8_t a[32], b[32], c[32];
    struct hsim_result ra, rb, rc;
    traced_run(seed, a, &ra);
    traced_run(seed, b, &rb);
    traced_run(seed + 1, c, &rc);
    assert_memory_equal(a, b, 32);
    assert_memory_not_equal(a, c, 32);
    assert_memory_equal(&ra.link, &rb.link, sizeof(ra.link));
    assert_int_equal(ra.done[0], rb.done[0]);
    for (int i = 0; i < 2; i++) {
        const struct tcpc_memlink_counters *k = &ra.link[i];
        print_message("side %d: sent %llu delivered %llu queue drops %llu lost %llu reordered %llu "
                      "duplicated %llu corrupted %llu\n",
                      i, (unsigned long long)k->sent, (unsigned long long)k->delivered,
                      (unsigned long long)k->queue_drops, (unsigned long long)k->lost,
                      (unsigned long long)k->reordered, (unsigned long long)k->duplicated,
                      (unsigned long long)k->corrupted);
        assert_true(k->queue_drops > 0 && k->lost > 0 && k->reordered > 0 && k->duplicated > 0 &&
                    k->corrupted > 0);
        assert_int_equal(ra.stats[1 - i].tcps_rcvbadsum, k->corrupted);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_checked),       cmocka_unit_test(test_delay_per_direction),
        cmocka_unit_test(test_rate_serialisation),   cmocka_unit_test(test_queue_drops_packets),
        cmocka_unit_test(test_queue_drops_bytes),    cmocka_unit_test(test_bernoulli_loss),
        cmocka_unit_test(test_gilbert_elliott_loss), cmocka_unit_test(test_duplication),
        cmocka_unit_test(test_reordering),           cmocka_unit_test(test_corruption_one_byte),
        cmocka_unit_test(test_faults_compose),       cmocka_unit_test(test_corruption_caught_v4),
        cmocka_unit_test(test_corruption_caught_v6), cmocka_unit_test(test_replays_from_seed),
    };
    const char *only = getenv("TCPC_TEST_FILTER");
    if (only)
        cmocka_set_test_filter(only);
    return cmocka_run_group_tests_name("memlink", tests, NULL, NULL);
}
