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
 *  - bytes_per_entry: growth of the process's resident memory (from
 *    /proc/self/statm) from just before the client stack is created to the
 *    end of the run, divided by N: the records' pool, the client's exact
 *    table (sized for maxsockets + maxtcptw, as a real stack must be), the
 *    per-port counts, and the client's fixed tables besides;
 *  - closes_per_s: connections opened, closed and moved to TIME_WAIT per
 *    second of wall time (both stacks' work, all seven segments each);
 *  - expire_ns_per_entry: wall time of the one tcpc_advance, 2 MSL later,
 *    that expires all N records, divided by N.
 *
 * Usage: timewait [--entries N]   (default 1,000,000)
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c17 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "memlink.h"
#include "tcp/timewait.h"
#include "tcpcore/socket.h"
#include "tcpcore/stats.h"

#define SERVER_PORTS 32
#define SERVER_PORT0 10000

static void die(const char *what, int err)
{
    fprintf(stderr, "timewait: %s: %s\n", what, strerror(err < 0 ? -err : err));
    exit(1);
}

static void set(struct tcpc_config *cfg, const char *name, int64_t v)
{
    const char *why = NULL;
    int err = tcpc_config_sysctl(cfg, name, v, &why);
    if (err)
        die(name, err);
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

int main(int argc, char **argv)
{
    uint64_t entries = 1000000;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--entries") == 0) {
            entries = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: timewait [--entries N]\n");
            return 2;
        }
    }
    /* 32 server ports x 64,512 client ports of 4-tuples. */
    if (entries < 32 || entries > (uint64_t)SERVER_PORTS * 64000) {
        fprintf(stderr, "timewait: --entries must be in 32..%d\n", SERVER_PORTS * 64000);
        return 2;
    }
    struct tcpc_memlink *link = tcpc_memlink_new(1);
    if (!link)
        die("tcpc_memlink_new", ENOMEM);
    tcpc_time_t now = 1000000;
    struct tcpc_stack *srv = make_stack(link, 1, "198.18.0.2", entries, now);
    struct tcpc_addr saddr;
    tcpc_addr_parse("198.18.0.2", &saddr);
    int lsd[SERVER_PORTS];
    for (int p = 0; p < SERVER_PORTS; p++) {
        lsd[p] = tcpc_socket(srv, TCPC_AF_INET);
        if (lsd[p] < 0 || tcpc_bind(srv, lsd[p], &saddr, (uint16_t)(SERVER_PORT0 + p)) ||
            tcpc_listen(srv, lsd[p], 64))
            die("listen", EINVAL);
    }

    uint64_t rss0 = bench_resident_bytes();
    struct tcpc_stack *cli = make_stack(link, 0, "198.18.0.1", entries, now);

    double t0 = bench_now_ns();
    for (uint64_t i = 0; i < entries; i++) {
        int p = (int)(i % SERVER_PORTS);
        now += 20;
        int c = tcpc_socket(cli, TCPC_AF_INET);
        if (c < 0)
            die("socket", c);
        int err = tcpc_connect(cli, c, &saddr, (uint16_t)(SERVER_PORT0 + p));
        if (err != -EINPROGRESS) {
            fprintf(stderr, "connection %" PRIu64 ": ", i);
            die("connect", err);
        }
        now = tcpc_memlink_run(link, now, now + 1);
        int s = tcpc_accept(srv, lsd[p], NULL, NULL);
        if (s < 0)
            die("accept", s);
        tcpc_close(cli, c);
        now = tcpc_memlink_run(link, now, now + 1);
        tcpc_close(srv, s);
        now = tcpc_memlink_run(link, now, now + 1);
    }
    double t1 = bench_now_ns();
    uint64_t rss1 = bench_resident_bytes();
    uint32_t held = tw_count(cli);
    if (held != entries) {
        fprintf(stderr, "timewait: %" PRIu32 " records in TIME_WAIT, wanted %" PRIu64 "\n", held,
                entries);
        return 1;
    }

    /* 2 MSL after the last close: everything is due at once. */
    now += 2 * 600000 * 1000ull;
    double t2 = bench_now_ns();
    tcpc_advance(cli, now);
    double t3 = bench_now_ns();
    if (tw_count(cli) != 0) {
        fprintf(stderr, "timewait: %" PRIu32 " records left after 2 MSL\n", tw_count(cli));
        return 1;
    }
    const struct tcpc_stats *st = tcpc_stack_stats(cli);

    double per_entry = (double)(rss1 - rss0) / (double)entries;
    double closes = (double)entries / ((t1 - t0) / 1e9);
    double expire = (t3 - t2) / (double)entries;
    printf("records: IPv4 %zu bytes, IPv6 %zu bytes (sizeof); added %" PRIu64 ", expired %" PRIu64
           "\n",
           tw_entry_bytes(false), tw_entry_bytes(true), st->tcps_tw_added, st->tcps_tw_expired);
    printf("resident: %.1f MiB before the client stack, %.1f MiB with %" PRIu64
           " records (%.2f bytes each)\n",
           (double)rss0 / 1048576.0, (double)rss1 / 1048576.0, entries, per_entry);
    printf("open+close: %.2f s for %" PRIu64 " connections; expiry of all: %.1f ms\n",
           (t1 - t0) / 1e9, entries, (t3 - t2) / 1e6);
    printf("timewait entries=%" PRIu64 " bytes_per_entry=%.1f closes_per_s=%.0f "
           "expire_ns_per_entry=%.1f\n",
           entries, per_entry, closes, expire);
    tcpc_stack_del(cli);
    tcpc_stack_del(srv);
    tcpc_memlink_del(link);
    return 0;
}
