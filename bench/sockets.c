/*
 * bench/sockets: what a socket costs at scale, and whether anything scans
 * all of them.
 *
 * For each size N (10 k, 100 k and 1 M, or the one given), one stack sized
 * for them (kern.ipc.maxsockets = N + N/10 + 64):
 *   1. makes N/10 children of one listener through real three-way
 *      handshakes (SYN in, SYN-ACK out, ACK in, from distinct forged
 *      sources), left on the accept queue; bytes_per_child is their
 *      resident growth each (control block, inpcb, table slot and the
 *      touched pages of its two rings). The loop calls tcpc_advance when
 *      tcpc_next_deadline says so, as an embedder's loop would, which
 *      tops up the spare socket buffers;
 *   2. opens N more sockets (tcpc_socket, bench_op_socket): open_ns per
 *      socket, and bytes_per_socket, the anonymous resident growth
 *      (bench_resident_bytes) divided by N: measured, not a sum of struct
 *      sizes;
 *   3. closes the listener (bench_op_close_child): close_listener_ms, and
 *      the same per child.
 * Flat open_ns, bytes_per_socket and close ns per child from 10 k to 1 M
 * show that opening, and dropping a child, cost O(1) whatever the number of
 * sockets. The stack's clock is virtual (no timer fires); the times are
 * CPU time. Each size runs --reps times on a new stack; the times are the
 * median and range over them, the memory figures the first repetition's.
 *
 * The last line is the largest size's summary:
 *     sockets open_ns=.. open_ns_min=.. open_ns_max=.. close_listener_ms=..
 *     close_listener_ms_min=.. close_listener_ms_max=.. bytes_per_socket=..
 *
 * With --idle N instead: what an idle established endpoint costs. N
 * connections are accepted through real handshakes; on each the peer sends
 * 100 bytes, the application reads them and answers 100 bytes, the peer
 * acknowledges them, and the delayed ACKs fire: every connection has moved
 * data both ways and is idle again. bytes_per_established is the resident
 * growth (control block, inpcb, table slots, descriptor, and whatever
 * buffer memory is still held) divided by N. The last line:
 *     sockets_idle established=N bytes_per_established=..
 *
 * Usage: sockets [--sockets N] [--reps R]   (children are N/10, at least 1)
 *        sockets --idle N
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include "core/config.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "tcpcore/stats.h"
#include "tcpcore/sysctl.h"
#include "wire/bytes.h"
#include "wire/tcp.h"

#define LPORT    80
#define LOCAL    0xc6120001u /* 198.18.0.1 */
#define CLIENTS  0xc6130000u /* 198.19.0.0/16: the forged sources */
#define VIRT_NOW (1000 * 1000)
#define NSIZES   3

struct bench {
    uint64_t out_pkts, rsts;
    bool have_synack;
    uint32_t synack_seq;
};

/* One repetition at one size. */
struct result {
    uint64_t n, children;
    double open_ns, close_ms, close_ns_child, bytes_socket, bytes_child;
};

/* The timed operations. */
BENCH_OP static void bench_op_socket(struct tcpc_stack *s, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        if (tcpc_socket(s, TCPC_AF_INET) < 0) {
            fprintf(stderr, "sockets: socket %" PRIu64 " refused\n", i);
            exit(1);
        }
    }
}

BENCH_OP static void bench_op_close_child(struct tcpc_stack *s, int lsd)
{
    tcpc_close(s, lsd);
}

/* The stack's output: keep the SYN-ACK's ISS, count the rest. */
static int on_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct bench *b = ctx;
    b->out_pkts++;
    if (len < 40 || (pkt[0] >> 4) != 4)
        return 0;
    const uint8_t *th = pkt + (pkt[0] & 0xf) * 4;
    uint8_t flags = th[13];
    if ((flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
        b->have_synack = true;
        b->synack_seq = get_be32(th + 4);
    } else if (flags & TH_RST) {
        b->rsts++;
    }
    return 0;
}

static size_t build(uint8_t *buf, size_t buflen, uint32_t src, uint16_t sport, uint32_t seq,
                    uint32_t ack, uint8_t flags)
{
    struct tcp_repr th = {
        .sport = sport, .dport = LPORT, .seq = seq, .ack = ack, .flags = flags, .win = 64240};
    if (flags & TH_SYN) {
        th.opts.present = TOF_MSS;
        th.opts.mss = 1460;
    }
    return bench_packet_v4(buf, buflen, src, LOCAL, &th);
}

/* Child i: a handshake from its own source address and port. */
static bool handshake(struct tcpc_stack *s, struct bench *b, uint64_t i)
{
    uint8_t pkt[128];
    uint32_t src = CLIENTS + 1 + (uint32_t)(i >> 14);
    uint16_t port = (uint16_t)(1024 + (i & 16383));
    b->have_synack = false;
    size_t n = build(pkt, sizeof(pkt), src, port, 1000, 0, TH_SYN);
    tcpc_input(s, VIRT_NOW, pkt, n);
    if (!b->have_synack)
        return false;
    n = build(pkt, sizeof(pkt), src, port, 1001, b->synack_seq + 1, TH_ACK);
    tcpc_input(s, VIRT_NOW, pkt, n);
    if (tcpc_next_deadline(s) <= VIRT_NOW)
        tcpc_advance(s, VIRT_NOW);
    return true;
}

