/*
 * The per-core ownership rule of io/fanout.h, without a kernel: the rule
 * itself (ephemeral ports by port mod N, the rest by a symmetric hash), the
 * classic BPF program that gives the kernel the same rule, run here by a
 * small evaluator over crafted packets (IPv4 with and without options,
 * IPv6, and what must fall back to queue 0), and a stack that takes its
 * ephemeral ports under the rule, whose replies the program steers home.
 * The kernel's own run of the program is tests/interop/mq_spread.sh.
 */
#include <linux/filter.h>

#include "fanout.h"
#include "tcp_probe.h"
#include "test_tcp_fixture.h"

/* --- a classic BPF evaluator, for the instructions the program uses ---- */

/* A load from the packet (network-header offsets) or the protocol. */
static bool bpf_load(const uint8_t *pkt, size_t len, uint16_t proto, int64_t off, unsigned size,
                     uint32_t *out)
{
    if (off == SKF_AD_OFF + SKF_AD_PROTOCOL) {
        *out = proto;
        return true;
    }
    assert_true(off >= SKF_NET_OFF && off < SKF_NET_OFF + 0x10000); /* nothing else is used */
    int64_t at = off - SKF_NET_OFF;
    if (at + size > (int64_t)len)
        return false;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v = v << 8 | pkt[at + i];
    *out = v;
    return true;
}

static unsigned bpf_size(uint16_t code)
{
    return BPF_SIZE(code) == BPF_W ? 4 : BPF_SIZE(code) == BPF_H ? 2 : 1;
}

static uint32_t bpf_alu(uint16_t code, uint32_t a, uint32_t v)
{
    switch (BPF_OP(code)) {
    case BPF_ADD:
        return a + v;
    case BPF_SUB:
        return a - v;
    case BPF_MUL:
        return a * v;
    case BPF_AND:
        return a & v;
    case BPF_OR:
        return a | v;
    case BPF_XOR:
        return a ^ v;
    case BPF_LSH:
        return a << (v & 31);
    case BPF_RSH:
        return a >> (v & 31);
    case BPF_MOD:
        assert_true(v != 0);
        return a % v;
    default:
        fail_msg("ALU op 0x%x not modelled", BPF_OP(code));
        return 0;
    }
}

static bool bpf_cond(uint16_t code, uint32_t a, uint32_t k)
{
    switch (BPF_OP(code)) {
    case BPF_JEQ:
        return a == k;
    case BPF_JGT:
        return a > k;
    case BPF_JGE:
        return a >= k;
    case BPF_JSET:
        return (a & k) != 0;
    default:
        fail_msg("jump 0x%x not modelled", BPF_OP(code));
        return false;
    }
}

/* Runs prog over an IP packet as the kernel would (a failed load ends the
 * program with 0); returns what it returns. */
