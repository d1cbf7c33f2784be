/*
 * The socket-buffer pool; see sbpool.h.
 */
#include "tcp/sbpool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* How often recent demand is halved, in the stack's microseconds. */
#define SBPOOL_DECAY_USEC 1000000u

static void sbpool_mark(struct sbpool *p, uint32_t cls);

static void map_set(uint64_t *map, uint32_t i, bool on)
{
    uint64_t bit = 1ull << (i % 64);
    map[i / 64] = on ? map[i / 64] | bit : map[i / 64] & ~bit;
}

static bool map_any(const uint64_t *map)
{
    for (uint32_t w = 0; w < SBPOOL_MAPWORDS; w++)
        if (map[w])
            return true;
    return false;
}

/* The lowest set bit at or after `from`, SBPOOL_NCLS if none. */
static uint32_t map_next(const uint64_t *map, uint32_t from)
{
    for (uint32_t w = from / 64; w < SBPOOL_MAPWORDS; w++) {
        uint64_t bits = map[w];
        if (w == from / 64)
            bits &= ~0ull << (from % 64);
        if (bits)
            return w * 64 + (uint32_t)__builtin_ctzll(bits);
    }
    return SBPOOL_NCLS;
}

void sbpool_init(struct sbpool *p, const struct mem *mem)
{
    memset(p, 0, sizeof(*p));
    p->mem = mem;
}

/* A ring of class cls from the allocator (not zeroed: a ring's bytes are
 * written before they are read), and back. */
static void *sbpool_alloc(const struct sbpool *p, uint32_t cls)
{
    return mem_get(p->mem, sbpool_size(cls), MEM_ALIGN_ANY, false);
}

static void sbpool_release(const struct sbpool *p, uint32_t cls, void *buf)
{
    mem_put(p->mem, buf, sbpool_size(cls));
}

uint32_t sbpool_size(uint32_t cls)
{
    if (cls >= SBPOOL_NCLS - 1)
        return UINT32_MAX;
    return (uint32_t)((4u + (cls & 3u)) << (SBPOOL_MIN_SHIFT - 2 + (cls >> 2)));
}

uint32_t sbpool_class_for(uint32_t bytes)
{
    if (bytes <= (1u << SBPOOL_MIN_SHIFT))
        return 0;
    uint32_t x = bytes - 1;
    uint32_t e = 31u - (uint32_t)__builtin_clz(x); /* 2^e <= x < 2^(e+1) */
    uint32_t quarter = x >> (e - 2);               /* 4..7 */
    uint32_t cls = (e - SBPOOL_MIN_SHIFT) * 4 + (quarter - 3);
    return cls < SBPOOL_NCLS ? cls : SBPOOL_NCLS - 1;
}

void sbpool_set_limits(struct sbpool *p, uint64_t budget, uint32_t base, uint32_t basecls)
{
    p->budget = budget;
    for (uint32_t i = 0; i < SBPOOL_NCLS; i++) {
        p->cls[i].want = i == 0 ? base : i <= basecls ? 1 : 0;
        sbpool_mark(p, i);
    }
    p->blocked = false;
}

static uint32_t sbpool_target(const struct sbpool_class *c)
{
    return c->want + c->demand;
}

/* Spares past this are given back to the C library. The slack keeps a
 * server whose connections come and go from freeing and allocating the same
 * buffers on every refill. */
static uint32_t sbpool_ceiling(const struct sbpool_class *c)
{
    return sbpool_target(c) * 2;
}

/* Whether a connection could take a ring of class cls within the budget
 * (spares it could not take are not worth setting aside). */
static bool sbpool_fits(const struct sbpool *p, uint32_t cls)
{
    return p->held + sbpool_size(cls) <= p->budget;
}

/* Whether class c has refill work: spares to set aside or to give back. */
static bool sbpool_bad(const struct sbpool_class *c)
{
    return c->nfree < sbpool_target(c) || c->nfree > sbpool_ceiling(c);
}

/* Keeps the work map right after class cls's spares changed (their
 * count moves nothing in the demand map). */
