/*
 * Connection groups (tcpcore/group.h, docs/groups.md): several stacks that
 * are one host. Here every member runs in the test's thread, driven in
 * turn, each on its own in-memory link with the test as the peer; the
 * same peer talks to whichever member its packets would be spread to.
 * test_group_threads runs members on real threads.
 *
 * The members are given different seeds, so whatever they agree on comes
 * from the group, not from equal randomness; the controls show that the
 * same stacks outside a group disagree.
 */
#include "test_tcp_fixture.h"

#include <errno.h>

#include "core/group.h"
#include "hlink.h"
#include "core/stack.h"
#include "tcp/timewait.h"

/* Member index of g (NULL: a stack in no group) with seed index + 1 and
 * sysctls. */
static struct harness *member(struct tcpc_group *g, unsigned index, const char **sysctls)
{
    struct h_opts o = {
        .group = g, .group_index = index, .seed = (uint8_t)(index + 1), .sysctls = sysctls};
    return h_new(&o);
}

static struct harness *member6(struct tcpc_group *g, unsigned index, const char **sysctls)
{
    struct h_opts o = {.v6 = true,
                       .group = g,
                       .group_index = index,
                       .seed = (uint8_t)(index + 1),
                       .sysctls = sysctls};
    return h_new(&o);
}

static struct tcpc_group *group(unsigned n)
{
    struct tcpc_group *g = NULL;
    assert_int_equal(tcpc_group_new(n, &g), 0);
    assert_non_null(g);
    return g;
}

/* A listener opened on a, and b's copy of it in *lb (the group's
 * listener, found by its id); outside a group, b's own listener. */
static int listen_everywhere(struct harness *a, struct harness *b, int *lb)
{
    int la = h_listen(a);
    if (tcpc_stack_group_index(a->stack) < 0) {
        *lb = h_listen(b);
        return la;
    }
    int id = tcpc_group_listener_id(a->stack, la);
    assert_true(id > 0);
    *lb = tcpc_group_listener_sd(b->stack, id);
    assert_true(*lb >= 0);
    assert_int_equal(tcpc_group_listener_id(b->stack, *lb), id);
    return la;
}

/* --- the group object ---------------------------------------------------- */

static void test_sizes_and_indexes_checked(void **state)
{
    (void)state;
    struct tcpc_group *g = NULL;
    assert_int_equal(tcpc_group_new(0, &g), -EINVAL);
    assert_int_equal(tcpc_group_new(TCPC_GROUP_MAX + 1, &g), -EINVAL);
    assert_null(g);
    g = group(2);
    assert_int_equal(tcpc_group_size(g), 2);
    struct tcpc_config *cfg;
    assert_int_equal(tcpc_config_new(&cfg), 0);
    assert_int_equal(tcpc_config_set_group(cfg, g, 2), -EINVAL);
    assert_int_equal(tcpc_config_set_group(cfg, g, 1), 0);
    assert_int_equal(tcpc_config_set_group(cfg, NULL, 5), 0);
    tcpc_config_del(cfg);
    tcpc_group_del(g);
    tcpc_group_del(NULL);
}

/* A member index is one live stack's; it is free again once that stack is
 * gone. A stack in no group says so. */
static void test_index_taken_once(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 1, NULL);
    assert_int_equal(tcpc_stack_group_index(a->stack), 1);
    struct tcpc_config cfg = a->stack->cfg;
    cfg.nlocal_addrs = 1;
    cfg.local_addrs[0] = a->local;
    struct tcpc_stack *s = NULL;
    assert_int_equal(tcpc_stack_new(&cfg, a->now, &s), -EBUSY);
    assert_null(s);
    h_free(a);
    assert_int_equal(tcpc_stack_new(&cfg, 1 * SEC, &s), 0);
    assert_int_equal(tcpc_stack_group_index(s), 1);
    tcpc_stack_del(s);
    struct harness *alone = member(NULL, 0, NULL);
    assert_int_equal(tcpc_stack_group_index(alone->stack), -ENOENT);
    h_free(alone);
    tcpc_group_del(g);
}

/* The members hold the group: the creator may let go first (ASan sees any
 * use after the last one leaves). */
static void test_members_outlive_creator(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, NULL), *b = member(g, 1, NULL);
    tcpc_group_del(g);
    h_listen(a);
    h_advance(a, 1 * SEC);
    h_free(a);
    h_advance(b, 1 * SEC);
    h_free(b);
}

/* --- shared secrets ------------------------------------------------------ */

static const char *cookies_only[] = {"net.inet.tcp.syncookies_only=1", NULL};

/* The SYN reaches a; the ACK that completes the handshake reaches b.
 * Returns what b answered: 0 for an established connection accepted on
 * b's listener, or the flags of b's reply. */
static int syn_on_a_ack_on_b(struct harness *a, struct harness *b)
{
    int lb, la = listen_everywhere(a, b, &lb);
    (void)la;
    h_inject(a, SEG(.flags = TH_SYN, .seq = 5000, .mss = 1460, .tsval = 100, .wscale = 7,
                    .sackperm = 1));
    struct h_seg sa = h_expect(a, SEG(.flags = TH_SYN | TH_ACK, .ack = 5001));
    h_expect_nothing(a);
    assert_int_equal(h_stat(a, "tcps_sc_sendcookie"), 1);
    h_inject(b, SEG(.flags = TH_ACK, .seq = 5001, .ack = sa.th.seq + 1, .tsval = 101,
                    .tsecr = sa.th.opts.tsval));
    if (h_pending(b)) {
        struct h_seg r = h_expect(b, SEG(.flags = SEG_ANY));
        return r.th.flags;
    }
    int sd = tcpc_accept(b->stack, lb, NULL, NULL);
    assert_true(sd >= 0);
    /* The connection is b's, with what the SYN to a negotiated. */
    assert_int_equal(tcpc_send(b->stack, sd, "x", 1), 1);
    h_expect(b, SEG(.flags = TH_ACK | TH_PSH, .seq = sa.th.seq + 1, .ack = 5001, .len = 1,
                    .tsecr = 101));
    return 0;
}

static void check_cookie_crosses_members(struct harness *(*mk)(struct tcpc_group *, unsigned,
                                                               const char **))
{
    struct tcpc_group *g = group(2);
    struct harness *a = mk(g, 0, cookies_only), *b = mk(g, 1, cookies_only);
    assert_int_equal(syn_on_a_ack_on_b(a, b), 0);
    assert_int_equal(h_stat(b, "tcps_sc_recvcookie"), 1);
    assert_int_equal(h_stat(b, "tcps_sc_failcookie"), 0);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
    /* The control: the same two stacks in no group. */
    a = mk(NULL, 0, cookies_only);
    b = mk(NULL, 1, cookies_only);
    assert_int_equal(syn_on_a_ack_on_b(a, b), TH_RST);
    assert_int_equal(h_stat(b, "tcps_sc_failcookie"), 1);
    h_free(a);
    h_free(b);
}

