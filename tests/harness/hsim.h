/*
 * Whole transfers on the simulator: two stacks on an in-memory link with
 * faults (io/memlink.h) move a seeded stream of bytes each way through the
 * socket API, and each direction is checked by hash.
 *
 * Everything derives from one seed: the link's random choices, both stacks'
 * secrets, and the bytes sent. A test reads its seed with hsim_seed, which
 * takes TCPC_SIM_SEED from the environment when set, and prints it with the
 * command that replays the run, so that every failure report carries it.
 */
#ifndef TCPCORE_TESTS_HSIM_H
#define TCPCORE_TESTS_HSIM_H

#include <stdbool.h>
#include <stdint.h>

#include "harness.h"
#include "memlink.h"

struct hsim_opts {
    uint64_t seed;
    bool v6;
    uint64_t bytes[2];                  /* what side i sends (0 is the client) */
    struct tcpc_memlink_faults path[2]; /* faults of what side i sends */
    const char *const *sysctls;         /* both stacks, "name=value", NULL-terminated */
    tcpc_time_t limit;                  /* virtual time allowed; 0: an hour */
    tcpc_memlink_tap_fn tap;            /* optional */
    void *tap_ctx;
    /* Optional: called with each side's socket (the server's listener
     * before listen, the client's before connect), for socket options. */
    void (*sock_setup)(struct tcpc_stack *stack, int sd, int side, void *ctx);
    void *sock_ctx;
    /* Optional: both stacks' allocator (tcpc_config_set_allocator). */
    tcpc_alloc_fn alloc;
    tcpc_release_fn release;
    void *alloc_ctx;
};

struct hsim_result {
    tcpc_time_t done[2]; /* when side i's last byte and FIN were read */
    tcpc_time_t end;     /* when the link fell quiet after the close */
    uint64_t rcvd[2];    /* bytes from side i read by the other */
    bool eof[2];         /* side i's FIN was read */
    bool intact[2];      /* what was read hashes as what side i sent */
    int err[2];          /* a socket error side i met (positive errno) */
    struct tcpc_memlink_counters link[2];
    struct tcpc_stats stats[2]; /* both stacks' counters at the end */
};

/* The test's seed: TCPC_SIM_SEED (any strtoull base) or dflt. Prints it
 * and how to replay `test` (a cmocka test name) from it. With
 * TCPC_SIM_TRACE set, hsim_run prints every packet delivered. */
uint64_t hsim_seed(uint64_t dflt, const char *test);

/* Fills o with defaults: IPv4, no faults, nothing to send. */
void hsim_opts_init(struct hsim_opts *o, uint64_t seed);

/* Runs the transfer: connect at time 0, send both ways at once, shut down
 * each side's writing when its bytes are out, read to EOF, close, and run
 * until the link is quiet or the limit. Fails the test (seed in the
 * message) only on an API misuse; what the transfer achieved is in *r for
 * the test to judge. */
void hsim_run(const struct hsim_opts *o, struct hsim_result *r);

/* Payload bytes per second of virtual time for side's direction. */
double hsim_goodput(const struct hsim_opts *o, const struct hsim_result *r, int side);

/* Prints every counter that is not zero, of both stacks. */
void hsim_print_stats(const struct hsim_result *r);

/* Fails the test unless both directions arrived whole and intact, with
 * what went wrong and the seed. */
void hsim_check_intact(const struct hsim_opts *o, const struct hsim_result *r);

#endif
