/*
 * The segment-level test harness; see harness.h.
 */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hlink.h"
#include "vectors.h"
#include "wire/ip.h"

struct h_pkt {
    struct h_pkt *next;
    size_t len;
    uint8_t data[];
};

/* Whether h_refuse says this packet is to be refused (and counts it). */
static bool h_refuses(struct harness *h, const uint8_t *pkt, size_t len)
{
    if (h->refuse_left == 0)
        return false;
    if (h->refuse_if) {
        struct ip_repr ip;
        struct tcp_repr th;
        int hdrlen = ip_parse(pkt, len, &ip);
        assert_true(hdrlen > 0);
        assert_true(tcp_parse(pkt + hdrlen, ip.payload_len, &th) >= 0);
        if (!h->refuse_if(&th))
            return false;
    }
    if (h->refuse_left != H_REFUSE_ALL)
        h->refuse_left--;
    h->refused++;
    return true;
}

static int h_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct harness *h = ctx;
    if (h_refuses(h, pkt, len))
        return -ENOBUFS;
    struct h_pkt *p = malloc(sizeof(*p) + len);
    assert_non_null(p);
    p->next = NULL;
    p->len = len;
    memcpy(p->data, pkt, len);
    if (h->out_tail)
        h->out_tail->next = p;
    else
        h->out_head = p;
    h->out_tail = p;
    h->out_count++;
    return 0;
}

static void h_event(void *ctx, int sd, uint32_t events)
{
    struct harness *h = ctx;
    if (sd >= 0 && (size_t)sd < sizeof(h->events) / sizeof(h->events[0]))
        h->events[sd] |= events;
}

void h_apply_sysctls(struct tcpc_config *cfg, const char *const *sysctls)
{
    for (; sysctls && *sysctls; sysctls++) {
        char name[128];
        const char *eq = strchr(*sysctls, '=');
        assert_non_null(eq);
        size_t n = (size_t)(eq - *sysctls);
        assert_true(n < sizeof(name));
        memcpy(name, *sysctls, n);
        name[n] = '\0';
        const char *why = NULL;
        char *end;
        long long v = strtoll(eq + 1, &end, 10);
        /* A value that is not a number is a name (net.inet.tcp.cc.algorithm=cubic). */
        int err = end == eq + 1 || *end ? tcpc_config_sysctl_str(cfg, name, eq + 1, &why)
                                        : tcpc_config_sysctl(cfg, name, v, &why);
        if (err)
            fail_msg("sysctl %s: %s", *sysctls, why);
    }
}

struct harness *h_new(const struct h_opts *opts)
{
    static const struct h_opts defaults = {0};
    if (!opts)
        opts = &defaults;
    struct harness *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    h->v6 = opts->v6;
    assert_int_equal(tcpc_addr_parse(h->v6 ? "2001:db8::1" : "198.18.0.1", &h->local), 0);
    assert_int_equal(tcpc_addr_parse(h->v6 ? "2001:db8::2" : "198.18.0.2", &h->peer), 0);
    if (opts->swap) {
        struct tcpc_addr t = h->local;
        h->local = h->peer;
        h->peer = t;
    }
    h->lport = 80;
    h->pport = 40000;
    h->now = 1 * SEC;
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    cfg.output = h_output;
    cfg.output_ctx = h;
    cfg.local_addrs[0] = h->local;
    cfg.nlocal_addrs = 1;
    if (opts->ether)
        h_ether_config(h, &cfg, opts->swap);
    cfg.use_seed = true;
    memset(cfg.seed, opts->seed ? opts->seed : 0x5a, sizeof(cfg.seed));
    if (opts->mtu)
        cfg.mtu = opts->mtu;
    cfg.flow_hash = opts->flow_hash;
    cfg.steer = opts->steer;
    cfg.steer_ctx = opts->steer_ctx;
    cfg.owner = opts->owner;
    cfg.owner_ctx = opts->owner_ctx;
    h_apply_sysctls(&cfg, opts->sysctls);
    assert_int_equal(tcpc_config_set_group(&cfg, opts->group, opts->group_index), 0);
    assert_int_equal(tcpc_stack_new(&cfg, h->now, &h->stack), 0);
    tcpc_set_event_cb(h->stack, h_event, h);
    return h;
}

