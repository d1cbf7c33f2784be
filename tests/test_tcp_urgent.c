/*
 * Urgent data segment by segment (RFC 9293 3.8.5, RFC 6093, BSD sockets'
 * out-of-band byte): TCPC_MSG_OOB sends put URG and a pointer just past
 * the last byte on every segment before it, retransmissions included,
 * until it is acknowledged; received URG makes the byte before the pointer
 * the out-of-band byte, read once with TCPC_MSG_OOB and left out of the
 * stream unless TCPC_SO_OOBINLINE; reads stop at the mark, which
 * tcpc_sockatmark reports. Pointers that are zero, old, on unacceptable
 * segments or beyond any buffer are ignored.
 *
 * Connections are opened passively with MSS 1000 and no other options
 * (unscaled windows, no timestamps), delayed ACKs off so that every data
 * segment is answered at once.
 */
#include "test_tcp_fixture.h"

#define MSS 1000u

static struct harness *new_harness(bool v6)
{
    static const char *sys[] = {"net.inet.tcp.delayed_ack=0", NULL};
    struct h_opts o = {.sysctls = sys, .v6 = v6};
    return h_new(&o);
}

static struct fx_conn established(struct harness *h)
{
    return fx_passive(h, 1000, SEG(.mss = MSS));
}

static ssize_t send_oob(struct harness *h, int sd, const char *data, size_t n)
{
    return tcpc_send_flags(h->stack, sd, data, n, TCPC_MSG_OOB);
}

/* The out-of-band byte, or the negative errno of the TCPC_MSG_OOB read. */
static int recv_oob(struct harness *h, int sd, int flags)
{
    unsigned char b = 0;
    ssize_t r = tcpc_recv_flags(h->stack, sd, &b, 1, TCPC_MSG_OOB | flags);
    if (r < 0)
        return (int)r;
    assert_int_equal(r, 1);
    return b;
}

static int atmark(struct harness *h, int sd)
{
    return tcpc_sockatmark(h->stack, sd);
}

/* Peer data at c->snd, answered by an immediate ACK (delayed ACKs off). */
static void peer_data(struct harness *h, struct fx_conn *c, const char *data, int64_t flags,
                      int64_t urp)
{
    size_t n = strlen(data);
    h_inject(h, SEG(.flags = flags, .seq = c->snd, .ack = c->rcv, .data = data, .urp = urp));
    c->snd += (uint32_t)n;
    h_expect(h, SEG(.flags = TH_ACK, .seq = c->rcv, .ack = c->snd, .len = 0, .urp = 0));
}

/* The pointer goes one past the out-of-band byte (the BSD meaning), on the
 * segment that carries it; a plain send after it is acknowledged carries no
 * URG. Both families take the same path. */
static void check_send_sets_urg(bool v6)
{
    struct harness *h = new_harness(v6);
    struct fx_conn c = established(h);
    assert_int_equal(send_oob(h, c.sd, "abc", 3), 3);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH | TH_URG, .seq = c.rcv, .ack = c.snd, .len = 3,
                    .data = "abc", .urp = 3));
    h_expect_nothing(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 3));
    h_expect_nothing(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, "de", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 3, .len = 2, .urp = 0));
    h_free(h);
}

static void test_send_sets_urg(void **state)
{
    (void)state;
    check_send_sets_urg(false);
    check_send_sets_urg(true);
}

/* Every segment that starts before the pointer carries URG with the
 * offset from its own SEQ; a retransmission too; once the ACK passes the
 * pointer, nothing does. */
