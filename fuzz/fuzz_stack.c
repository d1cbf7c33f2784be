/*
 * Fuzzes a whole stack: the input is a script of packets, time steps and
 * socket calls played against one stack with a listener and a client, the
 * fuzzer playing every peer.
 *
 * Raw packets exercise the parsers on the way in. "Templated" segments are
 * built valid (checksums right) with seq/ack taken relative to the last
 * segment the stack sent, and "edge" segments with SEQ and ACK drawn
 * around one connection's current state (RCV.NXT, the right edge of the
 * receive window, SND.UNA, SND.NXT, SND.MAX, ... plus or minus 1, 2^31 and
 * other distances), read through tcpc_getinfo or, for a connection that has
 * no descriptor any more, from the segments it sent. So the fuzzer reaches
 * deep into the state machine and sits on the acceptability edges instead of
 * dying at the checksum. Time moves only when the script says, so every
 * crash replays from its input alone.
 *
 * The first byte configures the stack: the family, RFC 7323 and delayed
 * ACKs, the link MTU (among the edges either family accepts; a refused
 * configuration skips the input) and the flow hash (none, a real one, a
 * constant, or one that ignores addresses), with which edge segments may
 * arrive through tcpc_input_hash carrying the right hash or a wrong one.
 * The script may also make the link refuse the next few packets the stack
 * sends (-ENOBUFS), which it must treat as lost. Every table is as small
 * as its tunable allows, so that a stack costs microseconds to create and
 * its limits are within the fuzzer's reach.
 *
 * Checked throughout, besides what the sanitizers check:
 *  - every packet the stack emits is well-formed TCP from a local address,
 *    no larger than the MTU;
 *  - a segment that starts beyond a connection's receive window changes
 *    nothing but may draw an ACK (checked where the connection has a
 *    descriptor, so its state can be read before and after);
 *  - at the end of the script, each connection the listing shows is found
 *    by the tables under its own 4-tuple, no 4-tuple is held twice, and a
 *    connection that has something to retransmit, or must time out, has a
 *    deadline (tcpc_next_deadline is not NEVER).
 *
 * Record format, repeated: kind (1 byte) then a body whose length depends
 * on the kind (see the step functions and fz_step).
 */
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/asan_interface.h>
#include <valgrind/memcheck.h>

#include "fuzz_script.h"
#include "core/config.h"
#include "tcp/tcp_demux.h"
#include "tcp/tcp_var.h"
#include "tcpcore/listing.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "wire/icmp.h"
#include "wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/*
 * ASan's defaults for this target, under any ASAN_OPTIONS (which win, flag
 * by flag), so that `make fuzz`, the replays and a bare command line all run
 * this way. Every input creates and frees a stack (some forty blocks, a few
 * hundred KiB): the default 256 MB quarantine makes each block fresh memory,
 * page-faulted in, and the default malloc fill writes the first 4 KiB of
 * each for nothing. An 8 MB quarantine still outlives any one input, so a
 * use after free within an input (or of the previous input's memory) is
 * still caught; the fill only makes reads of uninitialised heap repeatable,
 * which is MSan's and valgrind's job (`make valgrind` replays the corpus).
 * Use after return is not looked for while exploring: ASan's fake stack
 * frames cost about a fifth of every run, and the core keeps nothing that
 * points into a caller's frame (its state hangs off the stack instance,
 * the API copies in and out). Every input the fuzzer keeps is replayed
 * with the check on by `make check` (fuzz/CMakeLists.txt), and
 * ASAN_OPTIONS=detect_stack_use_after_return=1 turns it on here too.
 */
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=8:max_malloc_fill_size=0:detect_stack_use_after_return=0";
}

#define FZ_NFLOWS     8
#define FZ_LPORT      80   /* the listener */
#define FZ_PPORT      8080 /* where the client connects */
#define FZ_MAXPAYLOAD 1024 /* per injected segment */
#define FZ_PKTMAX     (40 + TCP_HDR_LEN + TCP_MAXOLEN + FZ_MAXPAYLOAD)

/*
 * Buffers the harness lends the stack for the length of one call: a packet
 * to tcpc_input, a sink for tcpc_recv. This file is compiled without ASan's
 * fake stacks (fuzz/CMakeLists.txt: they cost a tenth of every run), so
 * instead of living in a frame that ASan poisons on return these live here,
 * poisoned between calls: a stack that kept the pointer and touched it
 * later is still caught. (What else the harness hands the stack from its
 * frames, a configuration, socket options, getinfo's and getsockname's
 * results, the API copies in or out within the call.)
 */
static struct {
    uint8_t pkt[FZ_PKTMAX];
    char sink[1024];
} fz_lent;

static void *fz_lend(void *buf, size_t len)
{
    ASAN_UNPOISON_MEMORY_REGION(buf, len);
    return buf;
}

static void fz_unlend(void *buf, size_t len)
{
    (void)buf, (void)len; /* without ASan */
    ASAN_POISON_MEMORY_REGION(buf, len);
}

/*
 * The memory every input's stack is made of (tcpc_config_set_allocator): an
 * arena the harness hands out from front to back and takes back whole when
 * the next input starts, so that making and freeing a stack costs no trip
 * through ASan's allocator and its quarantine (about a fifth of a run when
 * every input's forty-odd blocks went through them). The checks ASan's
 * allocator made are kept, and sharpened: every block sits between
 * poisoned redzones (its header before it, the alignment padding and the
 * next header after it), a block given back is poisoned and never handed
 * out again within the input (ASan's quarantine only delays reuse), the
 * size given back must be the size asked for, and when the stack is
 * deleted every block must have come back (the leak check LeakSanitizer
 * made at exit, now per input).
 */
#define FZ_ARENA_BYTES (96u << 20)
#define FZ_REDZONE     64u /* the header and redzone before each block */
#define FZ_HDR_MAGIC   0x667a6d656d6bUL

struct fz_block {
    unsigned long magic; /* FZ_HDR_MAGIC while handed out */
    size_t size;
};

static struct {
    alignas(64) uint8_t bytes[FZ_ARENA_BYTES];
    size_t used;   /* bytes handed out from the front */
    size_t live;   /* blocks not yet given back */
    bool poisoned; /* the whole arena, once, before the first input */
} fz_arena;

