/*
 * The Toeplitz hash that NICs use for receive-side scaling (RSS).
 *
 * A NIC given an RSS key spreads flows over its queues by this hash of each
 * packet's addresses and ports. To keep an active open's replies on the
 * core that opened it, the stack must predict the queue a reply will land
 * on, which means computing the same hash in software over the reply's
 * tuple (its source is the peer). Pure functions of their arguments.
 *
 * The hash slides a 32-bit window over the key, one bit per input bit: for
 * each input bit that is set, the window at that bit's position is xored
 * into the result. So the key must be at least four bytes longer than the
 * input; the 40-byte keys NICs use cover an IPv6 tuple (36 bytes).
 */
#ifndef TCPCORE_UTIL_TOEPLITZ_H
#define TCPCORE_UTIL_TOEPLITZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpcore/addr.h"

/* The hash of len bytes of data under key (keylen >= len + 4, checked by
 * the caller: configuration validates the key's length once). */
uint32_t toeplitz_hash(const uint8_t *key, size_t keylen, const uint8_t *data, size_t len);

/*
 * The hash of a TCP packet from src:sport to dst:dport as a NIC computes it
 * for TCP over IPv4 or IPv6: source address, destination address, source
 * port, destination port, in network byte order. Both addresses must be of
 * one family (IPv4 ones use their four bytes). with_ports false hashes the
 * addresses only (the "IPv4 only" / "IPv6 only" RSS types).
 */
uint32_t toeplitz_tuple(const uint8_t *key, size_t keylen, const struct tcpc_addr *src,
                        uint16_t sport, const struct tcpc_addr *dst, uint16_t dport,
                        bool with_ports);

#endif