static void test_urg_until_acked(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    struct fx_conn c = established(h);
    const char *d = fx_pattern(2500, 'a');
    assert_int_equal(send_oob(h, c.sd, d, 2500), 2500);
    h_expect(h, SEG(.flags = TH_ACK | TH_URG, .seq = c.rcv, .len = MSS, .urp = 2500));
    h_expect(h, SEG(.flags = TH_ACK | TH_URG, .seq = c.rcv + 1000, .len = MSS, .urp = 1500));
    h_expect(h,
             SEG(.flags = TH_ACK | TH_PSH | TH_URG, .seq = c.rcv + 2000, .len = 500, .urp = 500));
    h_expect_nothing(h);
    /* The first 1000 bytes acknowledged; the timeout resends from there. */
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 1000));
    h_expect_nothing(h);
    fx_advance_until_output(h, 10 * SEC);
    h_expect(h, SEG(.flags = TH_ACK | TH_URG, .seq = c.rcv + 1000, .len = MSS, .urp = 1500));
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv + 2500));
    h_flush(h);
    /* Past the pointer: new data and ACKs go without URG. */
    assert_int_equal(tcpc_send(h->stack, c.sd, "z", 1), 1);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 2500, .len = 1, .urp = 0));
    c.rcv += 2501;
    peer_data(h, &c, "q", TH_ACK, 0);
    h_free(h);
}

/* A pointer more than 65,535 bytes ahead is announced as 65535 until the
 * segments come within reach of it (RFC 6093 section 4). */
static void test_far_pointer_clamped(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    fx_set_tunable(h, "net.inet.tcp.sendspace", 131072);
    struct fx_conn c = established(h);
    const char *d = fx_pattern(68000, 'a');
    assert_int_equal(send_oob(h, c.sd, d, 68000), 68000);
    /* The initial window: ten segments. */
    for (uint32_t k = 0; k < 10; k++) {
        uint32_t off = 68000 - k * MSS;
        h_expect(h, SEG(.flags = TH_ACK | TH_URG, .seq = c.rcv + k * MSS, .len = MSS,
                        .urp = off > 65535 ? 65535 : off));
    }
    h_expect_nothing(h);
    h_free(h);
}

/* A closed window keeps the data back, but not the news: an ACK with the
 * pointer goes at once, and the persist probe's byte carries it too. */
static void test_zero_window_notification(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    struct fx_conn c = established(h);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 0));
    h_expect_nothing(h);
    assert_int_equal(send_oob(h, c.sd, "xy", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_URG, .seq = c.rcv, .ack = c.snd, .len = 0, .urp = 2));
    h_expect_nothing(h);
    fx_advance_until_output(h, 10 * SEC);
    h_expect(h, SEG(.flags = TH_ACK | TH_URG, .seq = c.rcv, .len = 1, .data = "x", .urp = 2));
    h_free(h);
}

/* Urgent data is sent at once: neither Nagle (a small segment in flight)
 * nor TCP_NOPUSH holds it back. */
static void test_urgent_skips_nagle(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    struct fx_conn c = established(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, "ab", 2), 2);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .len = 2));
    assert_int_equal(tcpc_send(h->stack, c.sd, "cd", 2), 2);
    h_expect_nothing(h); /* Nagle: "ab" is unacknowledged */
    assert_int_equal(send_oob(h, c.sd, "!", 1), 1);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH | TH_URG, .seq = c.rcv + 2, .len = 3, .data = "cd!",
                    .urp = 3));
    h_expect_nothing(h);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_TCP_NOPUSH, 1), 0);
    assert_int_equal(send_oob(h, c.sd, "?", 1), 1);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH | TH_URG, .seq = c.rcv + 5, .len = 1, .urp = 1));
    h_free(h);
}

/* The received byte before the pointer is out of band: reads stop at the
 * mark, the mark is then reported, the byte is read once with
 * TCPC_MSG_OOB, and the stream goes on without it. */