static void fz_arena_reset(void)
{
    if (!fz_arena.poisoned) {
        ASAN_POISON_MEMORY_REGION(fz_arena.bytes, sizeof(fz_arena.bytes));
        fz_arena.poisoned = true;
    }
    ASAN_POISON_MEMORY_REGION(fz_arena.bytes, fz_arena.used);
    fz_arena.used = 0;
    fz_arena.live = 0;
}

/* The header of a block, readable for the length of the call. */
static struct fz_block *fz_block_of(void *ptr)
{
    struct fz_block *b = (struct fz_block *)((uint8_t *)ptr - FZ_REDZONE);
    ASAN_UNPOISON_MEMORY_REGION(b, sizeof(*b));
    return b;
}

static void *fz_alloc(void *ctx, size_t size, size_t align, bool zero)
{
    (void)ctx;
    /* What the allocator contract excludes, which the stack must not ask. */
    CHECK(align <= FZ_REDZONE && size <= FZ_ARENA_BYTES);
    size_t span = FZ_REDZONE + ((size + FZ_REDZONE - 1) & ~(size_t)(FZ_REDZONE - 1));
    if (span > FZ_ARENA_BYTES - fz_arena.used)
        return NULL; /* out of memory: a path the stack must survive */
    uint8_t *ptr = fz_arena.bytes + fz_arena.used + FZ_REDZONE;
    /* The span holds what an earlier input left there: under valgrind
     * (`make valgrind` replays the corpus) it is undefined, as the C
     * library's memory would be, so a block not asked zeroed that is read
     * before it is written is reported rather than taken for data.
     * Outside valgrind these requests cost a few instructions. */
    VALGRIND_MAKE_MEM_UNDEFINED(ptr - FZ_REDZONE, span);
    fz_arena.used += span;
    struct fz_block *b = fz_block_of(ptr);
    *b = (struct fz_block){.magic = FZ_HDR_MAGIC, .size = size};
    ASAN_POISON_MEMORY_REGION(b, sizeof(*b));
    ASAN_UNPOISON_MEMORY_REGION(ptr, size);
    if (zero)
        memset(ptr, 0, size);
    fz_arena.live++;
    return ptr;
}

static void fz_release(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    struct fz_block *b = fz_block_of(ptr);
    if (b->magic != FZ_HDR_MAGIC || b->size != size) {
        fprintf(stderr, "fuzz_stack: block %p given back %s (size %zu, asked %zu)\n", ptr,
                b->magic == FZ_HDR_MAGIC ? "with the wrong size" : "twice or never handed out",
                size, b->size);
        abort();
    }
    b->magic = 0;
    ASAN_POISON_MEMORY_REGION(b, sizeof(*b));
    ASAN_POISON_MEMORY_REGION(ptr, size);
    VALGRIND_MAKE_MEM_NOACCESS(ptr, size); /* a use after free, without ASan */
    fz_arena.live--;
}

/* One connection as the fuzzer (its peer) sees it, keyed by ports. */
struct fz_flow {
    uint16_t lport, pport; /* the stack's port, the peer's port */
    /* From here to peer_tsval, reset by the stack's SYN on these ports. */
    uint32_t seq, ack, end, max_end; /* of the last segment the stack sent on it */
    uint32_t iss;                    /* seq of the stack's SYN */
    uint16_t win;                    /* the window field it sent */
    bool win_syn;                    /* on a SYN: the field is not scaled */
    uint32_t wack;                   /* ACK and window field of its last */
    uint16_t wwin;                   /* segment with an ACK and no RST */
    bool wsyn;                       /* that one was a SYN-ACK */
    bool have_w;
    uint32_t tsval;    /* its last timestamp, 0: none */
    uint32_t peer_ack; /* the last ACK we sent on it */
    bool have_peer_ack;
    struct tcpc_info info; /* last tcpc_getinfo while it had a descriptor */
    bool have_info;
    uint32_t peer_tsval; /* the last timestamp we sent on it (kept across SYNs) */
};

struct fz {
    struct tcpc_stack *stack;
    tcpc_time_t now;
    struct tcpc_addr local, peer;
    uint32_t mtu;
    tcpc_flow_hash_fn hash; /* the configuration's, NULL: none */
    int lsd, csd, asd;
    uint16_t cport;              /* the client's last local port */
    unsigned refuse;             /* the link refuses this many packets to come */
    uint32_t last_seq, last_ack; /* of the last segment the stack sent */
    uint16_t last_sport, last_dport;
    bool v6;
    struct fz_flow flows[FZ_NFLOWS];
    unsigned nflows, next_flow;
};

/* --- flow hashes the configuration may install ------------------------- */

static uint32_t fz_hash_fnv(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                            const struct tcpc_addr *laddr, uint16_t lport)
{
    (void)ctx;
    uint32_t h = 2166136261u;
    for (int i = 0; i < 16; i++)
        h = (h ^ faddr->bytes[i] ^ (uint32_t)laddr->bytes[i] << 8) * 16777619u;
    return h ^ ((uint32_t)fport << 16 | lport);
}

/* Every flow in one bucket: the tables' overflow paths. */
static uint32_t fz_hash_const(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                              const struct tcpc_addr *laddr, uint16_t lport)
{
    (void)ctx, (void)faddr, (void)fport, (void)laddr, (void)lport;
    return 0x5bd1e995u;
}

/* Blind to addresses: flows that differ only in them collide. */
static uint32_t fz_hash_ports(void *ctx, const struct tcpc_addr *faddr, uint16_t fport,
                              const struct tcpc_addr *laddr, uint16_t lport)
{
    (void)ctx, (void)faddr, (void)laddr;
    return (uint32_t)fport * 0x10001u ^ lport;
}

static const tcpc_flow_hash_fn fz_hashes[4] = {NULL, fz_hash_fnv, fz_hash_const, fz_hash_ports};

/* --- watching what the stack sends -------------------------------------- */

/* FUZZ_STACK_TRACE=1 prints every segment both ways and the final listing,
 * to read what a saved input does. Read once: it does not vary by input. */
static bool fz_tracing(void)
{
    static int on = -1;
    if (on < 0)
        on = getenv("FUZZ_STACK_TRACE") != NULL;
    return on;
}

static void fz_trace_seg(const char *dir, const struct tcp_repr *th, const char *note)
{
    static const char names[] = "FSRPAUEC";
    char fl[9];
    unsigned k = 0;
    for (unsigned i = 0; i < 8; i++)
        if (th->flags & (1u << i))
            fl[k++] = names[i];
    fl[k] = 0;
    fprintf(stderr, "%s %u>%u [%s] seq %u ack %u win %u len %zu%s\n", dir, th->sport, th->dport, fl,
            th->seq, th->ack, th->win, th->payload_len, note);
}

