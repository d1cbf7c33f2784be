/*
 * A NIC's flow hash handed in with the packet (tcpc_input_hash): the
 * connection tables hash with the embedder's function, and a lookup trusts
 * the hash it is given instead of computing one, as FreeBSD's
 * in_pcblookup_mbuf trusts the mbuf's flowid. A wrong hash, or a function
 * that changes under live entries, must never leave the tables holding a
 * 4-tuple twice, an unindexed connection or a stale entry. This file is
 * also built against a core with NDEBUG (test_flowhash_ndebug).
 */
#include "harness.h"
#include "tcpcore/listing.h"
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

/* A stack hashing with fake_rss and one accepted connection; *right is
 * the flow hash that belongs to it. */
static struct harness *rss_conn(struct fx_conn *c, uint32_t *right)
{
    struct h_opts o = {.flow_hash = fake_rss};
    struct harness *h = h_new(&o);
    *c = fx_passive(h, 1000, SEG(.mss = 1460));
    *right = fake_rss(NULL, &h->peer, h->pport, &h->local, h->lport);
    return h;
}

static void test_rss_hash_reaches_connection(void **state)
{
    (void)state;
    struct fx_conn c;
    uint32_t right;
    struct harness *h = rss_conn(&c, &right);

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

/* What the listing shows, by kind and state, and the 4-tuple of the last
 * established connection in it. */
struct census {
    int listen, established, syncache, timewait, other;
    struct tcpc_conninfo conn;
};

static int census_cb(void *ctx, const struct tcpc_conninfo *ci)
{
    struct census *c = ctx;
    const char *state = tcpc_state_name(ci->state);
    if (ci->kind == TCPC_CONN_SYNCACHE) {
        c->syncache++;
    } else if (ci->kind == TCPC_CONN_TIMEWAIT) {
        c->timewait++;
    } else if (strcmp(state, "LISTEN") == 0) {
        c->listen++;
    } else if (strcmp(state, "ESTABLISHED") == 0) {
        c->established++;
        c->conn = *ci;
    } else {
        c->other++;
    }
    return 0;
}

static struct census census(struct harness *h)
{
    struct census c = {0};
    assert_int_equal(tcpc_list_connections(h->stack, census_cb, &c), 0);
    return c;
}

/*
 * A handshake on the harness's 4-tuple whose segments all carry a wrong NIC
 * hash: they miss whatever holds the 4-tuple and reach the listener, which
 * answers the SYN. The ACK then completes an entry for a 4-tuple that is
 * already taken. The table must refuse the second entry (never index a
 * duplicate, never leave a connection unindexed), count the refusal and
 * answer with a RST, as for any handshake that cannot get a control block.
 */
static void wrong_hash_handshake(struct harness *h, uint32_t wrong, int lsd)
{
    h_inject_hash(h, SEG(.flags = TH_SYN, .seq = 70000), wrong);
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 70001));
    h_inject_hash(h, SEG(.flags = TH_ACK, .seq = 70001, .ack = sa.th.seq + 1), wrong);
    h_expect(h, SEG(.flags = TH_RST, .seq = sa.th.seq + 1, .len = 0));
    h_expect_nothing(h);
    /* No second connection was made or queued for accept. */
    assert_int_equal(tcpc_accept(h->stack, lsd, NULL, NULL), -EAGAIN);
    assert_int_equal(h_stat(h, "tcps_inshash_fail"), 1);
}

static void test_wrong_hash_cannot_duplicate_a_connection(void **state)
{
    (void)state;
    struct fx_conn c;
    uint32_t right;
    struct harness *h = rss_conn(&c, &right);

    wrong_hash_handshake(h, right ^ 0x5a5a5a5a, c.lsd);
    struct census n = census(h);
    assert_int_equal(n.listen, 1);
    assert_int_equal(n.established, 1);
    assert_int_equal(n.syncache + n.timewait + n.other, 0);
    assert_true(tcpc_addr_eq(&n.conn.faddr, &h->peer) && tcpc_addr_eq(&n.conn.laddr, &h->local));
    assert_int_equal(n.conn.fport, h->pport);
    assert_int_equal(n.conn.lport, h->lport);
    assert_int_equal(n.conn.sd, c.sd);
    assert_int_equal(h_stat(h, "tcps_sc_completed"), 1);

    /* The connection is still the one the 4-tuple reaches, by either path. */
    h_inject_hash(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd, .ack = c.rcv, .data = "ab"),
                  right);
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.snd + 2, .ack = c.rcv, .data = "cd"));
    fx_recv_exact(h, c.sd, "abcd", 4);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = c.snd + 4));
    h_free(h);
}