static void test_cookie_from_one_member_validates_on_another_v4(void **state)
{
    (void)state;
    check_cookie_crosses_members(member);
}

static void test_cookie_from_one_member_validates_on_another_v6(void **state)
{
    (void)state;
    check_cookie_crosses_members(member6);
}

/* Members a and b of a new group of two with sysctls, their clocks (both
 * starting at 1 s) taken 100 ms either side of the period boundary at
 * `boundary`, once with a ahead and once with b ahead; check is the test. */
static void across_a_boundary(const char **sysctls, uint64_t boundary,
                              void (*check)(struct harness *a, struct harness *b))
{
    uint64_t before = boundary - SEC - 100 * MSEC, after = boundary - SEC + 100 * MSEC;
    for (int ahead = 0; ahead < 2; ahead++) {
        struct tcpc_group *g = group(2);
        struct harness *a = member(g, 0, sysctls), *b = member(g, 1, sysctls);
        h_advance(a, ahead ? after : before);
        h_advance(b, ahead ? before : after);
        check(a, b);
        h_free(a);
        h_free(b);
        tcpc_group_del(g);
    }
}

static void cookie_completes_on_b(struct harness *a, struct harness *b)
{
    assert_int_equal(syn_on_a_ack_on_b(a, b), 0);
    assert_int_equal(h_stat(b, "tcps_sc_recvcookie"), 1);
}

/* Members' clocks are one source read at different moments: a cookie made
 * just after a period boundary validates on a member still before it, and
 * one made before it on a member already past it. The first boundary is at
 * 15 s (SYNCOOKIE_PERIOD). */
static void test_cookie_across_a_period_boundary(void **state)
{
    (void)state;
    across_a_boundary(cookies_only, 15 * SEC, cookie_completes_on_b);
}

/* Two rotations still retire a cookie on every member: the group's
 * secrets expire as a lone stack's do. */
static void test_cookie_expires_on_every_member(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, cookies_only), *b = member(g, 1, cookies_only);
    int lb;
    listen_everywhere(a, b, &lb);
    h_inject(a, SEG(.flags = TH_SYN, .seq = 5000, .mss = 1460));
    struct h_seg sa = h_expect(a, SEG(.flags = TH_SYN | TH_ACK, .ack = 5001));
    h_advance(b, 31 * SEC);
    h_inject(b, SEG(.flags = TH_ACK, .seq = 5001, .ack = sa.th.seq + 1));
    h_expect(b, SEG(.flags = TH_RST));
    assert_int_equal(h_stat(b, "tcps_sc_failcookie"), 1);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
}

/* --- Fast Open keys ---------------------------------------------------- */

static const char *tfo_server[] = {"net.inet.tcp.fastopen.server_enable=1", NULL};

/* A Fast Open listener on a and b's listener on the same port
 * (listen_everywhere); Fast Open is set on each copy. */
static void tfo_listen(struct harness *a, struct harness *b)
{
    int lb, la = listen_everywhere(a, b, &lb);
    assert_int_equal(tcpc_setsockopt(a->stack, la, TCPC_TCP_FASTOPEN, 1), 0);
    assert_int_equal(tcpc_setsockopt(b->stack, lb, TCPC_TCP_FASTOPEN, 1), 0);
}

/* a gives a cookie to a SYN asking for one; the same client then sends a
 * SYN with that cookie and five bytes to b. Returns how many of them b's
 * SYN-ACK acknowledges: 5 when b took the cookie, 0 when it did not. */
static uint32_t tfo_cookie_on_a_data_on_b(struct harness *a, struct harness *b)
{
    tfo_listen(a, b);
    h_inject(a, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460, .tfo = 0));
    struct h_seg sa =
        h_expect(a, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001, .tfo = 8, .tfo_anybytes = true));
    uint8_t cookie[8];
    memcpy(cookie, sa.th.opts.tfo_cookie, sizeof(cookie));
    b->pport = (uint16_t)(a->pport + 1);
    h_inject(b, SEG(.flags = TH_SYN, .seq = 2000, .mss = 1460, .tfo = 8, .tfo_cookie = cookie,
                    .data = "hello"));
    sa = h_expect(b, SEG(.flags = TH_SYN | TH_ACK, .ack = SEG_ANY, .tfo = 8, .tfo_anybytes = true));
    return sa.th.ack - 2001;
}

static void test_fastopen_cookie_from_one_member_validates_on_another(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, tfo_server), *b = member(g, 1, tfo_server);
    assert_int_equal(tfo_cookie_on_a_data_on_b(a, b), 5);
    assert_int_equal(h_stat(b, "tcps_tfo_syn_data_rcv"), 1);
    assert_int_equal(h_stat(b, "tcps_tfo_cookie_invalid"), 0);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
    /* The control: each stack alone draws its own key. */
    a = member(NULL, 0, tfo_server);
    b = member(NULL, 1, tfo_server);
    assert_int_equal(tfo_cookie_on_a_data_on_b(a, b), 0);
    assert_int_equal(h_stat(b, "tcps_tfo_cookie_invalid"), 1);
    h_free(a);
    h_free(b);
}

/* Keys follow net.inet.tcp.fastopen.autokey's periods counted from time
 * zero, so members agree at a boundary whichever of them is past it, and
 * a cookie outlives its period by one more, as a lone stack's does. */
static void tfo_data_taken_on_b(struct harness *a, struct harness *b)
{
    assert_int_equal(tfo_cookie_on_a_data_on_b(a, b), 5);
}

static void test_fastopen_keys_across_an_autokey_boundary(void **state)
{
    (void)state;
    /* The first boundary is at 120 s (net.inet.tcp.fastopen.autokey). */
    across_a_boundary(tfo_server, 120 * SEC, tfo_data_taken_on_b);
    /* Two periods later the cookie is refused by every member. */
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, tfo_server), *b = member(g, 1, tfo_server);
    tfo_listen(a, b);
    h_inject(a, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460, .tfo = 0));
    struct h_seg sa =
        h_expect(a, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001, .tfo = 8, .tfo_anybytes = true));
    uint8_t cookie[8];
    memcpy(cookie, sa.th.opts.tfo_cookie, sizeof(cookie));
    h_advance(b, 240 * SEC);
    b->pport = (uint16_t)(a->pport + 1);
    h_inject(b, SEG(.flags = TH_SYN, .seq = 2000, .mss = 1460, .tfo = 8, .tfo_cookie = cookie,
                    .data = "hello"));
    h_expect(b, SEG(.flags = TH_SYN | TH_ACK, .ack = 2001, .tfo = 8, .tfo_anybytes = true));
    assert_int_equal(h_stat(b, "tcps_tfo_cookie_invalid"), 1);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
}

