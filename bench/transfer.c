/*
 * bench/transfer: what moving data costs, and what a lossy path lets
 * through. Two stacks in one process on the memory link (io/memlink): a
 * client at 198.18.0.1 sends to a server at 198.18.0.2, MTU 1500 with
 * timestamps (1448 payload bytes per segment), default buffers, on a
 * virtual clock.
 *
 *  - gbps: bulk goodput, payload bits per second of CPU time, no loss, no
 *    delay: the client writes 64 KiB at a time, the link runs, the server
 *    reads everything there is (bench_op_bulk; both stacks' work and the
 *    link's copy, per payload byte);
 *  - gbps_loss1: the same with 1% of the packets lost in each direction
 *    (bench_op_bulk_loss);
 *  - rr_per_s: transactions per CPU second on one connection, each a
 *    100-byte request answered by a 100-byte response, each side reading
 *    what it was sent (bench_op_rr, one transaction);
 *  - seg_ns: CPU time of the server taking one full-sized in-order segment
 *    and sending its ACK (bench_op_segment; delayed ACKs off on that
 *    server so that each segment is acknowledged, the segments forged from
 *    the connection's state outside the clock, the ACKs lost on the link;
 *    the application's read is outside the op);
 *  - sim_mbps_l0.1 / _l1 / _l5: simulated-time goodput, payload Mbit/s over
 *    the virtual time from the first write to the last byte read, on a
 *    path of 20 ms round trip (10 ms each way) losing 0.1%, 1% or 5% of
 *    the packets in each direction, a different loss seed each repetition.
 *    The path has no rate limit: the memory link has delay and loss only,
 *    so the 100 Mbit/s bottleneck and its queue are not modelled, and a
 *    loss-free run is bounded by the window over the round trip instead.
 *
 * The application reads and writes between runs of the link that cover
 * 100 us of virtual time each (STEP_US); when nothing is on the link and
 * no timer is due within a step, the clock jumps to the next deadline.
 * Every received byte is checked against the pattern it was sent with.
 *
 * --rack 0 runs both stacks with net.inet.tcp.rack.enable 0 (RACK-TLP
 * off, RFC 6675's counting rules and the timeout alone), for comparison.
 * --md5 1 signs the connection (RFC 2385, TCPC_TCP_MD5SIG on both ends):
 * every segment then carries 20 more option bytes (1428 payload bytes per
 * segment) and costs a digest each way; the forged segments are signed
 * outside the clock. --ao 1 (HMAC-SHA-1-96) or 2 (AES-128-CMAC-96)
 * authenticates it with TCP-AO instead (RFC 5925, TCPC_TCP_AO_ADD_KEY on
 * both ends): 16 more option bytes (1432 payload bytes), a traffic key and
 * a MAC each way.
 *
 * Usage: transfer [--bytes N] [--loss-bytes N] [--rr N] [--segments N]
 *                 [--sim-bytes N] [--reps R] [--rack 0|1] [--md5 0|1]
 *                 [--ao 0|1|2]
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <errno.h>

#include "core/stack.h"
#include "memlink.h"
#include "tcp/tcp_ao.h"
#include "tcp/tcp_md5.h"
#include "tcp/tcp_subr.h"
#include "tcp/tcp_var.h"
#include "tcpcore/group.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"

#define SERVER_PORT 5001
#define WRITE_LEN   65536
#define RR_LEN      100
#define SEG_LEN     1448
#define SEG_BATCH   32
#define STEP_US     100
#define PKT_MAX     1600
#define T0          1000000
/* A transfer that has not finished after this much virtual time is stuck. */
#define STUCK_US (3600ull * TCPC_USEC_PER_SEC)

static void die(const char *what, long err)
{
    bench_die("transfer", what, err);
}

