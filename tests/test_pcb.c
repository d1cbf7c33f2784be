/*
 * Tests for the PCB layer's tables and lifetime (src/pcb): the hash is
 * SipHash-2-4, the exact table survives overfull buckets, lookups follow
 * FreeBSD's precedence for IPv4, IPv6 and mapped traffic, LB groups spread
 * flows, references and INP_FREED keep a racing holder off a dead PCB, a
 * closed PCB keeps its 4-tuple in the listing, and the hook for other
 * entry kinds (TIME_WAIT) works. A full table, a taken 4-tuple and a flow
 * hash that changed under its entries are errors that leave the tables
 * consistent (this file also runs against a core built with NDEBUG). The
 * bind matrix is in test_pcb_bind.c, port selection in test_pcb_port.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "pcb/pcb_hash.h"
#include "test_pcb_fixture.h"
#include "util/hash.h"

static void test_hash_is_siphash(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct hash_key k;
    memcpy(k.k, fx->info.hash_key, sizeof(k.k));
    struct pcb_tuple v4 = T("198.51.100.7", 40000, "192.0.2.1", 443);
    uint8_t msg[12];
    pcb_hash_v4msg(&v4, msg);
    assert_int_equal(pcb_hash(&fx->info, &v4), hash_siphash(&k, msg, sizeof(msg)));
    struct pcb_tuple v6 = T("2001:db8:ff::7", 40000, "2001:db8::1", 443);
    assert_int_equal(pcb_hash(&fx->info, &v6), hash_siphash(&k, &v6, sizeof(v6)));
    /* Mixed (a v6 socket's mapped peer with a v6 local): the 36-byte shape. */
    struct pcb_tuple mixed = T("198.51.100.7", 1, "2001:db8::1", 2);
    assert_int_equal(pcb_hash(&fx->info, &mixed), hash_siphash(&k, &mixed, sizeof(mixed)));
    fx_del(fx);
}

static void test_keys_differ_per_instance(void **state)
{
    (void)state;
    struct fixture *a = fx_new_sized(16, 49152, 65535, 1);
    struct fixture *b = fx_new_sized(16, 49152, 65535, 2);
    struct pcb_tuple t = T("198.51.100.7", 40000, "192.0.2.1", 443);
    assert_true(pcb_hash(&a->info, &t) != pcb_hash(&b->info, &t));
    fx_del(a);
    fx_del(b);
}

static void test_pool_bound(void **state)
{
    (void)state;
    struct fixture *fx = fx_new_sized(4, 49152, 65535, 7);
    struct inpcb *p[4], *extra;
    for (int i = 0; i < 4; i++)
        assert_int_equal(pcb_alloc(&fx->info, false, NULL, &p[i]), 0);
    assert_int_equal(pcb_alloc(&fx->info, false, NULL, &extra), -ENOBUFS);
    pcb_free(&fx->info, p[2]);
    assert_int_equal(pcb_alloc(&fx->info, true, NULL, &extra), 0);
    assert_ptr_equal(extra, p[2]); /* recycled */
    assert_true(extra->flags & INP_IPV6PROTO);
    assert_int_equal(extra->refcount, 1);
    fx_del(fx);
}

/* Every hash the same: all entries share one home bucket, so most spill
 * along the following ones; hits, misses and removal must still work. */
static uint32_t const_hash(void *ctx, const struct pcb_tuple *t)
{
    (void)ctx;
    (void)t;
    return 5;
}

static struct pcb_tuple nth_tuple(unsigned i)
{
    struct pcb_tuple t = T("198.51.100.0", 0, "192.0.2.1", 80);
    t.faddr.bytes[15] = (uint8_t)i;
    t.fport = (uint16_t)(1000 + i);
    return t;
}

