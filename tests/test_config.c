/*
 * The opaque configuration and the ABI helpers, through the public API
 * only, as an installed program sees them: tcpc_config_new's defaults, each
 * setter's refusals, tunables set and read by name, a stack made from the
 * result, tcpc_getinfo with a caller's struct of another size, and the
 * version the library reports.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "tcpcore/socket.h"
#include "tcpcore/version.h"

static int out_null(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)pkt;
    (void)len;
    (*(int *)ctx)++;
    return 0;
}

static struct tcpc_addr addr(const char *text)
{
    struct tcpc_addr a;
    assert_int_equal(tcpc_addr_parse(text, &a), 0);
    return a;
}

static void test_defaults_need_an_output(void **state)
{
    (void)state;
    struct tcpc_config *cfg = NULL;
    assert_int_equal(tcpc_config_new(&cfg), 0);
    const char *why = NULL;
    assert_int_equal(tcpc_config_check(cfg, &why), -EINVAL);
    assert_non_null(strstr(why, "output"));
    int64_t v = 0;
    assert_int_equal(tcpc_config_sysctl_get(cfg, "net.inet.tcp.msl", &v), 0);
    assert_int_equal(v, 30000);
    assert_int_equal(tcpc_config_sysctl_get(cfg, "net.inet.tcp.nosuch", &v), -ENOENT);
    int sent = 0;
    tcpc_config_set_output(cfg, out_null, &sent);
    assert_int_equal(tcpc_config_check(cfg, NULL), 0);
    tcpc_config_del(cfg);
    tcpc_config_del(NULL);
}

static void test_setters_refuse_what_is_wrong(void **state)
{
    (void)state;
    struct tcpc_config *cfg;
    assert_int_equal(tcpc_config_new(&cfg), 0);
    assert_int_equal(tcpc_config_set_mtu(cfg, TCPC_MTU_MIN - 1), -EINVAL);
    assert_int_equal(tcpc_config_set_mtu(cfg, TCPC_MTU_MAX + 1), -EINVAL);
    assert_int_equal(tcpc_config_set_mtu(cfg, TCPC_MTU_MIN), 0);
    struct tcpc_addr v4 = addr("198.18.0.2"), v6 = addr("2001:db8::2");
    assert_int_equal(tcpc_config_add_addr(cfg, &v4, 33), -EINVAL);
    assert_int_equal(tcpc_config_add_addr(cfg, &v6, 129), -EINVAL);
    assert_int_equal(tcpc_config_add_addr(cfg, &v6, 128), 0);
    /* An IPv6 address on a 576-byte link: only the whole check can say. */
    int sent = 0;
    tcpc_config_set_output(cfg, out_null, &sent);
    const char *why = NULL;
    assert_int_equal(tcpc_config_check(cfg, &why), -EINVAL);
    assert_non_null(strstr(why, "1280"));
    assert_int_equal(tcpc_config_set_mtu(cfg, 1500), 0);
    assert_int_equal(tcpc_config_check(cfg, NULL), 0);
    for (unsigned i = 1; i < TCPC_MAX_LOCAL_ADDRS; i++) {
        struct tcpc_addr a = tcpc_addr_v4(0xc6120000u + i); /* 198.18.0.i */
        assert_int_equal(tcpc_config_add_addr(cfg, &a, 24), 0);
    }
    assert_int_equal(tcpc_config_add_addr(cfg, &v4, 24), -ENOSPC);
    struct tcpc_ether_addr group = {{0x01, 0, 0x5e, 0, 0, 1}}, zero = {{0}};
    struct tcpc_ether_addr mac = {{0x02, 0, 0, 0, 0, 2}};
    assert_int_equal(tcpc_config_set_link(cfg, TCPC_LINK_ETHER, NULL), -EINVAL);
    assert_int_equal(tcpc_config_set_link(cfg, TCPC_LINK_ETHER, &group), -EINVAL);
    assert_int_equal(tcpc_config_set_link(cfg, TCPC_LINK_ETHER, &zero), -EINVAL);
    assert_int_equal(tcpc_config_set_link(cfg, (enum tcpc_link_mode)7, &mac), -EINVAL);
    assert_int_equal(tcpc_config_set_link(cfg, TCPC_LINK_ETHER, &mac), 0);
    assert_int_equal(tcpc_config_check(cfg, NULL), 0);
    assert_int_equal(tcpc_config_set_link(cfg, TCPC_LINK_IP, NULL), 0);
    /* Tunables: refused values leave the configuration as it was. */
    assert_int_equal(tcpc_config_sysctl(cfg, "net.inet.tcp.msl", 0, &why), -EINVAL);
    assert_int_equal(tcpc_config_sysctl(cfg, "net.inet.tcp.msl", 2000, &why), 0);
    int64_t v = 0;
    assert_int_equal(tcpc_config_sysctl_get(cfg, "net.inet.tcp.msl", &v), 0);
    assert_int_equal(v, 2000);
    tcpc_config_del(cfg);
}

