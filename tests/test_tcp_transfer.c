/*
 * Two stack instances on the in-memory link (io/memlink) move 10 MB each
 * way at the same time through the socket API, and every byte is checked
 * against a deterministic pattern. Each close ordering is run: client
 * first, server first, simultaneous, and abortive (SO_LINGER 0), on a clean
 * link and on one with 1 ms of delay and 1% seeded loss each way (so
 * retransmission must recover), over IPv4 and IPv6. At the end both stacks
 * must be quiet: no packet queued and no timer left (TIME_WAIT expired).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "memlink.h"

#define TOTAL   (10u * 1024 * 1024)
#define PAT_LEN 65521u /* prime, so the pattern never lines up with buffers */
#define CHUNK   65536u

enum close_order { CLIENT_FIRST, SERVER_FIRST, SIMULTANEOUS, ABORTIVE };

struct ep {
    struct tcpc_stack *stack;
    int sd;
    int dir; /* which pattern this side sends */
    uint64_t sent, rcvd;
    bool eof, shut;
    int err;
};

static uint8_t pattern[2][PAT_LEN + CHUNK];
static uint8_t iobuf[CHUNK];

static void make_patterns(void)
{
    uint32_t x = 0x12345678;
    for (int d = 0; d < 2; d++) {
        for (uint32_t i = 0; i < PAT_LEN; i++) {
            x = x * 1103515245u + 12345u;
            pattern[d][i] = (uint8_t)(x >> 16);
        }
        /* A copy of the start past the end lets any offset be read as one
         * contiguous run of up to CHUNK bytes. */
        for (uint32_t i = 0; i < CHUNK; i++)
            pattern[d][PAT_LEN + i] = pattern[d][i % PAT_LEN];
    }
}

static void pump_send(struct ep *e)
{
    while (e->sent < TOTAL) {
        uint64_t left = TOTAL - e->sent;
        size_t n = left < CHUNK ? (size_t)left : CHUNK;
        ssize_t r = tcpc_send(e->stack, e->sd, pattern[e->dir] + e->sent % PAT_LEN, n);
        if (r == -EAGAIN)
            return;
        if (r <= 0)
            fail_msg("send: %zd after %llu bytes", r, (unsigned long long)e->sent);
        e->sent += (uint64_t)r;
    }
}

/* Reads what is there and checks it against the peer's pattern. */
static void pump_recv(struct ep *e)
{
    for (;;) {
        ssize_t r = tcpc_recv(e->stack, e->sd, iobuf, sizeof(iobuf));
        if (r == -EAGAIN)
            return;
        if (r == 0) {
            e->eof = true;
            return;
        }
        if (r < 0) {
            e->err = (int)-r;
            return;
        }
        const uint8_t *want = pattern[1 - e->dir] + e->rcvd % PAT_LEN;
        if (memcmp(iobuf, want, (size_t)r) != 0)
            fail_msg("bytes differ within [%llu, %llu)", (unsigned long long)e->rcvd,
                     (unsigned long long)(e->rcvd + (uint64_t)r));
        e->rcvd += (uint64_t)r;
        assert_true(e->rcvd <= TOTAL);
    }
}

static struct tcpc_stack *new_stack(struct tcpc_memlink *link, int side, bool v6, bool nosack,
                                    bool noauto)
{
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    tcpc_memlink_configure(link, side, &cfg);
    const char *addr =
        v6 ? (side ? "2001:db8::2" : "2001:db8::1") : (side ? "198.18.0.2" : "198.18.0.1");
    assert_int_equal(tcpc_addr_parse(addr, &cfg.local_addrs[0]), 0);
    cfg.nlocal_addrs = 1;
    cfg.use_seed = true;
    memset(cfg.seed, 0x30 + side, sizeof(cfg.seed));
    const char *why = NULL;
    assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.tcp.msl", 500, &why), 0);
    if (nosack)
        assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.tcp.sack.enable", 0, &why), 0);
    if (noauto) {
        assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.tcp.sendbuf_auto", 0, &why), 0);
        assert_int_equal(tcpc_config_sysctl(&cfg, "net.inet.tcp.recvbuf_auto", 0, &why), 0);
    }
    struct tcpc_stack *s = NULL;
    assert_int_equal(tcpc_stack_new(&cfg, 0, &s), 0);
    tcpc_memlink_attach(link, side, s);
    return s;
}

