/*
 * tcpcored's command line, defaults and the hand-over to the stack's
 * configuration; see config.h. The file format lives in config_file.c, the
 * value syntax in config_values.c.
 */
#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <unistd.h>

#include "config_values.h"
#include "exitcodes.h"
#include "tcpcore/sysctl.h"

#define WHY(...) (snprintf(why, DMN_WHY_LEN, __VA_ARGS__))

void dmn_config_defaults(struct dmn_config *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->device, "tun0");
    strcpy(c->user, "nobody");
    strcpy(c->control, "/run/tcpcore/tcpcored.sock");
    c->mtu = 1500;
    c->grace_ms = 2000;
    c->jobs = 1;
}

unsigned dmn_config_max_jobs(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned max = cpus > 0 ? 4 * (unsigned)cpus : 4;
    return max > DMN_MAX_JOBS ? DMN_MAX_JOBS : max;
}

int dmn_config_set_jobs(struct dmn_config *c, uint64_t v, char *why)
{
    unsigned max = dmn_config_max_jobs();
    if (v < 1 || v > max) {
        WHY("worker count (-j) %llu is not from 1 to %u (four per online CPU)",
            (unsigned long long)v, max);
        return DMN_EXIT_BAD_SETTING;
    }
    c->jobs = (unsigned)v;
    return DMN_EXIT_OK;
}

void dmn_config_usage(FILE *out)
{
    fputs("usage: tcpcored [options]\n"
          "Runs a tcpcore stack on a TUN device or an Ethernet interface with the services\n"
          "asked for.\n"
          "  -c, --config FILE     read settings from FILE first (libconfig syntax)\n"
          "  --tun NAME            TUN device to attach to; it must exist (default tun0)\n"
          "  --tun-multiqueue      attach as one queue of a multiqueue TUN device (one\n"
          "                        queue per worker with -j)\n"
          "  -j, --jobs N          N worker threads, each with its own stack pinned to a\n"
          "                        CPU, as one host (default 1; N > 1 needs --af-packet\n"
          "                        or --tun-multiqueue)\n"
          "  --af-packet IFNAME    run on Ethernet interface IFNAME instead (AF_PACKET\n"
          "                        rings; ARP and ND by the stack); not with --tun\n"
          "  --addr ADDR[/LEN]     an address of the stack, IPv4 or IPv6 (repeatable)\n"
          "  --gateway ADDR        default gateway, one per family (repeatable)\n"
          "  --mtu N               link MTU (default 1500; on AF_PACKET the interface's)\n"
          "  --sysctl NAME=VALUE   set a tunable by its FreeBSD name (repeatable)\n"
          "  --service SPEC        run a service (repeatable):\n"
          "                          echo:PORT  discard:PORT  http:PORT\n"
          "                          source:PORT[:BYTES]   send BYTES, then close\n"
          "                          forward:PORT:ADDR:PORT[,stack]   relay to a backend\n"
          "                          through a kernel socket (or through tcpcore)\n"
          "  --md5-key PREFIX=KEY  sign connections with peers in PREFIX (RFC 2385 TCP\n"
          "                        MD5, as BGP uses it), on every service (repeatable)\n"
          "  --accept-filter NAME  hand http connections to the service only once they\n"
          "                        have data (dataready) or a whole request (httpready)\n"
          "  --tcp-fastopen MODE   TCP Fast Open (RFC 7413): server (listeners take data\n"
          "                        on a SYN with a valid cookie), client (forward,stack\n"
          "                        sends its first bytes on the SYN), both, or off\n"
          "                        (the default)\n"
          "  --user NAME           unprivileged user to run as (default nobody)\n"
          "  --control PATH        control socket for tcpcore-stat\n"
          "                        (default /run/tcpcore/tcpcored.sock)\n"
          "  --pcap FILE           record every packet in and out into FILE\n"
          "  --grace MS            how long a shutdown waits for connections (default 2000)\n"
          "  --trace               print every dropped packet and why\n"
          "  -h, --help            this text\n"
          "Exit status:\n"
          "   0 stopped by SIGTERM or SIGINT      6 unknown tunable or refused value\n"
          "   1 failed while running              7 device missing or of the wrong kind\n"
          "   2 command line not understood       8 not permitted (device, user switch)\n"
          "   3 configuration file unreadable     9 port, control socket or device in use\n"
          "     or with a syntax error           10 the --user account does not exist\n"
          "   4 unknown setting or bad value         or is root\n"
          "   5 bad address, prefix, gateway or forward target\n",
          out);
}

