/*
 * The protocol control block layer (FreeBSD's in_pcb): which local endpoint
 * owns which addresses and ports, and which connection or listener owns an
 * arriving segment.
 *
 * struct pcbinfo holds everything for one stack instance: the inpcb pool,
 * the exact-match table (4-tuple -> connection, later also TIME_WAIT and
 * SYN-cache records), the per-port chains of unconnected binds (the wildcard
 * table that listeners are found in) and of connections (for bind conflict
 * checks), the SO_REUSEPORT_LB groups, and the keys of the table hash and of
 * ephemeral port selection. It is initialised with explicit sizes and a
 * random source, owns no globals, and needs no stack, so the rules here are
 * unit-tested on their own (tests/test_pcb*.c). docs/pcb.md states the
 * rules and the memory layout.
 *
 * Ownership: the TCP layer allocates an inpcb per socket and points
 * inp->ppcb at its control block; the PCB layer never looks inside ppcb.
 * The core is single-threaded per instance, so "races" are interleavings of
 * calls: a holder of a reference (pcb_ref) can see the owner free the PCB
 * (pcb_free) before it releases (pcb_rele), and must then treat it as dead.
 *
 * Errors are negative errno values, listed per function.
 */
#ifndef TCPCORE_PCB_PCB_H
#define TCPCORE_PCB_PCB_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/mem.h"
#include "tcpcore/addr.h"

struct rand_state;

/*
 * A 4-tuple seen from our side. Its 36 bytes are also the first bytes of
 * struct inpcb, so the exact table compares a key against a PCB with one
 * fixed-size memcmp. Ports are in host byte order.
 */
struct pcb_tuple {
    struct tcpc_addr faddr;
    struct tcpc_addr laddr;
    uint16_t fport;
    uint16_t lport;
};
static_assert(sizeof(struct pcb_tuple) == 36, "pcb_tuple is packed by construction");

/* The same four-tuple; field by field, for the reason tcpc_addr_eq gives. */
static inline bool pcb_tuple_eq(const struct pcb_tuple *a, const struct pcb_tuple *b)
{
    return a->fport == b->fport && a->lport == b->lport && tcpc_addr_eq(&a->faddr, &b->faddr) &&
           tcpc_addr_eq(&a->laddr, &b->laddr);
}

/* inpcb flags. The three reuse bits are cached whenever the option is set,
 * bound or not (the PR 179901 lesson). */
#define INP_REUSEADDR    0x0001u /* SO_REUSEADDR */
#define INP_REUSEPORT    0x0002u /* SO_REUSEPORT */
#define INP_REUSEPORT_LB 0x0004u /* SO_REUSEPORT_LB: load-balance group */
#define INP_V6ONLY       0x0008u /* IPV6_V6ONLY (v6 sockets only) */
#define INP_BINDANY      0x0010u /* IP_BINDANY: may bind a non-local address */
#define INP_IPV6PROTO    0x0020u /* created as an AF_INET6 socket */
#define INP_LISTEN       0x0040u /* pcb_listen was called */
#define INP_INHASHLIST   0x0080u /* in a port chain (and, if connected, the exact table) */
#define INP_CONNECTED    0x0100u /* faddr/fport set by pcb_connect or pcb_insert_connected */
#define INP_FREED        0x0200u /* owner is done; holders of a reference must let go */
#define INP_ALLOCATED    0x0400u /* slot in use (for pcb_foreach) */
#define INP_INLBGROUP    0x0800u /* a listening member of a SO_REUSEPORT_LB group */
#define INP_SHAREDCOPY   0x1000u /* another instance's listener, mirrored: no shared record */

/* The options a caller may set with pcb_setopt. */
#define INP_SETTABLE (INP_REUSEADDR | INP_REUSEPORT | INP_REUSEPORT_LB | INP_V6ONLY | INP_BINDANY)

/*
 * One socket's addressing, exactly one cache line. faddr/laddr/fport/lport
 * (also readable as `tuple`) keep their values after pcb_remove, so a closed
 * but still listed PCB shows its 4-tuple; INP_INHASHLIST, not lport != 0,
 * says whether it is in the tables.
 */