static void check_receive_oob(bool v6)
{
    struct harness *h = new_harness(v6);
    struct fx_conn c = established(h);
    assert_int_equal(recv_oob(h, c.sd, 0), -EINVAL); /* nothing announced */
    assert_int_equal(atmark(h, c.sd), 0);
    peer_data(h, &c, "abcX", TH_ACK | TH_URG, 4);
    uint32_t ev = h_events(h, c.sd);
    assert_true(ev & TCPC_EV_READABLE);
    assert_true(ev & TCPC_EV_URGENT);
    assert_int_equal(atmark(h, c.sd), 0);
    char b[16];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 3);
    assert_memory_equal(b, "abc", 3);
    assert_int_equal(atmark(h, c.sd), 1);
    /* Only the out-of-band byte is left: nothing for a stream read, and
     * nothing queued (FIONREAD) as far as tcpc_getinfo says. */
    assert_int_equal(tcpc_poll(h->stack, c.sd) & TCPC_EV_READABLE, 0);
    struct tcpc_info in;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &in), 0);
    assert_int_equal(in.rcv_queue, 0);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -EAGAIN);
    assert_int_equal(recv_oob(h, c.sd, TCPC_MSG_PEEK), 'X');
    assert_int_equal(recv_oob(h, c.sd, 0), 'X');
    assert_int_equal(recv_oob(h, c.sd, 0), -EINVAL); /* once */
    assert_int_equal(atmark(h, c.sd), 1);
    peer_data(h, &c, "def", TH_ACK, SEG_ANY);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 3);
    assert_memory_equal(b, "def", 3);
    assert_int_equal(atmark(h, c.sd), 0);
    assert_int_equal(tcpc_poll(h->stack, c.sd) & TCPC_EV_URGENT, 0);
    assert_int_equal(recv_oob(h, c.sd, 0), -EINVAL);
    h_free(h);
}

static void test_receive_oob(void **state)
{
    (void)state;
    check_receive_oob(false);
    check_receive_oob(true);
}

/* The pointer arrives before its byte: -EAGAIN until it comes; the
 * sender's next segment repeats the same pointer, which changes nothing. */
static void test_oob_not_yet_arrived(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    struct fx_conn c = established(h);
    peer_data(h, &c, "abc", TH_ACK | TH_URG, 4);
    assert_int_equal(recv_oob(h, c.sd, 0), -EAGAIN);
    char b[16];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 3);
    assert_int_equal(atmark(h, c.sd), 1);
    assert_int_equal(recv_oob(h, c.sd, 0), -EAGAIN);
    peer_data(h, &c, "Xyz", TH_ACK | TH_URG, 1);
    assert_int_equal(atmark(h, c.sd), 1);
    assert_int_equal(recv_oob(h, c.sd, 0), 'X');
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 2);
    assert_memory_equal(b, "yz", 2);
    assert_int_equal(atmark(h, c.sd), 0);
    h_free(h);
}

/* A reader that goes past the mark without reading the byte loses it:
 * the stream skips it, and TCPC_MSG_OOB then says there is none. */
static void test_read_past_mark(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    struct fx_conn c = established(h);
    peer_data(h, &c, "aXbc", TH_ACK | TH_URG, 2);
    char b[16];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 1);
    assert_memory_equal(b, "a", 1);
    /* A peek at the mark shows what follows the byte, and leaves it. */
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, sizeof(b), TCPC_MSG_PEEK), 2);
    assert_memory_equal(b, "bc", 2);
    assert_int_equal(atmark(h, c.sd), 1);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 2);
    assert_memory_equal(b, "bc", 2);
    assert_int_equal(recv_oob(h, c.sd, 0), -EINVAL);
    assert_int_equal(atmark(h, c.sd), 0);
    h_free(h);
}

/* SO_OOBINLINE: the byte stays in the stream, the mark still ends a read
 * and sits before the byte, and TCPC_MSG_OOB is refused. */
static void test_oobinline(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    struct fx_conn c = established(h);
    int v = -1;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_OOBINLINE, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(tcpc_setsockopt(h->stack, c.sd, TCPC_SO_OOBINLINE, 1), 0);
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_OOBINLINE, &v), 0);
    assert_int_equal(v, 1);
    peer_data(h, &c, "abcXde", TH_ACK | TH_URG, 4);
    assert_int_equal(recv_oob(h, c.sd, 0), -EINVAL);
    char b[16];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 3);
    assert_int_equal(atmark(h, c.sd), 1);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 3);
    assert_memory_equal(b, "Xde", 3);
    assert_int_equal(atmark(h, c.sd), 0);
    h_free(h);
}

/* A second pointer before the first byte was read replaces it: only the
 * newer byte is out of band. FreeBSD loses the older byte altogether,
 * Linux puts it back in the stream; tcpcore does as Linux, except when the
 * reader stands at the older byte, where both drop it. */
