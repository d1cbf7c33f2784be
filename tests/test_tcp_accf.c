/*
 * Accept filters, segment by segment (docs/accf.md): SO_ACCEPTFILTER's
 * "dataready" and "httpready" (FreeBSD's accf_data and accf_http) and
 * Linux's TCP_DEFER_ACCEPT. A held connection has finished its handshake
 * but is not on the accept queue: accept says -EAGAIN and the listener is
 * not readable until the filter lets the connection go (data, a whole
 * request header, EOF, the defer limit, the filter's removal).
 */
#include "tcpcore/listing.h"
#include "test_tcp_fixture.h"

#define IRS 1000u

/* A listener on the harness port with filter (NULL: none) and backlog. */
static int accf_listen(struct harness *h, const char *filter, int backlog)
{
    int l = fx_socket(h);
    assert_int_equal(tcpc_bind(h->stack, l, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, l, backlog), 0);
    if (filter)
        assert_int_equal(tcpc_setsockopt_str(h->stack, l, TCPC_SO_ACCEPTFILTER, filter), 0);
    h_events(h, l);
    return l;
}

/* A handshake from peer port pport, with no data on its ACK; returns the
 * stack's ISS. Nothing is sent after the SYN-ACK. */
static uint32_t accf_handshake(struct harness *h, uint16_t pport)
{
    h_inject(h, SEG(.flags = TH_SYN, .seq = IRS, .sport = pport, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = IRS + 1, .sport = pport));
    h_inject(h, SEG(.flags = TH_ACK, .seq = IRS + 1, .ack = sa.th.seq + 1, .sport = pport));
    h_expect_nothing(h);
    return sa.th.seq;
}

/* Data from peer port pport at offset off of its stream (from IRS + 1). */
static void accf_send(struct harness *h, uint16_t pport, uint32_t iss, uint32_t off,
                      const char *data)
{
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = IRS + 1 + off, .ack = iss + 1, .sport = pport,
                    .data = data));
}

/* The listener shows nothing to accept, by poll, by accept, by event. */
static void assert_nothing_to_accept(struct harness *h, int l)
{
    assert_int_equal(tcpc_poll(h->stack, l), 0);
    assert_int_equal(h_events(h, l) & (TCPC_EV_ACCEPTABLE | TCPC_EV_READABLE), 0);
    assert_int_equal(tcpc_accept(h->stack, l, NULL, NULL), -EAGAIN);
}

/* The listener became acceptable (the event fired) and accept returns the
 * connection from peer port pport. */
static int accept_from(struct harness *h, int l, uint16_t pport)
{
    assert_true(h_events(h, l) & TCPC_EV_ACCEPTABLE);
    assert_true(tcpc_poll(h->stack, l) & TCPC_EV_ACCEPTABLE);
    uint16_t port = 0;
    int sd = tcpc_accept(h->stack, l, NULL, &port);
    assert_true(sd >= 0);
    assert_int_equal(port, pport);
    return sd;
}

/* Control blocks of the stack that are not listeners. */
static int count_conn(void *ctx, const struct tcpc_conninfo *ci)
{
    if (ci->kind == TCPC_CONN_PCB && strcmp(tcpc_state_name(ci->state), "LISTEN") != 0)
        (*(int *)ctx)++;
    return 0;
}

static int conns(struct harness *h)
{
    int n = 0;
    tcpc_list_connections(h->stack, count_conn, &n);
    return n;
}

/* dataready: a connection without data waits; its first data hands it to
 * accept, with the data readable. */