static uint32_t bpf_run(const struct sock_filter *prog, int n, const uint8_t *pkt, size_t len,
                        uint16_t proto)
{
    uint32_t a = 0, x = 0, mem[16] = {0};
    for (int pc = 0; pc < n; pc++) {
        const struct sock_filter *f = &prog[pc];
        uint32_t v;
        switch (BPF_CLASS(f->code)) {
        case BPF_LD:
            if (BPF_MODE(f->code) == BPF_MEM) {
                assert_true(f->k < 16);
                a = mem[f->k];
                break;
            }
            assert_true(BPF_MODE(f->code) == BPF_ABS || BPF_MODE(f->code) == BPF_IND);
            if (!bpf_load(pkt, len, proto,
                          (int64_t)(int32_t)f->k + (BPF_MODE(f->code) == BPF_IND ? x : 0),
                          bpf_size(f->code), &a))
                return 0;
            break;
        case BPF_LDX:
            assert_true(BPF_MODE(f->code) == BPF_IMM || BPF_MODE(f->code) == BPF_MEM);
            assert_true(BPF_MODE(f->code) == BPF_IMM || f->k < 16);
            x = BPF_MODE(f->code) == BPF_IMM ? f->k : mem[f->k];
            break;
        case BPF_ST:
            assert_true(f->k < 16);
            mem[f->k] = a;
            break;
        case BPF_ALU:
            v = BPF_SRC(f->code) == BPF_X ? x : f->k;
            a = bpf_alu(f->code, a, v);
            break;
        case BPF_JMP:
            if (BPF_OP(f->code) == BPF_JA)
                pc += (int)f->k;
            else
                pc += bpf_cond(f->code, a, f->k) ? f->jt : f->jf;
            assert_true(pc + 1 < n); /* every jump lands inside */
            break;
        case BPF_RET:
            return BPF_RVAL(f->code) == BPF_A ? a : f->k;
        case BPF_MISC:
            if (BPF_MISCOP(f->code) == BPF_TAX)
                x = a;
            else
                a = x;
            break;
        default:
            fail_msg("class 0x%x not modelled", BPF_CLASS(f->code));
        }
    }
    fail_msg("the program ran off its end");
    return 0;
}

/* --- helpers ---------------------------------------------------------- */

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static struct tcpc_addr rnd_addr(bool v6)
{
    if (!v6)
        return tcpc_addr_v4(0xc6120000u | (rnd() & 0x1ffff)); /* 198.18.0.0/15 */
    struct tcpc_addr a = {{0x20, 0x01, 0x0d, 0xb8}};
    for (unsigned i = 4; i < 16; i++)
        a.bytes[i] = (uint8_t)rnd();
    return a;
}

static struct tcpc_afp_fanout_rule rule_of(unsigned n, uint16_t first, uint16_t last)
{
    return (struct tcpc_afp_fanout_rule){.nqueues = n, .port_first = first, .port_last = last};
}

/* What the kernel would do with the program: its return value mod N. */
static unsigned program_queue(const struct tcpc_afp_fanout_rule *r, const struct probe *pr)
{
    struct sock_filter prog[TCPC_AFP_FANOUT_PROG_LEN];
    int n = tcpc_afp_fanout_program(r, prog);
    assert_true(n > 0 && n <= TCPC_AFP_FANOUT_PROG_LEN);
    uint8_t pkt[PROBE_MAX];
    size_t len = probe_build(pkt, pr);
    uint16_t proto = tcpc_addr_is_v4(&pr->src) ? 0x0800 : 0x86dd;
    return bpf_run(prog, n, pkt, len, proto) % r->nqueues;
}

/* --- the rule --------------------------------------------------------- */

/* The range comes from the configuration the stacks are made from. */
static void test_rule_takes_the_configured_range(void **state)
{
    (void)state;
    struct tcpc_config *cfg;
    assert_int_equal(tcpc_config_new(&cfg), 0);
    struct tcpc_afp_fanout_rule r;
    assert_int_equal(tcpc_afp_fanout_rule_init(&r, 4, cfg), 0);
    assert_int_equal(r.nqueues, 4);
    assert_int_equal(r.port_first, 10000);
    assert_int_equal(r.port_last, 65535);
    assert_int_equal(tcpc_config_sysctl(cfg, "net.inet.ip.portrange.first", 49152, NULL), 0);
    assert_int_equal(tcpc_config_sysctl(cfg, "net.inet.ip.portrange.last", 60999, NULL), 0);
    assert_int_equal(tcpc_afp_fanout_rule_init(&r, 2, cfg), 0);
    assert_int_equal(r.port_first, 49152);
    assert_int_equal(r.port_last, 60999);
    assert_int_equal(tcpc_afp_fanout_rule_init(&r, 0, cfg), -EINVAL);
    assert_int_equal(tcpc_afp_fanout_rule_init(&r, TCPC_AFP_FANOUT_MAX + 1, cfg), -EINVAL);
    assert_int_equal(tcpc_afp_fanout_rule_init(&r, TCPC_AFP_FANOUT_MAX, cfg), 0);
    struct sock_filter prog[TCPC_AFP_FANOUT_PROG_LEN];
    struct tcpc_afp_fanout_rule none = rule_of(0, 1, 2);
    assert_int_equal(tcpc_afp_fanout_program(&none, prog), -EINVAL);
    tcpc_config_del(cfg);
}

