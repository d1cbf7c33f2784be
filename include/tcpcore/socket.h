/**
 * @file
 * @brief The socket-style API on a stack instance.
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
 *
 * Every call that takes a descriptor returns -EBADF for one that is not
 * open on that stack. The library owns every socket's buffers; data passed
 * to tcpc_send is copied before the call returns, and tcpc_recv copies out.
 */
#ifndef TCPCORE_SOCKET_H
#define TCPCORE_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */
#include <sys/uio.h>   /* struct iovec */

#include "addr.h"

struct tcpc_stack;

#define TCPC_EV_READABLE   0x01 /**< readiness: data, EOF, or an error to read */
#define TCPC_EV_WRITABLE   0x02 /**< readiness: send buffer has room (connected) */
#define TCPC_EV_ACCEPTABLE 0x04 /**< readiness: a listener has a connection to accept */
#define TCPC_EV_ERROR      0x08 /**< readiness: so_error is set (tcpc_getsockopt SO_ERROR) */
#define TCPC_EV_HUP        0x10 /**< readiness: both directions are finished */
#define TCPC_EV_URGENT                                                                             \
    0x20 /**< readiness: the peer's urgent mark lies ahead of or at the                            \
            reader (tcpc_sockatmark, TCPC_MSG_OOB; select's exceptional                            \
            condition) */
#define TCPC_EV_LISTENER                                                                           \
    0x40 /**< this descriptor is the member's copy of a connection group's                         \
            listener, just opened (tcpcore/group.h, tcpc_group_listener_sd) */

/** Fired when bits in a socket's readiness turn on. Must not close sockets
 * other than sd; may call any other API function on the stack. */
typedef void (*tcpc_event_fn)(void *ctx, int sd, uint32_t events);

/** Installs (or with NULL removes) the event callback and the context it
 * is called with. Callable at any time; the callback fires from inside the
 * stack's own calls only. */
void tcpc_set_event_cb(struct tcpc_stack *stack, tcpc_event_fn fn, void *ctx);

/** Socket options (tcpc_setsockopt, tcpc_getsockopt), named after their
 * BSD counterparts. Values are ints; SO_LINGER takes the linger time in
 * seconds, or -1 for "off". */