/* --rack: net.inet.tcp.rack.enable of both stacks. */
static uint64_t rack_enable = 1;
/* --md5: both ends sign (RFC 2385); a full segment then carries seg_len. */
static uint64_t md5_enable;
/* --group 1: both stacks of a pair are members of one connection group
 * (tcpcore/group.h), to show what the group's entry check costs. */
static uint64_t group_enable;
static uint32_t seg_len = SEG_LEN;
/* --ao: both ends authenticate with TCP-AO under this algorithm (0: off). */
static uint64_t ao_alg;

static void set_ao(struct tcpc_stack *stack, int sd, const char *peer, uint8_t sndid, uint8_t rcvid)
{
    struct tcpc_tcp_ao_add a = {
        .prefix = 32, .sndid = sndid, .rcvid = rcvid, .alg = (uint8_t)ao_alg, .keylen = 16};
    tcpc_addr_parse(peer, &a.addr);
    memcpy(a.key, "bench-tcp-ao-key", 16);
    int err = tcpc_setsockopt_buf(stack, sd, TCPC_TCP_AO_ADD_KEY, &a, sizeof(a));
    if (err)
        die("TCPC_TCP_AO_ADD_KEY", err);
}

static void set_md5(struct tcpc_stack *stack, int sd, const char *peer)
{
    struct tcpc_md5sig m = {.keylen = 16};
    tcpc_addr_parse(peer, &m.addr);
    memcpy(m.key, "bench-md5-secret", 16);
    int err = tcpc_setsockopt_buf(stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m));
    if (err)
        die("TCPC_TCP_MD5SIG", err);
}

static void set(struct tcpc_config *cfg, const char *name, int64_t v)
{
    bench_sysctl("transfer", cfg, name, v);
}

/* One connection between two stacks on one link. */
struct pair {
    struct tcpc_memlink *link;
    struct tcpc_stack *cli, *srv;
    int csd, ssd;
    tcpc_time_t now;
    uint64_t sent, rcvd; /* stream offsets, client to server */
};

static struct tcpc_stack *make_stack(struct pair *p, int side, const char *addr, bool delack,
                                     struct tcpc_group *g)
{
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    tcpc_memlink_configure(p->link, side, &cfg);
    if (tcpc_addr_parse(addr, &cfg.local_addrs[0]))
        die("address", EINVAL);
    cfg.nlocal_addrs = 1;
    cfg.use_seed = true;
    memset(cfg.seed, side ? 0x22 : 0x11, sizeof(cfg.seed));
    set(&cfg, "kern.ipc.maxsockets", 1024);
    set(&cfg, "net.inet.tcp.rack.enable", (int64_t)rack_enable);
    if (!delack)
        set(&cfg, "net.inet.tcp.delayed_ack", 0);
    if (g && tcpc_config_set_group(&cfg, g, (unsigned)side))
        die("tcpc_config_set_group", EINVAL);
    struct tcpc_stack *stack;
    int err = tcpc_stack_new(&cfg, p->now, &stack);
    if (err)
        die("tcpc_stack_new", err);
    tcpc_memlink_attach(p->link, side, stack);
    return stack;
}

