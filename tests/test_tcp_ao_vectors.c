/*
 * TCP-AO's cryptography against the published test vectors of RFC 9235:
 * segments Linux sent between 10.11.12.13 / fd00::1 (client, KeyID 61) and
 * 172.27.28.29 / fd00::2 (server, port 179, KeyID 84) under the master key
 * "testvector", with both RFC 5926 algorithms, SYNs and later segments, the
 * options in the MAC and excluded. For each: the traffic key (RFC 5926
 * 3.1) byte for byte, the MAC (RFC 5925 5.1) byte for byte and equal to
 * the one the segment carries, and the same MAC again from our signing
 * path, which re-emits the parsed segment (our option layout is Linux's for
 * these segments) and signs it: emitted, it is the captured segment byte
 * for byte but for the checksum. The vectors are the sections of RFC 9235
 * listed by name below; the SNE is 0 in all of them, so its own rule
 * (RFC 5925 6.2) is checked apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "tcp/tcp_ao.h"
#include "wire/ip.h"
#include "wire/tcp.h"
#include "vectors.h"

struct ao_vector {
    const char *name; /* RFC 9235 section */
    uint8_t alg;
    uint8_t flags;
    uint32_t sisn, disn; /* the sender's ISN, the receiver's (0 for a SYN) */
    const char *packet;  /* IP header onwards */
    const char *traffic_key;
    const char *mac;
};

