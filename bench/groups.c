/*
 * bench/groups: what a connection group (tcpcore/group.h) costs and how
 * handshakes scale with its members.
 *
 * Handshakes. A group of 1, then of 2 members, each member on its own
 * thread (pinned to CPU j when the machine lets it), each with a client
 * stack of its own on an in-memory link (io/memlink). Member 0 opens the
 * listener once; the other member accepts on its copy. Every thread then
 * makes --conns connections: connect, accept, close by the member first
 * (the member holds TIME_WAIT: a group's shared count), then the client's
 * close (bench_op_handshake is one). hs_per_s_N is the group's handshakes
 * per second of wall time with N members (all threads' connections over
 * the slowest thread's wall time: a figure of parallel throughput, so it
 * needs idle cores); scale = hs_per_s_2 / hs_per_s_1, 2 at best. Beside
 * it, handshakes per second of the threads' CPU time: what one costs, which
 * a shared write on the path would raise whatever the machine's load.
 *
 * Lookups. Member 0 of a group of 2 holds one established connection; a
 * pure ACK of it, captured on the link, is handed to tcpc_input --lookups
 * times (bench_op_lookup: the demux and an ACK that changes nothing;
 * bench_op_lookup_busy the same beside a busy member).
 * lookup_ns_quiet with member 1's thread idle; lookup_ns_busy while member
 * 1 binds, listens and closes in a loop: every listen and close moves the
 * group's generation, so member 0 takes the group's lock and opens or
 * closes a copy at some of its entries; the difference is what the rare
 * shared writes cost a busy member.
 *
 * The time figures are the median and range over --reps repetitions.
 *
 * Usage: groups [--conns N] [--lookups N] [--reps R]
 */
#define _GNU_SOURCE     /* pthread_setaffinity_np */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "memlink.h"
#include "core/config.h"
#include "tcpcore/group.h"
#include "tcpcore/socket.h"

#define PORT 80

static void die(const char *what, long err)
{
    bench_die("groups", what, err);
}

struct member {
    struct tcpc_group *group;
    unsigned index;
    struct tcpc_memlink *link;
    struct tcpc_stack *srv, *cli; /* srv is the group's member */
    struct tcpc_addr sa;
    tcpc_time_t now;
    uint64_t conns;
    struct bench_time t;
    _Atomic int *listener_id;
    /* The lookup phase: the captured ACK and whether to keep it. */
    uint8_t ack[128];
    size_t ack_len;
    bool capture;
};

static void set(struct tcpc_config *cfg, const char *name, int64_t v)
{
    bench_sysctl("groups", cfg, name, v);
}

static void tap(void *ctx, int from_side, tcpc_time_t now, const uint8_t *pkt, size_t len)
{
    (void)now;
    struct member *m = ctx;
    if (m->capture && from_side == 0 && len <= sizeof(m->ack)) {
        memcpy(m->ack, pkt, len);
        m->ack_len = len;
    }
}

static void member_new(struct member *m, struct tcpc_group *g, unsigned index, _Atomic int *lid)
{
    memset(m, 0, sizeof(*m));
    m->group = g;
    m->index = index;
    m->listener_id = lid;
    m->link = tcpc_memlink_new(index + 1);
    if (!m->link)
        die("tcpc_memlink_new", ENOMEM);
    tcpc_memlink_set_tap(m->link, tap, m);
    m->now = 1000000;
    tcpc_addr_parse("198.18.0.2", &m->sa);
    for (int side = 0; side < 2; side++) {
        struct tcpc_config cfg;
        tcpc_config_init(&cfg);
        tcpc_memlink_configure(m->link, side, &cfg);
        tcpc_addr_parse(side ? "198.18.0.2" : "198.18.0.1", &cfg.local_addrs[0]);
        cfg.nlocal_addrs = 1;
        set(&cfg, "kern.ipc.maxsockets", 1024);
        set(&cfg, "net.inet.tcp.delayed_ack", 0);
        set(&cfg, "net.inet.tcp.msl", 1000);
        set(&cfg, "net.inet.ip.portrange.first", 1024);
        set(&cfg, "net.inet.ip.portrange.last", 65535);
        set(&cfg, "net.inet.tcp.sendspace", 4096);
        set(&cfg, "net.inet.tcp.recvspace", 4096);
        if (side == 1 && tcpc_config_set_group(&cfg, g, index))
            die("tcpc_config_set_group", EINVAL);
        struct tcpc_stack **st = side ? &m->srv : &m->cli;
        int err = tcpc_stack_new(&cfg, m->now, st);
        if (err)
            die("tcpc_stack_new", err);
        tcpc_memlink_attach(m->link, side, *st);
    }
}

