/*
 * Active opens on a host that runs one stack per core (tcpc_steer_fn):
 * each stack takes only the ephemeral ports whose replies the NIC steers
 * back to it, so every packet of a connection is handled where it lives.
 * The NIC here is modelled as most are: Toeplitz over the reply's tuple
 * under the default key, then an indirection table of hash % 128 -> queue
 * (entry i holding i % queues, the drivers' default fill).
 */
#include "test_tcp_fixture.h"
#include "tcpcore/rss.h"

struct nic {
    unsigned queues; /* stacks on the host */
    unsigned mine;   /* the queue of the stack under test */
    unsigned asked;  /* times the stack asked */
};

static unsigned nic_queue(const struct nic *n, const struct tcpc_addr *src, uint16_t sport,
                          const struct tcpc_addr *dst, uint16_t dport)
{
    uint32_t h;
    assert_int_equal(tcpc_toeplitz_tuple(tcpc_rss_key_default, sizeof(tcpc_rss_key_default), src,
                                         sport, dst, dport, &h),
                     0);
    return (h % 128) % n->queues;
}

static bool nic_steers_home(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                            const struct tcpc_addr *laddr, uint16_t lport)
{
    struct nic *n = ctx;
    n->asked++;
    return nic_queue(n, faddr, fport, laddr, lport) == n->mine;
}

static struct harness *new_h(struct nic *n, bool v6, const char **sysctls)
{
    struct h_opts o = {.v6 = v6, .steer = nic_steers_home, .steer_ctx = n, .sysctls = sysctls};
    return h_new(&o);
}

/* Every active open, of either family, takes a distinct port whose reply
 * the NIC hands to this stack's queue. */
static void check_steered_home(bool v6)
{
    struct nic n = {.queues = 4, .mine = 3};
    struct harness *h = new_h(&n, v6, NULL);
    uint16_t ports[64];
    for (unsigned i = 0; i < 64; i++) {
        struct h_seg syn;
        fx_connect(h, &syn);
        ports[i] = syn.th.sport;
        assert_int_equal(nic_queue(&n, &h->peer, h->pport, &h->local, syn.th.sport), n.mine);
        for (unsigned j = 0; j < i; j++)
            assert_int_not_equal(ports[j], ports[i]);
    }
    assert_true(n.asked >= 64);
    h_free(h);
}

static void test_active_opens_take_ports_steered_home_v4(void **state)
{
    (void)state;
    check_steered_home(false);
}

static void test_active_opens_take_ports_steered_home_v6(void **state)
{
    (void)state;
    check_steered_home(true);
}

/* With a small port range, the stack opens exactly as many connections to
 * one peer as the range has ports steered home, then -EADDRNOTAVAIL with
 * nothing sent. */
static void test_steered_ports_run_out_as_a_full_range(void **state)
{
    (void)state;
    static const char *sys[] = {"net.inet.ip.portrange.first=40000",
                                "net.inet.ip.portrange.last=40031", NULL};
    struct nic n = {.queues = 4, .mine = 1};
    struct harness *h = new_h(&n, false, sys);
    unsigned home = 0;
    for (uint32_t p = 40000; p <= 40031; p++)
        home += nic_queue(&n, &h->peer, h->pport, &h->local, (uint16_t)p) == n.mine;
    assert_true(home > 0 && home < 32);
    for (unsigned i = 0; i < home; i++)
        fx_connect(h, NULL);
    int sd = fx_socket(h);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EADDRNOTAVAIL);
    h_expect_nothing(h);
    h_free(h);
}

/* A port the application bound is its own choice: not checked. */
static void test_bound_port_is_not_steered(void **state)
{
    (void)state;
    struct nic n = {.queues = 4, .mine = 2};
    struct harness *h = new_h(&n, false, NULL);
    uint16_t away = 50000;
    while (nic_queue(&n, &h->peer, h->pport, &h->local, away) == n.mine)
        away++;
    int sd = fx_socket(h);
    assert_int_equal(tcpc_bind(h->stack, sd, NULL, away), 0);
    unsigned asked = n.asked;
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    h->lport = away;
    h_expect(h, SEG(.flags = TH_SYN, .ack = 0, .len = 0));
    assert_int_equal(n.asked, asked);
    h_free(h);
}

/* The hash itself refuses what it cannot compute. */
static void test_toeplitz_refuses_bad_input(void **state)
{
    (void)state;
    struct tcpc_addr a4 = tcpc_addr_v4(0xc6120001), a6;
    assert_int_equal(tcpc_addr_parse("2001:db8::1", &a6), 0);
    uint32_t hash;
    assert_int_equal(tcpc_toeplitz_tuple(tcpc_rss_key_default, 40, &a4, 1, &a6, 2, &hash), -EINVAL);
    assert_int_equal(tcpc_toeplitz_tuple(tcpc_rss_key_default, 15, &a4, 1, &a4, 2, &hash), -EINVAL);
    assert_int_equal(tcpc_toeplitz_tuple(tcpc_rss_key_default, 39, &a6, 1, &a6, 2, &hash), -EINVAL);
    assert_int_equal(tcpc_toeplitz_tuple(tcpc_rss_key_default, 16, &a4, 1, &a4, 2, &hash), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active_opens_take_ports_steered_home_v4),
        cmocka_unit_test(test_active_opens_take_ports_steered_home_v6),
        cmocka_unit_test(test_steered_ports_run_out_as_a_full_range),
        cmocka_unit_test(test_bound_port_is_not_steered),
        cmocka_unit_test(test_toeplitz_refuses_bad_input),
    };
    return cmocka_run_group_tests_name("steering", tests, NULL, NULL);
}
