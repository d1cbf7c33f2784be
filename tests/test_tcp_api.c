/*
 * The socket API's error returns (EBADF, EADDRINUSE, EINPROGRESS,
 * EALREADY, EISCONN, ENOTCONN, EAGAIN, EPIPE, EINVAL) and the listen
 * backlog: its overflow is counted in tcps_listendrop and the connections
 * over it never reach accept.
 */
#include "core/stack.h"
#include "tcp/tcp_var.h"
#include "tcpcore/listing.h"
#include "test_tcp_fixture.h"

static void test_ebadf(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    char b[4];
    int v;
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_send(h->stack, -1, "x", 1), -EBADF);
    assert_int_equal(tcpc_recv(h->stack, 12345, b, sizeof(b)), -EBADF);
    assert_int_equal(tcpc_poll(h->stack, 3), -EBADF);
    assert_int_equal(tcpc_bind(h->stack, 3, NULL, 80), -EBADF);
    assert_int_equal(tcpc_listen(h->stack, 3, 1), -EBADF);
    assert_int_equal(tcpc_accept(h->stack, 3, NULL, NULL), -EBADF);
    assert_int_equal(tcpc_connect(h->stack, 3, &h->peer, 80), -EBADF);
    assert_int_equal(tcpc_shutdown(h->stack, 3, TCPC_SHUT_WR), -EBADF);
    assert_int_equal(tcpc_setsockopt(h->stack, 3, TCPC_TCP_NODELAY, 1), -EBADF);
    assert_int_equal(tcpc_getsockopt(h->stack, 3, TCPC_SO_ERROR, &v), -EBADF);
    assert_int_equal(tcpc_getsockname(h->stack, 3, &a, &port), -EBADF);
    assert_int_equal(tcpc_getpeername(h->stack, 3, &a, &port), -EBADF);
    int sd = fx_socket(h);
    assert_int_equal(tcpc_close(h->stack, sd), 0);
    assert_int_equal(tcpc_close(h->stack, sd), -EBADF);
    assert_int_equal(tcpc_send(h->stack, sd, "x", 1), -EBADF);
    assert_int_equal(tcpc_socket(h->stack, 5), -EAFNOSUPPORT);
    h_free(h);
}

static void test_eaddrinuse(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int a = fx_socket(h), b = fx_socket(h);
    assert_int_equal(tcpc_bind(h->stack, a, NULL, 8080), 0);
    assert_int_equal(tcpc_bind(h->stack, b, NULL, 8080), -EADDRINUSE);
    assert_int_equal(tcpc_bind(h->stack, b, &h->local, 8080), -EADDRINUSE);
    assert_int_equal(tcpc_listen(h->stack, a, 4), 0);
    int c = fx_socket(h);
    assert_int_equal(tcpc_bind(h->stack, c, &h->local, 8080), -EADDRINUSE);
    /* Another port is fine; binding twice is not. */
    assert_int_equal(tcpc_bind(h->stack, b, NULL, 8081), 0);
    assert_int_equal(tcpc_bind(h->stack, b, NULL, 8082), -EINVAL);
    /* Once the first socket is closed, its port is free again. */
    assert_int_equal(tcpc_close(h->stack, a), 0);
    assert_int_equal(tcpc_bind(h->stack, c, NULL, 8080), 0);
    h_free(h);
}

static void test_connect_errors(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, 0), -EINVAL);
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    assert_int_equal(tcpc_getsockname(h->stack, sd, &a, &h->lport), 0);
    struct h_seg syn = h_expect(h, SEG(.flags = TH_SYN));
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EALREADY);
    char b[4];
    assert_int_equal(tcpc_send(h->stack, sd, "x", 1), -EAGAIN);
    assert_int_equal(tcpc_recv(h->stack, sd, b, sizeof(b)), -EAGAIN);
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 1, .ack = syn.th.seq + 1));
    h_expect(h, SEG(.flags = TH_ACK));
    assert_int_equal(tcpc_connect(h->stack, sd, &h->peer, h->pport), -EISCONN);
    h_expect_nothing(h);
    /* A listener cannot connect. */
    h->lport = 80;
    int l = h_listen(h);
    assert_int_equal(tcpc_connect(h->stack, l, &h->peer, h->pport), -EINVAL);
    h_free(h);
}

