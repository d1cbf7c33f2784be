/*
 * A byte relay between two stream endpoints, each a tcpcore socket or a
 * kernel socket, for the forward service. Each direction has its own
 * bounded buffer; a direction stops reading while its buffer is full, so a
 * slow side closes the other side's window (backpressure) instead of
 * growing memory. A FIN read on one side becomes a write shutdown on the
 * other once everything before it went through (half-close both ways);
 * an error on either side resets both.
 */
#ifndef TCPCORED_RELAY_H
#define TCPCORED_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tcpc_stack;

#define RELAY_BUF 65536

struct relay_end {
    bool kernel; /* a kernel socket descriptor, else a tcpcore descriptor */
    int id;
    bool connecting; /* an outbound connect not yet complete */
    bool eof;        /* nothing more will be read from it */
    bool shut;       /* its write side is shut down */
};

struct relay_buf {
    size_t len, off; /* bytes held; bytes of them already written */
    uint8_t data[RELAY_BUF];
};

struct relay {
    struct relay_end end[2];
    struct relay_buf buf[2]; /* buf[i]: read from end[i], to be written to end[1 - i] */
};

enum relay_state {
    RELAY_OPEN,  /* waiting for either side */
    RELAY_DONE,  /* both directions ended cleanly: close both */
    RELAY_RESET, /* a side failed (or a connect did): reset both */
};

/* Moves bytes both ways as far as the sockets allow, without blocking. */
enum relay_state relay_pump(struct relay *r, struct tcpc_stack *stack);

/* Closes both ends: orderly for RELAY_DONE, with resets otherwise. */
void relay_close(struct relay *r, struct tcpc_stack *stack, bool reset);

#endif
