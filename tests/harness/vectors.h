/*
 * Packets captured from the Linux kernel (on a tun device, so with real
 * checksums and no offload), shared by the wire tests as known answers,
 * and the decoder for the hex they are written in.
 */
#ifndef TCPCORE_TESTS_VECTORS_H
#define TCPCORE_TESTS_VECTORS_H

#include <stddef.h>
#include <stdint.h>

/* Linux 6.x SYN 198.18.0.1:34140 -> 198.18.0.2:80 (MSS, SACKPERM+TS, NOP+WS). */
static const char syn4_hex[] = "4500003c6b994000400642fbc6120001c6120002855c00507a21727f00000000"
                               "a002faf026070000020405b40402080a67d9c0b6000000000103030a";
/* Linux 6.x SYN [2001:db8::1]:59320 -> [2001:db8::2]:80. */
static const char syn6_hex[] = "60092f640028064020010db800000000000000000000000120010db800000000"
                               "0000000000000002e7b800503e2fdba300000000a002fd203f0c0000020405a0"
                               "0402080a70e83dab000000000103030a";

/* Decodes hex text (either case, spaces skipped) into out; returns the byte
 * count. Fails the test on overflow or an odd digit count. */
size_t unhex(const char *hex, uint8_t *out, size_t cap);

#endif