static void test_second_urgent_replaces(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    struct fx_conn c = established(h);
    peer_data(h, &c, "aX", TH_ACK | TH_URG, 2);
    peer_data(h, &c, "bY", TH_ACK | TH_URG, 2);
    char b[16];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 3);
    assert_memory_equal(b, "aXb", 3);
    assert_int_equal(atmark(h, c.sd), 1);
    assert_int_equal(recv_oob(h, c.sd, 0), 'Y');
    assert_int_equal(recv_oob(h, c.sd, 0), -EINVAL);

    /* The reader at the older byte: it is dropped. */
    peer_data(h, &c, "cP", TH_ACK | TH_URG, 2);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 1);
    assert_memory_equal(b, "c", 1);
    assert_int_equal(atmark(h, c.sd), 1);
    peer_data(h, &c, "dQe", TH_ACK | TH_URG, 2);
    assert_int_equal(recv_oob(h, c.sd, 0), 'Q');
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 1);
    assert_memory_equal(b, "d", 1);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 1);
    assert_memory_equal(b, "e", 1);
    h_free(h);
}

/* Ignored: URG with a zero pointer; URG on a segment outside the window
 * (dropped with it); a pointer into data already received (a
 * retransmission's); a pointer behind the current one (RCV.UP only moves
 * forward). */
static void test_urg_ignored(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    struct fx_conn c = established(h);
    peer_data(h, &c, "abc", TH_ACK | TH_URG, 0);
    assert_int_equal(recv_oob(h, c.sd, 0), -EINVAL);
    assert_int_equal(tcpc_poll(h->stack, c.sd) & TCPC_EV_URGENT, 0);
    /* Out of order too, where SEG.SEQ + 0 would lie ahead of RCV.NXT. */
    h_inject(
        h, SEG(.flags = TH_ACK | TH_URG, .seq = c.snd + 10, .ack = c.rcv, .data = "zz", .urp = 0));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    assert_int_equal(tcpc_poll(h->stack, c.sd) & TCPC_EV_URGENT, 0);
    assert_int_equal(recv_oob(h, c.sd, 0), -EINVAL);
    /* Beyond the window: answered with an ACK and dropped, URG and all. */
    h_inject(h, SEG(.flags = TH_ACK | TH_URG, .seq = c.snd + 70000, .ack = c.rcv, .data = "zz",
                    .urp = 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    assert_int_equal(recv_oob(h, c.sd, 0), -EINVAL);
    /* The old segment again, now with URG: its byte was received. */
    h_inject(
        h, SEG(.flags = TH_ACK | TH_URG, .seq = c.snd - 3, .ack = c.rcv, .data = "abc", .urp = 3));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd, .len = 0));
    assert_int_equal(recv_oob(h, c.sd, 0), -EINVAL);
    assert_int_equal(atmark(h, c.sd), 0);
    char b[16];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 3);
    assert_memory_equal(b, "abc", 3);
    /* A pointer behind the current one leaves the mark where it is: reads
     * do not stop at the byte the older pointer would name. */
    peer_data(h, &c, "defg", TH_ACK | TH_URG, 100);
    peer_data(h, &c, "hijk", TH_ACK | TH_URG, 2);
    assert_int_equal(recv_oob(h, c.sd, 0), -EAGAIN);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 8);
    assert_memory_equal(b, "defghijk", 8);
    assert_int_equal(atmark(h, c.sd), 0);
    h_free(h);
}

/* Pointers far ahead: up to 65,535 past a segment is a mark the data has
 * yet to reach; further than kern.ipc.maxsockbuf could ever hold is
 * ignored. Whatever the pointer, reading, closing and freeing stay sound
 * (run under ASan: no access outside the ring). */
