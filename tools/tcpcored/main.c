/*
 * tcpcored: a tcpcore stack on a TUN device or an Ethernet interface
 * (AF_PACKET) serving echo, discard, source, http and forward, with a
 * control socket for tcpcore-stat.
 *
 * Start-up does every check that can fail before anything is changed, in
 * an order that gives each kind of mistake its own sentence and exit
 * status (exitcodes.h): settings, tunables and the user first, then the
 * device, the capture file, the stack, the listeners and the control
 * socket; then root is dropped and the loop runs until SIGTERM or SIGINT.
 * With -j N, each of those steps is taken for every worker (workers.c)
 * before any worker thread starts.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "config_values.h"
#include "control.h"
#include "daemon.h"
#include "exitcodes.h"
#include "privdrop.h"
#include "tcpcore/link.h"
#include "tcpcore/socket.h"
#include "tcpcore/stats.h"

static void trace_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "tcpcored: trace: %s\n", line);
}

/* The default routes: next hops on Ethernet, and on either link what
 * source-address selection compares against. */
static int set_gateways(struct dmn *d, char *why)
{
    for (unsigned i = 0; i < d->conf.ngateways; i++) {
        const struct tcpc_addr *gw = &d->conf.gateways[i];
        int err = tcpc_route_set_gateway(d->stack,
                                         tcpc_addr_is_v4(gw) ? TCPC_AF_INET : TCPC_AF_INET6, gw);
        if (err) {
            char a[TCPC_ADDRSTRLEN];
            snprintf(why, DMN_WHY_LEN, "the stack refuses gateway %s: %s",
                     tcpc_addr_format(gw, a, sizeof(a)), strerror(-err));
            return DMN_EXIT_BAD_ADDRESS;
        }
    }
    return DMN_EXIT_OK;
}

static int start_stack(struct dmn *d, struct tcpc_config *cfg, char *why)
{
    if (d->conf.trace)
        tcpc_config_set_trace(cfg, trace_line, d);
    d->started = tcpc_tun_now();
    int err = tcpc_stack_new(cfg, d->started, &d->stack);
    if (err) {
        snprintf(why, DMN_WHY_LEN, "cannot create the stack: %s%s", strerror(-err),
                 err == -EINVAL ? " (the tunables disagree with each other)" : "");
        return err == -EINVAL ? DMN_EXIT_BAD_TUNABLE : DMN_EXIT_RUNTIME;
    }
    dmn_device_attach(d);
    int rc = set_gateways(d, why);
    if (rc)
        return rc;
    if (dmn_tasks_init(d) < 0) {
        snprintf(why, DMN_WHY_LEN, "no memory for the socket table");
        return DMN_EXIT_RUNTIME;
    }
    return DMN_EXIT_OK;
}

static void print_ready(const struct dmn *d)
{
    char a[TCPC_ADDRSTRLEN];
    printf("tcpcored: ready on %s (%s, MTU %u", d->conf.device, dmn_device_backend(d), d->conf.mtu);
    if (d->host->n > 1)
        printf(", %u workers", d->host->n);
    printf("):");
    for (unsigned i = 0; i < d->conf.naddrs; i++)
        printf(" %s/%u", tcpc_addr_format(&d->conf.addrs[i].addr, a, sizeof(a)),
               d->conf.addrs[i].len);
    printf("; services");
    for (unsigned i = 0; i < d->conf.nservices; i++)
        printf(" %s:%u", dmn_service_name(d->conf.services[i].kind), d->conf.services[i].port);
    printf("; control %s; user %s\n", d->conf.control, d->conf.user);
    fflush(stdout);
}

/* What a shutdown leaves behind: the counters that moved, summed over
 * the workers. */
static void print_counters(const struct dmn_host *h)
{
    uint64_t accepted = 0;
    for (unsigned w = 0; w < h->n; w++)
        accepted += h->w[w]->accepted;
    printf("tcpcored: stopped after %" PRIu64 " connections; counters:\n", accepted);
    for (unsigned i = 0; i < TCPC_STAT_COUNT; i++) {
        uint64_t v = 0;
        for (unsigned w = 0; w < h->n; w++)
            v += tcpc_stat_value(tcpc_stack_stats(h->w[w]->stack), i);
        if (v)
            printf("  %-28s %" PRIu64 "\n", tcpc_stat_name(i), v);
    }
    struct dmn_dev_counters dc = {0};
    for (unsigned w = 0; w < h->n; w++) {
        struct dmn_dev_counters one;
        dmn_device_counters(h->w[w], &one);
        dc.rx_packets += one.rx_packets;
        dc.rx_dropped += one.rx_dropped;
        dc.tx_packets += one.tx_packets;
        dc.tx_dropped += one.tx_dropped;
    }
    printf("  device rx %" PRIu64 " packets, rx dropped %" PRIu64 ", tx %" PRIu64
           " packets, tx dropped %" PRIu64 "\n",
           dc.rx_packets, dc.rx_dropped, dc.tx_packets, dc.tx_dropped);
    fflush(stdout);
}