enum tcpc_sockopt {
    TCPC_SO_REUSEADDR = 1, /**< bind beside connections and TIME_WAIT on the port (docs/pcb.md) */
    TCPC_SO_REUSEPORT,     /**< several sockets on the very same address and port */
    TCPC_SO_REUSEPORT_LB,  /**< a listening port shared, connections spread by hash */
    TCPC_SO_LINGER,        /**< linger seconds on close; 0 resets, -1 off; above 0 as off:
                              tcpc_close never waits (FreeBSD's non-blocking close); at
                              most 32767, -EDOM above */
    TCPC_SO_RCVBUF,        /**< receive buffer in bytes */
    TCPC_SO_SNDBUF,        /**< send buffer in bytes */
    TCPC_SO_ERROR,         /**< the pending error; read-only, reading clears it */
    TCPC_TCP_NODELAY,      /**< 1: send small segments at once (no Nagle) */
    TCPC_TCP_MAXSEG,       /**< the largest segment we send, at most what was negotiated */
    TCPC_IPV6_V6ONLY,      /**< an IPv6 socket takes IPv6 only (no v4-mapped peers) */
    TCPC_IP_BINDANY,       /**< bind to and accept for an address that is not ours */
    TCPC_TCP_NOOPT,        /**< no TCP options on our SYN or SYN-ACK, none negotiated */
    TCPC_TCP_KEEPINIT,     /**< connect() timeout, 0..3600 s; 0: net.inet.tcp.keepinit */
    TCPC_TCP_CONGESTION,   /**< the congestion-control algorithm: by name with
                              tcpc_setsockopt_str ("newreno", "cubic"), or by its index in
                              net.inet.tcp.cc.algorithm's numbering; any time; a listener's
                              children inherit it */
    TCPC_TCP_NOPUSH,       /**< 1: send full segments only; the tail of the data waits until
                              the option is cleared (which sends it, Nagle permitting), the
                              FIN, or the persist timer (FreeBSD's TCP_NOPUSH); any time; a
                              listener's children inherit it */
    TCPC_TCP_CORK = TCPC_TCP_NOPUSH, /**< Linux's name for TCPC_TCP_NOPUSH (the same option) */
    TCPC_IP_TTL,            /**< hop limit of the socket's segments, 1..255, -1: the default
                               (net.inet.ip.ttl, or net.inet6.ip6.hlim over IPv6); any time;
                               the same setting as TCPC_IPV6_UNICAST_HOPS; a listener's SYN-ACKs
                               carry it and its children inherit it */
    TCPC_IP_TOS,            /**< TOS / traffic class byte, 0..255 (-1: 0); the ECN bits are
                               the stack's and read 0; any time; the same setting as
                               TCPC_IPV6_TCLASS; inherited as TCPC_IP_TTL */
    TCPC_IPV6_UNICAST_HOPS, /**< the IPv6 spelling of TCPC_IP_TTL */
    TCPC_IPV6_TCLASS,       /**< the IPv6 spelling of TCPC_IP_TOS */
    TCPC_IP_DONTFRAG,       /**< 1: DF on every IPv4 segment even with
                               net.inet.tcp.path_mtu_discovery 0 or after an ICMP
                               needs-fragmentation without a usable MTU; IPv6 is never
                               fragmented by tcpcore or routers, so it changes nothing there;
                               inherited as TCPC_IP_TTL */
    TCPC_SO_KEEPALIVE,      /**< 1: probe an idle connection (TCPC_TCP_KEEPIDLE) and drop it with
                               ETIMEDOUT when the probes go unanswered; net.inet.tcp.always_keepalive
                               (default 1) does the same for every connection (docs/recovery.md) */
    TCPC_TCP_KEEPIDLE,      /**< idle seconds before the first keepalive probe, 0..65535;
                               0: net.inet.tcp.keepidle; reads as the value in force */
    TCPC_TCP_KEEPINTVL,     /**< seconds between keepalive probes, 0..65535; 0:
                               net.inet.tcp.keepintvl; reads as the value in force */
    TCPC_TCP_KEEPCNT,       /**< unanswered keepalive probes before the drop, 0..255; 0:
                               net.inet.tcp.keepcnt; reads as the value in force */
    TCPC_TCP_USER_TIMEOUT,  /**< milliseconds sent data may stay unacknowledged before the
                               connection is dropped with ETIMEDOUT (Linux's TCP_USER_TIMEOUT);
                               also replaces TCPC_TCP_KEEPCNT's limit; 0: off */
    TCPC_TCP_MD5SIG,        /**< an RFC 2385 signature key for a peer address or prefix: a
                               struct tcpc_md5sig through tcpc_setsockopt_buf (docs/md5.md) */
    TCPC_TCP_FASTOPEN,      /**< 1: TCP Fast Open (RFC 7413). Before connecting: the SYN asks
                               for a cookie or carries the cached one with the first data
                               (tcpc_sendto); -EPERM while net.inet.tcp.fastopen.client_enable
                               is 0; reads 0 once the connection fell back to a plain open.
                               Before listen or on a listener: valid cookies let SYN data in;
                               -EPERM while net.inet.tcp.fastopen.server_enable is 0
                               (docs/tfo.md) */
    TCPC_SO_ACCEPTFILTER,   /**< FreeBSD's accept filter, by name with tcpc_setsockopt_str on a
                               listener: "dataready" (accept returns a connection once it has
                               data or EOF to read) or "httpready" (once a whole GET or HEAD
                               request header has arrived; other data passes at once); NULL or
                               "" removes it and hands every held connection to accept;
                               tcpc_getsockopt_str reads the name (docs/accf.md) */
    TCPC_TCP_DEFER_ACCEPT,  /**< Linux's TCP_DEFER_ACCEPT: seconds, 0..65535, a connection
                               without data is held before it is accepted ("dataready" with a
                               time limit, after which it is handed to accept anyway); 0
                               removes it; before listen or on a listener (docs/accf.md) */
    TCPC_SO_OOBINLINE,      /**< 1: the peer's out-of-band byte stays in the stream, where
                               stream reads return it; TCPC_MSG_OOB reads then fail with
                               -EINVAL (docs/urgent.md) */
    TCPC_TCP_AO_ADD_KEY,    /**< adds a TCP-AO (RFC 5925) Master Key Tuple for a peer address
                               or prefix: a struct tcpc_tcp_ao_add through tcpc_setsockopt_buf
                               (docs/tcp-ao.md) */
    TCPC_TCP_AO_DEL_KEY,    /**< removes one: a struct tcpc_tcp_ao_del */
    /** Linux's SO_MAX_PACING_RATE: bytes per second the connection's data
     * may leave at, at most. It caps the rate a congestion-control algorithm
     * paces at and, when the algorithm sets none, paces at itself
     * (docs/cc.md); -1 (which it reads as): no cap; 0 and other negatives:
     * -EINVAL; any time; a listener's children inherit it. */
    TCPC_SO_MAX_PACING_RATE,
};

