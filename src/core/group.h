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
#include "core/rand.h"

struct pcbinfo;

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
    GROUP_SECRET_RESERVE,    /* the reservation table's own hash keys */
};

/* The most records the port reservation table holds: every member's
 * kern.ipc.maxsockets, up to this (docs/groups.md). */
#define GROUP_PORTS_MAX (1u << 20)

/*
 * What a listener's children inherit from it (syncache.c's sc_socket reads
 * these fields of the listener), carried so that every member's copy of a
 * group listener hands its connections the same options.
 */
struct group_listen_opts {
    uint32_t inp_flags; /* INP_SETTABLE bits */
    uint32_t t_flags;   /* the TF_ bits a child or a SYN-ACK takes */
    uint32_t user_timeout, snd_bufsize, rcv_bufsize, max_pacing_rate;
    uint16_t usermss, keepinit, keepidle, keepintvl;
    int16_t linger;
    uint8_t ip_ttl, ip_tos, keepcnt, oobflags, cc;
};

/* A listener of the group: opened on member `owner`, present in each. */
struct group_listener {
    uint32_t id; /* 0: a free slot; ids are never reused */
    bool reserved;
    unsigned owner;
    uint8_t family;
    uint16_t lport;
    struct tcpc_addr laddr;
    uint32_t backlog;
    struct group_listen_opts opts;
};

/* What a hand-off slot holds: an IP packet (a TCP segment for its owner,
 * taken by ip_input) or a whole Ethernet frame (ARP or ND, shared with
 * every member, taken by ether_input). */
enum group_pkt {
    GROUP_PKT_IP = 1,
    GROUP_PKT_FRAME,
};

/* A single-producer, single-consumer ring from one member to another. The
 * indexes run freely (unsigned wrap); the ring is full when they are nslots
 * apart. The producer writes tail, the consumer head, each on its own line:
 * the producer's release store of tail publishes the slot it filled, the
 * consumer's release store of head gives the slot back. */
struct group_ring {
    alignas(GROUP_LINE) atomic_uint tail;
    alignas(GROUP_LINE) atomic_uint head;
    alignas(GROUP_LINE) uint8_t slots[]; /* nslots of the inbox's stride */
};

/* A member's queues: one ring from each other member, allocated when the
 * member first joins and kept (for a member that joins again) until the
 * group is freed. pending is set by a producer after it fills a slot and
 * cleared by the owner before it looks at the rings: the one word a member
 * reads at every entry. */
struct group_inbox {
    alignas(GROUP_LINE) atomic_uint pending;
    alignas(GROUP_LINE) unsigned nslots;
    size_t stride;             /* bytes per slot: a header and cap bytes */
    size_t cap;                /* the largest packet a slot holds */
    struct group_ring *from[]; /* by producer; NULL for the member itself */
};

struct tcpc_group {
    /* Read by every member on every entry; set once at creation. gen
     * moves when a tunable is published or a listener opened or closed. */
    alignas(GROUP_LINE) atomic_uint_fast64_t gen;
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
    uint64_t tun_ver, lis_ver;                       /* under lock: each kind's share of gen */
    uint32_t lis_next_id;                            /* under lock */
    struct group_listener lis[TCPC_GROUP_LISTENERS]; /* under lock */
    int64_t tun[GROUP_NTUN];                         /* under lock */
    bool tun_set[GROUP_NTUN];    /* under lock: set at run time by some member */
    bool joined[TCPC_GROUP_MAX]; /* under lock */
    /* The port reservations (pcb/pcb_shared.c): written at a bind, an
     * active open's port choice and their close, under ports_lock, which
     * nothing else takes. Made by the first member's TCP layer
     * (tcp_demux.c), which leaves how to free it in ports_free. */
    alignas(GROUP_LINE) atomic_flag ports_lock;
    struct pcbinfo *ports;
    void (*ports_free)(struct pcbinfo *ports);
    struct rand_state ports_rnd;
    /* The hand-off queues. inbox[j] is published (release) by member j's
     * first join and read (acquire) by the members handing it packets.
     * wake is set before any member exists. */
    alignas(GROUP_LINE) tcpc_group_wake_fn wake;
    void *wake_ctx;
    _Atomic(struct group_inbox *) inbox[TCPC_GROUP_MAX];
};

