/*
 * Connection groups (include/tcpcore/group.h, docs/groups.md): the part the
 * members of a group share. Everything here runs on a member's own thread
 * or on the thread that made the group; the group never runs by itself.
 *
 * The core may not start threads or read clocks, but a group is shared
 * between threads by definition, so it synchronises: C11 atomics for what
 * is read often or counted, a spinlock for the rare writes. None of it is on
 * the path of an established connection's packets.
 */
#include "core/group.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"

/* The lock of the rare writes: acquire on taking it, release on letting
 * go, so whatever was written under it is seen by the next holder. */
static void group_lock(struct tcpc_group *g)
{
    while (atomic_flag_test_and_set_explicit(&g->lock, memory_order_acquire))
        ;
}

static void group_unlock(struct tcpc_group *g)
{
    atomic_flag_clear_explicit(&g->lock, memory_order_release);
}

int tcpc_group_new(unsigned n, struct tcpc_group **out)
{
    if (n == 0 || n > TCPC_GROUP_MAX)
        return -EINVAL;
    struct tcpc_group *g = aligned_alloc(GROUP_LINE, sizeof(*g));
    if (!g)
        return -ENOMEM;
    memset(g, 0, sizeof(*g));
    atomic_flag_clear(&g->lock);
    atomic_flag_clear(&g->ports_lock);
    g->n = n;
    randombytes_buf(g->master, sizeof(g->master));
    atomic_init(&g->gen, 0);
    atomic_init(&g->refs, 1); /* the caller's */
    atomic_init(&g->tw_count, 0);
    *out = g;
    return 0;
}

static void group_inbox_free(struct group_inbox *in, unsigned n)
{
    if (!in)
        return;
    for (unsigned i = 0; i < n; i++)
        free(in->from[i]);
    free(in);
}

