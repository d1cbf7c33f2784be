/*
 * Tests for util/pool: exhaustion and reuse, index/pointer round trips,
 * objects not overlapping, argument checks, and that a large pool does not
 * become resident until it is used.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/pool.h"

struct rec {
    uint64_t a;
    uint32_t b;
    uint16_t c;
}; /* 16 bytes with padding: objsize is sizeof, as callers will pass */

static void test_fill_and_exhaust(void **state)
{
    (void)state;
    struct pool p;
    assert_int_equal(pool_init(&p, &mem_libc, sizeof(struct rec), 100), 0);
    assert_int_equal(pool_capacity(&p), 100);
    assert_int_equal(pool_used(&p), 0);
    uint8_t seen[100] = {0};
    for (uint32_t i = 0; i < 100; i++) {
        uint32_t idx = pool_get(&p);
        assert_true(idx < 100);
        assert_false(seen[idx]);
        seen[idx] = 1;
        struct rec *r = pool_at(&p, idx);
        assert_int_equal(r->a, 0); /* never-used objects are zero */
        *r = (struct rec){.a = idx * 3u, .b = idx, .c = (uint16_t)~idx};
    }
    assert_int_equal(pool_used(&p), 100);
    assert_int_equal(pool_get(&p), POOL_NONE);
    assert_int_equal(pool_get(&p), POOL_NONE);
    assert_int_equal(pool_used(&p), 100);
    /* No object's writes landed in another. */
    for (uint32_t i = 0; i < 100; i++) {
        struct rec *r = pool_at(&p, i);
        assert_int_equal(r->a, i * 3u);
        assert_int_equal(r->b, i);
        assert_int_equal(r->c, (uint16_t)~i);
        assert_int_equal(pool_index(&p, r), i);
        assert_true((uintptr_t)r % _Alignof(struct rec) == 0);
    }
    pool_free(&p);
}

static void test_put_and_reuse(void **state)
{
    (void)state;
    struct pool p;
    assert_int_equal(pool_init(&p, &mem_libc, 4, 8), 0); /* the minimum objsize */
    uint32_t idx[8];
    for (int i = 0; i < 8; i++)
        idx[i] = pool_get(&p);
    assert_int_equal(pool_get(&p), POOL_NONE);

    pool_put(&p, idx[3]);
    pool_put(&p, idx[6]);
    assert_int_equal(pool_used(&p), 6);
    /* LIFO: the most recently put comes back first. */
    assert_int_equal(pool_get(&p), idx[6]);
    assert_int_equal(pool_get(&p), idx[3]);
    assert_int_equal(pool_get(&p), POOL_NONE);

    /* Drain completely and refill: every index comes back exactly once. */
    for (int i = 0; i < 8; i++)
        pool_put(&p, idx[i]);
    assert_int_equal(pool_used(&p), 0);
    uint32_t mask = 0;
    for (int i = 0; i < 8; i++) {
        uint32_t got = pool_get(&p);
        assert_true(got < 8);
        assert_false(mask & (1u << got));
        mask |= 1u << got;
    }
    assert_int_equal(mask, 0xff);
    assert_int_equal(pool_get(&p), POOL_NONE);
    pool_free(&p);
}

/* Random get/put against a shadow of which indices are out. */
static void test_random_churn(void **state)
{
    (void)state;
    enum { CAP = 1000 };
    struct pool p;
    assert_int_equal(pool_init(&p, &mem_libc, sizeof(uint64_t), CAP), 0);
    static const uint64_t tag = 0x5eed0000;
    uint8_t out[CAP] = {0};
    uint32_t held[CAP], nheld = 0;
    uint64_t rng = 12345;
    for (int step = 0; step < 200000; step++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        if ((rng >> 33) % 100 < 55) {
            uint32_t idx = pool_get(&p);
            if (nheld == CAP) {
                assert_int_equal(idx, POOL_NONE);
                continue;
            }
            assert_true(idx < CAP);
            assert_false(out[idx]);
            out[idx] = 1;
            *(uint64_t *)pool_at(&p, idx) = tag | idx;
            held[nheld++] = idx;
        } else if (nheld > 0) {
            uint32_t k = (uint32_t)((rng >> 40) % nheld);
            uint32_t idx = held[k];
            assert_int_equal(*(uint64_t *)pool_at(&p, idx), tag | idx);
            held[k] = held[--nheld];
            out[idx] = 0;
            pool_put(&p, idx);
        }
        assert_int_equal(pool_used(&p), nheld);
    }
    pool_free(&p);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    struct pool p;
    assert_int_equal(pool_init(&p, &mem_libc, 3, 10), -EINVAL);
    assert_int_equal(pool_init(&p, &mem_libc, 8, 0), -EINVAL);
    assert_int_equal(pool_init(&p, &mem_libc, 8, POOL_NONE), -EINVAL);
    assert_int_equal(pool_init(&p, &mem_libc, SIZE_MAX / 2, 3), -ENOMEM);
    pool_free(&p); /* safe after a failed init */
    pool_free(&p);
}

/* Resident set size in bytes, or 0 when /proc is not available. */
static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long size = 0, resident = 0;
    int n = fscanf(f, "%lu %lu", &size, &resident);
    fclose(f);
    return n == 2 ? resident * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

/* 256 MiB of capacity: init and a few gets must not make it resident. */
static void test_lazy_residency(void **state)
{
    (void)state;
    struct pool p;
    size_t before = rss_bytes();
    if (before == 0)
        skip();
    assert_int_equal(pool_init(&p, &mem_libc, 256, 1u << 20), 0);
    for (int i = 0; i < 1000; i++)
        memset(pool_at(&p, pool_get(&p)), 0xab, 256);
    size_t after = rss_bytes();
    pool_free(&p);
    /* valgrind's calloc writes every byte it hands out, so residency
     * cannot be judged under it. */
    const char *preload = getenv("LD_PRELOAD");
    if (preload && strstr(preload, "vgpreload"))
        skip();
    assert_true(after < before + 32u * 1024 * 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_and_exhaust), cmocka_unit_test(test_put_and_reuse),
        cmocka_unit_test(test_random_churn),     cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_lazy_residency),
    };
    return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
