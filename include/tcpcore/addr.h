/**
 * @file
 * @brief Addresses and time, the two value types every tcpcore interface speaks.
 *
 *
 * One address type serves IPv4 and IPv6 so that tables, lookups and the state
 * machine have a single code path. An IPv4 address is held in its IPv4-mapped
 * IPv6 form (\::ffff:a.b.c.d, RFC 4291 section 2.5.5.2); whether an address is
 * IPv4 is a property of its bytes, not a separate tag that could disagree
 * with them. Compact records (TIME_WAIT, SYN cache) store IPv4 in four bytes
 * and convert at their edge.
 *
 * The link layer's address (a MAC) has its own small type; only stacks
 * configured for Ethernet use it.
 *
 * Time is a plain count of microseconds handed in by the embedder. The core
 * never reads a clock: whatever the caller says "now" is, is now. It must not
 * go backwards between calls on one stack.
 */
#ifndef TCPCORE_ADDR_H
#define TCPCORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/** Microseconds on the embedder's monotonic clock. */
typedef uint64_t tcpc_time_t;

#define TCPC_USEC_PER_MSEC 1000ULL    /**< microseconds in a millisecond */
#define TCPC_USEC_PER_SEC  1000000ULL /**< microseconds in a second */
/** A deadline that never arrives (nothing is scheduled). */
#define TCPC_TIME_NEVER UINT64_MAX
/** The latest time a stack runs at (about 146,000 years): a later `now` is
 * taken as this, so that every deadline the stack computes from it still
 * fits, and none can collide with TCPC_TIME_NEVER. */
#define TCPC_TIME_MAX (1ULL << 62)

/** An IPv4 or IPv6 address: a value type of 16 bytes, fixed for good (it
 * carries no size or version: programs embed and copy it freely). */
struct tcpc_addr {
    uint8_t bytes[16]; /**< network byte order; IPv4 as \::ffff:a.b.c.d */
};

/** An Ethernet (IEEE 802 MAC-48) address, as on the wire: a value type of
 * 6 bytes, fixed for good. */
struct tcpc_ether_addr {
    uint8_t bytes[6]; /**< the address, first byte first */
};

/** True when a is IPv4, held in its mapped form (ten zero bytes then two
 * 0xff). Pure. */
static inline bool tcpc_addr_is_v4(const struct tcpc_addr *a)
{
    /* Word loads rather than memcmp: this runs on every packet, and
     * builds that keep memcmp a call (sanitizers, fuzzing) pay for it. */
    uint64_t hi;
    uint32_t mid;
    memcpy(&hi, a->bytes, 8);
    memcpy(&mid, a->bytes + 8, 4);
    static const uint8_t ffff[4] = {0, 0, 0xff, 0xff};
    uint32_t want;
    memcpy(&want, ffff, 4);
    return hi == 0 && mid == want;
}

/** Builds the mapped form of an IPv4 address given in host byte order. Pure. */
static inline struct tcpc_addr tcpc_addr_v4(uint32_t host_order)
{
    struct tcpc_addr a = {{0}};
    a.bytes[10] = 0xff;
    a.bytes[11] = 0xff;
    a.bytes[12] = (uint8_t)(host_order >> 24);
    a.bytes[13] = (uint8_t)(host_order >> 16);
    a.bytes[14] = (uint8_t)(host_order >> 8);
    a.bytes[15] = (uint8_t)host_order;
    return a;
}

/** The IPv4 address in host byte order; only meaningful when
 * tcpc_addr_is_v4. Pure. */
static inline uint32_t tcpc_addr_v4_host(const struct tcpc_addr *a)
{
    return (uint32_t)a->bytes[12] << 24 | (uint32_t)a->bytes[13] << 16 |
           (uint32_t)a->bytes[14] << 8 | a->bytes[15];
}

/** Builds an address from its 16 bytes in network byte order. Pure. */
static inline struct tcpc_addr tcpc_addr_v6(const uint8_t bytes[16])
{
    struct tcpc_addr a;
    memcpy(a.bytes, bytes, 16);
    return a;
}

/** True when a and b are the same address. Pure. */
static inline bool tcpc_addr_eq(const struct tcpc_addr *a, const struct tcpc_addr *b)
{
    uint64_t a0, a1, b0, b1; /* word loads, as in tcpc_addr_is_v4 */
    memcpy(&a0, a->bytes, 8);
    memcpy(&a1, a->bytes + 8, 8);
    memcpy(&b0, b->bytes, 8);
    memcpy(&b1, b->bytes + 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

/** True for the unspecified address of either family: :: for IPv6,
 * \::ffff:0.0.0.0 for IPv4. Pure. */
static inline bool tcpc_addr_is_any(const struct tcpc_addr *a)
{
    static const uint8_t zero[16];
    if (tcpc_addr_is_v4(a))
        return a->bytes[12] == 0 && a->bytes[13] == 0 && a->bytes[14] == 0 && a->bytes[15] == 0;
    return memcmp(a->bytes, zero, 16) == 0;
}

/**
 * Parses "198.18.0.1" or "2001:db8::1" into *out. Returns 0, or -EINVAL when
 * the text is neither form. Pure; callable at any time.
 */
int tcpc_addr_parse(const char *text, struct tcpc_addr *out);

/** Room for the longest address text and its NUL (tcpc_addr_format). */
#define TCPC_ADDRSTRLEN 46
/**
 * Writes the address as text ("198.18.0.1", "2001:db8::1") into buf of
 * buflen bytes (TCPC_ADDRSTRLEN suffices; shorter output is truncated and
 * still NUL-terminated) and returns buf. Pure; callable at any time.
 */
const char *tcpc_addr_format(const struct tcpc_addr *a, char *buf, size_t buflen);

#endif
