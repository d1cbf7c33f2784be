/**
 * @file
 * @brief The connection listing: what netstat shows.
 * Every control block, listener,
 * half-open (SYN cache) entry and TIME_WAIT entry of a stack, one record
 * each, with its state and 4-tuple.
 */
#ifndef TCPCORE_LISTING_H
#define TCPCORE_LISTING_H

#include <stdint.h>

#include "addr.h"

struct tcpc_stack;

/** Where a record comes from. */
enum tcpc_conn_kind {
    TCPC_CONN_PCB = 1,  /**< a socket or a connection with a control block */
    TCPC_CONN_SYNCACHE, /**< a half-open entry (shown as SYN_RECEIVED) */
    TCPC_CONN_TIMEWAIT, /**< a compressed TIME_WAIT entry */
};

/** One record of the listing. The library fills it; fields are only ever
 * added at its end. */
struct tcpc_conninfo {
    uint8_t kind;           /**< enum tcpc_conn_kind */
    uint8_t state;          /**< RFC 9293 state, TCPS_* order: see tcpc_state_name */
    int sd;                 /**< descriptor, or -1 */
    struct tcpc_addr laddr; /**< local address (the wildcard for a listener on any) */
    struct tcpc_addr faddr; /**< foreign address (the wildcard when none) */
    uint16_t lport;         /**< local port */
    uint16_t fport;         /**< foreign port, 0 when none */
    uint32_t snd_queue;     /**< bytes in the send buffer (PCB only) */
    uint32_t rcv_queue;     /**< bytes in the receive buffer (PCB only) */
    tcpc_time_t expires_in; /**< TIME_WAIT: time left; else 0 */
};

/** Called once per record; return non-zero to stop the walk. The record is
 * valid only during the call, which must not change the stack. */
typedef int (*tcpc_conn_fn)(void *ctx, const struct tcpc_conninfo *ci);

/** Walks every record of the stack. Returns the callback's non-zero value,
 * or 0 when the walk completed. */
int tcpc_list_connections(struct tcpc_stack *stack, tcpc_conn_fn fn, void *ctx);

/**
 * Drops the connection holding the 4-tuple, as FreeBSD's tcpdrop(8) does:
 * a synchronised connection (or one in SYN_RECEIVED) sends RST|ACK and
 * closes, its descriptor reading ECONNABORTED; one in SYN_SENT closes
 * silently; a TIME_WAIT record goes at once, silently. Listeners and SYN
 * cache entries are not connections here (FreeBSD's drop does not reach
 * them either). 0, -ENOENT when nothing holds the 4-tuple, -EINVAL for a
 * wildcard address, a zero port or mixed families. Between walks of
 * tcpc_list_connections, never from its callback.
 */
int tcpc_drop_connection(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                         const struct tcpc_addr *faddr, uint16_t fport);

/** "ESTABLISHED", "SYN_RECEIVED", ... for a tcpc_conninfo or tcpc_info
 * state; "?" otherwise. A static string. */
const char *tcpc_state_name(unsigned state);

#endif
