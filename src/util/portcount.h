/*
 * A count per 16-bit key (a port), in space proportional to how many keys
 * can be in use at once rather than to the 65,536 possible keys.
 *
 * An open-addressed table of at least twice as many slots as keys (a power
 * of two, at most 65,536), probed linearly from a home slot that a multiply
 * by an odd constant picks: at 65,536 slots that is a bijection, every key
 * sits in its own slot and the table is a plain array indexed by port. A
 * count that drops to zero frees its slot at once (backward-shift
 * deletion, no tombstones), so lookups stay short however keys come and go.
 * Nothing is allocated after init.
 */
#ifndef TCPCORE_UTIL_PORTCOUNT_H
#define TCPCORE_UTIL_PORTCOUNT_H

#include <stdint.h>

#include "util/mem.h"

struct portcount {
    const struct mem *mem;
    uint16_t *key;
    uint32_t *count; /* 0: the slot is empty */
    uint32_t mask;   /* slots - 1 */
    unsigned shift;  /* 16 - log2(slots) */
};

/* Room for max_keys distinct keys with a non-zero count. 0 or -ENOMEM. */
int portcount_init(struct portcount *pc, const struct mem *mem, uint32_t max_keys);
void portcount_free(struct portcount *pc);

/* The count of key (0 when absent). */
uint32_t portcount_get(const struct portcount *pc, uint16_t key);

/* Counts one more for key; the caller keeps the distinct keys within
 * max_keys. */
void portcount_inc(struct portcount *pc, uint16_t key);

/* Counts one less for key, whose count must be non-zero. */
void portcount_dec(struct portcount *pc, uint16_t key);

#endif
