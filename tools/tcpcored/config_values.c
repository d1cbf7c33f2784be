/*
 * Parsers for single setting values; see config_values.h.
 */
#include "config_values.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "tcpcore/sysctl.h"

#define WHY(...) (snprintf(why, DMN_WHY_LEN, __VA_ARGS__))

static const char *const kind_names[] = {
    [DMN_SVC_ECHO] = "echo", [DMN_SVC_DISCARD] = "discard", [DMN_SVC_SOURCE] = "source",
    [DMN_SVC_HTTP] = "http", [DMN_SVC_FORWARD] = "forward",
};

enum dmn_service_kind dmn_service_kind(const char *name)
{
    for (unsigned k = DMN_SVC_ECHO; k <= DMN_SVC_FORWARD; k++)
        if (!strcmp(name, kind_names[k]))
            return (enum dmn_service_kind)k;
    return 0;
}

const char *dmn_service_name(enum dmn_service_kind kind)
{
    return kind >= DMN_SVC_ECHO && kind <= DMN_SVC_FORWARD ? kind_names[kind] : "?";
}

int dmn_parse_u64(const char *text, uint64_t max, const char *what, uint64_t *out, char *why)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!isdigit((unsigned char)text[0]) || errno || *end || v > max) {
        WHY("%s \"%s\" is not a number from 0 to %" PRIu64, what, text, max);
        return DMN_EXIT_BAD_SETTING;
    }
    *out = v;
    return DMN_EXIT_OK;
}

int dmn_set_string(char *field, size_t size, const char *text, const char *what, char *why)
{
    if (strlen(text) >= size) {
        WHY("%s \"%s\" is longer than %zu characters", what, text, size - 1);
        return DMN_EXIT_BAD_SETTING;
    }
    strcpy(field, text);
    return DMN_EXIT_OK;
}

/* A unicast address a stack can own: not unspecified, not multicast, not
 * the IPv4 limited broadcast. */
static bool unicast(const struct tcpc_addr *a)
{
    if (tcpc_addr_is_any(a))
        return false;
    if (tcpc_addr_is_v4(a))
        return a->bytes[12] < 224;
    return a->bytes[0] != 0xff;
}

int dmn_parse_prefix(const char *text, struct dmn_prefix *out, char *why)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t n = slash ? (size_t)(slash - text) : strlen(text);
    if (n >= sizeof(host) ||
        (memcpy(host, text, n), host[n] = 0, tcpc_addr_parse(host, &out->addr))) {
        WHY("\"%s\" is not an IPv4 or IPv6 address (with an optional /prefix)", text);
        return DMN_EXIT_BAD_ADDRESS;
    }
    unsigned max = tcpc_addr_is_v4(&out->addr) ? 32 : 128;
    out->len = max;
    if (slash) {
        char *end;
        errno = 0;
        unsigned long len = strtoul(slash + 1, &end, 10);
        if (!isdigit((unsigned char)slash[1]) || *end || errno || len > max) {
            WHY("the prefix length in \"%s\" is not a number from 0 to %u", text, max);
            return DMN_EXIT_BAD_ADDRESS;
        }
        out->len = (unsigned)len;
    }
    return DMN_EXIT_OK;
}

int dmn_parse_hostport(const char *text, struct tcpc_addr *addr, uint16_t *port, char *why)
{
    char host[64];
    const char *colon;
    size_t n;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        colon = close && close[1] == ':' ? close + 1 : NULL;
        n = close ? (size_t)(close - text - 1) : 0;
        text++;
    } else {
        colon = strrchr(text, ':');
        n = colon ? (size_t)(colon - text) : 0;
    }
    if (!colon || n == 0 || n >= sizeof(host)) {
        WHY("\"%s\" is not ADDRESS:PORT (an IPv6 address goes in brackets: [2001:db8::1]:80)",
            text);
        return DMN_EXIT_BAD_ADDRESS;
    }
    memcpy(host, text, n);
    host[n] = 0;
    char *end;
    errno = 0;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (tcpc_addr_parse(host, addr) || tcpc_addr_is_any(addr)) {
        WHY("\"%s\" is not an IPv4 or IPv6 address to connect to", host);
        return DMN_EXIT_BAD_ADDRESS;
    }
    if (!isdigit((unsigned char)colon[1]) || *end || errno || p == 0 || p > 65535) {
        WHY("the port in \"%s\" is not a number from 1 to 65535", colon + 1);
        return DMN_EXIT_BAD_ADDRESS;
    }
    *port = (uint16_t)p;
    return DMN_EXIT_OK;
}

