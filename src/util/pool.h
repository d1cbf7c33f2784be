/*
 * A fixed-size object pool addressed by 32-bit indices.
 *
 * Per-connection records (control blocks, SYN cache entries, TIME_WAIT
 * records) come from pools so that the per-packet path never calls malloc,
 * and so that tables can link records by 4-byte indices instead of 8-byte
 * pointers. The capacity is a hard bound fixed at init: running out is an
 * ordinary, reportable condition (POOL_NONE), not an allocation failure.
 *
 * Memory: pool_init makes one zeroed block of capacity * objsize bytes (from
 * the stack's allocator, util/mem.h, by default calloc) and touches
 * none of it. Objects are handed out from the low end upwards and recycled
 * LIFO, so for large pools (which the C library serves with fresh zero pages
 * from mmap) resident memory grows only as the pool fills: a pool sized for
 * a million connections costs address space, not RAM, until they arrive.
 *
 * Objects are aligned to max_align_t when objsize is a multiple of the
 * object type's alignment (true for any sizeof). A free object's first four
 * bytes hold the free-list link; the rest keep whatever the last user left
 * (objects never handed out before are zero). Callers initialise what they
 * get.
 *
 * Debug builds (no NDEBUG) keep one bit per object to catch double puts and
 * use of an index that is not currently allocated.
 */
#ifndef TCPCORE_UTIL_POOL_H
#define TCPCORE_UTIL_POOL_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "util/mem.h"

#define POOL_NONE UINT32_MAX

struct pool {
    const struct mem *mem; /* where base and live came from */
    unsigned char *base;
    uint64_t *live; /* debug builds: allocated-object bitmap; NULL with NDEBUG */
    size_t objsize;
    uint32_t capacity;
    uint32_t used;
    uint32_t free_head; /* most recently put object, or POOL_NONE */
    uint32_t fresh;     /* objects [fresh, capacity) were never handed out */
};

/*
 * Reserves room for capacity objects of objsize bytes. Returns 0, -EINVAL
 * when objsize < 4 or capacity is 0 or >= POOL_NONE, or -ENOMEM. Init time
 * only.
 */
int pool_init(struct pool *p, const struct mem *mem, size_t objsize, uint32_t capacity);

/* Releases the memory; every index becomes invalid. Safe on a zeroed pool. */
void pool_free(struct pool *p);

/* An unused object's index in O(1), or POOL_NONE when all are in use. */
uint32_t pool_get(struct pool *p);

/* Returns an object obtained from pool_get. */
void pool_put(struct pool *p, uint32_t idx);

/* Whether idx is currently allocated (debug builds only; true with NDEBUG). */
static inline int pool_debug_live(const struct pool *p, uint32_t idx)
{
    return p->live == NULL || (p->live[idx / 64] >> (idx % 64) & 1);
}

static inline void *pool_at(const struct pool *p, uint32_t idx)
{
    assert(idx < p->capacity && pool_debug_live(p, idx));
    return p->base + (size_t)idx * p->objsize;
}

/* The index of an object that pool_at returned. */
uint32_t pool_index(const struct pool *p, const void *obj);

static inline uint32_t pool_used(const struct pool *p)
{
    return p->used;
}

static inline uint32_t pool_capacity(const struct pool *p)
{
    return p->capacity;
}

#endif