struct run_opts {
    bool v6;
    bool lossy;   /* 1 ms of delay and 1% loss each way */
    bool delayed; /* 1 ms of delay, no loss */
    bool nosack;  /* SACK not negotiated: NewReno recovery */
    bool noauto;  /* buffers keep their default size (no auto-sizing) */
    enum close_order order;
};

#define STEP  (1 * MSEC)
#define LIMIT (600 * SEC)

/* Returns the virtual time from the accept to both ends' EOF (or the abort). */
static tcpc_time_t run_transfer(const struct run_opts *o)
{
    make_patterns();
    struct tcpc_memlink *link = tcpc_memlink_new(0xC0FFEE + (uint64_t)o->order);
    assert_non_null(link);
    if (o->lossy || o->delayed)
        tcpc_memlink_set_faults(link, 1 * MSEC, o->lossy ? 10000 : 0); /* 1 ms, 1% */
    struct ep cl = {.dir = 0}, sv = {.dir = 1};
    cl.stack = new_stack(link, 0, o->v6, o->nosack, o->noauto);
    sv.stack = new_stack(link, 1, o->v6, o->nosack, o->noauto);
    int fam = o->v6 ? TCPC_AF_INET6 : TCPC_AF_INET;
    struct tcpc_addr server;
    assert_int_equal(tcpc_addr_parse(o->v6 ? "2001:db8::2" : "198.18.0.2", &server), 0);

    int lsd = tcpc_socket(sv.stack, fam);
    assert_true(lsd >= 0);
    assert_int_equal(tcpc_bind(sv.stack, lsd, NULL, 5001), 0);
    assert_int_equal(tcpc_listen(sv.stack, lsd, 4), 0);
    cl.sd = tcpc_socket(cl.stack, fam);
    assert_true(cl.sd >= 0);
    assert_int_equal(tcpc_connect(cl.stack, cl.sd, &server, 5001), -EINPROGRESS);

    tcpc_time_t t = 0;
    sv.sd = -EAGAIN;
    while (sv.sd == -EAGAIN && t < LIMIT) {
        tcpc_memlink_run(link, t, t + STEP);
        t += STEP;
        sv.sd = tcpc_accept(sv.stack, lsd, NULL, NULL);
    }
    assert_true(sv.sd >= 0);
    assert_true(tcpc_poll(cl.stack, cl.sd) & TCPC_EV_WRITABLE);
    tcpc_time_t start = t;

    bool aborted = false;
    for (; t < LIMIT; t += STEP) {
        if (!aborted) {
            pump_send(&cl);
            pump_recv(&cl);
        }
        pump_send(&sv);
        pump_recv(&sv);
        assert_int_equal(cl.err, 0);
        if (sv.err) {
            assert_true(aborted);
            assert_int_equal(sv.err, ECONNRESET);
            break;
        }
        bool cl_done = cl.sent == TOTAL, sv_done = sv.sent == TOTAL;
        switch (o->order) {
        case CLIENT_FIRST:
            if (cl_done && !cl.shut)
                cl.shut = tcpc_shutdown(cl.stack, cl.sd, TCPC_SHUT_WR) == 0;
            if (sv_done && sv.eof && !sv.shut)
                sv.shut = tcpc_shutdown(sv.stack, sv.sd, TCPC_SHUT_WR) == 0;
            break;
        case SERVER_FIRST:
            if (sv_done && !sv.shut)
                sv.shut = tcpc_shutdown(sv.stack, sv.sd, TCPC_SHUT_WR) == 0;
            if (cl_done && cl.eof && !cl.shut)
                cl.shut = tcpc_shutdown(cl.stack, cl.sd, TCPC_SHUT_WR) == 0;
            break;
        case SIMULTANEOUS:
            if (cl_done && sv_done && !cl.shut) {
                cl.shut = tcpc_shutdown(cl.stack, cl.sd, TCPC_SHUT_WR) == 0;
                sv.shut = tcpc_shutdown(sv.stack, sv.sd, TCPC_SHUT_WR) == 0;
            }
            break;
        case ABORTIVE:
            if (!aborted && cl.rcvd == TOTAL && sv.rcvd == TOTAL) {
                assert_int_equal(tcpc_setsockopt(cl.stack, cl.sd, TCPC_SO_LINGER, 0), 0);
                assert_int_equal(tcpc_close(cl.stack, cl.sd), 0);
                aborted = true;
                /* If the RST is lost, this byte draws another. */
                assert_int_equal(tcpc_send(sv.stack, sv.sd, "x", 1), 1);
            }
            break;
        }
        if (o->order != ABORTIVE && cl.eof && sv.eof)
            break;
        tcpc_memlink_run(link, t, t + STEP);
    }
    if (t >= LIMIT)
        fail_msg("not done by %llu s: client sent %llu rcvd %llu eof %d, server sent %llu "
                 "rcvd %llu eof %d",
                 (unsigned long long)(LIMIT / SEC), (unsigned long long)cl.sent,
                 (unsigned long long)cl.rcvd, cl.eof, (unsigned long long)sv.sent,
                 (unsigned long long)sv.rcvd, sv.eof);
    assert_int_equal(cl.rcvd, TOTAL);
    assert_int_equal(sv.rcvd, TOTAL);
    tcpc_time_t elapsed = t - start;

    if (!aborted)
        assert_int_equal(tcpc_close(cl.stack, cl.sd), 0);
    assert_int_equal(tcpc_close(sv.stack, sv.sd), 0);
    assert_int_equal(tcpc_close(sv.stack, lsd), 0);
    /* Everything winds down by itself: FIN exchanges finish, TIME_WAIT
     * (2 x 500 ms) expires, no timer is left. */
    tcpc_memlink_run(link, t, t + 120 * SEC);
    assert_int_equal(tcpc_memlink_pending(link), 0);
    assert_int_equal(tcpc_next_deadline(cl.stack), TCPC_TIME_NEVER);
    assert_int_equal(tcpc_next_deadline(sv.stack), TCPC_TIME_NEVER);

    const struct tcpc_stats *cs = tcpc_stack_stats(cl.stack);
    const struct tcpc_stats *ss = tcpc_stack_stats(sv.stack);
    if (getenv("TCPC_TRANSFER_STATS"))
        print_message(
            "rto %llu+%llu episodes %llu+%llu rexmit %llu+%llu sackrexmit %llu+%llu "
            "sboverflow %llu dupack %llu\n",
            (unsigned long long)cs->tcps_rexmttimeo, (unsigned long long)ss->tcps_rexmttimeo,
            (unsigned long long)cs->tcps_sack_recovery_episode,
            (unsigned long long)ss->tcps_sack_recovery_episode,
            (unsigned long long)cs->tcps_sndrexmitpack, (unsigned long long)ss->tcps_sndrexmitpack,
            (unsigned long long)cs->tcps_sack_rexmits, (unsigned long long)ss->tcps_sack_rexmits,
            (unsigned long long)(cs->tcps_sack_sboverflow + ss->tcps_sack_sboverflow),
            (unsigned long long)(cs->tcps_rcvdupack + ss->tcps_rcvdupack));
    if (o->lossy)
        assert_true(cs->tcps_sndrexmitpack > 0 && ss->tcps_sndrexmitpack > 0);
    else
        assert_int_equal(cs->tcps_sndrexmitpack + ss->tcps_sndrexmitpack, 0);
    if (o->order != ABORTIVE)
        assert_int_equal(cs->tcps_drops + ss->tcps_drops, 0);
    tcpc_stack_del(cl.stack);
    tcpc_stack_del(sv.stack);
    tcpc_memlink_del(link);
    return elapsed;
}

