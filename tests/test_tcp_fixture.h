/*
 * Fixtures shared by the TCP engine's segment-level tests (test_tcp_*.c):
 * connections built through the socket API and the wire, in a known state,
 * with the sequence numbers the test needs to write the next segment.
 *
 * Everything is static so that each test program takes what it uses.
 */
#ifndef TCPCORE_TESTS_TEST_TCP_FIXTURE_H
#define TCPCORE_TESTS_TEST_TCP_FIXTURE_H

#include <errno.h>
#include <string.h>

#include "harness.h"
#include "tcpcore/sysctl.h"

/* A connection as the test (the peer) sees it. */
struct fx_conn {
    int sd;       /* the stack's descriptor */
    int lsd;      /* the listener, or -1 for an active open */
    uint32_t iss; /* the stack's ISN */
    uint32_t irs; /* the peer's (the test's) ISN */
    uint32_t snd; /* next sequence number the peer sends */
    uint32_t rcv; /* next sequence number the peer expects from the stack */
};

static inline int fx_socket(struct harness *h)
{
    int sd = tcpc_socket(h->stack, h->v6 ? TCPC_AF_INET6 : TCPC_AF_INET);
    assert_true(sd >= 0);
    return sd;
}

/* Starts an active open to the peer and takes the SYN, whose flags must be
 * `flags` (TH_SYN, with ECE and CWR when it asks for ECN); the harness's
 * local port becomes the ephemeral port the stack chose. */
static inline int fx_connect_flags(struct harness *h, uint8_t flags, struct h_seg *syn)
{
    int sd = fx_socket(h);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &port), 0);
    h->lport = port;
    struct h_seg s = h_expect(h, SEG(.flags = flags, .ack = 0, .len = 0));
    if (syn)
        *syn = s;
    return sd;
}

static inline int fx_connect(struct harness *h, struct h_seg *syn)
{
    return fx_connect_flags(h, TH_SYN, syn);
}

/* Active open completed with a SYN-ACK carrying synack's options (its
 * flags, seq and ack are filled in), and the stack's ACK taken. */
static inline struct fx_conn fx_active(struct harness *h, uint32_t irs, struct seg synack)
{
    struct fx_conn c = {.lsd = -1, .irs = irs};
    struct h_seg syn;
    c.sd = fx_connect(h, &syn);
    c.iss = syn.th.seq;
    synack.flags = TH_SYN | TH_ACK;
    synack.seq = irs;
    synack.ack = c.iss + 1;
    h_inject(h, synack);
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.iss + 1, .ack = irs + 1, .len = 0));
    h_expect_nothing(h);
    c.snd = irs + 1;
    c.rcv = c.iss + 1;
    h_events(h, c.sd);
    return c;
}

/* Passive open through the harness (no SYN options: MSS 536, no window
 * scaling, no timestamps), accepted. */
static inline struct fx_conn fx_passive(struct harness *h, uint32_t irs, struct seg synopts)
{
    struct fx_conn c = {.irs = irs};
    c.sd = h_establish(h, irs, synopts, &c.iss, &c.lsd);
    c.snd = irs + 1;
    c.rcv = c.iss + 1;
    h_events(h, c.sd);
    h_events(h, c.lsd);
    return c;
}

/* A passive connection from peer port pport (ISN 1000, MSS 1460) on
 * listener l, accepted, closed by the stack first and brought to TIME_WAIT
 * by the peer's FIN (or closed outright when no record is to be had).
 * Returns the stack's ISS. */
static inline uint32_t fx_passive_to_timewait(struct harness *h, int l, uint16_t pport)
{
    h->pport = pport;
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    assert_int_equal(tcpc_close(h->stack, sd), 0);
    h_expect(h, SEG(.flags = TH_FIN | TH_ACK));
    h_inject(h, SEG(.flags = TH_FIN | TH_ACK, .seq = 1001, .ack = sa.th.seq + 2));
    h_expect(h, SEG(.flags = TH_ACK, .ack = 1002));
    h_expect_nothing(h);
    return sa.th.seq;
}

/* A deterministic byte pattern, NUL-terminated so SEG(.data) can use it. */
static inline const char *fx_pattern(size_t n, char first)
{
    static char buf[70000];
    assert_true(n < sizeof(buf));
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)('a' + (first - 'a' + (int)i) % 26);
    buf[n] = '\0';
    return buf;
}

/* Reads exactly n bytes that must be available now. */
static inline void fx_recv_exact(struct harness *h, int sd, const char *want, size_t n)
{
    static char got[70000];
    assert_true(n <= sizeof(got));
    assert_int_equal(tcpc_recv(h->stack, sd, got, n), (ssize_t)n);
    assert_memory_equal(got, want, n);
}

/* Runs the stack's timers, deadline by deadline (one may be early), until
 * it sends something; fails if that takes more than `limit` of virtual
 * time or no timer is armed. */
static inline void fx_advance_until_output(struct harness *h, tcpc_time_t limit)
{
    tcpc_time_t end = h->now + limit;
    while (h_pending(h) == 0) {
        tcpc_time_t d = tcpc_next_deadline(h->stack);
        if (d == TCPC_TIME_NEVER || d > end)
            fail_msg("nothing sent and no timer due within %llu us", (unsigned long long)limit);
        h_advance(h, d > h->now ? d - h->now : 1);
    }
}

/* Sets a tunable on the live stack; fails the test with the refusal's
 * sentence. */
static inline void fx_set_tunable(struct harness *h, const char *name, int64_t v)
{
    const char *why = NULL;
    int err = tcpc_sysctl_set(h->stack, name, v, &why);
    if (err)
        fail_msg("%s: %s", name, why ? why : "refused");
}

static inline int fx_so_error(struct harness *h, int sd)
{
    int v = -1;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, TCPC_SO_ERROR, &v), 0);
    return v;
}

#endif