static void run_dataready_holds_until_data(bool v6)
{
    struct h_opts o = {.v6 = v6};
    struct harness *h = h_new(&o);
    int l = accf_listen(h, "dataready", 16);
    uint32_t iss = accf_handshake(h, h->pport);
    assert_nothing_to_accept(h, l);
    assert_int_equal(h_stat(h, "tcps_accf_held"), 1);
    assert_int_equal(h_stat(h, "tcps_accepts"), 1); /* FreeBSD counts the handshake */
    assert_int_equal(conns(h), 1);
    h_advance(h, 30 * SEC); /* no time limit */
    assert_nothing_to_accept(h, l);
    accf_send(h, h->pport, iss, 0, "hello");
    int sd = accept_from(h, l, h->pport);
    fx_recv_exact(h, sd, "hello", 5);
    assert_int_equal(h_stat(h, "tcps_accf_ready"), 1);
    /* A held connection is a connection: its data is acknowledged. */
    fx_advance_until_output(h, SEC);
    h_expect(h, SEG(.flags = TH_ACK, .seq = iss + 1, .ack = IRS + 1 + 5, .len = 0));
    tcpc_close(h->stack, sd);
    tcpc_close(h->stack, l);
    h_free(h);
}

static void test_dataready_holds_until_data(void **state)
{
    (void)state;
    run_dataready_holds_until_data(false);
}

static void test_dataready_holds_until_data_v6(void **state)
{
    (void)state;
    run_dataready_holds_until_data(true);
}

/* Data on the handshake's ACK is looked at right after the ACK (RFC 9293's
 * order: the ACK, then the text), in the same segment: acceptable when the
 * segment has been taken, counted held and handed over. */
static void test_dataready_data_on_ack(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = accf_listen(h, "dataready", 16);
    h_inject(h, SEG(.flags = TH_SYN, .seq = IRS, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = IRS + 1));
    h_inject(h, SEG(.flags = TH_ACK | TH_PSH, .seq = IRS + 1, .ack = sa.th.seq + 1, .data = "x"));
    int sd = accept_from(h, l, h->pport);
    fx_recv_exact(h, sd, "x", 1);
    assert_int_equal(h_stat(h, "tcps_accf_held"), 1);
    assert_int_equal(h_stat(h, "tcps_accf_ready"), 1);
    h_free(h);
}

/* httpready: a request header in pieces is held until its empty line. */
static void test_httpready_partial_then_complete(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = accf_listen(h, "httpready", 16);
    uint32_t iss = accf_handshake(h, h->pport);
    static const char *const parts[] = {"GE", "T /index.html HT", "TP/1.1\r\nHost: a\r\n",
                                        "Accept: */*\r\n", "\r"};
    uint32_t off = 0;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        accf_send(h, h->pport, iss, off, parts[i]);
        off += (uint32_t)strlen(parts[i]);
        assert_nothing_to_accept(h, l);
    }
    accf_send(h, h->pport, iss, off, "\n");
    int sd = accept_from(h, l, h->pport);
    const char *whole = "GET /index.html HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";
    fx_recv_exact(h, sd, whole, strlen(whole));
    h_free(h);
}

/* HEAD, bare LF line ends, and the header end found with a body (or the
 * next request) behind it in the same segment. */
static void test_httpready_head_and_trailing_bytes(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = accf_listen(h, "httpready", 16);
    uint32_t iss = accf_handshake(h, h->pport);
    accf_send(h, h->pport, iss, 0, "HEAD / HTTP/1.0\nUser-Agent: t\n");
    assert_nothing_to_accept(h, l);
    accf_send(h, h->pport, iss, 30, "\nGET /next HTTP/1.0\r\n");
    (void)accept_from(h, l, h->pport);
    h_free(h);
}

/* What cannot become a GET or HEAD request passes at its first data: another
 * method, HTTP/0.9's one-line request, a version the filter cannot judge. */