static void check_table(struct fixture *fx, struct inpcb **in, unsigned n, const bool *live)
{
    struct pcb_tuple keys[PCB_BURST_MAX];
    uint32_t refs[PCB_BURST_MAX];
    for (unsigned i = 0; i < n; i++) {
        struct pcb_tuple t = nth_tuple(i);
        uint32_t ref = pcb_lookup_exact(&fx->info, &t, pcb_hash(&fx->info, &t));
        assert_true(live[i] ? pcb_from_ref(&fx->info, ref) == in[i] : ref == PCB_REF_NONE);
        keys[i % PCB_BURST_MAX] = t;
        if (i % PCB_BURST_MAX == PCB_BURST_MAX - 1 || i == n - 1) {
            unsigned m = i % PCB_BURST_MAX + 1;
            pcb_lookup_burst(&fx->info, keys, m, NULL, refs);
            for (unsigned j = 0; j < m; j++) {
                unsigned k = i - (m - 1) + j;
                assert_true(live[k] ? pcb_from_ref(&fx->info, refs[j]) == in[k]
                                    : refs[j] == PCB_REF_NONE);
            }
        }
    }
}

static void test_table_spill(void **state)
{
    (void)state;
    enum { N = 100 };
    struct fixture *fx = fx_new_sized(N, 49152, 65535, 7);
    assert_int_equal(pcb_set_flow_hash(&fx->info, const_hash, NULL), 0);
    struct inpcb *in[N];
    bool live[N];
    for (unsigned i = 0; i < N; i++) {
        in[i] = fx_sock(fx, F4);
        struct pcb_tuple t = nth_tuple(i);
        assert_int_equal(pcb_insert_connected(&fx->info, in[i], &t), 0);
        live[i] = true;
    }
    assert_int_equal(pcb_set_flow_hash(&fx->info, NULL, NULL), -EBUSY);
    assert_true(fx->info.buckets[pcb_hash_rss(5) & fx->info.bucket_mask].spill > 0);
    check_table(fx, in, N, live);
    for (unsigned i = 0; i < N; i += 3) {
        pcb_remove(&fx->info, in[i]);
        live[i] = false;
    }
    check_table(fx, in, N, live);
    for (unsigned i = 0; i < N; i++)
        pcb_remove(&fx->info, in[i]);
    for (uint32_t b = 0; b <= fx->info.bucket_mask; b++)
        assert_int_equal(fx->info.buckets[b].spill, 0);
    assert_int_equal(fx->info.exact_count, 0);
    fx_del(fx);
}

/* Random insert/remove against a model, on the real hash and a tiny table. */
static void test_table_churn(void **state)
{
    (void)state;
    enum { N = 96 };
    struct fixture *fx = fx_new_sized(N, 49152, 65535, 9);
    struct inpcb *in[N];
    bool live[N] = {false};
    for (unsigned i = 0; i < N; i++)
        in[i] = fx_sock(fx, F4);
    for (unsigned step = 0; step < 5000; step++) {
        unsigned i = rand_uniform(&fx->rnd, N);
        if (live[i]) {
            pcb_remove(&fx->info, in[i]);
            in[i]->flags &= ~INP_CONNECTED;
            in[i]->lport = 0;
        } else {
            struct pcb_tuple t = nth_tuple(i);
            assert_int_equal(pcb_insert_connected(&fx->info, in[i], &t), 0);
        }
        live[i] = !live[i];
        if (step % 500 == 0)
            check_table(fx, in, N, live);
    }
    check_table(fx, in, N, live);
    fx_del(fx);
}

static void test_precomputed_hash(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    assert_int_equal(pcb_set_flow_hash(&fx->info, const_hash, NULL), 0);
    struct inpcb *c = fx_sock(fx, F4);
    struct tcpc_addr f = A("198.51.100.1"), l = A("192.0.2.1");
    assert_int_equal(pcb_connect(&fx->info, c, &f, 80, &l), 0);
    /* The NIC's hash (the same function) handed in, as in_pcblookup_mbuf. */
    struct inpcb *found = pcb_lookup(&fx->info, &c->faddr, c->fport, &c->laddr, c->lport,
                                     PCB_LOOKUP_HASH, pcb_hash_rss(5));
    assert_ptr_equal(found, c);
    fx_del(fx);
}

static struct inpcb *listener(struct fixture *fx, enum fam f, const char *addr, uint16_t port,
                              uint32_t opts)
{
    struct inpcb *inp = fx_sock(fx, f);
    if (opts)
        assert_int_equal(pcb_setopt(inp, opts, true), 0);
    struct tcpc_addr a = A(addr);
    assert_int_equal(pcb_bind(&fx->info, inp, &a, port), 0);
    assert_int_equal(pcb_listen(&fx->info, inp), 0);
    return inp;
}

