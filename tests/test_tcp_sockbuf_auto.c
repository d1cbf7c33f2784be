/*
 * Buffers that grow on demand (src/tcp/tcp_sbuf.c, src/tcp/sbpool.c,
 * docs/buffers.md): an idle connection holds no storage; the receive limit
 * grows when the peer sends a lot (net.inet.tcp.recvbuf_auto) unless
 * SO_RCVBUF was set; at kern.ipc.sockbuf_budget the receive window closes
 * and sends block, and both reopen once memory comes back, without a byte
 * lost.
 */
#include <errno.h>
#include <string.h>

#include "core/stack.h"
#include "harness.h"
#include "tcp/sbpool.h"
#include "tcp/tcp_sbuf.h"
#include "tcp/tcp_var.h"
#include "test_tcp_fixture.h"

#define MSS 1460

static const struct sbpool *pool(struct harness *h)
{
    return &h->stack->tcp->sbpool;
}

static struct tcpcb *tcb(struct harness *h, int sd)
{
    return h->stack->tcp->sockets[sd];
}

/* A passive open from peer port `port` with MSS 1460 (no window scaling),
 * the SYN-ACK answered 20 ms later so that the connection has an RTT
 * sample; accepted. */
static struct fx_conn conn(struct harness *h, int lsd, uint16_t port)
{
    struct fx_conn c = {.lsd = lsd, .irs = 1000};
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .sport = port, .mss = MSS));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001, .sport = port));
    c.iss = sa.th.seq;
    h_advance(h, 20 * MSEC);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = c.iss + 1, .sport = port));
    h_expect_nothing(h);
    c.sd = tcpc_accept(h->stack, lsd, NULL, NULL);
    assert_true(c.sd >= 0);
    c.snd = 1001;
    c.rcv = c.iss + 1;
    return c;
}

/* The peer sends n bytes of pattern `first` in full segments at once; each
 * ACK the stack sends is taken. */
static void peer_send(struct harness *h, struct fx_conn *c, uint16_t port, size_t n, char first)
{
    const char *data = fx_pattern(n, first);
    for (size_t off = 0; off < n; off += MSS) {
        size_t len = n - off < MSS ? n - off : MSS;
        h_inject(h, SEG(.flags = TH_ACK, .seq = c->snd, .ack = c->rcv, .sport = port,
                        .data = data + off, .len = (int64_t)len));
        c->snd += (uint32_t)len;
    }
    h_flush(h);
}

static void recv_all(struct harness *h, int sd, size_t n, char first)
{
    char want[70000];
    memcpy(want, fx_pattern(n, first), n);
    fx_recv_exact(h, sd, want, n);
}

/* A stack with a 64 KiB budget (delayed ACKs off) and two connections, A
 * from peer port 1 and B from port 2; the peer has sent A `bytes` bytes of
 * pattern 'a', which A's application has not read. */
static struct harness *budget_pair(struct fx_conn *a, struct fx_conn *b, size_t bytes)
{
    const char *sys[] = {"kern.ipc.sockbuf_budget=65536", "kern.ipc.sockbuf_reserve=4",
                         "net.inet.tcp.delayed_ack=0", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    int lsd = h_listen(h);
    *a = conn(h, lsd, 1);
    *b = conn(h, lsd, 2);
    peer_send(h, a, 1, bytes, 'a');
    return h;
}

/* Data takes storage and a drained buffer gives it back once the
 * exchange is over (no byte held, no ACK owed): an idle established
 * connection holds none, either way. */
static void test_idle_connection_holds_no_storage(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int lsd = h_listen(h);
    struct fx_conn c = conn(h, lsd, 1);
    assert_null(tcb(h, c.sd)->rcv.buf);
    assert_null(tcb(h, c.sd)->snd.buf);
    assert_int_equal(pool(h)->held, 0);

    h_inject(
        h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .sport = 1, .data = "hello"));
    assert_non_null(tcb(h, c.sd)->rcv.buf);
    assert_int_equal(pool(h)->held, sbpool_size(0));
    fx_recv_exact(h, c.sd, "hello", 5);
    assert_non_null(tcb(h, c.sd)->rcv.buf); /* an ACK is owed: an answer may follow */
    h_advance(h, 40 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 5, .len = 0, .sport = 1));
    assert_null(tcb(h, c.sd)->rcv.buf);
    assert_int_equal(pool(h)->held, 0);

    assert_int_equal(tcpc_send(h->stack, c.sd, "world", 5), 5);
    assert_non_null(tcb(h, c.sd)->snd.buf);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "world", .sport = 1));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 5, .ack = c.rcv + 5, .sport = 1));
    assert_null(tcb(h, c.sd)->snd.buf);
    assert_int_equal(pool(h)->held, 0);
    h_free(h);
}

