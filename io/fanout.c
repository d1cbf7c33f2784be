/*
 * The per-core ownership rule and its classic BPF form; see fanout.h.
 */
#include "fanout.h"

#include <assert.h>
#include <errno.h>

/* Multiplier that spreads the folded tuple's bits before the modulo (the
 * 32-bit golden ratio): a plain XOR of addresses and ports leaves the low
 * bits, which the modulo keeps, to the ports' low bits alone. */
#define FANOUT_MIX 0x9e3779b1u

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define PROTO_TCP      6
#define PROTO_ICMP     1
#define PROTO_ICMPV6   58
#define IPV6_HDR_LEN   40

int tcpc_afp_fanout_rule_init(struct tcpc_afp_fanout_rule *rule, unsigned nqueues,
                              const struct tcpc_config *cfg)
{
    int64_t first = 0, last = 0;
    if (nqueues == 0 || nqueues > TCPC_AFP_FANOUT_MAX)
        return -EINVAL;
    if (tcpc_config_sysctl_get(cfg, "net.inet.ip.portrange.first", &first) ||
        tcpc_config_sysctl_get(cfg, "net.inet.ip.portrange.last", &last))
        return -EINVAL;
    *rule = (struct tcpc_afp_fanout_rule){
        .nqueues = nqueues, .port_first = (uint16_t)first, .port_last = (uint16_t)last};
    return 0;
}