/* Member cfg->group_index joins (holding the group), with queues for
 * packets of up to cap bytes: 0, -EBUSY when the index is taken, or
 * -ENOMEM. */
int group_join(struct tcpc_group *g, unsigned index, size_t cap);
/* The member leaves (and lets go of the group). */
void group_leave(struct tcpc_group *g, unsigned index);

/* The lock of the port reservations (ctx: the group). */
void group_ports_lock(void *ctx);
void group_ports_unlock(void *ctx);

/* len (at most 64) bytes of secret id, number n, from the master key: every
 * member computes the same. */
void group_secret(const struct tcpc_group *g, enum group_secret_id id, uint64_t n, void *out,
                  size_t len);

/* Publishes tunable number i at value to every member (after the member
 * that set it validated and applied it). */
void group_tun_publish(struct tcpc_group *g, size_t i, int64_t value);
/* The generation of what the group has published (tunables, listeners). */
static inline uint64_t group_gen(const struct tcpc_group *g)
{
    return atomic_load_explicit(&((struct tcpc_group *)g)->gen, memory_order_relaxed);
}
/* Copies every published tunable into tun when the group's tunables moved
 * past *ver (then true, *ver updated); *gen gets the generation. */
bool group_tun_copy(struct tcpc_group *g, struct tcpc_tunables *tun, uint64_t *ver, uint64_t *gen);

/* Listeners. A slot for a listener about to open: its index, or -ENOBUFS
 * (TCPC_GROUP_LISTENERS open already). */
int group_lis_reserve(struct tcpc_group *g);
/* Gives a reserved slot back (the listen failed). */
void group_lis_cancel(struct tcpc_group *g, unsigned slot);
/* Publishes rec in its reserved slot; returns its new id. */
uint32_t group_lis_publish(struct tcpc_group *g, unsigned slot, const struct group_listener *rec);
/* Removes listener id from slot (its owner closed it). */
void group_lis_remove(struct tcpc_group *g, unsigned slot, uint32_t id);
/* Copies the listener slots into out when they moved past *ver (then true,
 * *ver updated). */
bool group_lis_copy(struct tcpc_group *g, uint64_t *ver,
                    struct group_listener out[TCPC_GROUP_LISTENERS]);

/* Takes one TIME_WAIT record from the group's budget of limit: false when
 * the group holds limit records already. */
bool group_tw_reserve(struct tcpc_group *g, uint32_t limit);
/* Gives back n records. */
void group_tw_release(struct tcpc_group *g, uint32_t n);
/* Records the group holds. */
uint32_t group_tw_count(const struct tcpc_group *g);

/* Copies pkt (len bytes, of kind) into the ring from member `from` to
 * member `to`, waking `to` when its queue was empty. 0, -ENOBUFS (the ring
 * is full), -EMSGSIZE (larger than a slot) or -ENOENT (`to` never joined). */
int group_handoff(struct tcpc_group *g, unsigned from, unsigned to, enum group_pkt kind,
                  const uint8_t *pkt, size_t len);

/* Whether anything waits in member me's queues (a relaxed load). */
static inline bool group_pending(const struct tcpc_group *g, unsigned me)
{
    struct group_inbox *in =
        atomic_load_explicit(&((struct tcpc_group *)g)->inbox[me], memory_order_relaxed);
    return in && atomic_load_explicit(&in->pending, memory_order_relaxed);
}

/* Hands each packet waiting for member me to fn, oldest first per
 * producer; returns how many. The slot is given back after fn returns. */
typedef void (*group_take_fn)(void *ctx, enum group_pkt kind, const uint8_t *pkt, size_t len);
unsigned group_take(struct tcpc_group *g, unsigned me, group_take_fn fn, void *ctx);

#endif
