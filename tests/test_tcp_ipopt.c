/*
 * IP-level socket options segment by segment: IP_TTL / IPV6_UNICAST_HOPS,
 * IP_TOS / IPV6_TCLASS, IP_DONTFRAG with net.inet.tcp.path_mtu_discovery,
 * and the IPv6 flow label (RFC 6437) with net.inet6.ip6.auto_flowlabel; on
 * an active open, on a listener's SYN-ACKs (from its SYN cache entry and
 * from a cookie), on its accepted connections, on RSTs, and from TIME_WAIT.
 */
#include "test_tcp_fixture.h"

#include "wire/ip.h"

#define MSS 1000u

static struct harness *h_with(bool v6, const char *s1, const char *s2)
{
    const char *sysctls[] = {s1, s2, NULL};
    struct h_opts o = {.v6 = v6, .sysctls = sysctls};
    return h_new(&o);
}

static void setopt(struct harness *h, int sd, enum tcpc_sockopt opt, int v)
{
    assert_int_equal(tcpc_setsockopt(h->stack, sd, opt, v), 0);
}

static int getopt_(struct harness *h, int sd, enum tcpc_sockopt opt)
{
    int v = -12345;
    assert_int_equal(tcpc_getsockopt(h->stack, sd, opt, &v), 0);
    return v;
}

/* An active open after set(h, sd); returns the connection, and the SYN in
 * *syn and the handshake's ACK in *ack. */
static struct fx_conn active(struct harness *h, void (*set)(struct harness *, int),
                             struct h_seg *syn, struct h_seg *ack)
{
    struct fx_conn c = {.lsd = -1, .irs = 5000};
    c.sd = fx_socket(h);
    set(h, c.sd);
    assert_int_equal(tcpc_connect(h->stack, c.sd, &h->peer, h->pport), -EINPROGRESS);
    struct tcpc_addr a;
    uint16_t port;
    assert_int_equal(tcpc_getsockname(h->stack, c.sd, &a, &port), 0);
    h->lport = port;
    *syn = h_expect(h, SEG(.flags = TH_SYN));
    c.iss = syn->th.seq;
    h_inject(h, SEG(.flags = TH_SYN | TH_ACK, .seq = c.irs, .ack = c.iss + 1, .mss = MSS));
    *ack = h_expect(h, SEG(.flags = TH_ACK, .seq = c.iss + 1, .ack = c.irs + 1));
    c.snd = c.irs + 1;
    c.rcv = c.iss + 1;
    return c;
}

/* A passive open on a listener prepared by set(h, l); *sa is the SYN-ACK. */
static struct fx_conn passive(struct harness *h, void (*set)(struct harness *, int),
                              struct h_seg *sa)
{
    struct fx_conn c = {.irs = 1000};
    c.lsd = fx_socket(h);
    set(h, c.lsd);
    assert_int_equal(tcpc_bind(h->stack, c.lsd, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, c.lsd, 4), 0);
    h_inject(h, SEG(.flags = TH_SYN, .seq = c.irs, .mss = MSS));
    *sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = c.irs + 1));
    c.iss = sa->th.seq;
    h_inject(h, SEG(.flags = TH_ACK, .seq = c.irs + 1, .ack = c.iss + 1));
    h_expect_nothing(h);
    c.sd = tcpc_accept(h->stack, c.lsd, NULL, NULL);
    assert_true(c.sd >= 0);
    c.snd = c.irs + 1;
    c.rcv = c.iss + 1;
    return c;
}

/* Sends n bytes, takes the segment they go out in and acknowledges it. */
static struct h_seg data_seg(struct harness *h, struct fx_conn *c, size_t n)
{
    assert_int_equal(tcpc_send(h->stack, c->sd, fx_pattern(n, 'a'), n), (ssize_t)n);
    struct h_seg s = h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c->rcv, .len = (int64_t)n));
    c->rcv += (uint32_t)n;
    h_inject(h, SEG(.flags = TH_ACK, .seq = c->snd, .ack = c->rcv)); /* Nagle lets the next go */
    return s;
}

static void set_nothing(struct harness *h, int sd)
{
    (void)h;
    (void)sd;
}