static uint32_t be32_at(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An address folded to one word by XOR: the IPv4 address itself, or the
 * four words of an IPv6 one; what the program gets by XORing the words of
 * the packet's two address fields. */
static uint32_t fold_addr(const struct tcpc_addr *a)
{
    if (tcpc_addr_is_v4(a))
        return be32_at(a->bytes + 12);
    return be32_at(a->bytes) ^ be32_at(a->bytes + 4) ^ be32_at(a->bytes + 8) ^
           be32_at(a->bytes + 12);
}

unsigned tcpc_afp_fanout_queue(const struct tcpc_afp_fanout_rule *rule, const struct tcpc_addr *src,
                               uint16_t sport, const struct tcpc_addr *dst, uint16_t dport)
{
    assert(rule->nqueues > 0);
    if (dport >= rule->port_first && dport <= rule->port_last)
        return dport % rule->nqueues;
    /* XOR is the same whichever end is the source: symmetric. */
    uint32_t h = (fold_addr(src) ^ fold_addr(dst) ^ (uint32_t)(sport ^ dport)) * FANOUT_MIX;
    h ^= h >> 16;
    return h % rule->nqueues;
}

bool tcpc_afp_fanout_owns(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                          const struct tcpc_addr *laddr, uint16_t lport)
{
    const struct tcpc_afp_fanout_owner *o = ctx;
    return tcpc_afp_fanout_queue(o->rule, faddr, fport, laddr, lport) == o->queue;
}

unsigned tcpc_afp_fanout_member(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                                const struct tcpc_addr *laddr, uint16_t lport)
{
    return tcpc_afp_fanout_queue(ctx, faddr, fport, laddr, lport);
}

/* The program's labels: forward jumps are written with a label and
 * resolved once every instruction is placed. */
enum fanout_label {
    L_NONE,
    L_NOT_V4,
    L_V4_ICMP,
    L_ICMP4_ERR,
    L_V6_ICMP,
    L_PORTS,
    L_HASH,
    L_QUOTED,
    L_QUOTED_HASH,
    L_MIX,
    L_ZERO,
    L_COUNT
};

struct fanout_fix {
    unsigned ins; /* the jump */
    enum fanout_label jt, jf, ja;
};

struct fanout_asm {
    struct sock_filter *ins;
    unsigned n;
    unsigned at[L_COUNT]; /* where each label is */
    struct fanout_fix fix[32];
    unsigned nfix;
};

static void op(struct fanout_asm *a, uint16_t code, uint32_t k)
{
    assert(a->n < TCPC_AFP_FANOUT_PROG_LEN);
    a->ins[a->n++] = (struct sock_filter){.code = code, .k = k};
}

/* A conditional jump on A against k: to jt when true, jf when false
 * (L_NONE: the next instruction). */
static void jmp(struct fanout_asm *a, uint16_t cond, uint32_t k, enum fanout_label jt,
                enum fanout_label jf)
{
    assert(a->nfix < sizeof(a->fix) / sizeof(a->fix[0]));
    a->fix[a->nfix++] = (struct fanout_fix){.ins = a->n, .jt = jt, .jf = jf};
    op(a, BPF_JMP | cond | BPF_K, k);
}

static void ja(struct fanout_asm *a, enum fanout_label to)
{
    assert(a->nfix < sizeof(a->fix) / sizeof(a->fix[0]));
    a->fix[a->nfix++] = (struct fanout_fix){.ins = a->n, .ja = to};
    op(a, BPF_JMP | BPF_JA, 0);
}

static void label(struct fanout_asm *a, enum fanout_label l)
{
    a->at[l] = a->n;
}

static uint8_t offset_to(const struct fanout_asm *a, unsigned from, enum fanout_label l)
{
    if (l == L_NONE)
        return 0;
    assert(a->at[l] > from && a->at[l] - from - 1 <= UINT8_MAX);
    return (uint8_t)(a->at[l] - from - 1);
}

static void resolve(struct fanout_asm *a)
{
    for (unsigned i = 0; i < a->nfix; i++) {
        struct sock_filter *f = &a->ins[a->fix[i].ins];
        if (BPF_OP(f->code) == BPF_JA) {
            f->k = offset_to(a, a->fix[i].ins, a->fix[i].ja);
            continue;
        }
        f->jt = offset_to(a, a->fix[i].ins, a->fix[i].jt);
        f->jf = offset_to(a, a->fix[i].ins, a->fix[i].jf);
    }
}

/* A load of `size` bytes at offset off of the network header. */
static void ld_net(struct fanout_asm *a, uint16_t size, uint32_t off)
{
    op(a, BPF_LD | size | BPF_ABS, (uint32_t)SKF_NET_OFF + off);
}

/* A <- XOR of the count 32-bit words from off of the network header
 * (absolute loads; X is clobbered). */
static void fold_words(struct fanout_asm *a, uint32_t off, unsigned count)
{
    ld_net(a, BPF_W, off);
    for (unsigned i = 1; i < count; i++) {
        op(a, BPF_MISC | BPF_TAX, 0);
        ld_net(a, BPF_W, off + 4 * i);
        op(a, BPF_ALU | BPF_XOR | BPF_X, 0);
    }
}

/* A load at X + off of the network header. */
static void ld_ind(struct fanout_asm *a, uint16_t size, uint32_t off)
{
    op(a, BPF_LD | size | BPF_IND, (uint32_t)SKF_NET_OFF + off);
}

/* A = 4 * the IHL of the IPv4 header at off (from X when ind), spelled out
 * rather than with the MSH load, whose network-relative form not every
 * kernel's translation takes. */
static void ihl_to_a(struct fanout_asm *a, bool ind, uint32_t off)
{
    if (ind)
        ld_ind(a, BPF_B, off);
    else
        ld_net(a, BPF_B, off);
    op(a, BPF_ALU | BPF_AND | BPF_K, 0x0f);
    op(a, BPF_ALU | BPF_LSH | BPF_K, 2);
}

/* IPv4 that is not a fragment: TCP with M[0] = saddr ^ daddr and X at its
 * header, or an ICMP error. */
static void emit_v4(struct fanout_asm *a)
{
    ld_net(a, BPF_H, 6);
    jmp(a, BPF_JSET, 0x3fff, L_ZERO, L_NONE); /* more fragments, or an offset */
    ld_net(a, BPF_B, 9);
    jmp(a, BPF_JEQ, PROTO_TCP, L_NONE, L_V4_ICMP);
    fold_words(a, 12, 2);
    op(a, BPF_ST, 0);
    ihl_to_a(a, false, 0);
    op(a, BPF_MISC | BPF_TAX, 0);
    ja(a, L_PORTS);
}

/* An ICMP error (unreachable, time exceeded, parameter problem) quoting a
 * TCP segment we sent: M[0] = the quoted addresses' XOR, X at the quoted
 * TCP header. The quoted source port is ours. */
static void emit_icmp4(struct fanout_asm *a)
{
    label(a, L_V4_ICMP);
    jmp(a, BPF_JEQ, PROTO_ICMP, L_NONE, L_ZERO);
    ihl_to_a(a, false, 0);
    op(a, BPF_MISC | BPF_TAX, 0);
    ld_ind(a, BPF_B, 0); /* the ICMP type */
    jmp(a, BPF_JEQ, 3, L_ICMP4_ERR, L_NONE);
    jmp(a, BPF_JEQ, 11, L_ICMP4_ERR, L_NONE);
    jmp(a, BPF_JEQ, 12, L_NONE, L_ZERO);
    label(a, L_ICMP4_ERR);
    ld_ind(a, BPF_B, 8 + 9);
    jmp(a, BPF_JEQ, PROTO_TCP, L_NONE, L_ZERO);
    /* X holds the offset, so the two words meet in memory. */
    ld_ind(a, BPF_W, 8 + 12);
    op(a, BPF_ST, 1);
    ld_ind(a, BPF_W, 8 + 16);
    op(a, BPF_ST, 2);
    ihl_to_a(a, true, 8);
    op(a, BPF_ALU | BPF_ADD | BPF_X, 0);
    op(a, BPF_ALU | BPF_ADD | BPF_K, 8);
    op(a, BPF_ST, 3);
    op(a, BPF_LD | BPF_MEM, 1);
    op(a, BPF_LDX | BPF_W | BPF_MEM, 2);
    op(a, BPF_ALU | BPF_XOR | BPF_X, 0);
    op(a, BPF_ST, 0);
    op(a, BPF_LDX | BPF_W | BPF_MEM, 3);
    ja(a, L_QUOTED);
}

/* IPv6 with TCP as the first next header (M[0] = the addresses' XOR, X =
 * 40), or an ICMPv6 error (types 1 to 4) quoting a TCP segment right after
 * its IPv6 header. */
static void emit_v6(struct fanout_asm *a)
{
    ld_net(a, BPF_B, 6);
    jmp(a, BPF_JEQ, PROTO_TCP, L_NONE, L_V6_ICMP);
    fold_words(a, 8, 8);
    op(a, BPF_ST, 0);
    op(a, BPF_LDX | BPF_W | BPF_IMM, IPV6_HDR_LEN);
    ja(a, L_PORTS);
    label(a, L_V6_ICMP);
    jmp(a, BPF_JEQ, PROTO_ICMPV6, L_NONE, L_ZERO);
    ld_net(a, BPF_B, IPV6_HDR_LEN);
    jmp(a, BPF_JGE, 1, L_NONE, L_ZERO);
    jmp(a, BPF_JGT, 4, L_ZERO, L_NONE);
    ld_net(a, BPF_B, IPV6_HDR_LEN + 8 + 6);
    jmp(a, BPF_JEQ, PROTO_TCP, L_NONE, L_ZERO);
    fold_words(a, IPV6_HDR_LEN + 8 + 8, 8);
    op(a, BPF_ST, 0);
    op(a, BPF_LDX | BPF_W | BPF_IMM, IPV6_HDR_LEN + 8 + IPV6_HDR_LEN);
    ja(a, L_QUOTED);
}

/* With X at a TCP header whose local port is at local_off (2: a received
 * segment's destination; 0: the source of one we sent, quoted in an ICMP
 * error): the ephemeral range's port mod N, or on to the hash with M[1] =
 * the local port and A = the other. */
static void emit_ports(struct fanout_asm *a, const struct tcpc_afp_fanout_rule *rule,
                       enum fanout_label at, enum fanout_label hash, uint32_t local_off)
{
    label(a, at);
    ld_ind(a, BPF_H, local_off);
    jmp(a, BPF_JGE, rule->port_first, L_NONE, hash);
    jmp(a, BPF_JGT, rule->port_last, hash, L_NONE);
    op(a, BPF_ALU | BPF_MOD | BPF_K, rule->nqueues);
    op(a, BPF_RET | BPF_A, 0);
    label(a, hash);
    op(a, BPF_ST, 1);
    ld_ind(a, BPF_H, 2 - local_off);
}

/* The symmetric hash of fanout_queue, from M[0], M[1] and A. */
static void emit_mix(struct fanout_asm *a, const struct tcpc_afp_fanout_rule *rule)
{
    label(a, L_MIX);
    op(a, BPF_LDX | BPF_W | BPF_MEM, 1);
    op(a, BPF_ALU | BPF_XOR | BPF_X, 0); /* sport ^ dport */
    op(a, BPF_LDX | BPF_W | BPF_MEM, 0);
    op(a, BPF_ALU | BPF_XOR | BPF_X, 0);
    op(a, BPF_ALU | BPF_MUL | BPF_K, FANOUT_MIX);
    op(a, BPF_MISC | BPF_TAX, 0);
    op(a, BPF_ALU | BPF_RSH | BPF_K, 16);
    op(a, BPF_ALU | BPF_XOR | BPF_X, 0);
    op(a, BPF_ALU | BPF_MOD | BPF_K, rule->nqueues);
    op(a, BPF_RET | BPF_A, 0);
}

int tcpc_afp_fanout_program(const struct tcpc_afp_fanout_rule *rule, struct sock_filter *prog)
{
    if (rule->nqueues == 0 || rule->nqueues > TCPC_AFP_FANOUT_MAX)
        return -EINVAL;
    struct fanout_asm a = {.ins = prog};
    op(&a, BPF_LD | BPF_H | BPF_ABS, (uint32_t)SKF_AD_OFF + SKF_AD_PROTOCOL);
    jmp(&a, BPF_JEQ, ETHERTYPE_IPV4, L_NONE, L_NOT_V4);
    emit_v4(&a);
    emit_icmp4(&a);
    label(&a, L_NOT_V4);
    jmp(&a, BPF_JEQ, ETHERTYPE_IPV6, L_NONE, L_ZERO);
    emit_v6(&a);
    emit_ports(&a, rule, L_PORTS, L_HASH, 2);
    ja(&a, L_MIX);
    emit_ports(&a, rule, L_QUOTED, L_QUOTED_HASH, 0);
    emit_mix(&a, rule);
    label(&a, L_ZERO);
    op(&a, BPF_RET | BPF_K, 0);
    resolve(&a);
    return (int)a.n;
}
