/*
 * The socket-buffer pool: ring storage for connections, allocated outside
 * the packet path.
 *
 * A handshake completes inside tcpc_input, which must not allocate. So the
 * rings a completing connection gets come from spares that the pool set
 * aside earlier, at calls that may allocate: tcpc_listen, tcpc_accept and
 * tcpc_advance top the spares up, in batches bounded by
 * kern.ipc.sockbuf_reserve. An active open (tcpc_connect) is not on the
 * packet path and takes a spare or allocates one there and then.
 *
 * Buffers are grouped in classes by exact size, since SO_SNDBUF/SO_RCVBUF
 * make each listener's children's sizes its own. A listener asks its two
 * classes (send, receive) for a share of spares: min(its accept-queue limit,
 * kern.ipc.sockbuf_reserve). With the share at least the queue limit, a
 * completion can run out of spares only when the queue would have refused it
 * anyway, as long as the embedder accepts or advances between bursts.
 * When the spares are gone the completion is refused like any other
 * (tcps_sc_sbfail, then tcps_listendrop and a RST): a counted drop.
 *
 * Freed rings go back to their class's free list, also on the packet path
 * (no free() there either); refills trim a class that holds more than twice
 * its share. A class exists while a listener or a buffer uses it, or while
 * it holds spares; idle class slots are reused.
 *
 * Memory: nothing is reserved per socket. A socket gets rings only when its
 * connection starts; spares cost their shares' worth of address space, and
 * resident memory only for the page a free buffer's list link is written in.
 */
#ifndef TCPCORE_TCP_SBPOOL_H
#define TCPCORE_TCP_SBPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/sockbuf.h"

#define SBPOOL_NONE UINT32_MAX

struct sbpool_class {
    uint32_t size;  /* bytes per buffer */
    uint32_t want;  /* spares its listeners asked for, summed */
    uint32_t out;   /* buffers of this class held by connections */
    uint32_t nfree; /* spares on the free list */
    void *free;     /* spares, linked through their first bytes */
};

struct sbpool {
    struct sbpool_class *cls;
    uint32_t ncls, cap;
};

void sbpool_init(struct sbpool *p);
/* Frees every spare. Buffers still held by connections must have been put
 * back first (tcp_destroy frees every control block before). */
void sbpool_destroy(struct sbpool *p);

/* The class of `size`-byte buffers, made if needed (may allocate: never on
 * the packet path). SBPOOL_NONE when memory runs out. A class nobody uses
 * yet may be recycled by the next call: claim it (sbpool_want, or a buffer
 * taken) first. */
uint32_t sbpool_class(struct sbpool *p, uint32_t size);

/* A listener adds (or withdraws, negative) share spares to class cls. */
void sbpool_want(struct sbpool *p, uint32_t cls, int64_t share);

/* A spare of class cls into sb, in O(1) and without allocating (the packet
 * path); -ENOBUFS when the class has none. */
int sbpool_take(struct sbpool *p, uint32_t cls, struct sockbuf *sb);

/* A buffer of `size` bytes into sb: a spare, else a fresh allocation. For
 * callers off the packet path (tcpc_connect). -ENOMEM. */
int sbpool_alloc(struct sbpool *p, uint32_t size, struct sockbuf *sb);

/* Gives sb's buffer back to its class (O(1), no free()); sb is left empty.
 * A no-op for an sb without a buffer. */
void sbpool_put(struct sbpool *p, struct sockbuf *sb);

/* Tops classes up to their wanted spares and trims those holding more
 * than twice that, at most `budget` allocations and frees in all. Off the
 * packet path only. Returns 0 when done, 1 when the budget ran out with
 * work left (another call is due at once), -ENOMEM when memory ran out
 * (worth trying again only later). */
int sbpool_refill(struct sbpool *p, uint32_t budget);

/* Whether sbpool_refill has work (tcpc_next_deadline asks). */
bool sbpool_pending(const struct sbpool *p);

#endif
