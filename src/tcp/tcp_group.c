/*
 * The listeners of a connection group; see tcp_group.h.
 *
 * A member learns of a change at an entry (stack_group_sync: one relaxed
 * load of the group's generation), takes a copy of the group's listener
 * slots under the group's lock, and then opens or closes its copies
 * without the lock, through the ordinary socket calls: a copy is a
 * listener like any other, bound and listening on the same address and
 * port, with the options its children inherit. It carries INP_SHAREDCOPY,
 * so its bind is checked against this member's sockets only (the group's
 * reservation is the original's) and it is never published itself.
 */
#include "tcp/tcp_group.h"

#include <errno.h>

#include "pcb/pcb.h"
#include "tcp/tcp_cc.h"
#include "tcpcore/socket.h"

/* The t_flags a listener's children and SYN-ACKs take (syncache.c). */
#define GROUP_TF_INHERITED                                                                         \
    (TF_NODELAY | TF_NOOPT | TF_NOPUSH | TF_KEEPALIVE | TF_SNDBUF_SET | TF_RCVBUF_SET | TF_DONTFRAG)

static void group_opts_save(const struct tcpcb *l, struct group_listen_opts *o)
{
    *o = (struct group_listen_opts){
        .inp_flags = l->inp->flags & INP_SETTABLE,
        .t_flags = l->t_flags & GROUP_TF_INHERITED,
        .user_timeout = l->t_user_timeout,
        .max_pacing_rate = l->t_max_pacing_rate,
        .snd_bufsize = l->snd_bufsize,
        .rcv_bufsize = l->rcv_bufsize,
        .usermss = l->t_usermss,
        .keepinit = l->t_keepinit,
        .keepidle = l->t_keepidle,
        .keepintvl = l->t_keepintvl,
        .linger = l->linger,
        .ip_ttl = l->t_ip_ttl,
        .ip_tos = l->t_ip_tos,
        .keepcnt = l->t_keepcnt,
        .oobflags = l->t_oobflags,
        .cc = l->t_cc,
    };
}

/* Gives copy tp (fresh, unbound) the options the original had. */
static int group_opts_load(struct tcpc_stack *stack, struct tcpcb *tp,
                           const struct group_listen_opts *o)
{
    int err = pcb_setopt(tp->inp, o->inp_flags, true);
    if (err)
        return err;
    tp->inp->flags |= INP_SHAREDCOPY;
    tp->t_flags |= o->t_flags;
    tp->t_user_timeout = o->user_timeout;
    tp->t_max_pacing_rate = o->max_pacing_rate;
    tp->snd_bufsize = o->snd_bufsize;
    tp->rcv_bufsize = o->rcv_bufsize;
    tp->t_usermss = o->usermss;
    tp->t_keepinit = o->keepinit;
    tp->t_keepidle = o->keepidle;
    tp->t_keepintvl = o->keepintvl;
    tp->linger = o->linger;
    tp->t_ip_ttl = o->ip_ttl;
    tp->t_ip_tos = o->ip_tos;
    tp->t_keepcnt = o->keepcnt;
    tp->t_oobflags = o->oobflags;
    return cc_attach(stack, tp, o->cc) ? -ESRCH : 0;
}

int tcp_group_listen_begin(struct tcpc_stack *stack, const struct tcpcb *tp, int *slot)
{
    *slot = -1;
    if (!stack->group || tp->state == TCPS_LISTEN || (tp->inp->flags & INP_SHAREDCOPY))
        return 0;
    int s = group_lis_reserve(stack->group);
    if (s < 0)
        return s;
    *slot = s;
    return 0;
}

void tcp_group_listen_end(struct tcpc_stack *stack, const struct tcpcb *tp, int sd, int slot,
                          int err)
{
    if (slot < 0)
        return;
    if (err) {
        group_lis_cancel(stack->group, (unsigned)slot);
        return;
    }
    struct group_listener rec = {
        .owner = stack->cfg.group_index,
        .family = tp->family,
        .lport = tp->inp->lport,
        .laddr = tp->inp->laddr,
        .backlog = tp->q_limit,
    };
    group_opts_save(tp, &rec.opts);
    uint32_t id = group_lis_publish(stack->group, (unsigned)slot, &rec);
    stack->group_lis[slot] = (struct stack_group_copy){.id = id, .sd = sd, .origin = true};
}

