/*
 * bench/pcb_lookup: what an exact 4-tuple lookup costs against the memory
 * floor of the machine it runs on.
 *
 * Fills the table with N established IPv4 connections, then times, on
 * fresh random keys each time (a key looked up a moment ago would find its
 * lines in the cache):
 *  - lookup: single lookups of present 4-tuples issued one after another, as
 *    a receive loop would issue them (the CPU may overlap one lookup's
 *    misses with the next's if its window reaches that far);
 *  - chained: the same, but each key's address depends on the previous
 *    result, so nothing overlaps (latency);
 *  - absent: lookups of 4-tuples no connection has (a segment without one);
 *  - burst: pcb_lookup_burst over bursts of 32;
 *  - floor: one dependent random read per step, chasing a random cyclic
 *    permutation over a buffer as large as the table plus the inpcbs.
 * Each is ns per operation of a batch of 256, the five take turns in rounds
 * of 16 batches (so a neighbour's burst of work lands on all of them alike),
 * and a repetition's figure is the median batch. ratio = lookup / floor,
 * chain_ratio = chained / floor, batch_ratio = burst / floor, each taken
 * within one repetition against the floor measured in the same rounds; the
 * last line gives the median and range of every figure over --reps
 * repetitions. bytes_per_conn counts the lookup structures (bucket array,
 * port heads, LB groups), not the inpcbs, whose size is printed on its own.
 *
 * Also times the table hash alone (inline SipHash of the IPv4 and IPv6
 * shapes, and util/hash's libsodium call; CPU time of one loop each), for
 * docs/pcb.md.
 *
 * Usage: pcb_lookup [--conns N] [--lookups M] [--reps R]
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <errno.h>

#include "core/rand.h"
#include "pcb/pcb.h"
#include "pcb/pcb_hash.h"
#include "util/hash.h"

#define BATCH 256
#define ROUND 16

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Connection i: 10.0.0.0/8 peers, four source ports each, to 192.0.2.1:443.
 * absent selects a peer port no connection uses. */
static struct pcb_tuple conn_tuple(uint64_t i, int absent)
{
    struct pcb_tuple t = {
        .faddr = tcpc_addr_v4(0x0a000000u + (uint32_t)(i >> 2)),
        .laddr = tcpc_addr_v4(0xc0000201u),
        .fport = (uint16_t)((absent ? 20000 : 10000) + (i & 3)),
        .lport = 443,
    };
    return t;
}

enum { M_FLOOR, M_LOOKUP, M_CHAINED, M_ABSENT, M_BURST, M_COUNT };
enum { H_V4, H_V6, H_SODIUM, H_COUNT };

struct bench {
    struct pcbinfo info;
    struct rand_state rnd;
    uint64_t conns;
    size_t nkeys;
    struct pcb_tuple *hit; /* random present keys */
    struct pcb_tuple *miss;
    size_t nbatches;
    size_t nhashes;  /* per hash measurement */
    uint64_t *chase; /* the floor's buffer */
    uint64_t chase_pos;
    uint64_t sink;          /* results folded in so no lookup is optimised away */
    volatile uint32_t zero; /* read at run time so the compiler keeps dependencies */
};

static int fill(struct bench *b)
{
    for (uint64_t i = 0; i < b->conns; i++) {
        struct inpcb *inp;
        struct pcb_tuple t = conn_tuple(i, 0);
        int err = pcb_alloc(&b->info, false, NULL, &inp);
        if (!err)
            err = pcb_insert_connected(&b->info, inp, &t);
        if (err) {
            fprintf(stderr, "fill: connection %" PRIu64 ": %s\n", i, strerror(-err));
            return err;
        }
    }
    return 0;
}

static void make_keys(struct bench *b)
{
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (size_t j = 0; j < b->nkeys; j++) {
        uint64_t i = xorshift(&s) % b->conns;
        b->hit[j] = conn_tuple(i, 0);
        b->miss[j] = conn_tuple(i, 1);
    }
}

/*
 * The timed operations, one batch each. Only the clock reads around a call
 * lie outside it, so callgrind's count for the function is the count for
 * the batch.
 */
static inline uint64_t lookup_batch(const struct pcbinfo *info, const struct pcb_tuple *keys)
{
    uint64_t acc = 0;
    for (size_t j = 0; j < BATCH; j++) {
        uint64_t h = pcb_hash(info, &keys[j]);
        acc += pcb_lookup_exact(info, &keys[j], h);
    }
    return acc;
}