/* Inside the range the local port decides, whoever the peer is; outside,
 * the hash, which is the same in both directions and spreads flows. */
static void test_rule_ports_and_hash(void **state)
{
    (void)state;
    struct tcpc_afp_fanout_rule r = rule_of(4, 10000, 65535);
    unsigned per_queue[4] = {0};
    for (unsigned i = 0; i < 4000; i++) {
        bool v6 = i & 1;
        struct tcpc_addr a = rnd_addr(v6), b = rnd_addr(v6);
        uint16_t eph = (uint16_t)(10000 + rnd() % 55536), cport = (uint16_t)(rnd() % 10000);
        assert_int_equal(tcpc_afp_fanout_queue(&r, &a, cport, &b, eph), eph % 4);
        uint16_t svc = (uint16_t)(1 + rnd() % 9999);
        unsigned q = tcpc_afp_fanout_queue(&r, &a, cport, &b, svc);
        assert_int_equal(tcpc_afp_fanout_queue(&r, &b, svc, &a, cport), q);
        per_queue[q]++;
    }
    for (unsigned q = 0; q < 4; q++)
        assert_in_range(per_queue[q], 850, 1150);
    /* The range's edges. */
    struct tcpc_addr a = rnd_addr(false), b = rnd_addr(false);
    struct tcpc_afp_fanout_rule narrow = rule_of(3, 40000, 40010);
    assert_int_equal(tcpc_afp_fanout_queue(&narrow, &a, 80, &b, 40000), 40000 % 3);
    assert_int_equal(tcpc_afp_fanout_queue(&narrow, &a, 80, &b, 40010), 40010 % 3);
    struct tcpc_afp_fanout_owner own = {.rule = &narrow, .queue = 40010 % 3};
    assert_true(tcpc_afp_fanout_owns(&own, &a, 80, &b, 40010));
    own.queue = (own.queue + 1) % 3;
    assert_false(tcpc_afp_fanout_owns(&own, &a, 80, &b, 40010));
}

/* --- the program agrees with the rule ----------------------------------- */

static void check_program_agrees(unsigned n, unsigned opt_words, bool v6)
{
    struct tcpc_afp_fanout_rule r = rule_of(n, 20000, 50000);
    static const uint16_t edges[] = {1, 80, 19999, 20000, 20001, 49999, 50000, 50001, 65535};
    for (unsigned i = 0; i < 300; i++) {
        struct probe pr = {.src = rnd_addr(v6),
                           .dst = rnd_addr(v6),
                           .sport = (uint16_t)rnd(),
                           .dport = i < 9 ? edges[i] : (uint16_t)rnd(),
                           .proto = 6,
                           .opt_words = opt_words};
        unsigned want = tcpc_afp_fanout_queue(&r, &pr.src, pr.sport, &pr.dst, pr.dport);
        assert_int_equal(program_queue(&r, &pr), want);
    }
}

static void test_program_agrees_v4(void **state)
{
    (void)state;
    static const unsigned ns[] = {1, 2, 3, 4, 7, 16, TCPC_AFP_FANOUT_MAX};
    for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        check_program_agrees(ns[i], 0, false);
        check_program_agrees(ns[i], 3, false);  /* the TCP header after 12 bytes of options */
        check_program_agrees(ns[i], 10, false); /* the longest IPv4 header */
    }
}

static void test_program_agrees_v6(void **state)
{
    (void)state;
    static const unsigned ns[] = {1, 2, 3, 4, 7, 16, TCPC_AFP_FANOUT_MAX};
    for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
        check_program_agrees(ns[i], 0, true);
}

