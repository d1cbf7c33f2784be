/*
 * tcpcore-stat: netstat for a running tcpcored, over its control socket.
 *
 *   tcpcore-stat            the connection listing, as `netstat -an` prints
 *                           it (SYN cache entries as SYN_RECEIVED, TIME_WAIT
 *                           entries with the time they have left)
 *   tcpcore-stat -s         the counters, in `netstat -s -p tcp` wording
 *   tcpcore-stat -d         the daemon: device, addresses, services
 *   tcpcore-stat -t         the tunables by sysctl name
 *   tcpcore-stat -N         the neighbour cache, like `arp -an` / `ndp -an`
 *   tcpcore-stat -r         the routing table, like `netstat -rn`
 *   tcpcore-stat --json     the daemon's JSON answer, for scripts
 *   tcpcore-stat -w SECS    one line of rates every SECS seconds
 *   tcpcore-stat -W ...     with a tcpcored -j N: each worker's part too (the
 *                           listing's worker column, the counters by worker,
 *                           each worker's device and connections); without
 *                           it the answer is the host's, summed
 *
 * Exit status: 0, 1 when the daemon cannot be asked (the reason is one
 * sentence on stderr), 2 for a bad command line.
 */
#define _GNU_SOURCE

#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_proto.h"
#include "stat/stat_client.h"
#include "stat/stat_counters.h"

#define DEFAULT_SOCKET "/run/tcpcore/tcpcored.sock"

struct opts {
    const char *path;
    unsigned show; /* CTL_* sections to print */
    bool json;
    bool workers; /* -W: the per-worker breakdown */
    double interval;
    long count;
};

static void usage(FILE *out, int status)
{
    fprintf(out,
            "usage: tcpcore-stat [-S PATH] [-a] [-s] [-d] [-t] [-N] [-r] [-W] [--json]\n"
            "                    [-w SECONDS [-c COUNT]]\n"
            "  (no option)       the connection listing, like netstat -an\n"
            "  -a                everything: daemon, listing, counters, tunables\n"
            "  -s                the counters, like netstat -s -p tcp\n"
            "  -d                the daemon: device, addresses, services\n"
            "  -t                the tunables by their sysctl names\n"
            "  -N                the neighbour cache (ARP, ND), like arp -an / ndp -an\n"
            "  -r                the routing table, like netstat -rn\n"
            "  -W, --workers     with tcpcored -j N, each worker's part beside the sums:\n"
            "                    the worker of each connection, the counters by worker,\n"
            "                    each worker's device and connections\n"
            "  --json            print the daemon's answer as JSON\n"
            "  -w SECONDS        every SECONDS, one line of rates (per second)\n"
            "  -c COUNT          with -w: stop after COUNT lines\n"
            "  -S, --socket PATH the daemon's control socket (default %s)\n"
            "Exit status: 0; 1 the daemon could not be asked; 2 bad command line.\n",
            DEFAULT_SOCKET);
    exit(status);
}

