/*
 * SYN cookies (src/tcp/syncookie.c): encode/decode round trips over every
 * MSS index x window scale x SACK x timestamp combination for IPv4 and IPv6,
 * expiry after two secret rotations, and forgeries (any flipped bit, an
 * added or dropped timestamp, another 4-tuple or peer ISN) rejected.
 */
#include <errno.h>
#include <string.h>

#include "harness.h"
#include "tcp/syncookie.h"

struct fx {
    struct syncookie_state st;
    struct rand_state r;
    struct tcpc_addr laddr, faddr;
    struct syncookie_tuple t;
};

static void fx_init(struct fx *f, bool v6, tcpc_time_t now)
{
    uint8_t seed[32];
    memset(seed, 0x42, sizeof(seed));
    rand_init(&f->r, seed);
    syncookie_init(&f->st, &f->r, now);
    assert_int_equal(tcpc_addr_parse(v6 ? "2001:db8::1" : "198.18.0.1", &f->laddr), 0);
    assert_int_equal(tcpc_addr_parse(v6 ? "2001:db8::2" : "198.18.0.2", &f->faddr), 0);
    f->t = (struct syncookie_tuple){&f->laddr, &f->faddr, 80, 40000, false};
}

/* What the decoder must return for a peer window scale without timestamps:
 * the table value at or below it. */
static uint8_t ws_rounded(uint8_t ws)
{
    if (ws == SYNCOOKIE_NO_WSCALE)
        return SYNCOOKIE_NO_WSCALE;
    uint8_t best = 0;
    for (unsigned i = 1; i < SYNCOOKIE_WSCALE_COUNT; i++)
        if (syncookie_wstab[i] <= ws)
            best = syncookie_wstab[i];
    return best;
}

static void round_trips(bool v6)
{
    struct fx f;
    fx_init(&f, v6, 1 * SEC);
    unsigned n = 0;
    for (unsigned mi = 0; mi < SYNCOOKIE_MSS_COUNT; mi++) {
        /* Exactly the table value, and one above it (rounds down to it). */
        for (unsigned extra = 0; extra < 2; extra++) {
            uint16_t mss = (uint16_t)(syncookie_msstab[mi] + extra);
            for (int ws = -1; ws <= TCP_MAX_WINSHIFT; ws++) {
                for (unsigned sack = 0; sack < 2; sack++) {
                    for (unsigned ts = 0; ts < 2; ts++) {
                        struct syncookie_params p = {
                            .mss = mss,
                            .peer_wscale = ws < 0 ? SYNCOOKIE_NO_WSCALE : (uint8_t)ws,
                            .our_wscale = (uint8_t)(ws < 0 ? 3 : 14 - ws),
                            .sack = sack,
                            .ts = ts,
                        };
                        uint32_t irs = 0x9e3779b9u * (n + 1), iss, tsval;
                        syncookie_generate(&f.st, &f.r, 2 * SEC, &f.t, irs, &p, &iss, &tsval);
                        struct syncookie_params d;
                        assert_int_equal(
                            syncookie_check(&f.st, &f.r, 3 * SEC, &f.t, irs, iss, ts, tsval, &d),
                            0);
                        assert_int_equal(d.mss, syncookie_msstab[mi]);
                        assert_int_equal(d.sack, sack);
                        assert_int_equal(d.ts, ts);
                        if (ts) {
                            assert_int_equal(d.peer_wscale, p.peer_wscale); /* exact */
                            assert_int_equal(d.our_wscale, p.our_wscale);
                        } else {
                            assert_int_equal(d.peer_wscale, ws_rounded(p.peer_wscale));
                            assert_int_equal(d.our_wscale, SYNCOOKIE_NO_WSCALE);
                        }
                        n++;
                    }
                }
            }
        }
    }
    assert_int_equal(n, SYNCOOKIE_MSS_COUNT * 2 * 16 * 2 * 2);
}

static void test_round_trip_v4(void **state)
{
    (void)state;
    round_trips(false);
}

static void test_round_trip_v6(void **state)
{
    (void)state;
    round_trips(true);
}

/* MSS below the smallest entry, absent, or huge; all round down safely. */
static void test_mss_rounding(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, false, 0);
    const uint16_t in[] = {100, 0, 1459, 9000, 65535};
    const uint16_t want[] = {216, 536, 1452, 8940, 8940};
    for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
        struct syncookie_params p = {.mss = in[i], .peer_wscale = SYNCOOKIE_NO_WSCALE}, d;
        uint32_t iss, tsval;
        syncookie_generate(&f.st, &f.r, 0, &f.t, 7, &p, &iss, &tsval);
        assert_int_equal(syncookie_check(&f.st, &f.r, 0, &f.t, 7, iss, false, 0, &d), 0);
        assert_int_equal(d.mss, want[i]);
    }
}

/* A cookie lives through its own 15-second period and the next; the second
 * rotation after it was made retires its secret. */
