/*
 * Allocation through the embedder's allocator or the C library's; see
 * mem.h.
 */
#include "util/mem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The C library's way. calloc for zeroed blocks: it gives large ones as
 * zero pages on demand. A line-aligned block comes from aligned_alloc,
 * whose size must be a multiple of the alignment. */
static void *mem_libc_get(size_t size, size_t align, bool zero)
{
    if (align <= MEM_ALIGN_ANY)
        return zero ? calloc(1, size) : malloc(size);
    size_t rounded = (size + align - 1) & ~(align - 1);
    if (rounded < size)
        return NULL;
    void *p = aligned_alloc(align, rounded);
    if (p && zero)
        memset(p, 0, size);
    return p;
}

const struct mem mem_libc = {0};

void *mem_get(const struct mem *m, size_t size, size_t align, bool zero)
{
    if (size == 0)
        size = 1;
    if (m->alloc)
        return m->alloc(m->ctx, size, align, zero);
    return mem_libc_get(size, align, zero);
}

void *mem_array(const struct mem *m, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return mem_get(m, n * size, MEM_ALIGN_ANY, true);
}

void mem_put(const struct mem *m, void *p, size_t size)
{
    if (!p)
        return;
    if (m->release)
        m->release(m->ctx, p, size ? size : 1);
    else
        free(p);
}
