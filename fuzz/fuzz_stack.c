/*
 * Fuzzes a whole stack: the input is a script of packets, time steps and
 * socket calls played against one stack with a listener and a client.
 *
 * Raw packets exercise the parsers on the way in; "templated" segments are
 * built valid (checksums right) with seq/ack taken relative to the last
 * segment the stack sent, so the fuzzer reaches deep into the state machine
 * instead of dying at the checksum. Time moves only when the script says,
 * so every crash replays exactly.
 *
 * Record format, repeated: kind (1 byte) then a body whose length depends
 * on the kind (see the step functions).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_script.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "wire/icmp.h"
#include "wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz {
    struct tcpc_stack *stack;
    tcpc_time_t now;
    struct tcpc_addr local, peer;
    int lsd, csd, asd;
    uint32_t last_seq, last_ack; /* of the last segment the stack sent */
    uint16_t last_sport, last_dport;
    bool v6;
};

static int fz_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct fz *f = ctx;
    struct ip_repr ip;
    struct tcp_repr th;
    int hdrlen = ip_parse(pkt, len, &ip);
    if (hdrlen >= 0 && ip.proto == (ip.version == 6 ? IPPROTO_ICMP6_ : IPPROTO_ICMP_)) {
        /* The only ICMP the stack sends: a well-formed echo reply. */
        struct icmp_echo_repr e;
        if (icmp_echo_parse(&ip, pkt + hdrlen, ip.payload_len, &e) < 0 ||
            e.type != (ip.version == 6 ? ICMP6_ECHO_REPLY : ICMP4_ECHOREPLY))
            abort();
        return 0;
    }
    if (hdrlen < 0 || ip.proto != IPPROTO_TCP_)
        abort(); /* the stack must only ever emit well-formed TCP and echo replies */
    if (!tcp_cksum_ok(&ip, pkt + hdrlen, ip.payload_len))
        abort();
    if (tcp_parse(pkt + hdrlen, ip.payload_len, &th) < 0)
        abort();
    f->last_seq = th.seq;
    f->last_ack = th.ack;
    f->last_sport = th.sport;
    f->last_dport = th.dport;
    return 0;
}

/* Raw bytes as an IP packet: 2-byte length, then the bytes. */
static bool fz_raw(struct fz *f, const uint8_t **p, size_t *n)
{
    return fz_step_raw(f->stack, f->now, p, n, 2048);
}

struct fz_tmpl {
    uint8_t flags, optbits, port_sel, datalen;
    int8_t dseq, dack;
    uint16_t win;
    uint32_t tsval;
};

/* A valid segment from the peer, relative to what the stack last said. */
static bool fz_templated(struct fz *f, const uint8_t **p, size_t *n)
{
    struct fz_tmpl t;
    if (!fz_take(p, n, &t, sizeof(t)))
        return false;
    static const uint8_t payload[256] = {'x'};
    struct ip_repr ip = {.src = f->peer, .dst = f->local, .ttl = 64, .version = f->v6 ? 6 : 4};
    struct tcp_repr th = {.flags = t.flags, .win = t.win};
    bool to_listener = t.port_sel & 1;
    th.sport = to_listener ? (uint16_t)(40000 + (t.port_sel >> 4)) : f->last_dport;
    th.dport = to_listener ? 80 : f->last_sport;
    th.seq = f->last_ack + (uint32_t)(int32_t)t.dseq;
    th.ack = f->last_seq + (uint32_t)(int32_t)t.dack;
    if (t.optbits & 1) {
        th.opts.present |= TOF_MSS;
        th.opts.mss = (uint16_t)(t.win % 1600);
    }
    if (t.optbits & 2) {
        th.opts.present |= TOF_WSCALE;
        th.opts.wscale = (uint8_t)(t.optbits >> 4);
    }
    if ((t.optbits & 4) && (t.flags & TH_SYN)) {
        th.opts.present |= TOF_SACKPERM;
    } else if (t.optbits & 4) {
        /* SACK blocks around what the stack has sent (its scoreboard and
         * recovery), one or two, from the bytes of tsval. */
        th.opts.present |= TOF_SACK;
        th.opts.nsack = (uint8_t)(1 + (t.optbits >> 7));
        for (unsigned i = 0; i < th.opts.nsack; i++) {
            uint32_t start = th.ack + (uint32_t)(int16_t)(t.tsval >> (16 * i)) * 8u;
            th.opts.sack[i].start = start;
            th.opts.sack[i].end = start + (t.tsval >> (8 + 8 * i) & 0xff) * 64u;
        }
    }
    if (t.optbits & 8) {
        th.opts.present |= TOF_TS;
        th.opts.tsval = t.tsval;
    }
    th.payload = payload;
    th.payload_len = t.datalen;
    uint8_t buf[512];
    int len = tcp_emit_packet(&ip, &th, buf, sizeof(buf));
    if (len > 0)
        tcpc_input(f->stack, f->now, buf, (size_t)len);
    return true;
}