/* IPv4: exact beats specific beats 0.0.0.0 beats a dual-stack ::. */
static void test_lookup_v4_precedence(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct inpcb *dual = listener(fx, F6, "::", 80, INP_REUSEADDR);
    struct inpcb *wild = listener(fx, F4, "0.0.0.0", 80, INP_REUSEADDR);
    struct inpcb *spec = listener(fx, F4, "192.0.2.1", 80, INP_REUSEADDR);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.1", 80), spec);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.2", 80), wild);
    assert_null(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.2", 81));
    /* An established connection beats every listener. */
    struct inpcb *conn = fx_sock(fx, F4);
    struct pcb_tuple t = T("198.51.100.1", 5000, "192.0.2.1", 80);
    assert_int_equal(pcb_insert_connected(&fx->info, conn, &t), 0);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.1", 80), conn);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 5001, "192.0.2.1", 80), spec);
    /* Without the wildcard flag only the exact table answers. */
    struct tcpc_addr f = A("198.51.100.1"), l = A("192.0.2.1");
    assert_null(pcb_lookup(&fx->info, &f, 5001, &l, 80, 0, 0));
    pcb_free(&fx->info, wild);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.2", 80), dual);
    pcb_free(&fx->info, dual);
    assert_null(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.2", 80));
    fx_del(fx);
}

/* IPv6: specific beats ::; a V6ONLY :: takes no IPv4; a dual :: does. */
static void test_lookup_v6_and_mapped(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct inpcb *v6only = listener(fx, F6ONLY, "::", 443, 0);
    struct inpcb *spec = listener(fx, F6, "2001:db8::1", 443, INP_REUSEADDR);
    assert_ptr_equal(fx_lookup(fx, "2001:db8:ff::9", 7000, "2001:db8::1", 443), spec);
    assert_ptr_equal(fx_lookup(fx, "2001:db8:ff::9", 7000, "2001:db8::2", 443), v6only);
    assert_null(fx_lookup(fx, "198.51.100.1", 7000, "192.0.2.1", 443));

    struct inpcb *dual = listener(fx, F6, "::", 8443, 0);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 7000, "192.0.2.1", 8443), dual);
    assert_ptr_equal(fx_lookup(fx, "2001:db8:ff::9", 7000, "2001:db8::2", 8443), dual);

    /* A v6 socket bound to a mapped address takes that IPv4 traffic only. */
    struct inpcb *mapped = listener(fx, F6, "::ffff:192.0.2.2", 9000, 0);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 7000, "192.0.2.2", 9000), mapped);
    assert_null(fx_lookup(fx, "198.51.100.1", 7000, "192.0.2.1", 9000));
    assert_null(fx_lookup(fx, "2001:db8:ff::9", 7000, "2001:db8::2", 9000));

    /* IPv4 wildcard listener is ::ffff:0.0.0.0 and takes no IPv6. */
    struct inpcb *w4 = listener(fx, F4, "0.0.0.0", 9100, 0);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 7000, "192.0.2.1", 9100), w4);
    assert_null(fx_lookup(fx, "2001:db8:ff::9", 7000, "2001:db8::2", 9100));
    fx_del(fx);
}

/* A listener beats a bound, non-listening socket on the same address. */
static void test_lookup_prefers_listener(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct inpcb *bound = fx_sock(fx, F4);
    assert_int_equal(pcb_setopt(bound, INP_REUSEPORT, true), 0);
    struct tcpc_addr a = A("192.0.2.1");
    assert_int_equal(pcb_bind(&fx->info, bound, &a, 80), 0);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 1, "192.0.2.1", 80), bound);
    struct inpcb *lst = listener(fx, F4, "192.0.2.1", 80, INP_REUSEPORT);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 1, "192.0.2.1", 80), lst);
    fx_del(fx);
}

/*
 * A small pool has fewer port-chain heads than ports (16 for 16 PCBs), so
 * ports 80, 96, 112 and 128 share one chain: each bind, lookup, conflict
 * check and load-balance group still sees only its own port.
 */
