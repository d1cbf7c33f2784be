/*
 * Ephemeral port selection (RFC 6056 algorithm 4, src/pcb/pcb_port.c): the
 * range is respected, ports do not repeat before the range is used up,
 * exhaustion is EADDRNOTAVAIL after bounded work, one port serves many
 * destinations, listeners' ports are skipped, and the sequence depends on
 * the instance's secret (different seeds differ, the same seed replays).
 * test_tcp_api.c checks that the walk survives virtual time.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "test_pcb_fixture.h"

static int connect_to(struct fixture *fx, const char *peer, uint16_t fport, struct inpcb **out)
{
    struct inpcb *inp = fx_sock(fx, F4);
    struct tcpc_addr f = A(peer), l = A("192.0.2.1");
    int err = pcb_connect(&fx->info, inp, &f, fport, &l);
    if (err)
        pcb_free(&fx->info, inp);
    else if (out)
        *out = inp;
    return err;
}

/* 100-port range, one destination: 100 distinct in-range ports, then
 * EADDRNOTAVAIL. */
static void test_range_and_exhaustion(void **state)
{
    (void)state;
    enum { FIRST = 40000, N = 100 };
    struct fixture *fx = fx_new_sized(N + 1, FIRST, FIRST + N - 1, 5);
    bool seen[N] = {false};
    for (int i = 0; i < N; i++) {
        struct inpcb *inp = NULL;
        assert_int_equal(connect_to(fx, "198.51.100.1", 80, &inp), 0);
        assert_true(inp->lport >= FIRST && inp->lport < FIRST + N);
        assert_false(seen[inp->lport - FIRST]);
        seen[inp->lport - FIRST] = true;
    }
    assert_int_equal(connect_to(fx, "198.51.100.1", 80, NULL), -EADDRNOTAVAIL);
    /* The same ports still reach another peer: the 4-tuple is what counts. */
    assert_int_equal(connect_to(fx, "198.51.100.2", 80, NULL), 0);
    fx_del(fx);
}

/* One port, many destinations. */
static void test_one_port_many_peers(void **state)
{
    (void)state;
    struct fixture *fx = fx_new_sized(64, 50000, 50000, 5);
    char peer[32];
    for (int i = 1; i <= 20; i++) {
        struct inpcb *inp = NULL;
        snprintf(peer, sizeof(peer), "198.51.100.%d", i);
        assert_int_equal(connect_to(fx, peer, 443, &inp), 0);
        assert_int_equal(inp->lport, 50000);
    }
    assert_int_equal(connect_to(fx, "198.51.100.1", 443, NULL), -EADDRNOTAVAIL);
    assert_int_equal(connect_to(fx, "198.51.100.1", 444, NULL), 0);
    fx_del(fx);
}

/* A port with a listener (or any unconnected bind) on our address is not
 * handed to connect; bind(0) avoids ports with connections too. */
static void test_skips_bound_ports(void **state)
{
    (void)state;
    struct fixture *fx = fx_new_sized(64, 40000, 40001, 5);
    struct inpcb *lst = fx_sock(fx, F4);
    struct tcpc_addr any = A("0.0.0.0"), l = A("192.0.2.1");
    assert_int_equal(pcb_bind(&fx->info, lst, &any, 40000), 0);
    assert_int_equal(pcb_listen(&fx->info, lst), 0);
    for (int i = 1; i <= 5; i++) {
        struct inpcb *inp = NULL;
        char peer[32];
        snprintf(peer, sizeof(peer), "198.51.100.%d", i);
        assert_int_equal(connect_to(fx, peer, 80, &inp), 0);
        assert_int_equal(inp->lport, 40001);
    }
    struct inpcb *b = fx_sock(fx, F4);
    assert_int_equal(pcb_bind(&fx->info, b, &l, 0), -EADDRNOTAVAIL);
    fx_del(fx);
}

