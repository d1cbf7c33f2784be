/*
 * Ephemeral port selection, RFC 6056 section 3.3.4 (algorithm 4, "double
 * hash"), hardened as Linux was after Klein and Pinkas (2022) showed that
 * a small perturbation table lets a web page fingerprint a device from the
 * ports it sees.
 *
 *   offset = F(laddr, faddr, fport)    keyed SipHash, low 32 bits
 *   index  = G(laddr, faddr, fport)    the same hash's high 16 bits
 *   try ports first + (offset + perturb[index] + i) mod n, i = 0 .. n-1
 *   on success at try i: perturb[index] += i + 1 + (random 0 or 1)
 *
 * Successive connections to one destination walk forward from where the
 * last one stopped (few collisions, no repeat until the range wraps), while
 * different destinations start at unrelated, unpredictable places. The
 * table has 2^16 counters (not RFC 6056's suggested few), and the random
 * step keeps a counter's value from being read back off consecutive ports.
 * The key is drawn once and never re-drawn: a new key would move every
 * destination's walk to a random port, onto 4-tuples the peer may still
 * hold in TIME_WAIT (docs/pcb.md, "Why the port key is never re-drawn").
 * Work is bounded: at most n candidates, each checked with table lookups;
 * exhaustion is -EADDRNOTAVAIL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/rand.h"
#include "pcb/pcb.h"
#include "pcb/pcb_hash.h"
#include "pcb/pcb_internal.h"

int pcb_port_init(struct pcbinfo *info, uint16_t first, uint16_t last, uint32_t counters)
{
    int err = pcb_set_portrange(info, first, last);
    if (err)
        return err;
    if (counters == 0)
        counters = PCB_PERTURB_DEFAULT;
    /* The hash's top log2(counters) bits index the table. One counter
     * would need a shift by 64, which C leaves undefined. */
    if (counters < 2 || counters > PCB_PERTURB_DEFAULT || (counters & (counters - 1)) != 0)
        return -EINVAL;
    info->perturb_shift = (uint8_t)(64 - __builtin_ctz(counters));
    /* The counters start at zero, as Linux's do: where a destination's walk
     * starts is already unpredictable through the keyed offset, so random
     * starting values would hide nothing more, while drawing the table's
     * keystream (128 KiB at the default size) was most of the cost of
     * creating a stack. The C library's calloc also
     * leaves the pages of counters never used unfaulted. */
    info->perturb = mem_array(info->mem, counters, sizeof(uint16_t));
    if (!info->perturb)
        return -ENOMEM;
    rand_bytes(info->rnd, info->port_key, sizeof(info->port_key));
    return 0;
}

void pcb_port_destroy(struct pcbinfo *info)
{
    if (info->perturb)
        mem_put(info->mem, info->perturb,
                ((size_t)1 << (64 - info->perturb_shift)) * sizeof(uint16_t));
    info->perturb = NULL;
}

int pcb_set_portrange(struct pcbinfo *info, uint16_t first, uint16_t last)
{
    if (first == 0 || first > last)
        return -EINVAL;
    info->port_first = first;
    info->port_last = last;
    return 0;
}

int pcb_port_select(struct pcbinfo *info, const struct tcpc_addr *laddr,
                    const struct tcpc_addr *faddr, uint16_t fport,
                    bool (*usable)(void *ctx, uint16_t port), void *ctx)
{
    uint8_t msg[34] = {0};
    memcpy(msg, laddr->bytes, 16);
    if (faddr)
        memcpy(msg + 16, faddr->bytes, 16);
    msg[32] = (uint8_t)(fport >> 8);
    msg[33] = (uint8_t)fport;
    uint64_t h = pcb_siphash(info->port_key, msg, sizeof(msg));
    uint32_t n = (uint32_t)info->port_last - info->port_first + 1;
    uint16_t *perturb = &info->perturb[h >> info->perturb_shift];
    uint32_t start = ((uint32_t)h + *perturb) % n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t off = start + i;
        if (off >= n)
            off -= n;
        uint16_t port = (uint16_t)(info->port_first + off);
        if (usable(ctx, port)) {
            *perturb = (uint16_t)(*perturb + i + 1 + (rand_u32(info->rnd) & 1));
            return port;
        }
    }
    return -EADDRNOTAVAIL;
}