static void test_httpready_passes_other_requests(void **state)
{
    (void)state;
    static const char *const first[] = {
        "P",                        /* POST, PUT...: at the first byte */
        "POST /form HTTP/1.1\r\n",  /* a body follows: not the filter's to wait for */
        "get / HTTP/1.1\r\n",       /* methods are case-sensitive */
        "GET /\r\n",                /* HTTP/0.9: no header will come */
        "GET / HTTP/2.0\r\n",       /* not HTTP/1.x */
        "\x16\x03\x01\x02\x00\x01", /* TLS */
    };
    for (size_t i = 0; i < sizeof(first) / sizeof(first[0]); i++) {
        struct harness *h = h_new(NULL);
        int l = accf_listen(h, "httpready", 16);
        uint32_t iss = accf_handshake(h, h->pport);
        assert_nothing_to_accept(h, l);
        accf_send(h, h->pport, iss, 0, first[i]);
        int sd = accept_from(h, l, h->pport);
        fx_recv_exact(h, sd, first[i], strlen(first[i]));
        h_free(h);
    }
}

/* A FIN before data: EOF is something to read (FreeBSD's accf_data hands
 * the connection over), and so for httpready with half a request. */
static void test_fin_before_data_hands_over(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = accf_listen(h, "dataready", 16);
    uint32_t iss = accf_handshake(h, h->pport);
    h_inject(h, SEG(.flags = TH_ACK | TH_FIN, .seq = IRS + 1, .ack = iss + 1));
    h_expect(h, SEG(.flags = TH_ACK, .ack = IRS + 2));
    int sd = accept_from(h, l, h->pport);
    char c;
    assert_int_equal(tcpc_recv(h->stack, sd, &c, 1), 0);
    h_free(h);

    h = h_new(NULL);
    l = accf_listen(h, "httpready", 16);
    iss = accf_handshake(h, h->pport);
    accf_send(h, h->pport, iss, 0, "GET / HTTP/1.1\r\n");
    assert_nothing_to_accept(h, l);
    h_inject(h, SEG(.flags = TH_ACK | TH_FIN, .seq = IRS + 1 + 16, .ack = iss + 1));
    sd = accept_from(h, l, h->pport);
    fx_recv_exact(h, sd, "GET / HTTP/1.1\r\n", 16);
    assert_int_equal(tcpc_recv(h->stack, sd, &c, 1), 0);
    h_free(h);
}

/* An RST before data ends the held connection: nothing to accept, nothing
 * left (as any unaccepted child that is reset). */
static void test_rst_frees_held(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = accf_listen(h, "dataready", 16);
    (void)accf_handshake(h, h->pport);
    assert_int_equal(conns(h), 1);
    h_inject(h, SEG(.flags = TH_RST, .seq = IRS + 1));
    h_expect_nothing(h);
    assert_nothing_to_accept(h, l);
    assert_int_equal(conns(h), 0);
    h_free(h);
}

/* httpready lets go when the receive buffer fills: nothing more can come
 * before the application reads. */
static void test_httpready_full_buffer(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, l, TCPC_SO_RCVBUF, 2048), 0);
    assert_int_equal(tcpc_bind(h->stack, l, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, l, 4), 0);
    assert_int_equal(tcpc_setsockopt_str(h->stack, l, TCPC_SO_ACCEPTFILTER, "httpready"), 0);
    h_inject(h, SEG(.flags = TH_SYN, .seq = IRS, .mss = 1000));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = IRS + 1));
    uint32_t iss = sa.th.seq, win = sa.th.win;
    h_inject(h, SEG(.flags = TH_ACK, .seq = IRS + 1, .ack = iss + 1));
    assert_true(win >= 2048 && win < 4096);
    /* A request line that never ends, a segment at a time until no more
     * fits (the buffer is 2048 rounded up to whole segments). */
    static char seg[1001];
    uint32_t off = 0;
    for (int i = 0; i < 8 && !(tcpc_poll(h->stack, l) & TCPC_EV_ACCEPTABLE); i++) {
        memset(seg, 'a', 1000);
        if (off == 0)
            memcpy(seg, "GET /", 5);
        seg[1000] = '\0';
        accf_send(h, h->pport, iss, off, seg);
        off += 1000;
    }
    assert_true(off >= win);
    int sd = accept_from(h, l, h->pport);
    struct tcpc_info in;
    assert_int_equal(tcpc_getinfo(h->stack, sd, &in), 0);
    assert_int_equal(in.rcv_queue, off);
    assert_int_equal(in.rcv_wnd, 0); /* handed over because it was full */
    h_free(h);
}