struct inpcb {
    union {
        struct pcb_tuple tuple;
        struct {
            struct tcpc_addr faddr;
            struct tcpc_addr laddr;
            uint16_t fport;
            uint16_t lport;
        };
    };
    uint32_t flags;
    uint32_t refcount;
    uint32_t port_next; /* port chain (wild or conn); free-list link when free */
    uint32_t port_prev;
    uint32_t lbgroup; /* index in info->lbgroups while INP_INLBGROUP */
    void *ppcb;       /* owner: the TCP control block */
};
static_assert(sizeof(struct inpcb) == 64, "an inpcb is one cache line");

/*
 * Exact-table references: a kind in the top 3 bits and a pool index in the
 * low 29. The table stores only these and a 16-bit hash tag; comparing the
 * key is the kind's job (struct pcb_kind_ops), so TIME_WAIT and SYN-cache
 * records of any layout can share the table.
 */
#define PCB_REF_NONE           0u
#define PCB_KIND_SHIFT         29
#define PCB_IDX_MASK           ((1u << PCB_KIND_SHIFT) - 1)
#define PCB_KIND_INPCB         1u
#define PCB_KIND_TIMEWAIT      2u
#define PCB_KIND_SYNCACHE      3u
#define PCB_KIND_TIMEWAIT_WIDE 4u /* TIME_WAIT records holding a whole pcb_tuple */
#define PCB_KIND_MAX           8u
#define PCB_REF(kind, idx)     ((uint32_t)(kind) << PCB_KIND_SHIFT | (uint32_t)(idx))
#define PCB_REF_KIND(ref)      ((ref) >> PCB_KIND_SHIFT)
#define PCB_REF_IDX(ref)       ((ref)&PCB_IDX_MASK)

/*
 * What another module provides for its kind of exact-table entry. The
 * TIME_WAIT module (a later issue) registers PCB_KIND_TIMEWAIT:
 *  - match: does record idx hold this 4-tuple? (its records may store IPv4
 *    in 4 bytes; it converts at its edge)
 *  - entry: address of record idx, for the burst lookup's prefetch (may be
 *    NULL: no prefetch)
 *  - takeover: connect() found record idx on the 4-tuple it wants. Return
 *    true after removing the record from the table (pcb_exact_remove) when
 *    reuse is safe (RFC 6191, net.inet.tcp.tw_reuse); false keeps it and
 *    connect treats the 4-tuple as taken.
 *  - port_busy: does some record of this kind hold local laddr:lport?
 *    Asked only by a bind without SO_REUSEADDR/SO_REUSEPORT, which FreeBSD
 *    lets TIME_WAIT block; with either option TIME_WAIT never blocks bind.
 *  - visit: pcb_foreach_exact hands each record to the listing through it.
 * Any member may be NULL (match must not be, for a kind that inserts).
 */
struct pcb_kind_ops {
    bool (*match)(void *ctx, uint32_t idx, const struct pcb_tuple *t);
    const void *(*entry)(void *ctx, uint32_t idx);
    bool (*takeover)(void *ctx, uint32_t idx);
    bool (*port_busy)(void *ctx, const struct tcpc_addr *laddr, uint16_t lport);
    void *ctx;
};

/*
 * One exact-table bucket: a cache line with 10 slots of (16-bit tag, 32-bit
 * reference) and a count of entries whose home is this bucket but which
 * were stored further on because it was full (F14-style overflow count): a
 * miss stops at the first bucket whose count is zero.
 */
#define PCB_BUCKET_SLOTS 10
struct pcb_bucket {
    uint16_t tag[PCB_BUCKET_SLOTS]; /* 0: empty */
    uint16_t spill;
    uint16_t unused;
    uint32_t ref[PCB_BUCKET_SLOTS];
};
static_assert(sizeof(struct pcb_bucket) == 64, "a bucket is one cache line");

/*
 * An optional externally supplied 32-bit flow hash (e.g. software Toeplitz
 * with the NIC's RSS key), used instead of the keyed SipHash for every hash
 * the layer computes itself, so that a NIC's hash handed to a lookup agrees
 * with the one the entry was inserted under. The tables need more than 32
 * bits (bucket index and tag), so a flow hash is widened by pcb_hash_rss.
 */
typedef uint32_t (*pcb_flow_hash_fn)(void *ctx, const struct pcb_tuple *t);