void h_free(struct harness *h)
{
    if (!h)
        return;
    h_flush(h);
    tcpc_stack_del(h->stack);
    free(h);
}

static bool seg_set(int64_t v)
{
    return v != SEG_ANY;
}

static void h_build_opts(const struct seg *s, struct tcp_opts *o)
{
    memset(o, 0, sizeof(*o));
    if (seg_set(s->mss)) {
        o->present |= TOF_MSS;
        o->mss = (uint16_t)s->mss;
    }
    if (seg_set(s->wscale)) {
        o->present |= TOF_WSCALE;
        o->wscale = (uint8_t)s->wscale;
    }
    if (seg_set(s->sackperm) && s->sackperm)
        o->present |= TOF_SACKPERM;
    if (seg_set(s->tsval)) {
        o->present |= TOF_TS;
        o->tsval = (uint32_t)s->tsval;
        o->tsecr = seg_set(s->tsecr) ? (uint32_t)s->tsecr : 0;
    }
    if (seg_set(s->nsack) && s->nsack > 0) {
        assert_true(s->nsack <= TCP_SACK_MAX);
        o->present |= TOF_SACK;
        o->nsack = (uint8_t)s->nsack;
        for (int64_t i = 0; i < s->nsack; i++)
            o->sack[i] = (struct tcp_sack_block){s->sack[2 * i], s->sack[2 * i + 1]};
    }
    if (seg_set(s->tfo) && s->tfo >= 0) {
        assert_true(s->tfo <= TCP_FASTOPEN_MAX_COOKIE_LEN);
        o->present |= TOF_FASTOPEN;
        o->tfo_len = (uint8_t)s->tfo;
        for (int64_t i = 0; i < s->tfo; i++)
            o->tfo_cookie[i] = s->tfo_cookie ? s->tfo_cookie[i] : (uint8_t)(i + 1);
    }
}

/* Whether the Fast Open option is as wanted (tfo -1: absent). */
static bool h_tfo_match(const struct seg *w, const struct tcp_opts *o)
{
    if (!seg_set(w->tfo))
        return true;
    if (w->tfo < 0)
        return !(o->present & TOF_FASTOPEN);
    if (!(o->present & TOF_FASTOPEN) || o->tfo_len != w->tfo)
        return false;
    if (w->tfo_anybytes)
        return true;
    for (int64_t i = 0; i < w->tfo; i++)
        if (o->tfo_cookie[i] != (w->tfo_cookie ? w->tfo_cookie[i] : (uint8_t)(i + 1)))
            return false;
    return true;
}

/* Whether the SACK blocks emitted are exactly those wanted (nsack 0: no
 * SACK option at all). */
static bool h_sack_match(const struct seg *w, const struct tcp_opts *o)
{
    if (!seg_set(w->nsack))
        return true;
    if (w->nsack == 0)
        return !(o->present & TOF_SACK);
    if (!(o->present & TOF_SACK) || o->nsack != w->nsack)
        return false;
    for (int64_t i = 0; i < w->nsack; i++)
        if (o->sack[i].start != w->sack[2 * i] || o->sack[i].end != w->sack[2 * i + 1])
            return false;
    return true;
}

void h_build_repr(struct harness *h, struct seg s, struct ip_repr *ip, struct tcp_repr *th)
{
    assert_true(seg_set(s.flags));
    *ip = (struct ip_repr){.src = h->peer, .dst = h->local, .ttl = 64};
    ip->version = h->v6 ? 6 : 4;
    ip->tos = seg_set(s.ecn) ? (uint8_t)s.ecn : 0;
    *th = (struct tcp_repr){0};
    th->sport = seg_set(s.sport) ? (uint16_t)s.sport : h->pport;
    th->dport = seg_set(s.dport) ? (uint16_t)s.dport : h->lport;
    th->seq = seg_set(s.seq) ? (uint32_t)s.seq : 0;
    th->ack = seg_set(s.ack) ? (uint32_t)s.ack : 0;
    th->win = seg_set(s.win) ? (uint16_t)s.win : 65535;
    th->urp = seg_set(s.urp) ? (uint16_t)s.urp : 0;
    th->flags = (uint8_t)s.flags;
    h_build_opts(&s, &th->opts);
    if (s.data) {
        th->payload = (const uint8_t *)s.data;
        th->payload_len = seg_set(s.len) ? (size_t)s.len : strlen(s.data);
    }
}

