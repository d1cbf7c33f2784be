/*
 * Tests for util/timer: the firing contract (never early, non-decreasing
 * deadlines, FIFO among equal deadlines), cancel and re-arm, cascading from
 * every level and the overflow list exactly on time, index wrap-around at
 * level and span boundaries, and the next_deadline bound, checked against a
 * brute-force reference driven by a seeded PRNG.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "util/container.h"
#include "util/timer.h"

#define TICK 1000u /* us */

/* splitmix64: tiny, seedable, good enough to scatter deadlines. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
    return n ? rng_next(s) % n : 0;
}

/* An owner with the timer deliberately not first, to exercise container_of. */
struct owner {
    uint32_t id;
    uint64_t armed_order; /* reference FIFO key */
    struct timer timer;
    tcpc_time_t deadline;
    int armed;
};

static struct owner *owner_of(struct timer *t)
{
    return t ? container_of(t, struct owner, timer) : NULL;
}

static struct timer_wheel *new_wheel(tcpc_time_t now, tcpc_time_t tick)
{
    struct timer_wheel *w = malloc(sizeof(*w));
    assert_non_null(w);
    timer_wheel_init(w, now, tick);
    return w;
}

static void owners_init(struct owner *o, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        o[i] = (struct owner){.id = (uint32_t)i};
        timer_init(&o[i].timer);
    }
}

/* Pops what is due at now, expecting exactly the owners in `ids`, in order. */
static void expect_fire(struct timer_wheel *w, tcpc_time_t now, const uint32_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct owner *o = owner_of(timer_wheel_expire(w, now));
        assert_non_null(o);
        assert_int_equal(o->id, ids[i]);
        assert_true(o->timer.deadline <= now);
        assert_false(timer_armed(&o->timer));
    }
    assert_null(timer_wheel_expire(w, now));
}

static void test_layout(void **state)
{
    (void)state;
    assert_true(sizeof(struct timer) <= 32);
    struct owner o;
    assert_ptr_equal(container_of(&o.timer, struct owner, timer), &o);
}

static void test_basic_fire_on_time(void **state)
{
    (void)state;
    struct timer_wheel *w = new_wheel(5000, TICK);
    struct owner o[1];
    owners_init(o, 1);
    assert_int_equal(timer_wheel_next_deadline(w), TCPC_TIME_NEVER);
    assert_null(timer_wheel_expire(w, 5000));

    timer_arm(w, &o[0].timer, 17345);
    assert_true(timer_armed(&o[0].timer));
    assert_int_equal(timer_wheel_count(w), 1);
    assert_int_equal(timer_deadline(&o[0].timer), 17345);
    tcpc_time_t nd = timer_wheel_next_deadline(w);
    assert_true(nd <= 17345 && nd + TICK > 17345);

    assert_null(timer_wheel_expire(w, 17344));
    assert_int_equal(timer_wheel_next_deadline(w), 17345); /* now exact */
    expect_fire(w, 17345, (uint32_t[]){0}, 1);
    assert_int_equal(timer_wheel_count(w), 0);
    assert_int_equal(timer_wheel_next_deadline(w), TCPC_TIME_NEVER);
    free(w);
}

