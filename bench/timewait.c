/*
 * bench/timewait: what a compressed TIME_WAIT record costs in memory, and
 * what entering and leaving TIME_WAIT costs in time.
 *
 * Two stacks on the memory link (io/memlink): a client at 198.18.0.1 opens
 * connections to a server at 198.18.0.2 listening on 32 ports and closes
 * each one first, so that every connection leaves one record in the
 * client's TIME_WAIT, until N records sit there (maxtcptw = N, MSL at its
 * 600 s maximum, connections 20 us apart in virtual time so none expires,
 * tw_reuse off so none is taken over). Then:
 *  - bytes_per_entry: growth of the process's anonymous resident memory
 *    (bench_resident_bytes) from just before the client stack is created to the
 *    end of the run, divided by N: the records' pool, the client's exact
 *    table (sized for maxsockets + maxtcptw, as a real stack must be), the
 *    per-port counts, and the client's fixed tables besides;
 *  - closes_per_s: connections opened, closed and moved to TIME_WAIT per
 *    second of CPU time (both stacks' work, all seven segments each, and
 *    the link's delivery; bench_op_close is one connection);
 *  - expire_ns_per_entry: CPU time of the one tcpc_advance, 2 MSL later,
 *    that expires all N records, divided by N (bench_op_expire).
 * The time figures are the median and range over --reps repetitions, each
 * with new stacks; bytes_per_entry is the first repetition's (a fresh
 * process's memory).
 *
 * Usage: timewait [--entries N] [--reps R]   (default 1,000,000 entries)
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <errno.h>

#include "memlink.h"
#include "core/config.h"
#include "tcp/timewait.h"
#include "tcpcore/socket.h"
#include "tcpcore/stats.h"

#define SERVER_PORTS 32
#define SERVER_PORT0 10000

static void die(const char *what, long err)
{
    bench_die("timewait", what, err);
}

static void set(struct tcpc_config *cfg, const char *name, int64_t v)
{
    bench_sysctl("timewait", cfg, name, v);
}

static struct tcpc_stack *make_stack(struct tcpc_memlink *link, int side, const char *addr,
                                     uint64_t entries, tcpc_time_t now)
{
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    tcpc_memlink_configure(link, side, &cfg);
    if (tcpc_addr_parse(addr, &cfg.local_addrs[0]))
        die("address", EINVAL);
    cfg.nlocal_addrs = 1;
    cfg.use_seed = true;
    memset(cfg.seed, side ? 0x22 : 0x11, sizeof(cfg.seed));
    set(&cfg, "kern.ipc.maxsockets", 1024);
    set(&cfg, "net.inet.tcp.delayed_ack", 0);
    set(&cfg, "net.inet.tcp.msl", 600000);
    set(&cfg, "net.inet.tcp.tw_reuse", 0);
    set(&cfg, "net.inet.ip.portrange.first", 1024);
    set(&cfg, "net.inet.ip.portrange.last", 65535);
    /* Small buffers: the connections carry no data. */
    set(&cfg, "net.inet.tcp.sendspace", 4096);
    set(&cfg, "net.inet.tcp.recvspace", 4096);
    if (side == 0)
        set(&cfg, "net.inet.tcp.maxtcptw", (int64_t)entries);
    struct tcpc_stack *stack;
    int err = tcpc_stack_new(&cfg, now, &stack);
    if (err)
        die("tcpc_stack_new", err);
    tcpc_memlink_attach(link, side, stack);
    return stack;
}

struct tw_bench {
    struct tcpc_memlink *link;
    struct tcpc_stack *srv, *cli;
    struct tcpc_addr saddr;
    int lsd[SERVER_PORTS];
    tcpc_time_t now;
};

/* What one repetition measured. */
struct rep {
    double close_cpu_ns, close_wall_ns, expire_cpu_ns;
    uint64_t rss0, rss1; /* before the client stack, with all records */
};

/* Connection i: open, accept, close from the client first (its side goes
 * to TIME_WAIT), then the server's close. */
BENCH_OP static void bench_op_close(struct tw_bench *b, uint64_t i)
{
    int p = (int)(i % SERVER_PORTS);
    b->now += 20;
    int c = tcpc_socket(b->cli, TCPC_AF_INET);
    if (c < 0)
        die("socket", c);
    int err = tcpc_connect(b->cli, c, &b->saddr, (uint16_t)(SERVER_PORT0 + p));
    if (err != -EINPROGRESS) {
        fprintf(stderr, "connection %" PRIu64 ": ", i);
        die("connect", err);
    }
    b->now = tcpc_memlink_run(b->link, b->now, b->now + 1);
    int s = tcpc_accept(b->srv, b->lsd[p], NULL, NULL);
    if (s < 0)
        die("accept", s);
    tcpc_close(b->cli, c);
    b->now = tcpc_memlink_run(b->link, b->now, b->now + 1);
    tcpc_close(b->srv, s);
    b->now = tcpc_memlink_run(b->link, b->now, b->now + 1);
}