static void test_ports_sharing_a_chain_head(void **state)
{
    (void)state;
    struct fixture *fx = fx_new_sized(16, 49152, 65535, 7);
    struct inpcb *l80 = listener(fx, F4, "192.0.2.1", 80, 0);
    struct inpcb *l96 = listener(fx, F4, "0.0.0.0", 96, 0);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.1", 80), l80);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.1", 96), l96);
    assert_null(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.1", 112));
    /* A connection on 112 shares the connection chain's head with nothing
     * bound there, and blocks neither 80's nor 96's binders. */
    struct inpcb *conn = fx_sock(fx, F4);
    struct pcb_tuple t = T("198.51.100.1", 5000, "192.0.2.2", 112);
    assert_int_equal(pcb_insert_connected(&fx->info, conn, &t), 0);
    struct tcpc_addr a = A("192.0.2.2");
    assert_int_equal(pcb_bind(&fx->info, fx_sock(fx, F4), &a, 80), 0);
    assert_int_equal(pcb_bind(&fx->info, fx_sock(fx, F4), &a, 112), -EADDRINUSE);
    assert_int_equal(pcb_bind(&fx->info, fx_sock(fx, F4), &a, 96), -EADDRINUSE);
    /* Removing one port's PCB leaves the others on the shared chain. */
    pcb_free(&fx->info, l80);
    assert_null(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.1", 80));
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.1", 96), l96);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 5000, "192.0.2.2", 112), conn);
    /* SO_REUSEPORT_LB groups are found on the shared chain too: a listener
     * on 128 starts its own group rather than joining 112's. */
    struct inpcb *g112a = listener(fx, F4, "192.0.2.1", 112, INP_REUSEPORT_LB);
    struct inpcb *g112b = listener(fx, F4, "192.0.2.1", 112, INP_REUSEPORT_LB);
    struct inpcb *g128 = listener(fx, F4, "192.0.2.1", 128, INP_REUSEPORT_LB);
    for (uint16_t fport = 1; fport < 64; fport++) {
        assert_ptr_equal(fx_lookup(fx, "198.51.100.1", fport, "192.0.2.1", 128), g128);
        struct inpcb *got = fx_lookup(fx, "198.51.100.1", fport, "192.0.2.1", 112);
        assert_true(got == g112a || got == g112b);
    }
    fx_del(fx);
}

static void test_lbgroup(void **state)
{
    (void)state;
    enum { M = 4 };
    struct fixture *fx = fx_new();
    struct inpcb *m[M];
    for (int i = 0; i < M; i++)
        m[i] = listener(fx, F4, "0.0.0.0", 80, INP_REUSEPORT_LB);
    unsigned hits[M] = {0};
    for (unsigned i = 0; i < 4000; i++) {
        struct pcb_tuple t = T("198.51.100.1", (uint16_t)(1024 + i), "192.0.2.1", 80);
        struct inpcb *got =
            pcb_lookup(&fx->info, &t.faddr, t.fport, &t.laddr, t.lport, PCB_LOOKUP_WILDCARD, 0);
        /* The same flow always lands on the same member. */
        assert_ptr_equal(got, pcb_lookup(&fx->info, &t.faddr, t.fport, &t.laddr, t.lport,
                                         PCB_LOOKUP_WILDCARD, 0));
        for (int j = 0; j < M; j++)
            hits[j] += got == m[j];
    }
    for (int j = 0; j < M; j++)
        assert_true(hits[j] > 800 && hits[j] < 1200);
    /* A specific-address listener still beats the wildcard group. */
    struct inpcb *spec = listener(fx, F4, "192.0.2.1", 80, INP_REUSEADDR);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 1, "192.0.2.1", 80), spec);
    /* Members leave on close; the last one takes the group with it. */
    for (int j = 0; j < M; j++)
        pcb_free(&fx->info, m[j]);
    assert_int_equal(fx->info.nlbgroups, 0);
    assert_null(fx_lookup(fx, "198.51.100.1", 1, "192.0.2.2", 80));
    fx_del(fx);
}

/* Each member names its group, so a lookup reaches the group without a
 * search. Three groups on three ports; the first one to empty leaves a hole
 * the last group moves into, and that group's members must follow: lookups
 * on every port still spread over exactly their own group's members. */
