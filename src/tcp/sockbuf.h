/*
 * Socket buffers: one ring of bytes per direction.
 *
 * The send buffer holds everything from snd_una onward: bytes sent and not
 * yet acknowledged, then bytes not yet sent. Output reads at an offset from
 * its start; an ACK drops bytes from the front.
 *
 * The receive buffer also holds out-of-order data. Because the window we
 * advertise never exceeds the free room, any in-window byte has a home at
 * (seq - rcv_nxt) past the in-order data; reassembly is then only a short
 * list of byte ranges already filled beyond the in-order end, bounded by
 * SB_MAXRANGES. Nothing is allocated per segment.
 */
#ifndef TCPCORE_TCP_SOCKBUF_H
#define TCPCORE_TCP_SOCKBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Holes the reassembly list can describe before it refuses a segment
 * (tcps_rcvreassfull). Each range is one island of out-of-order data. */
#define SB_MAXRANGES 8

struct sb_range {
    uint32_t start, end; /* offsets past the in-order data, end exclusive */
};

struct sockbuf {
    uint8_t *buf;
    uint32_t cap;  /* bytes of buf */
    uint32_t head; /* offset of the first byte */
    uint32_t len;  /* in-order bytes held */
    uint32_t cls;  /* the pool class buf came from, or last came from (sbpool.h) */
};

/* The out-of-order islands of a receive buffer (the send side has none,
 * so it does not carry the list). */
struct sb_reass {
    uint8_t nranges;
    /* 1: the stream ends where the last range does (TCP: the peer's FIN
     * arrived out of order, and waits with the data before it). */
    uint8_t fin;
    struct sb_range ranges[SB_MAXRANGES]; /* sorted, disjoint */
};

/* Storage comes from the socket-buffer pool (sbpool.h), which fills in buf,
 * cap and cls; a sockbuf without storage has buf NULL, cap, head and len 0. */

static inline uint32_t sb_space(const struct sockbuf *sb)
{
    return sb->cap - sb->len;
}

/* Appends up to n bytes of in-order data; returns bytes taken. */
uint32_t sb_append(struct sockbuf *sb, const void *data, uint32_t n);

/* Copies n bytes starting off bytes into the held data; off + n <= len. */
void sb_copy_out(const struct sockbuf *sb, uint32_t off, void *out, uint32_t n);

/* Drops n bytes from the front (acknowledged or read); n <= len. */
void sb_drop(struct sockbuf *sb, uint32_t n);

/* Reads and drops up to n bytes; returns bytes read. */
uint32_t sb_read(struct sockbuf *sb, void *out, uint32_t n);

/*
 * Receive side: places n bytes that belong `off` bytes past the in-order
 * end (off > 0: out of order). Returns 0, or -ENOBUFS when off + n runs
 * past the buffer or the range list is full (the caller drops the segment).
 */
int sb_place(struct sockbuf *sb, struct sb_reass *ra, uint32_t off, const void *data, uint32_t n);

/* After in-order data was appended, absorbs out-of-order ranges that now
 * touch the in-order end; returns the bytes that became in-order. */
uint32_t sb_absorb(struct sockbuf *sb, struct sb_reass *ra, uint32_t appended);

#endif
