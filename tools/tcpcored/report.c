/*
 * The daemon's answers to control requests; see report.h.
 *
 * With -j N the answer is the host's: one listing of every worker's
 * connections (each naming its worker), counters summed over the workers,
 * and beside them each worker's own (worker_counters, daemon.workers).
 * Worker 0 answers; it reads another worker's stack under that worker's
 * lock (workers.c). With -j 1 the answer is as it always was.
 */
#include "report.h"

#include <stdio.h>
#include <unistd.h>

#include "config_values.h"
#include "ctl_proto.h"
#include "tcpcore/link.h"
#include "tcpcore/listing.h"
#include "tcpcore/stats.h"
#include "tcpcore/sysctl.h"

static json_object *addr_string(const struct tcpc_addr *a)
{
    char text[TCPC_ADDRSTRLEN];
    return json_object_new_string(tcpc_addr_format(a, text, sizeof(text)));
}

static void add_u64(json_object *o, const char *key, uint64_t v)
{
    json_object_object_add(o, key, json_object_new_uint64(v));
}

static json_object *services_json(const struct dmn_config *c)
{
    json_object *list = json_object_new_array();
    for (unsigned i = 0; i < c->nservices; i++) {
        const struct dmn_service_conf *s = &c->services[i];
        json_object *o = json_object_new_object();
        json_object_object_add(o, "kind", json_object_new_string(dmn_service_name(s->kind)));
        add_u64(o, "port", s->port);
        if (s->kind == DMN_SVC_SOURCE)
            add_u64(o, "bytes", s->bytes);
        if (s->kind == DMN_SVC_FORWARD) {
            json_object_object_add(o, "to", addr_string(&s->to));
            add_u64(o, "to_port", s->to_port);
            json_object_object_add(o, "via",
                                   json_object_new_string(s->via_stack ? "stack" : "kernel"));
        }
        json_object_array_add(list, o);
    }
    return list;
}

/* The device counters of every worker, summed. */
static void host_device_counters(struct dmn_host *h, struct dmn_dev_counters *sum)
{
    *sum = (struct dmn_dev_counters){0};
    for (unsigned i = 0; i < h->n; i++) {
        struct dmn_dev_counters dc;
        dmn_device_counters(h->w[i], &dc);
        sum->rx_packets += dc.rx_packets;
        sum->rx_bytes += dc.rx_bytes;
        sum->tx_packets += dc.tx_packets;
        sum->tx_bytes += dc.tx_bytes;
        sum->tx_dropped += dc.tx_dropped;
        sum->rx_dropped += dc.rx_dropped;
    }
}

static void add_dev_counters(json_object *o, const struct dmn_dev_counters *dc)
{
    add_u64(o, "rx_packets", dc->rx_packets);
    add_u64(o, "rx_bytes", dc->rx_bytes);
    add_u64(o, "tx_packets", dc->tx_packets);
    add_u64(o, "tx_bytes", dc->tx_bytes);
    add_u64(o, "tx_dropped", dc->tx_dropped);
    add_u64(o, "rx_dropped", dc->rx_dropped);
}

static json_object *device_json(const struct dmn *d)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(d->conf.device));
    struct dmn_dev_counters dc;
    host_device_counters(d->host, &dc);
    json_object_object_add(o, "backend", json_object_new_string(dmn_device_backend(d)));
    json_object_object_add(o, "mode", json_object_new_string(dmn_device_mode(d)));
    add_u64(o, "mtu", d->conf.mtu);
    add_dev_counters(o, &dc);
    return o;
}

/* Each worker's own figures (-j > 1). */
static json_object *workers_json(const struct dmn_host *h)
{
    json_object *list = json_object_new_array();
    for (unsigned i = 0; i < h->n; i++) {
        const struct dmn *w = h->w[i];
        json_object *o = json_object_new_object();
        add_u64(o, "worker", i);
        json_object_object_add(o, "cpu", json_object_new_int(w->cpu));
        add_u64(o, "connections_served", w->nconns);
        add_u64(o, "connections_accepted", w->accepted);
        struct dmn_dev_counters dc;
        dmn_device_counters(w, &dc);
        add_dev_counters(o, &dc);
        json_object_array_add(list, o);
    }
    return list;
}