static void test_enotconn(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    char b[4];
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_send(h->stack, sd, "x", 1), -ENOTCONN);
    assert_int_equal(tcpc_recv(h->stack, sd, b, sizeof(b)), -ENOTCONN);
    assert_int_equal(tcpc_shutdown(h->stack, sd, TCPC_SHUT_WR), -ENOTCONN);
    assert_int_equal(tcpc_getpeername(h->stack, sd, &a, &port), -ENOTCONN);
    int l = h_listen(h);
    assert_int_equal(tcpc_send(h->stack, l, "x", 1), -ENOTCONN);
    assert_int_equal(tcpc_accept(h->stack, sd, NULL, NULL), -EINVAL);
    h_expect_nothing(h);
    h_free(h);
}

static void test_eagain_and_epipe(void **state)
{
    (void)state;
    const char *sys[] = {"net.inet.tcp.sendspace=4096", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    char b[4];
    assert_int_equal(tcpc_accept(h->stack, c.lsd, NULL, NULL), -EAGAIN);
    assert_int_equal(tcpc_recv(h->stack, c.sd, b, sizeof(b)), -EAGAIN);
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.snd, .ack = c.rcv, .win = 0));
    /* The send limit is 4,096 rounded up to whole segments of 1,460. */
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(5000, 'a'), 5000), 4380);
    assert_int_equal(tcpc_send(h->stack, c.sd, "x", 1), -EAGAIN);
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, TCPC_SHUT_WR), 0);
    assert_int_equal(tcpc_send(h->stack, c.sd, "x", 1), -EPIPE);
    assert_int_equal(tcpc_shutdown(h->stack, c.sd, 7), -EINVAL);
    h_free(h);
}

/* Sockets get distinct descriptors; a closed one may be reused. */
static void test_descriptors(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int a = fx_socket(h), b = fx_socket(h);
    assert_int_not_equal(a, b);
    /* Like Linux, a socket that never connected polls as hung up, and
     * neither readable nor writable. */
    assert_int_equal(tcpc_poll(h->stack, a), TCPC_EV_HUP);
    assert_int_equal(tcpc_close(h->stack, a), 0);
    assert_int_equal(tcpc_close(h->stack, b), 0);
    h_free(h);
}

/* Descriptors: every never-used one is handed out first, in order; then the
 * one closed longest ago (FIFO), so a stale descriptor names someone else's
 * socket as late as possible; a live descriptor is never handed out. With
 * kern.ipc.maxsockets=64 the table fills and wraps. Fails on a stack that
 * searched onward from the last descriptor it assigned (it would give 3
 * first, the lowest free one after the wrap). */
static void test_descriptors_reused_fifo(void **state)
{
    (void)state;
    const char *sys[] = {"kern.ipc.maxsockets=64", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    for (int i = 0; i < 64; i++)
        assert_int_equal(fx_socket(h), i);
    assert_int_equal(tcpc_socket(h->stack, TCPC_AF_INET), -ENOBUFS);
    const int closed[] = {10, 3, 63, 0};
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(tcpc_close(h->stack, closed[i]), 0);
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(fx_socket(h), closed[i]);
    assert_int_equal(tcpc_socket(h->stack, TCPC_AF_INET), -ENOBUFS);
    /* Interleaved: closing and opening one at a time cycles through the
     * freed ones in the order they were freed. */
    assert_int_equal(tcpc_close(h->stack, 20), 0);
    assert_int_equal(tcpc_close(h->stack, 21), 0);
    assert_int_equal(fx_socket(h), 20);
    assert_int_equal(tcpc_close(h->stack, 5), 0);
    assert_int_equal(fx_socket(h), 21);
    assert_int_equal(fx_socket(h), 5);
    assert_int_equal(tcpc_close(h->stack, 64), -EBADF);
    h_free(h);
}

/* Completes the handshake of a peer on port `pport` if the stack answers
 * its SYN; returns whether it did. */
static bool try_handshake(struct harness *h, uint16_t pport, uint32_t irs)
{
    h->pport = pport;
    h_inject(h, SEG(.flags = TH_SYN, .seq = irs, .mss = 1460));
    if (!h_pending(h))
        return false;
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = irs + 1));
    h_inject(h, SEG(.flags = TH_ACK, .seq = irs + 1, .ack = sa.th.seq + 1));
    h_flush(h); /* an RST, if the queue was full by then */
    return true;
}

