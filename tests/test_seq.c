/*
 * Tests for util/seq.h: the circular order of sequence numbers and
 * timestamps, with the cases that a plain `<` gets wrong (wrap-around) and
 * the 2^31 boundary where the order flips.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/seq.h"

static void test_plain_order(void **state)
{
    (void)state;
    assert_true(SEQ_LT(1, 2));
    assert_true(SEQ_LEQ(1, 2));
    assert_false(SEQ_GT(1, 2));
    assert_false(SEQ_GEQ(1, 2));
    assert_true(SEQ_GT(2, 1));
    assert_true(SEQ_GEQ(2, 1));
}

static void test_equal(void **state)
{
    (void)state;
    const uint32_t v[] = {0, 1, 0x7fffffff, 0x80000000, 0xffffffff};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_false(SEQ_LT(v[i], v[i]));
        assert_true(SEQ_LEQ(v[i], v[i]));
        assert_false(SEQ_GT(v[i], v[i]));
        assert_true(SEQ_GEQ(v[i], v[i]));
        assert_int_equal(SEQ_MAX(v[i], v[i]), v[i]);
        assert_int_equal(SEQ_MIN(v[i], v[i]), v[i]);
    }
}

/* 0xffffffff is one step before 0, not 4 billion after it. */
static void test_wrap(void **state)
{
    (void)state;
    assert_true(SEQ_LT(0xffffffffu, 0));
    assert_true(SEQ_LEQ(0xffffffffu, 0));
    assert_true(SEQ_GT(0, 0xffffffffu));
    assert_true(SEQ_GEQ(0, 0xffffffffu));
    assert_true(SEQ_LT(0xfffffff0u, 0x10));
    assert_true(SEQ_GT(0x10, 0xfffffff0u));
    assert_int_equal(seq_diff(0, 0xffffffffu), 1);
    assert_int_equal(seq_diff(0xffffffffu, 0), -1);
}

/* Within 2^31 - 1 the order is forward; at exactly 2^31 apart both
 * directions read as "before" (documented ambiguity). */
static void test_half_space_boundary(void **state)
{
    (void)state;
    assert_true(SEQ_LT(0, 0x7fffffff));
    assert_true(SEQ_GT(0x7fffffff, 0));
    assert_true(SEQ_LT(0x7fffffff, 0x80000000u));
    assert_true(SEQ_GT(0x80000000u, 0x7fffffff));
    /* 0x80000001 is 2^31 - 1 before 0 (going forward from it reaches 0). */
    assert_true(SEQ_LT(0x80000001u, 0));
    assert_true(SEQ_GT(0, 0x80000001u));
    /* Exactly half the space apart: both are "less". */
    assert_true(SEQ_LT(0, 0x80000000u));
    assert_true(SEQ_LT(0x80000000u, 0));
    assert_int_equal(seq_diff(0x80000000u, 0), INT32_MIN);
}

static void test_max_min_across_wrap(void **state)
{
    (void)state;
    assert_int_equal(SEQ_MAX(0xffffffffu, 0), 0);
    assert_int_equal(SEQ_MAX(0, 0xffffffffu), 0);
    assert_int_equal(SEQ_MIN(0xffffffffu, 0), 0xffffffffu);
    assert_int_equal(SEQ_MIN(0, 0xffffffffu), 0xffffffffu);
    assert_int_equal(SEQ_MAX(0xfffffff0u, 5), 5);
    assert_int_equal(SEQ_MIN(0xfffffff0u, 5), 0xfffffff0u);
    assert_int_equal(seq_max(100, 200), 200);
    assert_int_equal(seq_min(100, 200), 100);
}

static void test_timestamps(void **state)
{
    (void)state;
    assert_true(TSTMP_LT(0xffffff00u, 0x100));
    assert_true(TSTMP_GT(0x100, 0xffffff00u));
    assert_true(TSTMP_GEQ(0x100, 0xffffff00u));
    assert_true(TSTMP_GEQ(7, 7));
    assert_false(TSTMP_LT(7, 7));
    assert_false(TSTMP_GT(7, 7));
    assert_true(TSTMP_LT(0x7fffffff, 0x80000000u));
    assert_false(TSTMP_GEQ(0x7fffffff, 0x80000000u));
}

/* The order is invariant under shifting both operands by any offset. */
static void test_translation_invariance(void **state)
{
    (void)state;
    const uint32_t offs[] = {0, 1, 0x7fffffff, 0x80000000u, 0xfffffffeu, 0x12345678};
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        uint32_t o = offs[i];
        assert_true(SEQ_LT(o, o + 1));
        assert_true(SEQ_LT(o, o + 0x7fffffffu));
        assert_true(SEQ_GT(o, o - 1));
        assert_true(SEQ_GT(o, o - 0x7fffffffu));
        assert_int_equal(SEQ_MAX(o, o + 10), o + 10);
        assert_int_equal(SEQ_MIN(o, o - 10), o - 10);
    }
}

/* seq_in_range: [lo, lo + len), across the wrap; an empty range holds
 * nothing. */
static void test_in_range(void **state)
{
    (void)state;
    const uint32_t los[] = {0, 1000, 0x7fffff00u, 0xffffff00u};
    for (size_t i = 0; i < sizeof(los) / sizeof(los[0]); i++) {
        uint32_t lo = los[i];
        assert_false(seq_in_range(lo - 1, lo, 4096));
        assert_true(seq_in_range(lo, lo, 4096));
        assert_true(seq_in_range(lo + 4095, lo, 4096));
        assert_false(seq_in_range(lo + 4096, lo, 4096));
        assert_false(seq_in_range(lo + 0x40000000u, lo, 4096));
        assert_false(seq_in_range(lo, lo, 0));
        assert_true(seq_in_range(lo, lo, 1));
        assert_false(seq_in_range(lo + 1, lo, 1));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_order),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_half_space_boundary),
        cmocka_unit_test(test_max_min_across_wrap),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_translation_invariance),
        cmocka_unit_test(test_in_range),
    };
    return cmocka_run_group_tests_name("seq", tests, NULL, NULL);
}
