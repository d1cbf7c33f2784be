/*
 * Listeners: for each service, a socket on the IPv4 wildcard when the stack
 * has an IPv4 address and one on the IPv6 wildcard (IPV6_V6ONLY) when it
 * has an IPv6 one, so the listing shows each family as netstat would. On
 * readiness a listener accepts everything queued and hands each connection
 * to its service.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config_values.h"
#include "daemon.h"
#include "exitcodes.h"
#include "services.h"
#include "tcpcore/group.h"
#include "tcpcore/socket.h"

#define LISTEN_BACKLOG 4096

static int (*const starters[])(struct dmn *, const struct dmn_service_conf *, int) = {
    [DMN_SVC_ECHO] = svc_echo_start,       [DMN_SVC_DISCARD] = svc_discard_start,
    [DMN_SVC_SOURCE] = svc_source_start,   [DMN_SVC_HTTP] = svc_http_start,
    [DMN_SVC_FORWARD] = svc_forward_start,
};

void svc_reset(struct dmn *d, int sd)
{
    tcpc_setsockopt(d->stack, sd, TCPC_SO_LINGER, 0);
    tcpc_close(d->stack, sd);
}

/* In a group, closing worker 0's listener closes every worker's copy: the
 * stack tells the copy's owner (TCPC_EV_HUP, which queues this task) and
 * releases the descriptor, which a new connection may take. */
static bool listener_gone(struct dmn *d, const struct dmn_listener *l)
{
    return tcpc_stack_group_index(d->stack) >= 0 && tcpc_group_listener_id(d->stack, l->sd) < 0;
}

static void listener_forget(struct dmn *d, struct dmn_listener *l)
{
    if (l->sd >= 0 && (unsigned)l->sd < d->ntasks && d->tasks[l->sd] == &l->task)
        dmn_task_unmap(d, l->sd);
    l->task.dead = true;
    l->sd = -1;
}

static void listener_step(struct dmn_task *t)
{
    struct dmn_listener *l = (struct dmn_listener *)t;
    struct dmn *d = l->d;
    if (l->sd < 0)
        return;
    if (listener_gone(d, l)) {
        listener_forget(d, l);
        return;
    }
    for (;;) {
        int sd = tcpc_accept(d->stack, l->sd, NULL, NULL);
        if (sd < 0)
            return; /* -EAGAIN: queue empty */
        d->accepted++;
        if (d->stopping || starters[l->svc->kind](d, l->svc, sd) < 0)
            svc_reset(d, sd);
    }
}

static bool has_family(const struct dmn *d, bool v4)
{
    for (unsigned i = 0; i < d->conf.naddrs; i++)
        if (tcpc_addr_is_v4(&d->conf.addrs[i].addr) == v4)
            return true;
    return false;
}

/* The configured RFC 2385 keys of v4's family, on listener sd. */
int dmn_set_md5_keys(struct dmn *d, int sd, bool v4)
{
    for (unsigned i = 0; i < d->conf.nmd5_keys; i++) {
        const struct dmn_md5_key *k = &d->conf.md5_keys[i];
        if (tcpc_addr_is_v4(&k->peers.addr) != v4)
            continue;
        struct tcpc_md5sig m = {.addr = k->peers.addr,
                                .flags = TCPC_MD5SIG_FLAG_PREFIX,
                                .prefixlen = (uint8_t)k->peers.len,
                                .keylen = k->len};
        memcpy(m.key, k->key, k->len);
        int err = tcpc_setsockopt_buf(d->stack, sd, TCPC_TCP_MD5SIG, &m, sizeof(m));
        if (err)
            return err;
    }
    return 0;
}

/* What each member's listener needs set on it: a copy of a group listener
 * does not inherit MD5 keys, the accept filter or Fast Open (group.h), so
 * the same settings go on the original and on every copy. */