static const struct ao_vector vectors[] = {
    {"4.1.1 SHA-1 IPv4 SYN (client)", TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, 0xfbfbab5a, 0x00000000,
     "45e0004cdd0f4000ff06bf6b0a0b0c0dac1b1c1de9d700b3fbfbab5a00000000e002ffffcac40000"
     "020405b4010303080402080a00155ab7000000001d103d542ee437c6f8ede6d7c4d602e7",
     "6d63ef1b02fe1509d4b1402707fd7b0416abb74f", "2ee437c6f8ede6d7c4d602e7"},
    {"4.1.2 SHA-1 IPv4 SYN-ACK (server)", TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, 0x11c14261, 0xfbfbab5a,
     "45e0004c65064000ff063775ac1b1c1d0a0b0c0d00b3e9d711c14261fbfbab5be012ffff37760000"
     "020405b4010303080402080a84a50beb00155ab71d10543deeab0fe24c3010815116b3be",
     "d9e217e4834a80ca2f3fd8de2e41b8e6797fea96", "eeab0fe24c3010815116b3be"},
    {"4.1.3 SHA-1 IPv4 data (client)", TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, 0xfbfbab5a, 0x11c14261,
     "45e0008736a14000ff06659f0a0b0c0dac1b1c1de9d700b3fbfbab5b11c14262c0180104a1620000"
     "0101080a00155ac184a50beb1d103d547064cf998cc6c315c2c2e2bfffffffffffffffffffffffff"
     "ffffffff00430104dabf00b40a0b0c0d260206010400010001020280000202020002024200020641"
     "040000dabf02084006006400010100",
     "d2e59c65ffc7b1a39347656463b70edc24a13d71", "7064cf998cc6c315c2c2e2bf"},
    {"4.1.4 SHA-1 IPv4 data (server)", TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, 0x11c14261, 0xfbfbab5a,
     "45e000871fa94000ff067c97ac1b1c1d0a0b0c0d00b3e9d711c14262fbfbab9ec0180100400c0000"
     "0101080a84a50bf500155ac11d10543da63f0ecbbb2e635c954deac7ffffffffffffffffffffffff"
     "ffffffff00430104dac000b4ac1b1c1d260206010400010001020280000202020002024200020641"
     "040000dac002084006006400010100",
     "d9e217e4834a80ca2f3fd8de2e41b8e6797fea96", "a63f0ecbbb2e635c954deac7"},
    {"4.2.1 SHA-1 IPv4 SYN, options excluded", TCPC_TCP_AO_ALG_HMAC_SHA1_96,
     TCPC_TCP_AO_KEYF_EXCLUDE_OPT, 0xcb0efbee, 0x00000000,
     "45e0004c53994000ff0648e20a0b0c0dac1b1c1dff1200b3cb0efbee00000000e002ffff541f0000"
     "020405b4010303080402080a00024cce000000001d103d5480af3cfeb85368937b8f9ec2",
     "30eaa1560cf0be57dab5c045229fb10a423cd7ea", "80af3cfeb85368937b8f9ec2"},
    {"4.2.2 SHA-1 IPv4 SYN-ACK, options excluded", TCPC_TCP_AO_ALG_HMAC_SHA1_96,
     TCPC_TCP_AO_KEYF_EXCLUDE_OPT, 0xacd5b5e1, 0xcb0efbee,
     "45e0004c32844000ff0669f7ac1b1c1d0a0b0c0d00b3ff12acd5b5e1cb0efbefe012ffff388e0000"
     "020405b4010303080402080a576772f300024cce1d10543d09306f9acea63a8c68cb9a70",
     "b5b2896bb3664e8176b0edc6e799524101a8307f", "09306f9acea63a8c68cb9a70"},
    {"4.2.3 SHA-1 IPv4 data, options excluded", TCPC_TCP_AO_ALG_HMAC_SHA1_96,
     TCPC_TCP_AO_KEYF_EXCLUDE_OPT, 0xcb0efbee, 0xacd5b5e1,
     "45e00087a8f54000ff06f34a0a0b0c0dac1b1c1dff1200b3cb0efbefacd5b5e2c01801046c450000"
     "0101080a00024cce576772f31d103d54710608cc696c03a271c93aa5ffffffffffffffffffffffff"
     "ffffffff00430104dabf00b40a0b0c0d260206010400010001020280000202020002024200020641"
     "040000dabf02084006006400010100",
     "f3db1793d7910ecd806c34f155ea1f00345953e3", "710608cc696c03a271c93aa5"},
    {"4.2.4 SHA-1 IPv4 data (server), options excluded", TCPC_TCP_AO_ALG_HMAC_SHA1_96,
     TCPC_TCP_AO_KEYF_EXCLUDE_OPT, 0xacd5b5e1, 0xcb0efbee,
     "45e0008754374000ff064809ac1b1c1d0a0b0c0d00b3ff12acd5b5e2cb0efc32c018010046b60000"
     "0101080a576772f300024cce1d10543d97766e48ac262de9ae61b4f9ffffffffffffffffffffffff"
     "ffffffff00430104dac000b4ac1b1c1d260206010400010001020280000202020002024200020641"
     "040000dac002084006006400010100",
     "b5b2896bb3664e8176b0edc6e799524101a8307f", "97766e48ac262de9ae61b4f9"},
    {"5.1.1 AES-128-CMAC IPv4 SYN (client)", TCPC_TCP_AO_ALG_AES_128_CMAC_96, 0, 0x787a1ddf,
     0x00000000,
     "45e0004c7b9f4000ff0620dc0a0b0c0dac1b1c1dc4fa00b3787a1ddf00000000e002ffff5a0f0000"
     "020405b4010303080402080a00017ed0000000001d103d54e477e99c8040765498e55091",
     "f5b8b3d5f34fdbb6eb8d4ab9660e60e3", "e477e99c8040765498e55091"},
    {"6.1.1 SHA-1 IPv6 SYN (client)", TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, 0x176a833f, 0x00000000,
     "6e0891dc00380640fd000000000000000000000000000001fd000000000000000000000000000002"
     "f7e400b3176a833f00000000e002ffff47210000020405a0010303080402080a0041d08700000000"
     "1d103d549033ec3d7334b64c5edd039f",
     "625ec09d575836edc9b6428418bbf06989a361bb", "9033ec3d7334b64c5edd039f"},
    {"6.1.2 SHA-1 IPv6 SYN-ACK (server)", TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, 0x3f51994b, 0x176a833f,
     "6e01009e00380640fd000000000000000000000000000002fd000000000000000000000000000001"
     "00b3f7e43f51994b176a8340e012ffffbfec0000020405a0010303080402080abd33129b0041d087"
     "1d10543df1cba346c3526163f71f1f55",
     "e4a37ada2a0afca8711434913fe138c771ebcb4a", "f1cba346c3526163f71f1f55"},
    {"6.2.2 SHA-1 IPv6 SYN-ACK, options excluded", TCPC_TCP_AO_ALG_HMAC_SHA1_96,
     TCPC_TCP_AO_KEYF_EXCLUDE_OPT, 0xeba3734d, 0x020c1e69,
     "6e0a7e1f00380640fd000000000000000000000000000002fd000000000000000000000000000001"
     "00b3c6cdeba3734d020c1e6ae012ffff774d0000020405a0010303080402080a5ec99b70009db95b"
     "1d10543d3c546bad9743f12df8b8010d",
     "405108947f996575e7bdbc26d40216a2c7fa91bd", "3c546bad9743f12df8b8010d"},
    {"6.2.4 SHA-1 IPv6 data (server), options excluded", TCPC_TCP_AO_ALG_HMAC_SHA1_96,
     TCPC_TCP_AO_KEYF_EXCLUDE_OPT, 0xeba3734d, 0x020c1e69,
     "6e0a7e1f00730640fd000000000000000000000000000002fd000000000000000000000000000001"
     "00b3c6cdeba3734e020c1eadc0180100716a00000101080a5ec99b7a009db9651d10543d559a8194"
     "45b4fde98d9e1317ffffffffffffffffffffffffffffffff00430104fde800b40101017a26020601"
     "0400010001020280000202020002024200020641040000fde802084006006400010100",
     "405108947f996575e7bdbc26d40216a2c7fa91bd", "559a819445b4fde98d9e1317"},
    {"7.1.2 AES-128-CMAC IPv6 SYN-ACK (server)", TCPC_TCP_AO_ALG_AES_128_CMAC_96, 0, 0xa6744ecb,
     0x193cccec,
     "6e06152000380640fd000000000000000000000000000002fd000000000000000000000000000001"
     "00b3f85aa6744ecb193cccede012ffffeabb0000020405a0010303080402080a71daabc813e4ab99"
     "1d10543ddc2843a84e78a6bcfdc5ed80",
     "cf1b1e225e06a63616764a067b46f4b1", "dc2843a84e78a6bcfdc5ed80"},
    {"7.1.4 AES-128-CMAC IPv6 data (server)", TCPC_TCP_AO_ALG_AES_128_CMAC_96, 0, 0xa6744ecb,
     0x193cccec,
     "6e06152000730640fd000000000000000000000000000002fd000000000000000000000000000001"
     "00b3f85aa6744ecc193ccd30c018010052f400000101080a71daabd313e4aba31d10543dc1069b7d"
     "fd3d693a6df3f289ffffffffffffffffffffffffffffffff00430104fde800b40101017a26020601"
     "0400010001020280000202020002024200020641040000fde802084006006400010100",
     "cf1b1e225e06a63616764a067b46f4b1", "c1069b7dfd3d693a6df3f289"},
};

