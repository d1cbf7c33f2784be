/*
 * The bind/listen/connect matrix: a first socket in some state, a second
 * socket binding, and the result FreeBSD gives (docs/pcb.md, "Reuse
 * rules", explains each row). Every row runs twice: with the first
 * socket's options set before its bind and after it, since the options are
 * cached on the PCB whenever they are set (PR 179901); the result must not
 * depend on that order.
 *
 * Addresses: A = 192.0.2.1 and B = 192.0.2.2 are local, N = 203.0.113.9 is
 * not, M = 239.1.1.1 is multicast; A6 = 2001:db8::1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "test_pcb_fixture.h"

enum state { BOUND, LISTENING, CONNECTED, CLOSED };

struct sock_spec {
    enum fam fam;
    const char *addr;
    uint32_t opts;
};

struct bind_case {
    const char *why;
    struct sock_spec first;
    enum state state;
    struct sock_spec second;
    int expect;
};

#define RA  INP_REUSEADDR
#define RP  INP_REUSEPORT
#define LB  INP_REUSEPORT_LB
#define ANY INP_BINDANY

static const struct bind_case cases[] = {
    /* Same unicast address: duplicates need SO_REUSEPORT on both. */
    {"no options", {F4, "192.0.2.1", 0}, BOUND, {F4, "192.0.2.1", 0}, -EADDRINUSE},
    {"second REUSEADDR only", {F4, "192.0.2.1", 0}, BOUND, {F4, "192.0.2.1", RA}, -EADDRINUSE},
    {"both REUSEADDR, unicast", {F4, "192.0.2.1", RA}, BOUND, {F4, "192.0.2.1", RA}, -EADDRINUSE},
    {"both REUSEPORT", {F4, "192.0.2.1", RP}, BOUND, {F4, "192.0.2.1", RP}, 0},
    {"REUSEADDR then REUSEPORT, unicast",
     {F4, "192.0.2.1", RA},
     BOUND,
     {F4, "192.0.2.1", RP},
     -EADDRINUSE},
    {"REUSEPORT then REUSEADDR, unicast",
     {F4, "192.0.2.1", RP},
     BOUND,
     {F4, "192.0.2.1", RA},
     -EADDRINUSE},
    {"REUSEPORT then none", {F4, "192.0.2.1", RP}, BOUND, {F4, "192.0.2.1", 0}, -EADDRINUSE},
    {"none then REUSEPORT", {F4, "192.0.2.1", 0}, BOUND, {F4, "192.0.2.1", RP}, -EADDRINUSE},
    {"both REUSEPORT|REUSEADDR", {F4, "192.0.2.1", RA | RP}, BOUND, {F4, "192.0.2.1", RA | RP}, 0},
    {"both REUSEPORT_LB", {F4, "192.0.2.1", LB}, LISTENING, {F4, "192.0.2.1", LB}, 0},
    {"REUSEPORT_LB then REUSEPORT",
     {F4, "192.0.2.1", LB},
     BOUND,
     {F4, "192.0.2.1", RP},
     -EADDRINUSE},
    {"REUSEPORT then REUSEPORT_LB",
     {F4, "192.0.2.1", RP},
     BOUND,
     {F4, "192.0.2.1", LB},
     -EADDRINUSE},
    {"listening, no options", {F4, "192.0.2.1", 0}, LISTENING, {F4, "192.0.2.1", 0}, -EADDRINUSE},
    {"listening, both REUSEPORT", {F4, "192.0.2.1", RP}, LISTENING, {F4, "192.0.2.1", RP}, 0},

    /* Different or overlapping addresses. */
    {"other address", {F4, "192.0.2.1", 0}, BOUND, {F4, "192.0.2.2", 0}, 0},
    {"specific after wildcard", {F4, "0.0.0.0", 0}, LISTENING, {F4, "192.0.2.1", 0}, -EADDRINUSE},
    {"specific after wildcard, REUSEADDR", {F4, "0.0.0.0", 0}, LISTENING, {F4, "192.0.2.1", RA}, 0},
    {"wildcard after specific", {F4, "192.0.2.1", 0}, LISTENING, {F4, "0.0.0.0", 0}, -EADDRINUSE},
    {"wildcard after specific, REUSEADDR", {F4, "192.0.2.1", 0}, LISTENING, {F4, "0.0.0.0", RA}, 0},
    {"wildcard twice, REUSEADDR", {F4, "0.0.0.0", 0}, LISTENING, {F4, "0.0.0.0", RA}, -EADDRINUSE},

    /* Multicast: either option counts as both (PR 179901). */
    {"mcast REUSEADDR then REUSEPORT", {F4, "239.1.1.1", RA}, BOUND, {F4, "239.1.1.1", RP}, 0},
    {"mcast REUSEPORT then REUSEADDR", {F4, "239.1.1.1", RP}, BOUND, {F4, "239.1.1.1", RA}, 0},
    {"mcast both REUSEADDR", {F4, "239.1.1.1", RA}, BOUND, {F4, "239.1.1.1", RA}, 0},
    {"mcast both REUSEPORT", {F4, "239.1.1.1", RP}, BOUND, {F4, "239.1.1.1", RP}, 0},
    {"mcast none then REUSEADDR", {F4, "239.1.1.1", 0}, BOUND, {F4, "239.1.1.1", RA}, -EADDRINUSE},
    {"mcast REUSEADDR then none", {F4, "239.1.1.1", RA}, BOUND, {F4, "239.1.1.1", 0}, -EADDRINUSE},

    /* A connection on the port (e.g. accepted from an old listener). */
    {"connected, no options", {F4, "192.0.2.1", 0}, CONNECTED, {F4, "192.0.2.1", 0}, -EADDRINUSE},
    {"connected, REUSEADDR", {F4, "192.0.2.1", 0}, CONNECTED, {F4, "192.0.2.1", RA}, 0},
    {"connected, REUSEPORT", {F4, "192.0.2.1", 0}, CONNECTED, {F4, "192.0.2.1", RP}, 0},
    {"connected, other address", {F4, "192.0.2.1", 0}, CONNECTED, {F4, "192.0.2.2", 0}, 0},
    {"connected, wildcard", {F4, "192.0.2.1", 0}, CONNECTED, {F4, "0.0.0.0", 0}, -EADDRINUSE},
    {"connected from wildcard bind",
     {F4, "0.0.0.0", 0},
     CONNECTED,
     {F4, "192.0.2.1", 0},
     -EADDRINUSE},
    {"connected from wildcard bind, REUSEADDR",
     {F4, "0.0.0.0", 0},
     CONNECTED,
     {F4, "192.0.2.1", RA},
     0},
    {"closed (removed) first", {F4, "192.0.2.1", 0}, CLOSED, {F4, "192.0.2.1", 0}, 0},

    /* Local address checks. */
    {"non-local address", {F4, "192.0.2.1", 0}, BOUND, {F4, "203.0.113.9", 0}, -EADDRNOTAVAIL},
    {"non-local address, BINDANY", {F4, "192.0.2.1", 0}, BOUND, {F4, "203.0.113.9", ANY}, 0},
    {"non-local v6 address", {F4, "192.0.2.1", 0}, BOUND, {F6, "2001:db8:9::1", 0}, -EADDRNOTAVAIL},
    {"v6 address on a v4 socket", {F4, "192.0.2.1", 0}, BOUND, {F4, "2001:db8::1", 0}, -EINVAL},
    {"mapped address on V6ONLY",
     {F4, "192.0.2.2", 0},
     BOUND,
     {F6ONLY, "::ffff:192.0.2.1", 0},
     -EINVAL},

    /* IPv4 and IPv6: separate spaces except for a dual-stack ::. */
    {"v6only :: twice", {F6ONLY, "::", 0}, BOUND, {F6ONLY, "::", 0}, -EADDRINUSE},
    {"v6only :: then 0.0.0.0", {F6ONLY, "::", 0}, BOUND, {F4, "0.0.0.0", 0}, 0},
    {"0.0.0.0 then v6only ::", {F4, "0.0.0.0", 0}, BOUND, {F6ONLY, "::", 0}, 0},
    {"0.0.0.0 then dual ::", {F4, "0.0.0.0", 0}, LISTENING, {F6, "::", 0}, 0},
    {"dual :: then 0.0.0.0", {F6, "::", 0}, LISTENING, {F4, "0.0.0.0", 0}, -EADDRINUSE},
    {"dual :: then A", {F6, "::", 0}, LISTENING, {F4, "192.0.2.1", 0}, -EADDRINUSE},
    {"dual :: then A, REUSEADDR", {F6, "::", 0}, LISTENING, {F4, "192.0.2.1", RA}, 0},
    {"A then dual ::", {F4, "192.0.2.1", 0}, LISTENING, {F6, "::", 0}, -EADDRINUSE},
    {"A then v6only ::", {F4, "192.0.2.1", 0}, LISTENING, {F6ONLY, "::", 0}, 0},
    {"dual :: twice", {F6, "::", 0}, BOUND, {F6, "::", 0}, -EADDRINUSE},
    {"dual :: twice, REUSEPORT", {F6, "::", RP}, BOUND, {F6, "::", RP}, 0},
    {"A6 then ::", {F6, "2001:db8::1", 0}, BOUND, {F6ONLY, "::", 0}, -EADDRINUSE},
    {"A6 then :: REUSEADDR", {F6, "2001:db8::1", 0}, BOUND, {F6ONLY, "::", RA}, 0},
    {"A6 then 0.0.0.0", {F6, "2001:db8::1", 0}, BOUND, {F4, "0.0.0.0", 0}, 0},
    {"A6 twice", {F6, "2001:db8::1", 0}, BOUND, {F6, "2001:db8::1", 0}, -EADDRINUSE},
    {"A6 then A6 on other", {F6, "2001:db8::1", 0}, BOUND, {F6, "2001:db8::2", 0}, 0},
    {"v6 on mapped A then v4 A",
     {F6, "::ffff:192.0.2.1", 0},
     BOUND,
     {F4, "192.0.2.1", 0},
     -EADDRINUSE},
    {"v4 A then v6 on mapped A",
     {F4, "192.0.2.1", 0},
     BOUND,
     {F6, "::ffff:192.0.2.1", 0},
     -EADDRINUSE},
};