/* TCP_DEFER_ACCEPT: held for its seconds at most, then handed to accept
 * without data (Linux hands it over after its SYN-ACK retransmissions;
 * here the limit is the same for every connection). Set before listen. */
static void test_defer_accept_timeout(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = fx_socket(h);
    assert_int_equal(tcpc_setsockopt(h->stack, l, TCPC_TCP_DEFER_ACCEPT, 5), 0);
    assert_int_equal(tcpc_bind(h->stack, l, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, l, 16), 0);
    int v = 0;
    assert_int_equal(tcpc_getsockopt(h->stack, l, TCPC_TCP_DEFER_ACCEPT, &v), 0);
    assert_int_equal(v, 5);
    (void)accf_handshake(h, h->pport);
    h_advance(h, 5 * SEC - 1);
    h_expect_nothing(h);
    assert_nothing_to_accept(h, l);
    h_advance(h, 1);
    h_expect_nothing(h); /* nothing is sent: the peer sees no change */
    int sd = accept_from(h, l, h->pport);
    assert_int_equal(h_stat(h, "tcps_accf_timeout"), 1);
    char c;
    assert_int_equal(tcpc_recv(h->stack, sd, &c, 1), -EAGAIN);
    /* The keep timer is keepalive's again (net.inet.tcp.keepidle, 2 h). */
    h_advance(h, 2 * 3600 * SEC - 5 * SEC - 1);
    h_expect_nothing(h);
    h_advance(h, 5 * SEC + 1);
    h_expect(h, SEG(.flags = TH_ACK, .len = 0)); /* the first probe */
    h_free(h);
}

/* Data before the limit hands the connection over then, and the limit does
 * not fire later. */
static void test_defer_accept_data_first(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = accf_listen(h, NULL, 16);
    assert_int_equal(tcpc_setsockopt(h->stack, l, TCPC_TCP_DEFER_ACCEPT, 5), 0);
    uint32_t iss = accf_handshake(h, h->pport);
    h_advance(h, 2 * SEC);
    accf_send(h, h->pport, iss, 0, "data");
    int sd = accept_from(h, l, h->pport);
    h_advance(h, 1 * SEC);
    h_flush(h); /* the data's ACK */
    h_advance(h, 10 * SEC);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_accf_timeout"), 0);
    assert_int_equal(h_stat(h, "tcps_accf_ready"), 1);
    fx_recv_exact(h, sd, "data", 4);
    h_free(h);
}

/* Closing the listener aborts its held connections (RST|ACK each) and
 * frees them: none is left (ASan and the listing both look). */
static void test_listener_close_frees_held(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = accf_listen(h, "httpready", 16);
    uint32_t iss[3];
    for (uint16_t i = 0; i < 3; i++)
        iss[i] = accf_handshake(h, (uint16_t)(h->pport + i));
    accf_send(h, (uint16_t)(h->pport + 1), iss[1], 0, "GET / HTTP/1.1\r\n");
    h_flush(h);
    assert_int_equal(conns(h), 3);
    assert_int_equal(tcpc_close(h->stack, l), 0);
    for (int i = 2; i >= 0; i--) /* the incomplete list is newest first */
        h_expect(h, SEG(.flags = TH_RST | TH_ACK, .seq = iss[i] + 1, .sport = h->pport + i));
    h_expect_nothing(h);
    assert_int_equal(conns(h), 0);
    h_free(h);
}

/* Removing the filter (NULL or "") hands every held connection to accept,
 * oldest first, as FreeBSD moves them to the completed queue. */