/* The SYN cache's ISS (RFC 6528) for one 4-tuple at one time is the same on
 * every member; outside a group it is not. */
static void test_members_number_a_tuple_alike(void **state)
{
    (void)state;
    uint32_t iss[2][2];
    for (int grouped = 0; grouped < 2; grouped++) {
        struct tcpc_group *g = grouped ? group(2) : NULL;
        struct harness *m[2] = {member(g, 0, NULL), member(g, 1, NULL)};
        for (int i = 0; i < 2; i++) {
            if (i == 0 || !grouped) /* m[1] takes the group's listener */
                h_listen(m[i]);
            h_inject(m[i], SEG(.flags = TH_SYN, .seq = 5000, .mss = 1460));
            iss[grouped][i] = h_expect(m[i], SEG(.flags = TH_SYN | TH_ACK, .ack = 5001)).th.seq;
            assert_int_equal(h_stat(m[i], "tcps_sc_sendcookie"), 0);
        }
        h_free(m[0]);
        h_free(m[1]);
        tcpc_group_del(g);
    }
    assert_int_not_equal(iss[0][0], iss[0][1]);
    assert_int_equal(iss[1][0], iss[1][1]);
}

/* RFC 6056 algorithm 4 under the group's key: members walk the ephemeral
 * range alike toward one destination, and split that one walk: the second
 * member skips the port the first holds (the group's reservations) and
 * takes the next. Outside a group the walks are unrelated. */
static void test_members_walk_ports_alike(void **state)
{
    (void)state;
    uint16_t port[2][2];
    for (int grouped = 0; grouped < 2; grouped++) {
        struct tcpc_group *g = grouped ? group(2) : NULL;
        struct harness *m[2] = {member(g, 0, NULL), member(g, 1, NULL)};
        for (int i = 0; i < 2; i++) {
            struct h_seg syn;
            fx_connect(m[i], &syn);
            port[grouped][i] = syn.th.sport;
        }
        h_free(m[0]);
        h_free(m[1]);
        tcpc_group_del(g);
    }
    assert_int_not_equal(port[0][0], port[0][1]);
    /* The next port of the range, which wraps from last to first. */
    struct harness *h = member(NULL, 0, NULL);
    int64_t first = -1, last = -1;
    assert_int_equal(tcpc_sysctl_get(h->stack, "net.inet.ip.portrange.first", &first), 0);
    assert_int_equal(tcpc_sysctl_get(h->stack, "net.inet.ip.portrange.last", &last), 0);
    h_free(h);
    int64_t n = last - first + 1;
    assert_int_equal(port[1][1] - first, (port[1][0] - first + 1) % n);
}

/* --- shared tunables ----------------------------------------------------- */

static int64_t sysctl_of(struct harness *h, const char *name)
{
    int64_t v = -1;
    assert_int_equal(tcpc_sysctl_get(h->stack, name, &v), 0);
    return v;
}

/* A tunable set on one member is in force on every other from that
 * member's next entry (tcpc_input, tcpc_advance), on its own thread: here
 * SYNs to b are answered with cookies once a asked for cookies only. */
static void test_sysctl_on_one_member_reaches_every_member(void **state)
{
    (void)state;
    struct tcpc_group *g = group(3);
    struct harness *a = member(g, 0, NULL), *b = member(g, 1, NULL), *c = member(g, 2, NULL);
    const char *why;
    assert_int_equal(tcpc_sysctl_set(a->stack, "net.inet.tcp.syncookies_only", 1, &why), 0);
    assert_int_equal(tcpc_sysctl_set(c->stack, "net.inet.tcp.keepidle", 5000, &why), 0);
    assert_int_equal(sysctl_of(b, "net.inet.tcp.syncookies_only"), 0); /* not entered yet */
    h_advance(b, 0);
    assert_int_equal(sysctl_of(b, "net.inet.tcp.syncookies_only"), 1);
    assert_int_equal(sysctl_of(b, "net.inet.tcp.keepidle"), 5000);
    h_listen(b);
    h_inject(b, SEG(.flags = TH_SYN, .seq = 5000, .mss = 1460));
    h_expect(b, SEG(.flags = TH_SYN | TH_ACK, .ack = 5001));
    assert_int_equal(h_stat(b, "tcps_sc_sendcookie"), 1);
    /* The setter and the third member agree too. */
    h_advance(a, 0);
    h_advance(c, 0);
    assert_int_equal(sysctl_of(a, "net.inet.tcp.keepidle"), 5000);
    assert_int_equal(sysctl_of(c, "net.inet.tcp.syncookies_only"), 1);
    /* The last word wins everywhere. */
    assert_int_equal(tcpc_sysctl_set(b->stack, "net.inet.tcp.syncookies_only", 0, &why), 0);
    h_advance(a, 0);
    assert_int_equal(sysctl_of(a, "net.inet.tcp.syncookies_only"), 0);
    h_free(a);
    h_free(b);
    h_free(c);
    tcpc_group_del(g);
}

/* A member created after a tunable was set starts with it. */
static void test_late_member_starts_with_published_tunables(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, NULL);
    const char *why;
    assert_int_equal(tcpc_sysctl_set(a->stack, "net.inet.tcp.msl", 1234, &why), 0);
    struct harness *b = member(g, 1, NULL);
    assert_int_equal(sysctl_of(b, "net.inet.tcp.msl"), 1234);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
}

/* What a member refuses goes nowhere; a stack in no group is untouched. */
static void test_refused_tunable_not_published(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, NULL), *b = member(g, 1, NULL), *alone = member(NULL, 0, NULL);
    const char *why = NULL;
    assert_int_equal(tcpc_sysctl_set(a->stack, "net.inet.tcp.msl", 0, &why), -EINVAL);
    assert_non_null(why);
    assert_int_equal(tcpc_sysctl_set(a->stack, "kern.ipc.maxsockets", 128, &why), -EPERM);
    assert_int_equal(tcpc_sysctl_set(a->stack, "net.inet.tcp.keepidle", 9000, &why), 0);
    h_advance(b, 0);
    h_advance(alone, 0);
    assert_int_equal(sysctl_of(b, "net.inet.tcp.msl"), 30000);
    assert_int_equal(sysctl_of(b, "kern.ipc.maxsockets"), 65536);
    assert_int_equal(sysctl_of(b, "net.inet.tcp.keepidle"), 9000);
    assert_int_equal(sysctl_of(alone, "net.inet.tcp.keepidle"), 7200000);
    h_free(a);
    h_free(b);
    h_free(alone);
    tcpc_group_del(g);
}