/* The table hash for a 32-bit flow hash: a multiply by an odd constant is a
 * bijection of the low bits (the bucket) and spreads every input bit into
 * the high ones (the tag). */
static inline uint64_t pcb_hash_rss(uint32_t flow)
{
    return (uint64_t)flow * 0x9e3779b97f4a7c15ull;
}

/* A SO_REUSEPORT_LB group: listeners sharing laddr:lport. Each member
 * names its group by index (inp->lbgroup), so a lookup that lands on a
 * member reaches the group without searching for it. */
struct pcb_lbgroup {
    struct tcpc_addr laddr;
    uint16_t lport;
    uint16_t count;
    uint16_t cap;
    uint32_t *members; /* pool indices */
};

#define PCB_NPORTS          65536u /* local ports, and the most port-chain heads */
#define PCB_PERTURB_DEFAULT 65536  /* RFC 6056 algorithm 4 table: 2^16 counters */

/* Sizes and limits handed to pcbinfo_init. */
struct pcb_params {
    uint32_t max_pcbs;   /* inpcb pool size (kern.ipc.maxsockets) */
    uint32_t max_exact;  /* exact-table entries of all kinds; 0: max_pcbs */
    uint16_t port_first; /* net.inet.ip.portrange.first */
    uint16_t port_last;  /* net.inet.ip.portrange.last */
    /* RFC 6056 counters, a power of two up to 2^16
     * (net.inet.ip.portrange.hashsize); 0: PCB_PERTURB_DEFAULT. */
    uint32_t port_counters;
    /* Counter the layer bumps when an entry leaving the exact table is not
     * under its hash any more and only a full scan finds it (a flow hash
     * function that changed under its entries); NULL: not counted. */
    uint64_t *stray_removes;
    /* Local addresses, for bind's EADDRNOTAVAIL; NULL: every address is
     * local (a stack without a list). */
    bool (*is_local)(void *ctx, const struct tcpc_addr *a);
    void *is_local_ctx;
    /* Which ephemeral ports an active open may take: true when the replies
     * to 4-tuple t (ours first: laddr/lport are this end) come to this
     * stack, as the NIC's RSS or the kernel's fanout steers them. NULL:
     * every free port. */
    bool (*owns)(void *ctx, const struct pcb_tuple *t);
    void *owns_ctx;
    /* A table shared with other instances (a connection group's port
     * reservations); NULL info: none. */
    const struct pcb_shared *shared;
    /* Where the tables come from; NULL: the C library. */
    const struct mem *mem;
};

/*
 * A reservation table that several instances (one per thread) share, so
 * that they bind and pick ports as one host would (docs/groups.md). It is
 * itself a pcbinfo: each instance's bound sockets and active opens have a
 * record in it (same address, port, options; the owner's number in ppcb),
 * and the conflict rules of pcb_bind.c run over it as over the instance's
 * own table. Every use is between lock(ctx) and unlock(ctx): bind, connect
 * and the removal of a socket that holds a record, never a lookup.
 */
struct pcb_shared {
    struct pcbinfo *info;
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    void *ctx;
    uintptr_t owner; /* stored in each record's ppcb */
};

struct pcbinfo {
    const struct mem *mem; /* where every table came from */
    /* Exact table. */
    struct pcb_bucket *buckets;
    uint32_t bucket_mask;
    uint32_t exact_count;
    uint64_t hash_key[2]; /* SipHash-2-4 key of the tables */
    pcb_flow_hash_fn flow_hash;
    void *flow_hash_ctx;
    struct pcb_kind_ops kinds[PCB_KIND_MAX];
    uint64_t *stray_removes; /* see pcb_params */

    /* Pool. */
    struct inpcb *pcbs;
    uint32_t capacity;
    uint32_t count;     /* allocated inpcbs */
    uint32_t highwater; /* slots [0, highwater) were ever handed out */
    uint32_t free_head;

    /* Port chains: unconnected binds (listeners found here) and
     * connections, by local port & port_mask (pcb_port_head). */
    uint32_t *wild_head;
    uint32_t *conn_head;
    uint32_t port_mask;

    struct pcb_lbgroup *lbgroups;
    uint32_t nlbgroups;
    uint32_t lbgroups_cap;

