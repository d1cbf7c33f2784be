/*
 * bench/pcb_lookup: what an exact 4-tuple lookup costs against the memory
 * floor of the machine it runs on.
 *
 * Fills the table with N established IPv4 connections, then times:
 *  - single lookups of random present 4-tuples, one after another as a
 *    receive loop would issue them (independent: the CPU may overlap one
 *    lookup's misses with the next's, as it would in a real loop);
 *  - the same, but each lookup's key depends on the previous result
 *    (latency: nothing overlaps);
 *  - lookups of absent 4-tuples (a segment with no connection);
 *  - pcb_lookup_burst over bursts of 32;
 *  - the floor: one dependent random read per step, chasing a random cyclic
 *    permutation over a buffer as large as the table plus the entries.
 * Each figure is ns per lookup over batches of 256 (median and p99 over the
 * batches); the five measurements take turns in rounds of 16 batches. ratio = single lookup /
 * dependent read, batch_ratio = burst lookup / dependent read; bytes_per_conn counts the lookup
 * structures (bucket array, port heads, LB groups), not the inpcbs, whose size is printed on its
 * own line.
 *
 * Usage: pcb_lookup [--conns N] [--lookups M]
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c17 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/rand.h"
#include "pcb/pcb.h"
#include "pcb/pcb_hash.h"
#include "util/hash.h"

#define BATCH 256

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct stats {
    double p50, p99;
};

static struct stats summarize(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    struct stats s = {v[n / 2], v[(n * 99) / 100]};
    return s;
}

struct bench {
    struct pcbinfo info;
    struct rand_state rnd;
    uint64_t conns;
    size_t nkeys;
    struct pcb_tuple *hit; /* random present keys */
    struct pcb_tuple *miss;
    size_t nbatches;
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
 * One batch of each measurement. The driver interleaves them in rounds so
 * that all five see the same machine: on a shared host a neighbour's burst
 * of work lands on every figure alike instead of on one of them.
 */
enum { M_FLOOR, M_SINGLE, M_CHAINED, M_MISS, M_BURST, M_COUNT };

/* Independent single lookups. */
static double batch_single(struct bench *b, const struct pcb_tuple *base)
{
    uint64_t acc = 0;
    double t0 = now_ns();
    for (size_t j = 0; j < BATCH; j++) {
        uint64_t h = pcb_hash(&b->info, &base[j]);
        acc += pcb_lookup_exact(&b->info, &base[j], h);
    }
    double ns = (now_ns() - t0) / BATCH;
    b->sink += acc;
    return ns;
}

/* Each key's position depends on the previous result: pure latency. */
static double batch_chained(struct bench *b, const struct pcb_tuple *base)
{
    uint32_t dep = 0;
    double t0 = now_ns();
    for (size_t j = 0; j < BATCH; j++) {
        const struct pcb_tuple *key = &base[j + (dep & b->zero)];
        uint64_t h = pcb_hash(&b->info, key);
        dep = pcb_lookup_exact(&b->info, key, h);
    }
    double ns = (now_ns() - t0) / BATCH;
    b->sink += dep;
    return ns;
}

static double batch_burst(struct bench *b, const struct pcb_tuple *base)
{
    uint32_t refs[PCB_BURST_MAX];
    uint64_t acc = 0;
    double t0 = now_ns();
    for (size_t j = 0; j < BATCH; j += PCB_BURST_MAX) {
        pcb_lookup_burst(&b->info, base + j, PCB_BURST_MAX, NULL, refs);
        acc += refs[0] + refs[PCB_BURST_MAX - 1];
    }
    double ns = (now_ns() - t0) / BATCH;
    b->sink += acc;
    return ns;
}

