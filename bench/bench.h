/*
 * bench/bench.h: what the benchmark programs share.
 *
 * Every benchmark runs its measurement --reps times and prints, last, one
 * line `name key=value ...` in which each timed figure is the median over
 * the repetitions followed by its spread: `rate=M rate_min=A rate_max=B`.
 *
 * Instruction counts. The code a figure times is the body of one function
 * named bench_op_<op>, marked BENCH_OP (never inlined or cloned, so that
 * callgrind sees it under its own name), and nothing else runs between the
 * clock reads around it. Before its last line a benchmark prints
 * `ops <op>=<count> ...`: how many operations all the calls of each
 * bench_op_<op> performed. scripts/bench-instructions.sh runs the program
 * under callgrind, takes each bench_op_<op>'s inclusive instruction count
 * and divides it by that count: instructions per operation of exactly the
 * code that was timed, the same on every machine that builds the same
 * binary, where the times are not.
 *
 * Clocks. Rates over a whole repetition use the thread's CPU time, so that
 * time spent descheduled behind a neighbour's job is not counted; wall
 * time is printed beside it. Short batches (pcb_lookup) use the monotonic
 * clock and take the median batch, which a descheduled batch cannot move.
 */
#ifndef TCPCORE_BENCH_BENCH_H
#define TCPCORE_BENCH_BENCH_H

/* Each program defines _POSIX_C_SOURCE 200809L (clock_gettime, sysconf
 * under -std=c17) before its first include. */

#include <inttypes.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcpcore/stack.h"
#include "tcpcore/sysctl.h"
#include "wire/tcp.h"

/* gcc would otherwise make specialised copies (name.constprop.0) or fold
 * two identical bodies into one symbol, either of which callgrind reports
 * under another name; noipa forbids both. clang does neither by itself
 * and has no such attribute. */
#if defined(__clang__)
#define BENCH_OP __attribute__((noinline))
#else
#define BENCH_OP __attribute__((noipa))
#endif

#define BENCH_REPS_DEFAULT 5
#define BENCH_REPS_MAX     101

/*
 * Fresh pages for every repetition. A repetition's stack is new, but its
 * memory would not be: glibc raises its mmap threshold at the first free of
 * a large block and then serves (and, for calloc, clears ahead of time) the
 * later repetitions' tables from the heap, and keeps freed heap pages
 * resident, so the later repetitions would not take the page faults the
 * first one took (at 10,000 sockets, 50 ns per tcpc_socket instead of 300).
 * bench_init (first thing in main) keeps large blocks on mmap;
 * bench_release (after each repetition's teardown) hands every free page
 * back to the kernel.
 */
static inline void bench_init(void)
{
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

static inline void bench_release(void)
{
    malloc_trim(0);
}

static inline double bench_clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline double bench_now_ns(void)
{
    return bench_clock_ns(CLOCK_MONOTONIC);
}

/* Time accumulated over the calls of one measurement: CPU and wall. */
struct bench_time {
    double cpu_ns, wall_ns;
    double cpu0, wall0;
};

static inline void bench_time_start(struct bench_time *t)
{
    t->wall0 = bench_now_ns();
    t->cpu0 = bench_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static inline void bench_time_stop(struct bench_time *t)
{
    t->cpu_ns += bench_clock_ns(CLOCK_THREAD_CPUTIME_ID) - t->cpu0;
    t->wall_ns += bench_now_ns() - t->wall0;
}

/* Median and range of n samples. */
struct bench_spread {
    double med, min, max;
};

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Sorts v in place. The median of an even count is the lower middle one,
 * so that it is always a value some repetition produced. */
static inline struct bench_spread bench_spread(double *v, size_t n)
{
    qsort(v, n, sizeof(*v), bench_cmp_double);
    struct bench_spread s = {v[(n - 1) / 2], v[0], v[n - 1]};
    return s;
}

/* Prints " key=med key_min=min key_max=max" with prec decimals. */
static inline void bench_print_spread(const char *key, struct bench_spread s, int prec)
{
    printf(" %s=%.*f %s_min=%.*f %s_max=%.*f", key, prec, s.med, key, prec, s.min, key, prec,
           s.max);
}

/* Anonymous resident memory of the process in bytes (Linux), 0 if unknown:
 * resident minus file-backed pages, so that the program's own text and
 * libraries, which the kernel may drop and fault back at any moment, do not
 * count as what the heap grew by. */
static inline uint64_t bench_resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0, shared = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu %lu", &size, &resident, &shared) != 3)
        resident = shared = 0;
    fclose(f);
    return (uint64_t)(resident - shared) * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* One command-line option: `--name N` into *num within [min, max], or
 * `--name WORD` into *word when num is NULL. */
struct bench_opt {
    const char *name;
    uint64_t *num;
    uint64_t min, max;
    const char **word;
};

static inline bool bench_parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* Parses argv against opts; on anything else prints the usage line and
 * each numeric option's range, and returns false. */
static inline bool bench_parse(int argc, char **argv, const struct bench_opt *opts, size_t nopts,
                               const char *usage)
{
    for (int i = 1; i < argc; i++) {
        const struct bench_opt *o = NULL;
        for (size_t k = 0; k < nopts && !o; k++)
            if (strcmp(argv[i], opts[k].name) == 0)
                o = &opts[k];
        bool ok = o && i + 1 < argc;
        if (ok && o->num)
            ok = bench_parse_num(argv[++i], o->min, o->max, o->num);
        else if (ok)
            *o->word = argv[++i];
        if (!ok) {
            fprintf(stderr, "usage: %s\n", usage);
            for (size_t k = 0; k < nopts; k++)
                if (opts[k].num)
                    fprintf(stderr, "  %s: %" PRIu64 "..%" PRIu64 "\n", opts[k].name, opts[k].min,
                            opts[k].max);
            return false;
        }
    }
    return true;
}

/* A benchmark that cannot set itself up says what failed, as prog: what:
 * strerror(err) (err negative or positive), and exits 1. */
static inline void bench_die(const char *prog, const char *what, long err)
{
    fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(err < 0 ? (int)-err : (int)err));
    exit(1);
}

/* Sets a tunable in cfg, or dies saying which. */
static inline void bench_sysctl(const char *prog, struct tcpc_config *cfg, const char *name,
                                int64_t v)
{
    const char *why = NULL;
    int err = tcpc_config_sysctl(cfg, name, v, &why);
    if (err)
        bench_die(prog, name, err);
}

/*
 * The IPv4 packet carrying segment th from src to dst (host-order
 * addresses), as a client on a LAN would send it, built into buf; returns
 * its length. A packet that does not fit is a bug in the benchmark: it
 * says so and exits.
 */
static inline size_t bench_packet_v4(uint8_t *buf, size_t buflen, uint32_t src, uint32_t dst,
                                     const struct tcp_repr *th)
{
    struct ip_repr ip = {.src = tcpc_addr_v4(src), .dst = tcpc_addr_v4(dst), .ttl = 64};
    ip.version = 4;
    ip.df = true;
    int n = tcp_emit_packet(&ip, th, buf, buflen);
    if (n < 0) {
        fprintf(stderr, "bench: cannot build a packet\n");
        exit(1);
    }
    return (size_t)n;
}

#endif