#define NVECTORS (sizeof(vectors) / sizeof(vectors[0]))

static const char master_key[] = "testvector";

struct parsed {
    uint8_t pkt[256];
    struct ip_repr ip;
    struct tcp_repr th;
    const uint8_t *seg;
};

static void parse(const struct ao_vector *v, struct parsed *p)
{
    size_t n = unhex(v->packet, p->pkt, sizeof(p->pkt));
    int hl = ip_parse(p->pkt, n, &p->ip);
    assert_true(hl > 0);
    assert_int_equal(p->ip.proto, IPPROTO_TCP_);
    p->seg = p->pkt + hl;
    assert_true(tcp_parse(p->seg, p->ip.payload_len, &p->th) > 0);
    /* The captures' TCP checksums are not all valid (offloaded); the MAC
     * takes the checksum as zero, so it does not matter here. */
    assert_true(p->th.opts.present & TOF_AO);
    assert_int_equal(p->th.opts.ao_maclen, TCP_AO_MACLEN);
    /* The client sends with KeyID 61 and asks for 84; the server the
     * other way round. */
    bool client = p->th.dport == 179;
    assert_int_equal(p->th.opts.ao_keyid, client ? 61 : 84);
    assert_int_equal(p->th.opts.ao_rnextkeyid, client ? 84 : 61);
}

static struct tcp_ao_key *mkt(const struct ao_vector *v)
{
    int err;
    struct tcp_ao_key *k = tcp_ao_key_new(&mem_libc, v->alg, v->flags, (const uint8_t *)master_key,
                                          strlen(master_key), &err);
    assert_non_null(k);
    assert_int_equal(err, 0);
    return k;
}

/* RFC 5926 3.1: every vector's traffic key from its addresses, ports and
 * ISNs. */
static void test_traffic_keys(void **state)
{
    (void)state;
    for (size_t i = 0; i < NVECTORS; i++) {
        const struct ao_vector *v = &vectors[i];
        print_message("%s\n", v->name);
        struct parsed p;
        parse(v, &p);
        struct tcp_ao_key *k = mkt(v);
        uint8_t want[TCP_AO_TKEY_MAX], got[TCP_AO_TKEY_MAX];
        size_t wlen = unhex(v->traffic_key, want, sizeof(want));
        size_t glen = tcp_ao_traffic_key(k, &p.ip.src, &p.ip.dst, p.th.sport, p.th.dport, v->sisn,
                                         v->disn, got);
        assert_int_equal(glen, v->alg == TCPC_TCP_AO_ALG_HMAC_SHA1_96 ? 20 : 16);
        assert_int_equal(glen, wlen);
        assert_memory_equal(got, want, wlen);
        tcp_ao_key_release(k);
    }
}