size_t h_build(struct harness *h, struct seg s, uint8_t *buf, size_t buflen)
{
    struct ip_repr ip;
    struct tcp_repr th;
    h_build_repr(h, s, &ip, &th);
    int len = tcp_emit_packet(&ip, &th, buf, buflen);
    assert_true(len > 0);
    return (size_t)len;
}

void h_inject_repr(struct harness *h, const struct ip_repr *ip, const struct tcp_repr *th)
{
    uint8_t buf[9216 + 120];
    int len = tcp_emit_packet(ip, th, buf, sizeof(buf));
    assert_true(len > 0);
    h_inject_raw(h, buf, (size_t)len);
}

/* Room in front of a built packet for the frame header. */
#define H_FRAME_ROOM 14

/* The packet at buf + H_FRAME_ROOM as tcpc_input should get it: framed
 * from the peer on an Ethernet link. */
static const uint8_t *h_wrap(struct harness *h, uint8_t *buf, size_t *len)
{
    if (!h->ether)
        return buf + H_FRAME_ROOM;
    h_ether_frame(h, buf, &h->mac, buf[H_FRAME_ROOM] >> 4 == 6 ? 0x86dd : 0x0800);
    *len += H_FRAME_ROOM;
    return buf;
}

void h_inject(struct harness *h, struct seg s)
{
    uint8_t buf[H_FRAME_ROOM + 9216 + 120];
    size_t len = h_build(h, s, buf + H_FRAME_ROOM, sizeof(buf) - H_FRAME_ROOM);
    const uint8_t *p = h_wrap(h, buf, &len);
    tcpc_input(h->stack, h->now, p, len);
}

void h_inject_hash(struct harness *h, struct seg s, uint32_t flow)
{
    uint8_t buf[H_FRAME_ROOM + 9216 + 120];
    size_t len = h_build(h, s, buf + H_FRAME_ROOM, sizeof(buf) - H_FRAME_ROOM);
    const uint8_t *p = h_wrap(h, buf, &len);
    tcpc_input_hash(h->stack, h->now, p, len, flow);
}

void h_inject_raw(struct harness *h, const uint8_t *pkt, size_t len)
{
    if (!h->ether) {
        tcpc_input(h->stack, h->now, pkt, len);
        return;
    }
    uint8_t *buf = malloc(H_FRAME_ROOM + len);
    assert_non_null(buf);
    memcpy(buf + H_FRAME_ROOM, pkt, len);
    const uint8_t *p = h_wrap(h, buf, &len);
    tcpc_input(h->stack, h->now, p, len);
    free(buf);
}

void h_inject_frame(struct harness *h, const uint8_t *frame, size_t len)
{
    tcpc_input(h->stack, h->now, frame, len);
}

static struct h_pkt *h_pop(struct harness *h)
{
    struct h_pkt *p = h->out_head;
    if (!p)
        return NULL;
    h->out_head = p->next;
    if (!h->out_head)
        h->out_tail = NULL;
    h->out_count--;
    return p;
}