/* A connected pair; the server's delayed ACKs on or off. */
static void pair_open(struct pair *p, uint64_t seed, bool srv_delack)
{
    memset(p, 0, sizeof(*p));
    p->link = tcpc_memlink_new(seed);
    if (!p->link)
        die("tcpc_memlink_new", ENOMEM);
    p->now = T0;
    struct tcpc_group *g = NULL;
    if (group_enable && tcpc_group_new(2, &g))
        die("tcpc_group_new", ENOMEM);
    p->cli = make_stack(p, 0, "198.18.0.1", true, g);
    p->srv = make_stack(p, 1, "198.18.0.2", srv_delack, g);
    tcpc_group_del(g); /* the two members hold it */
    struct tcpc_addr saddr;
    tcpc_addr_parse("198.18.0.2", &saddr);
    int lsd = tcpc_socket(p->srv, TCPC_AF_INET);
    if (lsd < 0 || tcpc_bind(p->srv, lsd, &saddr, SERVER_PORT) || tcpc_listen(p->srv, lsd, 4))
        die("listen", EINVAL);
    p->csd = tcpc_socket(p->cli, TCPC_AF_INET);
    if (p->csd < 0)
        die("socket", p->csd);
    if (md5_enable) {
        set_md5(p->srv, lsd, "198.18.0.1");
        set_md5(p->cli, p->csd, "198.18.0.2");
    }
    if (ao_alg) {
        set_ao(p->srv, lsd, "198.18.0.1", 2, 1);
        set_ao(p->cli, p->csd, "198.18.0.2", 1, 2);
    }
    int err = tcpc_connect(p->cli, p->csd, &saddr, SERVER_PORT);
    if (err != -EINPROGRESS)
        die("connect", err);
    p->now = tcpc_memlink_run(p->link, p->now, p->now + 1);
    p->ssd = tcpc_accept(p->srv, lsd, NULL, NULL);
    if (p->ssd < 0)
        die("accept", p->ssd);
    tcpc_close(p->srv, lsd);
}

static void pair_close(struct pair *p)
{
    tcpc_stack_del(p->cli);
    tcpc_stack_del(p->srv);
    tcpc_memlink_del(p->link);
    bench_release();
}

/* The byte at stream offset off: a pattern that a shifted, repeated or
 * dropped piece cannot match. */
static uint8_t pattern(uint64_t off)
{
    return (uint8_t)(off * 7 + (off >> 11));
}

static void fill(uint8_t *buf, uint64_t off, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern(off + i);
}

/* The application's buffers. The write buffer holds a period of the
 * pattern (its 2 KiB term repeats every 2^19 bytes), so that a write, or
 * the check of a read, at any offset is a slice of it. */
#define PATTERN_PERIOD (1u << 19)
static uint8_t wpat[PATTERN_PERIOD + WRITE_LEN], rbuf[WRITE_LEN];

/* Received bytes are checked against what was sent at their offset. */
static void verify(const uint8_t *buf, uint64_t off, size_t n)
{
    if (memcmp(buf, wpat + off % PATTERN_PERIOD, n) != 0) {
        fprintf(stderr, "transfer: bytes from %" PRIu64 " arrived wrong\n", off);
        exit(1);
    }
}

/* The link moves for one step; the clock jumps over time in which nothing
 * would happen. */
static void pair_step(struct pair *p)
{
    tcpc_time_t next = tcpc_next_deadline(p->cli);
    tcpc_time_t d = tcpc_next_deadline(p->srv);
    if (d < next)
        next = d;
    tcpc_time_t until = p->now + STEP_US;
    if (!tcpc_memlink_pending(p->link) && next != TCPC_TIME_NEVER && next > until)
        until = next;
    tcpc_memlink_run(p->link, p->now, until);
    p->now = until;
}

/* The client sends total bytes, the server reads them. */
static void pair_bulk(struct pair *p, uint64_t total)
{
    tcpc_time_t start = p->now;
    uint64_t end = p->rcvd + total;
    while (p->rcvd < end) {
        if (p->sent < end) {
            uint64_t n = end - p->sent < WRITE_LEN ? end - p->sent : WRITE_LEN;
            ssize_t k = tcpc_send(p->cli, p->csd, wpat + p->sent % PATTERN_PERIOD, n);
            if (k > 0)
                p->sent += (uint64_t)k;
            else if (k != -EAGAIN)
                die("send", k);
        }
        pair_step(p);
        for (;;) {
            ssize_t k = tcpc_recv(p->srv, p->ssd, rbuf, sizeof(rbuf));
            if (k == -EAGAIN)
                break;
            if (k <= 0)
                die("recv", k ? k : EPIPE);
            verify(rbuf, p->rcvd, (size_t)k);
            p->rcvd += (uint64_t)k;
        }
        if (p->now - start > STUCK_US)
            die("bulk transfer stuck", ETIMEDOUT);
    }
}