static struct fz_flow *fz_flow_find(struct fz *f, uint16_t lport, uint16_t pport)
{
    for (unsigned i = 0; i < f->nflows; i++)
        if (f->flows[i].lport == lport && f->flows[i].pport == pport)
            return &f->flows[i];
    return NULL;
}

static struct fz_flow *fz_flow_get(struct fz *f, uint16_t lport, uint16_t pport)
{
    struct fz_flow *fl = fz_flow_find(f, lport, pport);
    if (fl)
        return fl;
    if (f->nflows < FZ_NFLOWS)
        fl = &f->flows[f->nflows++];
    else
        fl = &f->flows[f->next_flow++ % FZ_NFLOWS];
    memset(fl, 0, sizeof(*fl));
    fl->lport = lport;
    fl->pport = pport;
    return fl;
}

static void fz_watch(struct fz *f, const struct tcp_repr *th)
{
    /* A RST answering a stray segment opens no flow to aim at. */
    struct fz_flow *fl = (th->flags & TH_RST) ? fz_flow_find(f, th->sport, th->dport)
                                              : fz_flow_get(f, th->sport, th->dport);
    if (!fl)
        return;
    if (th->flags & TH_SYN) {
        memset(&fl->seq, 0, offsetof(struct fz_flow, peer_tsval) - offsetof(struct fz_flow, seq));
        fl->iss = th->seq;
        fl->max_end = th->seq;
    }
    fl->seq = th->seq;
    if (th->flags & TH_ACK)
        fl->ack = th->ack;
    fl->win = th->win;
    fl->win_syn = (th->flags & TH_SYN) != 0;
    /* A SYN-ACK offers a window too (unscaled, RFC 7323 2.2): one sent
     * again in SYN-RECEIVED after a scaled ACK offers what that ACK did,
     * and the connection may take data up to it once established. */
    if ((th->flags & (TH_RST | TH_ACK)) == TH_ACK) {
        fl->wack = th->ack;
        fl->wwin = th->win;
        fl->wsyn = fl->win_syn;
        fl->have_w = true;
    }
    fl->end = th->seq + (uint32_t)th->payload_len + !!(th->flags & TH_SYN) + !!(th->flags & TH_FIN);
    if ((int32_t)(fl->end - fl->max_end) > 0)
        fl->max_end = fl->end;
    if (th->opts.present & TOF_TS)
        fl->tsval = th->opts.tsval;
}

static int fz_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct fz *f = ctx;
    struct ip_repr ip;
    struct tcp_repr th;
    int hdrlen = ip_parse(pkt, len, &ip);
    /* The stack must only ever emit well-formed TCP and echo replies, from
     * itself, that fit its link. */
    CHECK(hdrlen >= 0 && tcpc_addr_is_local(f->stack, &ip.src) && len <= f->mtu);
    if (ip.proto == (ip.version == 6 ? IPPROTO_ICMP6_ : IPPROTO_ICMP_)) {
        struct icmp_echo_repr e;
        CHECK(icmp_echo_parse(&ip, pkt + hdrlen, ip.payload_len, &e) >= 0 &&
              e.type == (ip.version == 6 ? ICMP6_ECHO_REPLY : ICMP4_ECHOREPLY));
        return 0;
    }
    CHECK(ip.proto == IPPROTO_TCP_);
    CHECK(tcp_cksum_ok(&ip, pkt + hdrlen, ip.payload_len));
    CHECK(tcp_parse(pkt + hdrlen, ip.payload_len, &th) >= 0);
    if (fz_tracing())
        fz_trace_seg("out", &th, "");
    f->last_seq = th.seq;
    f->last_ack = th.ack;
    f->last_sport = th.sport;
    f->last_dport = th.dport;
    fz_watch(f, &th);
    if (f->refuse > 0) {
        f->refuse--;
        return -ENOBUFS; /* a full ring: the stack must treat it as lost */
    }
    return 0;
}

/* --- invariants --------------------------------------------------------- */

struct fz_check {
    struct fz *f;
    unsigned nseen;
    bool needs_timer;
    struct tcpc_conninfo seen[128]; /* the first nseen are set */
};

static bool fz_same_tuple(const struct tcpc_conninfo *a, const struct tcpc_conninfo *b)
{
    return a->lport == b->lport && a->fport == b->fport && tcpc_addr_eq(&a->laddr, &b->laddr) &&
           tcpc_addr_eq(&a->faddr, &b->faddr);
}

/* A connection in this state has a SYN or FIN unacknowledged, or data
 * queued, or must give up after a while: some timer must be armed. */
static bool fz_needs_timer(const struct tcpc_conninfo *ci)
{
    if (ci->kind != TCPC_CONN_PCB)
        return true; /* half-open entries retransmit, TIME_WAIT expires */
    switch (ci->state) {
    case TCPS_SYN_SENT:
    case TCPS_SYN_RECEIVED:
    case TCPS_FIN_WAIT_1:
    case TCPS_CLOSING:
    case TCPS_LAST_ACK:
        return true;
    case TCPS_ESTABLISHED:
    case TCPS_CLOSE_WAIT:
        return ci->snd_queue > 0;
    case TCPS_FIN_WAIT_2:
        return ci->sd < 0; /* an orphan waits a bounded time for the FIN */
    default:
        return false;
    }
}

/* A PCB state in which the connection is in the exact table. */
static bool fz_in_table(const struct tcpc_conninfo *ci)
{
    return ci->kind == TCPC_CONN_PCB && ci->state >= TCPS_SYN_SENT && ci->state < TCPS_TIME_WAIT;
}

static void fz_fail(const char *what, const struct tcpc_conninfo *ci)
{
    fprintf(stderr, "fuzz_stack: %s: %s %u -> %u (kind %u, sd %d)\n", what,
            tcpc_state_name(ci->state), ci->lport, ci->fport, ci->kind, ci->sd);
    abort();
}