    /* Ephemeral ports, RFC 6056 algorithm 4. port_key is drawn once, for
     * the instance's life (docs/pcb.md says why it is never re-drawn). */
    uint16_t port_first;
    uint16_t port_last;
    uint64_t port_key[2];
    uint16_t *perturb;
    uint8_t perturb_shift; /* 64 - log2(counters): the hash's top bits index */
    struct rand_state *rnd;

    bool (*is_local)(void *ctx, const struct tcpc_addr *a);
    void *is_local_ctx;
    bool (*owns)(void *ctx, const struct pcb_tuple *t); /* see pcb_params */
    void *owns_ctx;

    /* The shared reservations (struct pcb_shared; shared.info NULL: none)
     * and, per PCB of the pool, the index of its record there (PCB_NIL:
     * none). */
    struct pcb_shared shared;
    uint32_t *shared_rec;
};

#define PCB_NIL UINT32_MAX

/*
 * Sets up info with tables sized for p->max_pcbs sockets and p->max_exact
 * exact entries, keys drawn from rnd (kept for the random step of port
 * selection; must outlive info). The layer keeps no clock. Returns 0,
 * -EINVAL (zero sizes, max_pcbs above 2^29, first > last) or -ENOMEM; on
 * error nothing is left allocated.
 */
int pcbinfo_init(struct pcbinfo *info, const struct pcb_params *p, struct rand_state *rnd);

/* Frees every table; every inpcb pointer becomes invalid. Safe on a zeroed
 * or failed-init info. */
void pcbinfo_destroy(struct pcbinfo *info);

/* Use fn for every hash the layer computes (see pcb_flow_hash_fn); NULL
 * restores SipHash. Only while the exact table is empty: -EBUSY otherwise. */
int pcb_set_flow_hash(struct pcbinfo *info, pcb_flow_hash_fn fn, void *ctx);

/* Registers another module's entry kind (PCB_KIND_TIMEWAIT...). -EINVAL for
 * PCB_KIND_INPCB or an out-of-range kind. */
int pcb_register_kind(struct pcbinfo *info, unsigned kind, const struct pcb_kind_ops *ops);

/* Changes the ephemeral range (a live tunable). -EINVAL if first > last or
 * first is 0. */
int pcb_set_portrange(struct pcbinfo *info, uint16_t first, uint16_t last);

/* --- lifetime (pcb.c) --------------------------------------------------- */

/*
 * A new unbound PCB for a socket of family v6 (AF_INET6) or not, owned by
 * ppcb, holding the owner's reference (refcount 1). Returns 0 and *out, or
 * -ENOBUFS when the pool is full.
 */
int pcb_alloc(struct pcbinfo *info, bool v6, void *ppcb, struct inpcb **out);

/*
 * The owner is done with inp: removes it from every table, marks it
 * INP_FREED and drops the owner's reference. The memory is recycled when
 * the last reference goes; until then lookups cannot return it.
 */
void pcb_free(struct pcbinfo *info, struct inpcb *inp);

/* Takes a reference that keeps inp's memory valid. */
static inline void pcb_ref(struct inpcb *inp)
{
    /* Internal: a caller holds a reference already (see pcb_rele). */
    assert(inp->refcount > 0);
    inp->refcount++;
}

/*
 * Drops a reference. Returns true when the caller must not use inp any
 * more: either this was the last reference (inp is recycled) or the owner
 * freed it meanwhile (INP_FREED): a lookup that raced with pcb_free never
 * goes on with a dead PCB.
 */
bool pcb_rele(struct pcbinfo *info, struct inpcb *inp);

/*
 * Takes inp out of the exact table, the port chains and its LB group; its
 * addresses and ports stay as they were (see struct inpcb). Idempotent.
 */
void pcb_remove(struct pcbinfo *info, struct inpcb *inp);

/*
 * Sets (on) or clears the option bits `opt` (a subset of INP_SETTABLE) at
 * any time, bound or not. -EINVAL for other bits, for INP_V6ONLY on a
 * non-v6 socket, or for changing INP_V6ONLY once bound (FreeBSD).
 */
int pcb_setopt(struct inpcb *inp, uint32_t opt, bool on);

/* After pcb_setopt on inp of info: its record in a shared table (if it has
 * one) takes the new options, as FreeBSD caches them whenever set. */
void pcb_shared_setopt(struct pcbinfo *info, const struct inpcb *inp);