/* The same against a TIME_WAIT record: it keeps the 4-tuple and answers. */
static void test_wrong_hash_cannot_duplicate_a_time_wait_record(void **state)
{
    (void)state;
    struct fx_conn c;
    uint32_t right;
    struct harness *h = rss_conn(&c, &right);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.rcv, .ack = c.snd));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 1));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 1));
    assert_int_equal(census(h).timewait, 1);

    wrong_hash_handshake(h, right ^ 0x5a5a5a5a, c.lsd);
    struct census n = census(h);
    assert_int_equal(n.listen, 1);
    assert_int_equal(n.timewait, 1);
    assert_int_equal(n.established + n.syncache + n.other, 0);

    /* The record still holds the 4-tuple: a retransmitted FIN is ACKed. */
    h_inject_hash(h, SEG(.flags = TH_FIN | TH_ACK, .seq = c.snd, .ack = c.rcv + 1), right);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 1, .ack = c.snd + 1));
    h_expect_nothing(h);
    h_free(h);
}

/*
 * An embedder whose flow hash function changes under live entries (a NIC
 * re-keyed at run time, its software hash following): the entries can no
 * longer be found under their hash when they leave. Removal must still
 * take them out (a full scan, counted), so that nothing stale is left to
 * answer for the 4-tuple once the function is back.
 */
static uint32_t rss_xor;

static uint32_t rekeyed_rss(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                            const struct tcpc_addr *laddr, uint16_t lport)
{
    return fake_rss(ctx, faddr, fport, laddr, lport) ^ rss_xor;
}

static void test_flow_hash_changed_under_entries_leaves_nothing_stale(void **state)
{
    (void)state;
    rss_xor = 0;
    struct h_opts o = {.flow_hash = rekeyed_rss};
    struct harness *h = h_new(&o);

    /* A connection, reset while the function is changed. */
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    uint32_t old = rekeyed_rss(NULL, &h->peer, h->pport, &h->local, h->lport);
    rss_xor = 0x00ff00ff;
    h_inject_hash(h, SEG(.flags = TH_RST, .seq = c.snd), old);
    assert_int_equal(fx_so_error(h, c.sd), ECONNRESET);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);

    /* Back to the first function: the 4-tuple is free for a new connection. */
    rss_xor = 0;
    h_inject(h, SEG(.flags = TH_SYN, .seq = 5000, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 5001));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 5001, .ack = sa.th.seq + 1));
    int sd = tcpc_accept(h->stack, c.lsd, NULL, NULL);
    assert_true(sd >= 0);

    /* Its TIME_WAIT record expires while the function is changed. */
    assert_int_equal(tcpc_close(h->stack, sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK, .seq = sa.th.seq + 1, .ack = 5001));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = 5001, .ack = sa.th.seq + 2));
    h_expect(h, SEG(.flags = TH_ACK, .seq = sa.th.seq + 2, .ack = 5002));
    assert_int_equal(census(h).timewait, 1);
    rss_xor = 0x00ff00ff;
    h_advance(h, 120 * SEC);
    assert_int_equal(h_stat(h, "tcps_tw_expired"), 1);

    /* Nothing answers for the 4-tuple but the listener, which refuses an
     * ACK it has no entry for. */
    rss_xor = 0;
    h_inject(h, SEG(.flags = TH_ACK, .seq = 5002, .ack = sa.th.seq + 2));
    h_expect(h, SEG(.flags = TH_RST, .seq = sa.th.seq + 2, .len = 0));
    struct census n = census(h);
    assert_int_equal(n.listen, 1);
    assert_int_equal(n.established + n.syncache + n.timewait + n.other, 0);
    /* Both removals needed the scan. */
    assert_int_equal(h_stat(h, "tcps_remhash_stray"), 2);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss_hash_reaches_connection),
        cmocka_unit_test(test_hash_ignored_without_function),
        cmocka_unit_test(test_wrong_hash_cannot_duplicate_a_connection),
        cmocka_unit_test(test_wrong_hash_cannot_duplicate_a_time_wait_record),
        cmocka_unit_test(test_flow_hash_changed_under_entries_leaves_nothing_stale),
    };
    return cmocka_run_group_tests_name("flowhash", tests, NULL, NULL);
}