/* RFC 5925 5.1: every vector's MAC over the segment as received. */
static void test_macs(void **state)
{
    (void)state;
    for (size_t i = 0; i < NVECTORS; i++) {
        const struct ao_vector *v = &vectors[i];
        print_message("%s\n", v->name);
        struct parsed p;
        parse(v, &p);
        struct tcp_ao_key *k = mkt(v);
        uint8_t tk[TCP_AO_TKEY_MAX], want[TCP_AO_MACLEN], got[TCP_AO_MACLEN];
        size_t tklen = unhex(v->traffic_key, tk, sizeof(tk));
        assert_int_equal(unhex(v->mac, want, sizeof(want)), TCP_AO_MACLEN);
        tcp_ao_mac(k, tk, tklen, 0, &p.ip.src, &p.ip.dst, p.seg, p.th.hdrlen, p.th.opts.ao_off,
                   p.th.opts.ao_maclen, p.th.payload, p.th.payload_len, got);
        assert_memory_equal(got, want, TCP_AO_MACLEN);
        assert_memory_equal(p.th.opts.ao_mac, want, TCP_AO_MACLEN);
        /* One bit of the payload, or of an option the MAC covers, and the
         * MAC differs; an excluded option may change freely. */
        uint8_t copy[256];
        if (p.th.payload_len) {
            memcpy(copy, p.seg, p.ip.payload_len);
            copy[p.ip.payload_len - 1] ^= 1;
            tcp_ao_mac(k, tk, tklen, 0, &p.ip.src, &p.ip.dst, copy, p.th.hdrlen, p.th.opts.ao_off,
                       p.th.opts.ao_maclen, copy + p.th.hdrlen, p.th.payload_len, got);
            assert_memory_not_equal(got, want, TCP_AO_MACLEN);
        }
        memcpy(copy, p.seg, p.ip.payload_len);
        copy[TCP_HDR_LEN + 2] ^= 1; /* MSS or timestamps: never the TCP-AO option */
        tcp_ao_mac(k, tk, tklen, 0, &p.ip.src, &p.ip.dst, copy, p.th.hdrlen, p.th.opts.ao_off,
                   p.th.opts.ao_maclen, copy + p.th.hdrlen, p.th.payload_len, got);
        if (v->flags & TCPC_TCP_AO_KEYF_EXCLUDE_OPT)
            assert_memory_equal(got, want, TCP_AO_MACLEN);
        else
            assert_memory_not_equal(got, want, TCP_AO_MACLEN);
        /* The SNE is in the MAC. */
        tcp_ao_mac(k, tk, tklen, 1, &p.ip.src, &p.ip.dst, p.seg, p.th.hdrlen, p.th.opts.ao_off,
                   p.th.opts.ao_maclen, p.th.payload, p.th.payload_len, got);
        assert_memory_not_equal(got, want, TCP_AO_MACLEN);
        tcp_ao_key_release(k);
    }
}

/* Our signing path (the one every segment we send takes): the parsed
 * segment, its MAC cleared, signed again from the MKT and ISNs, carries
 * the vector's MAC and, emitted, is the captured segment byte for byte. */
static void test_sign_reproduces(void **state)
{
    (void)state;
    for (size_t i = 0; i < NVECTORS; i++) {
        const struct ao_vector *v = &vectors[i];
        print_message("%s\n", v->name);
        struct parsed p;
        parse(v, &p);
        struct tcp_ao_key *k = mkt(v);
        k->sndid = p.th.opts.ao_keyid;
        k->rcvid = p.th.opts.ao_rnextkeyid;
        uint8_t want[TCP_AO_MACLEN];
        unhex(v->mac, want, sizeof(want));
        struct tcp_repr th = p.th;
        memset(th.opts.ao_mac, 0, sizeof(th.opts.ao_mac));
        th.opts.present &= (uint8_t)~TOF_AO;
        struct tcp_ao_sign s = {.key = k, .sisn = v->sisn, .disn = v->disn, .sne = 0};
        tcp_ao_sign(&s, &p.ip, &th);
        assert_memory_equal(th.opts.ao_mac, want, TCP_AO_MACLEN);
        uint8_t out[256];
        int n = tcp_emit_packet(&p.ip, &th, out, sizeof(out));
        assert_int_equal(n, (int)(p.ip.hdrlen + p.ip.payload_len));
        /* All but the checksum, which we compute and the capture did not. */
        const uint8_t *seg = out + p.ip.hdrlen;
        assert_memory_equal(seg, p.seg, 16);
        assert_memory_equal(seg + 18, p.seg + 18, p.ip.payload_len - 18);
        assert_true(tcp_cksum_ok(&p.ip, seg, p.ip.payload_len));
        tcp_ao_key_release(k);
    }
}