static int fz_check_one(void *ctx, const struct tcpc_conninfo *ci)
{
    struct fz_check *c = ctx;
    struct tcpc_stack *stack = c->f->stack;
    if (fz_tracing())
        fprintf(stderr, "list kind %u %s %u -> %u sd %d queued %u/%u\n", ci->kind,
                tcpc_state_name(ci->state), ci->lport, ci->fport, ci->sd, ci->snd_queue,
                ci->rcv_queue);
    if (fz_needs_timer(ci))
        c->needs_timer = true;
    if (fz_in_table(ci)) {
        const struct tcpcb *tp =
            demux_lookup_exact(stack, &ci->faddr, ci->fport, &ci->laddr, ci->lport);
        if (!tp || tp->sd != ci->sd || tp->state != ci->state)
            fz_fail("a connection is not found under its own 4-tuple", ci);
    } else if (ci->kind == TCPC_CONN_TIMEWAIT) {
        uint32_t ref = DEMUX_REF_NONE;
        const struct tcpcb *tp =
            demux_lookup_tw(stack, &ci->faddr, ci->fport, &ci->laddr, ci->lport, NULL, &ref);
        if (tp || ref == DEMUX_REF_NONE)
            fz_fail("a TIME_WAIT record is not found under its 4-tuple", ci);
    } else {
        return 0;
    }
    for (unsigned i = 0; i < c->nseen; i++)
        if (fz_same_tuple(&c->seen[i], ci))
            fz_fail("two table entries hold one 4-tuple", ci);
    if (c->nseen < sizeof(c->seen) / sizeof(c->seen[0]))
        c->seen[c->nseen++] = *ci;
    return 0;
}

static void fz_check(struct fz *f)
{
    struct fz_check c;
    c.f = f;
    c.nseen = 0;
    c.needs_timer = false;
    tcpc_list_connections(f->stack, fz_check_one, &c);
    if (c.needs_timer && tcpc_next_deadline(f->stack) == TCPC_TIME_NEVER) {
        fprintf(stderr, "fuzz_stack: a connection waits with no timer armed\n");
        abort();
    }
}

/* --- the script --------------------------------------------------------- */

/* Raw bytes as an IP packet: 2-byte length, then the bytes. */
static bool fz_raw(struct fz *f, const uint8_t **p, size_t *n)
{
    return fz_step_raw(f->stack, f->now, p, n, 2048);
}

static const uint8_t fz_payload[65536]; /* what the peer and the application send */

/*
 * Hands in the segment th, built in pkt: delivery 0 through tcpc_input, 1
 * and 3 through tcpc_input_hash with the flow's right hash, 2 with that
 * hash xor `wrong` (which must only make the segment miss its connection).
 */
static void fz_deliver(struct fz *f, const struct tcp_repr *th, const uint8_t *pkt, size_t len,
                       unsigned delivery, uint32_t wrong)
{
    struct fz_flow *fl = fz_flow_find(f, th->dport, th->sport);
    if (fl && (th->opts.present & TOF_TS))
        fl->peer_tsval = th->opts.tsval;
    if (fl && (th->flags & TH_ACK)) {
        fl->peer_ack = th->ack;
        fl->have_peer_ack = true;
    }
    if (fz_tracing())
        fz_trace_seg(" in", th, delivery == 2 ? " (wrong hash)" : delivery ? " (hash)" : "");
    if (delivery == 0) {
        tcpc_input(f->stack, f->now, pkt, len);
        return;
    }
    /* Without a configured hash any value is ignored; FNV stands in. */
    tcpc_flow_hash_fn fn = f->hash ? f->hash : fz_hash_fnv;
    uint32_t right = fn(NULL, &f->peer, th->sport, &f->local, th->dport);
    tcpc_input_hash(f->stack, f->now, pkt, len, delivery == 2 ? right ^ wrong : right);
}

/* Builds a segment from the peer (checksums right) and delivers it. */
static void fz_inject(struct fz *f, struct tcp_repr *th, unsigned delivery, uint32_t wrong)
{
    struct ip_repr ip = {.src = f->peer, .dst = f->local, .ttl = 64, .version = f->v6 ? 6 : 4};
    if (th->payload_len > FZ_MAXPAYLOAD)
        th->payload_len = FZ_MAXPAYLOAD;
    th->payload = fz_payload;
    /* Only the bytes a segment this long may take: poisoning costs by the byte. */
    size_t room = FZ_PKTMAX - FZ_MAXPAYLOAD + th->payload_len;
    uint8_t *pkt = fz_lend(fz_lent.pkt, room);
    int len = tcp_emit_packet(&ip, th, pkt, room);
    if (len > 0)
        fz_deliver(f, th, pkt, (size_t)len, delivery, wrong);
    fz_unlend(pkt, room);
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
    struct tcp_repr th = {.flags = t.flags, .win = t.win};
    if (t.flags & TH_URG)
        th.urp = (uint16_t)(t.tsval >> 16); /* any pointer, zero and far ones too */
    bool to_listener = t.port_sel & 1;
    th.sport = to_listener ? (uint16_t)(40000 + (t.port_sel >> 4)) : f->last_dport;
    th.dport = to_listener ? FZ_LPORT : f->last_sport;
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
    th.payload_len = t.datalen;
    fz_inject(f, &th, 0, 0);
    return true;
}

/* One connection's sequence spaces, as its peer would reckon them. */
struct fz_view {
    uint32_t rcv_nxt, rcv_wnd, rcv_adv, irs;
    uint32_t snd_una, snd_nxt, snd_max, iss, snd_wnd;
};

/* The descriptor (client or accepted) that has fl's ports, or -1. */
static int fz_flow_sd(struct fz *f, const struct fz_flow *fl)
{
    int sds[2] = {f->csd, f->asd};
    for (unsigned i = 0; i < 2; i++) {
        struct tcpc_addr a;
        uint16_t lport, pport;
        if (sds[i] >= 0 && tcpc_getsockname(f->stack, sds[i], &a, &lport) == 0 &&
            tcpc_getpeername(f->stack, sds[i], &a, &pport) == 0 && lport == fl->lport &&
            pport == fl->pport)
            return sds[i];
    }
    return -1;
}

/* Exact through tcpc_getinfo while the connection has a descriptor (which
 * is returned, fl->info then being current); from its last segment (and
 * the last snapshot) once it has none (-1). */