int dmn_config_add_addr(struct dmn_config *c, const char *text, char *why)
{
    struct dmn_prefix p;
    int rc = dmn_parse_prefix(text, &p, why);
    if (rc)
        return rc;
    if (!unicast(&p.addr)) {
        WHY("%s is not a unicast address the stack can own", text);
        return DMN_EXIT_BAD_ADDRESS;
    }
    for (unsigned i = 0; i < c->naddrs; i++)
        if (tcpc_addr_eq(&c->addrs[i].addr, &p.addr)) {
            WHY("address %s is given twice", text);
            return DMN_EXIT_BAD_ADDRESS;
        }
    if (c->naddrs == TCPC_MAX_LOCAL_ADDRS) {
        WHY("more than %d addresses", TCPC_MAX_LOCAL_ADDRS);
        return DMN_EXIT_BAD_SETTING;
    }
    c->addrs[c->naddrs++] = p;
    return DMN_EXIT_OK;
}

int dmn_config_add_gateway(struct dmn_config *c, const char *text, char *why)
{
    struct tcpc_addr a;
    if (tcpc_addr_parse(text, &a) || !unicast(&a)) {
        WHY("gateway \"%s\" is not a unicast IPv4 or IPv6 address", text);
        return DMN_EXIT_BAD_ADDRESS;
    }
    for (unsigned i = 0; i < c->ngateways; i++)
        if (tcpc_addr_is_v4(&c->gateways[i]) == tcpc_addr_is_v4(&a)) {
            WHY("gateway %s: there is already an %s gateway", text,
                tcpc_addr_is_v4(&a) ? "IPv4" : "IPv6");
            return DMN_EXIT_BAD_ADDRESS;
        }
    c->gateways[c->ngateways++] = a;
    return DMN_EXIT_OK;
}

int dmn_config_set_accept_filter(struct dmn_config *c, const char *name, char *why)
{
    /* The stack would say -ENOENT only once the listener exists: the names
     * are checked here, so a typo stops the daemon before it starts. */
    if (strcmp(name, "dataready") != 0 && strcmp(name, "httpready") != 0) {
        WHY("accept filter \"%s\" is not dataready or httpready", name);
        return DMN_EXIT_BAD_SETTING;
    }
    return dmn_set_string(c->accept_filter, sizeof(c->accept_filter), name, "accept filter", why);
}

int dmn_config_add_md5_key(struct dmn_config *c, const char *text, char *why)
{
    const char *eq = strchr(text, '=');
    char prefix[TCPC_ADDRSTRLEN + 4];
    if (!eq || eq == text || (size_t)(eq - text) >= sizeof(prefix)) {
        WHY("MD5 key \"%s\" is not PREFIX=KEY (198.18.0.1=secret, 2001:db8::/32=secret)", text);
        return DMN_EXIT_BAD_SETTING;
    }
    if (c->nmd5_keys == DMN_MAX_MD5_KEYS) {
        WHY("more than %d MD5 keys", DMN_MAX_MD5_KEYS);
        return DMN_EXIT_BAD_SETTING;
    }
    memcpy(prefix, text, (size_t)(eq - text));
    prefix[eq - text] = 0;
    struct dmn_md5_key *k = &c->md5_keys[c->nmd5_keys];
    int rc = dmn_parse_prefix(prefix, &k->peers, why);
    if (rc)
        return rc;
    size_t len = strlen(eq + 1);
    if (len == 0 || len > sizeof(k->key)) {
        WHY("MD5 key for %s: %zu bytes, where 1 to %zu are allowed", prefix, len, sizeof(k->key));
        return DMN_EXIT_BAD_SETTING;
    }
    for (unsigned i = 0; i < c->nmd5_keys; i++)
        if (c->md5_keys[i].peers.len == k->peers.len &&
            tcpc_addr_eq(&c->md5_keys[i].peers.addr, &k->peers.addr)) {
            WHY("MD5 key for %s: that prefix has a key already", prefix);
            return DMN_EXIT_BAD_SETTING;
        }
    memcpy(k->key, eq + 1, len);
    k->len = (uint8_t)len;
    c->nmd5_keys++;
    return DMN_EXIT_OK;
}

