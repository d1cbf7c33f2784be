/*
 * Fuzzes the IPv4 parser. Each input is parsed as given and again with its
 * header checksum repaired, so that mutations reach the checks behind the
 * checksum instead of dying at it. A parse that succeeds must describe a
 * payload inside the input, and ip_parse must agree with ip4_parse.
 */
#include <stdlib.h>
#include <string.h>

#include "wire/bytes.h"
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

static void check(const uint8_t *buf, size_t len)
{
    struct ip_repr a, b;
    int r = ip4_parse(buf, len, &a);

    if (r < 0)
        return;
    if (ip_parse(buf, len, &b) != r || !ip_repr_eq(&a, &b))
        abort();
    if (a.version != 4 || a.hdrlen != r || r < IP4_HDR_LEN ||
        (size_t)a.hdrlen + a.payload_len > len || !tcpc_addr_is_v4(&a.src))
        abort();
    /* Touch the whole payload so ASan sees a bad bound. */
    (void)cksum_add(0, buf + a.hdrlen, a.payload_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;
    size_t ihl;

    check(data, size);
    if (size < IP4_HDR_LEN)
        return 0;
    ihl = (size_t)(data[0] & 0x0f) * 4;
    if (ihl < IP4_HDR_LEN || ihl > size)
        return 0;
    copy = malloc(size);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    put_be16(copy + 10, 0);
    put_be16(copy + 10, cksum_finish(cksum_add(0, copy, ihl)));
    check(copy, size);
    free(copy);
    return 0;
}
