/*
 * The hand-off queues of a connection group on real threads (tcpcore/group.h,
 * docs/groups.md "Hand-off"). Two members, one per thread, each with a
 * peer stack of its own in the same thread. Every member opens connections
 * to its peer, taking ports the ownership rule gives it; the "NIC" of the
 * test steers each of the peer's replies to the *other* thread, whose
 * member finds no connection for it and hands it back through the
 * group's queue. So every packet toward a member crosses threads once
 * through the ring, the wake callback and tcpc_group_poll.
 *
 * Built under ThreadSanitizer (make check-tsan), it fails on any
 * unsynchronised access to the rings; in every build it checks that each
 * connection carried its data both ways and closed, and that the members'
 * counters agree: what one handed off the other took.
 *
 * cmocka's assertions cannot fail inside a thread of their own, so each
 * thread counts what went wrong and the main thread asserts on it.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "tcpcore/group.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "tcpcore/stats.h"

#define NMEMBERS 2
#define CONNS    150
#define SPINS    200000 /* loop turns (10 s of virtual time) before a connection fails */

/* A packet on its way to a stack of another (or the same) thread. */
struct pkt {
    struct pkt *next;
    size_t len;
    uint8_t data[];
};

/* A queue of packets for one stack, shared between threads under a mutex
 * (the test's wire, not the library's). */
struct wire {
    pthread_mutex_t mu;
    struct pkt *head, *tail;
};

struct worker {
    unsigned index;
    struct tcpc_stack *member, *peer;
    struct wire to_member, to_peer; /* to_member: what the "NIC" gave this thread */
    struct worker *other;
    tcpc_time_t now;
    atomic_uint woken;
    atomic_uint *finished; /* workers done with their connections */
    unsigned errors, done;
};

static void wire_push(struct wire *w, const uint8_t *data, size_t len)
{
    struct pkt *p = malloc(sizeof(*p) + len);
    if (!p)
        abort();
    p->next = NULL;
    p->len = len;
    memcpy(p->data, data, len);
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = p;
    else
        w->head = p;
    w->tail = p;
    pthread_mutex_unlock(&w->mu);
}

static struct pkt *wire_take_all(struct wire *w)
{
    pthread_mutex_lock(&w->mu);
    struct pkt *p = w->head;
    w->head = w->tail = NULL;
    pthread_mutex_unlock(&w->mu);
    return p;
}

static void wire_free(struct wire *w)
{
    for (struct pkt *p = wire_take_all(w), *next; p; p = next) {
        next = p->next;
        free(p);
    }
}

static void wire_feed(struct wire *w, struct tcpc_stack *s, tcpc_time_t now)
{
    struct pkt *p = wire_take_all(w);
    while (p) {
        struct pkt *next = p->next;
        tcpc_input(s, now, p->data, p->len);
        free(p);
        p = next;
    }
}

/* A member's packets go straight to its own peer. */
static int member_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct worker *w = ctx;
    wire_push(&w->to_peer, pkt, len);
    return 0;
}

/* The peer's replies are mis-steered: all to the other thread's member. */
static int peer_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct worker *w = ctx;
    wire_push(&w->other->to_member, pkt, len);
    return 0;
}

/* The ownership rule: the local port's parity. */
static unsigned parity_owner(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                             const struct tcpc_addr *laddr, uint16_t lport)
{
    (void)ctx, (void)faddr, (void)fport, (void)laddr;
    return lport % NMEMBERS;
}

static void wake(void *ctx, unsigned member)
{
    struct worker *w = ctx;
    atomic_fetch_add_explicit(&w[member].woken, 1, memory_order_relaxed);
}

static void turn(struct worker *w)
{
    w->now += 50;
    sched_yield(); /* the other thread answers for this one's connections */
    wire_feed(&w->to_member, w->member, w->now);
    wire_feed(&w->to_peer, w->peer, w->now);
    tcpc_group_poll(w->member, w->now);
    if (tcpc_next_deadline(w->member) <= w->now)
        tcpc_advance(w->member, w->now);
    if (tcpc_next_deadline(w->peer) <= w->now)
        tcpc_advance(w->peer, w->now);
}

/* One connection from the member to its peer: a ping and a pong, closed by
 * both. */
