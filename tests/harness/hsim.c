/*
 * Whole transfers on the simulator; see hsim.h.
 *
 * The transfer is driven by the stacks' event callbacks, not by polling on
 * a fixed step: a socket is written when it turns writable and read when it
 * turns readable, at the virtual instant that happens, so that simulated
 * goodput measures the engine and not the test's loop. The bytes sent are a
 * ChaCha20 keystream from the seed (never periodic, so data delivered at
 * the wrong offset cannot hash right by accident), and each direction is
 * hashed with BLAKE2b (crypto_generichash) as it is sent and as it is read.
 */
#include "hsim.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define HSIM_PORT  5001
#define HSIM_CHUNK 65536u
#define HSIM_GEN   (4 * HSIM_CHUNK) /* keystream generated at a time */

struct hsim_ep {
    struct tcpc_stack *stack;
    int sd, lsd; /* lsd: the server's listener, else -1 */
    uint64_t total, sent, rcvd;
    bool shut, eof, busy, again;
    int err;
    tcpc_time_t done;
    crypto_generichash_state hs_sent, hs_rcvd;
    uint8_t key[crypto_stream_chacha20_KEYBYTES];
    uint64_t gen_base; /* stream offset of gen[0] */
    bool gen_valid;
    uint8_t gen[HSIM_GEN];
    uint8_t rbuf[HSIM_CHUNK];
};

struct hsim {
    struct tcpc_memlink *link;
    struct hsim_ep ep[2];
};

static const uint8_t hsim_zero[HSIM_GEN];