/* listen(backlog 1): the accept queue holds what the backlog allows (up
 * to FreeBSD's 3/2), further connections are refused and counted, and
 * accepting makes room again. */
static void test_listen_backlog_overflow(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = fx_socket(h);
    assert_int_equal(tcpc_bind(h->stack, l, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, l, 1), 0);
    for (uint16_t i = 0; i < 6; i++)
        try_handshake(h, (uint16_t)(41000 + i), 1000u * (i + 1));
    assert_true(h_stat(h, "tcps_listendrop") >= 1);
    int accepted = 0;
    while (tcpc_accept(h->stack, l, NULL, NULL) >= 0)
        accepted++;
    assert_true(accepted >= 1);
    assert_true(accepted <= 2);
    /* There is room again. */
    assert_true(try_handshake(h, 42000, 77));
    assert_true(tcpc_accept(h->stack, l, NULL, NULL) >= 0);
    h_free(h);
}

/* Closing a listener drops what it had not handed out. */
static void test_close_listener_with_queue(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = h_listen(h);
    assert_true(try_handshake(h, 41000, 1000));
    assert_int_equal(tcpc_close(h->stack, l), 0);
    h_flush(h);
    h_advance(h, 100 * SEC);
    h_flush(h);
    /* Nothing listens: a new SYN gets an RST. */
    h->pport = 43000;
    h_inject(h, SEG(.flags = TH_SYN, .seq = 5));
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .ack = 6));
    h_free(h);
}

struct child_count {
    unsigned listeners, established, other;
};

static int count_states(void *ctx, const struct tcpc_conninfo *ci)
{
    struct child_count *c = ctx;
    if (ci->kind != TCPC_CONN_PCB)
        c->other++;
    else if (!strcmp(tcpc_state_name(ci->state), "LISTEN"))
        c->listeners++;
    else if (!strcmp(tcpc_state_name(ci->state), "ESTABLISHED"))
        c->established++;
    else
        c->other++;
    return 0;
}

/* A listener closed with many children (completed, not accepted) drops
 * every one of them with a RST and leaves nothing behind: the listing holds
 * only the other listener, its child and the connection accepted earlier,
 * which outlive it; the control-block, inpcb and buffer pools are back to
 * what those use, and once everything is closed, to empty. */
static void test_close_listener_drops_every_child(void **state)
{
    (void)state;
    enum { CHILDREN = 300 };
    struct harness *h = h_new(NULL);
    int l = tcpc_socket(h->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_bind(h->stack, l, NULL, 80), 0);
    assert_int_equal(tcpc_listen(h->stack, l, 1000), 0);
    int other = tcpc_socket(h->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_bind(h->stack, other, NULL, 81), 0);
    assert_int_equal(tcpc_listen(h->stack, other, 8), 0);
    assert_true(try_handshake(h, 40000, 1000));
    int accepted = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(accepted >= 0);
    for (uint16_t i = 0; i < CHILDREN; i++) {
        assert_true(try_handshake(h, (uint16_t)(41000 + i), 1000));
        if (tcpc_next_deadline(h->stack) <= h->now)
            h_advance(h, 0); /* the embedder's loop: spares topped up */
    }
    h->lport = 81;
    assert_true(try_handshake(h, 50000, 1000));
    h->lport = 80;
    assert_int_equal(h_stat(h, "tcps_listendrop"), 0);
    struct child_count c = {0};
    tcpc_list_connections(h->stack, count_states, &c);
    assert_int_equal(c.established, CHILDREN + 2);

    assert_int_equal(tcpc_close(h->stack, l), 0);
    for (uint16_t i = 0; i < CHILDREN; i++) /* in the order they completed */
        h_expect(h, SEG(.flags = TH_RST | TH_ACK, .sport = 41000 + i, .dport = 80));
    h_expect_nothing(h);
    memset(&c, 0, sizeof(c));
    tcpc_list_connections(h->stack, count_states, &c);
    assert_int_equal(c.listeners, 1);
    assert_int_equal(c.established, 2);
    assert_int_equal(c.other, 0);
    const struct tcp_state *ts = h->stack->tcp;
    assert_int_equal(pool_used(&ts->tcbs), 3);
    assert_int_equal(ts->pcb->count, 3);
    uint32_t out = 0;
    for (uint32_t i = 0; i < SBPOOL_NCLS; i++)
        out += ts->sbpool.cls[i].out;
    assert_int_equal(out, 0); /* idle connections hold no storage (sbpool.h) */

    int child = tcpc_accept(h->stack, other, NULL, NULL);
    assert_true(child >= 0);
    assert_int_equal(tcpc_close(h->stack, other), 0);
    tcpc_setsockopt(h->stack, child, TCPC_SO_LINGER, 0);
    tcpc_setsockopt(h->stack, accepted, TCPC_SO_LINGER, 0);
    assert_int_equal(tcpc_close(h->stack, child), 0);
    assert_int_equal(tcpc_close(h->stack, accepted), 0);
    while (tcpc_next_deadline(h->stack) <= h->now)
        h_advance(h, 0);
    assert_int_equal(pool_used(&ts->tcbs), 0);
    assert_int_equal(ts->pcb->count, 0);
    for (uint32_t i = 0; i < SBPOOL_NCLS; i++)
        assert_int_equal(ts->sbpool.cls[i].out, 0);
    assert_int_equal(ts->sbpool.held, 0);
    h_free(h);
}

