/*
 * Echo replies; see icmp_echo.h.
 *
 * The reply goes back to the request's source from the address the request
 * was sent to, with the request's identifier, sequence number and data
 * (RFC 792's "echo reply"; RFC 4443 4.2: the data whole). It is built in
 * the stack's output buffer and leaves through ip_output like any packet,
 * so on an Ethernet link it resolves its next hop too. The TTL is a fresh
 * 64 and the traffic class the request's (FreeBSD's icmp_reflect keeps the
 * TOS); an IPv4 reply does not set DF and draws a random identification.
 *
 * The rate limit is FreeBSD's badport_bandlim: at most icmplim replies in
 * any one-second window, the rest counted as icps_toofreq / icp6s_toofreq
 * and dropped, so that the stack cannot be turned into a cheap amplifier.
 */
#include "core/icmp_echo.h"

#include "core/ip_input.h"
#include "core/rand.h"
#include "core/stack.h"
#include "wire/icmp.h"

#define ICMP_REPLY_TTL 64

/* Whether one more reply fits this second's budget. */
static bool icmp_limit_ok(struct tcpc_stack *stack, unsigned f)
{
    int64_t lim = stack->cfg.tun.icmplim;
    if (lim == 0)
        return true;
    struct icmp_limit *l = &stack->icmplim;
    if (stack->now - l->start[f] >= TCPC_USEC_PER_SEC || l->count[f] == 0) {
        l->start[f] = stack->now;
        l->count[f] = 0;
    }
    if (l->count[f] >= (uint64_t)lim)
        return false;
    l->count[f]++;
    return true;
}

void icmp_echo_input(struct tcpc_stack *stack, const struct ip_repr *ip, const uint8_t *msg)
{
    bool v6 = ip->version == 6;
    struct icmp_echo_repr echo;
    int err = icmp_echo_parse(ip, msg, ip->payload_len, &echo);
    if (err < 0) {
        stack_drop(stack, ip_input_error_stat(err), "bad echo request");
        return;
    }
    if (!icmp_limit_ok(stack, v6)) {
        stack_drop(stack, v6 ? TCPC_STAT_icp6s_toofreq : TCPC_STAT_icps_toofreq,
                   "echo reply over net.inet.icmp.icmplim");
        return;
    }
    struct ip_repr reply = {
        .src = ip->dst,
        .dst = ip->src,
        .version = ip->version,
        .ttl = ICMP_REPLY_TTL,
        .tos = ip->tos,
        .id = v6 ? 0 : (uint16_t)rand_u32(&stack->rand),
    };
    echo.type = v6 ? ICMP6_ECHO_REPLY : ICMP4_ECHOREPLY;
    uint8_t *pkt = stack_outbuf(stack);
    int len = icmp_echo_emit_packet(&reply, &echo, pkt, STACK_OUTBUF_LEN);
    if (len < 0)
        return; /* cannot happen: the request fitted in a packet */
    if (ip_output(stack, &reply.dst, pkt, (size_t)len) == 0) {
        if (v6)
            STAT_INC(stack, icp6s_reflect);
        else
            STAT_INC(stack, icps_reflect);
    }
}