static void set_v4(struct harness *h, int sd)
{
    setopt(h, sd, TCPC_IP_TTL, 7);
    setopt(h, sd, TCPC_IP_TOS, 0x28);
}

static void set_v6(struct harness *h, int sd)
{
    setopt(h, sd, TCPC_IPV6_UNICAST_HOPS, 4);
    setopt(h, sd, TCPC_IPV6_TCLASS, 0x20);
}

static void set_dontfrag(struct harness *h, int sd)
{
    setopt(h, sd, TCPC_IP_DONTFRAG, 1);
}

/* The defaults: TTL net.inet.ip.ttl (64), TOS 0, DF. */
static void test_defaults(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn, ack;
    struct fx_conn c = active(h, set_nothing, &syn, &ack);
    assert_int_equal(syn.ip.ttl, 64);
    assert_int_equal(syn.ip.tos, 0);
    assert_true(syn.ip.df);
    assert_int_equal(getopt_(h, c.sd, TCPC_IP_TTL), 64);
    assert_int_equal(getopt_(h, c.sd, TCPC_IP_TOS), 0);
    assert_int_equal(getopt_(h, c.sd, TCPC_IP_DONTFRAG), 0);
    fx_set_tunable(h, "net.inet.ip.ttl", 33);
    assert_int_equal(data_seg(h, &c, 10).ip.ttl, 33); /* the default, read as sent */
    assert_int_equal(getopt_(h, c.sd, TCPC_IP_TTL), 33);
    h_free(h);
}

/* IPv4: the SYN and everything after carry the socket's TTL and TOS; a
 * change applies to the next segment; the ECN bits stay the engine's. */
static void test_active_v4(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn, ack;
    struct fx_conn c = active(h, set_v4, &syn, &ack);
    assert_int_equal(syn.ip.ttl, 7);
    assert_int_equal(syn.ip.tos, 0x28);
    assert_int_equal(ack.ip.ttl, 7);
    assert_int_equal(ack.ip.tos, 0x28);
    struct h_seg d = data_seg(h, &c, 100);
    assert_int_equal(d.ip.ttl, 7);
    assert_int_equal(d.ip.tos, 0x28);
    setopt(h, c.sd, TCPC_IP_TOS, 0xe3); /* CS7 with both ECN bits */
    setopt(h, c.sd, TCPC_IP_TTL, 200);
    assert_int_equal(getopt_(h, c.sd, TCPC_IP_TOS), 0xe0);
    d = data_seg(h, &c, 100);
    assert_int_equal(d.ip.tos, 0xe0);
    assert_int_equal(d.ip.ttl, 200);
    /* -1 is the default again. */
    setopt(h, c.sd, TCPC_IP_TTL, -1);
    setopt(h, c.sd, TCPC_IP_TOS, -1);
    d = data_seg(h, &c, 100);
    assert_int_equal(d.ip.ttl, 64);
    assert_int_equal(d.ip.tos, 0);
    h_free(h);
}

static void test_values_refused(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int sd = fx_socket(h);
    static const enum tcpc_sockopt ttl[] = {TCPC_IP_TTL, TCPC_IPV6_UNICAST_HOPS};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tcpc_setsockopt(h->stack, sd, ttl[i], 0), -EINVAL);
        assert_int_equal(tcpc_setsockopt(h->stack, sd, ttl[i], 256), -EINVAL);
        assert_int_equal(tcpc_setsockopt(h->stack, sd, ttl[i], -2), -EINVAL);
    }
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_IP_TOS, 256), -EINVAL);
    assert_int_equal(tcpc_setsockopt(h->stack, sd, TCPC_IPV6_TCLASS, -2), -EINVAL);
    assert_int_equal(getopt_(h, sd, TCPC_IP_TTL), 64);
    /* The IPv4 and IPv6 spellings name one setting. */
    setopt(h, sd, TCPC_IPV6_UNICAST_HOPS, 9);
    assert_int_equal(getopt_(h, sd, TCPC_IP_TTL), 9);
    setopt(h, sd, TCPC_IP_TOS, 0x40);
    assert_int_equal(getopt_(h, sd, TCPC_IPV6_TCLASS), 0x40);
    h_free(h);
}