static void parse(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {{"json", no_argument, NULL, 'j'},
                                          {"socket", required_argument, NULL, 'S'},
                                          {"workers", no_argument, NULL, 'W'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    *o = (struct opts){.path = DEFAULT_SOCKET, .count = -1};
    int opt;
    char *end;
    while ((opt = getopt_long(argc, argv, "S:asdtNrWw:c:h", longs, NULL)) != -1) {
        switch (opt) {
        case 'S':
            o->path = optarg;
            break;
        case 'a':
            o->show |= CTL_ALL;
            break;
        case 's':
            o->show |= CTL_COUNTERS;
            break;
        case 'd':
            o->show |= CTL_DAEMON;
            break;
        case 't':
            o->show |= CTL_TUNABLES;
            break;
        case 'N':
            o->show |= CTL_NEIGHBOURS;
            break;
        case 'r':
            o->show |= CTL_ROUTES;
            break;
        case 'j':
            o->json = true;
            break;
        case 'W':
            o->workers = true;
            break;
        case 'w':
            o->interval = strtod(optarg, &end);
            if (*end || !(o->interval >= 0.1 && o->interval <= 86400)) {
                fprintf(stderr, "tcpcore-stat: -w takes seconds from 0.1 to 86400\n");
                exit(2);
            }
            break;
        case 'c':
            o->count = strtol(optarg, &end, 10);
            if (*end || o->count < 1) {
                fprintf(stderr, "tcpcore-stat: -c takes a count of at least 1\n");
                exit(2);
            }
            break;
        case 'h':
            usage(stdout, 0);
            break;
        default:
            usage(stderr, 2);
        }
    }
    if (optind < argc)
        usage(stderr, 2);
    if (!o->show)
        o->show = CTL_CONNECTIONS;
}

static const char *str(json_object *o, const char *key)
{
    json_object *v = stat_get(o, key);
    return v ? json_object_get_string(v) : "";
}

/* "198.18.0.2.80", "*.80", "*.*", as netstat prints an endpoint. */
static void endpoint(char *buf, size_t len, const char *addr, uint64_t port)
{
    bool any = !strcmp(addr, "0.0.0.0") || !strcmp(addr, "::");
    if (any && port == 0)
        snprintf(buf, len, "*.*");
    else if (any)
        snprintf(buf, len, "*.%" PRIu64, port);
    else
        snprintf(buf, len, "%s.%" PRIu64, addr, port);
}

/* Every worker of a -j N daemon listens on every service: the host's
 * listing shows each listener once (worker 0's). */
static bool other_workers_listener(json_object *c)
{
    return stat_get(c, "worker") && stat_u64(c, "worker") > 0 && !strcmp(str(c, "state"), "LISTEN");
}

/* With workers, a first column names the worker holding each entry, and
 * every worker's listeners are shown. */
static void print_listing(json_object *list, bool workers)
{
    printf("Active Internet connections (including servers)\n");
    if (workers)
        printf("%-3s ", "W");
    printf("%-5s %6s %6s %-29s %-29s %-12s %s\n", "Proto", "Recv-Q", "Send-Q", "Local Address",
           "Foreign Address", "(state)", "Expires");
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(list, i);
        if (!workers && other_workers_listener(c))
            continue;
        if (workers)
            printf("%-3" PRIu64 " ", stat_u64(c, "worker"));
        char local[64], foreign[64], expires[32] = "";
        endpoint(local, sizeof(local), str(c, "local"), stat_u64(c, "lport"));
        endpoint(foreign, sizeof(foreign), str(c, "foreign"), stat_u64(c, "fport"));
        if (stat_get(c, "expires_ms"))
            snprintf(expires, sizeof(expires), "%.1fs", (double)stat_u64(c, "expires_ms") / 1e3);
        if (expires[0])
            printf("%-5s %6" PRIu64 " %6" PRIu64 " %-29s %-29s %-12s %s\n", str(c, "proto"),
                   stat_u64(c, "recv_q"), stat_u64(c, "send_q"), local, foreign, str(c, "state"),
                   expires);
        else
            printf("%-5s %6" PRIu64 " %6" PRIu64 " %-29s %-29s %s\n", str(c, "proto"),
                   stat_u64(c, "recv_q"), stat_u64(c, "send_q"), local, foreign, str(c, "state"));
    }
}

static void print_daemon(json_object *d)
{
    json_object *dev = stat_get(d, "device");
    printf("tcpcored pid %" PRIu64 ", up %.1f s, user %s\n", stat_u64(d, "pid"),
           json_object_get_double(stat_get(d, "uptime_s")), str(d, "user"));
    printf("device %s (%s, %s mode, MTU %" PRIu64 "): rx %" PRIu64 " packets %" PRIu64
           " bytes, %" PRIu64 " lost in the receive ring, tx %" PRIu64 " packets %" PRIu64
           " bytes, %" PRIu64 " not sent\n",
           str(dev, "name"), str(dev, "backend"), str(dev, "mode"), stat_u64(dev, "mtu"),
           stat_u64(dev, "rx_packets"), stat_u64(dev, "rx_bytes"), stat_u64(dev, "rx_dropped"),
           stat_u64(dev, "tx_packets"), stat_u64(dev, "tx_bytes"), stat_u64(dev, "tx_dropped"));
    json_object *addrs = stat_get(d, "addresses");
    printf("addresses:");
    for (size_t i = 0; addrs && i < json_object_array_length(addrs); i++)
        printf(" %s", json_object_get_string(json_object_array_get_idx(addrs, i)));
    json_object *gws = stat_get(d, "gateways");
    printf("\ngateways:");
    for (size_t i = 0; gws && i < json_object_array_length(gws); i++)
        printf(" %s", json_object_get_string(json_object_array_get_idx(gws, i)));
    printf("\nservices:");
    json_object *svcs = stat_get(d, "services");
    for (size_t i = 0; svcs && i < json_object_array_length(svcs); i++) {
        json_object *s = json_object_array_get_idx(svcs, i);
        printf(" %s:%" PRIu64, str(s, "kind"), stat_u64(s, "port"));
        if (stat_get(s, "to"))
            printf("->%s.%" PRIu64 "(%s)", str(s, "to"), stat_u64(s, "to_port"), str(s, "via"));
    }
    printf("\nconnections: %" PRIu64 " being served, %" PRIu64 " accepted in all\n",
           stat_u64(d, "connections_served"), stat_u64(d, "connections_accepted"));
    if (stat_get(d, "jobs"))
        printf("workers: %" PRIu64 " (counters and figures above are their sums)\n",
               stat_u64(d, "jobs"));
}

/* -W: one line per worker of the daemon section. */
static void print_daemon_workers(json_object *d)
{
    json_object *ws = stat_get(d, "workers");
    for (size_t i = 0; ws && i < json_object_array_length(ws); i++) {
        json_object *w = json_object_array_get_idx(ws, i);
        printf("worker %" PRIu64 " (CPU %s): %" PRIu64 " being served, %" PRIu64
               " accepted; rx %" PRIu64 " packets, %" PRIu64
               " lost in the receive ring, tx %" PRIu64 " packets, %" PRIu64 " not sent\n",
               stat_u64(w, "worker"), str(w, "cpu"), stat_u64(w, "connections_served"),
               stat_u64(w, "connections_accepted"), stat_u64(w, "rx_packets"),
               stat_u64(w, "rx_dropped"), stat_u64(w, "tx_packets"), stat_u64(w, "tx_dropped"));
    }
}

/* -W: every counter that moved on some worker, its sum and each worker's
 * value, one line each. */
static void print_worker_counters(json_object *sum, json_object *per)
{
    size_t n = per ? json_object_array_length(per) : 0;
    if (n == 0)
        return;
    printf("\nby worker:\n%-32s %12s", "counter", "total");
    for (size_t i = 0; i < n; i++)
        printf(" %11s%zu", "worker ", i);
    printf("\n");
    json_object_object_foreach(sum, name, value)
    {
        bool moved = false;
        for (size_t i = 0; i < n && !moved; i++)
            moved = stat_u64(json_object_array_get_idx(per, i), name) != 0;
        if (!moved)
            continue;
        printf("%-32s %12" PRIu64, name, (uint64_t)json_object_get_uint64(value));
        for (size_t i = 0; i < n; i++)
            printf(" %12" PRIu64, stat_u64(json_object_array_get_idx(per, i), name));
        printf("\n");
    }
}

/* FreeBSD's ndp -an columns; ARP entries share them, their Expire counting
 * to the next ARP check. */
static void print_neighbours(json_object *list)
{
    printf("Neighbours (ARP and ND)\n");
    printf("%-5s %-29s %-17s %-10s %7s %5s %4s\n", "Proto", "Neighbor", "Linklayer Address",
           "State", "Expire", "Asked", "Held");
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        json_object *n = json_object_array_get_idx(list, i);
        char expire[32] = "-";
        if (stat_get(n, "expires_ms"))
            snprintf(expire, sizeof(expire), "%.1fs", (double)stat_u64(n, "expires_ms") / 1e3);
        const char *ll = json_object_get_type(stat_get(n, "lladdr")) == json_type_string
                             ? str(n, "lladdr")
                             : "(incomplete)";
        printf("%-5s %-29s %-17s %-10s %7s %5" PRIu64 " %4" PRIu64 "\n", str(n, "proto"),
               str(n, "address"), ll, str(n, "state"), expire, stat_u64(n, "asked"),
               stat_u64(n, "held"));
    }
}