/* --- the TIME_WAIT limit ------------------------------------------------- */

static const char *tw_sys[] = {"net.inet.tcp.msl=1000", "net.inet.tcp.maxtcptw=32", NULL};

/* net.inet.tcp.maxtcptw counts the group's records: a member at the
 * group's limit recycles its own oldest, one with none of its own closes
 * without a record (tcps_tw_nospace), and a record freed anywhere makes
 * room everywhere. */
static void test_timewait_limit_is_the_groups(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, tw_sys), *b = member(g, 1, tw_sys);
    /* Opened on b, which outlives a (a listener goes with its member). */
    int la, lb = listen_everywhere(b, a, &la);
    for (uint16_t i = 0; i < 31; i++)
        fx_passive_to_timewait(a, la, (uint16_t)(41000 + i));
    fx_passive_to_timewait(b, lb, 42000);
    assert_int_equal(tw_count(a->stack), 31);
    assert_int_equal(tw_count(b->stack), 1);
    assert_int_equal(group_tw_count(g), 32);
    fx_passive_to_timewait(b, lb, 42001); /* full: b recycles its own */
    assert_int_equal(h_stat(b, "tcps_tw_recycles"), 1);
    assert_int_equal(tw_count(b->stack), 1);
    assert_int_equal(group_tw_count(g), 32);
    fx_passive_to_timewait(a, la, 41031); /* a recycles one of its own */
    assert_int_equal(h_stat(a, "tcps_tw_recycles"), 1);
    assert_int_equal(tw_count(a->stack), 31);
    /* b's record expires: a has room for one more without recycling. */
    h_advance(b, 2 * SEC + 1 * MSEC);
    assert_int_equal(tw_count(b->stack), 0);
    assert_int_equal(group_tw_count(g), 31);
    fx_passive_to_timewait(a, la, 41032);
    assert_int_equal(h_stat(a, "tcps_tw_recycles"), 1);
    assert_int_equal(tw_count(a->stack), 32);
    /* Now b holds none and the group is full: b's close gets no record. */
    fx_passive_to_timewait(b, lb, 42002);
    assert_int_equal(h_stat(b, "tcps_tw_nospace"), 1);
    assert_int_equal(tw_count(b->stack), 0);
    assert_int_equal(group_tw_count(g), 32);
    /* A member that goes gives its records back. */
    h_free(a);
    assert_int_equal(group_tw_count(g), 0);
    fx_passive_to_timewait(b, lb, 42003);
    assert_int_equal(tw_count(b->stack), 1);
    h_free(b);
    tcpc_group_del(g);
}

/* Outside a group the limit stays the stack's own. */
static void test_timewait_limit_alone_unchanged(void **state)
{
    (void)state;
    struct harness *a = member(NULL, 0, tw_sys), *b = member(NULL, 1, tw_sys);
    int la = h_listen(a), lb = h_listen(b);
    for (uint16_t i = 0; i < 32; i++) {
        fx_passive_to_timewait(a, la, (uint16_t)(41000 + i));
        fx_passive_to_timewait(b, lb, (uint16_t)(42000 + i));
    }
    assert_int_equal(tw_count(a->stack), 32);
    assert_int_equal(tw_count(b->stack), 32);
    assert_int_equal(h_stat(a, "tcps_tw_recycles") + h_stat(b, "tcps_tw_recycles"), 0);
    h_free(a);
    h_free(b);
}

/* --- shared port reservations ------------------------------------------ */

/* One socket of a bind-conflict case: family, options, address (NULL: the
 * family's wildcard). */
struct bside {
    int family;
    int reuseaddr, reuseport, v6only;
    const char *addr;
};

/* Binds a socket of side o on stack s to port; returns tcpc_bind's result
 * (the socket stays open). */
static int bind_side(struct tcpc_stack *s, const struct bside *o, uint16_t port)
{
    int sd = tcpc_socket(s, o->family);
    assert_true(sd >= 0);
    assert_int_equal(tcpc_setsockopt(s, sd, TCPC_SO_REUSEADDR, o->reuseaddr), 0);
    assert_int_equal(tcpc_setsockopt(s, sd, TCPC_SO_REUSEPORT, o->reuseport), 0);
    if (o->family == TCPC_AF_INET6)
        assert_int_equal(tcpc_setsockopt(s, sd, TCPC_IPV6_V6ONLY, o->v6only), 0);
    struct tcpc_addr a;
    if (o->addr)
        assert_int_equal(tcpc_addr_parse(o->addr, &a), 0);
    return tcpc_bind(s, sd, o->addr ? &a : NULL, port);
}

/* What the second bind of a case gets: on one stack, or with the first
 * socket on member `first` and the second on the other member. */
static int bind_case(const struct bside *one, const struct bside *two, int first)
{
    struct tcpc_group *g = first < 0 ? NULL : group(2);
    struct harness *m[2] = {member(g, 0, NULL), first < 0 ? NULL : member(g, 1, NULL)};
    struct tcpc_stack *s1 = m[first < 0 ? 0 : first]->stack;
    struct tcpc_stack *s2 = m[first < 0 ? 0 : 1 - first]->stack;
    assert_int_equal(bind_side(s1, one, 7000), 0);
    int err = bind_side(s2, two, 7000);
    h_free(m[0]);
    if (m[1])
        h_free(m[1]);
    tcpc_group_del(g);
    return err;
}

#define V4(ra, rp, a)                                                                              \
    {                                                                                              \
        TCPC_AF_INET, ra, rp, 0, a                                                                 \
    }
#define V6(ra, rp, o, a)                                                                           \
    {                                                                                              \
        TCPC_AF_INET6, ra, rp, o, a                                                                \
    }

/* Every case of docs/pcb.md's table that two sockets can make, in both
 * orders across two members: the second bind gets what it would get on
 * one stack holding both sockets (the lone stack is asked too, so the
 * expectation is the stack's own rule, stated once). */