enum {
    OPT_TUN = 256,
    OPT_MQ,
    OPT_AFP,
    OPT_ADDR,
    OPT_GATEWAY,
    OPT_MTU,
    OPT_SYSCTL,
    OPT_SERVICE,
    OPT_USER,
    OPT_CONTROL,
    OPT_PCAP,
    OPT_GRACE,
    OPT_TRACE,
    OPT_MD5,
    OPT_ACCF,
    OPT_TFO,
    OPT_JOBS = 'j',
};

static const struct option long_opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"tun", required_argument, NULL, OPT_TUN},
    {"tun-multiqueue", no_argument, NULL, OPT_MQ},
    {"af-packet", required_argument, NULL, OPT_AFP},
    {"addr", required_argument, NULL, OPT_ADDR},
    {"gateway", required_argument, NULL, OPT_GATEWAY},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"sysctl", required_argument, NULL, OPT_SYSCTL},
    {"service", required_argument, NULL, OPT_SERVICE},
    {"user", required_argument, NULL, OPT_USER},
    {"control", required_argument, NULL, OPT_CONTROL},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"trace", no_argument, NULL, OPT_TRACE},
    {"md5-key", required_argument, NULL, OPT_MD5},
    {"accept-filter", required_argument, NULL, OPT_ACCF},
    {"tcp-fastopen", required_argument, NULL, OPT_TFO},
    {"jobs", required_argument, NULL, OPT_JOBS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int dmn_config_set_mtu(struct dmn_config *c, uint64_t mtu, char *why)
{
    if (mtu < TCPC_MTU_MIN || mtu > TCPC_MTU_MAX) {
        WHY("MTU %llu is not from %d to %d", (unsigned long long)mtu, TCPC_MTU_MIN, TCPC_MTU_MAX);
        return DMN_EXIT_BAD_SETTING;
    }
    c->mtu = (uint32_t)mtu;
    c->mtu_given = true;
    return DMN_EXIT_OK;
}

/* One option of the second pass (everything but --config and --help). */
static int apply_opt(struct dmn_config *c, int opt, const char *arg, char *why)
{
    uint64_t v = 0;
    int rc;
    switch (opt) {
    case OPT_TUN:
    case OPT_AFP:
        c->af_packet = opt == OPT_AFP;
        return dmn_set_string(c->device, 16, arg, "device name", why);
    case OPT_MQ:
        c->multi_queue = true;
        return DMN_EXIT_OK;
    case OPT_ADDR:
        return dmn_config_add_addr(c, arg, why);
    case OPT_GATEWAY:
        return dmn_config_add_gateway(c, arg, why);
    case OPT_MTU:
        rc = dmn_parse_u64(arg, TCPC_MTU_MAX, "MTU", &v, why);
        return rc ? rc : dmn_config_set_mtu(c, v, why);
    case OPT_SYSCTL:
        return dmn_config_add_sysctl_text(c, arg, why);
    case OPT_SERVICE:
        return dmn_config_add_service_text(c, arg, why);
    case OPT_USER:
        return dmn_set_string(c->user, sizeof(c->user), arg, "user name", why);
    case OPT_CONTROL:
        return dmn_set_string(c->control, sizeof(c->control), arg, "control socket path", why);
    case OPT_PCAP:
        return dmn_set_string(c->pcap, sizeof(c->pcap), arg, "capture file name", why);
    case OPT_GRACE:
        if ((rc = dmn_parse_u64(arg, 600000, "grace time (ms)", &v, why)) == 0)
            c->grace_ms = (uint32_t)v;
        return rc;
    case OPT_TRACE:
        c->trace = true;
        return DMN_EXIT_OK;
    case OPT_MD5:
        return dmn_config_add_md5_key(c, arg, why);
    case OPT_ACCF:
        return dmn_config_set_accept_filter(c, arg, why);
    case OPT_TFO:
        return dmn_config_set_fastopen(c, arg, why);
    case OPT_JOBS:
        rc = dmn_parse_u64(arg, UINT32_MAX, "worker count (-j)", &v, why);
        return rc ? rc : dmn_config_set_jobs(c, v, why);
    }
    return DMN_EXIT_USAGE;
}

/* getopt's complaint, as one sentence of ours. */
static int usage_error(int argc, char **argv, char *why)
{
    const char *what = optind - 1 < argc ? argv[optind - 1] : "?";
    if (optopt && strchr("cj", optopt))
        WHY("option -%c needs a value (see --help)", optopt);
    else
        WHY("option \"%s\" is unknown or lacks its value (see --help)", what);
    return DMN_EXIT_USAGE;
}

int dmn_config_parse(struct dmn_config *c, int argc, char **argv, bool *help, char *why)
{
    *help = false;
    opterr = 0;
    /* First pass: the file, whose settings the command line then adjusts. */
    optind = 0;
    int opt, rc;
    while ((opt = getopt_long(argc, argv, "c:hj:", long_opts, NULL)) != -1) {
        if (opt == '?' || opt == ':')
            return usage_error(argc, argv, why);
        if (opt == 'h') {
            *help = true;
            return DMN_EXIT_OK;
        }
        if (opt == 'c' && (rc = dmn_config_file(c, optarg, why)))
            return rc;
    }
    if (optind < argc) {
        WHY("unexpected argument \"%s\" (see --help)", argv[optind]);
        return DMN_EXIT_USAGE;
    }
    optind = 0;
    bool tun = false, afp = false;
    while ((opt = getopt_long(argc, argv, "c:hj:", long_opts, NULL)) != -1) {
        tun |= opt == OPT_TUN;
        afp |= opt == OPT_AFP;
        if (tun && afp) {
            WHY("--tun and --af-packet exclude each other: the stack runs on one device");
            return DMN_EXIT_USAGE;
        }
        if (opt != 'c' && (rc = apply_opt(c, opt, optarg, why)))
            return rc;
    }
    return dmn_config_check(c, why);
}

/* The device is not open yet when the configuration is checked: a
 * stand-in output lets the stack's own check run on everything else. */
static int no_output(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)ctx;
    (void)pkt;
    (void)len;
    return -ENOBUFS;
}

