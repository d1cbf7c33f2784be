/*
 * The impairment relay's model (tools/impair-relay/impair.c): the delay,
 * the token bucket's exact departure times, the drop-tail queue, the
 * seeded loss and its replay, on virtual time.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "impair.h"

#define MS 1000000ull

/* Offers one packet of len bytes (its first byte tagged) at time now. */
static enum impair_verdict offer(struct impair_dir *d, size_t len, uint8_t tag, uint64_t now)
{
    uint8_t *buf = impair_slot(d);
    if (buf)
        memset(buf, tag, len);
    return impair_offer(d, len, buf != NULL, now);
}

/* The time the next packet comes out, asking at every due time. */
static uint64_t next_out(struct impair_dir *d, uint8_t *tag)
{
    uint64_t t = impair_next(d);
    size_t len;
    assert_int_not_equal(t, IMPAIR_NEVER);
    assert_null(impair_due(d, t - 1, &len)); /* not a nanosecond early */
    const uint8_t *p = impair_due(d, t, &len);
    assert_non_null(p);
    *tag = p[0];
    impair_pop(d);
    return t;
}

static void test_delay_only(void **state)
{
    (void)state;
    struct impair_dir d;
    struct impair_conf c = {.delay_ns = 10 * MS};
    assert_int_equal(impair_init(&d, &c, 16, 1, 0), 0);
    assert_int_equal(impair_next(&d), IMPAIR_NEVER);
    assert_int_equal(offer(&d, 100, 'a', 5), IMPAIR_QUEUED);
    assert_int_equal(offer(&d, 100, 'b', 7), IMPAIR_QUEUED);
    uint8_t tag;
    assert_int_equal(next_out(&d, &tag), 10 * MS + 5);
    assert_int_equal(tag, 'a');
    assert_int_equal(next_out(&d, &tag), 10 * MS + 7);
    assert_int_equal(tag, 'b');
    assert_int_equal(impair_next(&d), IMPAIR_NEVER);
    assert_int_equal(d.n.delivered, 2);
    impair_free(&d);
}

/* 1,250 bytes at 10 Mbit/s take 1 ms: a burst offered at once leaves one
 * per millisecond, the first at once (the bucket starts full), each then
 * delayed by the same 3 ms; asked late, the times are the same. */
static void test_rate_spacing(void **state)
{
    (void)state;
    struct impair_dir d;
    struct impair_conf c = {
        .delay_ns = 3 * MS, .rate_bps = 10000000, .queue_bytes = 100000, .burst_bytes = 1250};
    assert_int_equal(impair_init(&d, &c, 64, 1, 0), 0);
    for (int i = 0; i < 20; i++)
        assert_int_equal(offer(&d, 1250, (uint8_t)i, 0), IMPAIR_QUEUED);
    assert_int_equal(d.n.max_queue_bytes, 19 * 1250); /* the first left at once */
    for (int i = 0; i < 10; i++) {
        uint8_t tag;
        assert_int_equal(next_out(&d, &tag), (uint64_t)i * MS + 3 * MS);
        assert_int_equal(tag, i);
    }
    /* The rest, asked for only at 100 ms: all due, in order. */
    size_t len;
    for (int i = 10; i < 20; i++) {
        assert_int_equal(impair_next(&d), (uint64_t)i * MS + 3 * MS);
        const uint8_t *p = impair_due(&d, 100 * MS, &len);
        assert_non_null(p);
        assert_int_equal(p[0], i);
        assert_int_equal(len, 1250);
        impair_pop(&d);
    }
    assert_null(impair_due(&d, 100 * MS, &len));
    impair_free(&d);
}

/* An idle bucket fills to its burst and no further: after a long pause,
 * burst_bytes leave at once and the rest at the rate. */
static void test_burst_cap(void **state)
{
    (void)state;
    struct impair_dir d;
    struct impair_conf c = {.rate_bps = 8000000, .queue_bytes = 100000, .burst_bytes = 3000};
    assert_int_equal(impair_init(&d, &c, 64, 1, 0), 0);
    for (int i = 0; i < 4; i++) /* 1,000 bytes: 1 ms each at 8 Mbit/s */
        assert_int_equal(offer(&d, 1000, (uint8_t)i, 1000 * MS), IMPAIR_QUEUED);
    uint8_t tag;
    for (int i = 0; i < 3; i++)
        assert_int_equal(next_out(&d, &tag), 1000 * MS);
    assert_int_equal(next_out(&d, &tag), 1001 * MS);
    impair_free(&d);
}

/* Drop-tail: what would take the queue past its bytes is dropped, and
 * room comes back as the bottleneck drains it. */