static json_object *daemon_json(const struct dmn *d)
{
    const struct dmn_config *c = &d->conf;
    json_object *o = json_object_new_object();
    add_u64(o, "pid", (uint64_t)getpid());
    json_object_object_add(o, "uptime_s",
                           json_object_new_double((double)(tcpc_tun_now() - d->started) / 1e6));
    json_object_object_add(o, "user", json_object_new_string(c->user));
    json_object_object_add(o, "device", device_json(d));
    json_object *addrs = json_object_new_array();
    for (unsigned i = 0; i < c->naddrs; i++) {
        char text[TCPC_ADDRSTRLEN + 8], a[TCPC_ADDRSTRLEN];
        snprintf(text, sizeof(text), "%s/%u", tcpc_addr_format(&c->addrs[i].addr, a, sizeof(a)),
                 c->addrs[i].len);
        json_object_array_add(addrs, json_object_new_string(text));
    }
    json_object_object_add(o, "addresses", addrs);
    json_object *gws = json_object_new_array();
    for (unsigned i = 0; i < c->ngateways; i++)
        json_object_array_add(gws, addr_string(&c->gateways[i]));
    json_object_object_add(o, "gateways", gws);
    json_object_object_add(o, "services", services_json(c));
    uint64_t served = 0, accepted = 0;
    for (unsigned i = 0; i < d->host->n; i++) {
        served += d->host->w[i]->nconns;
        accepted += d->host->w[i]->accepted;
    }
    add_u64(o, "connections_served", served);
    add_u64(o, "connections_accepted", accepted);
    if (d->host->n > 1) {
        add_u64(o, "jobs", d->host->n);
        json_object_object_add(o, "workers", workers_json(d->host));
    }
    if (d->pcap) {
        json_object *p = json_object_new_object();
        json_object_object_add(p, "file", json_object_new_string(c->pcap));
        add_u64(p, "packets", tcpc_pcap_count(d->pcap));
        json_object_object_add(o, "pcap", p);
    }
    return o;
}

static const char *const kind_names[] = {[TCPC_CONN_PCB] = "socket",
                                         [TCPC_CONN_SYNCACHE] = "syncache",
                                         [TCPC_CONN_TIMEWAIT] = "timewait"};

/* Where a listing goes, and the worker it is of (-1: the only one). */
struct list_ctx {
    json_object *list;
    int worker;
};

static int conn_json(void *ctx, const struct tcpc_conninfo *ci)
{
    struct list_ctx *lc = ctx;
    json_object *o = json_object_new_object();
    if (lc->worker >= 0)
        add_u64(o, "worker", (uint64_t)lc->worker);
    bool v4 = tcpc_addr_is_v4(&ci->laddr);
    json_object_object_add(o, "proto", json_object_new_string(v4 ? "tcp4" : "tcp6"));
    json_object_object_add(o, "local", addr_string(&ci->laddr));
    add_u64(o, "lport", ci->lport);
    json_object_object_add(o, "foreign", addr_string(&ci->faddr));
    add_u64(o, "fport", ci->fport);
    json_object_object_add(o, "state", json_object_new_string(tcpc_state_name(ci->state)));
    json_object_object_add(
        o, "source",
        json_object_new_string(
            ci->kind <= TCPC_CONN_TIMEWAIT && kind_names[ci->kind] ? kind_names[ci->kind] : "?"));
    add_u64(o, "recv_q", ci->rcv_queue);
    add_u64(o, "send_q", ci->snd_queue);
    if (ci->kind == TCPC_CONN_TIMEWAIT)
        add_u64(o, "expires_ms", ci->expires_in / TCPC_USEC_PER_MSEC);
    json_object_array_add(lc->list, o);
    return 0;
}

static json_object *counters_json(const uint64_t *v)
{
    json_object *o = json_object_new_object();
    for (unsigned i = 0; i < TCPC_STAT_COUNT; i++)
        add_u64(o, tcpc_stat_name(i), v[i]);
    return o;
}

static void stack_counters(const struct tcpc_stack *stack, uint64_t *v)
{
    const struct tcpc_stats *st = tcpc_stack_stats(stack);
    for (unsigned i = 0; i < TCPC_STAT_COUNT; i++)
        v[i] = tcpc_stat_value(st, i);
}

static json_object *tunables_json(const struct tcpc_stack *stack)
{
    json_object *o = json_object_new_object();
    const char *name, *desc;
    for (unsigned i = 0; tcpc_sysctl_describe(i, &name, &desc) == 0; i++) {
        int64_t v = 0;
        tcpc_sysctl_get(stack, name, &v);
        json_object_object_add(o, name, json_object_new_int64(v));
    }
    return o;
}

struct neigh_ctx {
    json_object *list;
    tcpc_time_t now; /* the stack's: entries' timers run on it */
    int worker;      /* -1: the only one */
};

static int neigh_json(void *ctx, const struct tcpc_neigh_info *ni)
{
    struct neigh_ctx *nc = ctx;
    const uint8_t *m = ni->lladdr.bytes;
    char mac[18];
    snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    json_object *o = json_object_new_object();
    if (nc->worker >= 0)
        add_u64(o, "worker", (uint64_t)nc->worker);
    json_object_object_add(o, "proto",
                           json_object_new_string(tcpc_addr_is_v4(&ni->addr) ? "arp" : "nd6"));
    json_object_object_add(o, "address", addr_string(&ni->addr));
    json_object_object_add(o, "lladdr",
                           ni->state == TCPC_NEIGH_INCOMPLETE ? json_object_new_null()
                                                              : json_object_new_string(mac));
    json_object_object_add(o, "state", json_object_new_string(tcpc_neigh_state_name(ni->state)));
    if (ni->expires != TCPC_TIME_NEVER)
        add_u64(o, "expires_ms",
                ni->expires > nc->now ? (ni->expires - nc->now) / TCPC_USEC_PER_MSEC : 0);
    add_u64(o, "asked", ni->asked);
    add_u64(o, "held", ni->held);
    json_object_array_add(nc->list, o);
    return 0;
}