/* The tunables a --tcp-fastopen side needs (checked against the user's
 * own by dmn_config_check); set before those. */
static int fastopen_tunables(const struct dmn_config *c, struct tcpc_config *cfg, char *why)
{
    int err = 0;
    if (c->fastopen & DMN_TFO_SERVER)
        err = tcpc_config_sysctl(cfg, "net.inet.tcp.fastopen.server_enable", 1, NULL);
    if (!err && (c->fastopen & DMN_TFO_CLIENT))
        err = tcpc_config_sysctl(cfg, "net.inet.tcp.fastopen.client_enable", 1, NULL);
    if (err) {
        WHY("the stack refuses TCP Fast Open: %s", strerror(-err));
        return DMN_EXIT_BAD_TUNABLE;
    }
    return DMN_EXIT_OK;
}

int dmn_config_stack(const struct dmn_config *c, struct tcpc_config *cfg, char *why)
{
    for (unsigned i = 0; i < c->naddrs; i++) {
        if (tcpc_config_add_addr(cfg, &c->addrs[i].addr, c->addrs[i].len) != 0) {
            WHY("the stack refuses address %u of %u (at most %d, prefixes within the family)",
                i + 1, c->naddrs, TCPC_MAX_LOCAL_ADDRS);
            return DMN_EXIT_BAD_ADDRESS;
        }
    }
    if (tcpc_config_set_mtu(cfg, c->mtu) != 0) {
        WHY("MTU %u is out of range (%d..%d)", c->mtu, TCPC_MTU_MIN, TCPC_MTU_MAX);
        return DMN_EXIT_BAD_SETTING;
    }
    int rc = fastopen_tunables(c, cfg, why);
    if (rc)
        return rc;
    for (unsigned i = 0; i < c->nsysctls; i++) {
        const char *reason = NULL;
        int err = tcpc_config_sysctl(cfg, c->sysctls[i].name, c->sysctls[i].value, &reason);
        if (err == -ENOENT) {
            WHY("there is no tunable named %s", c->sysctls[i].name);
            return DMN_EXIT_BAD_TUNABLE;
        }
        if (err) {
            WHY("tunable %s refuses %lld: %s", c->sysctls[i].name, (long long)c->sysctls[i].value,
                reason ? reason : "out of range");
            return DMN_EXIT_BAD_TUNABLE;
        }
    }
    tcpc_config_set_output(cfg, no_output, NULL); /* the device's replaces it */
    const char *reason = NULL;
    if (tcpc_config_check(cfg, &reason) != 0) {
        WHY("the stack refuses this configuration: %s", reason ? reason : "invalid");
        return DMN_EXIT_BAD_SETTING;
    }
    return DMN_EXIT_OK;
}
