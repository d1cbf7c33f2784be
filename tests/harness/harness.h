/*
 * The segment-level test harness: one stack on an in-memory wire whose far
 * end is the test itself.
 *
 * A test injects crafted segments as the peer, moves virtual time, and
 * checks what the stack emitted, field by field, or that it emitted nothing.
 * Written so that a test reads like the exchange it checks:
 *
 *     h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
 *     struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
 *     h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.seq + 1));
 *     h_expect_nothing(h);
 *
 * In SEG(...), a field left out is "don't care" when expecting and a
 * default when injecting (ports from the harness, window 65535, no options).
 */
#ifndef TCPCORE_TESTS_HARNESS_H
#define TCPCORE_TESTS_HARNESS_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/config.h" /* the tests set configuration fields directly */
#include "tcpcore/format.h"
#include "tcpcore/group.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "tcpcore/stats.h"
#include "wire/tcp.h"

#define SEG_ANY INT64_MIN

struct seg {
    int64_t flags; /* required: TH_* exactly */
    int64_t seq, ack, win;
    int64_t urp;                                 /* urgent pointer field (inject: 0 unless set) */
    int64_t mss, wscale, tsval, tsecr, sackperm; /* option present with this value */
    int64_t opts;                                /* the exact set of TOF_* present */
    const char *data;                            /* payload (NUL-terminated) */
    int64_t len;                                 /* payload length */
    int64_t sport, dport;                        /* ports, when not the harness's */
    int64_t ttl;                                 /* hop limit of the emitted packet */
    int64_t df;                                  /* IPv4 DF bit */
    int64_t ecn;                                 /* IP ECN field (IPTOS_ECN_*) */
    int64_t nsack;                               /* SACK blocks (RFC 2018) in sack[] */
    uint32_t sack[2 * TCP_SACK_MAX];             /* start, end of each block, in order */
    int64_t tfo; /* Fast Open option with a cookie this long (0: a request; expect -1: none) */
    const uint8_t *tfo_cookie; /* its bytes; NULL: 1, 2, 3... */
    bool tfo_anybytes;         /* expect: the cookie's bytes are not checked */
};

/* Every field "any" except what the caller names. */
#define SEG(...)                                                                                   \
    ((struct seg){.flags = SEG_ANY,                                                                \
                  .seq = SEG_ANY,                                                                  \
                  .ack = SEG_ANY,                                                                  \
                  .win = SEG_ANY,                                                                  \
                  .urp = SEG_ANY,                                                                  \
                  .mss = SEG_ANY,                                                                  \
                  .wscale = SEG_ANY,                                                               \
                  .tsval = SEG_ANY,                                                                \
                  .tsecr = SEG_ANY,                                                                \
                  .sackperm = SEG_ANY,                                                             \
                  .opts = SEG_ANY,                                                                 \
                  .len = SEG_ANY,                                                                  \
                  .sport = SEG_ANY,                                                                \
                  .dport = SEG_ANY,                                                                \
                  .ttl = SEG_ANY,                                                                  \
                  .df = SEG_ANY,                                                                   \
                  .ecn = SEG_ANY,                                                                  \
                  .nsack = SEG_ANY,                                                                \
                  .tfo = SEG_ANY,                                                                  \
                  __VA_ARGS__})

/* A segment the stack emitted, parsed. */
struct h_seg {
    struct tcp_repr th;
    struct ip_repr ip;
    size_t len;             /* bytes of the whole IP packet */
    uint8_t payload[65536]; /* any segment an IP length field allows */
};

struct h_opts {
    bool v6;                     /* IPv6 addresses (2001:db8::/32) instead of 198.18.0.0/15 */
    bool ether;                  /* an Ethernet link (frames, ARP/ND): see hlink.h */
    bool swap;                   /* the stack is .2 / ::2 (and MAC :02), the test .1 / ::1:
                                    the roles the Linux kernel had in vectors.h */
    const char **sysctls;        /* "name=value" strings, NULL-terminated */
    uint32_t mtu;                /* 0: 1500 */
    uint8_t seed;                /* every seed byte; 0: the default seed */
    tcpc_flow_hash_fn flow_hash; /* cfg.flow_hash (a stand-in NIC hash) */
    tcpc_steer_fn steer;         /* cfg.steer, with steer_ctx */
    void *steer_ctx;
    struct tcpc_group *group; /* member group_index of this group (tcpcore/group.h) */
    unsigned group_index;
    tcpc_owner_fn owner; /* cfg.owner, with owner_ctx: the group's ownership rule */
    void *owner_ctx;
};

/* Which emitted segments the link refuses (see h_refuse). */
typedef bool (*h_refuse_fn)(const struct tcp_repr *th);

