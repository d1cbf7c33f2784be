/*
 * The SACK option a receiver sends (RFC 2018) and D-SACK (RFC 2883),
 * segment by segment: blocks for the out-of-order islands it holds, the
 * newest first, as many as fit; a duplicate reported once as a first
 * block below the ACK or inside the block that follows it.
 *
 * Connections are opened passively with MSS 1000 and SACK-permitted, no
 * timestamps (so four blocks fit), unless a test says otherwise.
 */
#include "test_tcp_fixture.h"

static struct fx_conn open_sack(struct harness *h)
{
    return fx_passive(h, 1000, SEG(.mss = 1000, .sackperm = 1));
}

/* n bytes of data at offset off from the peer's next sequence number. */
static void inject_at(struct harness *h, const struct fx_conn *c, uint32_t off, uint32_t n)
{
    h_inject(h, SEG(.flags = TH_ACK, .seq = c->snd + off, .ack = c->rcv,
                    .data = fx_pattern(n, (char)('a' + off % 26))));
}

/* RFC 2018 3/4: an ACK after out-of-order data carries a block for each
 * island, the one holding the newest segment first; a filled hole merges
 * blocks; once everything is in order the option is gone. */
static void test_sack_blocks_after_out_of_order(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_sack(h);
    uint32_t s = c.snd;
    inject_at(h, &c, 1000, 500);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = s, .len = 0, .nsack = 1,
                    .sack = {s + 1000, s + 1500}));
    inject_at(h, &c, 2000, 500);
    h_expect(h, SEG(.flags = TH_ACK, .ack = s, .nsack = 2,
                    .sack = {s + 2000, s + 2500, s + 1000, s + 1500}));
    inject_at(h, &c, 1500, 500); /* bridges the two islands */
    h_expect(h, SEG(.flags = TH_ACK, .ack = s, .nsack = 1, .sack = {s + 1000, s + 2500}));
    inject_at(h, &c, 0, 1000);
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 2500, .nsack = 0));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sack_send_blocks"), 3);
    h_free(h);
}

/* RFC 2018 4: at most four blocks fit (three beside timestamps); the first
 * holds the newest segment and the rest repeat the most recently reported,
 * so an island that grows again moves to the front. */
static void test_sack_most_recent_first(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_sack(h);
    uint32_t s = c.snd;
    for (uint32_t i = 1; i <= 5; i++) {
        inject_at(h, &c, i * 1000, 100);
        h_flush(h);
    }
    inject_at(h, &c, 3100, 100); /* the third island grows */
    h_expect(h, SEG(.flags = TH_ACK, .ack = s, .nsack = 4,
                    .sack = {s + 3000, s + 3200, s + 5000, s + 5100, s + 4000, s + 4100, s + 2000,
                             s + 2100}));
    h_expect_nothing(h);
    h_free(h);
}

/* With timestamps the option has room for three blocks. */
static void test_sack_blocks_beside_timestamps(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1000, .sackperm = 1, .tsval = 100));
    uint32_t s = c.snd;
    for (uint32_t i = 1; i <= 4; i++) {
        h_inject(h, SEG(.flags = TH_ACK, .seq = s + i * 1000, .ack = c.rcv, .tsval = 200 + i,
                        .tsecr = 0, .data = fx_pattern(100, 'a')));
        h_flush(h);
    }
    h_inject(h, SEG(.flags = TH_ACK, .seq = s + 5000, .ack = c.rcv, .tsval = 300, .tsecr = 0,
                    .data = fx_pattern(100, 'a')));
    h_expect(h, SEG(.flags = TH_ACK, .ack = s, .opts = TOF_TS | TOF_SACK, .nsack = 3,
                    .sack = {s + 5000, s + 5100, s + 4000, s + 4100, s + 3000, s + 3100}));
    h_free(h);
}

/* RFC 2018 2: without SACK-permitted on both SYNs no block is sent. */
static void test_no_sack_unless_permitted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1000));
    inject_at(h, &c, 1000, 500);
    h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd, .opts = 0));
    h_free(h);
}