/* Spares of the smallest class, where a request or response lands. */
static uint32_t spares0(struct harness *h)
{
    return pool(h)->cls[0].nfree;
}

/* Request and response on one connection: each buffer is emptied and
 * filled again on every exchange, and keeps its ring meanwhile (the pool
 * sees no traffic) until the exchange is over: the peer's ACK brings no
 * more data, and both rings go back. */
static void test_exchange_keeps_its_small_rings(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int lsd = h_listen(h);
    struct fx_conn c = conn(h, lsd, 1);
    struct tcpcb *tp = tcb(h, c.sd);
    h_inject(h,
             SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .sport = 1, .data = "req1"));
    fx_recv_exact(h, c.sd, "req1", 4);
    assert_int_equal(tcpc_send(h->stack, c.sd, "resp1", 5), 5);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .ack = c.snd + 4, .data = "resp1",
                    .sport = 1));
    assert_int_equal(pool(h)->held, 2 * sbpool_size(0));
    uint32_t spares = spares0(h);

    /* The next request acknowledges the response: the send buffer drains
     * as data arrives, and keeps its ring. */
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd + 4, .ack = c.rcv + 5, .sport = 1,
                    .data = "req2"));
    assert_non_null(tp->snd.buf);
    assert_int_equal(tp->snd.len, 0);
    fx_recv_exact(h, c.sd, "req2", 4);
    assert_non_null(tp->rcv.buf);
    assert_int_equal(tcpc_send(h->stack, c.sd, "resp2", 5), 5);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 5, .ack = c.snd + 8, .data = "resp2",
                    .sport = 1));
    assert_int_equal(spares0(h), spares);
    assert_int_equal(pool(h)->held, 2 * sbpool_size(0));

    /* A bare ACK ends the exchange. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + 8, .ack = c.rcv + 10, .sport = 1));
    h_expect_nothing(h);
    assert_null(tp->snd.buf);
    assert_null(tp->rcv.buf);
    assert_int_equal(pool(h)->held, 0);
    assert_int_equal(spares0(h), spares + 2);
    h_free(h);
}

/* Only small rings stay, and only while the rings held leave half the
 * budget: a larger ring, or any ring once half the budget is held, goes
 * back as soon as its buffer drains, ACK owed or not. */