struct listing {
    unsigned n;
    struct tcpc_conninfo rec[8];
};

static int collect(void *ctx, const struct tcpc_conninfo *ci)
{
    struct listing *l = ctx;
    if (l->n < 8)
        l->rec[l->n] = *ci;
    l->n++;
    return 0;
}

static const struct tcpc_conninfo *find_sd(const struct listing *l, int sd)
{
    for (unsigned i = 0; i < l->n && i < 8; i++)
        if (l->rec[i].sd == sd)
            return &l->rec[i];
    fail_msg("descriptor %d not in the listing", sd);
    return NULL;
}

/* The netstat view: every socket with its state and 4-tuple; a connection
 * reset while its descriptor is open keeps its 4-tuple in the listing (out
 * of the lookup tables) until the descriptor is closed. */
static void test_listing(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = fx_passive(h, 1000, SEG(.mss = 1460));
    struct listing l = {0};
    assert_int_equal(tcpc_list_connections(h->stack, collect, &l), 0);
    assert_int_equal(l.n, 2);
    const struct tcpc_conninfo *ls = find_sd(&l, c.lsd);
    assert_string_equal(tcpc_state_name(ls->state), "LISTEN");
    assert_int_equal(ls->kind, TCPC_CONN_PCB);
    assert_int_equal(ls->lport, h->lport);
    assert_int_equal(ls->fport, 0);
    const struct tcpc_conninfo *es = find_sd(&l, c.sd);
    assert_string_equal(tcpc_state_name(es->state), "ESTABLISHED");
    assert_true(tcpc_addr_eq(&es->laddr, &h->local) && tcpc_addr_eq(&es->faddr, &h->peer));
    assert_int_equal(es->lport, h->lport);
    assert_int_equal(es->fport, h->pport);

    h_inject(h, SEG(.flags = TH_RST, .seq = c.snd));
    memset(&l, 0, sizeof(l));
    assert_int_equal(tcpc_list_connections(h->stack, collect, &l), 0);
    assert_int_equal(l.n, 2);
    es = find_sd(&l, c.sd);
    assert_string_equal(tcpc_state_name(es->state), "CLOSED");
    assert_true(tcpc_addr_eq(&es->laddr, &h->local) && tcpc_addr_eq(&es->faddr, &h->peer));
    assert_int_equal(es->lport, h->lport);
    assert_int_equal(es->fport, h->pport);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getpeername(h->stack, c.sd, &a, &port), -ENOTCONN);
    /* The 4-tuple is free again: the same peer can connect anew. */
    h_inject(h, SEG(.flags = TH_SYN, .seq = 5000));
    h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 5001));

    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    memset(&l, 0, sizeof(l));
    assert_int_equal(tcpc_list_connections(h->stack, collect, &l), 0);
    for (unsigned i = 0; i < l.n; i++)
        assert_int_not_equal(l.rec[i].sd, c.sd);
    h_free(h);
}

static int getopt_v(struct harness *h, int sd, enum tcpc_sockopt opt)
{
    int v = -1;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, opt, &v), 0);
    return v;
}