/** The longest key TCPC_TCP_MD5SIG takes (RFC 2385 names none; Linux's limit). */
#define TCPC_TCP_MD5SIG_MAXKEYLEN 80
/** tcpc_md5sig.flags: prefixlen is meaningful (else the key is for addr alone). */
#define TCPC_MD5SIG_FLAG_PREFIX 0x01

/**
 * The value of TCPC_TCP_MD5SIG, shaped like Linux's struct tcp_md5sig: the
 * key for segments to and from addr (or, with TCPC_MD5SIG_FLAG_PREFIX, any
 * address whose first prefixlen bits are addr's, counted in addr's own
 * family: 0..32 for IPv4, 0..128 for IPv6). The longest matching prefix
 * wins. keylen 0 removes the key for that addr and prefix.
 *
 * Set on a listener, it makes every connection from a matching peer signed
 * (a SYN without a valid signature is dropped) and is inherited by the
 * accepted connection. Set before connect, the connection to a matching peer
 * is signed from its SYN on. Set on a connected socket whose peer it
 * matches, it replaces the key of the connection at once (keylen 0: the
 * connection goes on unsigned).
 */
struct tcpc_md5sig {
    struct tcpc_addr addr;                  /**< the peer (IPv4 in its mapped form) */
    uint8_t flags;                          /**< TCPC_MD5SIG_FLAG_* */
    uint8_t prefixlen;                      /**< with TCPC_MD5SIG_FLAG_PREFIX */
    uint16_t keylen;                        /**< 0..TCPC_TCP_MD5SIG_MAXKEYLEN */
    uint8_t key[TCPC_TCP_MD5SIG_MAXKEYLEN]; /**< the shared secret, keylen bytes */
};

/** The longest TCP-AO master key (RFC 5925 names none; Linux's limit). */
#define TCPC_TCP_AO_MAXKEYLEN 80
/** TCP-AO algorithms (RFC 5926): HMAC-SHA-1-96 with KDF_HMAC_SHA1, and
 * AES-128-CMAC-96 with KDF_AES_128_CMAC. Both MACs are 12 bytes. */
#define TCPC_TCP_AO_ALG_HMAC_SHA1_96    1 /**< HMAC-SHA-1-96, KDF_HMAC_SHA1 */
#define TCPC_TCP_AO_ALG_AES_128_CMAC_96 2 /**< AES-128-CMAC-96, KDF_AES_128_CMAC */
/** tcpc_tcp_ao_add.keyflags: the MAC leaves out the TCP options other
 * than TCP-AO itself (RFC 5925 2.2's "option exclusion"; Linux's
 * TCP_AO_KEYF_EXCLUDE_OPT, the same bit). */
#define TCPC_TCP_AO_KEYF_EXCLUDE_OPT 0x02