BENCH_OP static void bench_op_bulk(struct pair *p, uint64_t total)
{
    pair_bulk(p, total);
}

BENCH_OP static void bench_op_bulk_loss(struct pair *p, uint64_t total)
{
    pair_bulk(p, total);
}

/* Reads exactly n bytes on sd of stack, running the link as needed. */
static void rr_take(struct pair *p, struct tcpc_stack *stack, int sd, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = tcpc_recv(stack, sd, rbuf + got, n - got);
        if (k > 0) {
            got += (size_t)k;
            continue;
        }
        if (k != -EAGAIN)
            die("recv", k ? k : EPIPE);
        pair_step(p);
    }
}

static void rr_give(struct pair *p, struct tcpc_stack *stack, int sd)
{
    ssize_t k = tcpc_send(stack, sd, wpat, RR_LEN);
    if (k != RR_LEN)
        die("send", k < 0 ? k : EAGAIN);
    tcpc_memlink_run(p->link, p->now, p->now);
}

/* One transaction: request, read by the server, response, read by the
 * client. */
BENCH_OP static void bench_op_rr(struct pair *p)
{
    rr_give(p, p->cli, p->csd);
    rr_take(p, p->srv, p->ssd, RR_LEN);
    rr_give(p, p->srv, p->ssd);
    rr_take(p, p->cli, p->csd, RR_LEN);
    p->now += 10; /* back to back, 10 us apart */
}

/* A batch of data segments as the client would send them next. */
struct seg_batch {
    uint8_t pkt[SEG_BATCH][PKT_MAX];
    size_t len[SEG_BATCH];
    unsigned n;
};

static struct tcpcb *tcb_of(struct tcpc_stack *stack, int sd)
{
    return stack->tcp->sockets[sd];
}

/* Forges n full segments following the server's rcv_nxt, with the
 * timestamps, ACK and window it expects. */
static void seg_forge(struct pair *p, struct seg_batch *b, unsigned n)
{
    const struct tcpcb *tp = tcb_of(p->srv, p->ssd);
    const struct tcpcb *ctp = tcb_of(p->cli, p->csd); /* whose MKT and ISNs a forgery takes */
    uint8_t payload[SEG_LEN];
    struct tcp_repr th = {.sport = tp->inp->fport, .dport = tp->inp->lport, .flags = TH_ACK};
    struct ip_repr ip = {.src = tcpc_addr_v4(0xc6120001), .dst = tcpc_addr_v4(0xc6120002)};
    th.ack = tp->snd_max;
    th.win = (uint16_t)(tp->snd_wnd >> tp->snd_scale);
    th.opts.present = TOF_TS;
    th.opts.tsval = tp->ts_recent;
    th.opts.tsecr = tcp_ts_now(p->srv, tp);
    th.payload = payload;
    th.payload_len = seg_len;
    for (unsigned i = 0; i < n; i++) {
        uint64_t off = p->sent + (uint64_t)i * seg_len;
        th.seq = tp->rcv_nxt + (uint32_t)(i * seg_len);
        fill(payload, off, seg_len);
        if (tp->t_md5)
            tcp_md5_sign(tp->t_md5, &ip, &th);
        struct tcp_ao_sign ao;
        if (tcp_ao_sign_of(ctp, &th, &ao))
            tcp_ao_sign(&ao, &ip, &th);
        b->len[i] = bench_packet_v4(b->pkt[i], PKT_MAX, 0xc6120001, 0xc6120002, &th);
    }
    b->n = n;
    p->sent += (uint64_t)n * seg_len;
}

BENCH_OP static void bench_op_segment(struct pair *p, const struct seg_batch *b)
{
    for (unsigned i = 0; i < b->n; i++)
        tcpc_input(p->srv, p->now, b->pkt[i], b->len[i]);
}

/* The server takes nsegs forged segments in batches, reading after each
 * batch; returns the CPU time of the op calls. */