#define TRANSFER_TEST(name, v6_, lossy_, order_)                                                   \
    static void name(void **state)                                                                 \
    {                                                                                              \
        (void)state;                                                                               \
        struct run_opts o = {.v6 = v6_, .lossy = lossy_, .order = order_};                         \
        run_transfer(&o);                                                                          \
    }

TRANSFER_TEST(test_v4_client_first, false, false, CLIENT_FIRST)
TRANSFER_TEST(test_v4_server_first, false, false, SERVER_FIRST)
TRANSFER_TEST(test_v4_simultaneous, false, false, SIMULTANEOUS)
TRANSFER_TEST(test_v4_abortive, false, false, ABORTIVE)
TRANSFER_TEST(test_v6_client_first, true, false, CLIENT_FIRST)
TRANSFER_TEST(test_v6_server_first, true, false, SERVER_FIRST)
TRANSFER_TEST(test_v6_simultaneous, true, false, SIMULTANEOUS)
TRANSFER_TEST(test_v6_abortive, true, false, ABORTIVE)
TRANSFER_TEST(test_v4_lossy_client_first, false, true, CLIENT_FIRST)
TRANSFER_TEST(test_v4_lossy_server_first, false, true, SERVER_FIRST)
TRANSFER_TEST(test_v4_lossy_simultaneous, false, true, SIMULTANEOUS)
TRANSFER_TEST(test_v4_lossy_abortive, false, true, ABORTIVE)
TRANSFER_TEST(test_v6_lossy_client_first, true, true, CLIENT_FIRST)
TRANSFER_TEST(test_v6_lossy_server_first, true, true, SERVER_FIRST)
TRANSFER_TEST(test_v6_lossy_simultaneous, true, true, SIMULTANEOUS)
TRANSFER_TEST(test_v6_lossy_abortive, true, true, ABORTIVE)