static inline uint32_t pcb_index(const struct pcbinfo *info, const struct inpcb *inp)
{
    return (uint32_t)(inp - info->pcbs);
}

/* The inpcb a PCB_KIND_INPCB reference names, or NULL for other kinds. */
static inline struct inpcb *pcb_from_ref(const struct pcbinfo *info, uint32_t ref)
{
    return PCB_REF_KIND(ref) == PCB_KIND_INPCB ? &info->pcbs[PCB_REF_IDX(ref)] : NULL;
}

/*
 * Calls cb for every allocated, not freed PCB (the netstat view; state is
 * the owner's, reached through inp->ppcb). cb must not allocate or free
 * PCBs. A non-zero return from cb stops the walk and is returned.
 */
typedef int (*pcb_foreach_fn)(void *ctx, const struct inpcb *inp);
int pcb_foreach(const struct pcbinfo *info, pcb_foreach_fn cb, void *ctx);

/* --- bind / listen / connect (pcb_bind.c, pcb_port.c) ------------------- */

/*
 * Binds inp to laddr:lport (lport 0: an ephemeral port). laddr is the
 * family's wildcard (::ffff:0.0.0.0 or ::) or one address; a v4 socket may
 * pass :: for its wildcard. Returns 0 or:
 *  -EINVAL        already bound (lport or laddr set), or laddr of the wrong
 *                 family (v6 address on a v4 socket, mapped on V6ONLY)
 *  -EADDRNOTAVAIL laddr not local and INP_BINDANY unset; or no ephemeral
 *                 port free
 *  -EADDRINUSE    the reuse rules (docs/pcb.md) refuse laddr:lport, in
 *                 this instance or, with a shared table, in another
 *  -ENOBUFS       the shared table is full
 */
int pcb_bind(struct pcbinfo *info, struct inpcb *inp, const struct tcpc_addr *laddr,
             uint16_t lport);

/*
 * Marks inp listening (binding an ephemeral port on the wildcard first if
 * unbound) and, with INP_REUSEPORT_LB, joins the load-balance group of its
 * laddr:lport. 0 (also when already listening), -EINVAL when connected,
 * -ENOMEM when a group cannot grow, or an error of pcb_bind.
 */
int pcb_listen(struct pcbinfo *info, struct inpcb *inp);

/*
 * Connects inp to faddr:fport from laddr (the source address the caller's
 * route chose; ignored if inp is bound to a specific address). Binds an
 * ephemeral port if unbound: RFC 6056 algorithm 4, so one port serves many
 * destinations; only the 4-tuple must be unique. Inserts into the exact
 * table. Returns 0 or:
 *  -EISCONN       already connected
 *  -EINVAL        family mismatch (v4 socket to a v6 peer, V6ONLY to a
 *                 mapped one, laddr and faddr of different families), or
 *                 inp is listening
 *  -EADDRNOTAVAIL fport 0, unspecified faddr or laddr, or no port free
 *  -EADDRINUSE    inp is bound and the 4-tuple is taken
 *  -ENOBUFS       the exact table is full (not while it is sized for every
 *                 kind's pool)
 * On error inp is left as it was: unbound, or bound and listed.
 */
int pcb_connect(struct pcbinfo *info, struct inpcb *inp, const struct tcpc_addr *faddr,
                uint16_t fport, const struct tcpc_addr *laddr);

/*
 * Gives inp (fresh from pcb_alloc, e.g. for a connection accepted by a
 * listener) the complete 4-tuple t and inserts it, with no port selection.
 * -EADDRINUSE if t is in the exact table already (an entry of any kind: a
 * segment with a wrong NIC flow hash can miss it and complete a handshake
 * for the same 4-tuple), -ENOBUFS if the table is full, -EISCONN if inp is
 * bound. On error inp is left unbound and unlisted.
 */
int pcb_insert_connected(struct pcbinfo *info, struct inpcb *inp, const struct pcb_tuple *t);

/* --- lookup (pcb_lookup.c) ---------------------------------------------- */

#define PCB_LOOKUP_WILDCARD 0x1u /* fall back to listeners / unconnected binds */
#define PCB_LOOKUP_REF      0x2u /* take a reference on the result */
#define PCB_LOOKUP_HASH     0x4u /* `hash` is the flow hash (e.g. NIC RSS) */