static void set_opts(struct inpcb *inp, uint32_t opts)
{
    if (opts)
        assert_int_equal(pcb_setopt(inp, opts, true), 0);
}

/* Puts the first socket in its state; options before or after its bind. */
static struct inpcb *make_first(struct fixture *fx, const struct bind_case *c, bool opts_after)
{
    struct inpcb *inp = fx_sock(fx, c->first.fam);
    struct tcpc_addr a = A(c->first.addr);
    if (!opts_after)
        set_opts(inp, c->first.opts);
    assert_int_equal(pcb_bind(&fx->info, inp, &a, 8080), 0);
    if (opts_after)
        set_opts(inp, c->first.opts);
    if (c->state == LISTENING)
        assert_int_equal(pcb_listen(&fx->info, inp), 0);
    if (c->state == CONNECTED || c->state == CLOSED) {
        struct tcpc_addr f = A("198.51.100.1"), l = A("192.0.2.1");
        assert_int_equal(pcb_connect(&fx->info, inp, &f, 80, &l), 0);
    }
    if (c->state == CLOSED)
        pcb_remove(&fx->info, inp);
    return inp;
}

static void run_case(const struct bind_case *c, bool opts_after)
{
    struct fixture *fx = fx_new();
    make_first(fx, c, opts_after);
    struct inpcb *second = fx_sock(fx, c->second.fam);
    set_opts(second, c->second.opts);
    struct tcpc_addr a = A(c->second.addr);
    int got = pcb_bind(&fx->info, second, &a, 8080);
    if (got == 0 && c->state == LISTENING)
        got = pcb_listen(&fx->info, second);
    if (got != c->expect)
        fail_msg("%s (first's options %s bind): got %d, want %d", c->why,
                 opts_after ? "after" : "before", got, c->expect);
    /* A refused bind leaves the socket unbound and reusable. */
    if (got != 0)
        assert_int_equal(second->lport, 0);
    fx_del(fx);
}

