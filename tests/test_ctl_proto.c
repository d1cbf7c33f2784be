/*
 * Unit tests for the control protocol's request parser (tools/tcpcored/
 * ctl_proto.c), the one input tcpcored takes from its control socket.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ctl_proto.h"

static int parse(const char *text)
{
    char why[256] = "";
    int rc = ctl_request_parse(text, strlen(text), why, sizeof(why));
    if (rc < 0)
        assert_true(why[0] != 0); /* every refusal says why */
    return rc;
}

static void test_valid(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"get\": [\"connections\"]}\n"), CTL_CONNECTIONS);
    assert_int_equal(parse("{\"get\":[\"counters\",\"daemon\",\"counters\"]}"),
                     CTL_COUNTERS | CTL_DAEMON);
    assert_int_equal(parse(" {\"get\": [\"tunables\"]} \r\n"), CTL_TUNABLES);
    assert_int_equal(parse("{\"get\": [\"neighbours\", \"routes\"]}"), CTL_NEIGHBOURS | CTL_ROUTES);
}

static void test_refused(void **state)
{
    (void)state;
    assert_int_equal(parse(""), -EINVAL);
    assert_int_equal(parse("connections\n"), -EINVAL);
    assert_int_equal(parse("[\"connections\"]"), -EINVAL);
    assert_int_equal(parse("{\"get\": \"connections\"}"), -EINVAL);
    assert_int_equal(parse("{\"get\": []}"), -EINVAL);
    assert_int_equal(parse("{\"get\": [\"arp\"]}"), -EINVAL);
    assert_int_equal(parse("{\"get\": [1]}"), -EINVAL);
    assert_int_equal(parse("{\"get\": [\"daemon\"], \"set\": 1}"), -EINVAL);
    assert_int_equal(parse("{}"), -EINVAL);
    assert_int_equal(parse("{\"get\": [\"daemon\"]} {}"), -EINVAL);
    assert_int_equal(parse("{\"get\": [\"daemon\"]"), -EINVAL);
    assert_int_equal(parse("{\"get\": [[[[[[\"daemon\"]]]]]]}"), -EINVAL);
}

static void test_too_long(void **state)
{
    (void)state;
    static char big[CTL_MAX_REQUEST + 2];
    memset(big, ' ', sizeof(big) - 1);
    memcpy(big, "{\"get\": [\"daemon\"]}", 19);
    assert_int_equal(parse(big), -EINVAL);
}

static void test_round_trip(void **state)
{
    (void)state;
    char buf[256];
    for (unsigned mask = 1; mask <= CTL_ALL; mask++) {
        int n = ctl_request_format(mask, buf, sizeof(buf));
        assert_true(n > 0 && buf[n - 1] == '\n');
        assert_int_equal(parse(buf), (int)mask);
    }
    assert_int_equal(ctl_request_format(CTL_ALL, buf, 8), -ENOSPC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