static void test_tick_boundaries(void **state)
{
    (void)state;
    struct timer_wheel *w = new_wheel(0, TICK);
    struct owner o[4];
    owners_init(o, 4);
    timer_arm(w, &o[0].timer, 3 * TICK);
    timer_arm(w, &o[1].timer, 3 * TICK - 1);
    timer_arm(w, &o[2].timer, 4 * TICK);
    timer_arm(w, &o[3].timer, 256 * TICK); /* first tick of the next level-0 block */

    /* Exact: arming keeps the earliest deadline (after an expire it is the
     * start of the earliest slot again, below). */
    assert_int_equal(timer_wheel_next_deadline(w), 3 * TICK - 1);
    assert_null(timer_wheel_expire(w, 2 * TICK));
    assert_int_equal(timer_wheel_next_deadline(w), 3 * TICK - 1);
    timer_cancel(w, &o[1].timer); /* the earliest goes: the answer follows */
    assert_int_equal(timer_wheel_next_deadline(w), 3 * TICK);
    timer_arm(w, &o[1].timer, 3 * TICK - 1);
    assert_null(timer_wheel_expire(w, 3 * TICK - 2));
    assert_int_equal(timer_wheel_next_deadline(w), 3 * TICK - 1);
    expect_fire(w, 3 * TICK - 1, (uint32_t[]){1}, 1);
    assert_int_equal(timer_wheel_next_deadline(w), 3 * TICK);
    expect_fire(w, 3 * TICK, (uint32_t[]){0}, 1);
    assert_int_equal(timer_wheel_next_deadline(w), 4 * TICK);
    expect_fire(w, 4 * TICK - 1, NULL, 0);
    expect_fire(w, 4 * TICK, (uint32_t[]){2}, 1);
    assert_true(timer_wheel_next_deadline(w) <= 256 * TICK);
    expect_fire(w, 256 * TICK - 1, NULL, 0);
    assert_int_equal(timer_wheel_next_deadline(w), 256 * TICK);
    expect_fire(w, 256 * TICK, (uint32_t[]){3}, 1);
    free(w);
}

static void test_cancel(void **state)
{
    (void)state;
    struct timer_wheel *w = new_wheel(0, TICK);
    struct owner o[4];
    owners_init(o, 4);

    /* Middle of a slot: the neighbours keep their order. */
    timer_arm(w, &o[0].timer, 10 * TICK + 1);
    timer_arm(w, &o[1].timer, 10 * TICK + 2);
    timer_arm(w, &o[2].timer, 10 * TICK + 3);
    timer_cancel(w, &o[1].timer);
    assert_false(timer_armed(&o[1].timer));
    assert_int_equal(timer_wheel_count(w), 2);
    timer_cancel(w, &o[1].timer); /* unarmed: no-op */
    assert_int_equal(timer_wheel_count(w), 2);
    expect_fire(w, 11 * TICK, (uint32_t[]){0, 2}, 2);

    /* The only timer, on an upper level: the wheel is empty again. */
    timer_arm(w, &o[3].timer, 100000 * TICK);
    assert_true(timer_wheel_next_deadline(w) <= 100000 * TICK);
    timer_cancel(w, &o[3].timer);
    assert_int_equal(timer_wheel_count(w), 0);
    assert_int_equal(timer_wheel_next_deadline(w), TCPC_TIME_NEVER);
    expect_fire(w, 200000 * TICK, NULL, 0);

    /* Already fired: cancel changes nothing. */
    timer_arm(w, &o[0].timer, 200001 * TICK);
    timer_arm(w, &o[1].timer, 200002 * TICK);
    expect_fire(w, 200001 * TICK, (uint32_t[]){0}, 1);
    timer_cancel(w, &o[0].timer);
    assert_int_equal(timer_wheel_count(w), 1);
    expect_fire(w, 200002 * TICK, (uint32_t[]){1}, 1);

    /* Cancel a due timer that has not been popped yet. */
    timer_arm(w, &o[0].timer, 200003 * TICK);
    timer_arm(w, &o[1].timer, 200003 * TICK);
    assert_non_null(timer_wheel_expire(w, 200003 * TICK));
    timer_cancel(w, &o[1].timer);
    expect_fire(w, 200004 * TICK, NULL, 0);
    assert_int_equal(timer_wheel_count(w), 0);

    /* Arming at TCPC_TIME_NEVER is cancelling. */
    timer_arm(w, &o[2].timer, 300000 * TICK);
    timer_arm(w, &o[2].timer, TCPC_TIME_NEVER);
    assert_false(timer_armed(&o[2].timer));
    assert_int_equal(timer_wheel_count(w), 0);
    free(w);
}

