/*
 * Fuzzes the IPv6 parser and its extension-header walk. A parse that
 * succeeds must leave the payload inside the input and past every
 * extension header, and ip_parse must agree with ip6_parse.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/cksum.h"
#include "wire/ip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Field by field: struct padding need not match. */
static bool ip_repr_eq(const struct ip_repr *a, const struct ip_repr *b)
{
    return tcpc_addr_eq(&a->src, &b->src) && tcpc_addr_eq(&a->dst, &b->dst) &&
           a->version == b->version && a->proto == b->proto && a->ttl == b->ttl &&
           a->tos == b->tos && a->df == b->df && a->id == b->id && a->flowlabel == b->flowlabel &&
           a->hdrlen == b->hdrlen && a->payload_len == b->payload_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ip_repr a, b;
    int r = ip6_parse(data, size, &a);

    if (r < 0)
        return 0;
    if (ip_parse(data, size, &b) != r || !ip_repr_eq(&a, &b))
        abort();
    if (a.version != 6 || a.hdrlen != r || r < IP6_HDR_LEN ||
        r > IP6_HDR_LEN + IP6_EXT_MAX * 8 * 256 || (size_t)a.hdrlen + a.payload_len > size ||
        a.flowlabel > 0xfffff || tcpc_addr_is_v4(&a.src) || tcpc_addr_is_v4(&a.dst))
        abort();
    /* Extension headers never name the upper layer. */
    if (a.proto == 0 || a.proto == 43 || a.proto == 44 || a.proto == 60)
        abort();
    (void)cksum_add(0, data + a.hdrlen, a.payload_len);
    return 0;
}
