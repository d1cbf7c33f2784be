/*
 * Which PCB owns a segment: the exact 4-tuple first, then the listeners
 * (FreeBSD's in_pcblookup), plus a burst variant for the receive path.
 *
 * Cost per exact lookup (docs/pcb.md has measured figures): one SipHash-2-4
 * of 12 bytes (IPv4) or 36 bytes (IPv6), one bucket line, and the line of
 * each entry whose 16-bit tag matches, which is the right entry in all but
 * about one lookup in 10,000. A lookup that misses reads the bucket only.
 *
 * Listener lookup walks the unconnected PCBs bound to the local port: there
 * are few per port (one per address and family, more with SO_REUSEPORT),
 * and only SYNs and segments without a connection get here.
 */
#include <assert.h>

#include "pcb/pcb.h"
#include "pcb/pcb_hash.h"
#include "pcb/pcb_internal.h"
#include "pcb/pcb_table.h"

uint64_t pcb_hash(const struct pcbinfo *info, const struct pcb_tuple *t)
{
    return pcb_hash_inline(info, t);
}

uint32_t pcb_lookup_exact(const struct pcbinfo *info, const struct pcb_tuple *t, uint64_t hash)
{
    return pcb_table_find(info, t, hash);
}

/*
 * Rank of an unconnected PCB for traffic to local address l; lower is
 * better, -1 does not match. Rank pairs are (address rank * 2 + not
 * listening), so a listener wins over a bound socket of the same address
 * rank, and address specificity always wins over listening.
 */
static int pcb_wild_rank(const struct inpcb *inp, const struct tcpc_addr *l, bool v4)
{
    int addr;
    if (tcpc_addr_eq(&inp->laddr, l))
        addr = 0;
    else if (v4 && tcpc_addr_is_v4(&inp->laddr) && tcpc_addr_is_any(&inp->laddr))
        addr = 1;
    else if (v4 && pcb_is_dual(inp))
        addr = 2; /* :: takes mapped IPv4 only when nothing IPv4 does */
    else if (!v4 && pcb_is_any6(&inp->laddr))
        addr = 1;
    else
        return -1;
    return addr * 2 + ((inp->flags & INP_LISTEN) == 0);
}

/* An LB group's member for this flow: a multiply-shift of the hash, so every
 * member gets an equal share without a division. */
static struct inpcb *pcb_lb_pick(const struct pcbinfo *info, struct inpcb *inp, uint64_t hash)
{
    const struct pcb_lbgroup *g = &info->lbgroups[inp->lbgroup];
    if (g->count == 0)
        return inp;
    uint32_t i = (uint32_t)(((hash >> 32) * g->count) >> 32);
    return &info->pcbs[g->members[i]];
}

struct inpcb *pcb_lookup_wild(const struct pcbinfo *info, const struct pcb_tuple *t, uint64_t hash)
{
    bool v4 = tcpc_addr_is_v4(&t->laddr);
    struct inpcb *best = NULL;
    int best_rank = 1 << 30;
    for (uint32_t i = pcb_port_head(info, info->wild_head, t->lport); i != PCB_NIL;
         i = info->pcbs[i].port_next) {
        struct inpcb *inp = &info->pcbs[i];
        if (inp->lport != t->lport)
            continue;
        int r = pcb_wild_rank(inp, &t->laddr, v4);
        if (r >= 0 && r < best_rank) {
            best = inp;
            best_rank = r;
            if (r == 0)
                break;
        }
    }
    if (best && (best->flags & INP_INLBGROUP))
        best = pcb_lb_pick(info, best, hash);
    return best;
}

uint32_t pcb_lookup_ref(const struct pcbinfo *info, const struct pcb_tuple *t, unsigned flags,
                        uint64_t hash)
{
    if ((flags & PCB_LOOKUP_HASH) == 0)
        hash = pcb_hash_inline(info, t);
    uint32_t ref = pcb_table_find(info, t, hash);
    if (ref == PCB_REF_NONE && (flags & PCB_LOOKUP_WILDCARD)) {
        struct inpcb *inp = pcb_lookup_wild(info, t, hash);
        if (inp)
            ref = PCB_REF(PCB_KIND_INPCB, pcb_index(info, inp));
    }
    struct inpcb *inp = pcb_from_ref(info, ref);
    if (inp) {
        /* Freed PCBs leave the tables first; this is the belt to that. */
        if (inp->flags & INP_FREED)
            return PCB_REF_NONE;
        if (flags & PCB_LOOKUP_REF)
            pcb_ref(inp);
    }
    return ref;
}

struct inpcb *pcb_lookup(const struct pcbinfo *info, const struct tcpc_addr *faddr, uint16_t fport,
                         const struct tcpc_addr *laddr, uint16_t lport, unsigned flags,
                         uint64_t hash)
{
    struct pcb_tuple t = {.faddr = *faddr, .laddr = *laddr, .fport = fport, .lport = lport};
    uint32_t ref = pcb_lookup_ref(info, &t, flags & ~PCB_LOOKUP_REF, hash);
    struct inpcb *inp = pcb_from_ref(info, ref);
    if (inp && (flags & PCB_LOOKUP_REF))
        pcb_ref(inp);
    return inp;
}

/*
 * The burst: three passes over up to 32 keys so that the misses of one
 * pass are all in flight together. Pass 1 hashes and prefetches each home
 * bucket; pass 2 reads the (now arriving) buckets, picks the first slot
 * whose tag matches and prefetches its entry; pass 3 compares. A key whose
 * bucket had two tag hits or spilled, and whose first candidate was wrong,
 * takes the ordinary probe (rare: a tag collision or an overfull bucket).
 */
void pcb_lookup_burst(const struct pcbinfo *info, const struct pcb_tuple *keys, unsigned n,
                      const uint64_t *hashes, uint32_t *refs)
{
    uint64_t h[PCB_BURST_MAX];
    uint32_t hits[PCB_BURST_MAX];
    const struct pcb_bucket *b[PCB_BURST_MAX];
    /* Internal: callers are the stack's own burst loops over arrays of
     * PCB_BURST_MAX; n never comes from input. */
    assert(n <= PCB_BURST_MAX);
    for (unsigned i = 0; i < n; i++) {
        h[i] = hashes ? hashes[i] : pcb_hash_inline(info, &keys[i]);
        b[i] = pcb_home(info, h[i]);
        __builtin_prefetch(b[i]);
    }
    for (unsigned i = 0; i < n; i++) {
        hits[i] = pcb_bucket_hits(b[i], pcb_tag(h[i]));
        refs[i] = hits[i] ? b[i]->ref[__builtin_ctz(hits[i])] : PCB_REF_NONE;
        if (refs[i] != PCB_REF_NONE) {
            const void *e = pcb_entry_addr(info, refs[i]);
            if (e)
                __builtin_prefetch(e);
        }
    }
    for (unsigned i = 0; i < n; i++) {
        if (refs[i] != PCB_REF_NONE && pcb_entry_match(info, refs[i], &keys[i]))
            continue;
        if ((hits[i] & (hits[i] - 1)) || b[i]->spill)
            refs[i] = pcb_table_find(info, &keys[i], h[i]);
        else
            refs[i] = PCB_REF_NONE;
    }
}