uint64_t hsim_seed(uint64_t dflt, const char *test)
{
    const char *env = getenv("TCPC_SIM_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : dflt;
    print_message("%s: seed 0x%016" PRIx64 " (replay: TCPC_SIM_SEED=0x%016" PRIx64
                  " TCPC_TEST_FILTER=%s <test program>)\n",
                  test, seed, seed, test);
    return seed;
}

void hsim_opts_init(struct hsim_opts *o, uint64_t seed)
{
    memset(o, 0, sizeof(*o));
    o->seed = seed;
    for (int i = 0; i < 2; i++)
        tcpc_memlink_faults_init(&o->path[i]);
}

/* The keystream from byte off on, at least want bytes of it, in e->gen. */
static const uint8_t *hsim_stream(struct hsim_ep *e, uint64_t off, size_t want)
{
    if (!e->gen_valid || off < e->gen_base || off + want > e->gen_base + HSIM_GEN) {
        e->gen_base = off & ~(uint64_t)63; /* ChaCha20 blocks are 64 bytes */
        crypto_stream_chacha20_xor_ic(e->gen, hsim_zero, HSIM_GEN, (const uint8_t *)"tcpcsim!",
                                      e->gen_base / 64, e->key);
        e->gen_valid = true;
    }
    return e->gen + (off - e->gen_base);
}

static void hsim_send(struct hsim_ep *e)
{
    while (e->sent < e->total) {
        uint64_t left = e->total - e->sent;
        size_t n = left < HSIM_CHUNK ? (size_t)left : HSIM_CHUNK;
        const uint8_t *p = hsim_stream(e, e->sent, n);
        ssize_t r = tcpc_send(e->stack, e->sd, p, n);
        if (r == -EAGAIN)
            return;
        if (r <= 0) {
            e->err = r < 0 ? (int)-r : EIO;
            return;
        }
        crypto_generichash_update(&e->hs_sent, p, (size_t)r);
        e->sent += (uint64_t)r;
    }
    if (!e->shut && tcpc_shutdown(e->stack, e->sd, TCPC_SHUT_WR) == 0)
        e->shut = true;
}

static void hsim_recv(struct hsim_ep *e)
{
    while (!e->eof) {
        ssize_t r = tcpc_recv(e->stack, e->sd, e->rbuf, sizeof(e->rbuf));
        if (r == -EAGAIN)
            return;
        if (r < 0) {
            e->err = (int)-r;
            return;
        }
        if (r == 0) {
            e->eof = true;
            e->done = tcpc_now(e->stack);
            return;
        }
        crypto_generichash_update(&e->hs_rcvd, e->rbuf, (size_t)r);
        e->rcvd += (uint64_t)r;
    }
}

/* Sends and reads what the socket allows now. The stack may fire events
 * from inside the calls made here; those are folded into another round
 * rather than handled recursively. */
static void hsim_pump(struct hsim_ep *e)
{
    if (e->busy) {
        e->again = true;
        return;
    }
    e->busy = true;
    do {
        e->again = false;
        if (e->sd < 0 || e->err)
            break;
        hsim_send(e);
        if (!e->err)
            hsim_recv(e);
    } while (e->again);
    e->busy = false;
}

static void hsim_event(void *ctx, int sd, uint32_t events)
{
    struct hsim_ep *e = ctx;
    if (sd == e->lsd && (events & TCPC_EV_ACCEPTABLE)) {
        if (e->sd < 0) {
            int a = tcpc_accept(e->stack, e->lsd, NULL, NULL);
            if (a >= 0)
                e->sd = a;
        }
        sd = e->sd;
    }
    if (sd == e->sd && sd >= 0)
        hsim_pump(e);
}

static void hsim_stack(struct hsim *s, const struct hsim_opts *o, int side)
{
    struct hsim_ep *e = &s->ep[side];
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    tcpc_memlink_configure(s->link, side, &cfg);
    const char *addr =
        o->v6 ? (side ? "2001:db8::2" : "2001:db8::1") : (side ? "198.18.0.2" : "198.18.0.1");
    assert_int_equal(tcpc_addr_parse(addr, &cfg.local_addrs[0]), 0);
    cfg.nlocal_addrs = 1;
    cfg.use_seed = true;
    /* Both stacks' secrets and the bytes each sends, all from the seed. */
    uint8_t ctx[8] = "hsimsta";
    ctx[7] = (uint8_t)('0' + side);
    uint8_t master[crypto_kdf_KEYBYTES] = {0};
    memcpy(master, &o->seed, sizeof(o->seed));
    crypto_kdf_derive_from_key(cfg.seed, sizeof(cfg.seed), 1, (const char *)ctx, master);
    crypto_kdf_derive_from_key(e->key, sizeof(e->key), 2, (const char *)ctx, master);
    h_apply_sysctls(&cfg, o->sysctls);
    assert_int_equal(tcpc_config_set_allocator(&cfg, o->alloc, o->release, o->alloc_ctx), 0);
    assert_int_equal(tcpc_stack_new(&cfg, 0, &e->stack), 0);
    tcpc_memlink_attach(s->link, side, e->stack);
    e->sd = e->lsd = -1;
    e->total = o->bytes[side];
    crypto_generichash_init(&e->hs_sent, NULL, 0, 32);
    crypto_generichash_init(&e->hs_rcvd, NULL, 0, 32);
    tcpc_set_event_cb(e->stack, hsim_event, e);
}

void hsim_run(const struct hsim_opts *o, struct hsim_result *r)
{
    assert_true(sodium_init() >= 0);
    memset(r, 0, sizeof(*r));
    /* The hash states want 64-byte alignment, which calloc does not give. */
    size_t sz = (sizeof(struct hsim) + 63) & ~(size_t)63;
    struct hsim *s = aligned_alloc(64, sz);
    assert_non_null(s);
    memset(s, 0, sz);
    s->link = tcpc_memlink_new(o->seed);
    assert_non_null(s->link);
    for (int i = 0; i < 2; i++) {
        const char *why = NULL;
        if (tcpc_memlink_set_path(s->link, i, &o->path[i], &why) != 0)
            fail_msg("seed 0x%016" PRIx64 ": side %d: %s", o->seed, i, why);
    }
    if (o->tap)
        tcpc_memlink_set_tap(s->link, o->tap, o->tap_ctx);
    else if (getenv("TCPC_SIM_TRACE"))
        tcpc_memlink_set_tap(s->link, tcpc_memlink_tap_print, stdout); /* every packet */
    hsim_stack(s, o, 0);
    hsim_stack(s, o, 1);
    struct hsim_ep *cl = &s->ep[0], *sv = &s->ep[1];

    int fam = o->v6 ? TCPC_AF_INET6 : TCPC_AF_INET;
    struct tcpc_addr server;
    assert_int_equal(tcpc_addr_parse(o->v6 ? "2001:db8::2" : "198.18.0.2", &server), 0);
    sv->lsd = tcpc_socket(sv->stack, fam);
    assert_true(sv->lsd >= 0);
    assert_int_equal(tcpc_bind(sv->stack, sv->lsd, NULL, HSIM_PORT), 0);
    if (o->sock_setup)
        o->sock_setup(sv->stack, sv->lsd, 1, o->sock_ctx);
    assert_int_equal(tcpc_listen(sv->stack, sv->lsd, 4), 0);
    int sd = tcpc_socket(cl->stack, fam);
    assert_true(sd >= 0);
    if (o->sock_setup)
        o->sock_setup(cl->stack, sd, 0, o->sock_ctx);
    cl->sd = sd; /* before connect: its events may fire from inside it */
    assert_int_equal(tcpc_connect(cl->stack, sd, &server, HSIM_PORT), -EINPROGRESS);

    tcpc_time_t limit = o->limit ? o->limit : 3600 * SEC;
    tcpc_memlink_run(s->link, 0, limit);
    /* Quiet: both FINs read (then TIME_WAIT ran out), or stuck. */
    for (int i = 0; i < 2; i++) {
        struct hsim_ep *e = &s->ep[i], *peer = &s->ep[1 - i];
        uint8_t a[32], b[32];
        crypto_generichash_final(&e->hs_sent, a, sizeof(a));
        crypto_generichash_final(&peer->hs_rcvd, b, sizeof(b));
        r->rcvd[i] = peer->rcvd;
        r->eof[i] = peer->eof;
        r->done[i] = peer->done;
        r->intact[i] = peer->eof && peer->rcvd == e->total && e->sent == e->total &&
                       memcmp(a, b, sizeof(a)) == 0;
        r->err[i] = e->err;
    }
    tcpc_time_t now = tcpc_memlink_now(s->link);
    for (int i = 0; i < 2; i++) {
        struct hsim_ep *e = &s->ep[i];
        tcpc_set_event_cb(e->stack, NULL, NULL);
        if (e->sd >= 0)
            tcpc_close(e->stack, e->sd);
        if (e->lsd >= 0)
            tcpc_close(e->stack, e->lsd);
    }
    r->end = tcpc_memlink_run(s->link, now, now + 600 * SEC);
    for (int i = 0; i < 2; i++) {
        r->link[i] = *tcpc_memlink_counters(s->link, i);
        r->stats[i] = *tcpc_stack_stats(s->ep[i].stack);
    }
    for (int i = 0; i < 2; i++)
        tcpc_stack_del(s->ep[i].stack);
    tcpc_memlink_del(s->link);
    free(s);
}

double hsim_goodput(const struct hsim_opts *o, const struct hsim_result *r, int side)
{
    if (!r->eof[side] || r->done[side] == 0)
        return 0;
    return (double)o->bytes[side] * (double)SEC / (double)r->done[side];
}

void hsim_check_intact(const struct hsim_opts *o, const struct hsim_result *r)
{
    for (int i = 0; i < 2; i++) {
        if (r->intact[i] && !r->err[i])
            continue;
        const struct tcpc_memlink_counters *k = &r->link[i];
        print_message("side %d's path: sent %" PRIu64 " delivered %" PRIu64 " queue drops %" PRIu64
                      " lost %" PRIu64 "; its stack: timeouts %" PRIu64
                      ", dropped on timeout %" PRIu64 "\n",
                      i, k->sent, k->delivered, k->queue_drops, k->lost,
                      r->stats[i].tcps_rexmttimeo, r->stats[i].tcps_timeoutdrop);
        fail_msg("seed 0x%016" PRIx64 ": side %d's %" PRIu64 " bytes: %" PRIu64
                 " read, FIN %s, hash %s, error %d (replay with TCPC_SIM_SEED=0x%016" PRIx64 ")",
                 o->seed, i, o->bytes[i], r->rcvd[i], r->eof[i] ? "read" : "not read",
                 r->intact[i] ? "equal" : "differs", r->err[i], o->seed);
    }
}

void hsim_print_stats(const struct hsim_result *r)
{
    for (unsigned id = 0; id < TCPC_STAT_COUNT; id++) {
        uint64_t a = tcpc_stat_value(&r->stats[0], id), b = tcpc_stat_value(&r->stats[1], id);
        if (a || b)
            print_message("  %-28s %12" PRIu64 " %12" PRIu64 "\n", tcpc_stat_name(id), a, b);
    }
}
