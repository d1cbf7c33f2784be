/*
 * Fuzzes parse -> emit -> parse for whole TCP packets of either family.
 * Whatever the parsers accept, tcp_emit_packet must be able to write back
 * so that a second parse yields the same representation: every IP and TCP
 * field, the options the emitter supports (SACK up to the blocks that fit)
 * and the payload, with both checksums right. The input's IPv4 header
 * checksum is repaired first so that mutations get past it.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_script.h"
#include "wire/bytes.h"
#include "wire/cksum.h"
#include "wire/ip.h"
#include "wire/tcp.h"
#include "tcp_opts_model.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fix_ip4_sum(uint8_t *p, size_t len)
{
    size_t ihl;

    if (len < IP4_HDR_LEN || p[0] >> 4 != 4)
        return;
    ihl = (size_t)(p[0] & 0x0f) * 4;
    if (ihl < IP4_HDR_LEN || ihl > len)
        return;
    put_be16(p + 10, 0);
    put_be16(p + 10, cksum_finish(cksum_add(0, p, ihl)));
}

static void compare_ip(const struct ip_repr *a, const struct ip_repr *b)
{
    CHECK(a->version == b->version);
    CHECK(tcpc_addr_eq(&a->src, &b->src) && tcpc_addr_eq(&a->dst, &b->dst));
    CHECK(b->proto == IPPROTO_TCP_);
    CHECK(a->ttl == b->ttl && a->tos == b->tos);
    CHECK(b->hdrlen == ip_header_len(a));
    if (a->version == 4)
        CHECK(a->df == b->df && a->id == b->id);
    else
        CHECK(a->flowlabel == b->flowlabel);
}

static void compare_tcp(const struct tcp_repr *a, const struct tcp_repr *b)
{
    unsigned n = model_nsack(&a->opts);
    uint8_t present = a->opts.present;

    CHECK(a->sport == b->sport && a->dport == b->dport);
    CHECK(a->seq == b->seq && a->ack == b->ack);
    CHECK(a->flags == b->flags && a->win == b->win && a->urp == b->urp);
    if (n == 0)
        present &= (uint8_t)~TOF_SACK;
    if (!model_fo_kept(&a->opts))
        present &= (uint8_t)~TOF_FASTOPEN;
    if (!model_ao_kept(&a->opts))
        present &= (uint8_t)~TOF_AO;
    CHECK(b->opts.present == present);
    CHECK(!(present & TOF_AO) ||
          (a->opts.ao_keyid == b->opts.ao_keyid && a->opts.ao_rnextkeyid == b->opts.ao_rnextkeyid &&
           a->opts.ao_maclen == b->opts.ao_maclen &&
           memcmp(a->opts.ao_mac, b->opts.ao_mac, a->opts.ao_maclen) == 0 &&
           b->opts.ao_off == tcp_opts_ao_off(&a->opts)));
    CHECK(!(present & TOF_FASTOPEN) ||
          (a->opts.tfo_len == b->opts.tfo_len &&
           memcmp(a->opts.tfo_cookie, b->opts.tfo_cookie, a->opts.tfo_len) == 0));
    CHECK(a->opts.mss == b->opts.mss && a->opts.wscale == b->opts.wscale);
    CHECK(a->opts.tsval == b->opts.tsval && a->opts.tsecr == b->opts.tsecr);
    CHECK(!(present & TOF_SIG) || memcmp(a->opts.sig, b->opts.sig, TCP_SIGLEN) == 0);
    CHECK(b->opts.nsack == n);
    CHECK(memcmp(a->opts.sack, b->opts.sack, n * sizeof(a->opts.sack[0])) == 0);
    CHECK(a->payload_len == b->payload_len);
    CHECK(a->payload_len == 0 || memcmp(a->payload, b->payload, a->payload_len) == 0);
}

static void roundtrip(const struct ip_repr *ip, const struct tcp_repr *t)
{
    size_t cap = IP6_HDR_LEN + TCP_HDR_LEN + TCP_MAXOLEN + t->payload_len;
    size_t want = ip_header_len(ip) + TCP_HDR_LEN + tcp_opts_len(&t->opts) + t->payload_len;
    uint8_t *out = malloc(cap);
    struct ip_repr ip2;
    struct tcp_repr t2;
    int len;

    CHECK(out != NULL);
    len = tcp_emit_packet(ip, t, out, cap);
    /* Emitted options may be padded longer than a tightly packed input. */
    if (len == -WIRE_IP_BADLEN) {
        CHECK(want - (ip->version == 6 ? IP6_HDR_LEN : 0) > 0xffff);
        free(out);
        return;
    }
    CHECK(len > 0 && (size_t)len == want);
    CHECK(ip_parse(out, (size_t)len, &ip2) == (int)ip_header_len(ip));
    CHECK((size_t)ip2.hdrlen + ip2.payload_len == (size_t)len);
    compare_ip(ip, &ip2);
    CHECK(tcp_cksum_ok(&ip2, out + ip2.hdrlen, ip2.payload_len));
    CHECK(tcp_parse(out + ip2.hdrlen, ip2.payload_len, &t2) > 0);
    compare_tcp(t, &t2);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *in = malloc(size ? size : 1);
    struct ip_repr ip;
    struct tcp_repr t;

    if (in == NULL)
        return 0;
    memcpy(in, data, size);
    fix_ip4_sum(in, size);
    if (ip_parse(in, size, &ip) >= 0 && ip.proto == IPPROTO_TCP_ &&
        tcp_parse(in + ip.hdrlen, ip.payload_len, &t) >= 0)
        roundtrip(&ip, &t);
    free(in);
    return 0;
}