static void test_drained_ring_returned_when_large_or_memory_is_short(void **state)
{
    (void)state;
    const char *sys[] = {"kern.ipc.sockbuf_budget=65536", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    int lsd = h_listen(h);
    struct fx_conn a = conn(h, lsd, 1);
    struct fx_conn b = conn(h, lsd, 2);
    struct fx_conn c = conn(h, lsd, 3);

    /* Three segments take a 5 KiB ring. Reading all but a byte sends a
     * window update; one more byte then waits for a delayed ACK, and the
     * read that drains the buffer finds the ring too large to keep. */
    peer_send(h, &b, 2, 3 * MSS, 'b');
    assert_true(tcb(h, b.sd)->rcv.cap > TCP_SB_KEEP_MAX);
    char got[3 * MSS];
    assert_int_equal(tcpc_recv(h->stack, b.sd, got, 3 * MSS - 1), 3 * MSS - 1);
    h_flush(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = b.snd, .ack = b.rcv, .sport = 2, .data = "z"));
    b.snd++;
    assert_int_equal(tcpc_recv(h->stack, b.sd, got, sizeof(got)), 2);
    assert_true(tcb(h, b.sd)->t_flags & TF_DELACK);
    assert_null(tcb(h, b.sd)->rcv.buf);
    h_advance(h, 40 * MSEC); /* the delayed ACK */
    h_flush(h);

    /* A holds 13 segments unread: a 32 KiB ring, half the budget. */
    peer_send(h, &a, 1, 13 * MSS, 'a');
    assert_int_equal(pool(h)->held, 32768);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .sport = 3, .data = "x"));
    c.snd++;
    fx_recv_exact(h, c.sd, "x", 1);
    assert_true(tcb(h, c.sd)->t_flags & TF_DELACK);
    assert_null(tcb(h, c.sd)->rcv.buf);
    assert_int_equal(pool(h)->held, 32768);
    h_advance(h, 40 * MSEC);
    h_flush(h);

    /* Once A reads, memory is plenty again and C's small ring stays. */
    recv_all(h, a.sd, 13 * MSS, 'a');
    h_flush(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .sport = 3, .data = "y"));
    fx_recv_exact(h, c.sd, "y", 1);
    assert_true(tcb(h, c.sd)->t_flags & TF_DELACK);
    assert_non_null(tcb(h, c.sd)->rcv.buf);
    h_free(h);
}

/* The peer sends more than 3/8 of the receive limit within half a round
 * trip: the limit grows by half (net.inet.tcp.recvbuf_inc 0, FreeBSD 13's
 * rule), the window offered grows with it, and every byte arrives. */
static void test_receive_limit_grows_when_the_peer_sends_a_lot(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int lsd = h_listen(h);
    struct fx_conn c = conn(h, lsd, 1);
    int before = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_RCVBUF, &before), 0);
    assert_int_equal(before, 65700); /* 65,536 rounded up to whole segments */
    peer_send(h, &c, 1, 30 * MSS, 'a');
    recv_all(h, c.sd, 30 * MSS, 'a');
    assert_int_equal(h_stat(h, "tcps_rcvbuf_autogrow"), 0);
    h_advance(h, 15 * MSEC); /* past half the 20 ms round trip */
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .sport = 1, .data = "x"));
    c.snd++;
    h_flush(h);
    assert_int_equal(h_stat(h, "tcps_rcvbuf_autogrow"), 1);
    int after = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_RCVBUF, &after), 0);
    assert_int_equal(after, 65700 + 65700 / 2);
    fx_recv_exact(h, c.sd, "x", 1);
    /* The window now offers the larger limit; the unscaled field says at
     * most 65,535 of it. */
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .sport = 1, .data = "y"));
    c.snd++;
    h_advance(h, 100 * MSEC);
    struct h_seg ack = h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd, .sport = 1));
    assert_int_equal(ack.th.win, 65535);
    fx_recv_exact(h, c.sd, "y", 1);
    h_free(h);
}

/* SO_RCVBUF set on the listener turns auto-sizing off for its children, as
 * FreeBSD clears SB_AUTOSIZE: the same burst leaves the limit alone. */
static void test_so_rcvbuf_turns_auto_sizing_off(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int lsd = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, lsd, TCPC_SO_RCVBUF, 65536), 0);
    assert_int_equal(tcpc_bind(h->stack, lsd, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, lsd, 8), 0);
    struct fx_conn c = conn(h, lsd, 1);
    peer_send(h, &c, 1, 30 * MSS, 'a');
    recv_all(h, c.sd, 30 * MSS, 'a');
    h_advance(h, 15 * MSEC);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .sport = 1, .data = "x"));
    h_flush(h);
    assert_int_equal(h_stat(h, "tcps_rcvbuf_autogrow"), 0);
    int v = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_RCVBUF, &v), 0);
    assert_int_equal(v, 65700);
    h_free(h);
}