static void test_bind_conflicts_across_members(void **state)
{
    (void)state;
    static const struct {
        struct bside one, two;
        int alone; /* what one stack answers: the table, checked here too */
    } cases[] = {
        {V4(0, 0, NULL), V4(0, 0, NULL), -EADDRINUSE},
        {V4(1, 0, NULL), V4(1, 0, NULL), -EADDRINUSE},
        {V4(0, 1, NULL), V4(0, 1, NULL), 0},
        {V4(0, 1, NULL), V4(0, 0, NULL), -EADDRINUSE},
        {V4(0, 0, NULL), V4(0, 1, NULL), -EADDRINUSE},
        {V4(1, 0, NULL), V4(1, 0, "198.18.0.1"), 0},
        {V4(0, 0, NULL), V4(0, 0, "198.18.0.1"), -EADDRINUSE},
        {V4(0, 0, "198.18.0.1"), V4(0, 0, NULL), -EADDRINUSE},
        {V4(1, 0, "198.18.0.1"), V4(1, 0, NULL), 0},
        {V6(0, 0, 0, NULL), V4(0, 0, NULL), -EADDRINUSE},
        {V4(0, 0, NULL), V6(0, 0, 0, NULL), 0}, /* :: beside 0.0.0.0 bound first */
        {V6(0, 0, 1, NULL), V4(0, 0, NULL), 0},
        {V4(0, 0, NULL), V6(0, 0, 1, NULL), 0},
        {V6(0, 0, 1, NULL), V6(0, 0, 1, NULL), -EADDRINUSE},
        {V6(0, 1, 1, NULL), V6(0, 1, 1, NULL), 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int alone = bind_case(&cases[i].one, &cases[i].two, -1);
        if (alone != cases[i].alone)
            print_message("case %zu\n", i);
        assert_int_equal(alone, cases[i].alone);
        for (int first = 0; first < 2; first++)
            assert_int_equal(bind_case(&cases[i].one, &cases[i].two, first), alone);
    }
}

/* An option set after the bind counts as if set before, on one stack
 * (FreeBSD caches it whenever set) and so across members: a's SO_REUSEPORT
 * set once bound lets b share the port; cleared once bound, it refuses b. */
static void test_option_after_bind_seen_by_other_members(void **state)
{
    (void)state;
    static const struct bside rp = V4(0, 1, NULL);
    for (int grouped = 0; grouped < 2; grouped++) {
        struct tcpc_group *g = grouped ? group(2) : NULL;
        struct harness *a = member(g, 0, NULL);
        struct harness *b = grouped ? member(g, 1, NULL) : a;
        int sd = tcpc_socket(a->stack, TCPC_AF_INET);
        assert_int_equal(tcpc_bind(a->stack, sd, NULL, 7000), 0);
        assert_int_equal(bind_side(b->stack, &rp, 7000), -EADDRINUSE);
        assert_int_equal(tcpc_setsockopt(a->stack, sd, TCPC_SO_REUSEPORT, 1), 0);
        assert_int_equal(bind_side(b->stack, &rp, 7000), 0);
        int sd2 = tcpc_socket(a->stack, TCPC_AF_INET);
        assert_int_equal(tcpc_setsockopt(a->stack, sd2, TCPC_SO_REUSEPORT, 1), 0);
        assert_int_equal(tcpc_bind(a->stack, sd2, NULL, 7002), 0);
        assert_int_equal(tcpc_setsockopt(a->stack, sd2, TCPC_SO_REUSEPORT, 0), 0);
        assert_int_equal(bind_side(b->stack, &rp, 7002), -EADDRINUSE);
        h_free(a);
        if (grouped)
            h_free(b);
        tcpc_group_del(g);
    }
}

/* A reservation goes with the socket: after a close, or when its member is
 * deleted, another member binds the port; outside a group nothing is
 * shared at all. */
static void test_reservation_released(void **state)
{
    (void)state;
    static const struct bside plain = V4(0, 0, NULL);
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, NULL), *b = member(g, 1, NULL);
    int sd = tcpc_socket(a->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_bind(a->stack, sd, NULL, 7000), 0);
    assert_int_equal(bind_side(b->stack, &plain, 7000), -EADDRINUSE);
    assert_int_equal(tcpc_close(a->stack, sd), 0);
    assert_int_equal(bind_side(b->stack, &plain, 7000), 0);
    assert_int_equal(bind_side(a->stack, &plain, 7001), 0);
    assert_int_equal(bind_side(b->stack, &plain, 7001), -EADDRINUSE);
    h_free(a);
    assert_int_equal(bind_side(b->stack, &plain, 7001), 0);
    h_free(b);
    tcpc_group_del(g);
    struct harness *x = member(NULL, 0, NULL), *y = member(NULL, 1, NULL);
    assert_int_equal(bind_side(x->stack, &plain, 7000), 0);
    assert_int_equal(bind_side(y->stack, &plain, 7000), 0);
    h_free(x);
    h_free(y);
}

/* A bind to port 0 takes a port no member holds: the members' walks start
 * alike (the group's key), so the second skips the first's port. */
static void test_ephemeral_bind_skips_other_members(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, NULL), *b = member(g, 1, NULL);
    uint16_t pa = 0, pb = 0;
    struct tcpc_addr any;
    int sa = tcpc_socket(a->stack, TCPC_AF_INET), sb = tcpc_socket(b->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_bind(a->stack, sa, NULL, 0), 0);
    assert_int_equal(tcpc_bind(b->stack, sb, NULL, 0), 0);
    assert_int_equal(tcpc_getsockname(a->stack, sa, &any, &pa), 0);
    assert_int_equal(tcpc_getsockname(b->stack, sb, &any, &pb), 0);
    assert_true(pa != 0 && pb != 0);
    assert_int_not_equal(pa, pb);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
}

/* A bound socket's connect needs a 4-tuple no member holds: with
 * SO_REUSEADDR two members may bind one port, but only one of them may
 * connect from it to one peer, as on one stack. The SYN of the first is
 * on the wire, field by field. */
static void test_connect_tuple_taken_by_other_member(void **state)
{
    (void)state;
    static const struct bside ra = V4(1, 0, NULL);
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, NULL), *b = member(g, 1, NULL);
    int ca = tcpc_socket(a->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_setsockopt(a->stack, ca, TCPC_SO_REUSEADDR, 1), 0);
    assert_int_equal(tcpc_bind(a->stack, ca, NULL, 7000), 0);
    assert_int_equal(tcpc_connect(a->stack, ca, &a->peer, a->pport), -EINPROGRESS);
    h_expect(a, SEG(.flags = TH_SYN, .dport = 7000, .sport = a->pport, .ack = 0));
    int cb = tcpc_socket(b->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_setsockopt(b->stack, cb, TCPC_SO_REUSEADDR, 1), 0);
    assert_int_equal(tcpc_bind(b->stack, cb, NULL, 7000), 0);
    assert_int_equal(tcpc_connect(b->stack, cb, &b->peer, b->pport), -EADDRINUSE);
    h_expect_nothing(b);
    /* To another port of the peer the 4-tuple is free. */
    assert_int_equal(tcpc_connect(b->stack, cb, &b->peer, (uint16_t)(b->pport + 1)), -EINPROGRESS);
    h_expect(b, SEG(.flags = TH_SYN, .dport = 7000, .sport = (uint16_t)(b->pport + 1)));
    /* a's connection gone, its 4-tuple is free for b. */
    assert_int_equal(tcpc_close(a->stack, ca), 0);
    assert_int_equal(bind_side(b->stack, &ra, 7000), 0);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
}