/* The floor: one dependent read per step along the permutation cycle. */
static double batch_floor(struct bench *b)
{
    uint64_t p = b->chase_pos;
    double t0 = now_ns();
    for (size_t j = 0; j < BATCH; j++)
        p = b->chase[p * 8];
    double ns = (now_ns() - t0) / BATCH;
    b->chase_pos = p;
    return ns;
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

/* The floor on its own, nothing else touching memory between its reads:
 * its page-table walks then stay in the caches, so this is the lowest
 * floor the machine shows, and the ratios use the lower of the two. */
static struct stats floor_alone(struct bench *b)
{
    size_t n = b->nbatches / 4 + 1;
    double *v = malloc(n * sizeof(double));
    if (!v)
        exit(1);
    for (size_t k = 0; k < n; k++)
        v[k] = batch_floor(b);
    struct stats s = summarize(v, n);
    free(v);
    return s;
}

static void measure(struct bench *b, struct stats out[M_COUNT])
{
    double *v[M_COUNT];
    for (int m = 0; m < M_COUNT; m++) {
        v[m] = malloc(b->nbatches * sizeof(double));
        if (!v[m])
            exit(1);
    }
    /* Rounds of ROUND batches of each measurement in turn: long enough for
     * each to reach its own steady state in the caches and TLBs, short
     * enough that a noisy neighbour hits all of them alike. */
    enum { ROUND = 16 };
    for (size_t r = 0; r < b->nbatches; r += ROUND) {
        size_t end = r + ROUND < b->nbatches ? r + ROUND : b->nbatches;
        for (size_t k = r; k < end; k++)
            v[M_FLOOR][k] = batch_floor(b);
        /* Fresh keys for each measurement: a key looked up a moment ago
         * would find its lines in the cache. */
        for (size_t k = r; k < end; k++)
            v[M_SINGLE][k] = batch_single(b, b->hit + 3 * k * BATCH);
        for (size_t k = r; k < end; k++)
            v[M_CHAINED][k] = batch_chained(b, b->hit + (3 * k + 1) * BATCH);
        for (size_t k = r; k < end; k++)
            v[M_MISS][k] = batch_single(b, b->miss + k * BATCH);
        for (size_t k = r; k < end; k++)
            v[M_BURST][k] = batch_burst(b, b->hit + (3 * k + 2) * BATCH);
    }
    for (int m = 0; m < M_COUNT; m++) {
        out[m] = summarize(v[m], b->nbatches);
        free(v[m]);
    }
}

/* Hash cost alone: inline SipHash of the 12-byte IPv4 shape, and
 * util/hash's libsodium call on the same bytes, for docs/pcb.md. */
static void time_hash(struct bench *b)
{
    const size_t n = 1u << 20;
    struct hash_key key;
    memcpy(key.k, b->info.hash_key, sizeof(key.k));
    uint64_t acc = 0;
    double t0 = now_ns();
    for (size_t j = 0; j < n; j++)
        acc += pcb_hash(&b->info, &b->hit[j % b->nkeys]);
    double t1 = now_ns();
    for (size_t j = 0; j < n; j++) {
        uint8_t msg[12];
        pcb_hash_v4msg(&b->hit[j % b->nkeys], msg);
        acc += hash_siphash(&key, msg, sizeof(msg));
    }
    double t2 = now_ns();
    struct pcb_tuple v6 = b->hit[0];
    v6.faddr.bytes[0] = 0x20;
    double t3 = now_ns();
    for (size_t j = 0; j < n; j++) {
        v6.fport = (uint16_t)j;
        acc += pcb_hash(&b->info, &v6);
    }
    double t4 = now_ns();
    printf("hash: siphash24 inline v4 %.1f ns, v6 %.1f ns; libsodium v4 %.1f ns\n",
           (t1 - t0) / (double)n, (t4 - t3) / (double)n, (t2 - t1) / (double)n);
    b->sink += acc;
}

static bool parse_args(int argc, char **argv, uint64_t *conns, size_t *lookups)
{
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--conns") == 0)
            *conns = strtoull(argv[++i], NULL, 10);
        else if (i + 1 < argc && strcmp(argv[i], "--lookups") == 0)
            *lookups = strtoull(argv[++i], NULL, 10);
        else
            return false;
    }
    return *conns >= 1 && *conns <= PCB_IDX_MASK && *lookups >= BATCH;
}