/* RFC 2883 4.1.1: a segment received twice is reported once, as a first
 * block below the cumulative ACK; the next ACK no longer carries it. */
static void test_dsack_duplicate_segment(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_sack(h);
    uint32_t s = c.snd;
    inject_at(h, &c, 0, 1000);
    inject_at(h, &c, 1000, 1000);
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 2000, .nsack = 0));
    inject_at(h, &c, 1000, 1000); /* again: a spurious retransmission */
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 2000, .nsack = 1, .sack = {s + 1000, s + 2000}));
    inject_at(h, &c, 2000, 100);
    inject_at(h, &c, 2100, 100);
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 2200, .nsack = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* RFC 2883 4.1.2 / 4.2: a duplicate of part of what is held out of order
 * is reported with the block of its island next; a partly old segment
 * reports its old part. */
static void test_dsack_inside_island_and_partial(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_sack(h);
    uint32_t s = c.snd;
    inject_at(h, &c, 2000, 1000);
    h_flush(h);
    inject_at(h, &c, 2000, 500);
    h_expect(h, SEG(.flags = TH_ACK, .ack = s, .nsack = 2,
                    .sack = {s + 2000, s + 2500, s + 2000, s + 3000}));
    inject_at(h, &c, 0, 1000);
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 1000, .nsack = 1, .sack = {s + 2000, s + 3000}));
    h_inject(h, SEG(.flags = TH_ACK, .seq = s + 500, .ack = c.rcv, .data = fx_pattern(1000, 'a')));
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 1500, .nsack = 2,
                    .sack = {s + 500, s + 1000, s + 2000, s + 3000}));
    h_expect_nothing(h);
    h_free(h);
}

/* RFC 2883 4.2, as FreeBSD reports it: a segment that fills a hole and
 * runs on into data already held has that held part reported as the
 * D-SACK block (below the new cumulative ACK), ahead of the blocks of the
 * islands still held; the next ACK no longer carries it. */
static void test_dsack_held_part_of_in_order_segment(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_sack(h);
    uint32_t s = c.snd;
    inject_at(h, &c, 1000, 500);
    inject_at(h, &c, 3000, 500);
    h_flush(h);
    inject_at(h, &c, 0, 1200); /* 1000..1200 was held */
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 1500, .nsack = 2,
                    .sack = {s + 1000, s + 1200, s + 3000, s + 3500}));
    inject_at(h, &c, 1500, 100);
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 1600, .nsack = 1, .sack = {s + 3000, s + 3500}));
    h_expect_nothing(h);
    char got[2000];
    assert_int_equal(tcpc_recv(h->stack, c.sd, got, sizeof(got)), 1600);
    h_free(h);
}

/* RFC 2883 4.2: an out-of-order segment that is partly new and partly
 * held has the held part reported first, then the island the segment now
 * belongs to, then the others most recent first. */
static void test_dsack_held_part_of_out_of_order_segment(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_sack(h);
    uint32_t s = c.snd;
    inject_at(h, &c, 2000, 1000);
    inject_at(h, &c, 4000, 500);
    h_flush(h);
    inject_at(h, &c, 1500, 1000); /* 2000..2500 was held */
    h_expect(h, SEG(.flags = TH_ACK, .ack = s, .nsack = 3,
                    .sack = {s + 2000, s + 2500, s + 1500, s + 3000, s + 4000, s + 4500}));
    inject_at(h, &c, 3500, 200); /* new only: no D-SACK block any more */
    h_expect(h, SEG(.flags = TH_ACK, .ack = s, .nsack = 3,
                    .sack = {s + 3500, s + 3700, s + 1500, s + 3000, s + 4000, s + 4500}));
    h_expect_nothing(h);
    h_free(h);
}

/* FreeBSD reports one duplicate part per segment, the first: the old part
 * below rcv_nxt when there is one, else the lowest held part, however many
 * islands the segment runs over. */
