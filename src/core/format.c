/*
 * tcpdump-like packet descriptions; see include/tcpcore/format.h.
 */
#include <stdarg.h>
#include <stdio.h>

#include "tcpcore/format.h"
#include "wire/icmp.h"
#include "wire/tcp.h"
#include "wire/wire.h"

struct fmtbuf {
    char *buf;
    size_t len, used;
};

static void fmt_put(struct fmtbuf *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fmt_put(struct fmtbuf *f, const char *fmt, ...)
{
    if (f->used >= f->len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(f->buf + f->used, f->len - f->used, fmt, ap);
    va_end(ap);
    if (n > 0)
        f->used += (size_t)n;
}

static void fmt_flags(struct fmtbuf *f, uint8_t flags)
{
    static const struct {
        uint8_t bit;
        char c;
    } names[] = {{TH_SYN, 'S'}, {TH_FIN, 'F'}, {TH_RST, 'R'}, {TH_PSH, 'P'},
                 {TH_URG, 'U'}, {TH_ECE, 'E'}, {TH_CWR, 'W'}};
    fmt_put(f, "Flags [");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (flags & names[i].bit)
            fmt_put(f, "%c", names[i].c);
    fmt_put(f, "%s]", (flags & TH_ACK) ? "." : "");
}

static void fmt_options(struct fmtbuf *f, const struct tcp_opts *o)
{
    if (!o->present)
        return;
    const char *sep = "";
    fmt_put(f, ", options [");
    if (o->present & TOF_MSS) {
        fmt_put(f, "mss %u", o->mss);
        sep = ",";
    }
    if (o->present & TOF_WSCALE) {
        fmt_put(f, "%swscale %u", sep, o->wscale);
        sep = ",";
    }
    if (o->present & TOF_SACKPERM) {
        fmt_put(f, "%ssackOK", sep);
        sep = ",";
    }
    if (o->present & TOF_TS) {
        fmt_put(f, "%sTS val %u ecr %u", sep, o->tsval, o->tsecr);
        sep = ",";
    }
    if (o->present & TOF_SIG) {
        fmt_put(f, "%smd5 ", sep); /* the digest, as tcpdump shows one it cannot check */
        for (unsigned i = 0; i < TCP_SIGLEN; i++)
            fmt_put(f, "%02x", o->sig[i]);
        sep = ",";
    }
    if (o->present & TOF_AO) {
        /* tcpdump's form for an option it cannot check: the IDs, the MAC. */
        fmt_put(f, "%stcp-ao keyid %u rnextkeyid %u mac ", sep, o->ao_keyid, o->ao_rnextkeyid);
        for (unsigned i = 0; i < o->ao_maclen; i++)
            fmt_put(f, "%02x", o->ao_mac[i]);
        sep = ",";
    }
    for (unsigned i = 0; i < o->nsack; i++)
        fmt_put(f, "%ssack %u:%u", i ? " " : sep, o->sack[i].start, o->sack[i].end);
    fmt_put(f, "]");
}

static void fmt_tcp(struct fmtbuf *f, const struct ip_repr *ip, const uint8_t *seg)
{
    char s[TCPC_ADDRSTRLEN], d[TCPC_ADDRSTRLEN];
    struct tcp_repr th;
    int err = tcp_parse(seg, ip->payload_len, &th);
    tcpc_addr_format(&ip->src, s, sizeof(s));
    tcpc_addr_format(&ip->dst, d, sizeof(d));
    if (err < 0) {
        fmt_put(f, "%s > %s: bad TCP: %s", s, d, wire_strerror(err));
        return;
    }
    fmt_put(f, "%s.%u > %s.%u: ", s, th.sport, d, th.dport);
    fmt_flags(f, th.flags);
    fmt_put(f, ", seq %u", th.seq);
    if (th.flags & TH_ACK)
        fmt_put(f, ", ack %u", th.ack);
    fmt_put(f, ", win %u", th.win);
    fmt_options(f, &th.opts);
    fmt_put(f, ", length %zu", th.payload_len);
}

const char *tcpc_format_packet(const uint8_t *pkt, size_t len, char *buf, size_t buflen)
{
    struct fmtbuf f = {buf, buflen, 0};
    if (buflen == 0)
        return buf;
    buf[0] = '\0';
    struct ip_repr ip;
    int hdrlen = ip_parse(pkt, len, &ip);
    if (hdrlen < 0) {
        fmt_put(&f, "bad IP: %s", wire_strerror(hdrlen));
        return buf;
    }
    if (ip.proto == IPPROTO_TCP_) {
        fmt_tcp(&f, &ip, pkt + hdrlen);
        return buf;
    }
    char s[TCPC_ADDRSTRLEN], d[TCPC_ADDRSTRLEN];
    fmt_put(&f, "%s > %s: protocol %u, length %u", tcpc_addr_format(&ip.src, s, sizeof(s)),
            tcpc_addr_format(&ip.dst, d, sizeof(d)), ip.proto, ip.payload_len);
    return buf;
}