static void test_expiry_after_two_rotations(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, false, 1 * SEC);
    struct syncookie_params p = {.mss = 1460, .peer_wscale = 7, .our_wscale = 6, .ts = true}, d;
    uint32_t iss, tsval;
    /* Made late in period 0: valid through period 1, gone in period 2. */
    syncookie_generate(&f.st, &f.r, 14 * SEC, &f.t, 1, &p, &iss, &tsval);
    assert_int_equal(syncookie_check(&f.st, &f.r, 14 * SEC, &f.t, 1, iss, true, tsval, &d), 0);
    assert_int_equal(syncookie_check(&f.st, &f.r, 15 * SEC, &f.t, 1, iss, true, tsval, &d), 0);
    assert_int_equal(syncookie_check(&f.st, &f.r, 30 * SEC - 1, &f.t, 1, iss, true, tsval, &d), 0);
    assert_int_not_equal(syncookie_check(&f.st, &f.r, 30 * SEC, &f.t, 1, iss, true, tsval, &d), 0);

    /* A clock that jumps two periods at once retires it too. */
    fx_init(&f, false, 1 * SEC);
    syncookie_generate(&f.st, &f.r, 1 * SEC, &f.t, 1, &p, &iss, &tsval);
    assert_int_not_equal(syncookie_check(&f.st, &f.r, 31 * SEC, &f.t, 1, iss, true, tsval, &d), 0);
}

static void forgeries(bool v6)
{
    struct fx f;
    fx_init(&f, v6, 0);
    struct syncookie_params p = {.mss = 1460, .peer_wscale = 7, .our_wscale = 6, .sack = true}, d;
    for (unsigned ts = 0; ts < 2; ts++) {
        p.ts = ts;
        uint32_t irs = 123456789, iss, tsval;
        syncookie_generate(&f.st, &f.r, 0, &f.t, irs, &p, &iss, &tsval);
        assert_int_equal(syncookie_check(&f.st, &f.r, 0, &f.t, irs, iss, ts, tsval, &d), 0);
        for (unsigned bit = 0; bit < 32; bit++) {
            uint32_t m = 1u << bit;
            assert_int_equal(syncookie_check(&f.st, &f.r, 0, &f.t, irs, iss ^ m, ts, tsval, &d),
                             -EBADMSG);
            assert_int_equal(syncookie_check(&f.st, &f.r, 0, &f.t, irs ^ m, iss, ts, tsval, &d),
                             -EBADMSG);
            if (ts)
                assert_int_equal(
                    syncookie_check(&f.st, &f.r, 0, &f.t, irs, iss, true, tsval ^ m, &d), -EBADMSG);
        }
        /* A timestamp added to, or stripped from, the handshake. */
        assert_int_equal(syncookie_check(&f.st, &f.r, 0, &f.t, irs, iss, !ts, tsval, &d), -EBADMSG);
        /* Another 4-tuple. */
        struct syncookie_tuple other = f.t;
        other.fport++;
        assert_int_equal(syncookie_check(&f.st, &f.r, 0, &other, irs, iss, ts, tsval, &d),
                         -EBADMSG);
        struct tcpc_addr a = f.faddr;
        a.bytes[15] ^= 1;
        other = f.t;
        other.faddr = &a;
        assert_int_equal(syncookie_check(&f.st, &f.r, 0, &other, irs, iss, ts, tsval, &d),
                         -EBADMSG);
        /* An RFC 2385 signature added to, or stripped from, the handshake:
         * the requirement is bound into the digest. */
        other = f.t;
        other.sig = !f.t.sig;
        assert_int_equal(syncookie_check(&f.st, &f.r, 0, &other, irs, iss, ts, tsval, &d),
                         -EBADMSG);
    }
}

/* A cookie for a signed SYN completes from a signed ACK only. */
static void test_signed_cookie(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f, false, 0);
    f.t.sig = true;
    struct syncookie_params p = {.mss = 1460, .peer_wscale = 7, .our_wscale = 6, .sack = true};
    uint32_t iss, tsval;
    syncookie_generate(&f.st, &f.r, 0, &f.t, 1000, &p, &iss, &tsval);
    struct syncookie_params d;
    assert_int_equal(syncookie_check(&f.st, &f.r, 0, &f.t, 1000, iss, false, 0, &d), 0);
    f.t.sig = false;
    assert_int_equal(syncookie_check(&f.st, &f.r, 0, &f.t, 1000, iss, false, 0, &d), -EBADMSG);
}

static void test_forged_v4(void **state)
{
    (void)state;
    forgeries(false);
}

static void test_forged_v6(void **state)
{
    (void)state;
    forgeries(true);
}

/* Two stacks (different secrets) do not accept each other's cookies. */
static void test_secrets_are_per_instance(void **state)
{
    (void)state;
    struct fx a, b;
    fx_init(&a, false, 0);
    fx_init(&b, false, 0);
    uint8_t seed[32];
    memset(seed, 0x43, sizeof(seed));
    rand_init(&b.r, seed);
    syncookie_init(&b.st, &b.r, 0);
    struct syncookie_params p = {.mss = 1460, .peer_wscale = SYNCOOKIE_NO_WSCALE}, d;
    uint32_t iss, tsval;
    syncookie_generate(&a.st, &a.r, 0, &a.t, 5, &p, &iss, &tsval);
    assert_int_equal(syncookie_check(&a.st, &a.r, 0, &a.t, 5, iss, false, 0, &d), 0);
    assert_int_equal(syncookie_check(&b.st, &b.r, 0, &b.t, 5, iss, false, 0, &d), -EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_v4), cmocka_unit_test(test_round_trip_v6),
        cmocka_unit_test(test_mss_rounding),  cmocka_unit_test(test_expiry_after_two_rotations),
        cmocka_unit_test(test_forged_v4),     cmocka_unit_test(test_forged_v6),
        cmocka_unit_test(test_signed_cookie), cmocka_unit_test(test_secrets_are_per_instance),
    };
    return cmocka_run_group_tests_name("syncookie", tests, NULL, NULL);
}