int main(int argc, char **argv)
{
    static struct bench b;
    size_t lookups = 1u << 20;
    b.conns = 1000000;
    if (!parse_args(argc, argv, &b.conns, &lookups)) {
        fprintf(stderr, "usage: pcb_lookup [--conns N (1..2^29)] [--lookups M (>= %d)]\n", BATCH);
        return 2;
    }
    double start = now_ns();
    uint8_t seed[32] = {1};
    rand_init(&b.rnd, seed);
    struct pcb_params p = {.max_pcbs = (uint32_t)b.conns, .port_first = 10000, .port_last = 65535};
    int err = pcbinfo_init(&b.info, &p, &b.rnd);
    if (err) {
        fprintf(stderr, "pcbinfo_init: %s\n", strerror(-err));
        return 1;
    }
    b.nbatches = lookups / BATCH;
    b.nkeys = 3 * b.nbatches * BATCH + BATCH;
    b.hit = malloc(b.nkeys * sizeof(*b.hit));
    b.miss = malloc(b.nkeys * sizeof(*b.miss));
    if (!b.hit || !b.miss || fill(&b) != 0)
        return 1;
    make_keys(&b);
    double filled = now_ns();

    size_t table = pcb_table_bytes(&b.info);
    size_t footprint = table + (size_t)b.conns * sizeof(struct inpcb);
    make_chase(&b, footprint);
    time_hash(&b);
    struct stats alone = floor_alone(&b);
    struct stats r[M_COUNT];
    measure(&b, r);
    struct stats floor = r[M_FLOOR].p50 < alone.p50 ? r[M_FLOOR] : alone, single = r[M_SINGLE],
                 chained = r[M_CHAINED], miss = r[M_MISS], burst = r[M_BURST];

    printf("sizeof(struct inpcb)=%zu sizeof(struct pcb_bucket)=%zu buckets=%" PRIu32
           " load=%.2f table_bytes=%zu\n",
           sizeof(struct inpcb), sizeof(struct pcb_bucket), b.info.bucket_mask + 1,
           (double)b.conns / ((b.info.bucket_mask + 1.0) * PCB_BUCKET_SLOTS), table);
    printf("floor: dependent read over %zu MiB: alone p50 %.1f p99 %.1f ns, interleaved p50 %.1f "
           "p99 %.1f ns; ratios use p50 %.1f\n",
           footprint >> 20, alone.p50, alone.p99, r[M_FLOOR].p50, r[M_FLOOR].p99, floor.p50);
    printf("single: p50 %.1f p99 %.1f ns; chained (latency): p50 %.1f p99 %.1f ns "
           "(lat_ratio %.2f)\n",
           single.p50, single.p99, chained.p50, chained.p99, chained.p50 / floor.p50);
    printf("absent: p50 %.1f p99 %.1f ns; burst(32): p50 %.1f p99 %.1f ns\n", miss.p50, miss.p99,
           burst.p50, burst.p99);
    printf("fill %.2f s, total %.2f s (sink %" PRIu64 ")\n", (filled - start) / 1e9,
           (now_ns() - start) / 1e9, b.sink & 1);
    printf("pcb_lookup conns=%" PRIu64
           " ns_p50=%.1f ns_p99=%.1f miss_ns=%.1f ratio=%.2f batch_ratio=%.2f "
           "bytes_per_conn=%.1f\n",
           b.conns, single.p50, single.p99, miss.p50, single.p50 / floor.p50, burst.p50 / floor.p50,
           (double)table / (double)b.conns);
    pcbinfo_destroy(&b.info);
    free(b.chase);
    free(b.hit);
    free(b.miss);
    return 0;
}