/**
 * The value of TCPC_TCP_AO_ADD_KEY, shaped after Linux's struct tcp_ao_add:
 * a Master Key Tuple (RFC 5925 3.1) for segments to and from any address
 * whose first prefix bits are addr's (counted in addr's family: 32 names
 * one IPv4 address, 128 one IPv6 address). sndid is the KeyID the MKT's
 * segments carry, rcvid the one the peer's carry (RFC 5925 3.1: the peer's
 * SendID). A socket holds several MKTs for a peer (key rollover, RFC 5925
 * 6.1), but no two with the same prefix and SendID or RecvID. The first
 * added for a peer, or one added with set_current, is the one a connection
 * sends with. Refused: -EINVAL (alg, maclen, keylen 0 or past
 * TCPC_TCP_AO_MAXKEYLEN, flags, prefix longer than the family's address),
 * -EEXIST (an MKT with the same prefix and SendID or RecvID),
 * -EKEYREJECTED (the socket has TCP MD5 keys, or a connection that
 * started without TCP-AO).
 */
struct tcpc_tcp_ao_add {
    struct tcpc_addr addr;              /**< the peer (IPv4 in its mapped form) */
    uint8_t prefix;                     /**< prefix length, in addr's family */
    uint8_t sndid;                      /**< KeyID of the segments we send */
    uint8_t rcvid;                      /**< KeyID of the segments we receive */
    uint8_t alg;                        /**< TCPC_TCP_AO_ALG_* */
    uint8_t maclen;                     /**< 0 or 12 (both algorithms' MAC length) */
    uint8_t keyflags;                   /**< TCPC_TCP_AO_KEYF_* */
    uint8_t set_current;                /**< 1: a connection sends with it from now on */
    uint8_t keylen;                     /**< 1..TCPC_TCP_AO_MAXKEYLEN */
    uint8_t key[TCPC_TCP_AO_MAXKEYLEN]; /**< the master key, keylen bytes */
};

/** The value of TCPC_TCP_AO_DEL_KEY: the MKT of this prefix with this
 * SendID and RecvID. -ENOENT when there is none, -EBUSY when it is the one
 * the socket's connection sends with. */
struct tcpc_tcp_ao_del {
    struct tcpc_addr addr; /**< the peer, as added */
    uint8_t prefix;        /**< prefix length, as added */
    uint8_t sndid;         /**< the MKT's SendID */
    uint8_t rcvid;         /**< the MKT's RecvID */
};

#define TCPC_AF_INET  4 /**< address family for tcpc_socket: IPv4 */
#define TCPC_AF_INET6 6 /**< address family for tcpc_socket: IPv6 (and v4-mapped) */

/** Creates a TCP socket; returns its descriptor, -EAFNOSUPPORT or -ENOBUFS
 * (kern.ipc.maxsockets reached). The caller closes it with tcpc_close. */
int tcpc_socket(struct tcpc_stack *stack, int family);

/** Binds to addr and port (port 0 picks an ephemeral port; a NULL addr is the
 * family's wildcard). -EADDRINUSE, -EADDRNOTAVAIL, -EINVAL (already bound,
 * wrong family). */
int tcpc_bind(struct tcpc_stack *stack, int sd, const struct tcpc_addr *addr, uint16_t port);

/** Starts listening with a backlog of completed connections awaiting accept
 * (overflow counted as tcps_listendrop). Binds an ephemeral port if unbound. */
int tcpc_listen(struct tcpc_stack *stack, int sd, int backlog);

/** Takes a completed connection off a listener's queue: its descriptor, with
 * the peer address and port in *peer and *port when non-NULL; -EAGAIN when none. The
 * caller owns the new socket. */
int tcpc_accept(struct tcpc_stack *stack, int sd, struct tcpc_addr *peer, uint16_t *port);

/** Starts an active open; returns -EINPROGRESS (the usual case), or
 * -EADDRNOTAVAIL, -EISCONN, -EALREADY, -EINVAL. Completion shows as
 * TCPC_EV_WRITABLE, failure as TCPC_EV_ERROR with SO_ERROR set
 * (ECONNREFUSED, ETIMEDOUT). */
int tcpc_connect(struct tcpc_stack *stack, int sd, const struct tcpc_addr *addr, uint16_t port);

