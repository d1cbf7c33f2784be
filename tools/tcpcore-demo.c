/*
 * tcpcore-demo: two stack instances on an in-memory link open a connection
 * through the socket API, exchange a few bytes, close, and let TIME_WAIT run
 * out, printing every segment (tcpdump-like) and the counters that moved.
 * Everything runs on a virtual clock, so the output is the same every time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memlink.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "tcpcore/stats.h"

#define DEMO_PORT 80

static void demo_die(const char *what, long err)
{
    fprintf(stderr, "tcpcore-demo: %s failed: %ld\n", what, err);
    exit(1);
}

static struct tcpc_stack *demo_stack(struct tcpc_memlink *link, int side, const char *addr)
{
    struct tcpc_config *cfg;
    if (tcpc_config_new(&cfg) != 0)
        demo_die("tcpc_config_new", -ENOMEM);
    tcpc_memlink_configure(link, side, cfg);
    struct tcpc_addr a;
    if (tcpc_addr_parse(addr, &a) != 0 || tcpc_config_add_addr(cfg, &a, 0) != 0)
        demo_die("address", 0);
    uint8_t seed[32];
    memset(seed, side + 1, sizeof(seed));
    tcpc_config_set_seed(cfg, seed); /* same run every time */
    const char *why = NULL;
    /* A short MSL keeps the demo's TIME_WAIT brief (2 x 1 s). */
    if (tcpc_config_sysctl(cfg, "net.inet.tcp.msl", 1000, &why) != 0)
        demo_die(why, 0);
    struct tcpc_stack *stack;
    int err = tcpc_stack_new(cfg, 0, &stack);
    tcpc_config_del(cfg);
    if (err)
        demo_die("tcpc_stack_new", err);
    tcpc_memlink_attach(link, side, stack);
    return stack;
}

static void demo_counters(const char *name, struct tcpc_stack *stack)
{
    const struct tcpc_stats *st = tcpc_stack_stats(stack);
    printf("\ncounters of %s that moved:\n", name);
    for (unsigned i = 0; i < TCPC_STAT_COUNT; i++) {
        uint64_t v = tcpc_stat_value(st, i);
        if (v)
            printf("  %-24s %8llu  %s\n", tcpc_stat_name(i), (unsigned long long)v,
                   tcpc_stat_desc(i));
    }
}

int main(void)
{
    struct tcpc_memlink *link = tcpc_memlink_new(1);
    if (!link)
        demo_die("tcpc_memlink_new", 0);
    tcpc_memlink_set_tap(link, tcpc_memlink_tap_print, stdout);
    tcpc_memlink_set_faults(link, 500, 0); /* 0.5 ms each way */
    struct tcpc_stack *a = demo_stack(link, 0, "198.18.0.1");
    struct tcpc_stack *b = demo_stack(link, 1, "198.18.0.2");
    struct tcpc_addr server;
    tcpc_addr_parse("198.18.0.2", &server);

    printf("A is 198.18.0.1 (client), B is 198.18.0.2 (server on port %d)\n\n", DEMO_PORT);
    int lsd = tcpc_socket(b, TCPC_AF_INET);
    long err = tcpc_bind(b, lsd, NULL, DEMO_PORT);
    if (err || (err = tcpc_listen(b, lsd, 8)))
        demo_die("listen", err);
    int csd = tcpc_socket(a, TCPC_AF_INET);
    if ((err = tcpc_connect(a, csd, &server, DEMO_PORT)) != -EINPROGRESS)
        demo_die("connect", err);
    tcpc_time_t now = tcpc_memlink_run(link, 0, 10 * TCPC_USEC_PER_SEC);

    int ssd = tcpc_accept(b, lsd, NULL, NULL);
    if (ssd < 0)
        demo_die("accept", ssd);
    const char msg[] = "hello, tcpcore";
    if ((err = tcpc_send(a, csd, msg, sizeof(msg) - 1)) != (long)sizeof(msg) - 1)
        demo_die("send", err);
    now = tcpc_memlink_run(link, now, now + TCPC_USEC_PER_SEC);

    char buf[64] = {0};
    long n = tcpc_recv(b, ssd, buf, sizeof(buf) - 1);
    if (n < 0)
        demo_die("recv", n);
    printf("\nB received %ld bytes: \"%s\"; echoing them back\n\n", n, buf);
    tcpc_send(b, ssd, buf, (size_t)n);
    now = tcpc_memlink_run(link, now, now + TCPC_USEC_PER_SEC);
    memset(buf, 0, sizeof(buf));
    n = tcpc_recv(a, csd, buf, sizeof(buf) - 1);
    printf("\nA received %ld bytes: \"%s\"; A closes first, then B\n\n", n, buf);

    tcpc_close(a, csd);
    now = tcpc_memlink_run(link, now, now + TCPC_USEC_PER_SEC);
    n = tcpc_recv(b, ssd, buf, sizeof(buf));
    printf("\nB reads %ld (end of stream) and closes\n\n", n);
    tcpc_close(b, ssd);
    now = tcpc_memlink_run(link, now, now + 10 * TCPC_USEC_PER_SEC);
    printf("\nquiet at t=%.6f s: A's TIME_WAIT has expired\n", (double)now / 1e6);

    demo_counters("A (client)", a);
    demo_counters("B (server)", b);
    tcpc_close(b, lsd);
    tcpc_stack_del(a);
    tcpc_stack_del(b);
    tcpc_memlink_del(link);
    return 0;
}
