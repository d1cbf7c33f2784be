/*
 * Big-endian loads and stores on byte buffers, for the wire layer only.
 *
 * Packet buffers have no alignment guarantee and may alias anything, so
 * fields are assembled byte by byte instead of casting to structs or wider
 * integer pointers; compilers turn these into single loads where legal.
 */
#ifndef TCPCORE_WIRE_BYTES_H
#define TCPCORE_WIRE_BYTES_H

#include <stdint.h>

static inline uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
