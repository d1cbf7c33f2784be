/*
 * The harness on an Ethernet link (h_opts.ether): frames in and out, and
 * builders and matchers for ARP, neighbour discovery and ICMP echo.
 *
 * The stack is 52:54:00:12:34:01 with the harness's local address and a
 * connected prefix (/24, /64) that holds the peer, 52:54:00:12:34:02. TCP
 * segments still go through h_inject / h_expect, which frame and unframe
 * them; a test that wants the stack to know the peer's MAC first calls
 * h_ether_meet.
 */
#ifndef TCPCORE_TESTS_HLINK_H
#define TCPCORE_TESTS_HLINK_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "tcpcore/link.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/nd.h"

#define H_MAC_LOCAL ((struct tcpc_ether_addr){{0x52, 0x54, 0x00, 0x12, 0x34, 0x01}})
#define H_MAC_PEER  ((struct tcpc_ether_addr){{0x52, 0x54, 0x00, 0x12, 0x34, 0x02}})

/* Called by h_new: the link settings of an Ethernet harness. */
void h_ether_config(struct harness *h, struct tcpc_config *cfg, bool swap);

/* Writes a header from the peer's MAC to dst. */
void h_ether_frame(const struct harness *h, uint8_t *frame, const struct tcpc_ether_addr *dst,
                   uint16_t type);

/* Checks a frame the stack sent: from its MAC to dst, long enough. */
void h_ether_check(const struct harness *h, const uint8_t *frame, size_t len,
                   const struct tcpc_ether_addr *dst);

/* One line describing a frame, for failure messages. */
void h_ether_format(const uint8_t *frame, size_t len, char *buf, size_t cap);

/* Injects an ARP packet in a frame from src_mac to eth_dst. */
void h_inject_arp(struct harness *h, const struct tcpc_ether_addr *src_mac,
                  const struct tcpc_ether_addr *eth_dst, const struct arp_repr *arp);

/* Takes the next frame; it must be ARP from the stack to eth_dst. */
struct arp_repr h_expect_arp(struct harness *h, const struct tcpc_ether_addr *eth_dst);

/* Injects an ND message from src to dst in a frame from src_mac to eth_dst
 * (hop limit 255). */
void h_inject_nd(struct harness *h, const struct tcpc_ether_addr *src_mac,
                 const struct tcpc_ether_addr *eth_dst, const struct tcpc_addr *src,
                 const struct tcpc_addr *dst, const struct nd_repr *nd);

/* Takes the next frame; it must be an ND message from the stack to
 * eth_dst, with hop limit 255 and a good checksum. Its IP header goes to
 * *ip. */
struct nd_repr h_expect_nd(struct harness *h, const struct tcpc_ether_addr *eth_dst,
                           struct ip_repr *ip);

/* Injects an echo request from the peer to dst (id, seq, NUL-terminated
 * data), framed on an Ethernet link. */
void h_inject_echo(struct harness *h, const struct tcpc_addr *dst, uint16_t id, uint16_t seq,
                   const char *data);

/* Takes the next packet; it must be an echo reply of the harness's family
 * (unframed, to next_mac, on an Ethernet link). Data are copied to data
 * (cap bytes); its IP header goes to *ip. */
struct icmp_echo_repr h_expect_echo(struct harness *h, struct ip_repr *ip, uint8_t *data,
                                    size_t cap);

/* Starts a connect to h->peer:h->pport from a new socket of the peer's
 * family and returns its descriptor; the harness's local port becomes the
 * one the stack chose. What the stack sends is left to the test. */
int h_connect(struct harness *h);

/* The neighbour entry for a, when there is one. */
bool h_neigh(struct harness *h, const struct tcpc_addr *a, struct tcpc_neigh_info *out);

/* The peer makes itself known (an ARP request or neighbour solicitation
 * for the stack's address, with its MAC) and the stack's answer is taken. */
void h_ether_meet(struct harness *h);

#endif