static void test_remove_filter_releases_held(void **state)
{
    (void)state;
    for (int how = 0; how < 2; how++) {
        struct harness *h = h_new(NULL);
        int l = accf_listen(h, "dataready", 16);
        for (uint16_t i = 0; i < 3; i++)
            (void)accf_handshake(h, (uint16_t)(h->pport + i));
        assert_nothing_to_accept(h, l);
        assert_int_equal(tcpc_setsockopt_str(h->stack, l, TCPC_SO_ACCEPTFILTER, how ? "" : NULL),
                         0);
        for (uint16_t i = 0; i < 3; i++) {
            uint16_t port = 0;
            if (i == 0)
                assert_true(h_events(h, l) & TCPC_EV_ACCEPTABLE);
            assert_true(tcpc_accept(h->stack, l, NULL, &port) >= 0);
            assert_int_equal(port, h->pport + i);
        }
        assert_int_equal(tcpc_accept(h->stack, l, NULL, NULL), -EAGAIN);
        char name[16];
        assert_int_equal(tcpc_getsockopt_str(h->stack, l, TCPC_SO_ACCEPTFILTER, name, 16), -EINVAL);
        /* Without the filter, the next connection is acceptable at once. */
        (void)accf_handshake(h, (uint16_t)(h->pport + 7));
        (void)accept_from(h, l, (uint16_t)(h->pport + 7));
        h_free(h);
    }
}

/* TCP_DEFER_ACCEPT 0 removes its filter the same way. */
static void test_defer_accept_zero_releases(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = accf_listen(h, NULL, 16);
    assert_int_equal(tcpc_setsockopt(h->stack, l, TCPC_TCP_DEFER_ACCEPT, 30), 0);
    (void)accf_handshake(h, h->pport);
    assert_nothing_to_accept(h, l);
    assert_int_equal(tcpc_setsockopt(h->stack, l, TCPC_TCP_DEFER_ACCEPT, 0), 0);
    (void)accept_from(h, l, h->pport);
    /* Its keep timer no longer measures the hold. */
    h_advance(h, 60 * SEC);
    assert_int_equal(h_stat(h, "tcps_accf_timeout"), 0);
    h_free(h);
}

/* Held connections count against the backlog (FreeBSD's so_incqlen against
 * so_qlimit): one more than it aborts the oldest held. */
static void test_backlog_aborts_oldest_held(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = accf_listen(h, "dataready", 2);
    uint32_t iss[3];
    for (uint16_t i = 0; i < 2; i++)
        iss[i] = accf_handshake(h, (uint16_t)(h->pport + i));
    h_inject(h, SEG(.flags = TH_SYN, .seq = IRS, .sport = h->pport + 2, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .sport = h->pport + 2));
    iss[2] = sa.th.seq;
    h_inject(h, SEG(.flags = TH_ACK, .seq = IRS + 1, .ack = iss[2] + 1, .sport = h->pport + 2));
    /* The oldest, from pport, is reset. */
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .seq = iss[0] + 1, .sport = h->pport));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_accf_dropped"), 1);
    assert_int_equal(conns(h), 2);
    accf_send(h, (uint16_t)(h->pport + 2), iss[2], 0, "z");
    (void)accept_from(h, l, (uint16_t)(h->pport + 2));
    accf_send(h, (uint16_t)(h->pport + 1), iss[1], 0, "y");
    (void)accept_from(h, l, (uint16_t)(h->pport + 1));
    h_free(h);
}