static void test_queue_drop_tail(void **state)
{
    (void)state;
    struct impair_dir d;
    struct impair_conf c = {.rate_bps = 8000000, .queue_bytes = 5000, .burst_bytes = 1000};
    assert_int_equal(impair_init(&d, &c, 64, 1, 0), 0);
    /* The first leaves the queue at once, so five more fit behind it. */
    for (int i = 0; i < 6; i++)
        assert_int_equal(offer(&d, 1000, 'q', 0), IMPAIR_QUEUED);
    assert_int_equal(offer(&d, 1000, 'x', 0), IMPAIR_QUEUE_FULL);
    assert_int_equal(offer(&d, 1, 'x', 0), IMPAIR_QUEUE_FULL);
    /* At 1 ms the second has left: one more fits, not two. */
    assert_int_equal(offer(&d, 1000, 'r', 1 * MS), IMPAIR_QUEUED);
    assert_int_equal(offer(&d, 1000, 'x', 1 * MS), IMPAIR_QUEUE_FULL);
    assert_int_equal(d.n.queue_drops, 3);
    assert_int_equal(d.n.max_queue_bytes, 5000);
    impair_free(&d);
}

/* Every slot taken: the packet is read elsewhere and counted a drop. */
static void test_ring_full(void **state)
{
    (void)state;
    struct impair_dir d;
    struct impair_conf c = {.delay_ns = MS};
    assert_int_equal(impair_init(&d, &c, 4, 1, 0), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(offer(&d, 60, 'f', 0), IMPAIR_QUEUED);
    assert_null(impair_slot(&d));
    assert_int_equal(impair_offer(&d, 60, false, 0), IMPAIR_QUEUE_FULL);
    uint8_t tag;
    assert_int_equal(next_out(&d, &tag), MS);
    assert_non_null(impair_slot(&d));
    assert_int_equal(offer(&d, IMPAIR_SLOT + 1, 'b', MS), IMPAIR_TOO_BIG);
    impair_free(&d);
}

/* The loss decisions of n packets, as a bit string. */
static void fates(uint64_t seed, uint32_t ppm, int n, uint8_t *lost)
{
    struct impair_dir d;
    struct impair_conf c = {.loss_ppm = ppm};
    assert_int_equal(impair_init(&d, &c, 2, seed, 0), 0);
    size_t len;
    for (int i = 0; i < n; i++) {
        lost[i] = offer(&d, 100, 'l', (uint64_t)i) == IMPAIR_LOST;
        if (impair_due(&d, (uint64_t)i, &len))
            impair_pop(&d);
    }
    impair_free(&d);
}

static void test_loss_rate_and_replay(void **state)
{
    (void)state;
    enum { N = 100000 };
    static uint8_t a[N], b[N], other[N];
    fates(42, 10000, N, a); /* 1% */
    int lost = 0;
    for (int i = 0; i < N; i++)
        lost += a[i];
    /* 1,000 expected, standard deviation about 31. */
    assert_in_range(lost, 850, 1150);
    fates(42, 10000, N, b);
    assert_memory_equal(a, b, N);
    fates(43, 10000, N, other);
    assert_memory_not_equal(a, other, N);
    fates(42, 0, N, b);
    assert_null(memchr(b, 1, N));
    fates(42, 1000000, 1000, b);
    assert_null(memchr(b, 0, 1000));
}

/* A packet's fate does not depend on what the others were: the draw is
 * made whether or not the packet could be queued. */
static void test_loss_independent_of_queue(void **state)
{
    (void)state;
    enum { N = 2000 };
    static uint8_t ref[N];
    fates(7, 100000, N, ref);
    struct impair_dir d;
    struct impair_conf c = {
        .rate_bps = 1000000, .queue_bytes = 300, .burst_bytes = 100, .loss_ppm = 100000};
    assert_int_equal(impair_init(&d, &c, 8, 7, 0), 0);
    for (int i = 0; i < N; i++) {
        enum impair_verdict v = offer(&d, 100, 'i', 0);
        assert_true((v == IMPAIR_LOST) == (ref[i] != 0));
    }
    impair_free(&d);
}

static void test_bad_settings(void **state)
{
    (void)state;
    struct impair_dir d;
    struct impair_conf c = {.rate_bps = 1000};
    assert_int_equal(impair_init(&d, &c, 8, 1, 0), -EINVAL); /* a rate needs a burst */
    c = (struct impair_conf){.loss_ppm = 1000001};
    assert_int_equal(impair_init(&d, &c, 8, 1, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_only),
        cmocka_unit_test(test_rate_spacing),
        cmocka_unit_test(test_burst_cap),
        cmocka_unit_test(test_queue_drop_tail),
        cmocka_unit_test(test_ring_full),
        cmocka_unit_test(test_loss_rate_and_replay),
        cmocka_unit_test(test_loss_independent_of_queue),
        cmocka_unit_test(test_bad_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
