/*
 * Toeplitz hash; see toeplitz.h.
 */
#include "util/toeplitz.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#include "tcpcore/rss.h"

const uint8_t tcpc_rss_key_default[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

uint32_t toeplitz_hash(const uint8_t *key, size_t keylen, const uint8_t *data, size_t len)
{
    assert(keylen >= len + 4);
    (void)keylen;
    /* window: the 32 key bits starting at the current input bit; next: the
     * key byte whose bits shift into it after the current byte. */
    uint32_t window =
        (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | (uint32_t)key[2] << 8 | key[3];
    uint32_t hash = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t next = key[i + 4];
        for (int bit = 7; bit >= 0; bit--) {
            if (data[i] >> bit & 1)
                hash ^= window;
            window = window << 1 | (uint32_t)(next >> bit & 1);
        }
    }
    return hash;
}

uint32_t toeplitz_tuple(const uint8_t *key, size_t keylen, const struct tcpc_addr *src,
                        uint16_t sport, const struct tcpc_addr *dst, uint16_t dport,
                        bool with_ports)
{
    uint8_t buf[36];
    size_t alen = tcpc_addr_is_v4(src) ? 4 : 16;
    size_t off = 16 - alen; /* an IPv4 address is the last four of its mapped form */
    memcpy(buf, src->bytes + off, alen);
    memcpy(buf + alen, dst->bytes + off, alen);
    size_t n = 2 * alen;
    if (with_ports) {
        buf[n++] = (uint8_t)(sport >> 8);
        buf[n++] = (uint8_t)sport;
        buf[n++] = (uint8_t)(dport >> 8);
        buf[n++] = (uint8_t)dport;
    }
    return toeplitz_hash(key, keylen, buf, n);
}

int tcpc_toeplitz_tuple(const uint8_t *key, size_t keylen, const struct tcpc_addr *src,
                        uint16_t sport, const struct tcpc_addr *dst, uint16_t dport, uint32_t *hash)
{
    bool v4 = tcpc_addr_is_v4(src);
    size_t need = (v4 ? 12 : 36) + 4; /* addresses and ports, and the window's four */
    if (!key || !src || !dst || !hash || v4 != tcpc_addr_is_v4(dst) || keylen < need)
        return -EINVAL;
    *hash = toeplitz_tuple(key, keylen, src, sport, dst, dport, true);
    return 0;
}
