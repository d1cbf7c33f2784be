/*
 * ECN (RFC 3168) segment by segment: negotiation in each mode of
 * net.inet.tcp.ecn.enable, actively and passively (through a SYN cache
 * entry and through a SYN cookie), ECT(0) on new data only, the CE -> ECE
 * -> CWR exchange, one window reduction per window of data, and
 * net.inet.tcp.ecn.maxretries on SYN retransmissions.
 */
#include "test_tcp_fixture.h"

#include "wire/ip.h"

#define MSS   1000u
#define ECEC  (TH_ECE | TH_CWR)
#define NOECT IPTOS_ECN_NOTECT
#define ECT0  IPTOS_ECN_ECT0
#define CE    IPTOS_ECN_CE

static struct harness *h_ecn(const char *s1, const char *s2)
{
    const char *sysctls[] = {s1, s2, NULL};
    struct h_opts o = {.sysctls = sysctls};
    return h_new(&o);
}

/* Starts an active open; the SYN must carry syn_ecn, and never ECT. */
static int fx_connect_ecn(struct harness *h, uint8_t syn_ecn, struct h_seg *syn)
{
    int sd = fx_connect_flags(h, TH_SYN | syn_ecn, syn);
    assert_int_equal(syn->ip.tos & IPTOS_ECN_MASK, NOECT);
    return sd;
}

/* An active open whose SYN-ACK carries `synack_ecn` (ECE, ECE|CWR or 0). */
static struct fx_conn active_open(struct harness *h, uint8_t syn_ecn, uint8_t synack_ecn)
{
    struct fx_conn c = {.lsd = -1, .irs = 5000};
    struct h_seg syn;
    c.sd = fx_connect_ecn(h, syn_ecn, &syn);
    c.iss = syn.th.seq;
    h_inject(
        h, SEG(.flags = TH_SYN | TH_ACK | synack_ecn, .seq = c.irs, .ack = c.iss + 1, .mss = MSS));
    h_expect(h, SEG(.flags = TH_ACK, .seq = c.iss + 1, .ack = c.irs + 1, .ecn = NOECT));
    h_expect_nothing(h);
    c.snd = c.irs + 1;
    c.rcv = c.iss + 1;
    return c;
}

/* A passive open whose SYN carries syn_ecn; the SYN-ACK must carry
 * synack_ecn. ts: timestamps on the SYN (a cookie then has room for ECN). */
static struct fx_conn passive_open(struct harness *h, uint8_t syn_ecn, uint8_t synack_ecn, bool ts)
{
    struct fx_conn c = {.irs = 7000};
    c.lsd = h_listen(h);
    struct seg syn = SEG(.flags = TH_SYN | syn_ecn, .seq = c.irs, .mss = MSS);
    if (ts)
        syn.tsval = 100;
    h_inject(h, syn);
    struct h_seg sa =
        h_expect(h, SEG(.flags = TH_SYN | TH_ACK | synack_ecn, .ack = c.irs + 1, .ecn = NOECT));
    c.iss = sa.th.seq;
    struct seg ack = SEG(.flags = TH_ACK, .seq = c.irs + 1, .ack = c.iss + 1);
    if (ts) {
        ack.tsval = 101;
        ack.tsecr = sa.th.opts.tsval;
    }
    h_inject(h, ack);
    h_expect_nothing(h);
    c.sd = tcpc_accept(h->stack, c.lsd, NULL, NULL);
    assert_true(c.sd >= 0);
    c.snd = c.irs + 1;
    c.rcv = c.iss + 1;
    return c;
}

/* Writes a short message and checks how it leaves. */
static void expect_data_ecn(struct harness *h, const struct fx_conn *c, uint8_t ecn)
{
    assert_int_equal(tcpc_send(h->stack, c->sd, "hello, ecn", 10), 10);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c->rcv, .len = 10, .ecn = ecn));
    h_expect_nothing(h);
}

/* ---- Negotiation ----------------------------------------------------------- */

/* ecn.enable=1: our SYN asks (ECE and CWR, not ECT); a SYN-ACK with ECE
 * alone agrees; data then leaves ECT(0). */
static void test_active_mode1_negotiates(void **state)
{
    (void)state;
    struct harness *h = h_ecn("net.inet.tcp.ecn.enable=1", NULL);
    struct fx_conn c = active_open(h, ECEC, TH_ECE);
    assert_int_equal(h_stat(h, "tcps_ecn_shs"), 1);
    struct tcpc_info in;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &in), 0);
    assert_true(in.options & TCPC_INFO_ECN);
    expect_data_ecn(h, &c, ECT0);
    assert_int_equal(h_stat(h, "tcps_ecn_sndect0"), 1);
    h_free(h);
}

