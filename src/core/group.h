/*
 * A connection group's shared part (include/tcpcore/group.h), private to
 * the library: what the members of a group read, and the few things they
 * write, each named in docs/groups.md.
 *
 * Layout. The group is read-mostly. What every member reads on entry (the
 * tunables' generation) and what never changes after creation (the master
 * key, the size) share the first cache line; each thing written at run
 * time sits on its own line, so that a write (a tunable set, a TIME_WAIT
 * record made or freed) never invalidates the line every member reads per
 * call. Nothing here is written on an established connection's packets.
 */
#ifndef TCPCORE_CORE_GROUP_H
#define TCPCORE_CORE_GROUP_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpcore/group.h"
#include "core/config.h"

#define GROUP_LINE 64

/* Tunables are int64_t fields one after another (core/config.h), so a
 * tunable is known to the group by its index in struct tcpc_tunables. */
#define GROUP_NTUN (sizeof(struct tcpc_tunables) / sizeof(int64_t))

/* The secrets every member derives from the group's master key instead of
 * drawing from its own randomness. */
enum group_secret_id {
    GROUP_SECRET_COOKIE = 1, /* SYN cookies: one per period (syncookie.c) */
    GROUP_SECRET_SYNCACHE,   /* the SYN cache's bucket hash */
    GROUP_SECRET_ISN,        /* RFC 6528's F */
    GROUP_SECRET_PORT,       /* RFC 6056 algorithm 4's offset */
    GROUP_SECRET_TFO,        /* Fast Open server keys: one per autokey period */
};

struct tcpc_group {
    /* Read by every member on every entry; set once at creation. */
    alignas(GROUP_LINE) atomic_uint_fast64_t tun_gen; /* bumped per published tunable */
    unsigned n;
    uint8_t master[32];
    /* Written when a member joins or leaves and when the caller lets go. */
    alignas(GROUP_LINE) atomic_uint refs;
    /* Written when a TIME_WAIT record is made or freed (a close). */
    alignas(GROUP_LINE) atomic_uint_fast32_t tw_count;
    /* The rare writes: a published tunable, a join. The lock is a spinlock
     * on an atomic flag: the core takes no thread library (sans-IO), and
     * what it guards is held for a copy of a few hundred bytes. */
    alignas(GROUP_LINE) atomic_flag lock;
    int64_t tun[GROUP_NTUN];     /* under lock */
    bool tun_set[GROUP_NTUN];    /* under lock: set at run time by some member */
    bool joined[TCPC_GROUP_MAX]; /* under lock */
};

/* Member cfg->group_index joins (holding the group): 0, or -EBUSY when
 * the index is taken. */
int group_join(struct tcpc_group *g, unsigned index);
/* The member leaves (and lets go of the group). */
void group_leave(struct tcpc_group *g, unsigned index);

/* len (at most 64) bytes of secret id, number n, from the master key: every
 * member computes the same. */
void group_secret(const struct tcpc_group *g, enum group_secret_id id, uint64_t n, void *out,
                  size_t len);

/* Publishes tunable number i at value to every member (after the member
 * that set it validated and applied it). */
void group_tun_publish(struct tcpc_group *g, size_t i, int64_t value);
/* The generation of the tunables the group has published. */
static inline uint64_t group_tun_gen(const struct tcpc_group *g)
{
    return atomic_load_explicit(&((struct tcpc_group *)g)->tun_gen, memory_order_relaxed);
}
/* Copies every published tunable into tun; returns the generation copied. */
uint64_t group_tun_copy(struct tcpc_group *g, struct tcpc_tunables *tun);

/* Takes one TIME_WAIT record from the group's budget of limit: false when
 * the group holds limit records already. */
bool group_tw_reserve(struct tcpc_group *g, uint32_t limit);
/* Gives back n records. */
void group_tw_release(struct tcpc_group *g, uint32_t n);
/* Records the group holds. */
uint32_t group_tw_count(const struct tcpc_group *g);

#endif