static void group_unref(struct tcpc_group *g)
{
    /* acq_rel: whoever frees sees every write the others made before
     * letting go. */
    if (atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (unsigned i = 0; i < g->n; i++)
        group_inbox_free(atomic_load_explicit(&g->inbox[i], memory_order_relaxed), g->n);
    sodium_memzero(g->master, sizeof(g->master));
    if (g->ports)
        g->ports_free(g->ports);
    free(g);
}

void tcpc_group_del(struct tcpc_group *group)
{
    if (group)
        group_unref(group);
}

unsigned tcpc_group_size(const struct tcpc_group *group)
{
    return group->n;
}

int tcpc_config_set_group(struct tcpc_config *cfg, struct tcpc_group *group, unsigned index)
{
    if (group && index >= group->n)
        return -EINVAL;
    cfg->group = group;
    cfg->group_index = group ? index : 0;
    return 0;
}

int tcpc_stack_group_index(const struct tcpc_stack *stack)
{
    return stack->group ? (int)stack->cfg.group_index : -ENOENT;
}

void tcpc_group_set_wake(struct tcpc_group *group, tcpc_group_wake_fn fn, void *ctx)
{
    group->wake = fn;
    group->wake_ctx = fn ? ctx : NULL;
}

/* Slots per ring: 64, fewer in a large group so that a member's queues
 * stay near 512 packets in all (four at least per producer). */
static unsigned group_ring_slots(unsigned n)
{
    unsigned slots = 64;
    while (slots > 4 && slots * (n - 1) > 512)
        slots /= 2;
    return slots;
}

/* Member me's queues, one ring from each other member, for packets of up
 * to cap bytes; NULL without memory. */
static struct group_inbox *group_inbox_new(unsigned n, unsigned me, size_t cap)
{
    struct group_inbox *in =
        aligned_alloc(GROUP_LINE, (sizeof(*in) + n * sizeof(in->from[0]) + GROUP_LINE - 1) /
                                      GROUP_LINE * GROUP_LINE);
    if (!in)
        return NULL;
    memset(in, 0, sizeof(*in) + n * sizeof(in->from[0]));
    atomic_init(&in->pending, 0);
    in->nslots = group_ring_slots(n);
    in->cap = cap;
    in->stride = (sizeof(uint32_t) * 2 + cap + GROUP_LINE - 1) / GROUP_LINE * GROUP_LINE;
    for (unsigned i = 0; i < n; i++) {
        if (i == me)
            continue;
        struct group_ring *r = aligned_alloc(GROUP_LINE, sizeof(*r) + in->nslots * in->stride);
        if (!r) {
            group_inbox_free(in, n);
            return NULL;
        }
        atomic_init(&r->tail, 0);
        atomic_init(&r->head, 0);
        in->from[i] = r;
    }
    return in;
}

/* A member joining again drops what was queued for its predecessor: the
 * consumer's side of each ring catches up with the producer's. */
static void group_inbox_flush(struct group_inbox *in, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (in->from[i])
            atomic_store_explicit(&in->from[i]->head,
                                  atomic_load_explicit(&in->from[i]->tail, memory_order_acquire),
                                  memory_order_release);
    atomic_store_explicit(&in->pending, 0, memory_order_relaxed);
}

/* The member's queues, made on its first join and published with release
 * so that a producer's acquire load sees them whole. */
static int group_inbox_attach(struct tcpc_group *g, unsigned index, size_t cap)
{
    struct group_inbox *in = atomic_load_explicit(&g->inbox[index], memory_order_acquire);
    if (in) {
        group_inbox_flush(in, g->n);
        return 0;
    }
    in = group_inbox_new(g->n, index, cap);
    if (!in)
        return -ENOMEM;
    atomic_store_explicit(&g->inbox[index], in, memory_order_release);
    return 0;
}

int group_join(struct tcpc_group *g, unsigned index, size_t cap)
{
    group_lock(g);
    bool taken = g->joined[index];
    g->joined[index] = true;
    group_unlock(g);
    if (taken)
        return -EBUSY;
    int err = group_inbox_attach(g, index, cap);
    if (err) {
        group_lock(g);
        g->joined[index] = false;
        group_unlock(g);
        return err;
    }
    atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
    return 0;
}

/* Under the lock: something the members take at their next entry moved. */
static void group_bump(struct tcpc_group *g, uint64_t *ver)
{
    (*ver)++;
    /* Under the lock, so generations and what they stand for advance
     * together; the members read gen without it (group_gen) and take the
     * lock only when it moved. */
    atomic_fetch_add_explicit(&g->gen, 1, memory_order_relaxed);
}

void group_leave(struct tcpc_group *g, unsigned index)
{
    group_lock(g);
    g->joined[index] = false;
    /* Its listeners go with it (tcp_destroy freed them without a close). */
    for (unsigned i = 0; i < TCPC_GROUP_LISTENERS; i++) {
        if (g->lis[i].id && g->lis[i].owner == index) {
            g->lis[i] = (struct group_listener){0};
            group_bump(g, &g->lis_ver);
        }
    }
    group_unlock(g);
    group_unref(g);
}

void group_ports_lock(void *ctx)
{
    struct tcpc_group *g = ctx;
    while (atomic_flag_test_and_set_explicit(&g->ports_lock, memory_order_acquire))
        ;
}

void group_ports_unlock(void *ctx)
{
    struct tcpc_group *g = ctx;
    atomic_flag_clear_explicit(&g->ports_lock, memory_order_release);
}

void group_secret(const struct tcpc_group *g, enum group_secret_id id, uint64_t n, void *out,
                  size_t len)
{
    /* A keyed BLAKE2b of (id, n): a PRF, so knowing one derived secret (a
     * past period's cookie key, say) tells nothing of the master or of
     * any other. BLAKE2b's shortest output is 16 bytes. */
    uint8_t in[12], digest[crypto_generichash_BYTES_MAX];
    for (unsigned i = 0; i < 4; i++)
        in[i] = (uint8_t)((unsigned)id >> (8 * i));
    for (unsigned i = 0; i < 8; i++)
        in[4 + i] = (uint8_t)(n >> (8 * i));
    size_t dlen = len < crypto_generichash_BYTES_MIN ? crypto_generichash_BYTES_MIN : len;
    if (dlen > sizeof(digest))
        dlen = sizeof(digest);
    crypto_generichash(digest, dlen, in, sizeof(in), g->master, sizeof(g->master));
    memcpy(out, digest, len < dlen ? len : dlen);
    sodium_memzero(digest, sizeof(digest));
}

void group_tun_publish(struct tcpc_group *g, size_t i, int64_t value)
{
    group_lock(g);
    g->tun[i] = value;
    g->tun_set[i] = true;
    group_bump(g, &g->tun_ver);
    group_unlock(g);
}

bool group_tun_copy(struct tcpc_group *g, struct tcpc_tunables *tun, uint64_t *ver, uint64_t *gen)
{
    int64_t *f = (int64_t *)tun;
    group_lock(g);
    bool moved = g->tun_ver != *ver;
    for (size_t i = 0; moved && i < GROUP_NTUN; i++)
        if (g->tun_set[i])
            f[i] = g->tun[i];
    *ver = g->tun_ver;
    *gen = atomic_load_explicit(&g->gen, memory_order_relaxed);
    group_unlock(g);
    return moved;
}

int group_lis_reserve(struct tcpc_group *g)
{
    int slot = -ENOBUFS;
    group_lock(g);
    for (unsigned i = 0; i < TCPC_GROUP_LISTENERS && slot < 0; i++) {
        if (!g->lis[i].id && !g->lis[i].reserved) {
            g->lis[i].reserved = true;
            slot = (int)i;
        }
    }
    group_unlock(g);
    return slot;
}

void group_lis_cancel(struct tcpc_group *g, unsigned slot)
{
    group_lock(g);
    g->lis[slot].reserved = false;
    group_unlock(g);
}

uint32_t group_lis_publish(struct tcpc_group *g, unsigned slot, const struct group_listener *rec)
{
    group_lock(g);
    g->lis[slot] = *rec;
    g->lis[slot].reserved = false;
    uint32_t id = g->lis[slot].id = ++g->lis_next_id;
    group_bump(g, &g->lis_ver);
    group_unlock(g);
    return id;
}

void group_lis_remove(struct tcpc_group *g, unsigned slot, uint32_t id)
{
    group_lock(g);
    if (g->lis[slot].id == id) {
        g->lis[slot] = (struct group_listener){0};
        group_bump(g, &g->lis_ver);
    }
    group_unlock(g);
}

bool group_lis_copy(struct tcpc_group *g, uint64_t *ver,
                    struct group_listener out[TCPC_GROUP_LISTENERS])
{
    group_lock(g);
    bool moved = g->lis_ver != *ver;
    if (moved)
        memcpy(out, g->lis, sizeof(g->lis));
    *ver = g->lis_ver;
    group_unlock(g);
    return moved;
}

bool group_tw_reserve(struct tcpc_group *g, uint32_t limit)
{
    uint_fast32_t cur = atomic_load_explicit(&g->tw_count, memory_order_relaxed);
    while (cur < limit)
        if (atomic_compare_exchange_weak_explicit(&g->tw_count, &cur, cur + 1, memory_order_relaxed,
                                                  memory_order_relaxed))
            return true;
    return false;
}

void group_tw_release(struct tcpc_group *g, uint32_t n)
{
    uint_fast32_t old = atomic_fetch_sub_explicit(&g->tw_count, n, memory_order_relaxed);
    assert(old >= n);
    (void)old;
}

uint32_t group_tw_count(const struct tcpc_group *g)
{
    return (uint32_t)atomic_load_explicit(&((struct tcpc_group *)g)->tw_count,
                                          memory_order_relaxed);
}

/* A slot: its header, then the packet. */
struct group_slot {
    uint32_t len;
    uint32_t kind;
    uint8_t data[];
};

static struct group_slot *group_slot_at(const struct group_inbox *in, struct group_ring *r,
                                        unsigned idx)
{
    return (struct group_slot *)(r->slots + (size_t)(idx % in->nslots) * in->stride);
}

int group_handoff(struct tcpc_group *g, unsigned from, unsigned to, enum group_pkt kind,
                  const uint8_t *pkt, size_t len)
{
    struct group_inbox *in = atomic_load_explicit(&g->inbox[to], memory_order_acquire);
    if (!in)
        return -ENOENT;
    if (len > in->cap)
        return -EMSGSIZE;
    struct group_ring *r = in->from[from];
    assert(r);
    unsigned t = atomic_load_explicit(&r->tail, memory_order_relaxed);
    /* acquire: the consumer is done with the slot it gave back. */
    unsigned h = atomic_load_explicit(&r->head, memory_order_acquire);
    if (t - h >= in->nslots)
        return -ENOBUFS;
    struct group_slot *slot = group_slot_at(in, r, t);
    slot->len = (uint32_t)len;
    slot->kind = (uint32_t)kind;
    memcpy(slot->data, pkt, len);
    atomic_store_explicit(&r->tail, t + 1, memory_order_release);
    /* The flag after the slot: an owner that clears it before looking at
     * the rings either sees this slot or finds the flag set again. Only
     * the producer that found it clear wakes the owner. */
    if (atomic_exchange_explicit(&in->pending, 1, memory_order_acq_rel) == 0 && g->wake)
        g->wake(g->wake_ctx, to);
    return 0;
}

unsigned group_take(struct tcpc_group *g, unsigned me, group_take_fn fn, void *ctx)
{
    struct group_inbox *in = atomic_load_explicit(&g->inbox[me], memory_order_relaxed);
    if (!in || !atomic_load_explicit(&in->pending, memory_order_relaxed))
        return 0;
    atomic_exchange_explicit(&in->pending, 0, memory_order_acq_rel);
    unsigned taken = 0;
    for (unsigned i = 0; i < g->n; i++) {
        struct group_ring *r = in->from[i];
        if (!r)
            continue;
        unsigned h = atomic_load_explicit(&r->head, memory_order_relaxed);
        unsigned t = atomic_load_explicit(&r->tail, memory_order_acquire);
        for (; h != t; h++, taken++) {
            const struct group_slot *slot = group_slot_at(in, r, h);
            fn(ctx, (enum group_pkt)slot->kind, slot->data, slot->len);
            atomic_store_explicit(&r->head, h + 1, memory_order_release);
        }
    }
    return taken;
}
