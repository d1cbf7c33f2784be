/*
 * The stack's next deadline while timers come and go between two calls of
 * tcpc_advance. The TCP layer keeps the earliest deadline of its sources
 * (connection timers, the syncache, TIME_WAIT, spares to refill) so that
 * tcpc_next_deadline answers and tcpc_advance returns without looking at
 * each source: whatever arms a deadline must lower the kept one, whatever
 * cancels one must let it be found again. Each test lets tcpc_advance
 * settle first, changes one source from tcpc_input or a socket call, then
 * checks the answer: never later than the work (which then happens at the
 * time it names), never a deadline that is gone.
 */
#include "core/stack.h"
#include "tcp/sbpool.h"
#include "tcp/tcp_var.h"
#include "tcp/timewait.h"
#include "tcpcore/listing.h"
#include "test_tcp_fixture.h"

/* Walks the stack's deadlines up to `at` (each may be early, as the
 * embedder's loop would): none may lie past it, and nothing may be sent
 * before it. */
static void walk_to(struct harness *h, tcpc_time_t at)
{
    while (h->now < at) {
        tcpc_time_t next = tcpc_next_deadline(h->stack);
        assert_true(next <= at);
        h_advance(h, next > h->now ? next - h->now : 1);
        if (h->now < at)
            h_expect_nothing(h);
    }
}

/* A stack without keepalive (whose timer every connection would hold)
 * and up to two more sysctls. */
static struct harness *dl_h(const char *a, const char *b)
{
    const char *sys[] = {"net.inet.tcp.always_keepalive=0", a, b, NULL};
    struct h_opts o = {.sysctls = sys};
    return h_new(&o);
}

/* A settled stack: whatever was due has run, the kept deadline is set.
 * The clock stays on whole milliseconds (the syncache's unit). */
static void settle(struct harness *h)
{
    h_advance(h, 1 * MSEC);
    h_expect_nothing(h);
}

/* The retransmission timer armed by a send, cancelled by the ACK; the
 * delayed ACK armed by data, gone once it fired. */
static void test_connection_timers(void **state)
{
    (void)state;
    struct harness *h = dl_h(NULL, NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    settle(h);
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);

    assert_int_equal(tcpc_send(h->stack, c.sd, "data", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "data"));
    struct tcpc_info info;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &info), 0);
    walk_to(h, h->now + info.rto);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "data"));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 4));
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);

    settle(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv + 4, .data = "ab"));
    h_expect_nothing(h);
    assert_int_equal(tcpc_next_deadline(h->stack), h->now + 40 * MSEC);
    walk_to(h, h->now + 40 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 4, .ack = c.snd + 2));
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
    h_free(h);
}

/* A SYN arms the SYN-ACK's retransmission; the ACK that completes the
 * handshake takes the entry, and its deadline, away. */
static void test_syncache_timer(void **state)
{
    (void)state;
    struct harness *h = dl_h(NULL, NULL);
    h_listen(h);
    settle(h);
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    assert_int_equal(tcpc_next_deadline(h->stack), h->now + 1 * SEC);
    walk_to(h, h->now + 1 * SEC);
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .seq = sa.th.seq, .ack = 1001));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    h_expect_nothing(h);
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
    h_free(h);
}

/* A TIME_WAIT record arms its 2 MSL; dropping the record takes its
 * deadline away. */
static void test_timewait_timer(void **state)
{
    (void)state;
    struct harness *h = dl_h("net.inet.tcp.msl=1000", NULL);
    int lsd = h_listen(h);
    settle(h);
    fx_passive_to_timewait(h, lsd, h->pport);
    assert_int_equal(tw_count(h->stack), 1);
    tcpc_time_t start = h->now;
    assert_int_equal(tcpc_next_deadline(h->stack), start + 2 * SEC);
    h_advance(h, 1 * SEC);
    assert_int_equal(tw_count(h->stack), 1);
    assert_int_equal(tcpc_next_deadline(h->stack), start + 2 * SEC);
    assert_int_equal(tcpc_drop_connection(h->stack, &h->local, h->lport, &h->peer, h->pport), 0);
    assert_int_equal(tw_count(h->stack), 0);
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
    h_free(h);
}

/* Data that takes the last spare leaves the pool owing one: a refill is
 * due at once, and once made nothing is. */
static void test_refill_due(void **state)
{
    (void)state;
    struct harness *h = dl_h("kern.ipc.sockbuf_reserve=1", "net.inet.tcp.delayed_ack=0");
    h_listen(h);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    settle(h);
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = 1001, .ack = sa.th.seq + 1, .data = "x"));
    h_expect(h, SEG(.flags = TH_ACK, .ack = 1002));
    assert_true(sbpool_pending(&h->stack->tcp->sbpool));
    assert_int_equal(tcpc_next_deadline(h->stack), h->now);
    h_advance(h, 0);
    assert_false(sbpool_pending(&h->stack->tcp->sbpool));
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
    h_free(h);
}

/* Recent demand (a ring wanted when none was spare) is halved every second
 * of the stack's clock by whichever tcpc_advance comes after the second is
 * up, even with no timer due then. */
static void test_demand_decays_without_timers(void **state)
{
    (void)state;
    struct harness *h = dl_h("kern.ipc.sockbuf_reserve=1", "net.inet.tcp.delayed_ack=0");
    int lsd = fx_socket(h);
    assert_int_equal(tcpc_bind(h->stack, lsd, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, lsd, 64), 0);
    struct sbpool *p = &h->stack->tcp->sbpool;
    uint32_t iss[64];
    uint16_t n = 0;
    /* Connections take spares until one finds none (a miss, dropped). */
    while (h_stat(h, "tcps_rcvmemdrop") == 0) {
        assert_true(n < 64);
        h->pport = (uint16_t)(2000 + n);
        h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
        iss[n] = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001)).th.seq;
        h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = iss[n] + 1));
        h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = 1001, .ack = iss[n] + 1, .data = "x"));
        h_flush(h);
        n++;
    }
    assert_int_equal(p->cls[0].demand, 1);
    h_advance(h, 0); /* the refill */
    h_flush(h);      /* the window it reopens */
    assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
    h_advance(h, 1 * SEC);
    assert_int_equal(p->cls[0].demand, 0);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connection_timers),
        cmocka_unit_test(test_syncache_timer),
        cmocka_unit_test(test_timewait_timer),
        cmocka_unit_test(test_refill_due),
        cmocka_unit_test(test_demand_decays_without_timers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
