/*
 * What the fuzz targets share: CHECK, which turns a broken promise into a
 * crash the fuzzer keeps, and the script steps of the whole-stack targets
 * (fuzz_stack, fuzz_link), whose inputs are a kind byte then a body.
 */
#ifndef TCPCORE_FUZZ_SCRIPT_H
#define TCPCORE_FUZZ_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpcore/stack.h"

/* Says which promise broke before the crash: a run's log (CI keeps only
 * its text) then names the check even where the input is lost. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond);       \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Takes len bytes of the script into out; false when it has run out. */
static inline bool fz_take(const uint8_t **p, size_t *n, void *out, size_t len)
{
    if (*n < len)
        return false;
    memcpy(out, *p, len);
    *p += len;
    *n -= len;
    return true;
}

/* A time step: two bytes of milliseconds (up to about 65 s); runs what
 * falls due. */
static inline bool fz_step_time(struct tcpc_stack *stack, tcpc_time_t *now, const uint8_t **p,
                                size_t *n)
{
    uint8_t step[2];
    if (!fz_take(p, n, step, 2))
        return false;
    *now += (tcpc_time_t)(step[0] << 8 | step[1]) * 1000;
    tcpc_advance(stack, *now);
    return true;
}

/* Raw input: a two-byte length (modulo cap), then that many bytes, handed
 * to tcpc_input as they are. */
static inline bool fz_step_raw(struct tcpc_stack *stack, tcpc_time_t now, const uint8_t **p,
                               size_t *n, size_t cap)
{
    uint8_t lenb[2];
    if (!fz_take(p, n, lenb, 2))
        return false;
    size_t len = (size_t)(lenb[0] << 8 | lenb[1]) % cap;
    if (len > *n)
        len = *n;
    tcpc_input(stack, now, *p, len);
    *p += len;
    *n -= len;
    return true;
}

#endif