static double seg_run(struct pair *p, uint64_t nsegs, struct seg_batch *b)
{
    struct bench_time t = {0};
    const struct tcpc_stats *st = tcpc_stack_stats(p->srv);
    uint64_t acks0 = st->tcps_sndacks;
    /* Every ACK is lost from here on: the client, which did not send
     * these segments, must not hear of them. */
    tcpc_memlink_set_faults(p->link, 0, 1000000);
    for (uint64_t done = 0; done < nsegs;) {
        struct tcpc_info info;
        if (tcpc_getinfo(p->srv, p->ssd, &info))
            die("getinfo", EINVAL);
        uint64_t n = info.rcv_wnd / seg_len;
        if (n > SEG_BATCH)
            n = SEG_BATCH;
        if (n > nsegs - done)
            n = nsegs - done;
        if (n == 0)
            die("server window shut", ENOBUFS);
        seg_forge(p, b, (unsigned)n);
        bench_time_start(&t);
        bench_op_segment(p, b);
        bench_time_stop(&t);
        done += n;
        p->now += 10 * n;
        for (uint64_t want = done * seg_len; p->rcvd < want;) {
            ssize_t k = tcpc_recv(p->srv, p->ssd, rbuf, sizeof(rbuf));
            if (k <= 0)
                die("segment data missing", k ? k : EPIPE);
            verify(rbuf, p->rcvd, (size_t)k);
            p->rcvd += (uint64_t)k;
        }
    }
    if (st->tcps_sndacks - acks0 < nsegs) {
        fprintf(stderr, "transfer: %" PRIu64 " ACKs for %" PRIu64 " segments\n",
                st->tcps_sndacks - acks0, nsegs);
        exit(1);
    }
    return t.cpu_ns;
}

/* Simulated-time goodput in Mbit/s over the lossy 20 ms path. */
static double sim_run(uint64_t bytes, uint32_t loss_ppm, uint64_t seed)
{
    struct pair p;
    pair_open(&p, seed, true);
    tcpc_memlink_set_faults(p.link, 10000, loss_ppm);
    tcpc_time_t t0 = p.now;
    pair_bulk(&p, bytes);
    double mbps = (double)bytes * 8 / (double)(p.now - t0);
    pair_close(&p);
    return mbps;
}

struct rep {
    double bulk_ns, loss_ns, rr_ns, seg_ns, sim[3];
};

static const uint32_t sim_loss_ppm[3] = {1000, 10000, 50000};

struct sizes {
    uint64_t bytes, loss_bytes, rr, segments, sim_bytes;
};

static struct rep run_rep(const struct sizes *z, uint64_t k)
{
    struct rep r = {0};
    struct pair p;
    struct bench_time t;

    pair_open(&p, 1, true);
    t = (struct bench_time){0};
    bench_time_start(&t);
    bench_op_bulk(&p, z->bytes);
    bench_time_stop(&t);
    r.bulk_ns = t.cpu_ns;
    pair_close(&p);

    pair_open(&p, 100 + k, true);
    tcpc_memlink_set_faults(p.link, 0, 10000);
    t = (struct bench_time){0};
    bench_time_start(&t);
    bench_op_bulk_loss(&p, z->loss_bytes);
    bench_time_stop(&t);
    r.loss_ns = t.cpu_ns;
    pair_close(&p);

    pair_open(&p, 1, true);
    t = (struct bench_time){0};
    bench_time_start(&t);
    for (uint64_t i = 0; i < z->rr; i++)
        bench_op_rr(&p);
    bench_time_stop(&t);
    r.rr_ns = t.cpu_ns;
    pair_close(&p);

    static struct seg_batch batch;
    pair_open(&p, 1, false);
    r.seg_ns = seg_run(&p, z->segments, &batch);
    pair_close(&p);

    for (int i = 0; i < 3; i++)
        r.sim[i] = sim_run(z->sim_bytes, sim_loss_ppm[i], 1000 + k);
    return r;
}