static void member_del(struct member *m)
{
    tcpc_stack_del(m->srv);
    tcpc_stack_del(m->cli);
    tcpc_memlink_del(m->link);
}

static void run(struct member *m)
{
    m->now = tcpc_memlink_run(m->link, m->now, m->now + 1);
}

/* Member 0 opens the group's listener; the others find their copy. */
static int open_listener(struct member *m)
{
    if (m->index == 0) {
        int l = tcpc_socket(m->srv, TCPC_AF_INET);
        if (l < 0 || tcpc_bind(m->srv, l, &m->sa, PORT) || tcpc_listen(m->srv, l, 64))
            die("listen", EINVAL);
        atomic_store(m->listener_id, tcpc_group_listener_id(m->srv, l));
        return l;
    }
    int id;
    while ((id = atomic_load(m->listener_id)) == 0)
        sched_yield();
    int l = tcpc_group_listener_sd(m->srv, id);
    if (l < 0)
        die("tcpc_group_listener_sd", l);
    return l;
}

BENCH_OP static void bench_op_handshake(struct member *m, int l)
{
    m->now += 20;
    int c = tcpc_socket(m->cli, TCPC_AF_INET);
    if (c < 0)
        die("socket", c);
    int err = tcpc_connect(m->cli, c, &m->sa, PORT);
    if (err != -EINPROGRESS)
        die("connect", err);
    run(m);
    int s = tcpc_accept(m->srv, l, NULL, NULL);
    if (s < 0)
        die("accept", s);
    tcpc_close(m->srv, s);
    run(m);
    tcpc_close(m->cli, c);
    run(m);
}

static void pin(unsigned cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu % (unsigned)sysconf(_SC_NPROCESSORS_ONLN), &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set); /* best effort */
}

static void *handshakes_main(void *arg)
{
    struct member *m = arg;
    pin(m->index);
    int l = open_listener(m);
    bench_time_start(&m->t);
    for (uint64_t i = 0; i < m->conns; i++)
        bench_op_handshake(m, l);
    bench_time_stop(&m->t);
    return NULL;
}

/* Handshakes per second of wall time of a group of n members; *cpu_rate:
 * per second of each thread's CPU time (the cost of one handshake, which
 * shared writes would raise, whatever the machine's load). */
static double handshakes(unsigned n, uint64_t conns, double *cpu_rate)
{
    struct tcpc_group *g;
    int err = tcpc_group_new(n, &g);
    if (err)
        die("tcpc_group_new", err);
    _Atomic int lid = 0;
    struct member m[2];
    pthread_t th[2];
    for (unsigned i = 0; i < n; i++) {
        member_new(&m[i], g, i, &lid);
        m[i].conns = conns;
    }
    tcpc_group_del(g);
    for (unsigned i = 0; i < n; i++)
        if (pthread_create(&th[i], NULL, handshakes_main, &m[i]))
            die("pthread_create", EAGAIN);
    double wall = 0, cpu = 0;
    for (unsigned i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        if (m[i].t.wall_ns > wall)
            wall = m[i].t.wall_ns;
        cpu += m[i].t.cpu_ns;
    }
    *cpu_rate = (double)(conns * n) / (cpu / 1e9);
    for (unsigned i = 0; i < n; i++)
        member_del(&m[i]);
    bench_release();
    return (double)(conns * n) / (wall / 1e9);
}

static void lookup_loop(struct member *m, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        tcpc_input(m->srv, m->now, m->ack, m->ack_len);
}

/* Two ops, so that the instruction count of the quiet one is the same on
 * every run: how long the busy one waits for the group's lock depends on
 * how the two threads interleave. */
BENCH_OP static void bench_op_lookup(struct member *m, uint64_t n)
{
    lookup_loop(m, n);
}

BENCH_OP static void bench_op_lookup_busy(struct member *m, uint64_t n)
{
    lookup_loop(m, n);
}

struct churn {
    struct member *m;
    atomic_bool stop;
    uint64_t rounds;
};

/* Member 1's thread: bind, listen and close, over and over. */
static void *churn_main(void *arg)
{
    struct churn *c = arg;
    pin(1);
    struct tcpc_addr any = tcpc_addr_v4(0);
    while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
        int sd = tcpc_socket(c->m->srv, TCPC_AF_INET);
        if (sd < 0 || tcpc_bind(c->m->srv, sd, &any, (uint16_t)(20000 + c->rounds % 16)) ||
            tcpc_listen(c->m->srv, sd, 4))
            die("churn listen", EINVAL);
        tcpc_close(c->m->srv, sd);
        tcpc_advance(c->m->srv, c->m->now); /* its own copies of nothing: an entry */
        c->rounds++;
    }
    return NULL;
}