/* The reuse and address options are kept on the inpcb: they read back,
 * refuse what FreeBSD refuses, act on bind, and pass from a listener to
 * the connections it accepts. */
static void test_socket_options(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    static const enum tcpc_sockopt flags[] = {TCPC_SO_REUSEADDR, TCPC_SO_REUSEPORT,
                                              TCPC_SO_REUSEPORT_LB, TCPC_IP_BINDANY};
    int a = fx_socket(h);
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        assert_int_equal(getopt_v(h, a, flags[i]), 0);
        assert_int_equal(tcpc_setsockopt(h->stack, a, flags[i], 1), 0);
        assert_int_equal(getopt_v(h, a, flags[i]), 1);
        assert_int_equal(tcpc_setsockopt(h->stack, a, flags[i], 0), 0);
        assert_int_equal(getopt_v(h, a, flags[i]), 0);
    }
    /* IPV6_V6ONLY: only on IPv6 sockets, and only before bind. */
    assert_int_equal(tcpc_setsockopt(h->stack, a, TCPC_IPV6_V6ONLY, 1), -EINVAL);
    int s6 = tcpc_socket(h->stack, TCPC_AF_INET6);
    assert_int_equal(tcpc_setsockopt(h->stack, s6, TCPC_IPV6_V6ONLY, 1), 0);
    assert_int_equal(getopt_v(h, s6, TCPC_IPV6_V6ONLY), 1);
    assert_int_equal(tcpc_bind(h->stack, s6, NULL, 8080), 0);
    assert_int_equal(tcpc_setsockopt(h->stack, s6, TCPC_IPV6_V6ONLY, 0), -EINVAL);

    /* SO_REUSEPORT on both lets two sockets share a port. */
    int b = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, a, TCPC_SO_REUSEPORT, 1), 0);
    assert_int_equal(tcpc_setsockopt(h->stack, b, TCPC_SO_REUSEPORT, 1), 0);
    assert_int_equal(tcpc_bind(h->stack, a, NULL, h->lport), 0);
    assert_int_equal(tcpc_bind(h->stack, b, NULL, h->lport), 0);

    /* An accepted connection inherits the listener's options. */
    assert_int_equal(tcpc_setsockopt(h->stack, a, TCPC_SO_REUSEADDR, 1), 0);
    assert_int_equal(tcpc_listen(h->stack, a, 4), 0);
    assert_int_equal(tcpc_close(h->stack, b), 0);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    int c = tcpc_accept(h->stack, a, NULL, NULL);
    assert_true(c >= 0);
    assert_int_equal(getopt_v(h, c, TCPC_SO_REUSEADDR), 1);
    assert_int_equal(getopt_v(h, c, TCPC_SO_REUSEPORT), 1);
    assert_int_equal(getopt_v(h, c, TCPC_IP_BINDANY), 0);
    h_free(h);
}

/* An IPv6 wildcard listener takes IPv4 traffic unless IPV6_V6ONLY. */
static void test_v6only_listener(void **state)
{
    (void)state;
    for (int v6only = 0; v6only <= 1; v6only++) {
        struct harness *h = h_new(NULL); /* the peer speaks IPv4 */
        int l = tcpc_socket(h->stack, TCPC_AF_INET6);
        assert_int_equal(tcpc_setsockopt(h->stack, l, TCPC_IPV6_V6ONLY, v6only), 0);
        assert_int_equal(tcpc_bind(h->stack, l, NULL, h->lport), 0);
        assert_int_equal(tcpc_listen(h->stack, l, 4), 0);
        h_inject(h, SEG(.flags = TH_SYN, .seq = 1000));
        if (v6only) {
            h_expect(h, SEG(.flags = TH_RST | TH_ACK, .ack = 1001));
        } else {
            struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
            h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
            struct tcpc_addr peer;
            int c = tcpc_accept(h->stack, l, &peer, NULL);
            assert_true(c >= 0);
            assert_true(tcpc_addr_is_v4(&peer));
            assert_int_equal(getopt_v(h, c, TCPC_IPV6_V6ONLY), 0);
        }
        h_free(h);
    }
}

static int lb_listener(struct harness *h)
{
    int sd = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_SO_REUSEPORT_LB, 1), 0);
    assert_int_equal(tcpc_bind(h->stack, sd, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, sd, 64), 0);
    return sd;
}