static int listener_options(struct dmn *d, const struct dmn_service_conf *svc, int sd, bool v4)
{
    int err = dmn_set_md5_keys(d, sd, v4);
    if (!err && svc->kind == DMN_SVC_HTTP && d->conf.accept_filter[0])
        err = tcpc_setsockopt_str(d->stack, sd, TCPC_SO_ACCEPTFILTER, d->conf.accept_filter);
    /* Fast Open: the stack serves SYNs without it while half the backlog
     * are children a cookie let in and not yet acknowledged. */
    if (!err && (d->conf.fastopen & DMN_TFO_SERVER))
        err = tcpc_setsockopt(d->stack, sd, TCPC_TCP_FASTOPEN, 1);
    return err;
}

static int listener_failed(struct dmn *d, const struct dmn_service_conf *svc, bool v4, int sd,
                           int err, char *why)
{
    snprintf(why, DMN_WHY_LEN, "cannot listen on %s port %u for %s: %s%s", v4 ? "IPv4" : "IPv6",
             svc->port, dmn_service_name(svc->kind), strerror(-err),
             err == -EADDRINUSE ? " (two services on one port?)" : "");
    if (sd >= 0)
        tcpc_close(d->stack, sd);
    return err == -EADDRINUSE ? DMN_EXIT_IN_USE : DMN_EXIT_RUNTIME;
}

static void listener_add(struct dmn *d, const struct dmn_service_conf *svc, int sd, bool v4)
{
    struct dmn_listener *l = &d->listeners[d->nlisteners++];
    *l = (struct dmn_listener){
        .task = {.step = listener_step}, .d = d, .svc = svc, .sd = sd, .v4 = v4};
    dmn_task_map(d, sd, &l->task);
}

static int open_one(struct dmn *d, const struct dmn_service_conf *svc, bool v4, char *why)
{
    int sd = tcpc_socket(d->stack, v4 ? TCPC_AF_INET : TCPC_AF_INET6);
    int err = sd < 0 ? sd : 0;
    if (!err && !v4)
        err = tcpc_setsockopt(d->stack, sd, TCPC_IPV6_V6ONLY, 1);
    if (!err)
        err = tcpc_bind(d->stack, sd, NULL, svc->port);
    if (!err)
        err = tcpc_listen(d->stack, sd, LISTEN_BACKLOG);
    if (!err)
        err = listener_options(d, svc, sd, v4);
    if (err)
        return listener_failed(d, svc, v4, sd, err, why);
    listener_add(d, svc, sd, v4);
    return DMN_EXIT_OK;
}

int dmn_listeners_open(struct dmn *d, char *why)
{
    for (unsigned i = 0; i < d->conf.nservices; i++)
        for (int v4 = 1; v4 >= 0; v4--) {
            if (!has_family(d, v4))
                continue;
            int rc = open_one(d, &d->conf.services[i], v4, why);
            if (rc)
                return rc;
        }
    return DMN_EXIT_OK;
}

int dmn_listeners_copy(struct dmn *d, const struct dmn *origin, char *why)
{
    for (unsigned i = 0; i < origin->nlisteners; i++) {
        const struct dmn_listener *o = &origin->listeners[i];
        int id = tcpc_group_listener_id(origin->stack, o->sd);
        int sd = id < 0 ? id : tcpc_group_listener_sd(d->stack, id);
        int err = sd < 0 ? sd : listener_options(d, o->svc, sd, o->v4);
        if (err)
            return listener_failed(d, o->svc, o->v4, sd, err, why);
        listener_add(d, o->svc, sd, o->v4);
    }
    return DMN_EXIT_OK;
}

void dmn_listeners_close(struct dmn *d)
{
    for (unsigned i = 0; i < d->nlisteners; i++) {
        struct dmn_listener *l = &d->listeners[i];
        if (l->sd < 0)
            continue;
        /* Accepted connections still queued are reset by the close. */
        if (!listener_gone(d, l))
            tcpc_close(d->stack, l->sd);
        listener_forget(d, l);
    }
}