/* Describes the first mismatch between want and got, or returns false. */
static bool h_mismatch(const struct harness *h, const struct seg *w, const struct h_seg *g,
                       char *why, size_t whylen)
{
    const struct tcp_repr *t = &g->th;
    const struct tcp_opts *o = &t->opts;
#define H_CHECK(cond, ...)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            snprintf(why, whylen, __VA_ARGS__);                                                    \
            return true;                                                                           \
        }                                                                                          \
    } while (0)
    H_CHECK(tcpc_addr_eq(&g->ip.src, &h->local) && tcpc_addr_eq(&g->ip.dst, &h->peer),
            "addresses are not stack -> peer");
    H_CHECK(t->sport == (seg_set(w->dport) ? w->dport : h->lport), "source port %u", t->sport);
    H_CHECK(t->dport == (seg_set(w->sport) ? w->sport : h->pport), "destination port %u", t->dport);
    H_CHECK(!seg_set(w->flags) || t->flags == w->flags, "flags 0x%02x, want 0x%02x", t->flags,
            (unsigned)w->flags);
    H_CHECK(!seg_set(w->seq) || t->seq == (uint32_t)w->seq, "seq %u, want %u", t->seq,
            (uint32_t)w->seq);
    H_CHECK(!seg_set(w->ack) || t->ack == (uint32_t)w->ack, "ack %u, want %u", t->ack,
            (uint32_t)w->ack);
    H_CHECK(!seg_set(w->win) || t->win == w->win, "win %u, want %u", t->win, (unsigned)w->win);
    H_CHECK(!seg_set(w->urp) || t->urp == w->urp, "urp %u, want %u", t->urp, (unsigned)w->urp);
    H_CHECK(!seg_set(w->opts) || o->present == w->opts, "options 0x%x, want 0x%x", o->present,
            (unsigned)w->opts);
    H_CHECK(!seg_set(w->mss) || ((o->present & TOF_MSS) && o->mss == w->mss), "mss");
    H_CHECK(!seg_set(w->wscale) || ((o->present & TOF_WSCALE) && o->wscale == w->wscale), "wscale");
    H_CHECK(!seg_set(w->sackperm) || !!(o->present & TOF_SACKPERM) == !!w->sackperm, "sackOK");
    H_CHECK(!seg_set(w->tsval) || ((o->present & TOF_TS) && o->tsval == (uint32_t)w->tsval),
            "TS val %u, want %u", o->tsval, (uint32_t)w->tsval);
    H_CHECK(!seg_set(w->tsecr) || ((o->present & TOF_TS) && o->tsecr == (uint32_t)w->tsecr),
            "TS ecr %u, want %u", o->tsecr, (uint32_t)w->tsecr);
    H_CHECK(h_sack_match(w, o), "SACK blocks (%u held, first %u-%u)", o->nsack, o->sack[0].start,
            o->sack[0].end);
    H_CHECK(h_tfo_match(w, o), "Fast Open option (%s, cookie of %u)",
            (o->present & TOF_FASTOPEN) ? "present" : "absent", o->tfo_len);
    size_t wlen = seg_set(w->len) ? (size_t)w->len : (w->data ? strlen(w->data) : SIZE_MAX);
    H_CHECK(wlen == SIZE_MAX || t->payload_len == wlen, "length %zu, want %zu", t->payload_len,
            wlen);
    H_CHECK(!w->data || memcmp(g->payload, w->data, wlen) == 0, "payload bytes differ");
    H_CHECK(!seg_set(w->ttl) || g->ip.ttl == w->ttl, "ttl %u", g->ip.ttl);
    H_CHECK(!seg_set(w->df) || g->ip.version == 6 || g->ip.df == !!w->df, "DF %d", g->ip.df);
    H_CHECK(!seg_set(w->ecn) || (g->ip.tos & 3) == w->ecn, "ECN field %u, want %u", g->ip.tos & 3u,
            (unsigned)w->ecn);
#undef H_CHECK
    return false;
}

size_t h_take(struct harness *h, uint8_t *buf, size_t cap)
{
    struct h_pkt *p = h_pop(h);
    if (!p)
        fail_msg("expected a packet, the stack sent nothing");
    assert_true(p->len <= cap);
    size_t n = p->len;
    memcpy(buf, p->data, n);
    free(p);
    return n;
}

/* The IP packet in an emitted packet: past the frame header, which must go
 * from the stack to next_mac, on an Ethernet link. */
static const uint8_t *h_unwrap(struct harness *h, const struct h_pkt *p, size_t *len)
{
    *len = p->len;
    if (!h->ether)
        return p->data;
    h_ether_check(h, p->data, p->len, &h->next_mac);
    *len -= H_FRAME_ROOM;
    return p->data + H_FRAME_ROOM;
}