static void sbpool_mark_work(struct sbpool *p, uint32_t cls)
{
    map_set(p->workmap, cls, sbpool_bad(&p->cls[cls]));
}

/* Keeps the work and demand maps right after class cls changed. */
static void sbpool_mark(struct sbpool *p, uint32_t cls)
{
    sbpool_mark_work(p, cls);
    map_set(p->demandmap, cls, p->cls[cls].demand != 0);
}

/* The free list is threaded through the spares themselves; the link is
 * copied, not cast, so a buffer needs no particular alignment for it. */
static void sbpool_push(struct sbpool *p, uint32_t cls, void *buf)
{
    struct sbpool_class *c = &p->cls[cls];
    memcpy(buf, &c->free, sizeof(c->free));
    c->free = buf;
    c->nfree++;
    p->spare += sbpool_size(cls);
    sbpool_mark_work(p, cls);
}

static void *sbpool_pop(struct sbpool *p, uint32_t cls)
{
    struct sbpool_class *c = &p->cls[cls];
    void *buf = c->free;
    if (buf) {
        memcpy(&c->free, buf, sizeof(c->free));
        c->nfree--;
        p->spare -= sbpool_size(cls);
        sbpool_mark_work(p, cls);
    }
    return buf;
}

void sbpool_destroy(struct sbpool *p)
{
    for (uint32_t i = 0; i < SBPOOL_NCLS; i++) {
        void *buf;
        while ((buf = sbpool_pop(p, i)) != NULL)
            sbpool_release(p, i, buf);
    }
    const struct mem *mem = p->mem;
    memset(p, 0, sizeof(*p));
    p->mem = mem;
}

uint32_t sbpool_room_short(const struct sbpool *p, const struct sockbuf *sb, uint32_t reach)
{
    uint64_t avail = sbpool_affordable(p, sb);
    uint32_t most = sbpool_size(sbpool_class_for(reach));
    uint32_t storage = most;
    if (avail < most) {
        uint32_t cls = sbpool_class_for((uint32_t)avail);
        storage = sbpool_size(cls) <= avail ? sbpool_size(cls) : cls ? sbpool_size(cls - 1) : 0;
        if (storage < sb->cap)
            storage = sb->cap;
    }
    return storage < reach ? storage : reach;
}

/* A ring of class cls: a spare, or with may_alloc a fresh one. A caller
 * that may allocate leaves a class's last spare to the packet path, which
 * cannot (the next refill would replace it, but data may come first). */
static void *sbpool_get(struct sbpool *p, uint32_t cls, bool may_alloc)
{
    void *buf = NULL;
    if (may_alloc && p->cls[cls].nfree <= 1)
        buf = sbpool_alloc(p, cls);
    if (!buf)
        buf = sbpool_pop(p, cls);
    if (!buf && may_alloc)
        buf = sbpool_alloc(p, cls);
    return buf;
}

/* Moves sb's bytes into buf, a ring of class cls, and gives the old ring
 * back. */
static void sbpool_move(struct sbpool *p, struct sockbuf *sb, uint32_t cls, void *buf,
                        uint32_t span)
{
    if (span)
        sb_copy_out(sb, 0, buf, span);
    uint32_t len = sb->len;
    sbpool_put(p, sb);
    sb->buf = buf;
    sb->cap = sbpool_size(cls);
    sb->len = len;
    sb->cls = cls;
    p->cls[cls].out++;
    p->held += sb->cap;
}

/* The common growth: a drained buffer taking a spare of the class it last
 * had, when that class is the one sbpool_grow's search would try first
 * (it holds need, is not past reach's class, and the budget pays for it)
 * and sbpool_get would pop it. Says whether it did. */
static bool sbpool_regrow(struct sbpool *p, struct sockbuf *sb, uint32_t need, uint32_t reach,
                          uint32_t span, bool may_alloc)
{
    uint32_t cls = sb->cls;
    uint32_t size = sbpool_size(cls);
    if (sb->buf || need > size || (cls > 0 && sbpool_size(cls - 1) >= reach))
        return false;
    if (p->cls[cls].nfree <= (may_alloc ? 1u : 0u) || size > sbpool_affordable(p, sb))
        return false;
    sbpool_move(p, sb, cls, sbpool_pop(p, cls), span);
    return true;
}