/* ns per lookup on member 0 with member 1 idle or churning. */
static double lookups(uint64_t n, bool busy, uint64_t *rounds)
{
    struct tcpc_group *g;
    int err = tcpc_group_new(2, &g);
    if (err)
        die("tcpc_group_new", err);
    _Atomic int lid = 0;
    struct member m[2];
    member_new(&m[0], g, 0, &lid);
    member_new(&m[1], g, 1, &lid);
    tcpc_group_del(g);
    pin(0);
    int l = open_listener(&m[0]);
    int c = tcpc_socket(m[0].cli, TCPC_AF_INET);
    if (c < 0 || tcpc_connect(m[0].cli, c, &m[0].sa, PORT) != -EINPROGRESS)
        die("connect", EINVAL);
    m[0].capture = true;
    run(&m[0]);
    m[0].capture = false;
    if (tcpc_accept(m[0].srv, l, NULL, NULL) < 0 || m[0].ack_len == 0)
        die("accept", EINVAL);
    struct churn ch = {.m = &m[1]};
    pthread_t th;
    if (busy && pthread_create(&th, NULL, churn_main, &ch))
        die("pthread_create", EAGAIN);
    struct bench_time t = {0};
    bench_time_start(&t);
    if (busy)
        bench_op_lookup_busy(&m[0], n);
    else
        bench_op_lookup(&m[0], n);
    bench_time_stop(&t);
    if (busy) {
        atomic_store(&ch.stop, true);
        pthread_join(th, NULL);
    }
    *rounds = ch.rounds;
    member_del(&m[0]);
    member_del(&m[1]);
    bench_release();
    return t.cpu_ns / (double)n;
}

int main(int argc, char **argv)
{
    bench_init();
    uint64_t conns = 20000, nlookups = 2000000, reps = BENCH_REPS_DEFAULT;
    const struct bench_opt opts[] = {
        {"--conns", &conns, 1, 60000, NULL},
        {"--lookups", &nlookups, 1, 1000000000, NULL},
        {"--reps", &reps, 1, BENCH_REPS_MAX, NULL},
    };
    if (!bench_parse(argc, argv, opts, sizeof(opts) / sizeof(opts[0]),
                     "groups [--conns N] [--lookups N] [--reps R]"))
        return 2;
    double hs1[BENCH_REPS_MAX], hs2[BENCH_REPS_MAX], scale[BENCH_REPS_MAX];
    double cpu1[BENCH_REPS_MAX], cpu2[BENCH_REPS_MAX];
    double quiet[BENCH_REPS_MAX], busy[BENCH_REPS_MAX];
    uint64_t churned = 0;
    for (size_t k = 0; k < reps; k++) {
        hs1[k] = handshakes(1, conns, &cpu1[k]);
        hs2[k] = handshakes(2, conns, &cpu2[k]);
        scale[k] = hs2[k] / hs1[k];
        uint64_t r;
        quiet[k] = lookups(nlookups, false, &r);
        busy[k] = lookups(nlookups, true, &r);
        churned += r;
    }
    printf("member 1 listened and closed %" PRIu64 " times during the busy lookups\n", churned);
    struct bench_spread c1 = bench_spread(cpu1, reps), c2 = bench_spread(cpu2, reps);
    printf("handshakes per CPU second of a member's thread: 1 member %.0f (%.0f-%.0f), 2 members "
           "%.0f (%.0f-%.0f)\n",
           c1.med, c1.min, c1.max, c2.med, c2.min, c2.max);
    /* The busy lookups have no count: under callgrind, which runs one
     * thread at a time, member 0 spins on the group's lock for as long as
     * the scheduler leaves member 1 holding it (10 k to 60 k instructions
     * per ACK from run to run). */
    printf("ops handshake=%" PRIu64 " lookup=%" PRIu64 "\n", conns * 3 * reps, nlookups * reps);
    printf("groups inst=2");
    bench_print_spread("hs_per_s_1", bench_spread(hs1, reps), 0);
    bench_print_spread("hs_per_s_2", bench_spread(hs2, reps), 0);
    bench_print_spread("scale", bench_spread(scale, reps), 2);
    bench_print_spread("lookup_ns_quiet", bench_spread(quiet, reps), 1);
    bench_print_spread("lookup_ns_busy", bench_spread(busy, reps), 1);
    printf(" conns=%" PRIu64 " lookups=%" PRIu64 " reps=%" PRIu64 "\n", conns, nlookups, reps);
    return 0;
}