static const char *const fastopen_modes[] = {
    [0] = "off",
    [DMN_TFO_SERVER] = "server",
    [DMN_TFO_CLIENT] = "client",
    [DMN_TFO_SERVER | DMN_TFO_CLIENT] = "both",
};

int dmn_config_set_fastopen(struct dmn_config *c, const char *text, char *why)
{
    for (unsigned m = 0; m < sizeof(fastopen_modes) / sizeof(fastopen_modes[0]); m++)
        if (!strcmp(text, fastopen_modes[m])) {
            c->fastopen = m;
            return DMN_EXIT_OK;
        }
    WHY("TCP Fast Open mode \"%s\" is not one of server, client, both, off", text);
    return DMN_EXIT_BAD_SETTING;
}

/* A --sysctl that turns off the side of Fast Open --tcp-fastopen asks for
 * would make the listeners or the forward's sockets refuse TCP_FASTOPEN
 * later, with a less clear sentence: said here. */
static int fastopen_conflict(const struct dmn_config *c, char *why)
{
    static const struct {
        unsigned bit;
        const char *tunable;
    } sides[] = {
        {DMN_TFO_SERVER, "net.inet.tcp.fastopen.server_enable"},
        {DMN_TFO_CLIENT, "net.inet.tcp.fastopen.client_enable"},
    };
    for (unsigned s = 0; s < 2; s++)
        for (unsigned i = 0; i < c->nsysctls; i++)
            if ((c->fastopen & sides[s].bit) && !strcmp(c->sysctls[i].name, sides[s].tunable) &&
                c->sysctls[i].value == 0) {
                WHY("--tcp-fastopen %s needs %s, which a tunable setting turns off",
                    fastopen_modes[c->fastopen], sides[s].tunable);
                return DMN_EXIT_BAD_SETTING;
            }
    return DMN_EXIT_OK;
}

int dmn_config_add_sysctl(struct dmn_config *c, const char *name, int64_t value, char *why)
{
    if (c->nsysctls == DMN_MAX_SYSCTLS) {
        WHY("more than %d tunables", DMN_MAX_SYSCTLS);
        return DMN_EXIT_BAD_SETTING;
    }
    struct dmn_sysctl *s = &c->sysctls[c->nsysctls];
    if (strlen(name) >= sizeof(s->name)) {
        WHY("there is no tunable named %s", name);
        return DMN_EXIT_BAD_TUNABLE;
    }
    strcpy(s->name, name);
    s->value = value;
    c->nsysctls++;
    return DMN_EXIT_OK;
}

int dmn_config_add_sysctl_text(struct dmn_config *c, const char *text, char *why)
{
    const char *eq = strchr(text, '=');
    char name[64];
    if (!eq || eq == text || (size_t)(eq - text) >= sizeof(name)) {
        WHY("tunable setting \"%s\" is not NAME=VALUE (net.inet.tcp.msl=10000)", text);
        return DMN_EXIT_BAD_TUNABLE;
    }
    memcpy(name, text, (size_t)(eq - text));
    name[eq - text] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(eq + 1, &end, 10);
    if (eq[1] == 0 || *end || errno) {
        WHY("the value of tunable %s, \"%s\", is not an integer", name, eq + 1);
        return DMN_EXIT_BAD_TUNABLE;
    }
    return dmn_config_add_sysctl(c, name, v, why);
}

int dmn_config_add_service(struct dmn_config *c, const struct dmn_service_conf *s, char *why)
{
    if (c->nservices == DMN_MAX_SERVICES) {
        WHY("more than %d services", DMN_MAX_SERVICES);
        return DMN_EXIT_BAD_SETTING;
    }
    if (s->port == 0) {
        WHY("service %s needs a port from 1 to 65535", dmn_service_name(s->kind));
        return DMN_EXIT_BAD_SETTING;
    }
    c->services[c->nservices++] = *s;
    return DMN_EXIT_OK;
}