static void test_lbgroup_reached_from_member(void **state)
{
    (void)state;
    enum { G = 3, M = 3 };
    struct fixture *fx = fx_new();
    struct inpcb *m[G][M];
    for (int g = 0; g < G; g++)
        for (int i = 0; i < M; i++)
            m[g][i] = listener(fx, F4, "0.0.0.0", (uint16_t)(80 + g), INP_REUSEPORT_LB);
    assert_int_equal(fx->info.nlbgroups, G);
    for (int g = 0; g < G; g++)
        for (int i = 0; i < M; i++)
            assert_int_equal(m[g][i]->lbgroup, m[g][0]->lbgroup);
    for (int i = 0; i < M; i++)
        pcb_free(&fx->info, m[0][i]);
    assert_int_equal(fx->info.nlbgroups, G - 1);
    for (int g = 1; g < G; g++) {
        const struct pcb_lbgroup *grp = &fx->info.lbgroups[m[g][0]->lbgroup];
        assert_int_equal(grp->lport, 80 + g);
        assert_int_equal(grp->count, M);
        unsigned hits[M] = {0};
        for (unsigned k = 0; k < 3000; k++) {
            struct inpcb *got = fx_lookup(fx, "198.51.100.1", (uint16_t)(1024 + k), "192.0.2.1",
                                          (uint16_t)(80 + g));
            int found = -1;
            for (int i = 0; i < M; i++)
                if (got == m[g][i])
                    found = i;
            assert_true(found >= 0);
            hits[found]++;
        }
        for (int i = 0; i < M; i++)
            assert_true(hits[i] > 800 && hits[i] < 1200);
    }
    assert_null(fx_lookup(fx, "198.51.100.1", 1, "192.0.2.1", 80));
    fx_del(fx);
}

/* FreeBSD's INP_FREED story: two readers hold references, the owner frees;
 * the first reader to come back is told the PCB is dead although its
 * reference was not the last. */
static void test_freed_with_references(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct inpcb *lst = listener(fx, F4, "192.0.2.1", 80, 0);
    struct tcpc_addr f = A("198.51.100.1"), l = A("192.0.2.1");
    struct inpcb *r1 =
        pcb_lookup(&fx->info, &f, 1, &l, 80, PCB_LOOKUP_WILDCARD | PCB_LOOKUP_REF, 0);
    struct inpcb *r2 =
        pcb_lookup(&fx->info, &f, 2, &l, 80, PCB_LOOKUP_WILDCARD | PCB_LOOKUP_REF, 0);
    assert_ptr_equal(r1, lst);
    assert_ptr_equal(r2, lst);
    assert_int_equal(lst->refcount, 3);
    uint32_t before = fx->info.count;
    pcb_free(&fx->info, lst);
    assert_true(lst->flags & INP_FREED);
    assert_null(pcb_lookup(&fx->info, &f, 3, &l, 80, PCB_LOOKUP_WILDCARD | PCB_LOOKUP_REF, 0));
    assert_int_equal(fx->info.count, before); /* memory still held */
    assert_true(pcb_rele(&fx->info, r1));     /* not last, but freed */
    assert_int_equal(fx->info.count, before);
    assert_true(pcb_rele(&fx->info, r2)); /* last: recycled */
    assert_int_equal(fx->info.count, before - 1);
    fx_del(fx);
}

static void test_rele_without_free(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct inpcb *inp = fx_sock(fx, F4);
    pcb_ref(inp);
    assert_false(pcb_rele(&fx->info, inp));
    assert_int_equal(inp->refcount, 1);
    pcb_free(&fx->info, inp);
    assert_int_equal(fx->info.count, 0);
    fx_del(fx);
}

struct listing {
    unsigned n;
    struct pcb_tuple seen[8];
    uint32_t flags[8];
};

static int collect(void *ctx, const struct inpcb *inp)
{
    struct listing *l = ctx;
    l->seen[l->n] = inp->tuple;
    l->flags[l->n++] = inp->flags;
    return 0;
}

/* After close (removed from the tables, socket not yet gone) the listing
 * still shows the full 4-tuple; INP_INHASHLIST says it is out. */