/* bind(0): distinct ports until the range is used up. */
static void test_bind_ephemeral_exhaustion(void **state)
{
    (void)state;
    enum { FIRST = 30000, N = 50 };
    struct fixture *fx = fx_new_sized(N + 1, FIRST, FIRST + N - 1, 5);
    struct tcpc_addr l = A("192.0.2.1");
    bool seen[N] = {false};
    for (int i = 0; i < N; i++) {
        struct inpcb *inp = fx_sock(fx, F4);
        assert_int_equal(pcb_bind(&fx->info, inp, &l, 0), 0);
        assert_false(seen[inp->lport - FIRST]);
        seen[inp->lport - FIRST] = true;
    }
    struct inpcb *inp = fx_sock(fx, F4);
    assert_int_equal(pcb_bind(&fx->info, inp, &l, 0), -EADDRNOTAVAIL);
    fx_del(fx);
}

/* Connections closed right away: successive ports to one peer walk the
 * range and do not repeat until it has been (nearly) used up. */
static void test_no_repeat_with_churn(void **state)
{
    (void)state;
    enum { FIRST = 20000, N = 1000 };
    struct fixture *fx = fx_new_sized(8, FIRST, FIRST + N - 1, 5);
    bool seen[N] = {false};
    for (int i = 0; i < N / 2; i++) {
        struct inpcb *inp = NULL;
        assert_int_equal(connect_to(fx, "198.51.100.1", 80, &inp), 0);
        assert_false(seen[inp->lport - FIRST]);
        seen[inp->lport - FIRST] = true;
        pcb_free(&fx->info, inp);
    }
    fx_del(fx);
}

/* The whole default range against one peer: every port once, then
 * EADDRNOTAVAIL after a bounded scan. */
static void test_full_range_exhaustion(void **state)
{
    (void)state;
    enum { FIRST = 10000, LAST = 65535, N = LAST - FIRST + 1 };
    struct fixture *fx = fx_new_sized(N + 1, FIRST, LAST, 5);
    for (int i = 0; i < N; i++)
        assert_int_equal(connect_to(fx, "198.51.100.1", 80, NULL), 0);
    assert_int_equal(connect_to(fx, "198.51.100.1", 80, NULL), -EADDRNOTAVAIL);
    fx_del(fx);
}

static void sequence(struct fixture *fx, uint16_t *out, int n)
{
    char peer[32];
    for (int i = 0; i < n; i++) {
        struct inpcb *inp = NULL;
        snprintf(peer, sizeof(peer), "198.51.100.%d", i + 1);
        assert_int_equal(connect_to(fx, peer, 80, &inp), 0);
        out[i] = inp->lport;
    }
}

static void test_secret_sequences(void **state)
{
    (void)state;
    enum { N = 16 };
    uint16_t s1[N], s1again[N], s2[N];
    struct fixture *a = fx_new_sized(64, 10000, 65535, 1);
    struct fixture *a2 = fx_new_sized(64, 10000, 65535, 1);
    struct fixture *b = fx_new_sized(64, 10000, 65535, 2);
    sequence(a, s1, N);
    sequence(a2, s1again, N);
    sequence(b, s2, N);
    assert_memory_equal(s1, s1again, sizeof(s1));
    assert_memory_not_equal(s1, s2, sizeof(s1));
    fx_del(a);
    fx_del(a2);
    fx_del(b);
}

static void test_portrange_setting(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    assert_int_equal(pcb_set_portrange(&fx->info, 2000, 1000), -EINVAL);
    assert_int_equal(pcb_set_portrange(&fx->info, 0, 1000), -EINVAL);
    assert_int_equal(pcb_set_portrange(&fx->info, 7000, 7000), 0);
    struct inpcb *inp = NULL;
    assert_int_equal(connect_to(fx, "198.51.100.1", 80, &inp), 0);
    assert_int_equal(inp->lport, 7000);
    fx_del(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_and_exhaustion),
        cmocka_unit_test(test_one_port_many_peers),
        cmocka_unit_test(test_skips_bound_ports),
        cmocka_unit_test(test_bind_ephemeral_exhaustion),
        cmocka_unit_test(test_no_repeat_with_churn),
        cmocka_unit_test(test_full_range_exhaustion),
        cmocka_unit_test(test_secret_sequences),
        cmocka_unit_test(test_portrange_setting),
    };
    return cmocka_run_group_tests_name("pcb_port", tests, NULL, NULL);
}