static int fz_view_of(struct fz *f, struct fz_flow *fl, struct fz_view *v)
{
    int sd = fz_flow_sd(f, fl);
    bool fresh = sd >= 0 && tcpc_getinfo(f->stack, sd, &fl->info) == 0;
    if (fresh)
        fl->have_info = true;
    const struct tcpc_info *in = &fl->info;
    unsigned rscale = fl->have_info && !fl->win_syn ? in->rcv_wscale : 0;
    v->rcv_adv = fl->ack + ((uint32_t)fl->win << rscale);
    if (fresh) {
        v->rcv_nxt = in->rcv_nxt;
        v->rcv_wnd = in->rcv_wnd;
        v->irs = in->irs;
        v->snd_una = in->snd_una;
        v->snd_nxt = in->snd_nxt;
        v->snd_max = in->snd_max;
        v->iss = in->iss;
        v->snd_wnd = in->snd_wnd;
        return sd;
    }
    v->rcv_nxt = fl->ack;
    v->rcv_wnd = (uint32_t)fl->win << rscale;
    v->irs = fl->have_info ? in->irs : fl->ack - 1;
    v->snd_una = fl->have_peer_ack ? fl->peer_ack : fl->have_info ? in->snd_una : fl->iss;
    v->snd_nxt = fl->end;
    v->snd_max = fl->max_end;
    v->iss = fl->iss;
    v->snd_wnd = fl->have_info ? in->snd_wnd : 65535;
    return -1;
}

/*
 * Does th start beyond the right edge of in's receive window (RFC 9293
 * 3.10.7.4: unacceptable whatever its length, ACK field included)? Only
 * for synchronized states, and not for SYN or RST, whose rules differ. The
 * window is taken as generously as the stack may (its free space or what
 * it last advertised, whichever is larger), so a segment flagged here is
 * beyond every window the stack could be using.
 */
static bool fz_beyond_window(const struct fz_flow *fl, const struct tcpc_info *in, int rcvbuf,
                             const struct tcp_repr *th)
{
    if (in->state < TCPS_ESTABLISHED || in->state >= TCPS_TIME_WAIT ||
        (th->flags & (TH_SYN | TH_RST)))
        return false;
    uint32_t wnd = in->rcv_wnd;
    /* FreeBSD's rule, which the stack keeps: the sequence check allows the
     * buffer's room even past what an unscaled window field can offer
     * (65,700 bytes where 65,535 were offered); at most the limit less what
     * the buffer holds. */
    if (rcvbuf > 0 && (uint32_t)rcvbuf > in->rcv_queue && (uint32_t)rcvbuf - in->rcv_queue > wnd)
        wnd = (uint32_t)rcvbuf - in->rcv_queue;
    if (fl->have_w) {
        uint32_t right = fl->wack + ((uint32_t)fl->wwin << (fl->wsyn ? 0 : in->rcv_wscale));
        if ((int32_t)(right - in->rcv_nxt) > (int32_t)wnd)
            wnd = right - in->rcv_nxt;
    }
    int32_t d = (int32_t)(th->seq - in->rcv_nxt);
    /* A zero window still takes a segment at RCV.NXT for its ACK. */
    return wnd == 0 ? d > 0 : d >= (int32_t)wnd;
}

/* After a segment beyond the window: an ACK may have gone out, nothing
 * else may have changed. */
static void fz_check_unchanged(struct fz *f, int sd, const struct tcpc_info *b,
                               const struct tcp_repr *th)
{
    struct tcpc_info a;
    if (tcpc_getinfo(f->stack, sd, &a) != 0)
        return;
    if (a.state != b->state || a.snd_una != b->snd_una || a.snd_wnd != b->snd_wnd ||
        a.rcv_nxt != b->rcv_nxt) {
        fprintf(stderr,
                "fuzz_stack: a segment beyond the window (seq %u, rcv_nxt %u, rcv_wnd %u) "
                "was processed: %s -> %s, snd_una %u -> %u, snd_wnd %u -> %u\n",
                th->seq, b->rcv_nxt, b->rcv_wnd, tcpc_state_name(b->state),
                tcpc_state_name(a.state), b->snd_una, a.snd_una, b->snd_wnd, a.snd_wnd);
        abort();
    }
}

/* A distance from a base: small, half the sequence space away, or in
 * steps of a window scale. */
static uint32_t fz_dist(unsigned cls, int8_t d)
{
    uint32_t sd = (uint32_t)(int32_t)d;
    switch (cls & 3) {
    case 0:
        return sd;
    case 1:
        return 0x80000000u + sd;
    case 2:
        return sd << 8;
    default:
        return sd << 16;
    }
}

static uint32_t fz_seq_base(const struct fz *f, const struct fz_view *v, unsigned sel, uint32_t len)
{
    switch (sel & 7) {
    case 0:
        return v->rcv_nxt;
    case 1:
        return v->rcv_nxt + v->rcv_wnd; /* the right edge of the window */
    case 2:
        return v->rcv_adv; /* the right edge last advertised */
    case 3:
        return v->rcv_nxt - len; /* ends at RCV.NXT: an old duplicate */
    case 4:
        return v->rcv_nxt + v->rcv_wnd - len; /* ends at the right edge */
    case 5:
        return v->irs;
    case 6:
        return v->rcv_nxt - v->rcv_wnd;
    default:
        return f->last_ack; /* whatever connection spoke last */
    }
}

static uint32_t fz_ack_base(const struct fz *f, const struct fz_flow *fl, const struct fz_view *v,
                            unsigned sel)
{
    switch (sel & 7) {
    case 0:
        return v->snd_una;
    case 1:
        return v->snd_nxt;
    case 2:
        return v->snd_max;
    case 3:
        return v->iss;
    case 4:
        return v->snd_una - (v->snd_wnd > 65535 ? v->snd_wnd : 65535); /* RFC 5961 5.2 edge */
    case 5:
        return fl->seq;
    case 6:
        return fl->end;
    default:
        return f->last_seq;
    }
}

struct fz_edge {
    uint8_t ctl;    /* bits 0-2 flow, 3-4 delivery (fz_inject), 5-7 all set: sent 4 times */
    uint8_t flags;  /* TH_* */
    uint8_t seqsel; /* bits 0-2 base (fz_seq_base), 3-4 distance class */
    uint8_t acksel; /* bits 0-2 base (fz_ack_base), 3-4 distance class */
    int8_t dseq, dack;
    uint8_t datalen;
    uint8_t optbits; /* 0 MSS, 1 WS, 2 SACKPERM, 3 TS, 4 SACK; 5-7 window shift / 2 */
    uint16_t win;
    uint16_t mss;
    int8_t dts;    /* TSval: the last one we sent on the flow plus a distance */
    uint8_t tssel; /* bits 0-1 TSval distance class, 2 TSecr 0; 3-7 SACK block length / 64 - 1 */
    int8_t dsack;  /* SACK block start: SND.UNA + 64 * dsack */
    uint8_t wrong; /* spread over the hash xor of delivery 2 */
};
_Static_assert(sizeof(struct fz_edge) == 16, "no padding in a record");

