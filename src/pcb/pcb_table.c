/*
 * The exact-match table: insert, remove, walk and sizing. Lookups are
 * inline in pcb_table.h so the single and burst paths share one scan.
 *
 * Sizing, not growth: every entry kind comes from a pool bounded at init
 * (inpcbs by kern.ipc.maxsockets, TIME_WAIT by maxtcptw, ...), so the table
 * is sized once for the sum and never rehashes on the packet path. At the
 * 60% target a bucket of 10 slots overflows rarely (Poisson, mean 6: about
 * 4% of buckets), and an overflow costs the neighbouring line, which the
 * hardware's adjacent-line prefetch usually brings in with the first.
 */
#include "pcb/pcb_table.h"

#include <errno.h>
#include <stdlib.h>

#include "pcb/pcb_hash.h"

int pcb_table_init(struct pcbinfo *info, uint32_t max_entries)
{
    uint64_t want = ((uint64_t)max_entries + PCB_BUCKET_TARGET - 1) / PCB_BUCKET_TARGET;
    uint64_t n = 16;
    while (n < want)
        n <<= 1;
    if (n > (1ull << 31))
        return -EINVAL;
    /* One line per bucket: aligned so that a bucket never straddles two. */
    info->buckets = mem_get(info->mem, n * sizeof(struct pcb_bucket), MEM_ALIGN_LINE, true);
    if (!info->buckets)
        return -ENOMEM;
    info->bucket_mask = (uint32_t)(n - 1);
    info->exact_count = 0;
    return 0;
}

void pcb_table_destroy(struct pcbinfo *info)
{
    if (info->buckets)
        mem_put(info->mem, info->buckets,
                ((size_t)info->bucket_mask + 1) * sizeof(struct pcb_bucket));
    info->buckets = NULL;
}

int pcb_exact_insert(struct pcbinfo *info, uint64_t hash, uint32_t ref)
{
    uint16_t tag = pcb_tag(hash);
    uint32_t i = (uint32_t)hash & info->bucket_mask;
    if (info->exact_count >= (info->bucket_mask + 1ull) * PCB_BUCKET_SLOTS)
        return -ENOBUFS;
    /* Not full, so an empty slot exists and the walk ends; only the buckets
     * passed over count the spill. */
    for (;;) {
        struct pcb_bucket *b = &info->buckets[i];
        for (unsigned s = 0; s < PCB_BUCKET_SLOTS; s++) {
            if (b->tag[s] == 0) {
                b->tag[s] = tag;
                b->ref[s] = ref;
                info->exact_count++;
                return 0;
            }
        }
        if (b->spill != PCB_SPILL_STUCK)
            b->spill++;
        i = (i + 1) & info->bucket_mask;
    }
}

/* Where ref sits: bucket distance from home and slot, or -ENOENT. */
static int pcb_exact_locate(const struct pcbinfo *info, uint64_t hash, uint32_t ref, uint32_t *dist,
                            unsigned *slot)
{
    uint16_t tag = pcb_tag(hash);
    uint32_t i = (uint32_t)hash & info->bucket_mask;
    for (uint32_t n = 0; n <= info->bucket_mask; n++) {
        const struct pcb_bucket *b = &info->buckets[i];
        for (unsigned s = 0; s < PCB_BUCKET_SLOTS; s++) {
            if (b->tag[s] == tag && b->ref[s] == ref) {
                *dist = n;
                *slot = s;
                return 0;
            }
        }
        if (b->spill == 0)
            break;
        i = (i + 1) & info->bucket_mask;
    }
    return -ENOENT;
}

int pcb_exact_remove(struct pcbinfo *info, uint64_t hash, uint32_t ref)
{
    uint32_t dist;
    unsigned slot;
    int err = pcb_exact_locate(info, hash, ref, &dist, &slot);
    if (err)
        return err;
    uint32_t i = (uint32_t)hash & info->bucket_mask;
    /* Undo the spill counts its insertion left on the buckets it passed. */
    for (uint32_t n = 0; n < dist; n++) {
        struct pcb_bucket *b = &info->buckets[i];
        if (b->spill != PCB_SPILL_STUCK)
            b->spill--;
        i = (i + 1) & info->bucket_mask;
    }
    info->buckets[i].tag[slot] = 0;
    info->buckets[i].ref[slot] = PCB_REF_NONE;
    info->exact_count--;
    return 0;
}

/* Removes ref wherever it is: a scan of every bucket, for an entry that is
 * not where its hash says. -ENOENT if it is nowhere. */
static int pcb_exact_purge(struct pcbinfo *info, uint32_t ref)
{
    for (uint64_t i = 0; i <= info->bucket_mask; i++) {
        struct pcb_bucket *b = &info->buckets[i];
        for (unsigned s = 0; s < PCB_BUCKET_SLOTS; s++) {
            if (b->tag[s] != 0 && b->ref[s] == ref) {
                b->tag[s] = 0;
                b->ref[s] = PCB_REF_NONE;
                info->exact_count--;
                return 0;
            }
        }
    }
    return -ENOENT;
}

int pcb_ref_insert(struct pcbinfo *info, const struct pcb_tuple *t, uint32_t ref)
{
    uint64_t hash = pcb_hash_inline(info, t);
    if (pcb_table_find(info, t, hash) != PCB_REF_NONE)
        return -EADDRINUSE;
    return pcb_exact_insert(info, hash, ref);
}

int pcb_ref_remove(struct pcbinfo *info, const struct pcb_tuple *t, uint32_t ref)
{
    if (pcb_exact_remove(info, pcb_hash_inline(info, t), ref) == 0)
        return 0;
    /* An embedder's flow hash that changed under its entries: O(table),
     * but only on this path, and it leaves no reference to a recycled
     * record behind. */
    int err = pcb_exact_purge(info, ref);
    if (err == 0 && info->stray_removes)
        (*info->stray_removes)++;
    return err;
}

int pcb_foreach_exact(const struct pcbinfo *info, int (*cb)(void *ctx, uint32_t ref), void *ctx)
{
    for (uint64_t i = 0; i <= info->bucket_mask; i++) {
        const struct pcb_bucket *b = &info->buckets[i];
        for (unsigned s = 0; s < PCB_BUCKET_SLOTS; s++) {
            if (b->tag[s] == 0)
                continue;
            int r = cb(ctx, b->ref[s]);
            if (r)
                return r;
        }
    }
    return 0;
}

size_t pcb_table_bytes(const struct pcbinfo *info)
{
    size_t bytes = ((size_t)info->bucket_mask + 1) * sizeof(struct pcb_bucket);
    bytes += 2 * ((size_t)info->port_mask + 1) * sizeof(uint32_t); /* wild_head, conn_head */
    bytes += info->lbgroups_cap * sizeof(struct pcb_lbgroup);
    for (uint32_t g = 0; g < info->nlbgroups; g++)
        bytes += info->lbgroups[g].cap * sizeof(uint32_t);
    return bytes;
}