/* KDF_AES_128_CMAC with a 16-byte master key uses it as it is (RFC 5926
 * 3.1.1.2), so two MKTs whose keys differ give different traffic keys, and
 * a key as long as 80 bytes is taken (HMAC hashes it first). */
static void test_key_lengths(void **state)
{
    (void)state;
    uint8_t key[TCPC_TCP_AO_MAXKEYLEN];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)i;
    const struct tcpc_addr a = tcpc_addr_v4(0xc6120001), b = tcpc_addr_v4(0xc6120002);
    uint8_t k16[TCP_AO_TKEY_MAX], k17[TCP_AO_TKEY_MAX], k80[TCP_AO_TKEY_MAX];
    int err;
    struct tcp_ao_key *m16 =
        tcp_ao_key_new(&mem_libc, TCPC_TCP_AO_ALG_AES_128_CMAC_96, 0, key, 16, &err);
    struct tcp_ao_key *m17 =
        tcp_ao_key_new(&mem_libc, TCPC_TCP_AO_ALG_AES_128_CMAC_96, 0, key, 17, &err);
    struct tcp_ao_key *m80 =
        tcp_ao_key_new(&mem_libc, TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, key, 80, &err);
    assert_non_null(m16);
    assert_non_null(m17);
    assert_non_null(m80);
    assert_memory_equal(m16->kdf_key, key, 16);
    assert_memory_not_equal(m17->kdf_key, key, 16);
    assert_int_equal(tcp_ao_traffic_key(m16, &a, &b, 1, 2, 3, 4, k16), 16);
    assert_int_equal(tcp_ao_traffic_key(m17, &a, &b, 1, 2, 3, 4, k17), 16);
    assert_int_equal(tcp_ao_traffic_key(m80, &a, &b, 1, 2, 3, 4, k80), 20);
    assert_memory_not_equal(k16, k17, 16);
    tcp_ao_key_release(m16);
    tcp_ao_key_release(m17);
    tcp_ao_key_release(m80);
    /* Refused: an unknown algorithm, an empty or too long key, a flag. */
    assert_null(tcp_ao_key_new(&mem_libc, 3, 0, key, 16, &err));
    assert_int_equal(err, -EINVAL);
    assert_null(tcp_ao_key_new(&mem_libc, TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, key, 0, &err));
    assert_null(tcp_ao_key_new(&mem_libc, TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0, key, 81, &err));
    assert_null(tcp_ao_key_new(&mem_libc, TCPC_TCP_AO_ALG_HMAC_SHA1_96, 0x01, key, 8, &err));
    assert_int_equal(err, -EINVAL);
}

/* RFC 5925 6.2: the SNE of a sequence number within 2^31 of one whose SNE
 * is known: the same cycle, the next one past a wrap, the one before. */
static void test_sne(void **state)
{
    (void)state;
    assert_int_equal(tcp_ao_sne(0, 1000, 2000), 0);
    assert_int_equal(tcp_ao_sne(0, 1000, 500), 0);
    assert_int_equal(tcp_ao_sne(0, 0xfffffff0u, 0x10), 1);
    assert_int_equal(tcp_ao_sne(1, 0x10, 0xfffffff0u), 0);
    assert_int_equal(tcp_ao_sne(7, 0x7fffffffu, 0x80000000u), 7);
    assert_int_equal(tcp_ao_sne(7, 0x80000000u, 0x7fffffffu), 7);
    assert_int_equal(tcp_ao_sne(7, 0xc0000000u, 0x3fffffffu), 8);
    assert_int_equal(tcp_ao_sne(0xffffffffu, 0xffffff00u, 0x100), 0); /* SNE wraps too */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traffic_keys),
        cmocka_unit_test(test_macs),
        cmocka_unit_test(test_sign_reproduces),
        cmocka_unit_test(test_key_lengths),
        cmocka_unit_test(test_sne),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