static void print_routes(json_object *list)
{
    printf("Routing tables\n");
    printf("%-5s %-33s %-29s %s\n", "Proto", "Destination", "Gateway", "Flags");
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        json_object *r = json_object_array_get_idx(list, i);
        bool gw = stat_get(r, "gateway") != NULL;
        char dst[64], via[64];
        const char *d = str(r, "destination");
        snprintf(dst, sizeof(dst), "%s",
                 !strcmp(d, "0.0.0.0/0") || !strcmp(d, "::/0") ? "default" : d);
        snprintf(via, sizeof(via), gw ? "%s" : "link#1 (%s)", str(r, gw ? "gateway" : "ifaddr"));
        printf("%-5s %-33s %-29s %s\n", str(r, "family"), dst, via, str(r, "flags"));
    }
}

static void print_tunables(json_object *t)
{
    json_object_object_foreach(t, name, value)
    {
        printf("%s: %s\n", name, json_object_get_string(value));
    }
}

static int show_once(const struct opts *o)
{
    char why[512];
    unsigned ask = o->show;
    if (!o->json && (ask & CTL_COUNTERS))
        ask |= CTL_CONNECTIONS; /* the count by state */
    if (o->workers)
        ask |= CTL_DAEMON; /* how many workers */
    json_object *a = stat_query(o->path, ask, why, sizeof(why));
    if (!a) {
        fprintf(stderr, "tcpcore-stat: %s\n", why);
        return 1;
    }
    if (o->json) {
        printf("%s\n",
               json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                     JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(a);
        return 0;
    }
    const char *sep = "";
    /* The breakdown exists only in a -j N daemon's answer. */
    bool workers = o->workers && stat_get(stat_get(a, "daemon"), "jobs") != NULL;
    if (o->show & CTL_DAEMON) {
        print_daemon(stat_get(a, "daemon"));
        if (o->workers)
            print_daemon_workers(stat_get(a, "daemon"));
        sep = "\n";
    }
    if (o->show & CTL_CONNECTIONS) {
        printf("%s", sep);
        print_listing(stat_get(a, "connections"), workers);
        sep = "\n";
    }
    if (o->show & CTL_COUNTERS) {
        printf("%s", sep);
        stat_print_counters(stdout, stat_get(a, "counters"), stat_get(a, "connections"));
        if (workers)
            print_worker_counters(stat_get(a, "counters"), stat_get(a, "worker_counters"));
        sep = "\n";
    }
    if (o->show & CTL_ROUTES) {
        printf("%s", sep);
        print_routes(stat_get(a, "routes"));
        sep = "\n";
    }
    if (o->show & CTL_NEIGHBOURS) {
        printf("%s", sep);
        print_neighbours(stat_get(a, "neighbours"));
        sep = "\n";
    }
    if (o->show & CTL_TUNABLES) {
        printf("%s", sep);
        print_tunables(stat_get(a, "tunables"));
    }
    json_object_put(a);
    return 0;
}

/* The rates between two answers, per second. */
static void print_rates(json_object *a, json_object *b, unsigned line)
{
    json_object *ca = stat_get(a, "counters"), *cb = stat_get(b, "counters");
    double secs = (double)(stat_u64(b, "time_us") - stat_u64(a, "time_us")) / 1e6;
    if (secs <= 0)
        secs = 1e-6;
#define RATE(name) ((double)(stat_u64(cb, name) - stat_u64(ca, name)) / secs)
    if (line % 20 == 0)
        printf("%10s %10s %10s %10s %8s %8s %8s %8s %6s\n", "segs-in/s", "segs-out/s", "kB-in/s",
               "kB-out/s", "rexmt/s", "accept/s", "conn/s", "close/s", "estab");
    uint64_t estab = 0;
    json_object *list = stat_get(b, "connections");
    for (size_t i = 0; list && i < json_object_array_length(list); i++)
        estab += !strcmp(str(json_object_array_get_idx(list, i), "state"), "ESTABLISHED");
    printf("%10.0f %10.0f %10.1f %10.1f %8.0f %8.0f %8.0f %8.0f %6" PRIu64 "\n",
           RATE("tcps_rcvtotal"), RATE("tcps_sndtotal"), RATE("tcps_rcvbyte") / 1e3,
           RATE("tcps_sndbyte") / 1e3, RATE("tcps_sndrexmitpack"), RATE("tcps_accepts"),
           RATE("tcps_connects"), RATE("tcps_closed"), estab);
#undef RATE
    fflush(stdout);
}

static int watch(const struct opts *o)
{
    char why[512];
    json_object *prev = stat_query(o->path, CTL_COUNTERS | CTL_CONNECTIONS, why, sizeof(why));
    for (unsigned line = 0; prev && (o->count < 0 || line < (unsigned long)o->count); line++) {
        struct timespec ts = {(time_t)o->interval,
                              (long)((o->interval - (double)(time_t)o->interval) * 1e9)};
        nanosleep(&ts, NULL);
        json_object *cur = stat_query(o->path, CTL_COUNTERS | CTL_CONNECTIONS, why, sizeof(why));
        if (cur && o->json)
            printf("%s\n", json_object_to_json_string_ext(cur, JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        else if (cur)
            print_rates(prev, cur, line);
        json_object_put(prev);
        prev = cur;
    }
    if (!prev) {
        fprintf(stderr, "tcpcore-stat: %s\n", why);
        return 1;
    }
    json_object_put(prev);
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    parse(argc, argv, &o);
    return o.interval > 0 ? watch(&o) : show_once(&o);
}