/** Queues up to len bytes for sending; returns bytes queued, -EAGAIN (buffer
 * full), -EPIPE (write side shut down or connection gone), -ENOTCONN, or the
 * pending error (-ECONNRESET...). */
ssize_t tcpc_send(struct tcpc_stack *stack, int sd, const void *buf, size_t len);

#define TCPC_MSG_OOB 0x8 /**< tcpc_send_flags, tcpc_recv_flags: urgent (out-of-band) data */
/**
 * tcpc_send with flags. TCPC_MSG_OOB sends the bytes as urgent data: the
 * last byte queued is the out-of-band byte, the urgent pointer (RFC 9293
 * 3.8.5, with the BSD meaning RFC 6093 recommends) goes just past it, and
 * the segments carry URG until the peer acknowledges it; data up to it
 * goes out at once (no Nagle, no TCP_NOPUSH hold), and when the window
 * keeps it back an ACK still tells the peer it is coming. A later urgent
 * send moves the pointer on. TCPC_MSG_DONTWAIT changes nothing. Returns
 * what tcpc_send does; -EINVAL for an unknown flag (docs/urgent.md).
 */
ssize_t tcpc_send_flags(struct tcpc_stack *stack, int sd, const void *buf, size_t len, int flags);

/** Queues data as tcpc_send, on an unconnected socket with addr and port
 * given after starting an active open to them (FreeBSD's implied connect):
 * with TCPC_TCP_FASTOPEN, the SYN carries the data when a cookie for the
 * server is cached. Returns the bytes queued, the errors of tcpc_connect
 * but -EINPROGRESS, or those of tcpc_send; a connected socket ignores addr. */
ssize_t tcpc_sendto(struct tcpc_stack *stack, int sd, const void *buf, size_t len,
                    const struct tcpc_addr *addr, uint16_t port);

/** Reads up to len bytes; returns bytes read, 0 at end of stream, -EAGAIN,
 * -ENOTCONN, or the pending error. */
ssize_t tcpc_recv(struct tcpc_stack *stack, int sd, void *buf, size_t len);

#define TCPC_MSG_PEEK 0x1 /**< tcpc_recv_flags: copy the bytes out but leave them queued */
#define TCPC_MSG_DONTWAIT                                                                          \
    0x2 /**< tcpc_recv_flags: accepted and ignored, every call is non-blocking (BSD's name) */
#define TCPC_MSG_WAITALL                                                                           \
    0x4 /**< tcpc_recv_flags: all len bytes or -EAGAIN, unless no more can arrive first */
/**
 * tcpc_recv with flags. TCPC_MSG_PEEK returns what tcpc_recv would without
 * consuming it (the window does not open, the next read sees the same
 * bytes, a pending error stays pending). TCPC_MSG_WAITALL, which a
 * blocking call would wait with, makes the read all or nothing: -EAGAIN
 * while fewer than len bytes are queued and more may come, and then
 * TCPC_EV_READABLE fires again at the next arrival; the bytes there are
 * are returned once none can follow before a read (the peer's FIN, an
 * error, a full receive buffer: len larger than SO_RCVBUF never waits for
 * ever). TCPC_MSG_DONTWAIT changes nothing. -EINVAL for an unknown flag.
 *
 * Urgent data (docs/urgent.md): a read stops at the peer's urgent mark, so
 * that tcpc_sockatmark says when the mark is next; the out-of-band byte
 * itself is left out of the stream unless TCPC_SO_OOBINLINE. TCPC_MSG_OOB
 * (with TCPC_MSG_PEEK or not) reads that byte, once: 1, -EAGAIN while it
 * is announced but has not arrived, -EINVAL when there is none (none
 * announced, already read, or the reader went past its mark) or
 * TCPC_SO_OOBINLINE is set.
 */
ssize_t tcpc_recv_flags(struct tcpc_stack *stack, int sd, void *buf, size_t len, int flags);

/** The most iovec entries tcpc_sendv and tcpc_recvv take (POSIX's IOV_MAX). */
#define TCPC_IOV_MAX 1024

