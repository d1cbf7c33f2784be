/*
 * Where a stack's memory comes from.
 *
 * Every block a stack allocates (its tables when it is created, buffer
 * rings as connections come and grow, keys set by socket options) goes
 * through one of these, so an embedder can hand the stack its own memory
 * (an arena, a pool per core, a budget it accounts for) through
 * tcpc_config_set_allocator. Without one the C library serves: calloc
 * where zeroed memory is asked for, so that a large table is given as
 * zero pages on demand and costs address space until it is used.
 *
 * None of these is called per packet: pools and spare rings are filled
 * outside the packet path (docs/ARCHITECTURE.md).
 */
#ifndef TCPCORE_UTIL_MEM_H
#define TCPCORE_UTIL_MEM_H

#include <stdbool.h>
#include <stddef.h>

#include "tcpcore/config.h"

/* The allocator a stack was given; both functions NULL: the C library's. */
struct mem {
    tcpc_alloc_fn alloc;
    tcpc_release_fn release;
    void *ctx;
};

/* The C library's allocator, for what no stack owns (a connection group's
 * shared tables) and for tests. */
extern const struct mem mem_libc;

/* Alignments asked for: any object's (what malloc gives), and a cache
 * line's, for the tables read per packet, laid out in lines. */
#define MEM_ALIGN_ANY  16
#define MEM_ALIGN_LINE 64

/* size bytes aligned to align (one of the above), zeroed when zero is set,
 * or NULL. size 0 is taken as 1, so a NULL is always a failure. */
void *mem_get(const struct mem *m, size_t size, size_t align, bool zero);

/* n objects of size bytes, zeroed, aligned for any object; NULL when the product overflows (a
 * sanitizer's allocator would abort instead of returning NULL) or memory
 * is short. */
void *mem_array(const struct mem *m, size_t n, size_t size);

/* Gives back a block mem_get or mem_array returned, with the size it was
 * asked for (n * size for an array). NULL is ignored. */
void mem_put(const struct mem *m, void *p, size_t size);

/* Whether exactly one of the pair is set, which tcpc_config_check refuses. */
static inline bool mem_half_set(const struct mem *m)
{
    return (m->alloc == NULL) != (m->release == NULL);
}

#endif