static void neighbours_json(const struct tcpc_stack *stack, json_object *list, int worker)
{
    struct neigh_ctx nc = {list, tcpc_now(stack), worker};
    tcpc_neigh_list(stack, neigh_json, &nc);
}

/* netstat -rn's flags: U up, G gateway, H host. */
static int route_json(void *ctx, const struct tcpc_route_info *ri)
{
    json_object *o = json_object_new_object();
    char dst[TCPC_ADDRSTRLEN + 8], a[TCPC_ADDRSTRLEN];
    snprintf(dst, sizeof(dst), "%s/%u", tcpc_addr_format(&ri->dst, a, sizeof(a)), ri->prefixlen);
    json_object_object_add(o, "family",
                           json_object_new_string(tcpc_addr_is_v4(&ri->dst) ? "inet" : "inet6"));
    json_object_object_add(o, "destination", json_object_new_string(dst));
    json_object_object_add(o, "flags",
                           json_object_new_string(ri->flags & TCPC_RTF_GATEWAY ? "UG"
                                                  : ri->flags & TCPC_RTF_HOST  ? "UH"
                                                                               : "U"));
    if (ri->flags & TCPC_RTF_GATEWAY)
        json_object_object_add(o, "gateway", addr_string(&ri->gateway));
    else
        json_object_object_add(o, "ifaddr", addr_string(&ri->ifaddr));
    json_object_array_add(ctx, o);
    return 0;
}

static json_object *routes_json(const struct tcpc_stack *stack)
{
    json_object *list = json_object_new_array();
    tcpc_route_list(stack, route_json, list);
    return list;
}

/* What worker i adds to the answer's lists and sums, read under its
 * lock unless it is the worker answering. */
struct host_report {
    json_object *conns, *neighbours, *per_worker;
    uint64_t sum[TCPC_STAT_COUNT];
};

static void worker_report(struct dmn *w, unsigned mask, struct host_report *r)
{
    int tag = w->host->n > 1 ? (int)w->worker : -1;
    dmn_device_sync(w);
    if (mask & CTL_CONNECTIONS) {
        struct list_ctx lc = {r->conns, tag};
        tcpc_list_connections(w->stack, conn_json, &lc);
    }
    if (mask & CTL_NEIGHBOURS)
        neighbours_json(w->stack, r->neighbours, tag);
    if (mask & CTL_COUNTERS) {
        uint64_t v[TCPC_STAT_COUNT];
        stack_counters(w->stack, v);
        for (unsigned i = 0; i < TCPC_STAT_COUNT; i++)
            r->sum[i] += v[i];
        if (r->per_worker)
            json_object_array_add(r->per_worker, counters_json(v));
    }
}

json_object *dmn_report(struct dmn *d, unsigned mask)
{
    struct dmn_host *h = d->host;
    struct host_report r = {json_object_new_array(),
                            json_object_new_array(),
                            h->n > 1 ? json_object_new_array() : NULL,
                            {0}};
    json_object *o = json_object_new_object();
    add_u64(o, "protocol", CTL_PROTOCOL);
    add_u64(o, "time_us", tcpc_tun_now());
    /* Every other worker waits while the answer is built: one consistent
     * view, and worker 0 is the only one that takes another's lock. */
    for (unsigned i = 0; i < h->n; i++)
        if (i != d->worker)
            dmn_worker_borrow(h, i);
    for (unsigned i = 0; i < h->n; i++)
        worker_report(h->w[i], mask, &r);
    if (mask & CTL_DAEMON)
        json_object_object_add(o, "daemon", daemon_json(d));
    if (mask & CTL_CONNECTIONS)
        json_object_object_add(o, "connections", r.conns);
    else
        json_object_put(r.conns);
    if (mask & CTL_COUNTERS) {
        json_object_object_add(o, "counters", counters_json(r.sum));
        if (r.per_worker)
            json_object_object_add(o, "worker_counters", r.per_worker);
    } else if (r.per_worker) {
        json_object_put(r.per_worker);
    }
    /* Tunables are the group's, the same in every worker; routes too. */
    if (mask & CTL_TUNABLES)
        json_object_object_add(o, "tunables", tunables_json(d->stack));
    if (mask & CTL_NEIGHBOURS)
        json_object_object_add(o, "neighbours", r.neighbours);
    else
        json_object_put(r.neighbours);
    if (mask & CTL_ROUTES)
        json_object_object_add(o, "routes", routes_json(d->stack));
    for (unsigned i = 0; i < h->n; i++)
        if (i != d->worker)
            dmn_worker_unlock(h, i);
    return o;
}

json_object *dmn_report_error(const char *why)
{
    json_object *o = json_object_new_object();
    add_u64(o, "protocol", CTL_PROTOCOL);
    json_object_object_add(o, "error", json_object_new_string(why));
    return o;
}
