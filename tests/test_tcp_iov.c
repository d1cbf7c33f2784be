/*
 * Scatter-gather and receive flags: tcpc_sendv queues every piece before
 * output runs, so they leave together in full segments; tcpc_recvv fills
 * its buffers in order, with MSG_PEEK as tcpc_recv_flags; MSG_WAITALL is
 * all or nothing until no more bytes can come, and re-arms READABLE;
 * MSG_DONTWAIT changes nothing.
 */
#include "test_tcp_fixture.h"

#define MSS 1000u

static struct fx_conn established(struct harness *h)
{
    return fx_passive(h, 1000, SEG(.mss = MSS));
}

/* Three pieces, one segment: with a plain send per piece the second and
 * third would wait behind the first for its ACK (Nagle). */
static void test_sendv_one_segment(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = established(h);
    char a[] = "head:", b[] = "body", d[] = "!";
    struct iovec v[] = {{a, 5}, {b, 4}, {NULL, 0}, {d, 1}};
    assert_int_equal(tcpc_sendv(h->stack, c.sd, v, 4), 10);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .data = "head:body!"));
    h_expect_nothing(h);
    h_free(h);
}

/* Pieces larger than a segment are cut into full segments across their
 * boundaries; what does not fit the buffer is left out. */
static void test_sendv_full_segments_and_room(void **state)
{
    (void)state;
    static const char *sys[] = {"net.inet.tcp.sendspace=4096", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = established(h);
    static char p1[1500], p2[1500], p3[5000];
    memset(p1, 'x', sizeof(p1));
    memset(p2, 'y', sizeof(p2));
    memset(p3, 'z', sizeof(p3));
    struct iovec v[] = {{p1, sizeof(p1)}, {p2, sizeof(p2)}, {p3, sizeof(p3)}};
    int sndbuf = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_SNDBUF, &sndbuf), 0);
    ssize_t n = tcpc_sendv(h->stack, c.sd, v, 3);
    assert_int_equal(n, sndbuf);
    struct h_seg s1 = h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .len = MSS));
    struct h_seg s2 = h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + MSS, .len = MSS));
    assert_int_equal(s1.payload[MSS - 1], 'x');
    assert_int_equal(s2.payload[499], 'x');
    assert_int_equal(s2.payload[500], 'y');
    h_free(h);
}

static void test_iov_errors(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = established(h);
    char b[4];
    struct iovec v[] = {{b, sizeof(b)}};
    assert_int_equal(tcpc_sendv(h->stack, c.sd, v, -1), -EINVAL);
    assert_int_equal(tcpc_sendv(h->stack, c.sd, v, TCPC_IOV_MAX + 1), -EINVAL);
    assert_int_equal(tcpc_recvv(h->stack, c.sd, v, -1, 0), -EINVAL);
    assert_int_equal(tcpc_recvv(h->stack, c.sd, NULL, 1, 0), -EINVAL);
    assert_int_equal(tcpc_recvv(h->stack, c.sd, v, 1, 0x80), -EINVAL);
    assert_int_equal(tcpc_sendv(h->stack, 99, v, 1), -EBADF);
    assert_int_equal(tcpc_sendv(h->stack, c.sd, v, 0), -EAGAIN); /* as a send of 0 bytes */
    h_free(h);
}

/* recvv fills its buffers in order; a peek leaves the bytes queued. */
static void test_recvv_scatter_and_peek(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = established(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .data = "abcdefghij"));
    char x[3], y[4], z[10];
    struct iovec v[] = {{x, 3}, {y, 4}, {z, 10}};
    assert_int_equal(tcpc_recvv(h->stack, c.sd, v, 3, TCPC_MSG_PEEK), 10);
    assert_memory_equal(x, "abc", 3);
    assert_memory_equal(y, "defg", 4);
    assert_memory_equal(z, "hij", 3);
    memset(z, 0, sizeof(z));
    assert_int_equal(tcpc_recvv(h->stack, c.sd, v, 3, TCPC_MSG_DONTWAIT), 10);
    assert_memory_equal(y, "defg", 4);
    assert_memory_equal(z, "hij", 3);
    assert_int_equal(tcpc_recvv(h->stack, c.sd, v, 3, 0), -EAGAIN);
    h_free(h);
}

/* MSG_WAITALL: nothing until the whole length is there; an event for the
 * bytes that complete it though READABLE was on already; at the FIN, what
 * there is. */
static void test_waitall(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = established(h);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .data = "abcd"));
    assert_true(h_events(h, c.sd) & TCPC_EV_READABLE);
    char b[8];
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, 8, TCPC_MSG_WAITALL), -EAGAIN);
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, 8, TCPC_MSG_WAITALL | TCPC_MSG_PEEK),
                     -EAGAIN);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd + 4, .ack = c.rcv, .data = "efgh"));
    assert_true(h_events(h, c.sd) & TCPC_EV_READABLE);
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, 8, TCPC_MSG_WAITALL), 8);
    assert_memory_equal(b, "abcdefgh", 8);
    h_inject(h,
             SEG(.flags = TH_ACK | TH_PSH | TH_FIN, .seq = c.snd + 8, .ack = c.rcv, .data = "ij"));
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, 8, TCPC_MSG_WAITALL), 2);
    assert_memory_equal(b, "ij", 2);
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, 8, TCPC_MSG_WAITALL), 0);
    h_free(h);
}

/* MSG_WAITALL for more than the receive buffer holds: a full buffer is
 * returned, as nothing more can come before a read. */
static void test_waitall_beyond_buffer(void **state)
{
    (void)state;
    static const char *sys[] = {"net.inet.tcp.recvspace=2000", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = established(h);
    int rcvbuf = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, c.sd, TCPC_SO_RCVBUF, &rcvbuf), 0);
    static char want[70000];
    memcpy(want, fx_pattern((size_t)rcvbuf, 'a'), (size_t)rcvbuf);
    uint32_t sent = 0;
    while (sent < (uint32_t)rcvbuf) {
        uint32_t k = (uint32_t)rcvbuf - sent < MSS ? (uint32_t)rcvbuf - sent : MSS;
        char seg[MSS + 1];
        memcpy(seg, want + sent, k);
        seg[k] = '\0';
        h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd + sent, .ack = c.rcv, .data = seg));
        sent += k;
        if (sent < (uint32_t)rcvbuf) {
            static char b[70000];
            assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, sizeof(b), TCPC_MSG_WAITALL),
                             -EAGAIN);
        }
    }
    static char b[70000];
    assert_int_equal(tcpc_recv_flags(h->stack, c.sd, b, sizeof(b), TCPC_MSG_WAITALL), rcvbuf);
    assert_memory_equal(b, want, (size_t)rcvbuf);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sendv_one_segment),
        cmocka_unit_test(test_sendv_full_segments_and_room),
        cmocka_unit_test(test_iov_errors),
        cmocka_unit_test(test_recvv_scatter_and_peek),
        cmocka_unit_test(test_waitall),
        cmocka_unit_test(test_waitall_beyond_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