/*
 * Loss recovery repairs a loss in about a round trip, not a retransmission
 * timeout (200 ms at least): 10 MB each way over 1 ms of delay and 1% loss
 * take at most LOSSY_FACTOR times the virtual time of the same transfer
 * without loss, with SACK (RFC 6675 and PRR) and without (NewReno). Timeout
 * recovery alone takes some fifty times as long. Both run with the default
 * buffers and no auto-sizing, so that the clean run is bounded by the same
 * window as the lossy one and the ratio measures recovery alone.
 */
#define LOSSY_FACTOR 8

static void check_recovery_time(bool nosack)
{
    struct run_opts clean = {
        .delayed = true, .nosack = nosack, .noauto = true, .order = CLIENT_FIRST};
    struct run_opts lossy = {
        .lossy = true, .nosack = nosack, .noauto = true, .order = CLIENT_FIRST};
    tcpc_time_t tc = run_transfer(&clean);
    tcpc_time_t tl = run_transfer(&lossy);
    print_message("10 MB each way, 1 ms delay%s: no loss %.3f s, 1%% loss %.3f s virtual\n",
                  nosack ? ", no SACK" : "", (double)tc / SEC, (double)tl / SEC);
    assert_true(tl <= LOSSY_FACTOR * tc);
}

static void test_v4_lossy_recovery_time_sack(void **state)
{
    (void)state;
    check_recovery_time(false);
}

static void test_v4_lossy_recovery_time_newreno(void **state)
{
    (void)state;
    check_recovery_time(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v4_client_first),
        cmocka_unit_test(test_v4_server_first),
        cmocka_unit_test(test_v4_simultaneous),
        cmocka_unit_test(test_v4_abortive),
        cmocka_unit_test(test_v6_client_first),
        cmocka_unit_test(test_v6_server_first),
        cmocka_unit_test(test_v6_simultaneous),
        cmocka_unit_test(test_v6_abortive),
        cmocka_unit_test(test_v4_lossy_client_first),
        cmocka_unit_test(test_v4_lossy_server_first),
        cmocka_unit_test(test_v4_lossy_simultaneous),
        cmocka_unit_test(test_v4_lossy_abortive),
        cmocka_unit_test(test_v6_lossy_client_first),
        cmocka_unit_test(test_v6_lossy_server_first),
        cmocka_unit_test(test_v6_lossy_simultaneous),
        cmocka_unit_test(test_v6_lossy_abortive),
        cmocka_unit_test(test_v4_lossy_recovery_time_sack),
        cmocka_unit_test(test_v4_lossy_recovery_time_newreno),
    };
    /* One test by name (for callgrind runs): TCPC_TEST_FILTER=test_v4_client_first. */
    const char *only = getenv("TCPC_TEST_FILTER");
    if (only)
        cmocka_set_test_filter(only);
    return cmocka_run_group_tests_name("tcp_transfer", tests, NULL, NULL);
}