static void test_bind_matrix(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(&cases[i], false);
        run_case(&cases[i], true);
    }
}

/*
 * Dual stack, every order. Eight binds of port 8080 cover the v4 and v6
 * wildcards and specific addresses, with and without IPV6_V6ONLY, and the
 * v4-mapped forms a v6 socket may bind. Each ordered pair is run: the first
 * bind, then the second on another socket. So every pair is tried in both
 * orders, and the matrix shows where the order matters on purpose. The
 * results are FreeBSD's (tcp6_usr_bind hands a mapped address to
 * in_pcbbind; in6_pcbbind checks the IPv4 side only for a dual-stack ::).
 * The one difference is MW twice: see docs/pcb.md, "Reuse rules" 4.
 */
static const struct sock_spec dual_binds[] = {
    {F4, "0.0.0.0", 0},          /* W4: IPv4 wildcard */
    {F4, "192.0.2.1", 0},        /* S4: IPv4 address */
    {F6, "::", 0},               /* D6: dual-stack :: (takes IPv4 too) */
    {F6ONLY, "::", 0},           /* O6: V6ONLY :: */
    {F6, "2001:db8::1", 0},      /* S6: IPv6 address, no V6ONLY */
    {F6ONLY, "2001:db8::1", 0},  /* SO6: IPv6 address, V6ONLY */
    {F6, "::ffff:0.0.0.0", 0},   /* MW: v6 socket on the mapped IPv4 wildcard */
    {F6, "::ffff:192.0.2.1", 0}, /* MS: v6 socket on a mapped IPv4 address */
};
#define NDUAL (sizeof(dual_binds) / sizeof(dual_binds[0]))