/* The options' answers, FreeBSD's for SO_ACCEPTFILTER. */
static void test_accf_options(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct tcpc_stack *s = h->stack;
    int sd = fx_socket(h);
    char name[16];
    /* An unknown name first, whatever the socket; then a non-listener. */
    assert_int_equal(tcpc_setsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, "nosuch"), -ENOENT);
    assert_int_equal(tcpc_setsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, "dataready"), -EINVAL);
    assert_int_equal(tcpc_setsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, NULL), -EINVAL);
    assert_int_equal(tcpc_getsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, name, 16), -EINVAL);
    assert_int_equal(tcpc_setsockopt(s, sd, TCPC_SO_ACCEPTFILTER, 1), -ENOPROTOOPT);
    assert_int_equal(tcpc_bind(s, sd, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(s, sd, 8), 0);
    assert_int_equal(tcpc_getsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, name, 16), -EINVAL);
    assert_int_equal(tcpc_setsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, NULL), 0); /* none: fine */
    assert_int_equal(tcpc_setsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, "httpready"), 0);
    assert_int_equal(tcpc_getsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, name, 16), 0);
    assert_string_equal(name, "httpready");
    assert_int_equal(tcpc_getsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, name, 5), 0);
    assert_string_equal(name, "http"); /* truncated to len */
    /* Replacing takes a removal first; TCP_DEFER_ACCEPT leaves it alone. */
    assert_int_equal(tcpc_setsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, "dataready"), -EINVAL);
    assert_int_equal(tcpc_setsockopt(s, sd, TCPC_TCP_DEFER_ACCEPT, 3), -EINVAL);
    assert_int_equal(tcpc_setsockopt(s, sd, TCPC_TCP_DEFER_ACCEPT, 0), -EINVAL);
    assert_int_equal(tcpc_setsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, ""), 0);
    /* TCP_DEFER_ACCEPT is the data filter: its name reads "dataready". */
    assert_int_equal(tcpc_setsockopt(s, sd, TCPC_TCP_DEFER_ACCEPT, -1), -EINVAL);
    assert_int_equal(tcpc_setsockopt(s, sd, TCPC_TCP_DEFER_ACCEPT, 65536), -EINVAL);
    assert_int_equal(tcpc_setsockopt(s, sd, TCPC_TCP_DEFER_ACCEPT, 3), 0);
    assert_int_equal(tcpc_setsockopt(s, sd, TCPC_TCP_DEFER_ACCEPT, 65535), 0); /* changes it */
    int v = 0;
    assert_int_equal(tcpc_getsockopt(s, sd, TCPC_TCP_DEFER_ACCEPT, &v), 0);
    assert_int_equal(v, 65535);
    assert_int_equal(tcpc_getsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, name, 16), 0);
    assert_string_equal(name, "dataready");
    assert_int_equal(tcpc_setsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, "httpready"), -EINVAL);
    assert_int_equal(tcpc_setsockopt_str(s, sd, TCPC_SO_ACCEPTFILTER, NULL), 0);
    assert_int_equal(tcpc_getsockopt(s, sd, TCPC_TCP_DEFER_ACCEPT, &v), 0);
    assert_int_equal(v, 0);
    /* A connection takes no TCP_DEFER_ACCEPT. */
    struct fx_conn c = fx_active(h, 5000, SEG(.mss = 1460));
    assert_int_equal(tcpc_setsockopt(s, c.sd, TCPC_TCP_DEFER_ACCEPT, 1), -EINVAL);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dataready_holds_until_data),
        cmocka_unit_test(test_dataready_holds_until_data_v6),
        cmocka_unit_test(test_dataready_data_on_ack),
        cmocka_unit_test(test_httpready_partial_then_complete),
        cmocka_unit_test(test_httpready_head_and_trailing_bytes),
        cmocka_unit_test(test_httpready_passes_other_requests),
        cmocka_unit_test(test_fin_before_data_hands_over),
        cmocka_unit_test(test_rst_frees_held),
        cmocka_unit_test(test_httpready_full_buffer),
        cmocka_unit_test(test_defer_accept_timeout),
        cmocka_unit_test(test_defer_accept_data_first),
        cmocka_unit_test(test_listener_close_frees_held),
        cmocka_unit_test(test_remove_filter_releases_held),
        cmocka_unit_test(test_defer_accept_zero_releases),
        cmocka_unit_test(test_backlog_aborts_oldest_held),
        cmocka_unit_test(test_accf_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