/* --- group listeners ----------------------------------------------------- */

/* A SYN from the peer's port pport to member h's listener port; the
 * SYN-ACK h answers with. */
static struct h_seg syn_to(struct harness *h, uint16_t pport)
{
    h_inject(h, SEG(.flags = TH_SYN, .seq = 5000, .sport = pport, .mss = 1460, .tsval = 100,
                    .wscale = 7, .sackperm = 1));
    return h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .sport = pport, .ack = 5001));
}

/* A listener opened once, on a, with options its connections inherit,
 * answers a SYN on every member: b and c never listened. Their SYN-ACKs
 * are a's, field by field (the ISS too: the group numbers a 4-tuple
 * alike), and the connection completes on the member it reached, to be
 * accepted on that member's copy. */
static void check_listener_on_every_member(struct harness *(*mk)(struct tcpc_group *, unsigned,
                                                                 const char **))
{
    struct tcpc_group *g = group(3);
    struct harness *m[3] = {mk(g, 0, NULL), mk(g, 1, NULL), mk(g, 2, NULL)};
    struct tcpc_stack *a = m[0]->stack;
    int la = tcpc_socket(a, m[0]->v6 ? TCPC_AF_INET6 : TCPC_AF_INET);
    assert_int_equal(tcpc_setsockopt(a, la, TCPC_IP_TTL, 33), 0);
    assert_int_equal(tcpc_setsockopt(a, la, TCPC_TCP_MAXSEG, 1000), 0);
    assert_int_equal(tcpc_setsockopt(a, la, TCPC_SO_RCVBUF, 8192), 0);
    assert_int_equal(tcpc_setsockopt(a, la, TCPC_TCP_NODELAY, 1), 0);
    assert_int_equal(tcpc_bind(a, la, NULL, m[0]->lport), 0);
    assert_int_equal(tcpc_listen(a, la, 8), 0);
    int id = tcpc_group_listener_id(a, la);
    assert_true(id > 0);
    struct h_seg sa[3];
    int rcvbuf0 = -1;
    for (int i = 0; i < 3; i++)
        sa[i] = syn_to(m[i], 41000);
    for (int i = 1; i < 3; i++) {
        assert_int_equal(sa[i].th.seq, sa[0].th.seq);
        assert_int_equal(sa[i].th.win, sa[0].th.win);
        assert_int_equal(sa[i].th.opts.mss, sa[0].th.opts.mss);
        assert_int_equal(sa[i].th.opts.wscale, sa[0].th.opts.wscale);
        assert_int_equal(sa[i].th.opts.present, sa[0].th.opts.present);
        assert_int_equal(sa[i].ip.ttl, 33);
    }
    for (int i = 0; i < 3; i++) {
        int l = tcpc_group_listener_sd(m[i]->stack, id);
        assert_true(l >= 0);
        assert_int_equal(tcpc_group_listener_id(m[i]->stack, l), id);
        if (i > 0) /* the copy was announced on its descriptor */
            assert_true(h_events(m[i], l) & TCPC_EV_LISTENER);
        h_inject(m[i], SEG(.flags = TH_ACK, .seq = 5001, .sport = 41000, .ack = sa[i].th.seq + 1,
                           .tsval = 101, .tsecr = sa[i].th.opts.tsval));
        h_expect_nothing(m[i]);
        int sd = tcpc_accept(m[i]->stack, l, NULL, NULL);
        assert_true(sd >= 0);
        int v = 0;
        assert_int_equal(tcpc_getsockopt(m[i]->stack, sd, TCPC_TCP_NODELAY, &v), 0);
        assert_int_equal(v, 1);
        assert_int_equal(tcpc_getsockopt(m[i]->stack, sd, TCPC_SO_RCVBUF, &v), 0);
        if (i == 0)
            rcvbuf0 = v;
        assert_int_equal(v, rcvbuf0); /* the size a's child has, not the default */
        assert_true(v < 16384);
        assert_int_equal(tcpc_send(m[i]->stack, sd, "x", 1), 1);
        h_expect(m[i], SEG(.flags = TH_ACK | TH_PSH, .sport = 41000, .seq = sa[i].th.seq + 1,
                           .ack = 5001, .len = 1, .ttl = 33));
    }
    for (int i = 0; i < 3; i++)
        h_free(m[i]);
    tcpc_group_del(g);
}

static void test_listener_on_every_member_v4(void **state)
{
    (void)state;
    check_listener_on_every_member(member);
}

static void test_listener_on_every_member_v6(void **state)
{
    (void)state;
    check_listener_on_every_member(member6);
}

/* Closing the listener where it was opened closes every copy at its
 * member's next entry: b is told (TCPC_EV_HUP), its connection not yet
 * accepted is reset as a closed listener's is, and a SYN is refused.
 * The id names no listener any more, and the port is free again. */
static void test_listener_close_removes_copies(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, NULL), *b = member(g, 1, NULL);
    int lb, la = listen_everywhere(a, b, &lb);
    int id = tcpc_group_listener_id(a->stack, la);
    struct h_seg sa = syn_to(b, 41000);
    h_inject(b, SEG(.flags = TH_ACK, .seq = 5001, .sport = 41000, .ack = sa.th.seq + 1,
                    .tsval = 101, .tsecr = sa.th.opts.tsval));
    h_expect_nothing(b);
    (void)h_events(b, lb);
    assert_int_equal(tcpc_close(a->stack, la), 0);
    assert_int_equal(tcpc_group_listener_id(a->stack, la), -ENOENT);
    h_expect_nothing(b); /* not before b's next entry */
    h_advance(b, 1 * MSEC);
    h_expect(b, SEG(.flags = TH_RST | TH_ACK, .sport = 41000, .seq = sa.th.seq + 1));
    assert_true(h_events(b, lb) & TCPC_EV_HUP);
    assert_int_equal(tcpc_group_listener_sd(b->stack, id), -ENOENT);
    assert_int_equal(tcpc_accept(b->stack, lb, NULL, NULL), -EBADF);
    h_inject(b, SEG(.flags = TH_SYN, .seq = 7000, .sport = 41001));
    h_expect(b, SEG(.flags = TH_RST | TH_ACK, .sport = 41001, .ack = 7001));
    int sd = tcpc_socket(b->stack, TCPC_AF_INET);
    assert_int_equal(tcpc_bind(b->stack, sd, NULL, b->lport), 0);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
}