/* Two connections under a 64 KiB budget. A's unread 59,860 bytes hold a
 * 64 KiB ring: the whole budget. B, idle, holds nothing; its next segment
 * finds no memory: dropped (tcps_rcvmemdrop) and answered with a zero
 * window. A's application reads; at the next tcpc_advance B's window
 * reopens with an update, the peer's retransmission is taken, and both
 * connections delivered every byte. */
static void test_zero_window_at_the_budget_reopens_when_memory_frees(void **state)
{
    (void)state;
    struct fx_conn a, b;
    struct harness *h = budget_pair(&a, &b, 41 * MSS);
    assert_int_equal(pool(h)->held, 65536);
    assert_int_equal(h_stat(h, "tcps_rcvmemdrop"), 0);

    h_inject(h,
             SEG(.flags = TH_ACK | TH_PSH, .seq = b.snd, .ack = b.rcv, .sport = 2, .data = "late"));
    h_expect(h, SEG(.flags = TH_ACK, .ack = b.snd, .win = 0, .sport = 2));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvmemdrop"), 1);
    assert_int_equal(tcpc_recv(h->stack, b.sd, (char[8]){0}, 8), -EAGAIN);
    /* Once a refill has found that only the budget stands in the way,
     * nothing more is due until memory comes back. */
    h_advance(h, 0);
    h_expect_nothing(h);
    assert_true(tcpc_next_deadline(h->stack) > h->now);

    recv_all(h, a.sd, 41 * MSS, 'a');
    h_flush(h); /* A's own window update */
    assert_int_equal(pool(h)->held, 0);
    assert_int_equal(tcpc_next_deadline(h->stack), h->now);
    h_advance(h, 0);
    struct h_seg up = h_expect(h, SEG(.flags = TH_ACK, .ack = b.snd, .sport = 2));
    assert_true(up.th.win > 0);
    h_inject(h,
             SEG(.flags = TH_ACK | TH_PSH, .seq = b.snd, .ack = b.rcv, .sport = 2, .data = "late"));
    h_expect(h, SEG(.flags = TH_ACK, .ack = b.snd + 4, .sport = 2));
    fx_recv_exact(h, b.sd, "late", 4);
    assert_int_equal(h_stat(h, "tcps_rcvmemdrop"), 1);
    h_free(h);
}

/* A window offered while the budget is nearly spent promises only what
 * the budget can still pay for: it shrinks to the storage's reach. */
static void test_window_follows_what_the_budget_can_pay(void **state)
{
    (void)state;
    struct fx_conn a, b;
    struct harness *h = budget_pair(&a, &b, 13 * MSS); /* 18,980 bytes: a 32 KiB ring */
    assert_int_equal(pool(h)->held, 32768);
    h_inject(h,
             SEG(.flags = TH_ACK | TH_PSH, .seq = b.snd, .ack = b.rcv, .sport = 2, .data = "abc"));
    struct h_seg ack = h_expect(h, SEG(.flags = TH_ACK, .ack = b.snd + 3, .sport = 2));
    /* B may hold at most a 32 KiB ring: 65,536 - 32,768. */
    assert_int_equal(ack.th.win, 32768 - 3);
    recv_all(h, a.sd, 13 * MSS, 'a');
    fx_recv_exact(h, b.sd, "abc", 3);
    h_free(h);
}

/* A send that finds the budget spent is refused with -EAGAIN (counted);
 * the socket is not writable; once memory comes back tcpc_advance reports
 * it writable and the send goes through. */
static void test_send_blocks_at_the_budget(void **state)
{
    (void)state;
    struct fx_conn a, b;
    struct harness *h = budget_pair(&a, &b, 41 * MSS);
    assert_int_equal(pool(h)->held, 65536);
    h_events(h, b.sd);
    assert_int_equal(tcpc_send(h->stack, b.sd, "data", 4), -EAGAIN);
    assert_int_equal(h_stat(h, "tcps_sndmemblock"), 1);
    assert_false(tcpc_poll(h->stack, b.sd) & TCPC_EV_WRITABLE);
    h_expect_nothing(h);

    recv_all(h, a.sd, 41 * MSS, 'a');
    h_flush(h);
    h_advance(h, 0);
    assert_true(h_events(h, b.sd) & TCPC_EV_WRITABLE);
    assert_int_equal(tcpc_send(h->stack, b.sd, "data", 4), 4);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = b.rcv, .data = "data", .sport = 2));
    h_free(h);
}

