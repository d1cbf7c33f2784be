/*
 * The socket-buffer pool: ring storage for connections, held only while a
 * connection has bytes to hold.
 *
 * A socket buffer's limit (SO_SNDBUF, SO_RCVBUF, FreeBSD's sb_hiwat) says
 * how much it may hold; its storage is a ring taken from this pool when the
 * first byte arrives or is sent, grown as the bytes held grow, and given
 * back once the buffer is drained (a small one once the connection's
 * exchange is over: tcp_sb_drained). An idle connection holds no storage.
 *
 * Rings come in fixed size classes, four to each doubling from 2 KiB
 * (2, 2.5, 3, 3.5, 4, 5, 6, 7, 8 KiB, ...), so a ring wastes at most a
 * quarter of itself, and a class is found from a size in O(1). Growing
 * takes a ring of a larger class, copies the bytes held and gives the old
 * ring back: a copy per growth step, never per segment.
 *
 * Budget: the bytes of rings held by connections (not the spares, which
 * the bases and demand bound) never exceed
 * kern.ipc.sockbuf_budget. A growth the budget cannot pay for is refused;
 * the TCP layer then advertises a zero window or blocks the sender (see
 * docs/buffers.md), and nothing already taken is dropped.
 *
 * Allocation: tcpc_input must not allocate, yet data arriving there needs
 * rings. Those come from each class's spares, set aside at calls that may
 * allocate (tcpc_listen, tcpc_connect, tcpc_accept, tcpc_advance) by
 * sbpool_refill. A class keeps ready its base (kern.ipc.sockbuf_reserve
 * rings of the smallest class, since every connection starts there,
 * and one of each class a buffer of the default limits grows through)
 * plus its recent misses (rings wanted when none was there, halved every
 * second), and spares past twice that go back to the C library. Rings
 * freed by drained buffers go back to their class's free list, also on the
 * packet path, in O(1). Calls off the packet path (tcpc_send) may allocate a ring
 * directly when no spare is there.
 */
#ifndef TCPCORE_TCP_SBPOOL_H
#define TCPCORE_TCP_SBPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/sockbuf.h"
#include "util/mem.h"

/* The smallest ring. */
#define SBPOOL_MIN_SHIFT 11
/* Size classes: four per doubling from 2 KiB up to 3.5 GiB, and a last one
 * of UINT32_MAX bytes for kern.ipc.maxsockbuf's largest values. */
#define SBPOOL_NCLS     (4 * (32 - SBPOOL_MIN_SHIFT) + 1)
#define SBPOOL_MAPWORDS ((SBPOOL_NCLS + 63) / 64)

struct sbpool_class {
    uint32_t want;   /* spares to keep ready whatever the demand */
    uint32_t demand; /* rings lately wanted and missing (halved every second) */
    uint32_t out;    /* rings of this class held by connections */
    uint32_t nfree;  /* spares on the free list */
    void *free;      /* spares, linked through their first bytes */
};

struct sbpool {
    const struct mem *mem; /* where rings come from (util/mem.h) */
    struct sbpool_class cls[SBPOOL_NCLS];
    uint64_t held;   /* bytes of the rings connections hold */
    uint64_t spare;  /* bytes of the spares */
    uint64_t budget; /* kern.ipc.sockbuf_budget */
    /* Memory came back (a ring given back, spares set aside) since the
     * connections waiting for it were last woken (tcp_sb_refill). */
    bool freed;
    uint64_t decay_at; /* when demand is next halved (the stack's clock) */
    /* Bit i: class i has spares to set aside or give back (work), has
     * demand left to halve (demand). Refills and the decay visit only
     * those classes, not all of them on every call. */
    uint64_t workmap[SBPOOL_MAPWORDS];
    uint64_t demandmap[SBPOOL_MAPWORDS];
    /* The last refill left only work the budget forbids; cleared when a ring
     * comes back. Keeps tcpc_next_deadline from saying "now" in vain. */
    bool blocked;
};

/* An empty pool whose rings come from mem; sbpool_set_limits says what it
 * keeps. */