static struct tcpc_stack *new_stack(struct bench *b, uint64_t n, uint64_t children)
{
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    cfg.output = on_output;
    cfg.output_ctx = b;
    cfg.local_addrs[0] = tcpc_addr_v4(LOCAL);
    cfg.nlocal_addrs = 1;
    cfg.use_seed = true;
    memset(cfg.seed, 3, sizeof(cfg.seed));
    const char *why;
    if (tcpc_config_sysctl(&cfg, "kern.ipc.maxsockets", (int64_t)(n + children + 64), &why)) {
        fprintf(stderr, "sockets: %s\n", why);
        exit(1);
    }
    struct tcpc_stack *s;
    if (tcpc_stack_new(&cfg, VIRT_NOW, &s)) {
        fprintf(stderr, "sockets: cannot create the stack\n");
        exit(1);
    }
    return s;
}

static struct result run(uint64_t n)
{
    struct result r = {.n = n, .children = n / 10 ? n / 10 : 1};
    struct bench b = {0};
    struct tcpc_stack *s = new_stack(&b, n, r.children);

    /* Children first, bare sockets after: whatever order a stack keeps its
     * control blocks in, the listener's children are then not the first
     * ones a walk of every socket would meet. */
    int lsd = tcpc_socket(s, TCPC_AF_INET);
    if (lsd < 0 || tcpc_bind(s, lsd, NULL, LPORT) || tcpc_listen(s, lsd, (int)r.children)) {
        fprintf(stderr, "sockets: cannot listen\n");
        exit(1);
    }
    uint64_t rss0 = bench_resident_bytes();
    for (uint64_t i = 0; i < r.children; i++) {
        if (!handshake(s, &b, i)) {
            fprintf(stderr, "sockets: no SYN-ACK for child %" PRIu64 "\n", i);
            exit(1);
        }
    }
    const struct tcpc_stats *st = tcpc_stack_stats(s);
    uint64_t completed = tcpc_stat_value(st, (unsigned)tcpc_stat_lookup("tcps_sc_completed"));
    if (completed != r.children) {
        fprintf(stderr, "sockets: %" PRIu64 " of %" PRIu64 " handshakes completed\n", completed,
                r.children);
        exit(1);
    }
    uint64_t rss1 = bench_resident_bytes();
    r.bytes_child = ((double)rss1 - (double)rss0) / (double)r.children;

    struct bench_time open = {0}, close = {0};
    bench_time_start(&open);
    bench_op_socket(s, n);
    bench_time_stop(&open);
    r.open_ns = open.cpu_ns / (double)n;
    r.bytes_socket = ((double)bench_resident_bytes() - (double)rss1) / (double)n;

    uint64_t rsts = b.rsts;
    bench_time_start(&close);
    bench_op_close_child(s, lsd);
    bench_time_stop(&close);
    if (b.rsts - rsts != r.children) {
        fprintf(stderr, "sockets: closing the listener reset %" PRIu64 " of %" PRIu64 "\n",
                b.rsts - rsts, r.children);
        exit(1);
    }
    r.close_ms = close.cpu_ns / 1e6;
    r.close_ns_child = close.cpu_ns / (double)r.children;
    tcpc_stack_del(s);
    bench_release();
    return r;
}

/* The peer's segment to child i (its source and port as in handshake). */
static void idle_inject(struct tcpc_stack *s, uint64_t i, uint32_t seq, uint32_t ack, uint8_t flags,
                        const uint8_t *data, uint32_t len)
{
    uint8_t pkt[256];
    struct tcp_repr th = {.sport = (uint16_t)(1024 + (i & 16383)),
                          .dport = LPORT,
                          .seq = seq,
                          .ack = ack,
                          .flags = flags,
                          .win = 64240,
                          .payload = data,
                          .payload_len = len};
    size_t n = bench_packet_v4(pkt, sizeof(pkt), CLIENTS + 1 + (uint32_t)(i >> 14), LOCAL, &th);
    tcpc_input(s, VIRT_NOW, pkt, n);
}