struct h_seg h_expect(struct harness *h, struct seg s)
{
    struct h_seg g;
    memset(&g, 0, sizeof(g));
    struct h_pkt *p = h_pop(h);
    if (!p)
        fail_msg("expected a segment, the stack sent nothing");
    size_t plen;
    const uint8_t *pkt = h_unwrap(h, p, &plen);
    int hdrlen = ip_parse(pkt, plen, &g.ip);
    assert_true(hdrlen > 0);
    assert_int_equal(g.ip.proto, IPPROTO_TCP_);
    assert_true(tcp_cksum_ok(&g.ip, pkt + hdrlen, g.ip.payload_len));
    assert_true(tcp_parse(pkt + hdrlen, g.ip.payload_len, &g.th) >= 0);
    assert_true(g.th.payload_len <= sizeof(g.payload));
    if (g.th.payload_len)
        memcpy(g.payload, g.th.payload, g.th.payload_len);
    g.th.payload = g.payload;
    g.len = p->len;
    char why[128], got[512];
    if (h_mismatch(h, &s, &g, why, sizeof(why))) {
        tcpc_format_packet(pkt, plen, got, sizeof(got));
        free(p);
        fail_msg("segment mismatch: %s\n  got: %s", why, got);
    }
    free(p);
    return g;
}

void h_expect_nothing(struct harness *h)
{
    struct h_pkt *p = h_pop(h);
    if (!p)
        return;
    char got[512];
    if (h->ether)
        h_ether_format(p->data, p->len, got, sizeof(got));
    else
        tcpc_format_packet(p->data, p->len, got, sizeof(got));
    free(p);
    fail_msg("expected nothing, the stack sent: %s", got);
}

size_t h_pending(const struct harness *h)
{
    return h->out_count;
}

void h_flush(struct harness *h)
{
    struct h_pkt *p;
    while ((p = h_pop(h)) != NULL)
        free(p);
}

void h_refuse(struct harness *h, unsigned count, h_refuse_fn match)
{
    h->refuse_left = count;
    h->refuse_if = match;
}

void h_advance(struct harness *h, tcpc_time_t delta)
{
    h->now += delta;
    tcpc_advance(h->stack, h->now);
}

uint64_t h_stat(struct harness *h, const char *name)
{
    int id = tcpc_stat_lookup(name);
    if (id < 0)
        fail_msg("no counter named %s", name);
    return tcpc_stat_value(tcpc_stack_stats(h->stack), (unsigned)id);
}

uint32_t h_events(struct harness *h, int sd)
{
    assert_true(sd >= 0 && (size_t)sd < sizeof(h->events) / sizeof(h->events[0]));
    uint32_t ev = h->events[sd];
    h->events[sd] = 0;
    return ev;
}

int h_listen(struct harness *h)
{
    int sd = tcpc_socket(h->stack, h->v6 ? TCPC_AF_INET6 : TCPC_AF_INET);
    assert_true(sd >= 0);
    assert_int_equal(tcpc_bind(h->stack, sd, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, sd, 16), 0);
    return sd;
}

int h_establish(struct harness *h, uint32_t irs, struct seg synopts, uint32_t *iss, int *lsd)
{
    int l = h_listen(h);
    synopts.flags = TH_SYN;
    synopts.seq = irs;
    h_inject(h, synopts);
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = irs + 1));
    struct seg ack = SEG(.flags = TH_ACK, .seq = irs + 1, .ack = sa.th.seq + 1);
    if (sa.th.opts.present & TOF_TS) {
        ack.tsval = seg_set(synopts.tsval) ? synopts.tsval + 1 : 1;
        ack.tsecr = sa.th.opts.tsval;
    }
    h_inject(h, ack);
    h_expect_nothing(h);
    int sd = tcpc_accept(h->stack, l, NULL, NULL);
    assert_true(sd >= 0);
    if (iss)
        *iss = sa.th.seq;
    if (lsd)
        *lsd = l;
    return sd;
}

size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        if (*hex == ' ')
            continue;
        int v = *hex <= '9' ? *hex - '0' : (*hex | 0x20) - 'a' + 10;
        if (hi < 0) {
            hi = v;
            continue;
        }
        assert_true(n < cap);
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    assert_int_equal(hi, -1);
    return n;
}