/* A segment on a connection the stack already has, SEQ and ACK drawn near
 * the edges of its state. */
static bool fz_edge(struct fz *f, const uint8_t **p, size_t *n)
{
    struct fz_edge e;
    if (!fz_take(p, n, &e, sizeof(e)))
        return false;
    if (f->nflows == 0)
        return true;
    struct fz_flow *fl = &f->flows[(e.ctl & 7) % f->nflows];
    struct fz_view v;
    int sd = fz_view_of(f, fl, &v);
    struct tcp_repr th = {.sport = fl->pport, .dport = fl->lport, .flags = e.flags, .win = e.win};
    if (e.flags & TH_URG)
        th.urp = e.mss; /* the urgent pointer, from the MSS option's bytes */
    th.payload_len = e.datalen;
    th.seq = fz_seq_base(f, &v, e.seqsel, e.datalen) + fz_dist(e.seqsel >> 3, e.dseq);
    th.ack = fz_ack_base(f, fl, &v, e.acksel) + fz_dist(e.acksel >> 3, e.dack);
    if (e.optbits & 1) {
        th.opts.present |= TOF_MSS;
        th.opts.mss = e.mss;
    }
    if (e.optbits & 2) {
        th.opts.present |= TOF_WSCALE;
        th.opts.wscale = (uint8_t)((e.optbits >> 5) * 2);
    }
    if (e.optbits & 4)
        th.opts.present |= TOF_SACKPERM;
    if (e.optbits & 8) {
        th.opts.present |= TOF_TS;
        th.opts.tsval = fl->peer_tsval + fz_dist(e.tssel, e.dts);
        th.opts.tsecr = (e.tssel & 4) ? 0 : fl->tsval;
    }
    if (e.optbits & 16) {
        th.opts.present |= TOF_SACK;
        th.opts.nsack = 1;
        th.opts.sack[0].start = v.snd_una + (uint32_t)(64 * (int32_t)e.dsack);
        th.opts.sack[0].end = th.opts.sack[0].start + 64u * ((e.tssel >> 3) + 1u);
    }
    unsigned delivery = (e.ctl >> 3) & 3;
    uint32_t wrong = 0x01010101u * (uint32_t)(e.wrong | 1);
    /* Repeats (duplicate ACKs, challenge-ACK limits) are the exception. */
    unsigned sends = (e.ctl >> 5) == 7 ? 4 : 1;
    /* Judged before each copy: the ACK the stack answers one with may
     * open its window (the application read meanwhile), and then the next
     * copy lies inside it. */
    for (unsigned i = 0; i < sends; i++) {
        struct tcpc_info before = fl->info;
        int rcvbuf = 0;
        if (i > 0 && sd >= 0 && tcpc_getinfo(f->stack, sd, &before) != 0)
            sd = -1; /* the connection is gone: nothing left to judge */
        if (sd >= 0)
            tcpc_getsockopt(f->stack, sd, TCPC_SO_RCVBUF, &rcvbuf);
        bool beyond = sd >= 0 && fz_beyond_window(fl, &before, rcvbuf, &th);
        fz_inject(f, &th, delivery, wrong);
        if (beyond)
            fz_check_unchanged(f, sd, &before, &th);
    }
    return true;
}

static bool fz_time(struct fz *f, const uint8_t **p, size_t *n)
{
    tcpc_time_t before = f->now;
    if (!fz_step_time(f->stack, &f->now, p, n))
        return false;
    if (fz_tracing())
        fprintf(stderr, "time +%llu ms\n", (unsigned long long)(f->now - before) / 1000);
    return true;
}

/* Time to just before, at or just after the next deadline (steps of
 * 100 us), where timers and segments race. */
static bool fz_deadline(struct fz *f, const uint8_t **p, size_t *n)
{
    int8_t d;
    if (!fz_take(p, n, &d, 1))
        return false;
    tcpc_time_t at = tcpc_next_deadline(f->stack);
    if (at == TCPC_TIME_NEVER)
        return true;
    at += (tcpc_time_t)(int64_t)d * 100;
    if (at > f->now)
        f->now = at;
    if (fz_tracing())
        fprintf(stderr, "time to the deadline %+d00 us\n", d);
    tcpc_advance(f->stack, f->now);
    return true;
}

/* Live tunables worth flipping mid-connection, four values each. */
static const struct {
    const char *name;
    int64_t v[4];
} fz_live[] = {
    {"net.inet.tcp.syncookies", {0, 1, 1, 1}},
    {"net.inet.tcp.syncookies_only", {0, 1, 0, 1}},
    {"net.inet.tcp.tw_reuse", {0, 1, 0, 1}},
    {"net.inet.tcp.nolocaltimewait", {0, 1, 0, 1}},
    {"net.inet.tcp.delayed_ack", {0, 1, 0, 1}},
    {"net.inet.tcp.sack.enable", {0, 1, 0, 1}},
    {"net.inet.tcp.rfc1323", {0, 1, 0, 1}},
    {"net.inet.tcp.msl", {1, 100, 1000, 30000}},
    {"net.inet.tcp.syncache.rexmtlimit", {0, 1, 3, 12}},
    {"net.inet.tcp.ack_limit", {1, 2, 100, 100000}},
    {"net.inet.tcp.rexmit_min", {1, 30, 200, 1000}},
    {"net.inet.tcp.keepinit", {1000, 5000, 75000, 3600000}},
    {"net.inet.tcp.fastopen.client_enable", {0, 1, 1, 1}},
    {"net.inet.tcp.fastopen.server_enable", {0, 1, 1, 1}},
};

/* A TCP-AO MKT for the peer on sd (RFC 5925): every segment the script
 * sends it then goes through the MAC check, which it fails (the script
 * cannot compute MACs), exercising the check's refusals on any bytes. */
static void fz_ao_key(struct fz *f, int sd, bool cmac)
{
    struct tcpc_tcp_ao_add a = {.addr = f->peer,
                                .prefix = f->v6 ? 128 : 32,
                                .sndid = 1,
                                .rcvid = 2,
                                .alg = cmac ? TCPC_TCP_AO_ALG_AES_128_CMAC_96
                                            : TCPC_TCP_AO_ALG_HMAC_SHA1_96,
                                .keylen = 8};
    memcpy(a.key, "fuzz-key", 8);
    tcpc_setsockopt_buf(f->stack, sd, TCPC_TCP_AO_ADD_KEY, &a, sizeof(a));
}

