/*
 * The in-memory link; see memlink.h.
 */
#include "memlink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct memlink_pkt {
    struct memlink_pkt *next;
    int to_side;
    tcpc_time_t due;
    size_t len;
    uint8_t data[];
};

struct memlink_port {
    struct tcpc_memlink *link;
    int side;
};

struct tcpc_memlink {
    struct memlink_port ports[2];
    struct tcpc_stack *stacks[2];
    struct memlink_pkt *head, *tail; /* FIFO; due times are non-decreasing */
    size_t pending;
    tcpc_time_t now, delay;
    uint32_t loss_ppm;
    uint64_t rng;
    tcpc_memlink_tap_fn tap;
    void *tap_ctx;
};

struct tcpc_memlink *tcpc_memlink_new(uint64_t seed)
{
    struct tcpc_memlink *link = calloc(1, sizeof(*link));
    if (!link)
        return NULL;
    for (int i = 0; i < 2; i++)
        link->ports[i] = (struct memlink_port){link, i};
    link->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
    return link;
}

void tcpc_memlink_del(struct tcpc_memlink *link)
{
    if (!link)
        return;
    while (link->head) {
        struct memlink_pkt *p = link->head;
        link->head = p->next;
        free(p);
    }
    free(link);
}

/* xorshift64*: reproducible loss decisions from the seed. */
static uint32_t memlink_random(struct tcpc_memlink *link)
{
    link->rng ^= link->rng >> 12;
    link->rng ^= link->rng << 25;
    link->rng ^= link->rng >> 27;
    return (uint32_t)((link->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static int memlink_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct memlink_port *port = ctx;
    struct tcpc_memlink *link = port->link;
    /* Loss on the wire is silent: the sender believes the packet went. */
    if (link->loss_ppm && memlink_random(link) % 1000000u < link->loss_ppm)
        return 0;
    struct memlink_pkt *p = malloc(sizeof(*p) + len);
    if (!p)
        return -ENOBUFS; /* our own queue is full: say so */
    p->next = NULL;
    p->to_side = 1 - port->side;
    p->due = link->now + link->delay;
    p->len = len;
    memcpy(p->data, pkt, len);
    if (link->tail)
        link->tail->next = p;
    else
        link->head = p;
    link->tail = p;
    link->pending++;
    return 0;
}

void tcpc_memlink_configure(struct tcpc_memlink *link, int side, struct tcpc_config *cfg)
{
    tcpc_config_set_output(cfg, memlink_output, &link->ports[side & 1]);
}

void tcpc_memlink_attach(struct tcpc_memlink *link, int side, struct tcpc_stack *stack)
{
    link->stacks[side & 1] = stack;
}

void tcpc_memlink_set_tap(struct tcpc_memlink *link, tcpc_memlink_tap_fn fn, void *ctx)
{
    link->tap = fn;
    link->tap_ctx = ctx;
}

void tcpc_memlink_set_faults(struct tcpc_memlink *link, tcpc_time_t delay, uint32_t loss_ppm)
{
    link->delay = delay;
    link->loss_ppm = loss_ppm;
}

size_t tcpc_memlink_pending(const struct tcpc_memlink *link)
{
    return link->pending;
}

static void memlink_deliver_one(struct tcpc_memlink *link)
{
    struct memlink_pkt *p = link->head;
    link->head = p->next;
    if (!link->head)
        link->tail = NULL;
    link->pending--;
    if (link->tap)
        link->tap(link->tap_ctx, 1 - p->to_side, link->now, p->data, p->len);
    struct tcpc_stack *to = link->stacks[p->to_side];
    if (to)
        tcpc_input(to, link->now, p->data, p->len);
    free(p);
}

static tcpc_time_t memlink_next_event(const struct tcpc_memlink *link)
{
    tcpc_time_t next = link->head ? link->head->due : TCPC_TIME_NEVER;
    for (int i = 0; i < 2; i++) {
        if (!link->stacks[i])
            continue;
        tcpc_time_t d = tcpc_next_deadline(link->stacks[i]);
        if (d < next)
            next = d;
    }
    return next;
}

tcpc_time_t tcpc_memlink_run(struct tcpc_memlink *link, tcpc_time_t now, tcpc_time_t limit)
{
    if (now > link->now)
        link->now = now;
    for (;;) {
        while (link->head && link->head->due <= link->now)
            memlink_deliver_one(link);
        for (int i = 0; i < 2; i++)
            if (link->stacks[i])
                tcpc_advance(link->stacks[i], link->now);
        if (link->head && link->head->due <= link->now)
            continue;
        tcpc_time_t next = memlink_next_event(link);
        if (next > limit || next == TCPC_TIME_NEVER)
            return link->now;
        /* A deadline may be reported early, never late; stepping past it
         * guarantees progress either way. */
        link->now = next > link->now ? next : link->now + 1;
    }
}