static void test_dsack_first_duplicate_part_only(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_sack(h);
    uint32_t s = c.snd;
    inject_at(h, &c, 0, 1000);
    inject_at(h, &c, 2000, 500);
    inject_at(h, &c, 3000, 500);
    inject_at(h, &c, 5000, 500);
    h_flush(h);
    /* Over two islands, past a hole: the lower island's part. */
    inject_at(h, &c, 1800, 1400);
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 1000, .nsack = 3,
                    .sack = {s + 2000, s + 2500, s + 1800, s + 3500, s + 5000, s + 5500}));
    /* Old, then new, then held: the old part alone. */
    inject_at(h, &c, 500, 1700);
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 3500, .nsack = 2,
                    .sack = {s + 500, s + 1000, s + 5000, s + 5500}));
    h_expect_nothing(h);
    h_free(h);
}

/* A D-SACK block is sent at once, as FreeBSD does: a partly old segment
 * that leaves no hole would otherwise wait for the delayed ACK, and the
 * next in-order segment would be acknowledged in its place. */
static void test_dsack_acked_at_once(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_sack(h);
    uint32_t s = c.snd;
    inject_at(h, &c, 0, 1000);
    h_advance(h, 200 * TCPC_USEC_PER_MSEC); /* the delayed ACK goes */
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 1000, .nsack = 0));
    inject_at(h, &c, 500, 1000); /* 500..1000 again, 1000..1500 new */
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 1500, .nsack = 1, .sack = {s + 500, s + 1000}));
    h_expect_nothing(h);
    h_free(h);
}

/* net.inet.tcp.sack.enable covers D-SACK as FreeBSD's does: without SACK
 * negotiated a partly held segment is acknowledged without any block. */
static void test_no_dsack_unless_permitted(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1000));
    uint32_t s = c.snd;
    inject_at(h, &c, 1000, 500);
    h_flush(h);
    inject_at(h, &c, 0, 1200);
    h_expect(h, SEG(.flags = TH_ACK, .ack = s + 1500, .opts = 0));
    h_expect_nothing(h);
    h_free(h);
}

/* Data segments carry the blocks too, and their payload gives the option
 * room up: a segment never grows past the MSS (MSS 1000 here; the option
 * takes 12 bytes). */
static void test_sack_blocks_shorten_data(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = open_sack(h);
    uint32_t s = c.snd;
    inject_at(h, &c, 1000, 500);
    h_flush(h);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(2000, 'a'), 2000), 2000);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv, .ack = s, .len = 988, .nsack = 1,
                    .sack = {s + 1000, s + 1500}));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + 988, .len = 988, .nsack = 1,
                    .sack = {s + 1000, s + 1500}));
    h_expect_nothing(h); /* Nagle holds the 24-byte rest until an ACK */
    h_inject(h, SEG(.flags = TH_ACK, .seq = s, .ack = c.rcv + 1976));
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv + 1976, .len = 24, .nsack = 1,
                    .sack = {s + 1000, s + 1500}));
    h_expect_nothing(h);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sack_blocks_after_out_of_order),
        cmocka_unit_test(test_sack_most_recent_first),
        cmocka_unit_test(test_sack_blocks_beside_timestamps),
        cmocka_unit_test(test_no_sack_unless_permitted),
        cmocka_unit_test(test_dsack_duplicate_segment),
        cmocka_unit_test(test_dsack_inside_island_and_partial),
        cmocka_unit_test(test_dsack_held_part_of_in_order_segment),
        cmocka_unit_test(test_dsack_held_part_of_out_of_order_segment),
        cmocka_unit_test(test_dsack_first_duplicate_part_only),
        cmocka_unit_test(test_dsack_acked_at_once),
        cmocka_unit_test(test_no_dsack_unless_permitted),
        cmocka_unit_test(test_sack_blocks_shorten_data),
    };
    return cmocka_run_group_tests_name("tcp_sack", tests, NULL, NULL);
}
