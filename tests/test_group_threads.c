/*
 * Connection groups on real threads (tcpcore/group.h): one member per
 * thread, as a host runs them, each with a client of its own on an
 * in-memory link. The listener the clients connect to is opened once, by
 * member 0; the others accept on their copies of it. While connections
 * open, carry data and close into TIME_WAIT, the threads bind, listen and
 * close on ports the others want too (the group's reservations decide who
 * gets one), open connections of their own (ephemeral ports chosen against
 * the group's table) and set tunables that the others pick up on their
 * next entry. Built under ThreadSanitizer (make check-tsan), it fails on
 * any unsynchronised access to the group; in every build it checks the
 * outcome: one set of tunables everywhere, the group's TIME_WAIT count
 * equal to the sum of the members' and never above net.inet.tcp.maxtcptw,
 * every bind either taken or refused with -EADDRINUSE, and no reservation
 * left behind.
 *
 * cmocka's assertions cannot fail inside a thread of their own, so each
 * thread counts what went wrong and the main thread asserts on it.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "core/group.h"
#include "memlink.h"
#include "pcb/pcb.h"
#include "tcp/timewait.h"
#include "tcpcore/group.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "tcpcore/stats.h"

#define NMEMBERS 4
#define ROUNDS   1000
#define MAXTCPTW 32
#define SEC      1000000ull

struct worker {
    struct tcpc_group *group;
    unsigned index;
    struct tcpc_memlink *link;
    struct tcpc_stack *cli, *srv; /* srv is the group's member */
    struct tcpc_addr ca, sa;
    tcpc_time_t now;
    unsigned errors;
    uint32_t tw_peak;        /* the most records the group held, as seen here */
    unsigned binds, refused; /* contended binds taken and refused */
    int cli_l;               /* the client's listener, for the member's active opens */
};

/* The id of member 0's listener, once it is open (0 before). */
static atomic_int listener_id;

static void config(struct worker *w, int side, struct tcpc_config *cfg)
{
    tcpc_config_init(cfg);
    tcpc_memlink_configure(w->link, side, cfg);
    cfg->local_addrs[0] = side == 0 ? w->ca : w->sa;
    cfg->nlocal_addrs = 1;
    cfg->use_seed = true;
    memset(cfg->seed, (int)(0x10 * w->index + (unsigned)side + 1), sizeof(cfg->seed));
    const char *why;
    int err = tcpc_config_sysctl(cfg, "kern.ipc.maxsockets", 256, &why);
    err |= tcpc_config_sysctl(cfg, "net.inet.tcp.maxtcptw", MAXTCPTW, &why);
    err |= tcpc_config_sysctl(cfg, "net.inet.tcp.msl", 1000, &why);
    if (err)
        w->errors++;
    if (side == 1 && tcpc_config_set_group(cfg, w->group, w->index) != 0)
        w->errors++;
}

static void run(struct worker *w)
{
    w->now = tcpc_memlink_run(w->link, w->now, w->now + 1000);
    uint32_t n = group_tw_count(w->group);
    if (n > w->tw_peak)
        w->tw_peak = n;
}

/* One connection from the client to the member's listener l: data both
 * ways, closed by the member first so that the member holds TIME_WAIT. */
static void one_connection(struct worker *w, int l)
{
    int c = tcpc_socket(w->cli, TCPC_AF_INET);
    if (c < 0 || tcpc_connect(w->cli, c, &w->sa, 80) != -EINPROGRESS) {
        w->errors++;
        return;
    }
    run(w);
    int s = tcpc_accept(w->srv, l, NULL, NULL);
    if (s < 0) {
        w->errors++;
        tcpc_close(w->cli, c);
        return;
    }
    char buf[64];
    if (tcpc_send(w->cli, c, "ping", 4) != 4 || tcpc_send(w->srv, s, "pong", 4) != 4)
        w->errors++;
    run(w);
    if (tcpc_recv(w->srv, s, buf, sizeof(buf)) != 4 || tcpc_recv(w->cli, c, buf, sizeof(buf)) != 4)
        w->errors++;
    tcpc_close(w->srv, s);
    run(w);
    tcpc_close(w->cli, c);
    run(w);
}

/* An active open of the member's own, to its client: its ephemeral port
 * is chosen against the group's reservations and recorded there. */
static void active_open(struct worker *w)
{
    int c = tcpc_socket(w->srv, TCPC_AF_INET);
    if (c < 0 || tcpc_connect(w->srv, c, &w->ca, 9000) != -EINPROGRESS) {
        w->errors++;
        return;
    }
    run(w);
    int s = tcpc_accept(w->cli, w->cli_l, NULL, NULL);
    if (s < 0)
        w->errors++;
    else
        tcpc_close(w->cli, s); /* the client closes first: it holds TIME_WAIT */
    run(w);
    tcpc_close(w->srv, c);
    run(w);
}

/* A bind and a listen that come and go beside the traffic. */
static void bind_and_listen(struct worker *w, unsigned round)
{
    int sd = tcpc_socket(w->srv, TCPC_AF_INET);
    if (sd < 0) {
        w->errors++;
        return;
    }
    /* Every member wants the same few ports: one at a time gets each, the
     * others are refused as a second socket of one stack would be. */
    int err = tcpc_bind(w->srv, sd, NULL, (uint16_t)(20000 + round % 5));
    if (err == 0) {
        w->binds++;
        if (tcpc_listen(w->srv, sd, 4) != 0)
            w->errors++;
        run(w); /* the listener is the group's for a moment */
    } else if (err == -EADDRINUSE) {
        w->refused++;
    } else {
        w->errors++;
    }
    tcpc_close(w->srv, sd);
}