/* What the rule does not cover goes to queue 0, even where the ports would
 * say otherwise. */
static void test_program_falls_back_to_zero(void **state)
{
    (void)state;
    struct tcpc_afp_fanout_rule r = rule_of(4, 10000, 65535);
    struct probe v4 = {.src = tcpc_addr_v4(0xc6120002),
                       .dst = tcpc_addr_v4(0xc6120001),
                       .sport = 80,
                       .dport = 40001,
                       .proto = 6};
    assert_int_equal(program_queue(&r, &v4), 1);
    struct probe p = v4;
    p.proto = 17; /* UDP */
    assert_int_equal(program_queue(&r, &p), 0);
    p = v4;
    p.frag = 0x2000; /* more fragments */
    assert_int_equal(program_queue(&r, &p), 0);
    p.frag = 0x0010; /* a later fragment */
    assert_int_equal(program_queue(&r, &p), 0);
    p.frag = 0x4000; /* don't fragment: a whole packet */
    assert_int_equal(program_queue(&r, &p), 1);
    struct probe v6 = v4;
    assert_int_equal(tcpc_addr_parse("2001:db8::2", &v6.src), 0);
    assert_int_equal(tcpc_addr_parse("2001:db8::1", &v6.dst), 0);
    assert_int_equal(program_queue(&r, &v6), 1);
    v6.v6_next = 60; /* destination options, then TCP */
    assert_int_equal(program_queue(&r, &v6), 0);
    /* Neither IPv4 nor IPv6 (ARP), and a packet cut short of its ports. */
    struct sock_filter prog[TCPC_AFP_FANOUT_PROG_LEN];
    int n = tcpc_afp_fanout_program(&r, prog);
    uint8_t pkt[PROBE_MAX];
    size_t len = probe_build(pkt, &v4);
    assert_int_equal(bpf_run(prog, n, pkt, len, 0x0806), 0);
    assert_int_equal(bpf_run(prog, n, pkt, 22, 0x0800), 0);
    assert_int_equal(bpf_run(prog, n, pkt, len, 0x0800), 1);
}

/* The queue of a packet as the program picks it. */
static unsigned program_queue_of(const struct tcpc_afp_fanout_rule *r, const uint8_t *pkt,
                                 size_t len)
{
    struct sock_filter prog[TCPC_AFP_FANOUT_PROG_LEN];
    int n = tcpc_afp_fanout_program(r, prog);
    uint16_t proto = pkt[0] >> 4 == 4 ? 0x0800 : 0x86dd;
    return bpf_run(prog, n, pkt, len, proto) % r->nqueues;
}

/* An ICMP error about a segment we sent goes where the replies to that
 * segment go: the quoted source port is the local one. */
static void check_icmp_errors(bool v6)
{
    static const unsigned ns[] = {2, 3, 4, 16};
    for (unsigned k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
        struct tcpc_afp_fanout_rule r = rule_of(ns[k], 20000, 50000);
        for (unsigned i = 0; i < 300; i++) {
            struct probe ours = {.src = rnd_addr(v6),
                                 .dst = rnd_addr(v6),
                                 .sport = (uint16_t)rnd(),
                                 .dport = (uint16_t)rnd(),
                                 .proto = 6,
                                 .opt_words = v6 ? 0 : rnd() % 3};
            struct tcpc_addr router = rnd_addr(v6);
            uint8_t pkt[PROBE_MAX];
            size_t len = probe_icmp_error(pkt, &router, &ours, v6 ? 0 : rnd() % 3);
            unsigned want = tcpc_afp_fanout_queue(&r, &ours.dst, ours.dport, &ours.src, ours.sport);
            assert_int_equal(program_queue_of(&r, pkt, len), want);
        }
    }
}

