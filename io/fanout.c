/*
 * The per-core ownership rule and its classic BPF form; see fanout.h.
 */
#include "fanout.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

/* Multiplier that spreads the folded tuple's bits before the modulo (the
 * 32-bit golden ratio): a plain XOR of addresses and ports leaves the low
 * bits, which the modulo keeps, to the ports' low bits alone. */
#define FANOUT_MIX 0x9e3779b1u

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define PROTO_TCP      6
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

/* The program's labels: forward jumps are written with a label and
 * resolved once every instruction is placed. */
enum fanout_label { L_NONE, L_NOT_V4, L_PORTS, L_HASH, L_ZERO, L_COUNT };

struct fanout_fix {
    unsigned ins; /* the jump */
    enum fanout_label jt, jf, ja;
};

struct fanout_asm {
    struct sock_filter *ins;
    unsigned n;
    unsigned at[L_COUNT]; /* where each label is */
    struct fanout_fix fix[16];
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

/* IPv4: TCP, not a fragment; M[0] = saddr ^ daddr, X = header length. */
static void emit_v4(struct fanout_asm *a)
{
    ld_net(a, BPF_B, 9);
    jmp(a, BPF_JEQ, PROTO_TCP, L_NONE, L_ZERO);
    ld_net(a, BPF_H, 6);
    jmp(a, BPF_JSET, 0x3fff, L_ZERO, L_NONE); /* more fragments, or an offset */
    ld_net(a, BPF_W, 12);
    op(a, BPF_MISC | BPF_TAX, 0);
    ld_net(a, BPF_W, 16);
    op(a, BPF_ALU | BPF_XOR | BPF_X, 0);
    op(a, BPF_ST, 0);
    /* X = 4 * IHL, spelled out rather than with the MSH load, whose
     * network-relative form not every kernel's translation takes. */
    ld_net(a, BPF_B, 0);
    op(a, BPF_ALU | BPF_AND | BPF_K, 0x0f);
    op(a, BPF_ALU | BPF_LSH | BPF_K, 2);
    op(a, BPF_MISC | BPF_TAX, 0);
    ja(a, L_PORTS);
}

/* IPv6 with TCP as the first next header; M[0] = XOR of the eight address
 * words, X = 40. */
static void emit_v6(struct fanout_asm *a)
{
    ld_net(a, BPF_B, 6);
    jmp(a, BPF_JEQ, PROTO_TCP, L_NONE, L_ZERO);
    ld_net(a, BPF_W, 8);
    for (uint32_t off = 12; off < 40; off += 4) {
        op(a, BPF_MISC | BPF_TAX, 0);
        ld_net(a, BPF_W, off);
        op(a, BPF_ALU | BPF_XOR | BPF_X, 0);
    }
    op(a, BPF_ST, 0);
    op(a, BPF_LDX | BPF_W | BPF_IMM, IPV6_HDR_LEN);
}

/* With X at the TCP header: the ephemeral range's dport mod N, or the
 * symmetric hash. */
static void emit_ports(struct fanout_asm *a, const struct tcpc_afp_fanout_rule *rule)
{
    label(a, L_PORTS);
    op(a, BPF_LD | BPF_H | BPF_IND, (uint32_t)SKF_NET_OFF + 2);
    jmp(a, BPF_JGE, rule->port_first, L_NONE, L_HASH);
    jmp(a, BPF_JGT, rule->port_last, L_HASH, L_NONE);
    op(a, BPF_ALU | BPF_MOD | BPF_K, rule->nqueues);
    op(a, BPF_RET | BPF_A, 0);
    label(a, L_HASH);
    op(a, BPF_ST, 1);
    op(a, BPF_LD | BPF_H | BPF_IND, (uint32_t)SKF_NET_OFF);
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
    label(&a, L_NOT_V4);
    jmp(&a, BPF_JEQ, ETHERTYPE_IPV6, L_NONE, L_ZERO);
    emit_v6(&a);
    emit_ports(&a, rule);
    label(&a, L_ZERO);
    op(&a, BPF_RET | BPF_K, 0);
    resolve(&a);
    return (int)a.n;
}