/* The devices, the stacks, the listeners and the loops of every worker;
 * an exit status. */
static int start_workers(struct dmn_host *h, struct tcpc_config **cfgs, char *why)
{
    int rc = dmn_devices_open(h, cfgs, why);
    for (unsigned i = 0; i < h->n && !rc; i++)
        rc = start_stack(h->w[i], cfgs[i], why);
    if (!rc)
        rc = workers_open_listeners(h, why);
    for (unsigned i = 0; i < h->n && !rc; i++)
        if (dmn_loop_init(h->w[i], why) < 0)
            rc = DMN_EXIT_RUNTIME;
    return rc;
}

/* Everything up to the loop; an exit status. */
static int start(struct dmn_host *h, struct tcpc_config **cfgs, char *why)
{
    struct dmn *d = h->w[0];
    struct dmn_user u;
    int rc = DMN_EXIT_OK;
    for (unsigned i = 0; i < h->n && !rc; i++)
        rc = dmn_worker_config(h, i, cfgs[i], why);
    if (!rc)
        rc = dmn_user_lookup(d->conf.user, &u, why);
    if (!rc)
        rc = start_workers(h, cfgs, why);
    if (!rc)
        rc = dmn_control_open(d, u.uid, u.gid, why);
    if (rc)
        return rc;
    dmn_device_wait_running(d);
    return dmn_drop_privileges(&u, d->conf.user, why);
}

static void cleanup(struct dmn *d)
{
    dmn_control_close(d);
    dmn_listeners_close(d);
    dmn_free_released(d);
    dmn_loop_free(d);
    tcpc_stack_del(d->stack);
    dmn_tasks_free(d);
    dmn_device_close(d);
    tcpc_pcap_close(d->pcap);
}

/* Configurations for the workers: NULL-filled when out of memory. */
static int new_configs(unsigned n, struct tcpc_config **cfgs, char *why)
{
    for (unsigned i = 0; i < n; i++) {
        if (tcpc_config_new(&cfgs[i]) != 0) {
            snprintf(why, DMN_WHY_LEN, "out of memory");
            return DMN_EXIT_RUNTIME;
        }
    }
    return DMN_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct dmn *d = calloc(1, sizeof(*d));
    if (!d) {
        fprintf(stderr, "tcpcored: out of memory\n");
        return DMN_EXIT_RUNTIME;
    }
    d->epfd = d->timerfd = d->sigfd = -1;
    d->tun.fd = d->afp.fd = -1;
    char why[DMN_WHY_LEN] = "";
    bool help;
    dmn_config_defaults(&d->conf);
    int rc = dmn_config_parse(&d->conf, argc, argv, &help, why);
    if (help) {
        dmn_config_usage(stdout);
        free(d);
        return DMN_EXIT_OK;
    }
    static struct dmn_host host;
    struct tcpc_config *cfgs[DMN_MAX_JOBS] = {NULL};
    if (!rc)
        rc = dmn_workers_new(&host, d, why);
    if (!rc)
        rc = new_configs(host.n, cfgs, why);
    if (!rc)
        rc = start(&host, cfgs, why);
    for (unsigned i = 0; i < host.n; i++)
        tcpc_config_del(cfgs[i]); /* the stacks have their own copies */
    if (rc) {
        fprintf(stderr, "tcpcored: %s\n", why);
    } else {
        print_ready(d);
        rc = dmn_workers_run(&host);
        for (unsigned i = 0; i < host.n; i++)
            dmn_device_sync(host.w[i]);
        print_counters(&host);
    }
    for (unsigned i = host.n; i-- > 0;)
        if (host.w[i])
            cleanup(host.w[i]);
    dmn_workers_free(&host);
    free(d);
    return rc;
}
