/*
 * Inside the exact-match table: the bucket scan shared by the single and the
 * burst lookups (pcb_lookup.c) and by insert/remove (pcb_table.c).
 *
 * Layout (docs/pcb.md has the numbers): a power-of-two array of 64-byte
 * buckets, each 10 slots of (16-bit tag, 32-bit typed reference). The home
 * bucket is the hash's low bits, the tag its top 16 bits (0 marks an empty
 * slot, so a zero tag is stored as 1). A full bucket spills into the next
 * one and counts the spill, so a lookup reads one bucket line, then only the
 * entries whose tag matches (nearly always just the right one), and a miss
 * goes on to the next bucket only when something spilled out of this one.
 */
#ifndef TCPCORE_PCB_PCB_TABLE_H
#define TCPCORE_PCB_PCB_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "pcb/pcb.h"

/* Most slots a bucket holds at the sizing target: buckets are sized so the
 * table is at most 60% full (6 of 10 slots on average). */
#define PCB_BUCKET_TARGET 6

#define PCB_SPILL_STUCK UINT16_MAX /* saturated: never decremented again */

static inline uint16_t pcb_tag(uint64_t hash)
{
    uint16_t t = (uint16_t)(hash >> 48);
    return (uint16_t)(t + (t == 0));
}

static inline struct pcb_bucket *pcb_home(const struct pcbinfo *info, uint64_t hash)
{
    return &info->buckets[hash & info->bucket_mask];
}

/* Bit s set when slot s carries tag. Branch-free so it vectorises. */
static inline uint32_t pcb_bucket_hits(const struct pcb_bucket *b, uint16_t tag)
{
    uint32_t hits = 0;
    for (unsigned s = 0; s < PCB_BUCKET_SLOTS; s++)
        hits |= (uint32_t)(b->tag[s] == tag) << s;
    return hits;
}

/* The address of the entry ref names, for prefetching; NULL if unknown. */
static inline const void *pcb_entry_addr(const struct pcbinfo *info, uint32_t ref)
{
    unsigned kind = PCB_REF_KIND(ref);
    if (kind == PCB_KIND_INPCB)
        return &info->pcbs[PCB_REF_IDX(ref)];
    const struct pcb_kind_ops *k = &info->kinds[kind];
    return k->entry ? k->entry(k->ctx, PCB_REF_IDX(ref)) : NULL;
}

/* Does the entry ref names hold t? Connections are compared inline; other
 * kinds through their accessor. */
static inline bool pcb_entry_match(const struct pcbinfo *info, uint32_t ref,
                                   const struct pcb_tuple *t)
{
    unsigned kind = PCB_REF_KIND(ref);
    if (kind == PCB_KIND_INPCB)
        return pcb_tuple_eq(&info->pcbs[PCB_REF_IDX(ref)].tuple, t);
    const struct pcb_kind_ops *k = &info->kinds[kind];
    return k->match(k->ctx, PCB_REF_IDX(ref), t);
}

/* Scans bucket b for t; PCB_REF_NONE when absent from b. */
static inline uint32_t pcb_bucket_find(const struct pcbinfo *info, const struct pcb_bucket *b,
                                       uint16_t tag, const struct pcb_tuple *t)
{
    for (uint32_t hits = pcb_bucket_hits(b, tag); hits; hits &= hits - 1) {
        unsigned s = (unsigned)__builtin_ctz(hits);
        if (pcb_entry_match(info, b->ref[s], t))
            return b->ref[s];
    }
    return PCB_REF_NONE;
}

/* The full probe: the home bucket, then the next ones while they spilled. */
static inline uint32_t pcb_table_find(const struct pcbinfo *info, const struct pcb_tuple *t,
                                      uint64_t hash)
{
    uint16_t tag = pcb_tag(hash);
    uint32_t i = (uint32_t)hash & info->bucket_mask;
    for (uint32_t n = 0; n <= info->bucket_mask; n++) {
        const struct pcb_bucket *b = &info->buckets[i];
        uint32_t ref = pcb_bucket_find(info, b, tag, t);
        if (ref != PCB_REF_NONE || b->spill == 0)
            return ref;
        i = (i + 1) & info->bucket_mask;
    }
    return PCB_REF_NONE;
}

/* Sizing and setup, for pcbinfo_init. */
int pcb_table_init(struct pcbinfo *info, uint32_t max_entries);
void pcb_table_destroy(struct pcbinfo *info);

#endif
