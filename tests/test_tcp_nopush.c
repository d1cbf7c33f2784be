/*
 * TCP_NOPUSH (and its Linux spelling TCP_CORK) segment by segment: while
 * set, only full segments leave; clearing it sends the tail it held; a FIN
 * takes the tail with it; the persist timer pushes a tail nothing else
 * does; an accepted connection inherits it from its listener, through a
 * SYN cache entry and through a SYN cookie.
 */
#include "test_tcp_fixture.h"

#define MSS 1000u

static struct fx_conn established(struct harness *h)
{
    return fx_passive(h, 1000, SEG(.mss = MSS));
}

static void set_nopush(struct harness *h, int sd, int v)
{
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_NOPUSH, v), 0);
}

static void send_all(struct harness *h, int sd, size_t n, char first)
{
    assert_int_equal(tcpc_send(h->stack, sd, fx_pattern(n, first), n), (ssize_t)n);
}

/* Held: a short write sends nothing, a write that completes a segment
 * sends exactly that segment, and the remainder waits. */
static void test_only_full_segments(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = established(h);
    set_nopush(h, c.sd, 1);
    send_all(h, c.sd, 300, 'a');
    h_expect_nothing(h);
    send_all(h, c.sd, 900, 'a');
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = MSS));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + MSS));
    h_expect_nothing(h); /* still held: 200 bytes are short of a segment */
    struct tcpc_info in;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &in), 0);
    assert_int_equal(in.snd_queue, 200);
    h_free(h);
}

/* Clearing the option sends the tail at once (the connection is idle). */
static void test_clear_pushes_tail(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = established(h);
    set_nopush(h, c.sd, 1);
    send_all(h, c.sd, 120, 'a');
    send_all(h, c.sd, 80, 'q');
    h_expect_nothing(h);
    set_nopush(h, c.sd, 0);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .len = 200));
    h_expect_nothing(h);
    /* Setting it to 0 again sends nothing more. */
    set_nopush(h, c.sd, 0);
    h_expect_nothing(h);
    h_free(h);
}

/* The FIN carries the held tail: nothing more will come to fill it. */
static void test_fin_takes_tail(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = established(h);
    set_nopush(h, c.sd, 1);
    send_all(h, c.sd, 100, 'a');
    h_expect_nothing(h);
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_WR), 0);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH | TH_FIN, .seq = c.rcv, .len = 100));
    h_expect_nothing(h);
    h_free(h);
}

/* A tail nothing pushes leaves when the persist timer fires, as on
 * FreeBSD: the option delays data, it never strands it. */
static void test_persist_pushes_tail(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = established(h);
    set_nopush(h, c.sd, 1);
    send_all(h, c.sd, 10, 'a');
    h_expect_nothing(h);
    tcpc_time_t t0 = h->now;
    fx_advance_until_output(h, 10 * TCPC_USEC_PER_SEC);
    assert_true(h->now - t0 >= 200 * TCPC_USEC_PER_MSEC);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .len = 10));
    h_free(h);
}

/* TCP_CORK names the same option. */
static void test_cork_is_nopush(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    int v = -1;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_TCP_NOPUSH, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_TCP_CORK, 1), 0);
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_TCP_NOPUSH, &v), 0);
    assert_int_equal(v, 1);
    h_free(h);
}

/* A listener with the option; its accepted connection holds short writes. */
static void inherited(const char *sysctl, const char *counter)
{
    const char *sysctls[] = {sysctl, NULL};
    struct h_opts o = {.sysctls = sysctls};
    struct harness *h = h_new(&o);
    int l = fx_socket(h);
    set_nopush(h, l, 1);
    assert_int_equal(tcpc_bind(h->stack, l, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, l, 4), 0);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = MSS));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    assert_int_equal(h_stat(h, counter), 1);
    int v = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_TCP_NOPUSH, &v), 0);
    assert_int_equal(v, 1);
    send_all(h, sd, 100, 'a');
    h_expect_nothing(h);
    set_nopush(h, sd, 0);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = sa.th.seq + 1, .len = 100));
    h_free(h);
}

static void test_inherited_through_entry(void **state)
{
    (void)state;
    inherited("net.inet.tcp.syncookies_only=0", "tcps_sc_completed");
}

static void test_inherited_through_cookie(void **state)
{
    (void)state;
    inherited("net.inet.tcp.syncookies_only=1", "tcps_sc_recvcookie");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_full_segments),
        cmocka_unit_test(test_clear_pushes_tail),
        cmocka_unit_test(test_fin_takes_tail),
        cmocka_unit_test(test_persist_pushes_tail),
        cmocka_unit_test(test_cork_is_nopush),
        cmocka_unit_test(test_inherited_through_entry),
        cmocka_unit_test(test_inherited_through_cookie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