void sbpool_init(struct sbpool *p, const struct mem *mem);
/* Frees every spare. Rings still held by connections must have been put
 * back first (tcp_destroy frees every control block before). */
void sbpool_destroy(struct sbpool *p);

/* Bytes of a ring of class cls. */
uint32_t sbpool_size(uint32_t cls);
/* The smallest class whose rings hold `bytes`. */
uint32_t sbpool_class_for(uint32_t bytes);

/* The limits in force: kern.ipc.sockbuf_budget, and the spares kept
 * ready whatever the demand: `base` of the smallest class (where every
 * buffer starts: kern.ipc.sockbuf_reserve) and one of each class up to
 * basecls (those a buffer of the default limits grows through). */
void sbpool_set_limits(struct sbpool *p, uint64_t budget, uint32_t base, uint32_t basecls);

/* sbpool_room when the budget may not pay for the class of reach. */
uint32_t sbpool_room_short(const struct sbpool *p, const struct sockbuf *sb, uint32_t reach);

/* The largest ring the budget lets sb hold in place of its own. */
static inline uint64_t sbpool_affordable(const struct sbpool *p, const struct sockbuf *sb)
{
    uint64_t left = p->budget > p->held ? p->budget - p->held : 0;
    return left + sb->cap;
}

/*
 * The most bytes sb's storage could hold after the growth the budget
 * allows now, never more than reach (the most the buffer may ever hold):
 * what the window and the send space can promise.
 *
 * Asked several times a segment, and nearly always far from the budget:
 * a class is at most a quarter larger than the bytes it is the smallest
 * for (or the smallest ring), so a budget covering reach and a quarter
 * plus the smallest ring pays for reach's class, and the answer is reach
 * without finding that class.
 */
static inline uint32_t sbpool_room(const struct sbpool *p, const struct sockbuf *sb, uint32_t reach)
{
    uint64_t surely = (uint64_t)reach + reach / 4 + (1u << SBPOOL_MIN_SHIFT);
    if (sbpool_affordable(p, sb) >= surely)
        return reach;
    return sbpool_room_short(p, sb, reach);
}

/*
 * Makes sb's storage hold at least `need` bytes (need <= reach), keeping
 * the `span` bytes it holds from its head (in-order data, and out-of-order
 * data past it on the receive side). Growth goes to at least twice the old
 * ring and never past the class of reach; a drained buffer comes back at
 * the class it last had. With may_alloc false (the packet path) only
 * spares are used. Returns 0, or -ENOBUFS (the budget, or no spare) with
 * sb unchanged.
 */
int sbpool_grow(struct sbpool *p, struct sockbuf *sb, uint32_t need, uint32_t reach, uint32_t span,
                bool may_alloc);

/* Gives sb's ring back to its class (O(1), no free()); sb keeps its class
 * for the next growth and is otherwise empty. A no-op without a ring. */
void sbpool_put(struct sbpool *p, struct sockbuf *sb);

/* Tops classes up to their base and demand and trims those holding more
 * than twice that, at most `budget` allocations and frees in all. Off the
 * packet path only. Returns 0 when done, 1 when the budget ran out with
 * work left (another call is due at once), -ENOMEM when memory ran out
 * (worth trying again only later). */
int sbpool_refill(struct sbpool *p, uint32_t budget, uint64_t now);

/* Whether sbpool_refill has work (tcpc_next_deadline asks). Inline: the
 * embedder's loop asks on every turn, and the answer is nearly always no. */
static inline bool sbpool_pending(const struct sbpool *p)
{
    uint64_t any = 0;
    for (uint32_t w = 0; w < SBPOOL_MAPWORDS; w++)
        any |= p->workmap[w];
    return any && !p->blocked;
}

/* Whether a call of sbpool_refill at now would do anything: spares to set
 * aside or give back, or recent demand to halve. */
static inline bool sbpool_refill_due(const struct sbpool *p, uint64_t now)
{
    return now >= p->decay_at || sbpool_pending(p);
}

#endif
