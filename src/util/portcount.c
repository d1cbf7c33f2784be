/*
 * Counts per port in an open-addressed table; see portcount.h.
 */
#include "util/portcount.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

#define PORTCOUNT_MAX_SLOTS 65536u

int portcount_init(struct portcount *pc, const struct mem *mem, uint32_t max_keys)
{
    pc->mem = mem;
    uint32_t n = 16;
    unsigned bits = 4;
    while (n < PORTCOUNT_MAX_SLOTS && n / 2 < max_keys) {
        n <<= 1;
        bits++;
    }
    pc->mask = n - 1;
    pc->shift = 16 - bits;
    pc->key = mem_get(mem, n * sizeof(*pc->key), MEM_ALIGN_ANY, false);
    pc->count = mem_array(mem, n, sizeof(*pc->count));
    if (!pc->key || !pc->count) {
        portcount_free(pc);
        return -ENOMEM;
    }
    return 0;
}

void portcount_free(struct portcount *pc)
{
    if (pc->mem) {
        mem_put(pc->mem, pc->key, ((size_t)pc->mask + 1) * sizeof(*pc->key));
        mem_put(pc->mem, pc->count, ((size_t)pc->mask + 1) * sizeof(*pc->count));
    }
    pc->key = NULL;
    pc->count = NULL;
}

/* The top bits of a 16-bit multiply by an odd constant: a bijection of the
 * ports at full size, and consecutive ports scattered below it. */
static uint32_t portcount_home(const struct portcount *pc, uint16_t key)
{
    return (uint32_t)(uint16_t)(key * 0x9e37u) >> pc->shift;
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t portcount_find(const struct portcount *pc, uint16_t key)
{
    uint32_t i = portcount_home(pc, key);
    for (uint32_t n = 0; n <= pc->mask; n++) {
        if (pc->count[i] == 0 || pc->key[i] == key)
            return i;
        i = (i + 1) & pc->mask;
    }
    /* Full: only when every port has a count, and then key is among them. */
    assert(!"portcount: more keys than room");
    return i;
}

uint32_t portcount_get(const struct portcount *pc, uint16_t key)
{
    uint32_t i = portcount_find(pc, key);
    return pc->count[i] != 0 && pc->key[i] == key ? pc->count[i] : 0;
}

void portcount_inc(struct portcount *pc, uint16_t key)
{
    uint32_t i = portcount_find(pc, key);
    pc->key[i] = key;
    pc->count[i]++;
}

/* Is home h outside the cyclic run (hole, j]? Then the entry at j may move
 * back into the hole without leaving its probe path. */
static int portcount_may_fill(uint32_t hole, uint32_t j, uint32_t h)
{
    if (hole <= j)
        return h <= hole || h > j;
    return h <= hole && h > j;
}

void portcount_dec(struct portcount *pc, uint16_t key)
{
    uint32_t i = portcount_find(pc, key);
    assert(pc->count[i] != 0 && pc->key[i] == key);
    if (--pc->count[i] != 0 || pc->shift == 0)
        return; /* at full size every key is in its home slot: nothing to pull back */
    /* Pull back later entries of the run whose probe passed this slot. */
    for (uint32_t j = (i + 1) & pc->mask; pc->count[j] != 0; j = (j + 1) & pc->mask) {
        if (portcount_may_fill(i, j, portcount_home(pc, pc->key[j]))) {
            pc->key[i] = pc->key[j];
            pc->count[i] = pc->count[j];
            pc->count[j] = 0;
            i = j;
        }
    }
}