static void test_listing_keeps_tuple(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct inpcb *c = fx_sock(fx, F4);
    struct tcpc_addr f = A("198.51.100.1"), l = A("192.0.2.1");
    assert_int_equal(pcb_connect(&fx->info, c, &f, 80, &l), 0);
    struct pcb_tuple t = c->tuple;
    pcb_remove(&fx->info, c);
    assert_null(pcb_lookup(&fx->info, &f, 80, &l, t.lport, 0, 0));
    struct listing out = {0};
    assert_int_equal(pcb_foreach(&fx->info, collect, &out), 0);
    assert_int_equal(out.n, 1);
    assert_memory_equal(&out.seen[0], &t, sizeof(t));
    assert_false(out.flags[0] & INP_INHASHLIST);
    assert_true(t.lport != 0);
    /* Removed is not unbound: no second bind, listen or connect. */
    assert_int_equal(pcb_bind(&fx->info, c, &l, 0), -EINVAL);
    assert_int_equal(pcb_listen(&fx->info, c), -EINVAL);
    pcb_free(&fx->info, c);
    out.n = 0;
    assert_int_equal(pcb_foreach(&fx->info, collect, &out), 0);
    assert_int_equal(out.n, 0);
    fx_del(fx);
}

/* A stand-in for the TIME_WAIT module: records held in its own array,
 * found through the exact table by the kind hook. */
struct fake_tw {
    struct pcb_tuple rec[4];
    bool allow_takeover;
    unsigned takeovers;
    struct pcbinfo *info;
};

static bool tw_match(void *ctx, uint32_t idx, const struct pcb_tuple *t)
{
    struct fake_tw *tw = ctx;
    return memcmp(&tw->rec[idx], t, sizeof(*t)) == 0;
}

static bool tw_takeover(void *ctx, uint32_t idx)
{
    struct fake_tw *tw = ctx;
    if (!tw->allow_takeover)
        return false;
    tw->takeovers++;
    return pcb_exact_remove(tw->info, pcb_hash(tw->info, &tw->rec[idx]),
                            PCB_REF(PCB_KIND_TIMEWAIT, idx)) == 0;
}

static bool tw_port_busy(void *ctx, const struct tcpc_addr *laddr, uint16_t lport)
{
    struct fake_tw *tw = ctx;
    (void)laddr;
    return lport == tw->rec[0].lport;
}

static void test_timewait_kind_hook(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct fake_tw tw = {.info = &fx->info};
    tw.rec[0] = T("198.51.100.1", 80, "192.0.2.1", 50000);
    struct pcb_kind_ops ops = {
        .match = tw_match, .takeover = tw_takeover, .port_busy = tw_port_busy, .ctx = &tw};
    assert_int_equal(pcb_register_kind(&fx->info, PCB_KIND_INPCB, &ops), -EINVAL);
    assert_int_equal(pcb_register_kind(&fx->info, PCB_KIND_TIMEWAIT, &ops), 0);
    uint64_t h = pcb_hash(&fx->info, &tw.rec[0]);
    assert_int_equal(pcb_exact_insert(&fx->info, h, PCB_REF(PCB_KIND_TIMEWAIT, 0)), 0);

    /* Found by the same exact lookup, as its own kind. */
    uint32_t ref = pcb_lookup_ref(&fx->info, &tw.rec[0], PCB_LOOKUP_WILDCARD, 0);
    assert_int_equal(ref, PCB_REF(PCB_KIND_TIMEWAIT, 0));
    assert_null(pcb_lookup(&fx->info, &tw.rec[0].faddr, 80, &tw.rec[0].laddr, 50000, 0, 0));

    /* bind: blocked without SO_REUSEADDR, not with it. */
    struct inpcb *s1 = fx_sock(fx, F4);
    assert_int_equal(pcb_bind(&fx->info, s1, &tw.rec[0].laddr, 50000), -EADDRINUSE);
    assert_int_equal(pcb_setopt(s1, INP_REUSEADDR, true), 0);
    assert_int_equal(pcb_bind(&fx->info, s1, &tw.rec[0].laddr, 50000), 0);

    /* connect onto the TIME_WAIT 4-tuple: refused, then taken over. */
    assert_int_equal(pcb_connect(&fx->info, s1, &tw.rec[0].faddr, 80, NULL), -EADDRINUSE);
    tw.allow_takeover = true;
    assert_int_equal(pcb_connect(&fx->info, s1, &tw.rec[0].faddr, 80, NULL), 0);
    assert_int_equal(tw.takeovers, 1);
    assert_ptr_equal(pcb_lookup(&fx->info, &tw.rec[0].faddr, 80, &tw.rec[0].laddr, 50000, 0, 0),
                     s1);
    fx_del(fx);
}