/**
 * tcpc_send of the iovcnt buffers of iov, in order, as writev: as many
 * bytes as fit are queued before anything is sent, so the pieces leave
 * together in full segments. Returns the bytes queued, or tcpc_send's
 * errors; -EINVAL for iovcnt outside 0..TCPC_IOV_MAX.
 */
ssize_t tcpc_sendv(struct tcpc_stack *stack, int sd, const struct iovec *iov, int iovcnt);

/**
 * tcpc_recv_flags into the iovcnt buffers of iov, filled in order, as
 * readv. Returns the bytes read (a WAITALL read counts the buffers' total)
 * or tcpc_recv_flags's answers; -EINVAL for iovcnt outside
 * 0..TCPC_IOV_MAX.
 */
ssize_t tcpc_recvv(struct tcpc_stack *stack, int sd, const struct iovec *iov, int iovcnt,
                   int flags);

#define TCPC_SHUT_RD   0 /**< tcpc_shutdown: the receive side */
#define TCPC_SHUT_WR   1 /**< tcpc_shutdown: the send side (FIN after queued data) */
#define TCPC_SHUT_RDWR 2 /**< tcpc_shutdown: both */
/** Shuts down one or both directions; a write shutdown sends FIN after the
 * queued data. -ENOTCONN when not connected. */
int tcpc_shutdown(struct tcpc_stack *stack, int sd, int how);

/**
 * Releases the descriptor. The connection carries on closing by itself
 * (FIN after queued data, then FIN_WAIT/TIME_WAIT), unless there is unread
 * received data or SO_LINGER is 0, in which case it is reset (RFC 9293
 * 3.10.4, RFC 2525 2.17). The descriptor is invalid after the call.
 */
int tcpc_close(struct tcpc_stack *stack, int sd);

/** Sets option opt of socket sd to value. Returns 0, -EBADF, -ENOPROTOOPT
 * (an option this socket does not have), -EINVAL (a value the option
 * refuses) or -EISCONN (a buffer size once the connection has started,
 * when the buffers are already sized). */
int tcpc_setsockopt(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, int value);
/** Reads option opt of socket sd into *value. Returns 0, -EBADF or
 * -ENOPROTOOPT. Reading TCPC_SO_ERROR clears the pending error. */
int tcpc_getsockopt(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, int *value);
/** Sets an option whose value is a structure (TCPC_TCP_MD5SIG with a struct
 * tcpc_md5sig of len bytes; TCPC_TCP_AO_ADD_KEY and TCPC_TCP_AO_DEL_KEY
 * with a struct tcpc_tcp_ao_add or tcpc_tcp_ao_del, whose errors they
 * describe). Returns 0, -EBADF, -ENOPROTOOPT for another
 * option, -EINVAL (len, prefix or key length wrong), -ENOENT (a removal of
 * a key there is none of) or -ENOMEM. */
int tcpc_setsockopt_buf(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, const void *val,
                        size_t len);
/** Sets an option whose value is a name (TCPC_TCP_CONGESTION,
 * TCPC_SO_ACCEPTFILTER). Returns 0, -EBADF, -ESRCH for an algorithm there is
 * none of (FreeBSD's answer), -ENOENT for an accept filter there is none of,
 * -EINVAL for an accept filter on a socket that is not listening or that has
 * one already (remove it first, as on FreeBSD), or -ENOPROTOOPT for an
 * option that takes a number. */
int tcpc_setsockopt_str(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, const char *value);
/** Reads an option whose value is a name into buf, NUL-terminated and
 * truncated to len. Returns 0, -EBADF, -EINVAL (len 0; for
 * TCPC_SO_ACCEPTFILTER also a socket that is not listening or has no filter,
 * as FreeBSD answers) or -ENOPROTOOPT. */
int tcpc_getsockopt_str(struct tcpc_stack *stack, int sd, enum tcpc_sockopt opt, char *buf,
                        size_t len);

/** Whether the next byte a read returns is the one after the peer's
 * urgent mark (the out-of-band byte itself with TCPC_SO_OOBINLINE), as
 * sockatmark() / SIOCATMARK: 1 or 0; -EBADF. */