/* A SYN-ACK reflecting both bits is not an ECN-setup SYN-ACK (RFC 3168
 * 6.1.1), nor is one with neither. */
static void test_active_mode1_peer_declines(void **state)
{
    (void)state;
    for (int both = 0; both < 2; both++) {
        struct harness *h = h_ecn("net.inet.tcp.ecn.enable=1", NULL);
        struct fx_conn c = active_open(h, ECEC, both ? ECEC : 0);
        assert_int_equal(h_stat(h, "tcps_ecn_shs"), 0);
        expect_data_ecn(h, &c, NOECT);
        h_free(h);
    }
}

/* The default (2) and 0 never ask; an agreeing SYN-ACK cannot turn it on. */
static void test_active_default_does_not_ask(void **state)
{
    (void)state;
    const char *modes[] = {NULL, "net.inet.tcp.ecn.enable=0"};
    for (int i = 0; i < 2; i++) {
        struct harness *h = h_ecn(modes[i], NULL);
        struct fx_conn c = active_open(h, 0, TH_ECE);
        expect_data_ecn(h, &c, NOECT);
        assert_int_equal(h_stat(h, "tcps_ecn_shs"), 0);
        h_free(h);
    }
}

/* Passive, through a SYN cache entry: modes 1 and 2 (the default) accept a
 * peer's ECN-setup SYN with an ECE SYN-ACK; 0 declines. */
static void test_passive_syncache_each_mode(void **state)
{
    (void)state;
    const char *modes[] = {NULL, "net.inet.tcp.ecn.enable=1", "net.inet.tcp.ecn.enable=0"};
    for (int i = 0; i < 3; i++) {
        struct harness *h = h_ecn(modes[i], "net.inet.tcp.syncookies=0");
        bool on = i < 2;
        struct fx_conn c = passive_open(h, ECEC, on ? TH_ECE : 0, false);
        assert_int_equal(h_stat(h, "tcps_sc_added"), 1);
        assert_int_equal(h_stat(h, "tcps_ecn_shs"), on ? 1 : 0);
        expect_data_ecn(h, &c, on ? ECT0 : NOECT);
        h_free(h);
    }
}

/* A SYN that does not ask gets no ECN, whatever the mode. */
static void test_passive_peer_does_not_ask(void **state)
{
    (void)state;
    struct harness *h = h_ecn("net.inet.tcp.ecn.enable=1", NULL);
    struct fx_conn c = passive_open(h, TH_ECE, 0, false); /* ECE alone is no request */
    expect_data_ecn(h, &c, NOECT);
    h_free(h);
}

/* Passive, through a SYN cookie (nothing kept): the ECN bit rides in the
 * cookie's timestamp, and the connection the cookie makes has ECN. */
static void test_passive_cookie_carries_ecn(void **state)
{
    (void)state;
    struct harness *h = h_ecn("net.inet.tcp.syncookies_only=1", NULL);
    struct fx_conn c = passive_open(h, ECEC, TH_ECE, true);
    assert_int_equal(h_stat(h, "tcps_sc_sendcookie"), 1);
    assert_int_equal(h_stat(h, "tcps_sc_recvcookie"), 1);
    assert_int_equal(h_stat(h, "tcps_sc_added"), 0);
    assert_int_equal(h_stat(h, "tcps_ecn_shs"), 1);
    expect_data_ecn(h, &c, ECT0);
    h_free(h);
}

/* Without timestamps a cookie has no room for the bit: the SYN-ACK does not
 * offer ECN, so both ends agree that it is off. */
static void test_passive_cookie_without_ts_declines(void **state)
{
    (void)state;
    struct harness *h = h_ecn("net.inet.tcp.syncookies_only=1", NULL);
    struct fx_conn c = passive_open(h, ECEC, 0, false);
    assert_int_equal(h_stat(h, "tcps_sc_recvcookie"), 1);
    assert_int_equal(h_stat(h, "tcps_ecn_shs"), 0);
    expect_data_ecn(h, &c, NOECT);
    h_free(h);
}

/* ecn.maxretries=1: the first retransmission still asks, the second gives
 * ECN up (a path may drop ECN-setup SYNs). */