BENCH_OP static void bench_op_expire(struct tw_bench *b)
{
    tcpc_advance(b->cli, b->now);
}

static void setup(struct tw_bench *b, uint64_t entries)
{
    b->link = tcpc_memlink_new(1);
    if (!b->link)
        die("tcpc_memlink_new", ENOMEM);
    b->now = 1000000;
    b->srv = make_stack(b->link, 1, "198.18.0.2", entries, b->now);
    tcpc_addr_parse("198.18.0.2", &b->saddr);
    for (int p = 0; p < SERVER_PORTS; p++) {
        b->lsd[p] = tcpc_socket(b->srv, TCPC_AF_INET);
        if (b->lsd[p] < 0 ||
            tcpc_bind(b->srv, b->lsd[p], &b->saddr, (uint16_t)(SERVER_PORT0 + p)) ||
            tcpc_listen(b->srv, b->lsd[p], 64))
            die("listen", EINVAL);
    }
}

static void check_count(struct tw_bench *b, uint64_t want, const char *when)
{
    uint32_t held = tw_count(b->cli);
    if (held != want) {
        fprintf(stderr, "timewait: %" PRIu32 " records %s, wanted %" PRIu64 "\n", held, when, want);
        exit(1);
    }
}

static struct rep run_rep(uint64_t entries, bool first)
{
    struct tw_bench b;
    struct rep r = {0};
    struct bench_time close = {0}, expire = {0};
    setup(&b, entries);
    r.rss0 = bench_resident_bytes();
    b.cli = make_stack(b.link, 0, "198.18.0.1", entries, b.now);
    bench_time_start(&close);
    for (uint64_t i = 0; i < entries; i++)
        bench_op_close(&b, i);
    bench_time_stop(&close);
    r.rss1 = bench_resident_bytes();
    check_count(&b, entries, "in TIME_WAIT");

    /* 2 MSL after the last close: everything is due at once. */
    b.now += 2 * 600000 * 1000ull;
    bench_time_start(&expire);
    bench_op_expire(&b);
    bench_time_stop(&expire);
    check_count(&b, 0, "left after 2 MSL");
    r.close_cpu_ns = close.cpu_ns;
    r.close_wall_ns = close.wall_ns;
    r.expire_cpu_ns = expire.cpu_ns;
    if (first) {
        const struct tcpc_stats *st = tcpc_stack_stats(b.cli);
        printf("records: IPv4 %zu bytes, IPv6 %zu bytes (sizeof); added %" PRIu64
               ", expired %" PRIu64 "\n",
               tw_entry_bytes(false), tw_entry_bytes(true), st->tcps_tw_added, st->tcps_tw_expired);
        printf(
            "first repetition: anonymous resident %.1f MiB before the client stack, %.1f MiB with "
            "%" PRIu64 " records\n",
            (double)r.rss0 / 1048576.0, (double)r.rss1 / 1048576.0, entries);
    }
    tcpc_stack_del(b.cli);
    tcpc_stack_del(b.srv);
    tcpc_memlink_del(b.link);
    bench_release();
    return r;
}

int main(int argc, char **argv)
{
    bench_init();
    /* 32 server ports x 64,512 client ports of 4-tuples. */
    uint64_t entries = 1000000, reps = BENCH_REPS_DEFAULT;
    const struct bench_opt opts[] = {
        {"--entries", &entries, 32, (uint64_t)SERVER_PORTS * 64000, NULL},
        {"--reps", &reps, 1, BENCH_REPS_MAX, NULL},
    };
    if (!bench_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
                     "timewait [--entries N] [--reps R]"))
        return 2;
    double closes[BENCH_REPS_MAX], wall[BENCH_REPS_MAX], expire[BENCH_REPS_MAX];
    struct rep first = {0};
    for (size_t k = 0; k < reps; k++) {
        struct rep r = run_rep(entries, k == 0);
        if (k == 0)
            first = r;
        closes[k] = (double)entries / (r.close_cpu_ns / 1e9);
        wall[k] = (double)entries / (r.close_wall_ns / 1e9);
        expire[k] = r.expire_cpu_ns / (double)entries;
    }
    struct bench_spread w = bench_spread(wall, reps);
    printf("closes_per_s by wall clock: %.0f (%.0f-%.0f)\n", w.med, w.min, w.max);
    printf("ops close=%" PRIu64 " expire=%" PRIu64 "\n", entries * reps, entries * reps);
    printf("timewait entries=%" PRIu64 " reps=%" PRIu64 " bytes_per_entry=%.1f", entries, reps,
           (double)(first.rss1 - first.rss0) / (double)entries);
    bench_print_spread("closes_per_s", bench_spread(closes, reps), 0);
    bench_print_spread("expire_ns_per_entry", bench_spread(expire, reps), 1);
    printf("\n");
    return 0;
}
