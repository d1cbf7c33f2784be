/*
 * util/portcount: counts per port in a table sized for the ports in use,
 * checked against a plain array of 65,536 counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>

#include "util/portcount.h"

static uint32_t next_rand(uint32_t *x)
{
    *x = *x * 1103515245u + 12345u;
    return *x >> 8;
}

/* Random increments and decrements over `nkeys` ports drawn from `ports`,
 * never more than max_keys of them counted at once; every port's count
 * agrees with the reference after every step. */
static void churn(uint32_t max_keys, const uint16_t *ports, uint32_t nports, unsigned steps)
{
    struct portcount pc;
    assert_int_equal(portcount_init(&pc, &mem_libc, max_keys), 0);
    uint32_t *ref = calloc(65536, sizeof(*ref));
    assert_non_null(ref);
    uint32_t live = 0, x = max_keys;
    for (unsigned s = 0; s < steps; s++) {
        uint16_t p = ports[next_rand(&x) % nports];
        bool up = next_rand(&x) % 3 != 0;
        if (up && (ref[p] != 0 || live < max_keys)) {
            live += ref[p] == 0;
            ref[p]++;
            portcount_inc(&pc, p);
        } else if (ref[p] != 0) {
            ref[p]--;
            live -= ref[p] == 0;
            portcount_dec(&pc, p);
        }
        assert_int_equal(portcount_get(&pc, p), ref[p]);
        if (s % 97 == 0)
            for (uint32_t i = 0; i < nports; i++)
                assert_int_equal(portcount_get(&pc, ports[i]), ref[ports[i]]);
    }
    for (uint32_t i = 0; i < nports; i++)
        assert_int_equal(portcount_get(&pc, ports[i]), ref[ports[i]]);
    portcount_free(&pc);
    free(ref);
}

/* A small table: consecutive ports and ports far apart, so that runs of
 * collisions form and are broken up by deletions in their middle. */
static void test_small_table_agrees(void **state)
{
    (void)state;
    uint16_t ports[200];
    for (unsigned i = 0; i < 100; i++) {
        ports[i] = (uint16_t)(40000 + i);
        ports[100 + i] = (uint16_t)(i * 655 + 1);
    }
    churn(8, ports, 200, 20000);
    churn(32, ports, 200, 20000);
    churn(100, ports, 200, 20000);
}

/* Keys that share one home slot in a 16-slot table pile up in a run; the
 * run survives removing its first, middle and last members. */
static void test_run_of_one_home(void **state)
{
    (void)state;
    struct portcount pc;
    assert_int_equal(portcount_init(&pc, &mem_libc, 8), 0);
    /* home is the top 4 bits of (port * 0x9e37) mod 2^16: find 6 that agree */
    uint16_t same[6];
    unsigned n = 0;
    for (uint32_t p = 1; p < 65536 && n < 6; p++)
        if ((uint16_t)(p * 0x9e37u) >> 12 == 3)
            same[n++] = (uint16_t)p;
    assert_int_equal(n, 6);
    for (unsigned i = 0; i < 6; i++)
        portcount_inc(&pc, same[i]);
    portcount_dec(&pc, same[0]);
    portcount_dec(&pc, same[3]);
    portcount_dec(&pc, same[5]);
    for (unsigned i = 0; i < 6; i++)
        assert_int_equal(portcount_get(&pc, same[i]), i == 0 || i == 3 || i == 5 ? 0 : 1);
    portcount_free(&pc);
}

/* From 32,768 keys on the table has a slot per port: every port can be
 * counted at once. */
static void test_full_size_holds_every_port(void **state)
{
    (void)state;
    struct portcount pc;
    assert_int_equal(portcount_init(&pc, &mem_libc, 1u << 20), 0);
    for (uint32_t p = 0; p < 65536; p++)
        portcount_inc(&pc, (uint16_t)p);
    portcount_inc(&pc, 80);
    for (uint32_t p = 0; p < 65536; p += 3)
        portcount_dec(&pc, (uint16_t)p);
    for (uint32_t p = 0; p < 65536; p++)
        assert_int_equal(portcount_get(&pc, (uint16_t)p), (p % 3 ? 1 : 0) + (p == 80));
    portcount_free(&pc);
    uint16_t ports[4096];
    for (unsigned i = 0; i < 4096; i++)
        ports[i] = (uint16_t)(i * 16 + 7);
    churn(40000, ports, 4096, 50000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_table_agrees),
        cmocka_unit_test(test_run_of_one_home),
        cmocka_unit_test(test_full_size_holds_every_port),
    };
    return cmocka_run_group_tests_name("portcount", tests, NULL, NULL);
}