static void test_syn_retries_give_up_ecn(void **state)
{
    (void)state;
    struct harness *h = h_ecn("net.inet.tcp.ecn.enable=1", "net.inet.tcp.ecn.maxretries=1");
    struct h_seg syn;
    (void)fx_connect_ecn(h, ECEC, &syn);
    fx_advance_until_output(h, 5 * SEC);
    h_expect(h, SEG(.flags = TH_SYN | ECEC));
    fx_advance_until_output(h, 5 * SEC);
    h_expect(h, SEG(.flags = TH_SYN));
    h_free(h);
}

/* Simultaneous open: a crossing SYN that asks is answered as a listener
 * answers it (ECE on our SYN-ACK), in mode 2 too, where our SYN did not ask;
 * in mode 1 a crossing SYN that does not ask leaves ECN off. */
static void test_simultaneous_open(void **state)
{
    (void)state;
    for (int mode1 = 0; mode1 < 2; mode1++) {
        struct harness *h = h_ecn(mode1 ? "net.inet.tcp.ecn.enable=1" : NULL, NULL);
        struct h_seg syn;
        struct fx_conn c = {.lsd = -1, .irs = 9000};
        c.sd = fx_connect_ecn(h, mode1 ? ECEC : 0, &syn);
        c.iss = syn.th.seq;
        uint8_t peer = mode1 ? 0 : ECEC; /* mode 1: the peer does not ask */
        h_inject(h, SEG(.flags = TH_SYN | peer, .seq = c.irs, .mss = MSS));
        h_expect(h, SEG(.flags = TH_SYN | TH_ACK | (mode1 ? 0 : TH_ECE), .seq = c.iss,
                        .ack = c.irs + 1, .ecn = NOECT));
        h_inject(h, SEG(.flags = TH_ACK, .seq = c.irs + 1, .ack = c.iss + 1));
        c.snd = c.irs + 1;
        c.rcv = c.iss + 1;
        h_flush(h);
        expect_data_ecn(h, &c, mode1 ? NOECT : ECT0);
        h_free(h);
    }
}

/* ---- The receiver: CE -> ECE until CWR ------------------------------------ */

static void data_in(struct harness *h, struct fx_conn *c, uint8_t flags, uint8_t ecn)
{
    h_inject(h, SEG(.flags = TH_ACK | flags, .seq = c->snd, .ack = c->rcv, .data = "0123456789",
                    .ecn = ecn));
    c->snd += 10;
}

/* The ACK owed for data just received (after the delayed-ACK timer). */
static void expect_ack(struct harness *h, const struct fx_conn *c, uint8_t flags)
{
    if (h_pending(h) == 0)
        fx_advance_until_output(h, 1 * SEC);
    h_expect(h, SEG(.flags = TH_ACK | flags, .ack = c->snd, .len = 0, .ecn = NOECT));
    h_expect_nothing(h);
}

static void test_ce_echoed_until_cwr(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = passive_open(h, ECEC, TH_ECE, false);
    data_in(h, &c, 0, ECT0);
    expect_ack(h, &c, 0);
    data_in(h, &c, 0, CE);
    expect_ack(h, &c, TH_ECE);
    data_in(h, &c, 0, ECT0); /* no CWR yet: the echo goes on */
    expect_ack(h, &c, TH_ECE);
    data_in(h, &c, TH_CWR, ECT0);
    expect_ack(h, &c, 0);
    data_in(h, &c, TH_CWR, CE); /* CWR first, then the new mark */
    expect_ack(h, &c, TH_ECE);
    assert_int_equal(h_stat(h, "tcps_ecn_ce"), 2);
    assert_int_equal(h_stat(h, "tcps_ecn_ect0"), 3);
    h_free(h);
}

/* Without ECN negotiated a CE mark means nothing to TCP. */
static void test_ce_ignored_without_ecn(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = passive_open(h, 0, 0, false);
    data_in(h, &c, 0, CE);
    expect_ack(h, &c, 0);
    assert_int_equal(h_stat(h, "tcps_ecn_ce"), 0);
    h_free(h);
}

/* ---- The sender: ECE -> one reduction per window, CWR -------------------- */

static void ack_ece(struct harness *h, const struct fx_conn *c, uint32_t off, bool ece)
{
    h_inject(h, SEG(.flags = TH_ACK | (ece ? TH_ECE : 0), .seq = c->snd, .ack = c->rcv + off));
}

static uint32_t cwnd_of(struct harness *h, int sd)
{
    struct tcpc_info in;
    assert_int_equal(tcpc_getinfo(h->stack, sd, &in), 0);
    return in.snd_cwnd;
}