BENCH_OP static uint64_t bench_op_lookup(const struct pcbinfo *info, const struct pcb_tuple *keys)
{
    return lookup_batch(info, keys);
}

BENCH_OP static uint64_t bench_op_absent(const struct pcbinfo *info, const struct pcb_tuple *keys)
{
    return lookup_batch(info, keys);
}

/* Each key's address depends on the previous result (zero is 0, read from
 * a volatile by the caller): pure latency. */
BENCH_OP static uint32_t bench_op_chained(const struct pcbinfo *info, const struct pcb_tuple *keys,
                                          uint32_t zero)
{
    uint32_t dep = 0;
    for (size_t j = 0; j < BATCH; j++) {
        const struct pcb_tuple *key = &keys[j + (dep & zero)];
        dep = pcb_lookup_exact(info, key, pcb_hash(info, key));
    }
    return dep;
}

BENCH_OP static uint64_t bench_op_burst(const struct pcbinfo *info, const struct pcb_tuple *keys)
{
    uint32_t refs[PCB_BURST_MAX];
    uint64_t acc = 0;
    for (size_t j = 0; j < BATCH; j += PCB_BURST_MAX) {
        pcb_lookup_burst(info, keys + j, PCB_BURST_MAX, NULL, refs);
        for (unsigned k = 0; k < PCB_BURST_MAX; k++)
            acc += refs[k];
    }
    return acc;
}

/* The floor: one dependent read per step along the permutation cycle. */
BENCH_OP static uint64_t bench_op_floor(const uint64_t *chase, uint64_t p)
{
    for (size_t j = 0; j < BATCH; j++)
        p = chase[p * 8];
    return p;
}

/* The hashes, on one tuple whose peer port changes each time, so that only
 * the hash is measured, not the reading of keys. */
static inline uint64_t hash_loop(const struct pcbinfo *info, struct pcb_tuple t, size_t n)
{
    uint64_t acc = 0;
    for (size_t j = 0; j < n; j++) {
        t.fport = (uint16_t)j;
        acc += pcb_hash(info, &t);
    }
    return acc;
}

BENCH_OP static uint64_t bench_op_hash_v4(const struct pcbinfo *info, struct pcb_tuple t, size_t n)
{
    return hash_loop(info, t, n);
}

BENCH_OP static uint64_t bench_op_hash_v6(const struct pcbinfo *info, struct pcb_tuple t, size_t n)
{
    return hash_loop(info, t, n);
}

/* util/hash's libsodium SipHash on the same 12 bytes as the IPv4 shape. */
BENCH_OP static uint64_t bench_op_hash_sodium(const struct hash_key *key, struct pcb_tuple t,
                                              size_t n)
{
    uint64_t acc = 0;
    for (size_t j = 0; j < n; j++) {
        uint8_t msg[12];
        t.fport = (uint16_t)j;
        pcb_hash_v4msg(&t, msg);
        acc += hash_siphash(key, msg, sizeof(msg));
    }
    return acc;
}

/* A random cyclic permutation of the cache lines of a buffer of `bytes`
 * (Sattolo's shuffle makes it one cycle through every line). */