/* The part of a service specification after KIND:PORT. */
static int service_arg(struct dmn_service_conf *s, const char *arg, char *why)
{
    if (s->kind == DMN_SVC_SOURCE)
        return arg ? dmn_parse_u64(arg, UINT64_MAX / 2, "source byte count", &s->bytes, why)
                   : DMN_EXIT_OK;
    if (s->kind != DMN_SVC_FORWARD) {
        if (arg) {
            WHY("service %s takes no argument after its port (\"%s\")", dmn_service_name(s->kind),
                arg);
            return DMN_EXIT_BAD_SETTING;
        }
        return DMN_EXIT_OK;
    }
    if (!arg) {
        WHY("service forward needs a backend: forward:PORT:ADDRESS:PORT");
        return DMN_EXIT_BAD_SETTING;
    }
    char target[96];
    if (dmn_set_string(target, sizeof(target), arg, "forward target", why))
        return DMN_EXIT_BAD_ADDRESS;
    char *comma = strchr(target, ',');
    if (comma) {
        *comma = 0;
        if (strcmp(comma + 1, "stack") && strcmp(comma + 1, "kernel")) {
            WHY("forward: \"%s\" is neither \"kernel\" nor \"stack\"", comma + 1);
            return DMN_EXIT_BAD_SETTING;
        }
        s->via_stack = !strcmp(comma + 1, "stack");
    }
    return dmn_parse_hostport(target, &s->to, &s->to_port, why);
}

int dmn_config_add_service_text(struct dmn_config *c, const char *text, char *why)
{
    char spec[160];
    if (dmn_set_string(spec, sizeof(spec), text, "service", why))
        return DMN_EXIT_BAD_SETTING;
    char *port = strchr(spec, ':');
    if (port)
        *port++ = 0;
    struct dmn_service_conf s = {.kind = dmn_service_kind(spec)};
    if (!s.kind || !port) {
        WHY("service \"%s\" is not KIND:PORT with KIND one of echo, discard, source, http, "
            "forward",
            text);
        return DMN_EXIT_BAD_SETTING;
    }
    char *arg = strchr(port, ':');
    if (arg)
        *arg++ = 0;
    uint64_t p;
    int rc = dmn_parse_u64(port, 65535, "service port", &p, why);
    if (!rc)
        rc = service_arg(&s, arg, why);
    s.port = (uint16_t)p;
    return rc ? rc : dmn_config_add_service(c, &s, why);
}

/* True when a lies inside prefix p (both of one family). */
static bool in_prefix(const struct dmn_prefix *p, const struct tcpc_addr *a)
{
    if (tcpc_addr_is_v4(&p->addr) != tcpc_addr_is_v4(a))
        return false;
    unsigned bits = tcpc_addr_is_v4(a) ? p->len + 96 : p->len;
    for (unsigned i = 0; i < bits; i++) {
        unsigned byte = i / 8, mask = 0x80u >> (i % 8);
        if ((p->addr.bytes[byte] ^ a->bytes[byte]) & mask)
            return false;
    }
    return true;
}

int dmn_config_check(const struct dmn_config *c, char *why)
{
    char text[TCPC_ADDRSTRLEN];
    if (c->naddrs == 0) {
        WHY("the stack has no address: give one with --addr (198.18.0.2/24)");
        return DMN_EXIT_BAD_ADDRESS;
    }
    for (unsigned g = 0; g < c->ngateways; g++) {
        bool inside = false;
        for (unsigned i = 0; i < c->naddrs && !inside; i++)
            inside = in_prefix(&c->addrs[i], &c->gateways[g]);
        if (!inside) {
            WHY("gateway %s is not inside any prefix of the stack's addresses",
                tcpc_addr_format(&c->gateways[g], text, sizeof(text)));
            return DMN_EXIT_BAD_ADDRESS;
        }
    }
    if (c->af_packet && c->multi_queue) {
        WHY("--tun-multiqueue is for a TUN device, not for --af-packet %s", c->device);
        return DMN_EXIT_BAD_SETTING;
    }
    if (c->jobs > 1 && !c->af_packet && !c->multi_queue) {
        WHY("-j %u needs one queue per worker: --af-packet IFNAME, or --tun-multiqueue on a "
            "TUN device made with multi_queue",
            c->jobs);
        return DMN_EXIT_BAD_SETTING;
    }
    if (c->nservices == 0) {
        WHY("no service to run: give one with --service (http:80)");
        return DMN_EXIT_BAD_SETTING;
    }
    return fastopen_conflict(c, why);
}