struct harness {
    struct tcpc_stack *stack;
    tcpc_time_t now;
    struct tcpc_addr local, peer; /* the stack's address and the test's */
    uint16_t lport, pport;        /* default ports: stack side, test side */
    bool v6;
    /* Ethernet link: packets travel in frames between mac (the stack's)
     * and peer_mac; h_expect wants the stack's frames sent to next_mac
     * (peer_mac unless a test routes through a gateway). */
    bool ether;
    struct tcpc_ether_addr mac, peer_mac, next_mac;
    /* Emitted packets not yet expected. */
    struct h_pkt *out_head, *out_tail;
    size_t out_count;
    /* Socket events, ORed per descriptor until read with h_events. */
    uint32_t events[64];
    /* Output refusal (h_refuse): packets still to refuse, which ones, and
     * how many were refused in all. */
    unsigned refuse_left;
    h_refuse_fn refuse_if;
    unsigned refused;
};

/* A stack at time 1 s on the harness wire, seeded (deterministic), with
 * the given options (NULL: IPv4 defaults). Fails the test on error. */
struct harness *h_new(const struct h_opts *opts);
void h_free(struct harness *h);

/* Injects a segment from the peer to the stack. */
void h_inject(struct harness *h, struct seg s);
/* Injects a segment with the NIC flow hash `flow` (tcpc_input_hash). */
void h_inject_hash(struct harness *h, struct seg s, uint32_t flow);
/* Injects raw bytes as an IP packet (in a frame from peer_mac on an
 * Ethernet link). */
void h_inject_raw(struct harness *h, const uint8_t *pkt, size_t len);
/* Injects raw bytes as they are: a frame on an Ethernet link. */
void h_inject_frame(struct harness *h, const uint8_t *frame, size_t len);
/* Takes the next emitted packet (a frame on an Ethernet link) as raw bytes
 * into buf; returns its length. Fails the test when nothing was sent. */
size_t h_take(struct harness *h, uint8_t *buf, size_t cap);
/* Builds the packet h_inject would send, into buf; returns its length. */
size_t h_build(struct harness *h, struct seg s, uint8_t *buf, size_t buflen);
/* The same segment before emission (its payload points into s.data), for
 * a test to change (sign) and send with h_inject_repr. */
void h_build_repr(struct harness *h, struct seg s, struct ip_repr *ip, struct tcp_repr *th);
/* Emits ip/th as the peer's packet and injects it. */
void h_inject_repr(struct harness *h, const struct ip_repr *ip, const struct tcp_repr *th);

/* Takes the next emitted segment and checks it against s (ports default to
 * stack->peer; on an Ethernet link, the frame from mac to next_mac); fails
 * the test with both segments printed on a mismatch. */
struct h_seg h_expect(struct harness *h, struct seg s);
/* Fails the test if anything was emitted. */
void h_expect_nothing(struct harness *h);
/* Emitted packets waiting to be expected. */
size_t h_pending(const struct harness *h);
/* Discards everything emitted so far. */
void h_flush(struct harness *h);

/*
 * Makes the wire refuse, as a full ring would (the output callback returns
 * -ENOBUFS), the next `count` packets that `match` accepts (every packet
 * when NULL); H_REFUSE_ALL refuses them until the next call, and
 * h_refuse(h, 0, NULL) restores the link. Refused packets never reach
 * h_expect; h->refused counts them.
 */
#define H_REFUSE_ALL UINT_MAX
void h_refuse(struct harness *h, unsigned count, h_refuse_fn match);

/* Applies "name=value" tunables (NULL-terminated) to cfg; fails the test
 * with the stack's sentence on a refused one. */
void h_apply_sysctls(struct tcpc_config *cfg, const char *const *sysctls);

/* Moves virtual time forward by delta microseconds and runs due timers. */
void h_advance(struct harness *h, tcpc_time_t delta);

/* A counter's value by name ("tcps_rcvbadsum"); fails on an unknown name. */
uint64_t h_stat(struct harness *h, const char *name);

/* Events delivered for sd since the last call (and clears them). */
uint32_t h_events(struct harness *h, int sd);

/* A listener on the harness's local port; returns its descriptor. */
int h_listen(struct harness *h);

/*
 * A connection established passively through a three-way handshake with
 * the peer's ISN `irs` and the given SYN options (SEG_ANY fields: none),
 * accepted; returns its descriptor, with our ISS in *iss. The listener's
 * descriptor goes to *lsd when non-NULL.
 */
int h_establish(struct harness *h, uint32_t irs, struct seg synopts, uint32_t *iss, int *lsd);

#define MSEC (1000ULL)
#define SEC  (1000000ULL)

#endif