/* Closing a copy closes that copy only; the member that opened the
 * listener, and the others, still answer. A member created later takes
 * the listeners open so far; a member that goes takes its own along. */
static void test_listener_copy_closed_alone_and_late_member(void **state)
{
    (void)state;
    struct tcpc_group *g = group(3);
    struct harness *a = member(g, 0, NULL), *b = member(g, 1, NULL);
    int lb, la = listen_everywhere(a, b, &lb);
    int id = tcpc_group_listener_id(a->stack, la);
    assert_int_equal(tcpc_close(b->stack, lb), 0);
    assert_int_equal(tcpc_group_listener_sd(b->stack, id), -EBADF);
    h_inject(b, SEG(.flags = TH_SYN, .seq = 7000, .sport = 41001));
    h_expect(b, SEG(.flags = TH_RST | TH_ACK, .sport = 41001, .ack = 7001));
    syn_to(a, 41002);
    struct harness *c = member(g, 2, NULL);
    syn_to(c, 41003);
    assert_true(tcpc_group_listener_sd(c->stack, id) >= 0);
    h_free(a); /* its listener goes with it */
    h_advance(c, 1 * MSEC);
    assert_int_equal(tcpc_group_listener_sd(c->stack, id), -ENOENT);
    h_inject(c, SEG(.flags = TH_SYN, .seq = 7000, .sport = 41004));
    h_expect(c, SEG(.flags = TH_RST | TH_ACK, .sport = 41004, .ack = 7001));
    h_free(b);
    h_free(c);
    tcpc_group_del(g);
}

/* A group holds TCPC_GROUP_LISTENERS listeners: one more is refused with
 * -ENOBUFS and left unlistened; a close makes room. Outside a group a
 * listener has no id. */
static void test_listener_limit(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = member(g, 0, NULL), *b = member(g, 1, NULL);
    int sd[TCPC_GROUP_LISTENERS + 1];
    for (int i = 0; i <= TCPC_GROUP_LISTENERS; i++) {
        sd[i] = tcpc_socket(a->stack, TCPC_AF_INET);
        assert_int_equal(tcpc_bind(a->stack, sd[i], NULL, (uint16_t)(8000 + i)), 0);
        int want = i < TCPC_GROUP_LISTENERS ? 0 : -ENOBUFS;
        assert_int_equal(tcpc_listen(a->stack, sd[i], 4), want);
    }
    h_inject(a, SEG(.flags = TH_SYN, .seq = 7000, .dport = 8000 + TCPC_GROUP_LISTENERS));
    h_expect(a, SEG(.flags = TH_RST | TH_ACK, .dport = 8000 + TCPC_GROUP_LISTENERS));
    assert_int_equal(tcpc_close(a->stack, sd[0]), 0);
    assert_int_equal(tcpc_listen(a->stack, sd[TCPC_GROUP_LISTENERS], 4), 0);
    h_advance(b, 1 * MSEC);
    h_inject(b, SEG(.flags = TH_SYN, .seq = 7000, .dport = 8000 + TCPC_GROUP_LISTENERS));
    h_expect(b, SEG(.flags = TH_SYN | TH_ACK, .dport = 8000 + TCPC_GROUP_LISTENERS, .ack = 7001));
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
    struct harness *alone = member(NULL, 0, NULL);
    int l = h_listen(alone);
    assert_int_equal(tcpc_group_listener_id(alone->stack, l), -ENOENT);
    assert_int_equal(tcpc_group_listener_sd(alone->stack, 1), -ENOENT);
    h_free(alone);
}

/* --- hand-off of mis-steered segments ------------------------------------- */

/* The test's ownership rule over two members: a local port's parity. */
static unsigned parity_owner(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                             const struct tcpc_addr *laddr, uint16_t lport)
{
    (void)ctx, (void)faddr, (void)fport, (void)laddr;
    return lport & 1;
}

static struct harness *owned_member(struct tcpc_group *g, unsigned index, bool v6, bool ether)
{
    struct h_opts o = {.v6 = v6,
                       .ether = ether,
                       .group = g,
                       .group_index = index,
                       .seed = (uint8_t)(index + 1),
                       .owner = parity_owner};
    return h_new(&o);
}

struct wakes {
    unsigned count, member;
};

static void count_wake(void *ctx, unsigned member)
{
    struct wakes *w = ctx;
    w->count++;
    w->member = member;
}

/* Member a opens (taking a port the rule gives it); the SYN-ACK reaches b,
 * which has no connection for it and hands it over instead of resetting.
 * a takes it at its next poll and completes the handshake. */
static void check_synack_handed_to_owner(bool v6)
{
    struct tcpc_group *g = group(2);
    struct wakes w = {0};
    tcpc_group_set_wake(g, count_wake, &w);
    struct harness *a = owned_member(g, 0, v6, false), *b = owned_member(g, 1, v6, false);
    struct h_seg syn;
    int sd = fx_connect(a, &syn);
    assert_int_equal(syn.th.sport % 2, 0); /* steered by the same rule */
    b->lport = a->lport;
    assert_false(group_pending(g, 0));
    h_inject(b, SEG(.flags = TH_SYN | TH_ACK, .seq = 9000, .ack = syn.th.seq + 1, .mss = 1460));
    h_expect_nothing(b);
    assert_int_equal(h_stat(b, "tcps_handoff"), 1);
    assert_int_equal(h_stat(b, "tcps_noport"), 0);
    assert_int_equal(w.count, 1);
    assert_int_equal(w.member, 0);
    /* The owner's deadline says the queue waits. */
    assert_true(tcpc_next_deadline(a->stack) <= a->now);
    assert_int_equal(tcpc_group_poll(a->stack, a->now), 1);
    h_expect(a, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .ack = 9001, .len = 0));
    assert_int_equal(h_stat(a, "tcps_handoff_rcvd"), 1);
    assert_int_equal(h_stat(a, "tcps_connects"), 1);
    assert_int_equal(tcpc_send(a->stack, sd, "x", 1), 1);
    h_expect(a, SEG(.flags = TH_ACK | TH_PSH, .seq = syn.th.seq + 1, .ack = 9001, .len = 1));
    assert_int_equal(tcpc_group_poll(a->stack, a->now), 0);
    assert_false(group_pending(g, 0));
    /* A port b owns itself, with nothing on it: b answers, as ever. */
    b->lport = (uint16_t)(a->lport + 1);
    h_inject(b, SEG(.flags = TH_ACK, .seq = 9001, .ack = 1));
    h_expect(b, SEG(.flags = TH_RST, .seq = 1, .len = 0));
    assert_int_equal(h_stat(b, "tcps_handoff"), 1);
    assert_int_equal(w.count, 1);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
}

