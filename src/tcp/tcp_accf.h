/*
 * Accept filters (docs/accf.md): a listener's completed connections wait
 * off the accept queue until they have something for the application.
 *
 * FreeBSD's SO_ACCEPTFILTER "dataready" (accf_data) hands a connection to
 * accept once it has data or EOF to read; "httpready" (accf_http) once a
 * whole GET or HEAD request header has arrived, and at once when the first
 * bytes are anything else. Linux's TCP_DEFER_ACCEPT is the data filter with
 * a time limit, after which the connection is handed over anyway.
 *
 * A held connection is a full, ESTABLISHED control block that stays on its
 * listener's incomplete list (q_incomp, FreeBSD's so_incomp): it is counted
 * there (q_incqlen) against the backlog and is never counted by the
 * listener's readiness, which looks at the completed list only.
 */
#ifndef TCPCORE_TCP_TCP_ACCF_H
#define TCPCORE_TCP_TCP_ACCF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcp/tcp_var.h"

struct tcpc_stack;

/* tcpcb.t_accf */
enum accf_kind {
    ACCF_NONE,
    ACCF_DATA, /* "dataready", and TCP_DEFER_ACCEPT */
    ACCF_HTTP, /* "httpready" */
};

/* SO_ACCEPTFILTER: installs the filter called name on listener l, or with
 * NULL or "" removes it and hands the held children to accept. 0,
 * -ENOENT (no such filter), -EINVAL (not listening, or a filter is set). */
int accf_setopt(struct tcpc_stack *stack, struct tcpcb *l, const char *name);

/* The installed filter's name: 0, or -EINVAL (not listening, no filter). */
int accf_getopt(const struct tcpcb *l, char *buf, size_t len);

/* TCP_DEFER_ACCEPT: seconds (0 removes it) on a listener or a socket that
 * may listen. 0, or -EINVAL (out of range, a connection, or a filter set
 * through SO_ACCEPTFILTER). */
int accf_set_defer(struct tcpc_stack *stack, struct tcpcb *tp, int secs);

/* A child of a listener just reached ESTABLISHED: onto the accept queue,
 * or held when the listener's filter says it is not ready yet. */
void accf_offer(struct tcpc_stack *stack, struct tcpcb *tp);

/* tp is held (t_accf set) and still a child. */
static inline bool accf_held(const struct tcpcb *tp)
{
    return tp->t_accf != ACCF_NONE && tp->parent != 0;
}

/* A held child's readiness may have changed (tcp_notify): hands it over
 * at EOF, an error or a full buffer, and dataready's at any data. */
void accf_recheck(struct tcpc_stack *stack, struct tcpcb *tp);

/* n in-order bytes were just added to a held child's receive buffer:
 * httpready looks at them (before tcp_notify's recheck). */
void accf_arrived(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t n);

/* The keep timer of a child held by TCP_DEFER_ACCEPT fired: true when it
 * was the hold's limit (the child is handed over), false when the timer is
 * the ordinary keep timer. */
bool accf_timer(struct tcpc_stack *stack, struct tcpcb *tp);

/*
 * httpready's test, over the in-order bytes of a receive buffer given as
 * up to two pieces (a ring's): true when they hold a whole request header
 * after a GET or HEAD request line for HTTP/1.0 or 1.1, or when they cannot
 * become one (another method, an HTTP/0.9 or other-version request line);
 * false while they may still become one. seen: how many of the first bytes
 * were tested before and answered false (0: none), so that the search for
 * the header's end starts where it left off. Exposed for its fuzz target.
 */
bool accf_http_ready(const uint8_t *p0, size_t n0, const uint8_t *p1, size_t n1, size_t seen);

#endif