/* --idle: n established connections that moved 100 bytes each way. */
static int run_idle(uint64_t n)
{
    struct bench b = {0};
    struct tcpc_stack *s = new_stack(&b, n, 0);
    int lsd = tcpc_socket(s, TCPC_AF_INET);
    if (lsd < 0 || tcpc_bind(s, lsd, NULL, LPORT) || tcpc_listen(s, lsd, (int)n)) {
        fprintf(stderr, "sockets: cannot listen\n");
        return 1;
    }
    tcpc_advance(s, VIRT_NOW);
    uint8_t msg[100], got[128];
    memset(msg, 'q', sizeof(msg));
    uint64_t rss0 = bench_resident_bytes();
    for (uint64_t i = 0; i < n; i++) {
        if (!handshake(s, &b, i)) {
            fprintf(stderr, "sockets: no SYN-ACK for connection %" PRIu64 "\n", i);
            return 1;
        }
        uint32_t iss = b.synack_seq;
        idle_inject(s, i, 1001, iss + 1, TH_ACK | TH_PSH, msg, sizeof(msg));
        int sd = tcpc_accept(s, lsd, NULL, NULL);
        if (sd < 0 || tcpc_recv(s, sd, got, sizeof(got)) != (ssize_t)sizeof(msg) ||
            tcpc_send(s, sd, msg, sizeof(msg)) != (ssize_t)sizeof(msg)) {
            fprintf(stderr, "sockets: connection %" PRIu64 " did not move its data\n", i);
            return 1;
        }
        idle_inject(s, i, 1101, iss + 101, TH_ACK, NULL, 0);
        if (tcpc_next_deadline(s) <= VIRT_NOW)
            tcpc_advance(s, VIRT_NOW);
    }
    tcpc_advance(s, VIRT_NOW + 1000 * 1000); /* the delayed ACKs */
    uint64_t rss1 = bench_resident_bytes();
    printf("ops handshake=%" PRIu64 " out_pkts=%" PRIu64 "\n", n, b.out_pkts);
    printf("sockets_idle established=%" PRIu64 " bytes_per_established=%.0f\n", n,
           ((double)rss1 - (double)rss0) / (double)n);
    tcpc_stack_del(s);
    return 0;
}

/* The figures of one size over its repetitions. */
struct summary {
    struct bench_spread open_ns, close_ms, close_ns_child;
    double bytes_socket, bytes_child;
};

static struct summary run_size(uint64_t n, uint64_t reps, uint64_t *children)
{
    double open[BENCH_REPS_MAX], close[BENCH_REPS_MAX], per_child[BENCH_REPS_MAX];
    struct summary sum = {0};
    for (uint64_t k = 0; k < reps; k++) {
        struct result r = run(n);
        open[k] = r.open_ns;
        close[k] = r.close_ms;
        per_child[k] = r.close_ns_child;
        if (k == 0) {
            sum.bytes_socket = r.bytes_socket;
            sum.bytes_child = r.bytes_child;
            *children = r.children;
        }
    }
    sum.open_ns = bench_spread(open, reps);
    sum.close_ms = bench_spread(close, reps);
    sum.close_ns_child = bench_spread(per_child, reps);
    return sum;
}

int main(int argc, char **argv)
{
    bench_init();
    uint64_t sizes[NSIZES] = {10000, 100000, 1000000};
    uint64_t one = 0, reps = BENCH_REPS_DEFAULT, idle = 0;
    const struct bench_opt opts[] = {
        {"--sockets", &one, 1, 1u << 25, NULL},
        {"--reps", &reps, 1, BENCH_REPS_MAX, NULL},
        {"--idle", &idle, 1, 1u << 24, NULL},
    };
    if (!bench_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
                     "sockets [--sockets N] [--reps R] | sockets --idle N"))
        return 2;
    if (idle)
        return run_idle(idle);
    unsigned nsizes = NSIZES;
    if (one) {
        sizes[0] = one;
        nsizes = 1;
    }
    struct summary sum = {0};
    uint64_t opened = 0, children = 0, all_children = 0;
    for (unsigned k = 0; k < nsizes; k++) {
        sum = run_size(sizes[k], reps, &children);
        opened += sizes[k] * reps;
        all_children += children * reps;
        printf("sockets=%" PRIu64 " children=%" PRIu64 " reps=%" PRIu64
               " open_ns=%.1f (%.1f-%.1f) close_listener_ms=%.2f (%.2f-%.2f) "
               "close_ns_per_child=%.1f (%.1f-%.1f) bytes_per_socket=%.0f bytes_per_child=%.0f\n",
               sizes[k], children, reps, sum.open_ns.med, sum.open_ns.min, sum.open_ns.max,
               sum.close_ms.med, sum.close_ms.min, sum.close_ms.max, sum.close_ns_child.med,
               sum.close_ns_child.min, sum.close_ns_child.max, sum.bytes_socket, sum.bytes_child);
        fflush(stdout);
    }
    printf("ops socket=%" PRIu64 " close_child=%" PRIu64 "\n", opened, all_children);
    printf("sockets");
    bench_print_spread("open_ns", sum.open_ns, 1);
    bench_print_spread("close_listener_ms", sum.close_ms, 2);
    printf(" bytes_per_socket=%.0f size=%" PRIu64 " reps=%" PRIu64 "\n", sum.bytes_socket,
           sizes[nsizes - 1], reps);
    return 0;
}