/* [first][second]: '.' the second bind succeeds, 'U' -EADDRINUSE. */
static const char *const dual_expect[NDUAL] = {
    /*        W4 S4 D6 O6 S6 SO6 MW MS */
    /* W4  */ "UU....UU",
    /* S4  */ "UUU...UU",
    /* D6  */ "UUUUUU.U",
    /* O6  */ "..UUUU..",
    /* S6  */ "..UUUU..",
    /* SO6 */ "..UUUU..",
    /* MW  */ "UUU...UU",
    /* MS  */ "UUU...UU",
};

/* Binds first, then second, on port 8080; the second bind's result. */
static int bind_pair(const struct sock_spec *first, const struct sock_spec *second, bool listening)
{
    struct fixture *fx = fx_new();
    struct inpcb *a = fx_sock(fx, first->fam), *b = fx_sock(fx, second->fam);
    struct tcpc_addr la = A(first->addr), lb = A(second->addr);
    assert_int_equal(pcb_bind(&fx->info, a, &la, 8080), 0);
    if (listening)
        assert_int_equal(pcb_listen(&fx->info, a), 0);
    int got = pcb_bind(&fx->info, b, &lb, 8080);
    /* A refused bind leaves the socket unbound. */
    bool unbound = b->lport == 0 && (b->flags & INP_INHASHLIST) == 0;
    fx_del(fx);
    assert_true(got == 0 || unbound);
    return got;
}

static void test_dual_stack_bind_every_order(void **state)
{
    (void)state;
    static const char *const name[NDUAL] = {"W4", "S4", "D6", "O6", "S6", "SO6", "MW", "MS"};
    int wrong = 0;
    for (int listening = 0; listening <= 1; listening++) {
        for (size_t i = 0; i < NDUAL; i++) {
            for (size_t j = 0; j < NDUAL; j++) {
                int got = bind_pair(&dual_binds[i], &dual_binds[j], listening);
                int want = dual_expect[i][j] == 'U' ? -EADDRINUSE : 0;
                if (got != want) {
                    print_error("%s %s then %s: got %d, want %d\n",
                                listening ? "listening" : "bound", name[i], name[j], got, want);
                    wrong++;
                }
            }
        }
    }
    assert_int_equal(wrong, 0);
}

static void test_bind_twice(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct inpcb *inp = fx_sock(fx, F4);
    struct tcpc_addr a = A("192.0.2.1");
    assert_int_equal(pcb_bind(&fx->info, inp, &a, 8080), 0);
    assert_int_equal(pcb_bind(&fx->info, inp, &a, 8081), -EINVAL);
    /* IPV6_V6ONLY is settled at bind. */
    struct inpcb *v6 = fx_sock(fx, F6);
    struct tcpc_addr any6 = A("::");
    assert_int_equal(pcb_bind(&fx->info, v6, &any6, 8080), -EADDRINUSE);
    assert_int_equal(pcb_setopt(v6, INP_V6ONLY, true), 0);
    assert_int_equal(pcb_bind(&fx->info, v6, &any6, 8080), 0);
    assert_int_equal(pcb_setopt(v6, INP_V6ONLY, false), -EINVAL);
    assert_int_equal(pcb_setopt(inp, INP_V6ONLY, true), -EINVAL);
    assert_int_equal(pcb_setopt(inp, INP_LISTEN, true), -EINVAL);
    fx_del(fx);
}

/* A v4 socket may say :: for its wildcard. */
static void test_bind_v4_any6(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct inpcb *inp = fx_sock(fx, F4);
    struct tcpc_addr any6 = A("::");
    assert_int_equal(pcb_bind(&fx->info, inp, &any6, 8080), 0);
    assert_true(tcpc_addr_eq(
        &inp->laddr, &(struct tcpc_addr){{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0}}));
    fx_del(fx);
}

