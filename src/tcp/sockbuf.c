/*
 * Ring-buffer socket buffers with in-place reassembly; see sockbuf.h.
 */
#include "tcp/sockbuf.h"

#include <errno.h>
#include <string.h>

/* Copies n bytes into the ring at logical offset off from head. */
static void sb_write_at(struct sockbuf *sb, uint32_t off, const uint8_t *data, uint32_t n)
{
    uint32_t pos = (sb->head + off) % sb->cap;
    uint32_t first = sb->cap - pos < n ? sb->cap - pos : n;
    memcpy(sb->buf + pos, data, first);
    if (first < n) /* most copies do not wrap: no second call for nothing */
        memcpy(sb->buf, data + first, n - first);
}

uint32_t sb_append(struct sockbuf *sb, const void *data, uint32_t n)
{
    if (n > sb_space(sb))
        n = sb_space(sb);
    if (n == 0)
        return 0;
    sb_write_at(sb, sb->len, data, n);
    sb->len += n;
    return n;
}

void sb_copy_out(const struct sockbuf *sb, uint32_t off, void *out, uint32_t n)
{
    if (n == 0)
        return; /* a buffer without storage has no ring to index */
    uint32_t pos = (sb->head + off) % sb->cap;
    uint32_t first = sb->cap - pos < n ? sb->cap - pos : n;
    memcpy(out, sb->buf + pos, first);
    if (first < n)
        memcpy((uint8_t *)out + first, sb->buf, n - first);
}

void sb_drop(struct sockbuf *sb, uint32_t n)
{
    if (n == 0)
        return;
    sb->head = (sb->head + n) % sb->cap;
    sb->len -= n;
    /* Out-of-order ranges are relative to the in-order end, which does not
     * move when the front is consumed. */
}

uint32_t sb_read(struct sockbuf *sb, void *out, uint32_t n)
{
    if (n > sb->len)
        n = sb->len;
    if (n == 0)
        return 0;
    sb_copy_out(sb, 0, out, n);
    sb_drop(sb, n);
    return n;
}

/* Merges [start, end) into the sorted, disjoint range list. */
static int sb_ranges_add(struct sb_reass *ra, uint32_t start, uint32_t end)
{
    struct sb_range merged = {start, end};
    struct sb_range kept[SB_MAXRANGES + 1];
    unsigned n = 0;
    bool placed = false;
    for (unsigned i = 0; i < ra->nranges; i++) {
        struct sb_range r = ra->ranges[i];
        if (r.end < merged.start) {
            kept[n++] = r;
        } else if (merged.end < r.start) {
            if (!placed) {
                kept[n++] = merged;
                placed = true;
            }
            kept[n++] = r;
        } else {
            merged.start = r.start < merged.start ? r.start : merged.start;
            merged.end = r.end > merged.end ? r.end : merged.end;
        }
    }
    if (!placed)
        kept[n++] = merged;
    if (n > SB_MAXRANGES)
        return -ENOBUFS;
    memcpy(ra->ranges, kept, n * sizeof(kept[0]));
    ra->nranges = (uint8_t)n;
    return 0;
}

int sb_place(struct sockbuf *sb, struct sb_reass *ra, uint32_t off, const void *data, uint32_t n)
{
    if (n == 0)
        return 0;
    if ((uint64_t)sb->len + off + n > sb->cap)
        return -ENOBUFS;
    int err = sb_ranges_add(ra, off, off + n);
    if (err)
        return err;
    sb_write_at(sb, sb->len + off, data, n);
    return 0;
}

uint32_t sb_absorb(struct sockbuf *sb, struct sb_reass *ra, uint32_t appended)
{
    uint32_t gained = 0;
    /* Ranges were relative to the old in-order end; shift them back. */
    unsigned n = 0;
    for (unsigned i = 0; i < ra->nranges; i++) {
        struct sb_range r = ra->ranges[i];
        if (r.end <= appended)
            continue; /* wholly covered by what was appended */
        r.start = r.start > appended ? r.start - appended : 0;
        r.end -= appended;
        ra->ranges[n++] = r;
    }
    ra->nranges = (uint8_t)n;
    while (ra->nranges > 0 && ra->ranges[0].start == 0) {
        uint32_t take = ra->ranges[0].end;
        sb->len += take;
        gained += take;
        memmove(ra->ranges, ra->ranges + 1, (ra->nranges - 1) * sizeof(ra->ranges[0]));
        ra->nranges--;
        for (unsigned i = 0; i < ra->nranges; i++) {
            ra->ranges[i].start -= take;
            ra->ranges[i].end -= take;
        }
    }
    return gained;
}