static void test_synack_on_wrong_member_completes_on_owner_v4(void **state)
{
    (void)state;
    check_synack_handed_to_owner(false);
}

static void test_synack_on_wrong_member_completes_on_owner_v6(void **state)
{
    (void)state;
    check_synack_handed_to_owner(true);
}

/* The owner takes its queue at tcpc_input and tcpc_advance too. */
static void test_handoff_taken_at_next_entry(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = owned_member(g, 0, false, false), *b = owned_member(g, 1, false, false);
    struct h_seg syn;
    fx_connect(a, &syn);
    b->lport = a->lport;
    h_inject(b, SEG(.flags = TH_SYN | TH_ACK, .seq = 9000, .ack = syn.th.seq + 1));
    h_advance(a, 1);
    h_expect(a, SEG(.flags = TH_ACK, .seq = syn.th.seq + 1, .ack = 9001, .len = 0));
    assert_int_equal(h_stat(a, "tcps_handoff_rcvd"), 1);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
}

/* A full queue drops what does not fit, counted; the owner takes the rest
 * (each a segment for no connection of its own: a reset). */
static void test_handoff_queue_full_drops_counted(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = owned_member(g, 0, false, false), *b = owned_member(g, 1, false, false);
    a->lport = b->lport = 50000;
    unsigned sent = 100;
    for (unsigned i = 0; i < sent; i++)
        h_inject(b, SEG(.flags = TH_ACK, .seq = 1000 + i, .ack = 1));
    h_expect_nothing(b);
    uint64_t queued = h_stat(b, "tcps_handoff"), dropped = h_stat(b, "tcps_handoff_qdrop");
    assert_int_equal(queued + dropped, sent);
    assert_true(dropped > 0);
    assert_int_equal(queued, 64);
    assert_int_equal(tcpc_group_poll(a->stack, a->now), queued);
    assert_int_equal(h_stat(a, "tcps_handoff_rcvd"), queued);
    assert_int_equal(h_stat(a, "tcps_noport"), queued);
    for (unsigned i = 0; i < queued; i++)
        h_expect(a, SEG(.flags = TH_RST, .seq = 1, .len = 0));
    h_expect_nothing(a);
    /* Room again. */
    h_inject(b, SEG(.flags = TH_ACK, .seq = 7, .ack = 1));
    assert_int_equal(h_stat(b, "tcps_handoff"), queued + 1);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
}

/* Outside a group, or without a rule, nothing is handed anywhere. */
static void test_no_handoff_without_group_or_rule(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *plain = member(g, 1, NULL);
    struct h_opts o = {.owner = parity_owner};
    struct harness *alone = h_new(&o);
    for (int i = 0; i < 2; i++) {
        struct harness *h = i ? alone : plain;
        h->lport = 50000;
        h_inject(h, SEG(.flags = TH_ACK, .seq = 1, .ack = 1));
        h_expect(h, SEG(.flags = TH_RST, .seq = 1, .len = 0));
        assert_int_equal(h_stat(h, "tcps_handoff"), 0);
    }
    h_free(plain);
    h_free(alone);
    tcpc_group_del(g);
}

/* On Ethernet, an ARP request that reaches one member teaches every
 * member the requester's MAC; only the one it reached answers. */
static void test_arp_shared_with_every_member(void **state)
{
    (void)state;
    struct tcpc_group *g = group(2);
    struct harness *a = owned_member(g, 0, false, true), *b = owned_member(g, 1, false, true);
    struct tcpc_ether_addr bc = eth_broadcast();
    struct arp_repr req = {
        .op = ARPOP_REQUEST, .sha = a->peer_mac, .spa = a->peer, .tpa = a->local};
    h_inject_arp(a, &a->peer_mac, &bc, &req);
    h_expect_arp(a, &a->peer_mac);
    assert_int_equal(h_stat(a, "ifi_grp_out"), 1);
    struct tcpc_neigh_info ni;
    assert_false(h_neigh(b, &b->peer, &ni));
    assert_int_equal(tcpc_group_poll(b->stack, b->now), 1);
    h_expect_nothing(b);
    assert_true(h_neigh(b, &b->peer, &ni));
    assert_true(eth_addr_eq(&ni.lladdr, &a->peer_mac));
    assert_int_equal(h_stat(b, "ifi_grp_in"), 1);
    assert_int_equal(h_stat(b, "ifi_grp_out"), 0); /* a copy is not copied again */
    assert_int_equal(tcpc_group_poll(a->stack, a->now), 0);
    h_free(a);
    h_free(b);
    tcpc_group_del(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes_and_indexes_checked),
        cmocka_unit_test(test_index_taken_once),
        cmocka_unit_test(test_members_outlive_creator),
        cmocka_unit_test(test_cookie_from_one_member_validates_on_another_v4),
        cmocka_unit_test(test_cookie_from_one_member_validates_on_another_v6),
        cmocka_unit_test(test_cookie_across_a_period_boundary),
        cmocka_unit_test(test_cookie_expires_on_every_member),
        cmocka_unit_test(test_members_number_a_tuple_alike),
        cmocka_unit_test(test_members_walk_ports_alike),
        cmocka_unit_test(test_sysctl_on_one_member_reaches_every_member),
        cmocka_unit_test(test_late_member_starts_with_published_tunables),
        cmocka_unit_test(test_refused_tunable_not_published),
        cmocka_unit_test(test_timewait_limit_is_the_groups),
        cmocka_unit_test(test_timewait_limit_alone_unchanged),
        cmocka_unit_test(test_fastopen_cookie_from_one_member_validates_on_another),
        cmocka_unit_test(test_fastopen_keys_across_an_autokey_boundary),
        cmocka_unit_test(test_bind_conflicts_across_members),
        cmocka_unit_test(test_option_after_bind_seen_by_other_members),
        cmocka_unit_test(test_reservation_released),
        cmocka_unit_test(test_ephemeral_bind_skips_other_members),
        cmocka_unit_test(test_connect_tuple_taken_by_other_member),
        cmocka_unit_test(test_listener_on_every_member_v4),
        cmocka_unit_test(test_listener_on_every_member_v6),
        cmocka_unit_test(test_listener_close_removes_copies),
        cmocka_unit_test(test_listener_copy_closed_alone_and_late_member),
        cmocka_unit_test(test_listener_limit),
        cmocka_unit_test(test_synack_on_wrong_member_completes_on_owner_v4),
        cmocka_unit_test(test_synack_on_wrong_member_completes_on_owner_v6),
        cmocka_unit_test(test_handoff_taken_at_next_entry),
        cmocka_unit_test(test_handoff_queue_full_drops_counted),
        cmocka_unit_test(test_no_handoff_without_group_or_rule),
        cmocka_unit_test(test_arp_shared_with_every_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
