/*
 * Connection groups (tcpcore/group.h, docs/groups.md): several stacks that
 * are one host. Here every member runs in the test's thread, driven in
 * turn, each on its own in-memory link with the test as the peer; the
 * same peer talks to whichever member its packets would be spread to.
 * test_group_threads runs members on real threads.
 *
 * The members are given different seeds, so whatever they agree on comes
 * from the group, not from equal randomness; the controls show that the
 * same stacks outside a group disagree.
 */
#include "test_tcp_fixture.h"

#include <errno.h>

#include "core/group.h"
#include "core/stack.h"
#include "tcp/timewait.h"

/* Member index of g (NULL: a stack in no group) with seed index + 1 and
 * sysctls. */
static struct harness *member(struct tcpc_group *g, unsigned index, const char **sysctls)
{
    struct h_opts o = {
        .group = g, .group_index = index, .seed = (uint8_t)(index + 1), .sysctls = sysctls};
    return h_new(&o);
}

static struct tcpc_group *group(unsigned n)
{
    struct tcpc_group *g = NULL;
    assert_int_equal(tcpc_group_new(n, &g), 0);
    assert_non_null(g);
    return g;
}

/* --- the group object ---------------------------------------------------- */

static void test_sizes_and_indexes_checked(void **state)
{
    (void)state;
    struct tcpc_group *g = NULL;
    assert_int_equal(tcpc_group_new(0, &g), -EINVAL);
    assert_int_equal(tcpc_group_new(TCPC_GROUP_MAX + 1, &g), -EINVAL);
    assert_null(g);
    g = group(2);
    assert_int_equal(tcpc_group_size(g), 2);
    struct tcpc_config *cfg;
    assert_int_equal(tcpc_config_new(&cfg), 0);
    assert_int_equal(tcpc_config_set_group(cfg, g, 2), -EINVAL);
    assert_int_equal(tcpc_config_set_group(cfg, g, 1), 0);
    assert_int_equal(tcpc_config_set_group(cfg, NULL, 5), 0);
    tcpc_config_del(cfg);
    tcpc_group_del(g);
    tcpc_group_del(NULL);
}

/* A member index is one live stack's; it is free again once that stack is
 * gone. A stack in no group says so. */
static void test_index_taken_once(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 1, NULL);
    assert_int_equal(tcpc_stack_group_index(a->stack), 1);
    struct tcpc_config cfg = a->stack->cfg;
    cfg.nlocal_addrs = 1;
    cfg.local_addrs[0] = a->local;
    struct tcpc_stack *s = NULL;
    assert_int_equal(tcpc_stack_new(&cfg, a->now, &s), -EBUSY);
    assert_null(s);
    h_free(a);
    assert_int_equal(tcpc_stack_new(&cfg, 1 * SEC, &s), 0);
    assert_int_equal(tcpc_stack_group_index(s), 1);
    tcpc_stack_del(s);
    struct harness *alone = member(NULL, 0, NULL);
    assert_int_equal(tcpc_stack_group_index(alone->stack), -ENOENT);
    h_free(alone);
    tcpc_group_del(g);
}

/* The members hold the group: the creator may let go first (ASan sees any
 * use after the last one leaves). */
static void test_members_outlive_creator(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, NULL), *b = member(g, 1, NULL);
    tcpc_group_del(g);
    h_listen(a);
    h_advance(a, 1 * SEC);
    h_free(a);
    h_advance(b, 1 * SEC);
    h_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_indexes_checked),
        cmocka_unit_test(test_index_taken_once),
        cmocka_unit_test(test_members_outlive_creator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