/* A kind whose records never match: filler for the exact table. */
static bool never_match(void *ctx, uint32_t idx, const struct pcb_tuple *t)
{
    (void)ctx;
    (void)idx;
    (void)t;
    return false;
}

/*
 * A full exact table (it cannot fill while sized for every kind's pool, but
 * a failed insert must still be an error, not an assert): connect and the
 * insertion of an accepted connection return -ENOBUFS and leave the socket
 * exactly as it was, bound or not, and work once there is room.
 */
static void test_full_table_refuses_cleanly(void **state)
{
    (void)state;
    struct fixture *fx = fx_new_sized(8, 49152, 65535, 7);
    struct pcb_kind_ops ops = {.match = never_match};
    assert_int_equal(pcb_register_kind(&fx->info, PCB_KIND_SYNCACHE, &ops), 0);
    uint32_t n = 0;
    while (pcb_exact_insert(&fx->info, pcb_hash_rss(n), PCB_REF(PCB_KIND_SYNCACHE, n)) == 0)
        n++;
    assert_int_equal(n, (fx->info.bucket_mask + 1) * PCB_BUCKET_SLOTS);

    struct tcpc_addr f = A("198.51.100.1"), l = A("192.0.2.1");
    struct inpcb *bound = fx_sock(fx, F4), *unbound = fx_sock(fx, F4), *child = fx_sock(fx, F4);
    assert_int_equal(pcb_bind(&fx->info, bound, &l, 5555), 0);
    assert_int_equal(pcb_connect(&fx->info, bound, &f, 80, NULL), -ENOBUFS);
    assert_int_equal(bound->lport, 5555);
    assert_int_equal(bound->flags & (INP_INHASHLIST | INP_CONNECTED), INP_INHASHLIST);
    assert_ptr_equal(fx_lookup(fx, "198.51.100.1", 80, "192.0.2.1", 5555), bound);
    assert_int_equal(pcb_connect(&fx->info, unbound, &f, 80, &l), -ENOBUFS);
    assert_int_equal(unbound->lport, 0);
    assert_false(unbound->flags & (INP_INHASHLIST | INP_CONNECTED));
    struct pcb_tuple t = T("198.51.100.2", 4000, "192.0.2.1", 80);
    assert_int_equal(pcb_insert_connected(&fx->info, child, &t), -ENOBUFS);
    assert_int_equal(child->lport, 0);
    assert_false(child->flags & (INP_INHASHLIST | INP_CONNECTED));
    assert_int_equal(fx->info.exact_count, n);

    /* Room for one: the bound socket connects and is found. */
    assert_int_equal(pcb_exact_remove(&fx->info, pcb_hash_rss(0), PCB_REF(PCB_KIND_SYNCACHE, 0)),
                     0);
    assert_int_equal(pcb_connect(&fx->info, bound, &f, 80, NULL), 0);
    assert_ptr_equal(pcb_lookup(&fx->info, &f, 80, &l, 5555, 0, 0), bound);
    assert_null(fx_lookup(fx, "198.51.100.9", 80, "192.0.2.1", 5555));
    fx_del(fx);
}

/* A 4-tuple is in the exact table at most once, whatever kind holds it. */
static void test_tuple_indexed_once(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    struct fake_tw tw = {.info = &fx->info};
    tw.rec[0] = T("198.51.100.1", 80, "192.0.2.1", 50000);
    struct pcb_kind_ops ops = {.match = tw_match, .ctx = &tw};
    assert_int_equal(pcb_register_kind(&fx->info, PCB_KIND_TIMEWAIT, &ops), 0);
    uint32_t ref = PCB_REF(PCB_KIND_TIMEWAIT, 0);
    assert_int_equal(pcb_ref_insert(&fx->info, &tw.rec[0], ref), 0);
    assert_int_equal(pcb_ref_insert(&fx->info, &tw.rec[0], ref), -EADDRINUSE);
    struct inpcb *c = fx_sock(fx, F4);
    assert_int_equal(pcb_insert_connected(&fx->info, c, &tw.rec[0]), -EADDRINUSE);
    assert_int_equal(fx->info.exact_count, 1);
    assert_int_equal(pcb_ref_remove(&fx->info, &tw.rec[0], ref), 0);
    assert_int_equal(pcb_ref_remove(&fx->info, &tw.rec[0], ref), -ENOENT);
    assert_int_equal(pcb_insert_connected(&fx->info, c, &tw.rec[0]), 0);
    assert_int_equal(pcb_ref_insert(&fx->info, &tw.rec[0], ref), -EADDRINUSE);
    fx_del(fx);
}

