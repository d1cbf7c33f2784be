/**
 * @file
 * @brief One-line, tcpdump-like descriptions of packets, for demos, traces and
 * test failure messages. Uses the stack's own parsers, so what it prints is
 * what the stack would see.
 */
#ifndef TCPCORE_FORMAT_H
#define TCPCORE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/**
 * Writes a description of the IP packet pkt[0..len) into buf (always
 * NUL-terminated, truncated to buflen) and returns buf, e.g.
 *   198.18.0.1.40000 > 198.18.0.2.80: Flags [S], seq 1, win 65535,
 *   options [mss 1460,wscale 6,sackOK,TS val 5 ecr 0], length 0
 * Malformed packets are described by what is wrong with them. Pure.
 */
const char *tcpc_format_packet(const uint8_t *pkt, size_t len, char *buf, size_t buflen);

#endif