static void set_tunables(struct worker *w, unsigned round)
{
    const char *why;
    int64_t idle = 10000 + 1000 * (int64_t)(round % 7) + (int64_t)w->index;
    if (tcpc_sysctl_set(w->srv, "net.inet.tcp.keepidle", idle, &why) != 0)
        w->errors++;
    if (tcpc_sysctl_set(w->srv, "net.inet.tcp.delayed_ack", round & 1, &why) != 0)
        w->errors++;
}

/* Member 0 opens the listener; the others wait for their copies. */
static int open_listener(struct worker *w)
{
    if (w->index == 0) {
        int l = tcpc_socket(w->srv, TCPC_AF_INET);
        if (l < 0 || tcpc_bind(w->srv, l, &w->sa, 80) != 0 || tcpc_listen(w->srv, l, 16) != 0)
            return -1;
        atomic_store(&listener_id, tcpc_group_listener_id(w->srv, l));
        return l;
    }
    int id;
    while ((id = atomic_load(&listener_id)) == 0)
        sched_yield();
    return tcpc_group_listener_sd(w->srv, id);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int l = open_listener(w);
    if (l < 0) {
        w->errors++;
        return NULL;
    }
    for (unsigned r = 0; r < ROUNDS; r++) {
        one_connection(w, l);
        if (r % 4 == w->index)
            bind_and_listen(w, r);
        if (r % 10 == w->index)
            active_open(w);
        if (r % 9 == w->index)
            set_tunables(w, r);
        w->now += 20 * 1000; /* 20 ms: records expire 2 s on */
    }
    return NULL;
}

static void worker_new(struct worker *w, struct tcpc_group *g, unsigned index)
{
    memset(w, 0, sizeof(*w));
    w->group = g;
    w->index = index;
    w->link = tcpc_memlink_new(index + 1);
    assert_non_null(w->link);
    assert_int_equal(tcpc_addr_parse("198.18.0.1", &w->ca), 0);
    assert_int_equal(tcpc_addr_parse("198.18.0.2", &w->sa), 0);
    w->now = 1 * SEC;
    for (int side = 0; side < 2; side++) {
        struct tcpc_config cfg;
        config(w, side, &cfg);
        struct tcpc_stack **st = side == 0 ? &w->cli : &w->srv;
        assert_int_equal(tcpc_stack_new(&cfg, w->now, st), 0);
        tcpc_memlink_attach(w->link, side, *st);
    }
    w->cli_l = tcpc_socket(w->cli, TCPC_AF_INET);
    assert_int_equal(tcpc_bind(w->cli, w->cli_l, NULL, 9000), 0);
    assert_int_equal(tcpc_listen(w->cli, w->cli_l, 4), 0);
    assert_int_equal(w->errors, 0);
}

static void test_members_on_threads(void **state)
{
    (void)state;
    struct tcpc_group *g;
    assert_int_equal(tcpc_group_new(NMEMBERS, &g), 0);
    struct worker w[NMEMBERS];
    pthread_t th[NMEMBERS];
    for (unsigned i = 0; i < NMEMBERS; i++)
        worker_new(&w[i], g, i);
    tcpc_group_del(g); /* the members hold it from here */
    for (unsigned i = 0; i < NMEMBERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    for (unsigned i = 0; i < NMEMBERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    /* Joined: the main thread may drive every member now. */
    uint32_t sum = 0;
    uint64_t limited = 0;
    unsigned binds = 0, refused = 0;
    int64_t idle0 = -1, dack0 = -1;
    for (unsigned i = 0; i < NMEMBERS; i++) {
        assert_int_equal(w[i].errors, 0);
        assert_true(w[i].tw_peak <= MAXTCPTW);
        binds += w[i].binds;
        refused += w[i].refused;
        tcpc_advance(w[i].srv, w[i].now);
        int64_t idle, dack;
        assert_int_equal(tcpc_sysctl_get(w[i].srv, "net.inet.tcp.keepidle", &idle), 0);
        assert_int_equal(tcpc_sysctl_get(w[i].srv, "net.inet.tcp.delayed_ack", &dack), 0);
        if (i == 0) {
            idle0 = idle;
            dack0 = dack;
        }
        assert_int_equal(idle, idle0);
        assert_int_equal(dack, dack0);
        sum += tw_count(w[i].srv);
        const struct tcpc_stats *st = tcpc_stack_stats(w[i].srv);
        limited += tcpc_stat_value(st, (unsigned)tcpc_stat_lookup("tcps_tw_recycles")) +
                   tcpc_stat_value(st, (unsigned)tcpc_stat_lookup("tcps_tw_nospace"));
    }
    assert_true(idle0 >= 10000);
    assert_int_equal(group_tw_count(w[0].group), sum);
    assert_true(sum > 0 && sum <= MAXTCPTW);
    assert_true(limited > 0); /* the group's limit was reached, and held */
    print_message("contended binds: %u taken, %u refused\n", binds, refused);
    assert_int_equal(binds + refused, ROUNDS);
    assert_true(binds > 0);
    /* Left reserved: member 0's listener alone (every other socket is
     * closed, and TIME_WAIT holds no reservation). */
    assert_int_equal(w[0].group->ports->count, 1);
    struct tcpc_group *left = w[0].group;
    for (unsigned i = 0; i < NMEMBERS; i++) {
        if (i == NMEMBERS - 1) /* the last member holds the group alone */
            assert_int_equal(group_tw_count(left), tw_count(w[i].srv));
        tcpc_stack_del(w[i].srv);
        tcpc_stack_del(w[i].cli);
        tcpc_memlink_del(w[i].link);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_members_on_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
