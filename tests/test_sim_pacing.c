/*
 * Pacing on the simulator (docs/cc.md): 20 MB one way over a 100 Mbit/s
 * path with 5 ms of one-way delay and a drop-tail queue of 32 KiB, a
 * quarter of the bandwidth-delay product, with socket buffers of 1 MiB,
 * far more than the path holds. Unpaced, slow start sends each window as
 * the ACKs of the last allow, in bursts at the sender's line rate that the
 * short queue cannot absorb: it drops, and the sender retransmits. Paced
 * by TCPC_SO_MAX_PACING_RATE at 80% of the bottleneck, data arrives at
 * the queue slower than it drains, a burst (a millisecond at the rate,
 * seven packets) at a time: the queue never fills, nothing is resent, and
 * the goodput is the cap's. Each run replays from its seed
 * (TCPC_SIM_SEED).
 */
#include <inttypes.h>
#include <stdlib.h>

#include "harness.h"
#include "hsim.h"

#define TOTAL    (20ull * 1000 * 1000)
#define RATE     12500000ull /* bytes per second: 100 Mbit/s */
#define DELAY    5000ull     /* one way, us */
#define QUEUE    32768u
#define PACE_CAP 10000000 /* bytes per second, 80% of RATE */

static const char *const bufs[] = {
    "net.inet.tcp.sendspace=1048576", "net.inet.tcp.recvspace=1048576",
    "net.inet.tcp.sendbuf_auto=0",    "net.inet.tcp.recvbuf_auto=0",
    "net.inet.tcp.msl=1000",          NULL,
};

static void cap_client(struct tcpc_stack *stack, int sd, int side, void *ctx)
{
    (void)ctx;
    if (side == 0)
        assert_int_equal(tcpc_setsockopt(stack, sd, TCPC_SO_MAX_PACING_RATE, PACE_CAP), 0);
}

static void run(const char *name, uint64_t seed, bool paced, struct hsim_opts *o,
                struct hsim_result *r)
{
    hsim_opts_init(o, hsim_seed(seed, name));
    o->bytes[0] = TOTAL;
    o->sysctls = bufs;
    for (int i = 0; i < 2; i++) {
        o->path[i].delay = DELAY;
        o->path[i].rate_Bps = RATE;
        o->path[i].queue_bytes = QUEUE;
    }
    if (paced)
        o->sock_setup = cap_client;
    hsim_run(o, r);
    if (getenv("TCPC_SIM_STATS"))
        hsim_print_stats(r);
    hsim_check_intact(o, r);
    print_message("%s: %.2f MB/s; queue drops %" PRIu64 ", rexmit %" PRIu64 ", held %" PRIu64 "\n",
                  name, hsim_goodput(o, r, 0) / 1e6, r->link[0].queue_drops,
                  r->stats[0].tcps_sndrexmitpack, r->stats[0].tcps_pace_held);
}

/* The unpaced sender's bursts overflow the short queue. */
static void test_sim_unpaced_overflows_queue(void **state)
{
    (void)state;
    struct hsim_opts o;
    struct hsim_result r;
    run("test_sim_unpaced_overflows_queue", 0x5157000000030000ull, false, &o, &r);
    assert_true(r.link[0].queue_drops > 0);
    assert_true(r.stats[0].tcps_sndrexmitpack > 0);
    assert_int_equal(r.stats[0].tcps_pace_held, 0);
}

/* The same path, paced below the bottleneck: no queue drop, no
 * retransmission, and the goodput the cap allows, not more. */
static void test_sim_paced_no_queue_drops(void **state)
{
    (void)state;
    struct hsim_opts o;
    struct hsim_result r;
    run("test_sim_paced_no_queue_drops", 0x5157000000030000ull, true, &o, &r);
    assert_int_equal(r.link[0].queue_drops, 0);
    assert_int_equal(r.stats[0].tcps_sndrexmitpack, 0);
    assert_true(r.stats[0].tcps_pace_held > 0);
    double goodput = hsim_goodput(&o, &r, 0);
    assert_true(goodput <= PACE_CAP);
    /* The handshake, the first round trip and the close take their part
     * of the two seconds. */
    assert_true(goodput >= 0.9 * PACE_CAP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_unpaced_overflows_queue),
        cmocka_unit_test(test_sim_paced_no_queue_drops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