int tcpc_sockatmark(struct tcpc_stack *stack, int sd);

/** The socket's current readiness (TCPC_EV_* bits); -EBADF for a bad sd. */
int tcpc_poll(struct tcpc_stack *stack, int sd);

/**
 * A snapshot of a connection, like Linux's TCP_INFO: state, sequence
 * space, windows (scaled, in bytes), the negotiated options, round-trip
 * estimates and retransmissions. Times are microseconds.
 *
 * The caller allocates it and tcpc_getinfo passes its size along, so new
 * fields go at the end: a program built with an older, shorter struct gets
 * the part it knows, one built with a newer struct than the library has
 * gets the rest zeroed.
 */
struct tcpc_info {
    uint8_t state;         /**< tcpc_state_name() */
    uint8_t snd_wscale;    /**< the peer's window scale shift (applied to what it sends) */
    uint8_t rcv_wscale;    /**< our window scale shift */
    uint8_t options;       /**< TCPC_INFO_* negotiated */
    uint32_t snd_una;      /**< oldest unacknowledged sequence number */
    uint32_t snd_nxt;      /**< next sequence number to send */
    uint32_t snd_max;      /**< highest sequence number sent */
    uint32_t iss;          /**< our initial sequence number */
    uint32_t rcv_nxt;      /**< next sequence number expected */
    uint32_t irs;          /**< the peer's initial sequence number */
    uint32_t snd_wnd;      /**< the peer's window, in bytes */
    uint32_t rcv_wnd;      /**< our window, in bytes */
    uint32_t snd_cwnd;     /**< congestion window, in bytes */
    uint32_t snd_ssthresh; /**< slow-start threshold, in bytes */
    uint32_t snd_mss;      /**< payload bytes per segment we send */
    uint32_t snd_queue;    /**< bytes in the send buffer */
    uint32_t rcv_queue;    /**< bytes in the receive buffer, an out-of-band byte aside */
    tcpc_time_t srtt;      /**< smoothed round-trip time */
    tcpc_time_t rttvar;    /**< round-trip time variation */
    tcpc_time_t rto;       /**< current retransmission timeout */
    uint32_t backoff;      /**< current RTO backoff shift */
    uint32_t retransmits;  /**< timeouts since the last ACK of new data */
    /** Bytes per second data is paced at, 0: not paced (Linux's
     * tcpi_pacing_rate): the algorithm's rate under the cap, or the cap. */
    uint32_t pacing_rate;
    /** TCPC_SO_MAX_PACING_RATE, 0: no cap. */
    uint32_t max_pacing_rate;
};
#define TCPC_INFO_TIMESTAMPS 0x01 /**< tcpc_info.options: RFC 7323 timestamps */
#define TCPC_INFO_WSCALE     0x02 /**< tcpc_info.options: RFC 7323 window scaling */
#define TCPC_INFO_SACK       0x04 /**< tcpc_info.options: selective acknowledgments */
#define TCPC_INFO_ECN        0x08 /**< tcpc_info.options: ECN (RFC 3168) negotiated */

/**
 * Fills the first infolen bytes of *info for sd (zeroing any part past the
 * library's own struct tcpc_info). Programs call it through the
 * tcpc_getinfo macro, which passes the size of their struct. Returns 0 or
 * -EBADF. Any state; a listener reports only its state.
 */
int tcpc_getinfo_sized(struct tcpc_stack *stack, int sd, struct tcpc_info *info, size_t infolen);

/** Fills *info for sd: tcpc_getinfo_sized with the size of *info. */
#define tcpc_getinfo(stack, sd, info) tcpc_getinfo_sized((stack), (sd), (info), sizeof(*(info)))

/** The local address and port of a socket. Returns 0 or -EBADF. */
int tcpc_getsockname(struct tcpc_stack *stack, int sd, struct tcpc_addr *addr, uint16_t *port);
/** The peer's address and port of a socket. Returns 0, -EBADF or
 * -ENOTCONN. */
int tcpc_getpeername(struct tcpc_stack *stack, int sd, struct tcpc_addr *addr, uint16_t *port);

#endif
