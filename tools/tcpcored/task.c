/*
 * Tasks and connections: which object owns each tcpcore descriptor, the
 * queue of objects to run, and deferred freeing; see daemon.h.
 *
 * Stack events arrive from inside stack calls (tcpc_input, tcpc_send...),
 * where the owner must not run yet: the event callback only queues the
 * owner. Each queued task runs once per turn and does all the work its
 * sockets allow (every call is non-blocking), so edge-triggered events are
 * enough: a task that stops early, for backpressure, is queued again by the
 * event that unblocks it.
 */
#include <errno.h>
#include <stdlib.h>

#include "daemon.h"
#include "tcpcore/socket.h"
#include "tcpcore/sysctl.h"

static void on_stack_event(void *ctx, int sd, uint32_t events)
{
    struct dmn *d = ctx;
    (void)events;
    if (sd >= 0 && (unsigned)sd < d->ntasks && d->tasks[sd])
        dmn_task_ready(d, d->tasks[sd]);
}

int dmn_tasks_init(struct dmn *d)
{
    int64_t max = 0;
    tcpc_sysctl_get(d->stack, "kern.ipc.maxsockets", &max);
    d->ntasks = (unsigned)max;
    d->tasks = calloc(d->ntasks, sizeof(*d->tasks));
    if (!d->tasks)
        return -ENOMEM;
    tcpc_set_event_cb(d->stack, on_stack_event, d);
    return 0;
}

void dmn_tasks_free(struct dmn *d)
{
    free(d->tasks);
    d->tasks = NULL;
}

void dmn_task_map(struct dmn *d, int sd, struct dmn_task *t)
{
    if (sd >= 0 && (unsigned)sd < d->ntasks)
        d->tasks[sd] = t;
}

void dmn_task_unmap(struct dmn *d, int sd)
{
    dmn_task_map(d, sd, NULL);
}

void dmn_task_ready(struct dmn *d, struct dmn_task *t)
{
    if (t->queued || t->dead)
        return;
    t->queued = true;
    t->next_ready = NULL;
    if (d->ready_tail)
        d->ready_tail->next_ready = t;
    else
        d->ready_head = t;
    d->ready_tail = t;
}

void dmn_run_ready(struct dmn *d)
{
    while (d->ready_head) {
        struct dmn_task *t = d->ready_head;
        d->ready_head = t->next_ready;
        if (!d->ready_head)
            d->ready_tail = NULL;
        t->queued = false;
        if (!t->dead)
            t->step(t);
    }
}

struct dmn_conn *dmn_conn_new(struct dmn *d, size_t size, const struct dmn_service_conf *svc,
                              int sd, void (*step)(struct dmn_task *t))
{
    struct dmn_conn *c = calloc(1, size);
    if (!c)
        return NULL;
    c->task.step = step;
    c->d = d;
    c->svc = svc;
    c->sd = sd;
    c->next = d->conns;
    if (d->conns)
        d->conns->prev = c;
    d->conns = c;
    d->nconns++;
    dmn_task_map(d, sd, &c->task);
    dmn_task_ready(d, &c->task);
    return c;
}

void dmn_conn_release(struct dmn_conn *c)
{
    struct dmn *d = c->d;
    if (c->task.dead)
        return;
    c->task.dead = true;
    if (c->sd >= 0 && (unsigned)c->sd < d->ntasks && d->tasks[c->sd] == &c->task)
        dmn_task_unmap(d, c->sd);
    if (c->prev)
        c->prev->next = c->next;
    else
        d->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    d->nconns--;
    c->next = d->graveyard;
    d->graveyard = c;
}

void dmn_free_released(struct dmn *d)
{
    while (d->graveyard) {
        struct dmn_conn *c = d->graveyard;
        d->graveyard = c->next;
        free(c);
    }
}