/* The table hash of t: keyed SipHash-2-4, or pcb_hash_rss of the installed
 * flow hash function. A caller passing PCB_LOOKUP_HASH gives this value. */
uint64_t pcb_hash(const struct pcbinfo *info, const struct pcb_tuple *t);

/* Exact-table lookup: the reference of the entry (of any kind) holding t,
 * or PCB_REF_NONE. hash is pcb_hash(info, t) or the caller's equal value. */
uint32_t pcb_lookup_exact(const struct pcbinfo *info, const struct pcb_tuple *t, uint64_t hash);

/*
 * Listener lookup for t's local end: among unconnected PCBs bound to
 * t->lport, an exact local address beats the IPv4 wildcard, which beats a
 * dual-stack :: (for IPv4 traffic); for IPv6 traffic, exact beats ::. A
 * listener beats a bound non-listening PCB of the same rank; an LB group
 * yields one member chosen by hash.
 */
struct inpcb *pcb_lookup_wild(const struct pcbinfo *info, const struct pcb_tuple *t, uint64_t hash);

/*
 * in_pcblookup: exact 4-tuple, then (PCB_LOOKUP_WILDCARD) the listeners.
 * Returns an exact-table reference of any kind or PCB_KIND_INPCB for a
 * listener, or PCB_REF_NONE. With PCB_LOOKUP_REF, an inpcb result carries a
 * new reference. Never returns a PCB marked INP_FREED.
 */
uint32_t pcb_lookup_ref(const struct pcbinfo *info, const struct pcb_tuple *t, unsigned flags,
                        uint64_t hash);

/* As pcb_lookup_ref, for callers that want an inpcb only (NULL if the
 * match is another kind's record). */
struct inpcb *pcb_lookup(const struct pcbinfo *info, const struct tcpc_addr *faddr, uint16_t fport,
                         const struct tcpc_addr *laddr, uint16_t lport, unsigned flags,
                         uint64_t hash);

/*
 * Burst of n (<= PCB_BURST_MAX) exact lookups: hashes (or takes hashes[],
 * if non-NULL), prefetches every bucket, then every candidate entry, then
 * compares, so the cache misses of the burst overlap. refs[i] is as
 * pcb_lookup_exact(keys[i]).
 */
#define PCB_BURST_MAX 32
void pcb_lookup_burst(const struct pcbinfo *info, const struct pcb_tuple *keys, unsigned n,
                      const uint64_t *hashes, uint32_t *refs);

/* --- exact table (pcb_table.c), for other kinds' modules ---------------- */

/*
 * Inserts ref for 4-tuple t, under pcb_hash(t), unless an entry of any kind
 * already holds t: so the table never indexes a 4-tuple twice. 0,
 * -EADDRINUSE, or -ENOBUFS when the table is full (never, when it holds at
 * most max_exact entries). Every entry of the stack goes in through this.
 */
int pcb_ref_insert(struct pcbinfo *info, const struct pcb_tuple *t, uint32_t ref);

/*
 * Removes ref, inserted for t. If pcb_hash(t) no longer leads to it (the
 * flow hash function changed under it), a scan of the whole table does;
 * that is counted in stray_removes, and the spill counts its insertion left
 * stay raised (lookups stay right, slightly longer). 0, or -ENOENT when ref
 * is not in the table at all.
 */
int pcb_ref_remove(struct pcbinfo *info, const struct pcb_tuple *t, uint32_t ref);

/* The raw operations under a given hash. pcb_exact_insert does not check
 * for duplicates: -ENOBUFS when full. pcb_exact_remove: -ENOENT if ref is
 * not under hash. */
int pcb_exact_insert(struct pcbinfo *info, uint64_t hash, uint32_t ref);
int pcb_exact_remove(struct pcbinfo *info, uint64_t hash, uint32_t ref);

/* Visits every exact-table reference (connections, and other kinds' records
 * for the listing). Non-zero from cb stops the walk and is returned. */
int pcb_foreach_exact(const struct pcbinfo *info, int (*cb)(void *ctx, uint32_t ref), void *ctx);

/* Bytes of lookup structures (exact table, port heads, LB groups), not
 * counting the inpcbs. */
size_t pcb_table_bytes(const struct pcbinfo *info);

#endif
