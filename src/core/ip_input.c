/*
 * IP input and output for the stack; see ip_input.h.
 */
#include "core/ip_input.h"

#include <errno.h>

#include "core/icmp_echo.h"
#include "core/route.h"
#include "core/stack.h"
#include "wire/icmp.h"
#include "wire/nd.h"
#include "wire/wire.h"

enum tcpc_stat_id ip_input_error_stat(int wire_err)
{
    switch (-wire_err) {
    case WIRE_IP_SHORT:
        return TCPC_STAT_ips_toosmall;
    case WIRE_IP_BADVERSION:
        return TCPC_STAT_ips_badvers;
    case WIRE_IP_BADHLEN:
        return TCPC_STAT_ips_badhlen;
    case WIRE_IP_BADLEN:
        return TCPC_STAT_ips_tooshort;
    case WIRE_IP_BADSUM:
        return TCPC_STAT_ips_badsum;
    case WIRE_IP_FRAGMENT:
        return TCPC_STAT_ips_fragments;
    case WIRE_IP_BADSRC:
        return TCPC_STAT_ips_badaddr;
    case WIRE_IP6_EXTLIMIT:
        return TCPC_STAT_ip6s_toomanyhdr;
    case WIRE_IP6_EXTSHORT:
        return TCPC_STAT_ip6s_exthdrtooshort;
    case WIRE_TCP_SHORT:
        return TCPC_STAT_tcps_rcvshort;
    case WIRE_TCP_BADOFF:
        return TCPC_STAT_tcps_rcvbadoff;
    case WIRE_TCP_BADSUM:
        return TCPC_STAT_tcps_rcvbadsum;
    case WIRE_TCPOPT_BADLEN:
        return TCPC_STAT_tcps_rcvbadopt;
    case WIRE_ICMP_SHORT:
    case WIRE_ICMP_BADQUOTE:
        return TCPC_STAT_icps_tooshort;
    case WIRE_ICMP_BADSUM:
        return TCPC_STAT_icps_checksum;
    default:
        return TCPC_STAT_icps_ignored;
    }
}

static void ip_drop_parse(struct tcpc_stack *stack, int err)
{
    stack_drop(stack, ip_input_error_stat(err), wire_strerror(err));
}

/* Neighbour discovery belongs to the link layer, which src/stack installs
 * in the ICMPv6 slot of the switch on an Ethernet link. */
static void ip_input_nd(struct tcpc_stack *stack, const struct ip_repr *ip, const uint8_t *msg)
{
    const struct ip_protosw *sw = stack->protosw[IPPROTO_ICMP6_];
    if (!sw || !sw->input) {
        stack_drop(stack, TCPC_STAT_icps_ignored, "neighbour discovery on an IP-level link");
        return;
    }
    sw->input(stack, ip, msg, ip->payload_len, NULL);
}

static void ip_input_icmp(struct tcpc_stack *stack, const struct ip_repr *ip, const uint8_t *msg)
{
    uint8_t type = ip->payload_len ? msg[0] : 0;
    /* Before the locality check: solicitations go to multicast groups. */
    if (ip->version == 6 && nd_is_nd_type(type)) {
        ip_input_nd(stack, ip, msg);
        return;
    }
    if (!tcpc_addr_is_local(stack, &ip->dst)) {
        stack_drop(stack, TCPC_STAT_ips_notlocal, "ICMP for an address not ours");
        return;
    }
    if (type == (ip->version == 6 ? ICMP6_ECHO_REQUEST : ICMP4_ECHO)) {
        icmp_echo_input(stack, ip, msg);
        return;
    }
    struct icmp_repr icmp;
    int err = icmp_parse(ip, msg, ip->payload_len, &icmp);
    if (err < 0) {
        ip_drop_parse(stack, err);
        return;
    }
    const struct ip_protosw *sw = stack->protosw[icmp.quoted_proto];
    if (!sw || !sw->ctlinput || !tcpc_addr_is_local(stack, &icmp.quoted_src)) {
        stack_drop(stack, TCPC_STAT_icps_ignored, "ICMP error quotes no segment of ours");
        return;
    }
    STAT_INC(stack, icps_unreach);
    sw->ctlinput(stack, &icmp);
}

void ip_input(struct tcpc_stack *stack, const uint8_t *pkt, size_t len, const uint32_t *flow)
{
    struct ip_repr ip;
    STAT_INC(stack, ips_total);
    int hdrlen = ip_parse(pkt, len, &ip);
    if (hdrlen < 0) {
        ip_drop_parse(stack, hdrlen);
        return;
    }
    /* ip_parse guarantees an address is v4-mapped exactly when the packet
     * is IPv4 (RFC 4291 2.5.5.2: IPv6 headers never carry mapped
     * addresses), so one address space serves both families. */
    const uint8_t *payload = pkt + hdrlen;
    bool icmp = ip.proto == (ip.version == 4 ? IPPROTO_ICMP_ : IPPROTO_ICMP6_);
    if (icmp) {
        ip_input_icmp(stack, &ip, payload);
        return;
    }
    /* The ICMPv6 slot holds neighbour discovery, which means nothing in an
     * IPv4 packet's protocol field. */
    const struct ip_protosw *sw = ip.proto == IPPROTO_ICMP6_ ? NULL : stack->protosw[ip.proto];
    if (!sw || !sw->input) {
        stack_drop(stack, TCPC_STAT_ips_noproto, "no protocol handles it");
        return;
    }
    /* TCP may accept segments for foreign addresses on behalf of an
     * IP_BINDANY socket, so the locality check for protocols above lives
     * with them. */
    sw->input(stack, &ip, payload, ip.payload_len, flow);
}

int ip_output(struct tcpc_stack *stack, const struct tcpc_addr *dst, uint8_t *pkt, size_t len)
{
    struct tcpc_addr nexthop;
    if (route_nexthop(stack, dst, &nexthop) != 0) {
        STAT_INC(stack, ips_noroute);
        return -EHOSTUNREACH;
    }
    if (stack->if_output(stack, &nexthop, pkt, len) < 0) {
        STAT_INC(stack, ips_odropped);
        return -ENOBUFS;
    }
    STAT_INC(stack, ips_localout);
    return 0;
}

int ip_if_output_raw(struct tcpc_stack *stack, const struct tcpc_addr *nexthop, uint8_t *pkt,
                     size_t len)
{
    (void)nexthop; /* a point-to-point link has one place to send to */
    return stack->cfg.output(stack->cfg.output_ctx, pkt, len) < 0 ? -ENOBUFS : 0;
}

int ip_output_tcp(struct tcpc_stack *stack, const struct ip_repr *ip, const struct tcp_repr *tcp)
{
    uint8_t *pkt = stack_outbuf(stack);
    int len = tcp_emit_packet(ip, tcp, pkt, STACK_OUTBUF_LEN);
    if (len < 0)
        return -EMSGSIZE;
    int err = ip_output(stack, &ip->dst, pkt, (size_t)len);
    if (err)
        return err;
    STAT_INC(stack, tcps_sndtotal);
    return 0;
}
