/*
 * The Internet checksum (RFC 1071) and the TCP/UDP pseudo-headers of IPv4
 * (RFC 9293 section 3.1) and IPv6 (RFC 8200 section 8.1).
 *
 * Sums are carried in 32 bits so that pieces (pseudo-header, header,
 * payload) can be added in any order; cksum_finish folds and complements.
 */
#ifndef TCPCORE_WIRE_CKSUM_H
#define TCPCORE_WIRE_CKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "tcpcore/addr.h"

/* Adds buf to a running sum. An odd length is padded with a zero byte, so
 * only the last piece of a checksum may have an odd length. */
uint32_t cksum_add(uint32_t sum, const void *buf, size_t buflen);

/* cksum_add(0, hdr, 20): an IPv4 header without options, summed as five
 * 32-bit words with no loop (every packet in and out has one). */
uint32_t cksum_ip4_header(const void *hdr);

/* Folds to 16 bits and complements: the value that goes on the wire (in
 * host order; store with a big-endian write). */
uint16_t cksum_finish(uint32_t sum);

/* The pseudo-header sum for a transport segment of seglen bytes between src
 * and dst; IPv4 form when both are v4-mapped, IPv6 form otherwise. */
uint32_t cksum_pseudo(const struct tcpc_addr *src, const struct tcpc_addr *dst, uint8_t proto,
                      uint32_t seglen);

#endif
