/*
 * How the TCP engine finds its control blocks: the engine's side of the PCB
 * layer (src/pcb).
 *
 * Every tcpcb owns one inpcb (its addressing, in the PCB tables); these calls
 * do the PCB operation and keep the tcpcb's copy of the 4-tuple in step, so
 * the rest of the engine never touches src/pcb directly. Errors are those of
 * the PCB layer (negative errno).
 */
#ifndef TCPCORE_TCP_TCP_DEMUX_H
#define TCPCORE_TCP_TCP_DEMUX_H

#include <stdbool.h>
#include <stdint.h>

#include "tcpcore/addr.h"

struct tcpc_stack;
struct tcpcb;
struct pcb_kind_ops;
struct pcb_tuple;

int demux_init(struct tcpc_stack *stack);
void demux_destroy(struct tcpc_stack *stack);

/* Gives a new tcpcb its inpcb (-ENOBUFS when kern.ipc.maxsockets is
 * reached) / releases it when the tcpcb is freed. */
int demux_attach(struct tcpc_stack *stack, struct tcpcb *tp);
void demux_detach(struct tcpc_stack *stack, struct tcpcb *tp);

/* bind(), listen() and connect() on tp's inpcb (see pcb_bind, pcb_listen,
 * pcb_connect for the rules and errors). */
int demux_bind(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcpc_addr *laddr,
               uint16_t lport);
int demux_listen(struct tcpc_stack *stack, struct tcpcb *tp);
int demux_connect(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcpc_addr *faddr,
                  uint16_t fport, const struct tcpc_addr *src);

/* Gives tp (fresh from tcb_new) the 4-tuple of a passive open and inserts
 * it. -EADDRINUSE when an entry already holds the 4-tuple: the handshake's
 * segments missed it (a wrong NIC flow hash), so it must not be indexed
 * twice; -ENOBUFS when the table is full. tp is then unlisted. */
int demux_insert(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcpc_addr *laddr,
                 uint16_t lport, const struct tcpc_addr *faddr, uint16_t fport);

/* Takes tp out of the tables; its 4-tuple stays readable for listings. */
void demux_remove(struct tcpc_stack *stack, struct tcpcb *tp);

/*
 * Entries that are not tcpcbs (TIME_WAIT records, timewait.c) live in the
 * exact table by typed reference (PCB_REF(kind, index)): their module
 * registers how the table sees a kind, then inserts and removes references
 * under their 4-tuple through these, never through src/pcb directly.
 * Errors are the PCB layer's (negative errno): pcb_ref_insert's
 * -EADDRINUSE / -ENOBUFS, pcb_ref_remove's -ENOENT.
 */
int demux_register_kind(struct tcpc_stack *stack, unsigned kind, const struct pcb_kind_ops *ops);
int demux_ref_insert(struct tcpc_stack *stack, const struct pcb_tuple *t, uint32_t ref);
int demux_ref_remove(struct tcpc_stack *stack, const struct pcb_tuple *t, uint32_t ref);

/* Hands the tunables' ephemeral port range to the PCB layer. */
void demux_set_portrange(struct tcpc_stack *stack);

/* Sets or clears socket-option bits (INP_SETTABLE) on tp's inpcb, the one
 * place they are kept; see pcb_setopt for what is refused. */
int demux_setopt(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t inp_opts, bool on);

/* A passive open inherits its listener's socket options. */
void demux_inherit_opts(struct tcpcb *child, const struct tcpcb *listener);

/* The connection owning the 4-tuple, else (wildcard) the best listener,
 * else NULL. */
struct tcpcb *demux_lookup(struct tcpc_stack *stack, const struct tcpc_addr *faddr, uint16_t fport,
                           const struct tcpc_addr *laddr, uint16_t lport);
/* As demux_lookup, and when the 4-tuple belongs to a TIME_WAIT record
 * (timewait.c) rather than a connection: NULL with the record's exact-table
 * reference in *twref (DEMUX_REF_NONE otherwise). */
#define DEMUX_REF_NONE 0u
/* flow, when not NULL, is the NIC's flow hash for the packet. */
struct tcpcb *demux_lookup_tw(struct tcpc_stack *stack, const struct tcpc_addr *faddr,
                              uint16_t fport, const struct tcpc_addr *laddr, uint16_t lport,
                              const uint32_t *flow, uint32_t *twref);
struct tcpcb *demux_lookup_exact(struct tcpc_stack *stack, const struct tcpc_addr *faddr,
                                 uint16_t fport, const struct tcpc_addr *laddr, uint16_t lport);
/* The listener (or unconnected bind) for the 4-tuple's local end, passing
 * over whatever holds the 4-tuple itself: for a SYN that reopens a
 * TIME_WAIT record, which keeps its place until the new connection exists.
 * flow as for demux_lookup_tw. */
struct tcpcb *demux_lookup_listener(struct tcpc_stack *stack, const struct tcpc_addr *faddr,
                                    uint16_t fport, const struct tcpc_addr *laddr, uint16_t lport,
                                    const uint32_t *flow);

#endif