int sbpool_grow(struct sbpool *p, struct sockbuf *sb, uint32_t need, uint32_t reach, uint32_t span,
                bool may_alloc)
{
    if (need > reach)
        need = reach;
    if (need <= sb->cap && sb->buf)
        return 0;
    if (sbpool_regrow(p, sb, need, reach, span, may_alloc))
        return 0;
    uint32_t top = sbpool_class_for(reach);
    uint32_t lo = sbpool_class_for(need);
    uint32_t pref =
        sb->buf ? sbpool_class_for(sb->cap > UINT32_MAX / 2 ? UINT32_MAX : sb->cap * 2) : sb->cls;
    pref = pref < lo ? lo : pref > top ? top : pref;
    uint64_t avail = sbpool_affordable(p, sb);
    /* The preferred class or a larger spare; failing that, the largest
     * smaller class that still holds `need`. */
    for (uint32_t cls = pref; cls <= top && sbpool_size(cls) <= avail; cls++) {
        void *buf = sbpool_get(p, cls, may_alloc);
        if (buf) {
            sbpool_move(p, sb, cls, buf, span);
            return 0;
        }
    }
    for (uint32_t cls = pref; cls-- > lo;) {
        if (sbpool_size(cls) > avail)
            continue;
        void *buf = sbpool_get(p, cls, may_alloc);
        if (buf) {
            sbpool_move(p, sb, cls, buf, span);
            return 0;
        }
    }
    p->cls[lo].demand++; /* a miss: the next refills keep one more aside */
    sbpool_mark(p, lo);
    return -ENOBUFS;
}

void sbpool_put(struct sbpool *p, struct sockbuf *sb)
{
    if (!sb->buf)
        return;
    uint32_t cls = sb->cls;
    p->cls[cls].out--;
    p->held -= sb->cap;
    sbpool_push(p, cls, sb->buf);
    p->freed = true;
    p->blocked = false; /* the budget has room again */
    memset(sb, 0, sizeof(*sb));
    sb->cls = cls;
}

/* Whether every class with work waits only for the budget. */
static bool sbpool_only_blocked(const struct sbpool *p)
{
    for (uint32_t i = map_next(p->workmap, 0); i < SBPOOL_NCLS; i = map_next(p->workmap, i + 1)) {
        const struct sbpool_class *c = &p->cls[i];
        if (c->nfree > sbpool_ceiling(c) || (c->nfree < sbpool_target(c) && sbpool_fits(p, i)))
            return false;
    }
    return true;
}

int sbpool_refill(struct sbpool *p, uint32_t budget, uint64_t now)
{
    if (now >= p->decay_at) {
        for (uint32_t i = map_next(p->demandmap, 0); i < SBPOOL_NCLS;
             i = map_next(p->demandmap, i + 1)) {
            p->cls[i].demand /= 2;
            sbpool_mark(p, i);
        }
        p->decay_at = now + SBPOOL_DECAY_USEC;
    }
    if (!sbpool_pending(p))
        return 0;
    for (uint32_t i = map_next(p->workmap, 0); i < SBPOOL_NCLS; i = map_next(p->workmap, i + 1)) {
        struct sbpool_class *c = &p->cls[i];
        bool added = false;
        while (c->nfree < sbpool_target(c) && budget > 0 && sbpool_fits(p, i)) {
            void *buf = sbpool_alloc(p, i);
            if (!buf)
                return -ENOMEM;
            sbpool_push(p, i, buf);
            added = true;
            budget--;
        }
        if (added)
            p->freed = true;
        while (c->nfree > sbpool_ceiling(c) && budget > 0) {
            sbpool_release(p, i, sbpool_pop(p, i));
            budget--;
        }
    }
    p->blocked = map_any(p->workmap) && sbpool_only_blocked(p);
    return sbpool_pending(p) ? 1 : 0;
}
