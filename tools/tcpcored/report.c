/*
 * The daemon's answers to control requests; see report.h.
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

static json_object *device_json(const struct dmn *d)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(d->conf.device));
    struct dmn_dev_counters dc;
    dmn_device_counters(d, &dc);
    json_object_object_add(o, "backend", json_object_new_string(dmn_device_backend(d)));
    json_object_object_add(o, "mode", json_object_new_string(dmn_device_mode(d)));
    add_u64(o, "mtu", d->conf.mtu);
    add_u64(o, "rx_packets", dc.rx_packets);
    add_u64(o, "rx_bytes", dc.rx_bytes);
    add_u64(o, "tx_packets", dc.tx_packets);
    add_u64(o, "tx_bytes", dc.tx_bytes);
    add_u64(o, "tx_dropped", dc.tx_dropped);
    add_u64(o, "rx_dropped", dc.rx_dropped);
    return o;
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
    add_u64(o, "connections_served", d->nconns);
    add_u64(o, "connections_accepted", d->accepted);
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

static int conn_json(void *ctx, const struct tcpc_conninfo *ci)
{
    json_object *o = json_object_new_object();
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
    json_object_array_add(ctx, o);
    return 0;
}

static json_object *counters_json(const struct tcpc_stack *stack)
{
    const struct tcpc_stats *st = tcpc_stack_stats(stack);
    json_object *o = json_object_new_object();
    for (unsigned i = 0; i < TCPC_STAT_COUNT; i++)
        add_u64(o, tcpc_stat_name(i), tcpc_stat_value(st, i));
    return o;
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
};

static int neigh_json(void *ctx, const struct tcpc_neigh_info *ni)
{
    struct neigh_ctx *nc = ctx;
    const uint8_t *m = ni->lladdr.bytes;
    char mac[18];
    snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    json_object *o = json_object_new_object();
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

static json_object *neighbours_json(const struct tcpc_stack *stack)
{
    struct neigh_ctx nc = {json_object_new_array(), tcpc_now(stack)};
    tcpc_neigh_list(stack, neigh_json, &nc);
    return nc.list;
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

json_object *dmn_report(struct dmn *d, unsigned mask)
{
    dmn_device_sync(d);
    json_object *o = json_object_new_object();
    add_u64(o, "protocol", CTL_PROTOCOL);
    add_u64(o, "time_us", tcpc_tun_now());
    if (mask & CTL_DAEMON)
        json_object_object_add(o, "daemon", daemon_json(d));
    if (mask & CTL_CONNECTIONS) {
        json_object *list = json_object_new_array();
        tcpc_list_connections(d->stack, conn_json, list);
        json_object_object_add(o, "connections", list);
    }
    if (mask & CTL_COUNTERS)
        json_object_object_add(o, "counters", counters_json(d->stack));
    if (mask & CTL_TUNABLES)
        json_object_object_add(o, "tunables", tunables_json(d->stack));
    if (mask & CTL_NEIGHBOURS)
        json_object_object_add(o, "neighbours", neighbours_json(d->stack));
    if (mask & CTL_ROUTES)
        json_object_object_add(o, "routes", routes_json(d->stack));
    return o;
}

json_object *dmn_report_error(const char *why)
{
    json_object *o = json_object_new_object();
    add_u64(o, "protocol", CTL_PROTOCOL);
    json_object_object_add(o, "error", json_object_new_string(why));
    return o;
}
