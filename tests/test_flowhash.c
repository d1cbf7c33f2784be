/*
 * A NIC's flow hash handed in with the packet (tcpc_input_hash): the
 * connection tables hash with the embedder's function, and a lookup trusts
 * the hash it is given instead of computing one, as FreeBSD's
 * in_pcblookup_mbuf trusts the mbuf's flowid.
 */
#include "harness.h"
#include "test_tcp_fixture.h"

/* A stand-in for a NIC's RSS hash: any function of the 4-tuple will do, as
 * long as the stack and the "NIC" agree. */
static uint32_t fake_rss(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                         const struct tcpc_addr *laddr, uint16_t lport)
{
    (void)ctx;
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ faddr->bytes[i] ^ laddr->bytes[i]) * 16777619u;
    return h ^ ((uint32_t)fport << 16 | lport);
}

static void test_rss_hash_reaches_connection(void **state)
{
    (void)state;
    struct h_opts o = {.flow_hash = fake_rss};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    uint32_t right = fake_rss(NULL, &h->peer, h->pport, &h->local, h->lport);

    h_inject_hash(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .data = "hi"),
                  right);
    char buf[8];
    assert_int_equal(tcpc_recv(h->stack, c.sd, buf, sizeof(buf)), 2);
    h_advance(h, 40 * MSEC);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 2));

    /* A hash that does not belong to the flow misses the connection: the
     * segment falls through to the listener, which refuses a bare ACK. */
    h_inject_hash(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd + 2, .ack = c.rcv, .data = "x"),
                  right ^ 0x5a5a5a5a);
    h_expect(h, SEG(.flags = TH_RST, .seq = c.rcv));
    assert_int_equal(tcpc_recv(h->stack, c.sd, buf, sizeof(buf)), -EAGAIN);

    /* Plain tcpc_input still works: the stack hashes with the same function. */
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd + 2, .ack = c.rcv, .data = "ok"));
    assert_int_equal(tcpc_recv(h->stack, c.sd, buf, sizeof(buf)), 2);
    h_free(h);
}

/* Without cfg.flow_hash, a hash handed in is ignored, not trusted. */
static void test_hash_ignored_without_function(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    h_inject_hash(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .data = "hi"),
                  12345);
    char buf[8];
    assert_int_equal(tcpc_recv(h->stack, c.sd, buf, sizeof(buf)), 2);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss_hash_reaches_connection),
        cmocka_unit_test(test_hash_ignored_without_function),
    };
    return cmocka_run_group_tests_name("flowhash", tests, NULL, NULL);
}
