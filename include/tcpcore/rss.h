/*
 * Receive-side scaling: the hash a NIC spreads flows over its queues by.
 *
 * A host that runs one stack per core steers each received packet to a
 * stack by such a hash (the NIC's RSS, or the kernel's AF_PACKET fanout).
 * To keep an active open's replies on the stack that opened it, that stack
 * must predict where a reply lands: tcpc_config_set_steering takes the
 * rule, and this computes the Toeplitz hash NICs use, given their key.
 */
#ifndef TCPCORE_RSS_H
#define TCPCORE_RSS_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/** The 40-byte key of Microsoft's RSS specification, which many NICs and
 * drivers use by default. */
extern const uint8_t tcpc_rss_key_default[40];

/**
 * The Toeplitz hash a NIC computes over a TCP packet from src:sport to
 * dst:dport (source address, destination address, source port,
 * destination port, in network byte order; an IPv4 packet's four-byte
 * addresses), under key. Returns 0 with the hash in *hash; -EINVAL when the
 * addresses are of different families or the key is shorter than the
 * input plus four bytes (16 for IPv4, 40 for IPv6). Pure; callable at any
 * time.
 */
int tcpc_toeplitz_tuple(const uint8_t *key, size_t keylen, const struct tcpc_addr *src,
                        uint16_t sport, const struct tcpc_addr *dst, uint16_t dport,
                        uint32_t *hash);

#endif