static void fz_reconnect(struct fz *f, uint8_t arg)
{
    int family = f->v6 ? TCPC_AF_INET6 : TCPC_AF_INET;
    if (f->csd < 0)
        f->csd = tcpc_socket(f->stack, family);
    if (f->csd < 0)
        return;
    if ((arg & 0x80) && f->cport) {
        /* The old connection's port again: a TIME_WAIT reopen. */
        tcpc_setsockopt(f->stack, f->csd, TCPC_SO_REUSEADDR, 1);
        tcpc_bind(f->stack, f->csd, NULL, f->cport);
    }
    uint16_t pport = (uint16_t)(FZ_PPORT + ((arg >> 4) & 1));
    if (arg & 0x20)
        fz_ao_key(f, f->csd, arg & 0x08);
    if (arg & 0x40) {
        /* Fast Open: sendto's implied connect, the data on the SYN when a
         * cookie for the peer is cached. */
        tcpc_setsockopt(f->stack, f->csd, TCPC_TCP_FASTOPEN, 1);
        tcpc_sendto(f->stack, f->csd, "fast open", 1 + (arg & 7), &f->peer, pport);
    } else {
        tcpc_connect(f->stack, f->csd, &f->peer, pport);
    }
    struct tcpc_addr a;
    uint16_t port;
    if (tcpc_getsockname(f->stack, f->csd, &a, &port) == 0 && port)
        f->cport = port;
}

static void fz_relisten(struct fz *f, uint8_t arg)
{
    if (f->lsd >= 0) {
        tcpc_close(f->stack, f->lsd); /* drops its unaccepted children */
        f->lsd = -1;
        return;
    }
    f->lsd = tcpc_socket(f->stack, f->v6 ? TCPC_AF_INET6 : TCPC_AF_INET);
    if (f->lsd < 0)
        return;
    tcpc_setsockopt(f->stack, f->lsd, TCPC_SO_REUSEADDR, 1);
    tcpc_bind(f->stack, f->lsd, NULL, FZ_LPORT);
    if (arg & 0x80)
        tcpc_setsockopt(f->stack, f->lsd, TCPC_TCP_FASTOPEN, 1); /* with server_enable */
    if (arg & 0x40)
        fz_ao_key(f, f->lsd, arg & 0x20);
    tcpc_listen(f->stack, f->lsd, arg % 8);
}

static void fz_forget_sd(struct fz *f, int sd)
{
    if (sd == f->asd)
        f->asd = -1;
    else
        f->csd = -1;
}

static bool fz_api(struct fz *f, const uint8_t **p, size_t *n)
{
    uint8_t op[2];
    if (!fz_take(p, n, op, 2))
        return false;
    char *sink = fz_lent.sink; /* lent only to the reads */
    int sd = (op[0] & 0x10) ? f->asd : f->csd;
    if (fz_tracing())
        fprintf(stderr, "api op %u sd %d arg %u\n", op[0] & 0x0f, sd, op[1]);
    /* Mostly small; one value in sixteen moves 4 to 64 KiB (big segments
     * need big buffers, set through op 6). */
    size_t len = op[1] >= 0xf0 ? ((size_t)(op[1] & 0x0f) + 1) * 4096 : (size_t)op[1] * 4;
    switch (op[0] & 0x0f) {
    case 0:
        tcpc_send(f->stack, sd, fz_payload, len);
        break;
    case 1:
        fz_lend(sink, sizeof(fz_lent.sink));
        while (len > 0 && tcpc_recv(f->stack, sd, sink,
                                    len < sizeof(fz_lent.sink) ? len : sizeof(fz_lent.sink)) > 0)
            len = len > sizeof(fz_lent.sink) ? len - sizeof(fz_lent.sink) : 0;
        fz_unlend(sink, sizeof(fz_lent.sink));
        break;
    case 2:
        tcpc_shutdown(f->stack, sd, op[1] % 3);
        break;
    case 3:
        if (tcpc_close(f->stack, sd) == 0)
            fz_forget_sd(f, sd);
        break;
    case 4:
        if (f->asd < 0 && f->lsd >= 0)
            f->asd = tcpc_accept(f->stack, f->lsd, NULL, NULL);
        break;
    case 5:
        tcpc_setsockopt(f->stack, sd, TCPC_SO_LINGER, op[1] & 1 ? 0 : -1);
        break;
    case 6:
        tcpc_setsockopt(f->stack, sd, (op[1] & 0x80) ? TCPC_SO_RCVBUF : TCPC_SO_SNDBUF,
                        512 << (op[1] % 9));
        break;
    case 7:
        tcpc_setsockopt(f->stack, sd, TCPC_TCP_NODELAY, op[1] & 1);
        break;
    case 8:
        tcpc_setsockopt(f->stack, sd, TCPC_TCP_MAXSEG, op[1] * 8);
        break;
    case 9:
        fz_reconnect(f, op[1]);
        break;
    case 10: {
        unsigned i = (op[1] & 0x0f) % (sizeof(fz_live) / sizeof(fz_live[0]));
        tcpc_sysctl_set(f->stack, fz_live[i].name, fz_live[i].v[(op[1] >> 4) & 3], NULL);
        break;
    }
    case 11:
        fz_relisten(f, op[1]);
        break;
    case 12:
        f->refuse = op[1] % 8;
        break;
    case 13:
        tcpc_send_flags(f->stack, sd, fz_payload, len, TCPC_MSG_OOB);
        break;
    case 14:
        /* Urgent data's read side: the byte (or a peek at it), the mark,
         * SO_OOBINLINE turned on or off. */
        fz_lend(sink, 1);
        tcpc_recv_flags(f->stack, sd, sink, op[1] & 1,
                        TCPC_MSG_OOB | (op[1] & 2 ? TCPC_MSG_PEEK : 0));
        fz_unlend(sink, 1);
        tcpc_sockatmark(f->stack, sd);
        if (op[1] & 4)
            tcpc_setsockopt(f->stack, sd, TCPC_SO_OOBINLINE, op[1] & 8);
        break;
    default:
        tcpc_poll(f->stack, sd);
        break;
    }
    return true;
}

