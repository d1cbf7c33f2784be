/*
 * The object pool (see pool.h): a free list threaded through the free
 * objects themselves, plus a "fresh" watermark so that init never walks the
 * array. Walking it to build the list up front would fault in every page and
 * defeat the lazy residency the pool is meant to have.
 */
#include "util/pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static unsigned char *pool_addr(const struct pool *p, uint32_t idx)
{
    return p->base + (size_t)idx * p->objsize;
}

/* The link is copied rather than cast so objects need no particular
 * alignment for it and no type punning is involved. */
static uint32_t pool_link_read(const struct pool *p, uint32_t idx)
{
    uint32_t next;
    memcpy(&next, pool_addr(p, idx), sizeof(next));
    return next;
}

static void pool_link_write(struct pool *p, uint32_t idx, uint32_t next)
{
    memcpy(pool_addr(p, idx), &next, sizeof(next));
}

#ifndef NDEBUG
static int pool_debug_init(struct pool *p)
{
    p->live = mem_array(p->mem, (p->capacity + 63u) / 64u, sizeof(*p->live));
    return p->live ? 0 : -ENOMEM;
}

static void pool_debug_mark(struct pool *p, uint32_t idx, int live)
{
    uint64_t bit = UINT64_C(1) << (idx % 64);
    assert(((p->live[idx / 64] & bit) != 0) != live && "double get or double put");
    p->live[idx / 64] ^= bit;
}
#else
static int pool_debug_init(struct pool *p)
{
    p->live = NULL;
    return 0;
}

static void pool_debug_mark(struct pool *p, uint32_t idx, int live)
{
    (void)p, (void)idx, (void)live;
}
#endif

int pool_init(struct pool *p, const struct mem *mem, size_t objsize, uint32_t capacity)
{
    memset(p, 0, sizeof(*p));
    p->mem = mem;
    if (objsize < sizeof(uint32_t) || capacity == 0 || capacity == POOL_NONE)
        return -EINVAL;
    p->base = mem_array(mem, capacity, objsize);
    if (p->base == NULL)
        return -ENOMEM;
    p->objsize = objsize;
    p->capacity = capacity;
    p->free_head = POOL_NONE;
    if (pool_debug_init(p) != 0) {
        pool_free(p);
        return -ENOMEM;
    }
    return 0;
}

void pool_free(struct pool *p)
{
    if (p->mem) {
        mem_put(p->mem, p->base, p->capacity * p->objsize);
        if (p->live)
            mem_put(p->mem, p->live, (p->capacity + 63u) / 64u * sizeof(*p->live));
    }
    memset(p, 0, sizeof(*p));
}

uint32_t pool_get(struct pool *p)
{
    uint32_t idx;
    if (p->free_head != POOL_NONE) {
        idx = p->free_head;
        p->free_head = pool_link_read(p, idx);
    } else if (p->fresh < p->capacity) {
        idx = p->fresh++;
    } else {
        return POOL_NONE;
    }
    pool_debug_mark(p, idx, 1);
    p->used++;
    return idx;
}

/* LIFO reuse keeps the working set in the pages already resident. */
void pool_put(struct pool *p, uint32_t idx)
{
    assert(idx < p->fresh);
    pool_debug_mark(p, idx, 0);
    pool_link_write(p, idx, p->free_head);
    p->free_head = idx;
    p->used--;
}

uint32_t pool_index(const struct pool *p, const void *obj)
{
    const unsigned char *o = obj;
    assert(o >= p->base && o < p->base + (size_t)p->capacity * p->objsize);
    size_t off = (size_t)(o - p->base);
    assert(off % p->objsize == 0 && "pointer into the middle of an object");
    return (uint32_t)(off / p->objsize);
}