static void test_rearm(void **state)
{
    (void)state;
    struct timer_wheel *w = new_wheel(0, TICK);
    struct owner o[3];
    owners_init(o, 3);
    timer_arm(w, &o[0].timer, 50 * TICK);
    timer_arm(w, &o[1].timer, 60 * TICK);
    timer_arm(w, &o[2].timer, 5000 * TICK);

    timer_arm(w, &o[2].timer, 40 * TICK);   /* earlier, from level 1 to level 0 */
    timer_arm(w, &o[0].timer, 9000 * TICK); /* later, from level 0 to level 1 */
    assert_int_equal(timer_wheel_count(w), 3);
    assert_int_equal(timer_wheel_next_deadline(w), 40 * TICK);
    expect_fire(w, 60 * TICK, (uint32_t[]){2, 1}, 2);
    expect_fire(w, 9000 * TICK - 1, NULL, 0);

    /* Re-arm the popped timer from inside the expiry loop. */
    expect_fire(w, 9000 * TICK, (uint32_t[]){0}, 1);
    timer_arm(w, &o[0].timer, 9000 * TICK + 7);
    expect_fire(w, 9000 * TICK + 6, NULL, 0);
    expect_fire(w, 9000 * TICK + 7, (uint32_t[]){0}, 1);

    /* Re-arming to the same deadline moves it behind its equals. */
    timer_arm(w, &o[0].timer, 10000 * TICK);
    timer_arm(w, &o[1].timer, 10000 * TICK);
    timer_arm(w, &o[0].timer, 10000 * TICK);
    expect_fire(w, 10000 * TICK, (uint32_t[]){1, 0}, 2);
    free(w);
}

/* Equal deadlines fire in arming order, including when some of them came
 * down from upper levels (cascaded) and others were armed directly into the
 * lowest level later. */
static void test_fifo_equal_deadlines(void **state)
{
    (void)state;
    enum { N = 64 };
    struct timer_wheel *w = new_wheel(0, TICK);
    struct owner o[N];
    owners_init(o, N);
    const tcpc_time_t d = 70000 * TICK + 123; /* level 2 at first */
    uint32_t order[N];
    uint64_t rng = 7;
    for (uint32_t i = 0; i < N; i++)
        order[i] = i;
    for (uint32_t i = N - 1; i > 0; i--) {
        uint32_t j = (uint32_t)rng_below(&rng, i + 1);
        uint32_t tmp = order[i];
        order[i] = order[j];
        order[j] = tmp;
    }
    /* Arm in four waves as time approaches d (tick 0x11170), so the timers
     * are filed on levels 2, 1 and 0 before they meet in one slot. */
    const tcpc_time_t when[4] = {0, d - 4000 * TICK, d - 100 * TICK, d - 1};
    for (int wave = 0; wave < 4; wave++) {
        expect_fire(w, when[wave], NULL, 0);
        for (int k = 0; k < N / 4; k++)
            timer_arm(w, &o[order[wave * (N / 4) + k]].timer, d);
    }
    expect_fire(w, d - 1, NULL, 0);
    expect_fire(w, d, order, N);
    free(w);
}

/* Each level and the overflow list hand their timers down exactly on time. */
static void test_cascade_on_time(void **state)
{
    (void)state;
    const tcpc_time_t far[] = {
        255 * TICK,
        300 * TICK + 1,
        65536 * TICK,
        65537 * TICK - 1,
        (1u << 24) * TICK,
        ((1u << 24) + 5) * TICK,
        (UINT64_C(1) << 32) * TICK,
        ((UINT64_C(1) << 32) + 1) * TICK + 999,
        (UINT64_C(1) << 40) * TICK,
    };
    for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
        struct timer_wheel *w = new_wheel(0, TICK);
        struct owner o[1];
        owners_init(o, 1);
        timer_arm(w, &o[0].timer, far[i]);
        assert_true(timer_wheel_next_deadline(w) <= far[i]);
        /* Walk by next_deadline: each wakeup may be early, never late. */
        tcpc_time_t now = 0;
        for (int hops = 0; hops < 2000 && now < far[i] - 1; hops++) {
            tcpc_time_t nd = timer_wheel_next_deadline(w);
            assert_true(nd <= far[i]);
            now = nd < far[i] - 1 ? (nd > now ? nd : now) : far[i] - 1;
            expect_fire(w, now, NULL, 0);
        }
        assert_int_equal(now, far[i] - 1);
        assert_int_equal(timer_wheel_next_deadline(w), far[i]);
        expect_fire(w, far[i], (uint32_t[]){0}, 1);
        free(w);
    }
}