/*
 * RFC 3168 6.1.2: an ECE halves the window (NewReno: ssthresh = half the
 * flight, cwnd = ssthresh) once; further ECEs for the same window change
 * nothing; the first new data after the reduction carries CWR, and only it.
 * An ECE for data sent after the reduction reduces again.
 */
static void test_ece_reduces_once_per_window(void **state)
{
    (void)state;
    const char *newreno[] = {"net.inet.tcp.cc.algorithm=newreno", NULL};
    struct h_opts o = {.sysctls = newreno};
    struct harness *h = h_new(&o);
    struct fx_conn c = passive_open(h, ECEC, TH_ECE, false);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(40 * MSS, 'a'), 40 * MSS), 40 * MSS);
    for (uint32_t i = 0; i < 10; i++)
        h_expect(h, SEG(.flags = TH_ACK, .seq = c.rcv + i * MSS, .len = MSS, .ecn = ECT0));
    h_expect_nothing(h);
    ack_ece(h, &c, MSS, true);
    assert_int_equal(h_stat(h, "tcps_ecn_rcwnd"), 1);
    assert_int_equal(cwnd_of(h, c.sd), 5 * MSS);
    h_expect_nothing(h); /* nine in flight, a window of five */
    unsigned cwr = 0, sent = 0;
    for (uint32_t i = 2; i <= 10; i++) {
        ack_ece(h, &c, i * MSS, true);
        while (h_pending(h)) {
            struct h_seg s = h_expect(h, SEG(.flags = SEG_ANY, .len = MSS, .ecn = ECT0));
            cwr += !!(s.th.flags & TH_CWR);
            assert_true(!(s.th.flags & TH_CWR) || sent == 0); /* on the first only */
            sent++;
        }
    }
    assert_true(sent > 0);
    assert_int_equal(cwr, 1);
    assert_int_equal(h_stat(h, "tcps_ecn_rcwnd"), 1);
    /* Past the data in flight at the reduction: a new window, a new one. */
    ack_ece(h, &c, 11 * MSS, true);
    assert_int_equal(h_stat(h, "tcps_ecn_rcwnd"), 2);
    h_free(h);
}

/* Retransmissions are never ECT (RFC 3168 6.1.5), nor window probes. */
static void test_no_ect_on_retransmission(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = passive_open(h, ECEC, TH_ECE, false);
    expect_data_ecn(h, &c, ECT0);
    fx_advance_until_output(h, 5 * SEC);
    h_expect(h, SEG(.flags = TH_ACK | TH_PSH, .seq = c.rcv, .len = 10, .ecn = NOECT));
    h_free(h);
}

/* A loss in a window an ECE already reduced is repaired without a second
 * reduction (one per window, loss or ECE alike). */
static void test_loss_after_ece_same_window(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct fx_conn c = passive_open(h, ECEC, TH_ECE, false);
    assert_int_equal(tcpc_send(h->stack, c.sd, fx_pattern(40 * MSS, 'a'), 40 * MSS), 40 * MSS);
    h_flush(h);
    ack_ece(h, &c, MSS, true);
    struct tcpc_info in;
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &in), 0);
    uint32_t ssthresh = in.snd_ssthresh;
    for (int i = 0; i < 3; i++)
        ack_ece(h, &c, MSS, false);
    h_flush(h);
    assert_int_equal(h_stat(h, "tcps_sndrexmitpack"), 1);
    assert_int_equal(tcpc_getinfo(h->stack, c.sd, &in), 0);
    assert_int_equal(in.snd_ssthresh, ssthresh);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active_mode1_negotiates),
        cmocka_unit_test(test_active_mode1_peer_declines),
        cmocka_unit_test(test_active_default_does_not_ask),
        cmocka_unit_test(test_passive_syncache_each_mode),
        cmocka_unit_test(test_passive_peer_does_not_ask),
        cmocka_unit_test(test_passive_cookie_carries_ecn),
        cmocka_unit_test(test_passive_cookie_without_ts_declines),
        cmocka_unit_test(test_syn_retries_give_up_ecn),
        cmocka_unit_test(test_simultaneous_open),
        cmocka_unit_test(test_ce_echoed_until_cwr),
        cmocka_unit_test(test_ce_ignored_without_ecn),
        cmocka_unit_test(test_ece_reduces_once_per_window),
        cmocka_unit_test(test_no_ect_on_retransmission),
        cmocka_unit_test(test_loss_after_ece_same_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