/* A flow hash function that gives other values than when its entries went
 * in (an embedder re-keying its NIC hash under live connections). */
static uint32_t keyed_hash(void *ctx, const struct pcb_tuple *t)
{
    const uint32_t *key = ctx;
    return (uint32_t)(t->fport * 2654435761u) ^ t->lport ^ *key;
}

/*
 * Removal cannot find such an entry under its hash any more. It must still
 * take it out (a scan of the whole table, counted for the embedder), so
 * that no reference to a recycled PCB stays behind, and touch nothing else.
 */
static void test_removal_survives_changed_flow_hash(void **state)
{
    (void)state;
    struct fixture *fx = fx_new();
    uint64_t strays = 0;
    fx->info.stray_removes = &strays;
    uint32_t key = 0;
    assert_int_equal(pcb_set_flow_hash(&fx->info, keyed_hash, &key), 0);
    struct tcpc_addr f = A("198.51.100.1"), l = A("192.0.2.1");
    struct inpcb *a = fx_sock(fx, F4), *b = fx_sock(fx, F4);
    assert_int_equal(pcb_connect(&fx->info, a, &f, 80, &l), 0);
    assert_int_equal(pcb_connect(&fx->info, b, &f, 81, &l), 0);
    struct pcb_tuple ta = a->tuple;

    key = 0x12345678;
    pcb_free(&fx->info, a);
    assert_int_equal(strays, 1);
    assert_int_equal(fx->info.exact_count, 1);

    key = 0;
    assert_int_equal(pcb_lookup_exact(&fx->info, &ta, pcb_hash(&fx->info, &ta)), PCB_REF_NONE);
    assert_ptr_equal(pcb_lookup(&fx->info, &f, 81, &l, b->lport, 0, 0), b);
    /* The slot a had is reused for the same 4-tuple without a stale twin. */
    struct inpcb *again = fx_sock(fx, F4);
    assert_int_equal(pcb_insert_connected(&fx->info, again, &ta), 0);
    assert_ptr_equal(pcb_lookup(&fx->info, &ta.faddr, ta.fport, &ta.laddr, ta.lport, 0, 0), again);
    pcb_free(&fx->info, again);
    pcb_free(&fx->info, b);
    assert_int_equal(strays, 1);
    assert_int_equal(fx->info.exact_count, 0);
    fx_del(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_is_siphash),
        cmocka_unit_test(test_keys_differ_per_instance),
        cmocka_unit_test(test_pool_bound),
        cmocka_unit_test(test_table_spill),
        cmocka_unit_test(test_table_churn),
        cmocka_unit_test(test_precomputed_hash),
        cmocka_unit_test(test_lookup_v4_precedence),
        cmocka_unit_test(test_lookup_v6_and_mapped),
        cmocka_unit_test(test_lookup_prefers_listener),
        cmocka_unit_test(test_ports_sharing_a_chain_head),
        cmocka_unit_test(test_lbgroup),
        cmocka_unit_test(test_lbgroup_reached_from_member),
        cmocka_unit_test(test_freed_with_references),
        cmocka_unit_test(test_rele_without_free),
        cmocka_unit_test(test_listing_keeps_tuple),
        cmocka_unit_test(test_timewait_kind_hook),
        cmocka_unit_test(test_full_table_refuses_cleanly),
        cmocka_unit_test(test_tuple_indexed_once),
        cmocka_unit_test(test_removal_survives_changed_flow_hash),
    };
    return cmocka_run_group_tests_name("pcb", tests, NULL, NULL);
}