/* The stack takes a copy: the configuration can change or go at once. */
static void test_stack_copies_the_configuration(void **state)
{
    (void)state;
    struct tcpc_config *cfg;
    assert_int_equal(tcpc_config_new(&cfg), 0);
    int sent = 0;
    tcpc_config_set_output(cfg, out_null, &sent);
    uint8_t seed[32];
    memset(seed, 7, sizeof(seed));
    tcpc_config_set_seed(cfg, seed);
    struct tcpc_addr local = addr("198.18.0.2");
    assert_int_equal(tcpc_config_add_addr(cfg, &local, 24), 0);
    assert_int_equal(tcpc_config_sysctl(cfg, "net.inet.tcp.msl", 5000, NULL), 0);
    struct tcpc_stack *stack = NULL;
    assert_int_equal(tcpc_stack_new(cfg, 0, &stack), 0);
    assert_int_equal(tcpc_config_sysctl(cfg, "net.inet.tcp.msl", 9000, NULL), 0);
    tcpc_config_del(cfg);
    int64_t v = 0;
    assert_int_equal(tcpc_sysctl_get(stack, "net.inet.tcp.msl", &v), 0);
    assert_int_equal(v, 5000);
    assert_true(tcpc_addr_is_local(stack, &local));
    /* A connect sends its SYN through the configured output. */
    int sd = tcpc_socket(stack, TCPC_AF_INET);
    struct tcpc_addr peer = addr("198.18.0.1");
    assert_int_equal(tcpc_connect(stack, sd, &peer, 80), -EINPROGRESS);
    assert_int_equal(sent, 1);
    tcpc_stack_del(stack);
}

/* A program built with a shorter struct tcpc_info gets the fields it knows
 * and nothing written past them; one with a longer struct gets the rest
 * zeroed. */
static void test_getinfo_passes_the_callers_size(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = tcpc_socket(h->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_info full;
    assert_int_equal(tcpc_getinfo(h->stack, sd, &full), 0);
    assert_int_not_equal(full.snd_nxt, 0);

    size_t shorter = offsetof(struct tcpc_info, snd_nxt);
    unsigned char buf[sizeof(struct tcpc_info) + 16];
    memset(buf, 0xa5, sizeof(buf));
    assert_int_equal(tcpc_getinfo_sized(h->stack, sd, (struct tcpc_info *)buf, shorter), 0);
    assert_memory_equal(buf, &full, shorter);
    for (size_t i = shorter; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xa5);

    memset(buf, 0xa5, sizeof(buf));
    assert_int_equal(tcpc_getinfo_sized(h->stack, sd, (struct tcpc_info *)buf, sizeof(buf)), 0);
    assert_memory_equal(buf, &full, sizeof(full));
    for (size_t i = sizeof(full); i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0);
    assert_int_equal(tcpc_getinfo(h->stack, 999, &full), -EBADF);
    h_free(h);
}

static void test_version(void **state)
{
    (void)state;
    assert_int_equal(tcpc_version(), TCPC_VERSION);
    assert_string_equal(tcpc_version_string(), TCPC_VERSION_STRING);
    assert_int_equal(TCPC_VERSION,
                     TCPC_VERSION_AT(TCPC_VERSION_MAJOR, TCPC_VERSION_MINOR, TCPC_VERSION_PATCH));
    char text[32];
    snprintf(text, sizeof(text), "%d.%d.%d", TCPC_VERSION_MAJOR, TCPC_VERSION_MINOR,
             TCPC_VERSION_PATCH);
    assert_string_equal(text, TCPC_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_need_an_output),
        cmocka_unit_test(test_setters_refuse_what_is_wrong),
        cmocka_unit_test(test_stack_copies_the_configuration),
        cmocka_unit_test(test_getinfo_passes_the_callers_size),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