/* Timers armed when cur sits at the end of a level-0 block, at the end of
 * the whole 2^32-tick span, and with the wheel started at large times. */
static void run_wrap_case(tcpc_time_t start, tcpc_time_t tick)
{
    enum { N = 40 };
    struct timer_wheel *w = new_wheel(start, tick);
    struct owner o[N];
    owners_init(o, N);
    uint32_t ids[N];
    /* Arm in reverse so arming order differs from deadline order. */
    for (uint32_t i = 0; i < N; i++) {
        uint32_t k = N - 1 - i;
        timer_arm(w, &o[k].timer, start + (tcpc_time_t)k * tick + tick / 2);
        ids[i] = i;
    }
    tcpc_time_t now = start;
    uint32_t fired = 0;
    while (fired < N) {
        tcpc_time_t nd = timer_wheel_next_deadline(w);
        assert_true(nd <= o[fired].timer.deadline);
        now = nd > now ? nd : now;
        struct owner *got = owner_of(timer_wheel_expire(w, now));
        if (got == NULL) {
            assert_true(now < o[fired].timer.deadline);
            continue;
        }
        assert_int_equal(got->id, ids[fired]);
        assert_int_equal(got->timer.deadline, now); /* exactly on time */
        fired++;
    }
    assert_int_equal(timer_wheel_count(w), 0);
    free(w);
}

static void test_wrap(void **state)
{
    (void)state;
    run_wrap_case(250 * TICK, TICK);                             /* level-0 index wraps */
    run_wrap_case((65536 - 10) * TICK, TICK);                    /* levels 0 and 1 wrap */
    run_wrap_case(UINT64_C(1) << 40, TICK);                      /* large start */
    run_wrap_case((UINT64_C(1) << 40) + 255 * TICK, TICK);       /* large and near a wrap */
    run_wrap_case(((UINT64_C(1) << 32) - 3) * TICK, TICK);       /* the whole span wraps */
    run_wrap_case(((UINT64_C(1) << 32) - 3) * TICK + 999, TICK); /* mid-tick start */
    run_wrap_case(((UINT64_C(3) << 32) - 20) * TICK, TICK);      /* a later span */
    run_wrap_case(((UINT64_C(1) << 32) - 3), 1);                 /* 1 us ticks */
}

static void test_far_beyond_span(void **state)
{
    (void)state;
    struct timer_wheel *w = new_wheel(12345, TICK);
    struct owner o[3];
    owners_init(o, 3);
    const tcpc_time_t span = (UINT64_C(1) << 32) * TICK;
    timer_arm(w, &o[0].timer, 12345 + 3 * span);
    timer_arm(w, &o[1].timer, 12345 + span + 1);
    timer_arm(w, &o[2].timer, 12345 + 5 * TICK);
    assert_true(timer_wheel_next_deadline(w) <= 12345 + 5 * TICK);
    expect_fire(w, 12345 + 5 * TICK, (uint32_t[]){2}, 1);
    expect_fire(w, 12345 + span, NULL, 0);
    expect_fire(w, 12345 + span + 1, (uint32_t[]){1}, 1);
    expect_fire(w, 12345 + 3 * span - 1, NULL, 0);
    expect_fire(w, 12345 + 3 * span, (uint32_t[]){0}, 1);
    free(w);
}