int main(int argc, char **argv)
{
    bench_init();
    fill(wpat, 0, sizeof(wpat));
    struct sizes z = {64u << 20, 16u << 20, 200000, 200000, 4u << 20};
    uint64_t reps = BENCH_REPS_DEFAULT;
    const struct bench_opt opts[] = {
        {"--bytes", &z.bytes, SEG_LEN, 1ull << 40, NULL},
        {"--loss-bytes", &z.loss_bytes, SEG_LEN, 1ull << 40, NULL},
        {"--rr", &z.rr, 1, 1ull << 32, NULL},
        {"--segments", &z.segments, 1, 1ull << 32, NULL},
        {"--sim-bytes", &z.sim_bytes, SEG_LEN, 1ull << 32, NULL},
        {"--reps", &reps, 1, BENCH_REPS_MAX, NULL},
        {"--rack", &rack_enable, 0, 1, NULL},
        {"--md5", &md5_enable, 0, 1, NULL},
        {"--ao", &ao_alg, 0, 2, NULL},
        {"--group", &group_enable, 0, 1, NULL},
    };
    if (!bench_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
                     "transfer [--bytes N] [--loss-bytes N] [--rr N] [--segments N] "
                     "[--sim-bytes N] [--reps R] [--rack 0|1] [--md5 0|1] [--ao 0|1|2] "
                     "[--group 0|1]"))
        return 2;
    if (md5_enable && ao_alg)
        die("--md5 with --ao (RFC 5925 7.1: never both)", EINVAL);
    if (md5_enable)
        seg_len = SEG_LEN - TCP_MD5_OPTSPACE;
    if (ao_alg)
        seg_len = SEG_LEN - TCP_AO_OPTSPACE;
    double gbps[BENCH_REPS_MAX], gbps_loss[BENCH_REPS_MAX], rr[BENCH_REPS_MAX];
    double seg[BENCH_REPS_MAX], sim[3][BENCH_REPS_MAX];
    for (uint64_t k = 0; k < reps; k++) {
        struct rep r = run_rep(&z, k);
        gbps[k] = (double)z.bytes * 8 / r.bulk_ns;
        gbps_loss[k] = (double)z.loss_bytes * 8 / r.loss_ns;
        rr[k] = (double)z.rr / (r.rr_ns / 1e9);
        seg[k] = r.seg_ns / (double)z.segments;
        for (int i = 0; i < 3; i++)
            sim[i][k] = r.sim[i];
    }
    printf("ops bulk=%" PRIu64 " bulk_loss=%" PRIu64 " rr=%" PRIu64 " segment=%" PRIu64 "\n",
           z.bytes * reps, z.loss_bytes * reps, z.rr * reps, z.segments * reps);
    printf("transfer");
    bench_print_spread("gbps", bench_spread(gbps, reps), 3);
    bench_print_spread("gbps_loss1", bench_spread(gbps_loss, reps), 3);
    bench_print_spread("rr_per_s", bench_spread(rr, reps), 0);
    bench_print_spread("sim_mbps_l0.1", bench_spread(sim[0], reps), 2);
    bench_print_spread("sim_mbps_l1", bench_spread(sim[1], reps), 2);
    bench_print_spread("sim_mbps_l5", bench_spread(sim[2], reps), 2);
    bench_print_spread("seg_ns", bench_spread(seg, reps), 1);
    printf(" bytes=%" PRIu64 " loss_bytes=%" PRIu64 " rr=%" PRIu64 " segments=%" PRIu64
           " sim_bytes=%" PRIu64 " reps=%" PRIu64 " rack=%" PRIu64 " md5=%" PRIu64 " ao=%" PRIu64
           " group=%" PRIu64 "\n",
           z.bytes, z.loss_bytes, z.rr, z.segments, z.sim_bytes, reps, rack_enable, md5_enable,
           ao_alg, group_enable);
    return 0;
}