/* Link MTUs by family: the usual ones and the edges of what the stack
 * accepts (tcpcore/stack.h), up to 65535 and 65536 where the IP header's
 * length field, not the MTU, bounds a segment. */
static const uint32_t fz_mtu4[8] = {1500, TCPC_MTU_MIN, 1280,  1492,
                                    9000, 16384,        65535, TCPC_MTU_MAX};
static const uint32_t fz_mtu6[8] = {1500,  TCPC_MTU_MIN_IPV6, 1281, 1492, 9000, 16384,
                                    65535, TCPC_MTU_MAX};

/* Tables about as small as their tunables allow, so that creating a stack
 * is cheap and its limits (SYN cache overflow; TIME_WAIT, socket, spare
 * buffer, buffer budget and SACK scoreboard exhaustion) are a few segments
 * away. */
static const struct {
    const char *name;
    int64_t value;
} fz_small[] = {
    {"kern.ipc.maxsockets", 64},
    {"net.inet.tcp.syncache.hashsize", 4},
    {"net.inet.tcp.syncache.bucketlimit", 3},
    {"net.inet.tcp.syncache.cachelimit", 8},
    {"net.inet.tcp.maxtcptw", 32},
    /* 512 bytes of port-walk counters instead of 128 KiB, which sanitizer
     * allocators map and unmap for every stack. */
    {"net.inet.ip.portrange.hashsize", 256},
    {"net.inet.tcp.sendspace", 4096},
    {"net.inet.tcp.recvspace", 4096},
    {"kern.ipc.sockbuf_reserve", 2},
    /* Buffers grow on demand: small ceilings keep the spare rings a stack
     * sets aside (one per size class up to them) to a few pages, and put
     * the memory budget's refusals within a few segments' reach. */
    {"net.inet.tcp.sendbuf_max", 16384},
    {"net.inet.tcp.recvbuf_max", 16384},
    {"kern.ipc.sockbuf_budget", 131072},
    {"net.inet.tcp.sack.globalmaxholes", 128}, /* two records of 64 ranges */
    {"net.inet.tcp.fastopen.ccache_buckets", 2},
    {"net.inet.tcp.fastopen.ccache_bucket_limit", 2},
    {"net.inet.tcp.fastopen.acceptany", 1}, /* any cookie a script forges is good */
};

static void fz_sysctl(struct tcpc_config *cfg, const char *name, int64_t value)
{
    const char *why;
    if (tcpc_config_sysctl(cfg, name, value, &why) != 0) {
        fprintf(stderr, "fuzz_stack: %s=%lld refused: %s\n", name, (long long)value, why);
        abort(); /* the harness is out of date with the tunables */
    }
}

/*
 * The configuration every input with these mode bits starts from, built by
 * name once per process: constant after that, so inputs stay independent,
 * and the per-input cost is a copy rather than a dozen name lookups.
 */
static const struct tcpc_config *fz_base(uint8_t mode)
{
    static struct tcpc_config base[8];
    static bool ready[8];
    unsigned k = mode & 7;
    struct tcpc_config *cfg = &base[k];
    if (ready[k])
        return cfg;
    tcpc_config_init(cfg);
    tcpc_addr_parse((k & 1) ? "2001:db8::1" : "198.18.0.1", &cfg->local_addrs[0]);
    cfg->nlocal_addrs = 1;
    cfg->use_seed = true;
    for (size_t i = 0; i < sizeof(fz_small) / sizeof(fz_small[0]); i++)
        fz_sysctl(cfg, fz_small[i].name, fz_small[i].value);
    fz_sysctl(cfg, "net.inet.tcp.rfc1323", (k >> 1) & 1);
    fz_sysctl(cfg, "net.inet.tcp.delayed_ack", (k >> 2) & 1);
    ready[k] = true;
    return cfg;
}

/*
 * Config byte: bit 0 IPv6, 1 RFC 7323, 2 delayed ACKs, 3-5 MTU (fz_mtu4/6),
 * 6-7 flow hash (fz_hashes).
 */
static bool fz_setup(struct fz *f, uint8_t mode)
{
    memset(f, 0, sizeof(*f));
    f->v6 = mode & 1;
    struct tcpc_config cfg = *fz_base(mode);
    f->local = cfg.local_addrs[0];
    f->peer = f->local;
    f->peer.bytes[15] = 2; /* 198.18.0.2 or 2001:db8::2 */
    cfg.output = fz_output;
    cfg.output_ctx = f;
    cfg.mtu = f->mtu = (f->v6 ? fz_mtu6 : fz_mtu4)[(mode >> 3) & 7];
    cfg.flow_hash = f->hash = fz_hashes[mode >> 6];
    (void)tcpc_config_set_allocator(&cfg, fz_alloc, fz_release, NULL);
    f->now = 1000000;
    if (tcpc_stack_new(&cfg, f->now, &f->stack) != 0)
        return false; /* an MTU this family refuses: nothing to run */
    f->lsd = tcpc_socket(f->stack, f->v6 ? TCPC_AF_INET6 : TCPC_AF_INET);
    tcpc_bind(f->stack, f->lsd, NULL, FZ_LPORT);
    tcpc_listen(f->stack, f->lsd, 4);
    f->csd = f->asd = -1;
    fz_reconnect(f, 0); /* last_* now describe our SYN */
    return true;
}

static bool fz_step(struct fz *f, uint8_t kind, const uint8_t **p, size_t *n)
{
    switch (kind % 8) {
    case 0:
        return fz_raw(f, p, n);
    case 1:
        return fz_templated(f, p, n);
    case 2:
        return fz_time(f, p, n);
    case 4:
    case 5:
        return fz_edge(f, p, n);
    case 6:
        return fz_deadline(f, p, n);
    default:
        return fz_api(f, p, n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz f;
    fz_arena_reset();
    if (size < 1 || !fz_setup(&f, data[0]))
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    bool more = true;
    while (more && n > 0) {
        uint8_t kind = *p++;
        n--;
        more = fz_step(&f, kind, &p, &n);
    }
    /* Once, at the end: a state that breaks an invariant mid-script is also
     * the end of a shorter input, which the fuzzer tries too. */
    fz_check(&f);
    tcpc_stack_del(f.stack);
    if (fz_arena.live) {
        fprintf(stderr, "fuzz_stack: %zu blocks not given back by tcpc_stack_del\n", fz_arena.live);
        abort();
    }
    return 0;
}