static void test_listen_binds_ephemeral(void **state)
{
    (void)state;
    struct fixture *fx = fx_new_sized(16, 40000, 40009, 3);
    struct inpcb *inp = fx_sock(fx, F6);
    assert_int_equal(pcb_listen(&fx->info, inp), 0);
    assert_true(inp->lport >= 40000 && inp->lport <= 40009);
    assert_true(inp->flags & INP_LISTEN);
    assert_int_equal(pcb_listen(&fx->info, inp), 0); /* again: no-op */
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 5, "192.0.2.1", inp->lport), inp);
    struct tcpc_addr f = A("198.51.100.1"), l = A("192.0.2.1");
    assert_int_equal(pcb_connect(&fx->info, inp, &f, 80, &l), -EINVAL);
    fx_del(fx);
}

static void test_connect_errors(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct tcpc_addr f4 = A("198.51.100.1"), f6 = A("2001:db8:ff::1"), l4 = A("192.0.2.1"),
                     l6 = A("2001:db8::1"), any = A("0.0.0.0");
    struct inpcb *s4 = fx_sock(fx, F4);
    assert_int_equal(pcb_connect(&fx->info, s4, &f6, 80, &l6), -EINVAL);
    assert_int_equal(pcb_connect(&fx->info, s4, &f4, 0, &l4), -EADDRNOTAVAIL);
    assert_int_equal(pcb_connect(&fx->info, s4, &any, 80, &l4), -EADDRNOTAVAIL);
    assert_int_equal(pcb_connect(&fx->info, s4, &f4, 80, NULL), -EADDRNOTAVAIL);
    assert_int_equal(pcb_connect(&fx->info, s4, &f4, 80, &l6), -EINVAL);
    assert_int_equal(pcb_connect(&fx->info, s4, &f4, 80, &l4), 0);
    assert_int_equal(pcb_connect(&fx->info, s4, &f4, 81, &l4), -EISCONN);
    struct inpcb *s6only = fx_sock(fx, F6ONLY);
    struct tcpc_addr mapped = A("::ffff:198.51.100.1");
    assert_int_equal(pcb_connect(&fx->info, s6only, &mapped, 80, &l4), -EINVAL);
    assert_int_equal(pcb_connect(&fx->info, s6only, &f6, 80, &l6), 0);
    /* A dual-stack socket reaches IPv4 peers through mapped addresses. */
    struct inpcb *dual = fx_sock(fx, F6);
    assert_int_equal(pcb_connect(&fx->info, dual, &mapped, 80, &l4), 0);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 80, "192.0.2.1", dual->lport), dual);
    fx_del(fx);
}

/* Two sockets on one address:port (SO_REUSEPORT) may connect to different
 * peers but not to the same one: the 4-tuple is what must be unique. */
static void test_connect_bound_tuple_unique(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct tcpc_addr l = A("192.0.2.1"), p1 = A("198.51.100.1"), p2 = A("198.51.100.2");
    struct inpcb *s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = fx_sock(fx, F4);
        assert_int_equal(pcb_setopt(s[i], INP_REUSEPORT, true), 0);
        assert_int_equal(pcb_bind(&fx->info, s[i], &l, 5555), 0);
    }
    assert_int_equal(pcb_connect(&fx->info, s[0], &p1, 80, NULL), 0);
    assert_int_equal(pcb_connect(&fx->info, s[1], &p2, 80, NULL), 0);
    assert_int_equal(pcb_connect(&fx->info, s[2], &p1, 80, NULL), -EADDRINUSE);
    assert_int_equal(pcb_connect(&fx->info, s[2], &p1, 81, NULL), 0);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 80, "192.0.2.1", 5555), s[0]);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.2", 80, "192.0.2.1", 5555), s[1]);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 81, "192.0.2.1", 5555), s[2]);
    fx_del(fx);
}

static void test_insert_connected(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct pcb_tuple t = T("198.51.100.1", 4000, "192.0.2.1", 80);
    struct inpcb *a = fx_sock(fx, F4), *b = fx_sock(fx, F4);
    assert_int_equal(pcb_insert_connected(&fx->info, a, &t), 0);
    assert_int_equal(pcb_insert_connected(&fx->info, a, &t), -EISCONN);
    assert_int_equal(pcb_insert_connected(&fx->info, b, &t), -EADDRINUSE);
    fx_del(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bind_matrix),      cmocka_unit_test(test_bind_twice),
        cmocka_unit_test(test_bind_v4_any6),     cmocka_unit_test(test_listen_binds_ephemeral),
        cmocka_unit_test(test_connect_errors),   cmocka_unit_test(test_connect_bound_tuple_unique),
        cmocka_unit_test(test_insert_connected), cmocka_unit_test(test_dual_stack_bind_every_order),
    };
    return cmocka_run_group_tests_name("pcb_bind", tests, NULL, NULL);
}
