/*
 * tcpcored: a tcpcore stack on a TUN device serving echo, discard, source,
 * http and forward, with a control socket for tcpcore-stat.
 *
 * Start-up does every check that can fail before anything is changed, in
 * an order that gives each kind of mistake its own sentence and exit
 * status (exitcodes.h): settings, tunables and the user first, then the
 * device, the capture file, the stack, the listeners and the control
 * socket; then root is dropped and the loop runs until SIGTERM or SIGINT.
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
#include "tcpcore/stats.h"

static void trace_line(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "tcpcored: trace: %s\n", line);
}

/* The exit status for a failure to open the device. */
static int device_status(int err)
{
    switch (-err) {
    case EPERM:
    case EACCES:
        return DMN_EXIT_NO_PRIVILEGE;
    case EBUSY:
        return DMN_EXIT_IN_USE;
    case ENODEV:
    case EINVAL:
        return DMN_EXIT_NO_DEVICE;
    default:
        return DMN_EXIT_RUNTIME;
    }
}

static int open_device(struct dmn *d, struct tcpc_config *cfg, char *why)
{
    int fd;
    unsigned flags = TCPC_TUN_EXISTING | (d->conf.multi_queue ? TCPC_TUN_MULTI_QUEUE : 0);
    char reason[DMN_WHY_LEN - 64];
    int err = tcpc_tun_open_flags(d->conf.device, flags, &fd, reason, sizeof(reason));
    if (err) {
        snprintf(why, DMN_WHY_LEN, "%s", reason);
        return device_status(err);
    }
    tcpc_tun_init_fd(&d->tun, fd);
    tcpc_tun_configure(&d->tun, cfg);
    if (d->conf.pcap[0]) {
        err = tcpc_pcap_open(d->conf.pcap, TCPC_PCAP_RAW_IP, 0, &d->pcap, reason, sizeof(reason));
        if (err) {
            snprintf(why, DMN_WHY_LEN, "%s", reason);
            return err == -EACCES || err == -EPERM ? DMN_EXIT_NO_PRIVILEGE : DMN_EXIT_BAD_SETTING;
        }
        d->tun.tap = tcpc_pcap_tap;
        d->tun.tap_ctx = d->pcap;
    }
    return DMN_EXIT_OK;
}

static int start_stack(struct dmn *d, struct tcpc_config *cfg, char *why)
{
    if (d->conf.trace) {
        cfg->trace = trace_line;
        cfg->trace_ctx = d;
    }
    d->started = tcpc_tun_now();
    int err = tcpc_stack_new(cfg, d->started, &d->stack);
    if (err) {
        snprintf(why, DMN_WHY_LEN, "cannot create the stack: %s%s", strerror(-err),
                 err == -EINVAL ? " (the tunables disagree with each other)" : "");
        return err == -EINVAL ? DMN_EXIT_BAD_TUNABLE : DMN_EXIT_RUNTIME;
    }
    tcpc_tun_attach(&d->tun, d->stack);
    if (dmn_tasks_init(d) < 0) {
        snprintf(why, DMN_WHY_LEN, "no memory for the socket table");
        return DMN_EXIT_RUNTIME;
    }
    return DMN_EXIT_OK;
}

static void print_ready(const struct dmn *d)
{
    char a[TCPC_ADDRSTRLEN];
    printf("tcpcored: ready on %s:", d->conf.device);
    for (unsigned i = 0; i < d->conf.naddrs; i++)
        printf(" %s/%u", tcpc_addr_format(&d->conf.addrs[i].addr, a, sizeof(a)),
               d->conf.addrs[i].len);
    printf("; services");
    for (unsigned i = 0; i < d->conf.nservices; i++)
        printf(" %s:%u", dmn_service_name(d->conf.services[i].kind), d->conf.services[i].port);
    printf("; control %s; user %s\n", d->conf.control, d->conf.user);
    fflush(stdout);
}

/* What a shutdown leaves behind: the counters that moved. */
static void print_counters(const struct dmn *d)
{
    const struct tcpc_stats *st = tcpc_stack_stats(d->stack);
    printf("tcpcored: stopped after %" PRIu64 " connections; counters:\n", d->accepted);
    for (unsigned i = 0; i < TCPC_STAT_COUNT; i++) {
        uint64_t v = tcpc_stat_value(st, i);
        if (v)
            printf("  %-28s %" PRIu64 "\n", tcpc_stat_name(i), v);
    }
    printf("  device rx %" PRIu64 " packets, tx %" PRIu64 " packets, tx dropped %" PRIu64 "\n",
           d->tun.rx_packets, d->tun.tx_packets, d->tun.tx_dropped);
    fflush(stdout);
}

/* Everything up to the loop; an exit status. */
static int start(struct dmn *d, struct tcpc_config *cfg, char *why)
{
    struct dmn_user u;
    int rc = dmn_config_stack(&d->conf, cfg, why);
    if (!rc)
        rc = dmn_user_lookup(d->conf.user, &u, why);
    if (!rc)
        rc = open_device(d, cfg, why);
    if (!rc)
        rc = start_stack(d, cfg, why);
    if (!rc)
        rc = dmn_listeners_open(d, why);
    if (!rc && dmn_loop_init(d, why) < 0)
        rc = DMN_EXIT_RUNTIME;
    if (!rc)
        rc = dmn_control_open(d, u.uid, u.gid, why);
    if (rc)
        return rc;
    /* Attaching raised the carrier; the kernel sends on the device only
     * once it has seen that. An interface still down is not an error. */
    if (tcpc_tun_wait_running(d->conf.device, 2 * TCPC_USEC_PER_SEC) < 0)
        fprintf(stderr, "tcpcored: warning: %s is not up yet; serving anyway\n", d->conf.device);
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
    tcpc_tun_close(&d->tun);
    tcpc_pcap_close(d->pcap);
}

int main(int argc, char **argv)
{
    struct dmn *d = calloc(1, sizeof(*d));
    if (!d) {
        fprintf(stderr, "tcpcored: out of memory\n");
        return DMN_EXIT_RUNTIME;
    }
    d->epfd = d->timerfd = d->sigfd = -1;
    d->tun.fd = -1;
    char why[DMN_WHY_LEN] = "";
    bool help;
    dmn_config_defaults(&d->conf);
    int rc = dmn_config_parse(&d->conf, argc, argv, &help, why);
    if (help) {
        dmn_config_usage(stdout);
        free(d);
        return DMN_EXIT_OK;
    }
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    if (!rc)
        rc = start(d, &cfg, why);
    if (rc) {
        fprintf(stderr, "tcpcored: %s\n", why);
    } else {
        print_ready(d);
        rc = dmn_loop_run(d);
        print_counters(d);
    }
    cleanup(d);
    free(d);
    return rc;
}
