/*
 * bench/synflood: one stack with one listener under a SYN flood from forged
 * sources, with a legitimate client among them.
 *
 * Spoofed SYNs (random source address in 11.0.0.0/8, random port, ISN and
 * TSval, with MSS, window scale, SACK-permitted and timestamps like a
 * current Linux client) arrive in rounds of 1,000. A round's SYNs are
 * forged first, from one template whose fields and checksums are patched,
 * outside the clock: forging is the attacker's work, not the stack's. Then
 * the timed part of the round (bench_op_syn): the SYNs go to tcpc_input one
 * after another, a legitimate client on 198.18.0.2 sends a SYN, takes the
 * SYN-ACK the stack emitted and answers with the ACK built from it (the
 * connection must then be acceptable; it is accepted and aborted), and the
 * stack's timers run (tcpc_advance).
 *
 * The stack's clock is virtual: the flood arrives at FLOOD_SYNS_PER_US SYNs
 * per microsecond of stack time (5 M SYN/s, more than one core takes, as a
 * flood is). So SYN-ACK retransmissions, secret rotation and the cache's
 * attack switch happen at the same SYN in every run on every machine, and
 * the work done, and its instruction count, does not depend on how fast the
 * machine is.
 *
 * Reports SYNs per CPU second of the timed parts (median and range over
 * --reps repetitions, each on a new stack fed the same SYNs), SYN-ACKs
 * emitted, the SYN cache's peak size and counters, and legitimate
 * handshakes completed. bytes_per_halfopen is measured in the first
 * repetition (a fresh process's memory): anonymous resident growth during
 * the flood (bench_resident_bytes) divided by the peak number of half-open entries (0 in cookies
 * mode, which keeps none); the computed entry-plus-bucket size is printed beside.
 *
 * Usage: synflood [--syns N] [--mode default|cookies] [--reps R]
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <errno.h>

#include "core/rand.h"
#include "core/stack.h"
#include "core/sysctl.h"
#include "tcp/syncache.h"
#include "tcp/tcp_var.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "tcpcore/sysctl.h"
#include "wire/bytes.h"
#include "wire/cksum.h"
#include "wire/tcp.h"

#define ROUND_SYNS        1000
#define FLOOD_SYNS_PER_US 5
#define LPORT             80
#define PKT_MAX           128
#define STACK_T0          1000000 /* stack time at the first SYN, µs */

struct bench {
    struct tcpc_stack *stack;
    int lsd;
    uint64_t out_pkts, synacks;
    /* The legitimate client's last SYN-ACK, if any. */
    uint16_t legit_port;
    bool have_synack;
    uint32_t sa_seq, sa_tsval;
    bool sa_ts;
    uint64_t legit_tries, legit_ok;
    /* The forger: a template SYN and a round of SYNs made from it. */
    struct rand_state r;
    uint8_t tmpl[PKT_MAX];
    size_t synlen, tsoff;
    uint8_t (*round)[PKT_MAX];
};

/* What one repetition measured. */
struct rep {
    double cpu_ns, wall_ns;
    uint32_t peak;
    long growth; /* anonymous resident bytes the flood added */
};

static const uint8_t legit_addr[4] = {198, 18, 0, 2};

/* The stack's clock when SYN i arrives. */
static tcpc_time_t syn_time(uint64_t i)
{
    return STACK_T0 + i / FLOOD_SYNS_PER_US;
}