static unsigned accept_all(struct harness *h, int lsd)
{
    unsigned n = 0;
    while (tcpc_accept(h->stack, lsd, NULL, NULL) >= 0)
        n++;
    return n;
}

/* SO_REUSEPORT_LB (FreeBSD): listeners sharing a port form a group, and
 * each new connection goes to one member chosen by its 4-tuple hash. */
static void test_reuseport_lb_spreads(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int a = lb_listener(h), b = lb_listener(h);
    for (uint16_t i = 0; i < 32; i++) {
        h->pport = (uint16_t)(41000 + i);
        h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
        struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
        h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
        h_expect_nothing(h);
    }
    unsigned na = accept_all(h, a), nb = accept_all(h, b);
    assert_int_equal(na + nb, 32);
    assert_true(na > 0 && nb > 0);
    h_free(h);
}

/*
 * RFC 6056 algorithm 4 keeps successive connections to one destination
 * walking forward from where the last one stopped (one or two ports a step
 * here), so the 4-tuple reused is always the least recently used one. The
 * walk must survive time: docs/pcb.md explains why the port key is never
 * re-drawn (a re-key would restart every destination's walk at a random
 * port). Sixty connections over ten virtual minutes, each refused at once
 * so that no state keeps a port busy, must each start one or two ports
 * after the previous one, and the idle stack must want no wakeup once it
 * has run.
 */
static void ports_walk_forward_over_time(const char *counters)
{
    enum { FIRST = 20000, LAST = 20999, N = LAST - FIRST + 1, CONNS = 60 };
    const char *sysctls[] = {"net.inet.ip.portrange.first=20000",
                             "net.inet.ip.portrange.last=20999", counters, NULL};
    struct h_opts o = {.sysctls = sysctls};
    struct harness *h = h_new(&o);
    int prev = -1;
    for (int i = 0; i < CONNS; i++) {
        struct h_seg syn;
        int sd = fx_connect(h, &syn);
        int port = syn.th.sport;
        assert_true(port >= FIRST && port <= LAST);
        if (prev >= 0) {
            int step = (port - prev + N) % N;
            if (step != 1 && step != 2)
                fail_msg("connection %d: port %d after %d (step %d)", i, port, prev, step);
        }
        prev = port;
        h_inject(h, SEG(.flags = TH_RST | TH_ACK, .seq = 0, .ack = syn.th.seq + 1));
        assert_int_equal(fx_so_error(h, sd), ECONNREFUSED);
        assert_int_equal(tcpc_close(h->stack, sd), 0);
        h_expect_nothing(h);
        /* Once the stack has done what a close leaves for it (buffer
         * spares), nothing is due: no port-key deadline. */
        h_advance(h, 0);
        assert_int_equal(tcpc_next_deadline(h->stack), TCPC_TIME_NEVER);
        h_advance(h, 10 * SEC);
    }
    h_free(h);
}

static void test_ephemeral_ports_walk_forward_over_time(void **state)
{
    (void)state;
    ports_walk_forward_over_time(NULL);
}

/* The smallest counter table (net.inet.ip.portrange.hashsize) shares a
 * counter among more destinations but keeps each one's walk. */
static void test_ephemeral_ports_walk_forward_with_256_counters(void **state)
{
    (void)state;
    ports_walk_forward_over_time("net.inet.ip.portrange.hashsize=256");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ebadf),
        cmocka_unit_test(test_eaddrinuse),
        cmocka_unit_test(test_connect_errors),
        cmocka_unit_test(test_enotconn),
        cmocka_unit_test(test_eagain_and_epipe),
        cmocka_unit_test(test_descriptors),
        cmocka_unit_test(test_descriptors_reused_fifo),
        cmocka_unit_test(test_listen_backlog_overflow),
        cmocka_unit_test(test_close_listener_with_queue),
        cmocka_unit_test(test_close_listener_drops_every_child),
        cmocka_unit_test(test_listing),
        cmocka_unit_test(test_reuseport_lb_spreads),
        cmocka_unit_test(test_socket_options),
        cmocka_unit_test(test_v6only_listener),
        cmocka_unit_test(test_ephemeral_ports_walk_forward_over_time),
        cmocka_unit_test(test_ephemeral_ports_walk_forward_with_256_counters),
    };
    return cmocka_run_group_tests_name("tcp_api", tests, NULL, NULL);
}