static bool fz_time(struct fz *f, const uint8_t **p, size_t *n)
{
    return fz_step_time(f->stack, &f->now, p, n);
}

static bool fz_api(struct fz *f, const uint8_t **p, size_t *n)
{
    uint8_t op[2];
    if (!fz_take(p, n, op, 2))
        return false;
    static const uint8_t bytes[1024];
    char sink[1024];
    int sd = (op[0] & 0x10) ? f->asd : f->csd;
    switch (op[0] & 0x0f) {
    case 0:
        tcpc_send(f->stack, sd, bytes, (size_t)op[1] * 4);
        break;
    case 1:
        tcpc_recv(f->stack, sd, sink, op[1]);
        break;
    case 2:
        tcpc_shutdown(f->stack, sd, op[1] % 3);
        break;
    case 3:
        if (tcpc_close(f->stack, sd) == 0) {
            if (sd == f->asd)
                f->asd = -1;
            else
                f->csd = -1;
        }
        break;
    case 4:
        if (f->asd < 0)
            f->asd = tcpc_accept(f->stack, f->lsd, NULL, NULL);
        break;
    case 5:
        tcpc_setsockopt(f->stack, sd, TCPC_SO_LINGER, op[1] & 1 ? 0 : -1);
        break;
    default:
        tcpc_poll(f->stack, sd);
        break;
    }
    return true;
}

static bool fz_setup(struct fz *f, uint8_t mode)
{
    memset(f, 0, sizeof(*f));
    f->v6 = mode & 1;
    tcpc_addr_parse(f->v6 ? "2001:db8::1" : "198.18.0.1", &f->local);
    tcpc_addr_parse(f->v6 ? "2001:db8::2" : "198.18.0.2", &f->peer);
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    cfg.output = fz_output;
    cfg.output_ctx = f;
    cfg.local_addrs[0] = f->local;
    cfg.nlocal_addrs = 1;
    cfg.use_seed = true;
    cfg.tun.maxsockets = 64;
    cfg.tun.rfc1323 = (mode >> 1) & 1;
    cfg.tun.delayed_ack = (mode >> 2) & 1;
    cfg.tun.sendspace = cfg.tun.recvspace = 4096;
    f->now = 1000000;
    if (tcpc_stack_new(&cfg, f->now, &f->stack) != 0)
        return false;
    f->lsd = tcpc_socket(f->stack, f->v6 ? TCPC_AF_INET6 : TCPC_AF_INET);
    tcpc_bind(f->stack, f->lsd, NULL, 80);
    tcpc_listen(f->stack, f->lsd, 4);
    f->csd = tcpc_socket(f->stack, f->v6 ? TCPC_AF_INET6 : TCPC_AF_INET);
    f->asd = -1;
    tcpc_connect(f->stack, f->csd, &f->peer, 8080); /* last_* now describe our SYN */
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f;
    if (size < 1 || !fz_setup(&f, data[0]))
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    bool more = true;
    while (more && n > 0) {
        uint8_t kind = *p++;
        n--;
        switch (kind % 4) {
        case 0:
            more = fz_raw(&f, &p, &n);
            break;
        case 1:
            more = fz_templated(&f, &p, &n);
            break;
        case 2:
            more = fz_time(&f, &p, &n);
            break;
        default:
            more = fz_api(&f, &p, &n);
            break;
        }
    }
    tcpc_stack_del(f.stack);
    return 0;
}