/* IPv6: hop limit and traffic class; one flow label, not 0, on every
 * segment of the connection. */
static void test_active_v6(void **state)
{
    (void)state;
    struct harness *h = h_with(true, NULL, NULL);
    struct h_seg syn, ack;
    struct fx_conn c = active(h, set_v6, &syn, &ack);
    assert_int_equal(syn.ip.version, 6);
    assert_int_equal(syn.ip.ttl, 4);
    assert_int_equal(syn.ip.tos, 0x20);
    assert_int_not_equal(syn.ip.flowlabel, 0);
    assert_true(syn.ip.flowlabel <= IP6_FLOWLABEL_MASK);
    assert_int_equal(ack.ip.flowlabel, syn.ip.flowlabel);
    struct h_seg d = data_seg(h, &c, 100);
    assert_int_equal(d.ip.ttl, 4);
    assert_int_equal(d.ip.tos, 0x20);
    assert_int_equal(d.ip.flowlabel, syn.ip.flowlabel);
    /* Another connection (another port) gets another label. */
    uint32_t first = syn.ip.flowlabel;
    uint16_t first_port = h->lport;
    active(h, set_v6, &syn, &ack);
    assert_int_not_equal(h->lport, first_port);
    assert_int_not_equal(syn.ip.flowlabel, first);
    h_free(h);
}

/* net.inet6.ip6.auto_flowlabel 0: no label; the default hop limit is
 * net.inet6.ip6.hlim. */
static void test_v6_no_flowlabel(void **state)
{
    (void)state;
    struct harness *h = h_with(true, "net.inet6.ip6.auto_flowlabel=0", "net.inet6.ip6.hlim=17");
    struct h_seg syn, ack;
    struct fx_conn c = active(h, set_nothing, &syn, &ack);
    assert_int_equal(syn.ip.flowlabel, 0);
    assert_int_equal(syn.ip.ttl, 17);
    assert_int_equal(getopt_(h, c.sd, TCPC_IPV6_UNICAST_HOPS), 17);
    assert_int_equal(data_seg(h, &c, 10).ip.flowlabel, 0);
    h_free(h);
}

/* A listener's SYN-ACK and its child carry the listener's values, which
 * the SYN cache entry kept when the SYN came (FreeBSD's sc_ip_ttl and
 * sc_ip_tos): a later change on the listener moves neither the SYN-ACK's
 * retransmission nor the child. */
static void test_passive_v4_entry(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int l = fx_socket(h);
    set_v4(h, l);
    assert_int_equal(tcpc_bind(h->stack, l, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, l, 4), 0);
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = MSS));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    assert_int_equal(sa.ip.ttl, 7);
    assert_int_equal(sa.ip.tos, 0x28);
    setopt(h, l, TCPC_IP_TTL, 99);
    setopt(h, l, TCPC_IP_TOS, 0);
    fx_advance_until_output(h, 5 * TCPC_USEC_PER_SEC);
    struct h_seg again = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .seq = sa.th.seq));
    assert_int_equal(again.ip.ttl, 7);
    assert_int_equal(again.ip.tos, 0x28);
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    struct fx_conn c = {.lsd = l, .snd = 1001, .rcv = sa.th.seq + 1};
    c.sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(c.sd >= 0);
    assert_int_equal(getopt_(h, c.sd, TCPC_IP_TTL), 7);
    assert_int_equal(getopt_(h, c.sd, TCPC_IP_TOS), 0x28);
    struct h_seg d = data_seg(h, &c, 50);
    assert_int_equal(d.ip.ttl, 7);
    assert_int_equal(d.ip.tos, 0x28);
    /* The RST of an abortive close carries them too. */
    setopt(h, c.sd, TCPC_SO_LINGER, 0);
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    struct h_seg rst = h_expect(h, SEG(.flags = TH_RST | TH_ACK));
    assert_int_equal(rst.ip.ttl, 7);
    assert_int_equal(rst.ip.tos, 0x28);
    h_free(h);
}

