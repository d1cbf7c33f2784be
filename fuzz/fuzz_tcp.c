/*
 * Fuzzes TCP header and option parsing and the checksum under fixed IPv4
 * and IPv6 pseudo-headers. Parsed options are emitted and parsed again:
 * whatever the emitter writes, the parser must read back unchanged (up to
 * the SACK blocks that fit).
 */
#include <stdlib.h>
#include <string.h>

#include "wire/ip.h"
#include "wire/tcp.h"
#include "tcp_opts_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t v6a[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t v6b[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static void check_opts_roundtrip(const struct tcp_opts *o)
{
    uint8_t buf[TCP_MAXOLEN];
    struct tcp_opts back;
    int n = tcp_opts_emit(o, buf, sizeof(buf));

    if (n < 0 || (size_t)n != tcp_opts_len(o) || n % 4 != 0 || n > TCP_MAXOLEN)
        abort();
    if (tcp_opts_parse(buf, (size_t)n, &back) != 0)
        abort();
    uint8_t kept = (uint8_t)(o->present & ~TOF_SACK);
    if (!model_fo_kept(o))
        kept &= (uint8_t)~TOF_FASTOPEN;
    if (!model_ao_kept(o))
        kept &= (uint8_t)~TOF_AO;
    if ((kept & TOF_AO) &&
        (back.ao_keyid != o->ao_keyid || back.ao_rnextkeyid != o->ao_rnextkeyid ||
         back.ao_maclen != o->ao_maclen || memcmp(back.ao_mac, o->ao_mac, o->ao_maclen) != 0 ||
         back.ao_off != tcp_opts_ao_off(o) || buf[back.ao_off] != 29))
        abort();
    if ((back.present & ~TOF_SACK) != kept ||
        ((kept & TOF_FASTOPEN) &&
         (back.tfo_len != o->tfo_len || memcmp(back.tfo_cookie, o->tfo_cookie, o->tfo_len) != 0)))
        abort();
    if (back.mss != o->mss || back.wscale != o->wscale || back.tsval != o->tsval ||
        back.tsecr != o->tsecr || back.nsack != model_nsack(o) ||
        (back.nsack != 0) != ((back.present & TOF_SACK) != 0) ||
        memcmp(back.sack, o->sack, sizeof(back.sack[0]) * back.nsack) != 0 ||
        ((o->present & TOF_SIG) && memcmp(back.sig, o->sig, TCP_SIGLEN) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ip_repr ip4 = {.src = tcpc_addr_v4(0xc0000201), .dst = tcpc_addr_v4(0xc6336402)};
    struct ip_repr ip6 = {.version = 6};
    struct tcp_repr t;
    struct tcp_opts o;
    int r;

    ip6.src = tcpc_addr_v6(v6a);
    ip6.dst = tcpc_addr_v6(v6b);
    (void)tcp_cksum_ok(&ip4, data, size);
    (void)tcp_cksum_ok(&ip6, data, size);
    if (tcp_opts_parse(data, size, &o) == 0) {
        if (o.nsack > TCP_SACK_MAX || (o.nsack != 0) != ((o.present & TOF_SACK) != 0))
            abort();
        check_opts_roundtrip(&o);
    }
    r = tcp_parse(data, size, &t);
    if (r < 0)
        return 0;
    if (r != t.hdrlen || r < TCP_HDR_LEN || r > TCP_HDR_LEN + TCP_MAXOLEN || r % 4 != 0 ||
        (size_t)r + t.payload_len != size || (t.payload_len != 0) != (t.payload != NULL))
        abort();
    if (t.payload_len && (t.payload != data + r || t.payload[t.payload_len - 1] != data[size - 1]))
        abort();
    check_opts_roundtrip(&t.opts);
    return 0;
}