static void test_past_deadlines(void **state)
{
    (void)state;
    struct timer_wheel *w = new_wheel(0, TICK);
    struct owner o[4];
    owners_init(o, 4);
    expect_fire(w, 100 * TICK + 500, NULL, 0);
    timer_arm(w, &o[0].timer, 100 * TICK + 600); /* due later this tick */
    timer_arm(w, &o[1].timer, 50 * TICK);        /* long past */
    timer_arm(w, &o[2].timer, 100 * TICK + 500); /* exactly now */
    timer_arm(w, &o[3].timer, 0);
    assert_int_equal(timer_wheel_next_deadline(w), 0);
    expect_fire(w, 100 * TICK + 500, (uint32_t[]){3, 1, 2}, 3);
    assert_int_equal(timer_wheel_next_deadline(w), 100 * TICK + 600);
    expect_fire(w, 100 * TICK + 600, (uint32_t[]){0}, 1);

    /* Past deadline on a fresh wheel, before any expire. */
    struct timer_wheel *w2 = new_wheel(1000 * TICK, TICK);
    timer_arm(w2, &o[0].timer, 3);
    timer_arm(w2, &o[1].timer, 1000 * TICK - 1);
    assert_true(timer_wheel_next_deadline(w2) <= 3);
    expect_fire(w2, 1000 * TICK, (uint32_t[]){0, 1}, 2);
    free(w);
    free(w2);
}

/* --- randomized comparison against a brute-force reference --- */

struct model {
    struct timer_wheel *w;
    struct owner *o;
    size_t n;
    uint64_t arms; /* reference arm counter */
    tcpc_time_t now;
    uint64_t rng;
};

/* The reference's next timer: least (deadline, arm order) among the armed. */
static struct owner *model_min(const struct model *m)
{
    struct owner *best = NULL;
    for (size_t i = 0; i < m->n; i++) {
        struct owner *o = &m->o[i];
        if (!o->armed)
            continue;
        if (!best || o->deadline < best->deadline ||
            (o->deadline == best->deadline && o->armed_order < best->armed_order))
            best = o;
    }
    return best;
}

static void model_check(const struct model *m)
{
    size_t armed = 0;
    for (size_t i = 0; i < m->n; i++) {
        armed += m->o[i].armed;
        assert_int_equal(timer_armed(&m->o[i].timer), m->o[i].armed);
    }
    assert_int_equal(timer_wheel_count(m->w), armed);
    struct owner *min = model_min(m);
    tcpc_time_t nd = timer_wheel_next_deadline(m->w);
    if (!min)
        assert_int_equal(nd, TCPC_TIME_NEVER);
    else
        assert_true(nd <= min->deadline);
}

static tcpc_time_t model_deadline(struct model *m)
{
    uint64_t r = rng_below(&m->rng, 100);
    if (r < 5) /* past */
        return m->now - rng_below(&m->rng, m->now < 5000 * TICK ? m->now + 1 : 5000 * TICK);
    if (r < 15) /* shared deadlines, tick-aligned */
        return (m->now / (16 * TICK) + 1 + rng_below(&m->rng, 4)) * 16 * TICK;
    if (r < 60) /* near: level 0 */
        return m->now + rng_below(&m->rng, 300 * TICK);
    if (r < 85) /* level 1 */
        return m->now + rng_below(&m->rng, 70000 * TICK);
    if (r < 97) /* levels 2 and 3 */
        return m->now + rng_below(&m->rng, UINT64_C(1) << (26 + rng_below(&m->rng, 7))) * TICK;
    return m->now + rng_below(&m->rng, UINT64_C(1) << 35) * TICK; /* beyond the span */
}

static void model_arm(struct model *m, struct owner *o)
{
    o->deadline = model_deadline(m);
    o->armed = 1;
    o->armed_order = m->arms++;
    timer_arm(m->w, &o->timer, o->deadline);
}

/* Pops everything due at the model's now, checking each against the
 * reference; sometimes re-arms the popped timer from inside the loop. */
static void model_expire(struct model *m)
{
    for (;;) {
        struct owner *want = model_min(m);
        struct owner *got = owner_of(timer_wheel_expire(m->w, m->now));
        if (!want || want->deadline > m->now) {
            assert_null(got);
            return;
        }
        assert_ptr_equal(got, want);
        got->armed = 0;
        if (rng_below(&m->rng, 8) == 0)
            model_arm(m, got);
        model_check(m);
    }
}