/* The stack's output: count, and keep what the legitimate client needs. */
static int on_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct bench *b = ctx;
    b->out_pkts++;
    if (len < 40 || (pkt[0] >> 4) != 4)
        return 0;
    const uint8_t *th = pkt + (pkt[0] & 0xf) * 4;
    if ((th[13] & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
        b->synacks++;
    if (memcmp(pkt + 16, legit_addr, 4) != 0 || get_be16(th + 2) != b->legit_port)
        return 0;
    struct tcp_repr t;
    if (tcp_parse(th, len - (size_t)(th - pkt), &t) < 0 || t.flags != (TH_SYN | TH_ACK))
        return 0;
    b->have_synack = true;
    b->sa_seq = t.seq;
    b->sa_ts = t.opts.present & TOF_TS;
    b->sa_tsval = t.opts.tsval;
    return 0;
}

/* A SYN or ACK from src:sport as a packet in buf; returns its length. */
static size_t build(uint8_t *buf, size_t buflen, uint32_t src, uint16_t sport, uint32_t seq,
                    uint32_t ack, uint8_t flags, uint32_t tsval, uint32_t tsecr)
{
    struct tcp_repr th = {
        .sport = sport, .dport = LPORT, .seq = seq, .ack = ack, .flags = flags, .win = 64240};
    th.opts.present = TOF_TS;
    th.opts.tsval = tsval;
    th.opts.tsecr = tsecr;
    if (flags & TH_SYN) {
        th.opts.present |= TOF_MSS | TOF_WSCALE | TOF_SACKPERM;
        th.opts.mss = 1460;
        th.opts.wscale = 7;
    }
    return bench_packet_v4(buf, buflen, src, 0xc6120001, &th);
}

/* Offset of the TSval inside a TCP header built by build(). */
static size_t tsval_offset(const uint8_t *seg)
{
    size_t hl = (size_t)(seg[12] >> 4) * 4;
    for (size_t i = 20; i + 10 <= hl;) {
        if (seg[i] == 1) {
            i++;
            continue;
        }
        if (seg[i] == 8)
            return i + 2;
        i += seg[i + 1];
    }
    return 0;
}

/* The forger's state at the start of a repetition: every repetition sends
 * the same SYNs. */
static void forge_init(struct bench *b)
{
    uint8_t seed[32];
    memset(seed, 9, sizeof(seed));
    rand_init(&b->r, seed);
    b->synlen = build(b->tmpl, sizeof(b->tmpl), 0x0b000001, 1024, 1, 0, TH_SYN, 1, 0);
    b->tsoff = tsval_offset(b->tmpl + 20);
}

/* n spoofed SYNs into b->round. */
static void forge_round(struct bench *b, size_t n)
{
    size_t seglen = b->synlen - 20;
    for (size_t k = 0; k < n; k++) {
        uint8_t *syn = b->round[k], *seg = syn + 20;
        memcpy(syn, b->tmpl, b->synlen);
        uint32_t rnd[3];
        rand_bytes(&b->r, rnd, sizeof(rnd));
        uint32_t src = 0x0b000000 | (rnd[0] & 0x00ffffff);
        put_be32(syn + 12, src);
        put_be16(syn + 10, 0);
        put_be16(syn + 10, cksum_finish(cksum_add(0, syn, 20)));
        put_be16(seg, (uint16_t)(1024 + (rnd[1] % 64000)));
        put_be32(seg + 4, rnd[2]);
        if (b->tsoff)
            put_be32(seg + b->tsoff, rnd[1]);
        put_be16(seg + 16, 0);
        struct tcpc_addr sa = tcpc_addr_v4(src), da = tcpc_addr_v4(0xc6120001);
        uint32_t sum = cksum_pseudo(&sa, &da, 6, (uint32_t)seglen);
        put_be16(seg + 16, cksum_finish(cksum_add(sum, seg, seglen)));
    }
}

/* One legitimate handshake; true when the connection could be accepted. */
static bool legit_handshake(struct bench *b, uint16_t port, tcpc_time_t now)
{
    uint8_t pkt[PKT_MAX];
    uint32_t irs = 0x10000u * port + 1;
    b->legit_port = port;
    b->have_synack = false;
    size_t n = build(pkt, sizeof(pkt), 0xc6120002, port, irs, 0, TH_SYN, 1000, 0);
    tcpc_input(b->stack, now, pkt, n);
    if (!b->have_synack)
        return false;
    n = build(pkt, sizeof(pkt), 0xc6120002, port, irs + 1, b->sa_seq + 1, TH_ACK, 1001,
              b->sa_ts ? b->sa_tsval : 0);
    tcpc_input(b->stack, now, pkt, n);
    int sd = tcpc_accept(b->stack, b->lsd, NULL, NULL);
    if (sd < 0)
        return false;
    /* Done with it: abort, which frees it at once. */
    tcpc_setsockopt(b->stack, sd, TCPC_SO_LINGER, 0);
    tcpc_close(b->stack, sd);
    return true;
}

/* The timed part of a round whose first SYN is the flood's SYN i0. */
BENCH_OP static void bench_op_syn(struct bench *b, uint64_t i0, size_t n)
{
    for (size_t k = 0; k < n; k++)
        tcpc_input(b->stack, syn_time(i0 + k), b->round[k], b->synlen);
    tcpc_time_t now = syn_time(i0 + n - 1);
    uint16_t port = (uint16_t)(10000 + b->legit_tries % 50000);
    b->legit_tries++;
    b->legit_ok += legit_handshake(b, port, now);
    tcpc_advance(b->stack, now);
}

static struct tcpc_stack *make_stack(struct bench *b, bool cookies, struct tcpc_config *cfg)
{
    tcpc_config_init(cfg);
    cfg->output = on_output;
    cfg->output_ctx = b;
    cfg->local_addrs[0] = tcpc_addr_v4(0xc6120001);
    cfg->nlocal_addrs = 1;
    cfg->use_seed = true;
    memset(cfg->seed, 7, sizeof(cfg->seed));
    const char *why;
    if (cookies && tcpc_config_sysctl(cfg, "net.inet.tcp.syncookies_only", 1, &why)) {
        fprintf(stderr, "synflood: %s\n", why);
        exit(1);
    }
    struct tcpc_stack *stack;
    if (tcpc_stack_new(cfg, syn_time(0), &stack)) {
        fprintf(stderr, "synflood: cannot create the stack\n");
        exit(1);
    }
    b->lsd = tcpc_socket(stack, TCPC_AF_INET);
    if (b->lsd < 0 || tcpc_bind(stack, b->lsd, NULL, LPORT) || tcpc_listen(stack, b->lsd, 1024)) {
        fprintf(stderr, "synflood: cannot listen\n");
        exit(1);
    }
    return stack;
}

static void print_first(struct bench *b, const struct tcpc_config *cfg, const struct rep *r)
{
    const struct tcpc_stats *st = tcpc_stack_stats(b->stack);
    uint64_t cachelimit = (uint64_t)sysctl_sc_cachelimit(&cfg->tun);
    size_t entry = syncache_entry_size(false);
    /* Each bucket: 48 bytes, and a 6-byte slot (index and tag) per place. */
    uint64_t depth = (uint64_t)cfg->tun.sc_bucketlimit < cachelimit
                         ? (uint64_t)cfg->tun.sc_bucketlimit
                         : cachelimit;
    double computed = (double)entry + (double)cfg->tun.sc_hashsize * (48.0 + 6.0 * (double)depth) /
                                          (double)(cachelimit ? cachelimit : 1);
    printf("first repetition: synacks_emitted=%" PRIu64 " packets_out=%" PRIu64
           " anon_growth_during_flood=%ld\n",
           b->synacks, b->out_pkts, r->growth);
    printf("syncache: cachelimit=%" PRIu64 " peak=%u now=%u entry_bytes_v4=%zu v6=%zu"
           " entry_plus_bucket_share=%.1f\n",
           cachelimit, r->peak, syncache_pcbcount(b->stack), entry, syncache_entry_size(true),
           computed);
    printf("counters: sc_added=%" PRIu64 " sc_bucketoverflow=%" PRIu64 " sc_cacheoverflow=%" PRIu64
           " sc_retransmitted=%" PRIu64 " sc_stale=%" PRIu64 " sc_sendcookie=%" PRIu64
           " sc_recvcookie=%" PRIu64 " sc_completed=%" PRIu64 " sc_paused=%" PRIu64 "\n",
           st->tcps_sc_added, st->tcps_sc_bucketoverflow, st->tcps_sc_cacheoverflow,
           st->tcps_sc_retransmitted, st->tcps_sc_stale, st->tcps_sc_sendcookie,
           st->tcps_sc_recvcookie, st->tcps_sc_completed, st->tcps_sc_paused);
}

/* One repetition: a new stack, the same flood. */
static struct rep run_rep(struct bench *b, bool cookies, uint64_t nsyns, bool first)
{
    struct tcpc_config cfg;
    struct rep r = {0};
    struct bench_time t = {0};
    b->out_pkts = b->synacks = 0;
    b->stack = make_stack(b, cookies, &cfg);
    forge_init(b);
    /* One handshake first, so that what an accepted connection allocates
     * is resident before the measurement and not counted as the cache's. */
    if (!legit_handshake(b, 9999, syn_time(0))) {
        fprintf(stderr, "synflood: the handshake before the flood failed\n");
        exit(1);
    }
    uint64_t ready = bench_resident_bytes();
    for (uint64_t i0 = 0; i0 < nsyns; i0 += ROUND_SYNS) {
        size_t n = nsyns - i0 < ROUND_SYNS ? (size_t)(nsyns - i0) : ROUND_SYNS;
        forge_round(b, n);
        bench_time_start(&t);
        bench_op_syn(b, i0, n);
        bench_time_stop(&t);
        uint32_t c = syncache_pcbcount(b->stack);
        if (c > r.peak)
            r.peak = c;
    }
    r.growth = (long)bench_resident_bytes() - (long)ready;
    r.cpu_ns = t.cpu_ns;
    r.wall_ns = t.wall_ns;
    if (first)
        print_first(b, &cfg, &r);
    tcpc_stack_del(b->stack);
    bench_release();
    return r;
}

int main(int argc, char **argv)
{
    bench_init();
    uint64_t nsyns = 2000000, reps = BENCH_REPS_DEFAULT;
    const char *mode = "default";
    const struct bench_opt opts[] = {
        {"--syns", &nsyns, 1, UINT64_C(1) << 36, NULL},
        {"--reps", &reps, 1, BENCH_REPS_MAX, NULL},
        {"--mode", NULL, 0, 0, &mode},
    };
    const char *usage = "synflood [--syns N] [--mode default|cookies] [--reps R]";
    if (!bench_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]), usage))
        return 2;
    bool cookies = !strcmp(mode, "cookies");
    if (!cookies && strcmp(mode, "default")) {
        fprintf(stderr, "synflood: mode is default or cookies\n");
        return 2;
    }
    static struct bench b;
    b.round = malloc(ROUND_SYNS * sizeof(*b.round));
    if (!b.round)
        return 1;
    /* Resident before any measurement, so that its pages are not counted
     * as the flood's growth. */
    memset(b.round, 0, ROUND_SYNS * sizeof(*b.round));
    double rate[BENCH_REPS_MAX], wall[BENCH_REPS_MAX];
    struct rep first = {0};
    for (size_t k = 0; k < reps; k++) {
        struct rep r = run_rep(&b, cookies, nsyns, k == 0);
        if (k == 0)
            first = r;
        rate[k] = (double)nsyns / (r.cpu_ns / 1e9);
        wall[k] = (double)nsyns / (r.wall_ns / 1e9);
    }
    struct bench_spread cpu_rate = bench_spread(rate, reps), wall_rate = bench_spread(wall, reps);
    printf("mode=%s syns=%" PRIu64 " per repetition, stack clock %d SYNs/us\n", mode, nsyns,
           FLOOD_SYNS_PER_US);
    printf("syn_per_s by wall clock: %.0f (%.0f-%.0f)\n", wall_rate.med, wall_rate.min,
           wall_rate.max);
    printf("ops syn=%" PRIu64 "\n", nsyns * reps);
    /* Cookies-only keeps no entries, so its figure is 0 with the growth
     * itself printed above. */
    double per_entry = first.peak ? (double)first.growth / (double)first.peak : 0.0;
    printf("synflood mode=%s syns=%" PRIu64 " reps=%" PRIu64, mode, nsyns, reps);
    bench_print_spread("syn_per_s", cpu_rate, 0);
    printf(" legit_ok=%" PRIu64 "/%" PRIu64 " bytes_per_halfopen=%.0f\n", b.legit_ok, b.legit_tries,
           per_entry);
    free(b.round);
    return b.legit_ok == b.legit_tries ? 0 : 1;
}