/* Through a SYN cookie the child takes the listener's values at the ACK. */
static void test_passive_v4_cookie(void **state)
{
    (void)state;
    struct harness *h = h_with(false, "net.inet.tcp.syncookies_only=1", NULL);
    struct h_seg sa;
    struct fx_conn c = passive(h, set_v4, &sa);
    assert_int_equal(h_stat(h, "tcps_sc_recvcookie"), 1);
    assert_int_equal(sa.ip.ttl, 7);
    assert_int_equal(sa.ip.tos, 0x28);
    struct h_seg d = data_seg(h, &c, 50);
    assert_int_equal(d.ip.ttl, 7);
    assert_int_equal(d.ip.tos, 0x28);
    h_free(h);
}

/* IPv6 passive: the SYN-ACK's label is the connection's, computed from
 * the same 4-tuple; and so is that of an ACK from TIME_WAIT. */
static void test_passive_v6_label(void **state)
{
    (void)state;
    struct harness *h = h_with(true, NULL, NULL);
    struct h_seg sa;
    struct fx_conn c = passive(h, set_v6, &sa);
    assert_int_equal(sa.ip.ttl, 4);
    assert_int_equal(sa.ip.tos, 0x20);
    assert_int_not_equal(sa.ip.flowlabel, 0);
    struct h_seg d = data_seg(h, &c, 50);
    assert_int_equal(d.ip.flowlabel, sa.ip.flowlabel);
    assert_int_equal(d.ip.ttl, 4);
    /* Active close into TIME_WAIT, then a retransmitted FIN is answered
     * from the record. */
    assert_int_equal(tcpc_close(h->stack, c.sd), 0);
    h_expect(h, SEG(.flags = TH_ACK | TH_FIN, .seq = c.rcv));
    h_inject(h, SEG(.flags = TH_ACK | TH_FIN, .seq = c.snd, .ack = c.rcv + 1));
    struct h_seg last = h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 1));
    assert_int_equal(last.ip.flowlabel, sa.ip.flowlabel);
    h_inject(h, SEG(.flags = TH_ACK | TH_FIN, .seq = c.snd, .ack = c.rcv + 1));
    struct h_seg tw = h_expect(h, SEG(.flags = TH_ACK, .ack = c.snd + 1));
    assert_int_equal(h_stat(h, "tcps_tw_responds"), 1);
    assert_int_equal(tw.ip.flowlabel, sa.ip.flowlabel);
    h_free(h);
}

/* net.inet.tcp.path_mtu_discovery 0 clears DF; IP_DONTFRAG sets it again,
 * on an active open and on a listener's SYN-ACK and child. */
static void test_dontfrag(void **state)
{
    (void)state;
    struct harness *h = h_with(false, "net.inet.tcp.path_mtu_discovery=0", NULL);
    struct h_seg syn, ack;
    struct fx_conn c = active(h, set_nothing, &syn, &ack);
    assert_false(syn.ip.df);
    assert_false(data_seg(h, &c, 10).ip.df);
    setopt(h, c.sd, TCPC_IP_DONTFRAG, 1);
    assert_int_equal(getopt_(h, c.sd, TCPC_IP_DONTFRAG), 1);
    assert_true(data_seg(h, &c, 10).ip.df);
    h_free(h);

    h = h_with(false, "net.inet.tcp.path_mtu_discovery=0", NULL);
    struct h_seg sa;
    c = passive(h, set_dontfrag, &sa);
    assert_true(sa.ip.df);
    assert_int_equal(getopt_(h, c.sd, TCPC_IP_DONTFRAG), 1);
    assert_true(data_seg(h, &c, 10).ip.df);
    h_free(h);

    /* Without the option, the SYN-ACK follows the tunable. */
    h = h_with(false, "net.inet.tcp.path_mtu_discovery=0", NULL);
    c = passive(h, set_nothing, &sa);
    assert_false(sa.ip.df);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),          cmocka_unit_test(test_active_v4),
        cmocka_unit_test(test_values_refused),    cmocka_unit_test(test_active_v6),
        cmocka_unit_test(test_v6_no_flowlabel),   cmocka_unit_test(test_passive_v4_entry),
        cmocka_unit_test(test_passive_v4_cookie), cmocka_unit_test(test_passive_v6_label),
        cmocka_unit_test(test_dontfrag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
