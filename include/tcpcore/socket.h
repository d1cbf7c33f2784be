/*
 * The socket-style API on a stack instance.
 *
 * Sockets are small integers (descriptors) local to one stack. Every call is
 * non-blocking and returns a negative errno value on failure (-EAGAIN when it
 * would block, -EINPROGRESS from connect). Calls that send packets use the
 * stack's current time (tcpc_now): an embedder whose clock moved calls
 * tcpc_advance first. Packets may be emitted, and events fired, from inside
 * any of these calls.
 *
 * Readiness is delivered two ways, so one loop can drive many thousands of
 * sockets: an event callback fired when a socket's readiness changes, and
 * tcpc_poll to ask at any time.
 */
#ifndef TCPCORE_SOCKET_H
#define TCPCORE_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#include "addr.h"

struct tcpc_stack;

/* Readiness bits. */
#define TCPC_EV_READABLE   0x01 /* data, EOF, or an error to read */
#define TCPC_EV_WRITABLE   0x02 /* send buffer has room (connected) */
#define TCPC_EV_ACCEPTABLE 0x04 /* a listener has a connection to accept */
#define TCPC_EV_ERROR      0x08 /* so_error is set (tcpc_getsockopt SO_ERROR) */
#define TCPC_EV_HUP        0x10 /* both directions are finished */

/* Fired when bits in a socket's readiness turn on. Must not close sockets
 * other than sd; may call any other API function on the stack. */
typedef void (*tcpc_event_fn)(void *ctx, int sd, uint32_t events);

/* Installs (or with NULL removes) the event callback. */
void tcpc_set_event_cb(struct tcpc_stack *stack, tcpc_event_fn fn, void *ctx);

/* Socket options. Values are ints; SO_LINGER takes the linger time in
 * seconds, or -1 for "off". */
enum tcpc_sockopt {
    TCPC_SO_REUSEADDR = 1,
    TCPC_SO_REUSEPORT,
    TCPC_SO_REUSEPORT_LB,
    TCPC_SO_LINGER,
    TCPC_SO_RCVBUF,
    TCPC_SO_SNDBUF,
    TCPC_SO_ERROR, /* read-only; reading clears it */
    TCPC_TCP_NODELAY,
    TCPC_TCP_MAXSEG,
    TCPC_IPV6_V6ONLY,
    TCPC_IP_BINDANY,
    TCPC_TCP_NOOPT,    /* no TCP options on our SYN or SYN-ACK, none negotiated */
    TCPC_TCP_KEEPINIT, /* connect() timeout, 0..3600 s; 0: net.inet.tcp.keepinit */
};

/* Address families for tcpc_socket. */
#define TCPC_AF_INET  4
#define TCPC_AF_INET6 6

/* Creates a TCP socket; returns its descriptor, -EAFNOSUPPORT or -ENOBUFS
 * (kern.ipc.maxsockets reached). The caller closes it with tcpc_close. */
int tcpc_socket(struct tcpc_stack *stack, int family);

/* Binds to addr and port (port 0 picks an ephemeral port; a NULL addr is the
 * family's wildcard). -EADDRINUSE, -EADDRNOTAVAIL, -EINVAL (already bound,
 * wrong family). */
int tcpc_bind(struct tcpc_stack *stack, int sd, const struct tcpc_addr *addr, uint16_t port);

/* Starts listening with a backlog of completed connections awaiting accept
 * (overflow counted as tcps_listendrop). Binds an ephemeral port if unbound. */
int tcpc_listen(struct tcpc_stack *stack, int sd, int backlog);

/* Takes a completed connection off a listener's queue: its descriptor, with
 * the peer address and port in *peer and *port when non-NULL; -EAGAIN when none. The
 * caller owns the new socket. */
int tcpc_accept(struct tcpc_stack *stack, int sd, struct tcpc_addr *peer, uint16_t *port);

/* Starts an active open; returns -EINPROGRESS (the usual case), or
 * -EADDRNOTAVAIL, -EISCONN, -EALREADY, -EINVAL. Completion shows as
 * TCPC_EV_WRITABLE, failure as TCPC_EV_ERROR with SO_ERROR set
 * (ECONNREFUSED, ETIMEDOUT). */
int tcpc_connect(struct tcpc_stack *stack, int sd, const struct tcpc_addr *addr, uint16_t port);

/* Queues up to len bytes for sending; returns bytes queued, -EAGAIN (buffer
 * full), -EPIPE (write side shut down or connection gone), -ENOTCONN, or the
 * pending error (-ECONNRESET...). */
ssize_t tcpc_send(struct tcpc_stack *stack, int sd, const void *buf, size_t len);

/* Reads up to len bytes; returns bytes read, 0 at end of stream, -EAGAIN,
 * -ENOTCONN, or the pending error. */
ssize_t tcpc_recv(struct tcpc_stack *stack, int sd, void *buf, size_t len);

#define TCPC_SHUT_RD   0
#define TCPC_SHUT_WR   1
#define TCPC_SHUT_RDWR 2
/* Shuts down one or both directions; a write shutdown sends FIN after the
 * queued data. -ENOTCONN when not connected. */
int tcpc_shutdown(struct tcpc_stack *stack, int sd, int how);

/*
 * Releases the descriptor. The connection carries on closing by itself
 * (FIN after queued data, then FIN_WAIT/TIME_WAIT), unless there is unread
 * received data or SO_LINGER is 0, in which case it is reset (RFC 9293
 * 3.10.4, RFC 2525 2.17). The descriptor is invalid after the call.
 */
int tcpc_close(struct tcpc_stack *stack, int sd);

int tcpc_setsockopt(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, int value);
int tcpc_getsockopt(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, int *value);

/* The socket's current readiness (TCPC_EV_* bits); -EBADF for a bad sd. */
int tcpc_poll(struct tcpc_stack *stack, int sd);

/*
 * A snapshot of a connection, like Linux's TCP_INFO: state, sequence
 * space, windows (scaled, in bytes), the negotiated options, round-trip
 * estimates and retransmissions. Times are microseconds.
 */
struct tcpc_info {
    uint8_t state; /* tcpc_state_name() */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t options; /* TCPC_INFO_* */
    uint32_t snd_una, snd_nxt, snd_max, iss;
    uint32_t rcv_nxt, irs;
    uint32_t snd_wnd, rcv_wnd, snd_cwnd, snd_ssthresh;
    uint32_t snd_mss;              /* payload bytes per segment we send */
    uint32_t snd_queue, rcv_queue; /* bytes buffered */
    tcpc_time_t srtt, rttvar, rto;
    uint32_t backoff;     /* current RTO backoff shift */
    uint32_t retransmits; /* timeouts since the last ACK of new data */
};
#define TCPC_INFO_TIMESTAMPS 0x01
#define TCPC_INFO_WSCALE     0x02
#define TCPC_INFO_SACK       0x04

/* Fills *info for sd. -EBADF. Any state; a listener reports only its state. */
int tcpc_getinfo(struct tcpc_stack *stack, int sd, struct tcpc_info *info);

/* Local and peer address of a socket. -EBADF, -ENOTCONN (peer). */
int tcpc_getsockname(struct tcpc_stack *stack, int sd, struct tcpc_addr *addr, uint16_t *port);
int tcpc_getpeername(struct tcpc_stack *stack, int sd, struct tcpc_addr *addr, uint16_t *port);

#endif