static void one_connection(struct worker *w, int l, const struct tcpc_addr *pa)
{
    int c = tcpc_socket(w->member, TCPC_AF_INET);
    if (c < 0 || tcpc_connect(w->member, c, pa, 80) != -EINPROGRESS) {
        w->errors++;
        return;
    }
    int s = -1;
    char buf[16];
    unsigned spins = 0;
    while ((s = tcpc_accept(w->peer, l, NULL, NULL)) < 0 && spins++ < SPINS)
        turn(w);
    if (s < 0 || tcpc_send(w->peer, s, "pong", 4) != 4 || tcpc_send(w->member, c, "ping", 4) != 4) {
        w->errors++;
        return;
    }
    int got = 0;
    while ((got = tcpc_recv(w->member, c, buf, sizeof(buf))) == -EAGAIN && spins++ < SPINS)
        turn(w);
    if (got != 4 || tcpc_recv(w->peer, s, buf, sizeof(buf)) != 4)
        w->errors++;
    else
        w->done++;
    tcpc_close(w->member, c);
    tcpc_close(w->peer, s);
    for (unsigned i = 0; i < 20; i++)
        turn(w);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct tcpc_addr pa;
    tcpc_addr_parse("198.18.0.1", &pa);
    int l = tcpc_socket(w->peer, TCPC_AF_INET);
    if (l < 0 || tcpc_bind(w->peer, l, NULL, 80) != 0 || tcpc_listen(w->peer, l, 16) != 0) {
        w->errors++;
        return NULL;
    }
    for (unsigned r = 0; r < CONNS; r++)
        one_connection(w, l, &pa);
    /* This thread's member hands the other's replies on: it keeps turning
     * until every worker is done, and a little more for the last ACKs. */
    atomic_fetch_add(w->finished, 1);
    while (atomic_load(w->finished) < NMEMBERS)
        turn(w);
    for (unsigned i = 0; i < 2000; i++)
        turn(w);
    return NULL;
}

static void make_stack(struct worker *w, struct tcpc_group *g, bool member)
{
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    cfg.output = member ? member_output : peer_output;
    cfg.output_ctx = w;
    tcpc_addr_parse(member ? "198.18.0.2" : "198.18.0.1", &cfg.local_addrs[0]);
    cfg.nlocal_addrs = 1;
    cfg.use_seed = true;
    memset(cfg.seed, (int)(0x10 * w->index + member + 1), sizeof(cfg.seed));
    if (member) {
        assert_int_equal(tcpc_config_set_group(&cfg, g, w->index), 0);
        tcpc_config_set_owner(&cfg, parity_owner, NULL);
    }
    assert_int_equal(tcpc_stack_new(&cfg, w->now, member ? &w->member : &w->peer), 0);
}

static uint64_t stat(struct tcpc_stack *s, const char *name)
{
    return tcpc_stat_value(tcpc_stack_stats(s), (unsigned)tcpc_stat_lookup(name));
}

static void test_handoff_between_threads(void **state)
{
    (void)state;
    struct tcpc_group *g;
    assert_int_equal(tcpc_group_new(NMEMBERS, &g), 0);
    struct worker w[NMEMBERS];
    memset(w, 0, sizeof(w));
    atomic_uint finished;
    atomic_init(&finished, 0);
    tcpc_group_set_wake(g, wake, w);
    pthread_t th[NMEMBERS];
    for (unsigned i = 0; i < NMEMBERS; i++) {
        w[i].index = i;
        w[i].other = &w[(i + 1) % NMEMBERS];
        w[i].finished = &finished;
        w[i].now = 1000000;
        pthread_mutex_init(&w[i].to_member.mu, NULL);
        pthread_mutex_init(&w[i].to_peer.mu, NULL);
        atomic_init(&w[i].woken, 0);
        make_stack(&w[i], g, true);
        make_stack(&w[i], g, false);
    }
    tcpc_group_del(g);
    for (unsigned i = 0; i < NMEMBERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    for (unsigned i = 0; i < NMEMBERS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (unsigned i = 0; i < NMEMBERS; i++) {
        struct worker *o = w[i].other;
        tcpc_group_poll(w[i].member, w[i].now);
        assert_int_equal(w[i].errors, 0);
        assert_int_equal(w[i].done, CONNS);
        /* Every reply the peer sent crossed to the other member and back. */
        assert_true(stat(o->member, "tcps_handoff") >= 3 * CONNS);
        assert_int_equal(stat(o->member, "tcps_handoff") + stat(o->member, "tcps_handoff_qdrop") +
                             stat(o->member, "tcps_handoff_rcvd"),
                         stat(o->member, "tcps_rcvtotal"));
        assert_int_equal(stat(w[i].member, "tcps_handoff_rcvd"), stat(o->member, "tcps_handoff"));
        assert_int_equal(stat(w[i].member, "tcps_connects"), CONNS);
        assert_true(atomic_load(&w[i].woken) > 0);
    }
    for (unsigned i = 0; i < NMEMBERS; i++) {
        tcpc_stack_del(w[i].member);
        tcpc_stack_del(w[i].peer);
        wire_free(&w[i].to_member);
        wire_free(&w[i].to_peer);
        pthread_mutex_destroy(&w[i].to_member.mu);
        pthread_mutex_destroy(&w[i].to_peer.mu);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handoff_between_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