void tcp_group_listener_closed(struct tcpc_stack *stack, int sd)
{
    if (!stack->group)
        return;
    for (unsigned k = 0; k < TCPC_GROUP_LISTENERS; k++) {
        struct stack_group_copy *c = &stack->group_lis[k];
        if (!c->id || c->sd != sd)
            continue;
        if (c->origin) {
            group_lis_remove(stack->group, k, c->id);
            *c = (struct stack_group_copy){0};
        } else {
            c->sd = -EBADF; /* the application closed its copy: not reopened */
        }
    }
}

static void group_event(struct tcpc_stack *stack, int sd, uint32_t ev)
{
    if (stack->tcp->event_cb)
        stack->tcp->event_cb(stack->tcp->event_ctx, sd, ev);
}

/* This member's copy of rec: a listener like the original. */
static void group_copy_open(struct tcpc_stack *stack, struct stack_group_copy *c,
                            const struct group_listener *rec)
{
    *c = (struct stack_group_copy){.id = rec->id, .sd = -ENOENT};
    int sd = tcpc_socket(stack, rec->family);
    if (sd < 0) {
        c->sd = sd;
        return;
    }
    int err = group_opts_load(stack, stack->tcp->sockets[sd], &rec->opts);
    if (!err)
        err = tcpc_bind(stack, sd, &rec->laddr, rec->lport);
    if (!err)
        err = tcpc_listen(stack, sd, (int)rec->backlog);
    if (err) {
        tcpc_close(stack, sd);
        c->sd = err;
        return;
    }
    c->sd = sd;
    group_event(stack, sd, TCPC_EV_LISTENER);
}

/* The group's listener is gone: its copy here closes as a lone stack's
 * listener does (children not yet accepted are reset), after the
 * application was told on the descriptor. */
static void group_copy_close(struct tcpc_stack *stack, struct stack_group_copy *c)
{
    int sd = c->sd;
    if (sd >= 0 && !c->origin) {
        group_event(stack, sd, TCPC_EV_HUP);
        if (c->sd == sd) /* not closed by the callback */
            tcpc_close(stack, sd);
    }
    *c = (struct stack_group_copy){0};
}

void tcp_group_sync(struct tcpc_stack *stack)
{
    /* An event callback fired below may call in again (accept on the new
     * copy, tcpc_group_listener_sd): the outer pass finishes the job. */
    if (stack->tcp->group_syncing)
        return;
    struct group_listener recs[TCPC_GROUP_LISTENERS];
    if (!group_lis_copy(stack->group, &stack->group_lis_ver, recs))
        return;
    stack->tcp->group_syncing = true;
    for (unsigned k = 0; k < TCPC_GROUP_LISTENERS; k++) {
        struct stack_group_copy *c = &stack->group_lis[k];
        if (c->id && c->id != recs[k].id)
            group_copy_close(stack, c);
        if (recs[k].id && c->id != recs[k].id)
            group_copy_open(stack, c, &recs[k]);
    }
    stack->tcp->group_syncing = false;
}

int tcpc_group_listener_sd(struct tcpc_stack *stack, int id)
{
    if (!stack->group || id <= 0)
        return -ENOENT;
    stack_group_sync(stack);
    for (unsigned k = 0; k < TCPC_GROUP_LISTENERS; k++)
        if (stack->group_lis[k].id == (uint32_t)id)
            return stack->group_lis[k].sd;
    return -ENOENT;
}

int tcpc_group_listener_id(struct tcpc_stack *stack, int sd)
{
    if (!stack->group || sd < 0)
        return -ENOENT;
    for (unsigned k = 0; k < TCPC_GROUP_LISTENERS; k++)
        if (stack->group_lis[k].id && stack->group_lis[k].sd == sd)
            return (int)stack->group_lis[k].id;
    return -ENOENT;
}