static void test_program_steers_icmp_errors_v4(void **state)
{
    (void)state;
    check_icmp_errors(false);
}

static void test_program_steers_icmp_errors_v6(void **state)
{
    (void)state;
    check_icmp_errors(true);
}

/* ICMP that is not an error about TCP goes to queue 0. */
static void test_program_other_icmp_to_zero(void **state)
{
    (void)state;
    struct tcpc_afp_fanout_rule r = rule_of(4, 10000, 65535);
    for (int v6 = 0; v6 < 2; v6++) {
        struct probe ours = {
            .src = rnd_addr(v6), .dst = rnd_addr(v6), .sport = 40001, .dport = 443, .proto = 6};
        struct tcpc_addr router = rnd_addr(v6);
        uint8_t pkt[PROBE_MAX];
        size_t len = probe_icmp_error(pkt, &router, &ours, 0);
        size_t icmp = v6 ? 40 : 20;
        assert_int_equal(program_queue_of(&r, pkt, len), 1);
        pkt[icmp] = v6 ? 128 : 8; /* an echo request */
        assert_int_equal(program_queue_of(&r, pkt, len), 0);
        pkt[icmp] = v6 ? 135 : 5; /* neighbour solicitation / redirect */
        assert_int_equal(program_queue_of(&r, pkt, len), 0);
        ours.proto = 17; /* quoting UDP */
        len = probe_icmp_error(pkt, &router, &ours, 0);
        assert_int_equal(program_queue_of(&r, pkt, len), 0);
        ours.proto = 6;
        len = probe_icmp_error(pkt, &router, &ours, 0);
        size_t quoted_tcp = v6 ? 40 + 8 + 40 : 20 + 8 + 20;
        assert_true(len > quoted_tcp + 2);
        assert_int_equal(program_queue_of(&r, pkt, quoted_tcp + 2),
                         1); /* the local port is all it needs */
        assert_int_equal(program_queue_of(&r, pkt, quoted_tcp + 1), 0); /* cut inside it */
    }
}

/* --- a stack under the rule ------------------------------------------- */

/* Every active open takes a port whose replies the program hands to the
 * stack's own queue, in either family. */
static void check_stack_comes_home(bool v6)
{
    struct tcpc_afp_fanout_rule r = rule_of(4, 10000, 65535);
    struct tcpc_afp_fanout_owner own = {.rule = &r, .queue = 3};
    struct h_opts o = {.v6 = v6, .steer = tcpc_afp_fanout_owns, .steer_ctx = &own};
    struct harness *h = h_new(&o);
    for (unsigned i = 0; i < 32; i++) {
        struct h_seg syn;
        fx_connect(h, &syn);
        assert_int_equal(syn.th.sport % 4, 3);
        struct probe reply = {
            .src = h->peer, .dst = h->local, .sport = h->pport, .dport = syn.th.sport, .proto = 6};
        assert_int_equal(program_queue(&r, &reply), 3);
    }
    h_free(h);
}

static void test_stack_ports_come_home_v4(void **state)
{
    (void)state;
    check_stack_comes_home(false);
}

static void test_stack_ports_come_home_v6(void **state)
{
    (void)state;
    check_stack_comes_home(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rule_takes_the_configured_range),
        cmocka_unit_test(test_rule_ports_and_hash),
        cmocka_unit_test(test_program_agrees_v4),
        cmocka_unit_test(test_program_agrees_v6),
        cmocka_unit_test(test_program_falls_back_to_zero),
        cmocka_unit_test(test_program_steers_icmp_errors_v4),
        cmocka_unit_test(test_program_steers_icmp_errors_v6),
        cmocka_unit_test(test_program_other_icmp_to_zero),
        cmocka_unit_test(test_stack_ports_come_home_v4),
        cmocka_unit_test(test_stack_ports_come_home_v6),
    };
    return cmocka_run_group_tests_name("fanout", tests, NULL, NULL);
}