static void make_chase(struct bench *b, size_t bytes)
{
    size_t lines = bytes / 64;
    b->chase = aligned_alloc(64, lines * 64);
    uint32_t *perm = malloc(lines * sizeof(*perm));
    if (!b->chase || !perm) {
        fprintf(stderr, "floor: out of memory\n");
        exit(1);
    }
    uint64_t s = 0x2545f4914f6cdd1dull;
    for (size_t i = 0; i < lines; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = lines - 1; i > 0; i--) {
        size_t j = xorshift(&s) % i;
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    for (size_t i = 0; i < lines; i++)
        b->chase[i * 8] = perm[i];
    free(perm);
}

/* ns per operation of the ops just timed from t0. */
static double per_op(double t0, size_t ops)
{
    return (bench_now_ns() - t0) / (double)ops;
}

/* One repetition: each measurement's median batch in med[], ns per op.
 * v[m] holds room for nbatches samples of measurement m. */
static void measure(struct bench *b, double *v[M_COUNT], double med[M_COUNT])
{
    const struct pcbinfo *info = &b->info;
    for (size_t r = 0; r < b->nbatches; r += ROUND) {
        size_t end = r + ROUND < b->nbatches ? r + ROUND : b->nbatches;
        for (size_t k = r; k < end; k++) {
            double t0 = bench_now_ns();
            b->chase_pos = bench_op_floor(b->chase, b->chase_pos);
            v[M_FLOOR][k] = per_op(t0, BATCH);
        }
        for (size_t k = r; k < end; k++) {
            double t0 = bench_now_ns();
            b->sink += bench_op_lookup(info, b->hit + 3 * k * BATCH);
            v[M_LOOKUP][k] = per_op(t0, BATCH);
        }
        for (size_t k = r; k < end; k++) {
            double t0 = bench_now_ns();
            b->sink += bench_op_chained(info, b->hit + (3 * k + 1) * BATCH, b->zero);
            v[M_CHAINED][k] = per_op(t0, BATCH);
        }
        for (size_t k = r; k < end; k++) {
            double t0 = bench_now_ns();
            b->sink += bench_op_absent(info, b->miss + k * BATCH);
            v[M_ABSENT][k] = per_op(t0, BATCH);
        }
        for (size_t k = r; k < end; k++) {
            double t0 = bench_now_ns();
            b->sink += bench_op_burst(info, b->hit + (3 * k + 2) * BATCH);
            v[M_BURST][k] = per_op(t0, BATCH);
        }
    }
    for (int m = 0; m < M_COUNT; m++)
        med[m] = bench_spread(v[m], b->nbatches).med;
}

/* One repetition of the hash timings, ns of CPU time per hash: each is one
 * long loop, which a descheduling would land in. */
static void time_hashes(struct bench *b, double ns[H_COUNT])
{
    struct hash_key key;
    memcpy(key.k, b->info.hash_key, sizeof(key.k));
    struct pcb_tuple v4 = b->hit[0], v6 = b->hit[0];
    v6.faddr.bytes[0] = 0x20;
    size_t n = b->nhashes;
    struct bench_time t[H_COUNT] = {0};
    bench_time_start(&t[H_V4]);
    b->sink += bench_op_hash_v4(&b->info, v4, n);
    bench_time_stop(&t[H_V4]);
    bench_time_start(&t[H_V6]);
    b->sink += bench_op_hash_v6(&b->info, v6, n);
    bench_time_stop(&t[H_V6]);
    bench_time_start(&t[H_SODIUM]);
    b->sink += bench_op_hash_sodium(&key, v4, n);
    bench_time_stop(&t[H_SODIUM]);
    for (int h = 0; h < H_COUNT; h++)
        ns[h] = t[h].cpu_ns / (double)n;
}

/* Per repetition: the five measurements, the three ratios, the hashes. */
enum { F_RATIO = M_COUNT, F_CHAIN_RATIO, F_BATCH_RATIO, F_HASH, F_COUNT = F_HASH + H_COUNT };

static struct bench_spread column(double (*rep)[F_COUNT], size_t reps, int f)
{
    double col[BENCH_REPS_MAX];
    for (size_t r = 0; r < reps; r++)
        col[r] = rep[r][f];
    return bench_spread(col, reps);
}

static void print_details(struct bench *b, double (*rep)[F_COUNT], size_t reps, size_t table,
                          size_t footprint)
{
    static const char *const name[F_COUNT] = {[M_FLOOR] = "floor (dependent read)",
                                              [M_LOOKUP] = "lookup",
                                              [M_CHAINED] = "chained",
                                              [M_ABSENT] = "absent",
                                              [M_BURST] = "burst(32)",
                                              [F_HASH + H_V4] = "hash v4 inline",
                                              [F_HASH + H_V6] = "hash v6 inline",
                                              [F_HASH + H_SODIUM] = "hash v4 libsodium"};
    printf("sizeof(struct inpcb)=%zu sizeof(struct pcb_bucket)=%zu buckets=%" PRIu32
           " load=%.2f table_bytes=%zu floor_buffer=%zu MiB\n",
           sizeof(struct inpcb), sizeof(struct pcb_bucket), b->info.bucket_mask + 1,
           (double)b->conns / ((b->info.bucket_mask + 1.0) * PCB_BUCKET_SLOTS), table,
           footprint >> 20);
    for (int f = 0; f < F_COUNT; f++) {
        if (!name[f])
            continue;
        struct bench_spread s = column(rep, reps, f);
        printf("%s: %.1f ns (%.1f-%.1f over %zu reps)\n", name[f], s.med, s.min, s.max, reps);
    }
    size_t lookups = reps * b->nbatches * BATCH, hashes = reps * b->nhashes;
    printf("ops lookup=%zu chained=%zu absent=%zu burst=%zu floor=%zu hash_v4=%zu hash_v6=%zu "
           "hash_sodium=%zu\n",
           lookups, lookups, lookups, lookups, lookups, hashes, hashes, hashes);
}

static void print_last(struct bench *b, double (*rep)[F_COUNT], size_t reps, size_t table)
{
    static const struct {
        const char *key;
        int f, prec;
    } shown[] = {{"ns", M_LOOKUP, 1},
                 {"chain_ns", M_CHAINED, 1},
                 {"miss_ns", M_ABSENT, 1},
                 {"burst_ns", M_BURST, 1},
                 {"floor_ns", M_FLOOR, 1},
                 {"ratio", F_RATIO, 2},
                 {"chain_ratio", F_CHAIN_RATIO, 2},
                 {"batch_ratio", F_BATCH_RATIO, 2}};
    printf("pcb_lookup conns=%" PRIu64 " reps=%zu", b->conns, reps);
    for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
        bench_print_spread(shown[i].key, column(rep, reps, shown[i].f), shown[i].prec);
    printf(" bytes_per_conn=%.1f\n", (double)table / (double)b->conns);
}

int main(int argc, char **argv)
{
    bench_init();
    static struct bench b;
    uint64_t conns = 1000000, lookups = 1u << 20, reps = BENCH_REPS_DEFAULT;
    const struct bench_opt opts[] = {
        {"--conns", &conns, 1, PCB_IDX_MASK, NULL},
        {"--lookups", &lookups, BATCH, 1u << 26, NULL},
        {"--reps", &reps, 1, BENCH_REPS_MAX, NULL},
    };
    if (!bench_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
                     "pcb_lookup [--conns N] [--lookups M] [--reps R]"))
        return 2;
    b.conns = conns;
    double start = bench_now_ns();
    uint8_t seed[32] = {1};
    rand_init(&b.rnd, seed);
    struct pcb_params p = {.max_pcbs = (uint32_t)b.conns, .port_first = 10000, .port_last = 65535};
    int err = pcbinfo_init(&b.info, &p, &b.rnd);
    if (err) {
        fprintf(stderr, "pcbinfo_init: %s\n", strerror(-err));
        return 1;
    }
    b.nbatches = lookups / BATCH;
    b.nkeys = 3 * b.nbatches * BATCH;
    b.nhashes = lookups < (1u << 20) ? lookups : (1u << 20);
    b.hit = malloc(b.nkeys * sizeof(*b.hit));
    b.miss = malloc(b.nkeys * sizeof(*b.miss));
    double *v[M_COUNT];
    double(*rep)[F_COUNT] = calloc(reps, sizeof(*rep));
    for (int m = 0; m < M_COUNT; m++)
        v[m] = malloc(b.nbatches * sizeof(double));
    if (!b.hit || !b.miss || !rep || !v[M_COUNT - 1] || fill(&b) != 0)
        return 1;
    make_keys(&b);
    double filled = bench_now_ns();

    size_t table = pcb_table_bytes(&b.info);
    size_t footprint = table + (size_t)b.conns * sizeof(struct inpcb);
    make_chase(&b, footprint);
    for (size_t r = 0; r < reps; r++) {
        time_hashes(&b, &rep[r][F_HASH]);
        measure(&b, v, rep[r]);
        rep[r][F_RATIO] = rep[r][M_LOOKUP] / rep[r][M_FLOOR];
        rep[r][F_CHAIN_RATIO] = rep[r][M_CHAINED] / rep[r][M_FLOOR];
        rep[r][F_BATCH_RATIO] = rep[r][M_BURST] / rep[r][M_FLOOR];
    }
    print_details(&b, rep, reps, table, footprint);
    printf("fill %.2f s, total %.2f s (sink %" PRIu64 ")\n", (filled - start) / 1e9,
           (bench_now_ns() - start) / 1e9, b.sink & 1);
    print_last(&b, rep, reps, table);
    pcbinfo_destroy(&b.info);
    for (int m = 0; m < M_COUNT; m++)
        free(v[m]);
    free(rep);
    free(b.chase);
    free(b.hit);
    free(b.miss);
    return 0;
}