static void test_far_pointer_received(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    struct fx_conn c = established(h);
    peer_data(h, &c, "a", TH_ACK | TH_URG, 65535);
    assert_int_equal(recv_oob(h, c.sd, 0), -EAGAIN);
    char b[16];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 1);
    assert_int_equal(atmark(h, c.sd), 0);
    /* Every other pointer value on in-window segments, a byte at a time. */
    for (uint32_t urp = 1; urp < 65535; urp += 4099) {
        peer_data(h, &c, "bc", TH_ACK | TH_URG, urp);
        while (tcpc_recv(h->stack, c.sd, b, sizeof(b)) > 0)
            ;
        (void)recv_oob(h, c.sd, 0);
    }
    h_free(h);

    h = new_harness(false);
    fx_set_tunable(h, "net.inet.tcp.recvspace", 4096);
    fx_set_tunable(h, "kern.ipc.maxsockbuf", 8192);
    c = established(h);
    peer_data(h, &c, "a", TH_ACK | TH_URG, 9000);
    assert_int_equal(recv_oob(h, c.sd, 0), -EINVAL);
    assert_int_equal(tcpc_poll(h->stack, c.sd) & TCPC_EV_URGENT, 0);
    h_free(h);
}

/* With only the out-of-band byte unread, a FIN reads as end of stream,
 * and closing is orderly (a FIN, not the reset unread data draws). */
static void test_eof_and_close_after_oob(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    struct fx_conn c = established(h);
    peer_data(h, &c, "aX", TH_ACK | TH_URG, 2);
    h_inject(h, SEG(.flags = TH_ACK | TH_FIN, .seq = c.snd, .ack = c.rcv));
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 1));
    char b[16];
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 1);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), 0);
    assert_int_equal(recv_oob(h, c.sd, 0), 'X');
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_ACK | TH_FIN, .seq = c.rcv, .ack = c.snd + 1));
    h_free(h);
}

/* Flags and descriptors: unknown send flags are refused; a listener has
 * no mark; a bad descriptor is -EBADF. */
static void test_api_edges(void **state)
{
    (void)state;
    struct harness *h = new_harness(false);
    struct fx_conn c = established(h);
    assert_int_equal(tcpc_send_flags(h->stack, c.sd, "a", 1, TCPC_MSG_PEEK), -EINVAL);
    assert_int_equal(tcpc_send_flags(h->stack, c.sd, "a", 1, TCPC_MSG_DONTWAIT), 1);
    assert_int_equal(tcpc_send_flags(h->stack, 999, "a", 1, TCPC_MSG_OOB), -EBADF);
    assert_int_equal(tcpc_sockatmark(h->stack, 999), -EBADF);
    assert_int_equal(atmark(h, c.lsd), 0);
    assert_int_equal(recv_oob(h, c.lsd, 0), -EINVAL);
    h_free(h);
}

/* A listener's SO_OOBINLINE goes to the connections it accepts, through
 * a SYN cache entry and through a SYN cookie. */
static void check_oobinline_inherited(const char *sysctl)
{
    const char *sys[] = {sysctl, NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    int l = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, l, TCPC_SO_OOBINLINE, 1), 0);
    assert_int_equal(tcpc_bind(h->stack, l, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, l, 4), 0);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = MSS));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    int v = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_SO_OOBINLINE, &v), 0);
    assert_int_equal(v, 1);
    h_free(h);
}

static void test_oobinline_inherited(void **state)
{
    (void)state;
    check_oobinline_inherited("net.inet.tcp.syncookies_only=0");
    check_oobinline_inherited("net.inet.tcp.syncookies_only=1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_send_sets_urg),
        cmocka_unit_test(test_urg_until_acked),
        cmocka_unit_test(test_far_pointer_clamped),
        cmocka_unit_test(test_zero_window_notification),
        cmocka_unit_test(test_urgent_skips_nagle),
        cmocka_unit_test(test_receive_oob),
        cmocka_unit_test(test_oob_not_yet_arrived),
        cmocka_unit_test(test_read_past_mark),
        cmocka_unit_test(test_oobinline),
        cmocka_unit_test(test_second_urgent_replaces),
        cmocka_unit_test(test_urg_ignored),
        cmocka_unit_test(test_far_pointer_received),
        cmocka_unit_test(test_eof_and_close_after_oob),
        cmocka_unit_test(test_api_edges),
        cmocka_unit_test(test_oobinline_inherited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
