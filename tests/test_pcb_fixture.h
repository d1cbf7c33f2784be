/*
 * Shared fixture of the PCB tests (test_pcb*.c): a standalone pcbinfo with
 * a seeded random source, a fixed set of local addresses and helpers that
 * build sockets in a given state. Header-only so each test program stays
 * one file plus this.
 */
#ifndef TCPCORE_TESTS_PCB_FIXTURE_H
#define TCPCORE_TESTS_PCB_FIXTURE_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/rand.h"
#include "pcb/pcb.h"

struct fixture {
    struct pcbinfo info;
    struct rand_state rnd;
};

/* 192.0.2.1, 192.0.2.2, 2001:db8::1, 2001:db8::2 are ours. */
static bool fx_is_local(void *ctx, const struct tcpc_addr *a)
{
    (void)ctx;
    static const char *const local[] = {"192.0.2.1", "192.0.2.2", "2001:db8::1", "2001:db8::2"};
    for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++) {
        struct tcpc_addr l;
        if (tcpc_addr_parse(local[i], &l) == 0 && tcpc_addr_eq(&l, a))
            return true;
    }
    return false;
}

static inline struct tcpc_addr A(const char *text) {
    struct tcpc_addr a;
    int err = tcpc_addr_parse(text, &a);
    assert_int_equal(err, 0);
    return a;
}

static inline struct fixture *
fx_new_sized(uint32_t max_pcbs, uint16_t first, uint16_t last, uint8_t seed_byte)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    uint8_t seed[32] = {seed_byte};
    rand_init(&fx->rnd, seed);
    struct pcb_params p = {
        .max_pcbs = max_pcbs,
        .port_first = first,
        .port_last = last,
        .is_local = fx_is_local,
    };
    assert_int_equal(pcbinfo_init(&fx->info, &p, &fx->rnd), 0);
    return fx;
}

static inline struct fixture *fx_new(void)
{
    return fx_new_sized(256, 49152, 65535, 7);
}

static inline void fx_del(struct fixture *fx)
{
    pcbinfo_destroy(&fx->info);
    free(fx);
}

/* Socket families of the tests: v4, v6 dual-stack, v6 with IPV6_V6ONLY. */
enum fam { F4, F6, F6ONLY };

static inline struct inpcb *fx_sock(struct fixture *fx, enum fam f)
{
    struct inpcb *inp;
    assert_int_equal(pcb_alloc(&fx->info, f != F4, NULL, &inp), 0);
    if (f == F6ONLY)
        assert_int_equal(pcb_setopt(inp, INP_V6ONLY, true), 0);
    return inp;
}

static inline struct pcb_tuple T(const char *faddr, uint16_t fport, const char *laddr,
                                 uint16_t lport) {
    struct pcb_tuple t = {.faddr = A(faddr), .laddr = A(laddr), .fport = fport, .lport = lport};
    return t;
}

/* Listener lookup of an arriving segment: inpcb or NULL. */
static inline struct inpcb *
fx_lookup(struct fixture *fx, const char *faddr, uint16_t fport, const char *laddr, uint16_t lport)
{
    struct tcpc_addr f = A(faddr), l = A(laddr);
    return pcb_lookup(&fx->info, &f, fport, &l, lport, PCB_LOOKUP_WILDCARD, 0);
}

#endif