/* The send limit grows by net.inet.tcp.sendbuf_inc once the buffer is 7/8
 * full, the peer's window covers 4/5 of it and the congestion window could
 * take what is unsent: an application that keeps the buffer full while the
 * peer acknowledges everything gets a larger buffer. */
static void test_send_limit_grows_when_the_application_keeps_it_full(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int lsd = h_listen(h);
    struct fx_conn c = conn(h, lsd, 1);
    const char *data = fx_pattern(65536, 'a');
    int before = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_SNDBUF, &before), 0);
    for (int round = 0; round < 32 && h_stat(h, "tcps_sndbuf_autogrow") == 0; round++) {
        while (tcpc_send(h->stack, c.sd, data, 65536) > 0)
            ;
        h_flush(h);
        struct tcpc_info info;
        assert_int_equal(tcpc_getinfo(h->stack, c.sd, &info), 0);
        h_inject(h,
                 SEG(.flags = TH_ACK, .seq = c.snd, .ack = info.snd_max, .win = 65535, .sport = 1));
    }
    assert_int_equal(h_stat(h, "tcps_sndbuf_autogrow"), 1);
    int after = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_SNDBUF, &after), 0);
    assert_int_equal(after, before + 8192);
    h_free(h);
}

/* The new tunables are validated like every other, with a sentence. */
static void test_tunables_validated(void **state)
{
    (void)state;
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    const char *why = NULL;
    assert_int_equal(tcpc_config_sysctl(&cfg, "kern.ipc.sockbuf_budget", 4096, &why), -EINVAL);
    assert_non_null(why);
    why = NULL;
    assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.tcp.sendbuf_inc", 0, &why), -EINVAL);
    assert_non_null(why);
    assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.tcp.recvbuf_auto", 2, &why), -EINVAL);
    assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.tcp.recvbuf_inc", 0, &why), 0);
    assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.tcp.recvbuf_max", 1 << 24, &why), 0);
    assert_int_equal(tcpc_config_sysctl(&cfg, "kern.ipc.sockbuf_budget", 1 << 20, &why), 0);
}

/* The size classes: four to a doubling from 2 KiB; a size's class is the
 * smallest that holds it. */
static void test_size_classes(void **state)
{
    (void)state;
    assert_int_equal(sbpool_size(0), 2048);
    assert_int_equal(sbpool_size(1), 2560);
    assert_int_equal(sbpool_size(4), 4096);
    assert_int_equal(sbpool_size(SBPOOL_NCLS - 1), UINT32_MAX);
    for (uint32_t i = 0; i + 1 < SBPOOL_NCLS; i++) {
        assert_true(sbpool_size(i) < sbpool_size(i + 1));
        assert_int_equal(sbpool_class_for(sbpool_size(i)), i);
        assert_int_equal(sbpool_class_for(sbpool_size(i) + 1), i + 1);
    }
    assert_int_equal(sbpool_class_for(1), 0);
    assert_int_equal(sbpool_class_for(UINT32_MAX), SBPOOL_NCLS - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_connection_holds_no_storage),
        cmocka_unit_test(test_exchange_keeps_its_small_rings),
        cmocka_unit_test(test_drained_ring_returned_when_large_or_memory_is_short),
        cmocka_unit_test(test_receive_limit_grows_when_the_peer_sends_a_lot),
        cmocka_unit_test(test_so_rcvbuf_turns_auto_sizing_off),
        cmocka_unit_test(test_send_limit_grows_when_the_application_keeps_it_full),
        cmocka_unit_test(test_zero_window_at_the_budget_reopens_when_memory_frees),
        cmocka_unit_test(test_window_follows_what_the_budget_can_pay),
        cmocka_unit_test(test_send_blocks_at_the_budget),
        cmocka_unit_test(test_tunables_validated),
        cmocka_unit_test(test_size_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