static void model_step(struct model *m)
{
    uint64_t r = rng_below(&m->rng, 100);
    struct owner *o = &m->o[rng_below(&m->rng, m->n)];
    if (r < 45) {
        model_arm(m, o);
    } else if (r < 60) {
        timer_cancel(m->w, &o->timer);
        o->armed = 0;
    } else {
        uint64_t j = rng_below(&m->rng, 100);
        if (j < 40) {
            tcpc_time_t nd = timer_wheel_next_deadline(m->w);
            if (nd != TCPC_TIME_NEVER && nd > m->now)
                m->now = nd;
        } else if (j < 90) {
            m->now += rng_below(&m->rng, 3 * TICK);
        } else if (j < 98) {
            m->now += rng_below(&m->rng, 100000 * TICK);
        } else {
            m->now += rng_below(&m->rng, UINT64_C(1) << 34) * TICK;
        }
        model_expire(m);
    }
    model_check(m);
}

static void run_model(uint64_t seed, tcpc_time_t start, size_t n, int steps)
{
    struct model m = {.n = n, .now = start, .rng = seed};
    m.w = new_wheel(start, TICK);
    m.o = calloc(n, sizeof(*m.o));
    assert_non_null(m.o);
    owners_init(m.o, n);
    for (int i = 0; i < steps; i++)
        model_step(&m);
    /* Drain: everything armed eventually fires, in order. */
    while (timer_wheel_count(m.w)) {
        m.now = timer_wheel_next_deadline(m.w) > m.now ? timer_wheel_next_deadline(m.w) : m.now;
        model_expire(&m);
        model_check(&m);
    }
    free(m.o);
    free(m.w);
}

static void test_random_against_reference(void **state)
{
    (void)state;
    run_model(1, 0, 200, 40000);
    run_model(2, UINT64_C(1) << 40, 200, 40000);
    run_model(3, ((UINT64_C(1) << 32) - 1000) * TICK, 100, 30000);
    run_model(4, 255 * TICK + 999, 16, 20000); /* crowded: many equal deadlines */
}

/* 100k timers: every one fires once, in order, and the number of expire
 * calls is the number of pops plus the number of wakeups. A wheel that
 * stepped tick by tick through the idle gap would not finish in time. */
static void test_many_timers(void **state)
{
    (void)state;
    enum { N = 100000 };
    struct timer_wheel *w = new_wheel(0, TICK);
    struct owner *o = calloc(N, sizeof(*o));
    assert_non_null(o);
    owners_init(o, N);
    uint64_t rng = 99;
    for (uint32_t i = 0; i < N; i++) {
        tcpc_time_t d = rng_below(&rng, 10) == 0 ? 5 * TCPC_USEC_PER_SEC /* a crowd */
                                                 : rng_below(&rng, 600 * TCPC_USEC_PER_SEC);
        timer_arm(w, &o[i].timer, d);
    }
    assert_int_equal(timer_wheel_count(w), N);
    tcpc_time_t now = 0, last = 0;
    size_t fired = 0, wakeups = 0;
    while (timer_wheel_count(w)) {
        tcpc_time_t nd = timer_wheel_next_deadline(w);
        now = nd > now ? nd : now;
        wakeups++;
        struct timer *t;
        while ((t = timer_wheel_expire(w, now)) != NULL) {
            assert_true(t->deadline >= last && t->deadline <= now);
            last = t->deadline;
            fired++;
        }
    }
    assert_int_equal(fired, N);
    /* A wakeup is a deadline, the start of its tick (at most one early
     * wakeup per tick) or a cascade point. */
    assert_true(wakeups <= 2 * N + 600000 / 256 + 16);

    /* One timer after a 2^31-tick idle gap: must be a few scans, not 2^31. */
    timer_arm(w, &o[0].timer, now + (UINT64_C(1) << 31) * TICK);
    expect_fire(w, now + (UINT64_C(1) << 31) * TICK, (uint32_t[]){0}, 1);
    free(o);
    free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_basic_fire_on_time),
        cmocka_unit_test(test_tick_boundaries),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_rearm),
        cmocka_unit_test(test_fifo_equal_deadlines),
        cmocka_unit_test(test_cascade_on_time),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_far_beyond_span),
        cmocka_unit_test(test_past_deadlines),
        cmocka_unit_test(test_random_against_reference),
        cmocka_unit_test(test_many_timers),
    };
    return cmocka_run_group_tests_name("timer", tests, NULL, NULL);
}
