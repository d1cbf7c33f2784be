/*
 * Compressed TIME_WAIT: the records, their 2 MSL queue, the rules for
 * segments that reach them, and port reuse; see timewait.h and
 * docs/timewait.md.
 *
 * Two layouts. Almost every IPv4 connection's local address is one of the
 * stack's own (at most TCPC_MAX_LOCAL_ADDRS), so the compact layout stores
 * the local address as a one-byte index into that list and the foreign
 * address in four bytes: 40 bytes a record. Everything else (IPv6, or an
 * IP_BINDANY connection on an address the stack does not list) takes the
 * wide layout, which stores the whole struct pcb_tuple: 68 bytes. Each
 * layout has its own pool and its own exact-table kind, so a reference
 * names its layout and the pool index in one 32-bit word.
 *
 * The 2 MSL queue. Every record lives exactly 2 MSL after its last (re)arm,
 * so arming order is expiry order: a FIFO per layout, linked by pool index
 * (head = oldest). Expiry pops heads while they are due, O(1) a record;
 * re-arming (a retransmitted FIN) unlinks a record from the middle and
 * appends it, which is why the links go both ways. Recycling takes the
 * older of the two heads.
 *
 * Time in 32 bits. A record keeps the low 32 bits of its expiry in
 * microseconds. 2 MSL is at most 1200 s (net.inet.tcp.msl <= 600000 ms),
 * well inside the 2147 s that a signed 32-bit difference can order. The
 * queues are purged of due records before every (re)arm, so right after an
 * arm at time A every record expires in (A, A + 1200 s]. Later, if now is
 * at least 1200 s past the latest arm, every record is due; otherwise
 * now - expiry is within +-2147 s and the 32-bit comparison is exact.
 * tw_due encodes exactly that.
 */
#include "tcp/timewait.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "core/sysctl.h"
#include "pcb/pcb.h"
#include "tcp/syncache.h"
#include "tcp/tcp_demux.h"
#include "tcp/tcp_ao.h"
#include "tcp/tcp_md5.h"
#include "tcp/tcp_subr.h"
#include "util/pool.h"
#include "util/portcount.h"
#include "util/seq.h"

#define TW_NIL UINT32_MAX

/* The longest 2 MSL a tunable can ask for (net.inet.tcp.msl <= 600000 ms). */
#define TW_2MSL_MAX (2 * 600000 * TCPC_USEC_PER_MSEC)
static_assert(TW_2MSL_MAX < (1ull << 31), "32-bit expiry needs 2 MSL below 2^31 microseconds");

/* How long the peer's timestamp clock must have had to tick before
 * connect() may reuse a timestamped 4-tuple (Linux's tcp_tw_reuse rule;
 * RFC 7323 clocks tick at least once a second). */
#define TW_REUSE_TS_AGE TCPC_USEC_PER_SEC

/* Record flags. */
#define TWF_TS     0x01 /* both sides used timestamps: ts_recent/ts_offset valid */
#define TWF_REOPEN 0x02 /* a SYN asked to reopen: the SYN cache may hold its entry */
#define TWF_SIG    0x04 /* the connection was MD5-signed (RFC 2385): see tw_md5_key */
#define TWF_AO     0x08 /* the connection used TCP-AO (RFC 5925): see tw_md5_check */

/* What either layout keeps beyond its 4-tuple: 32 bytes. */
struct tw_core {
    uint32_t snd_nxt;
    uint32_t rcv_nxt;
    uint32_t ts_recent; /* the peer's last TSval we echo (TWF_TS) */
    uint32_t ts_offset; /* our TSval offset (TWF_TS) */
    uint32_t expire;    /* low 32 bits of the expiry, microseconds */
    uint32_t next;      /* 2 MSL queue: toward the tail (younger) */
    uint32_t prev;      /* toward the head (older) */
    uint16_t last_win;  /* the window field of our last ACK (scaled down) */
    uint8_t flags;      /* TWF_* */
    uint8_t lid;        /* compact layout: laddr = the route table's slot lid */
};

/* IPv4 with a listed local address. Ports in host order. */
struct tw4 {
    uint8_t faddr[4]; /* network order */
    uint16_t fport;
    uint16_t lport;
    struct tw_core c;
};

/* Anything else: the whole 4-tuple. */
struct tw6 {
    struct pcb_tuple t;
    struct tw_core c;
};

/*
 * The budget (issue 6): 64 bytes per IPv4 record and 96 per IPv6 record,
 * counting its share of the exact table. The table has one 64-byte bucket
 * per PCB_BUCKET_TARGET (6) entries, rounded up to a power of two: between
 * 10.7 and 21.3 bytes an entry. Checked against the worst case.
 */
#define TW_TABLE_SHARE_MAX ((2 * 64 + 5) / 6) /* 22: 2 x 64 / 6, rounded up */
static_assert(sizeof(struct tw_core) == 32, "tw_core is 32 bytes");
static_assert(sizeof(struct tw4) == 40, "an IPv4 record is 40 bytes");
static_assert(sizeof(struct tw6) == 68, "an IPv6 record is 68 bytes");
static_assert(sizeof(struct tw4) + TW_TABLE_SHARE_MAX <= 64, "IPv4: <= 64 bytes with the table");
static_assert(sizeof(struct tw6) + TW_TABLE_SHARE_MAX <= 96, "IPv6: <= 96 bytes with the table");
static_assert(TCPC_MAX_LOCAL_ADDRS <= 256, "lid is one byte");

enum { TW_COMPACT, TW_WIDE, TW_NLAYOUTS };

/* One layout: its pool, its 2 MSL queue and its exact-table kind. */
struct tw_layout {
    struct tw_state *tw;
    struct pool pool;
    uint32_t head, tail;
    unsigned kind;
    bool wide;
};

/* connect()'s takeover leaves what the new incarnation inherits here. */
struct tw_handoff {
    bool valid;
    bool ts;
    struct pcb_tuple t;
    uint32_t snd_nxt;
    uint32_t ts_offset;
};

struct tw_state {
    struct tcpc_stack *stack;
    struct tw_layout lay[TW_NLAYOUTS];
    uint32_t capacity;      /* of each pool; also the bound on both together */
    struct portcount ports; /* records per local port, for bind (port_busy) */
    tcpc_time_t last_arm;   /* the latest (re)arm, for tw_due */
    struct tw_handoff handoff;
};

static struct tw_state *tw_of(const struct tcpc_stack *stack)
{
    return stack->tcp->tw;
}

static struct tw_core *tw_core_at(const struct tw_layout *l, uint32_t idx)
{
    void *p = pool_at(&l->pool, idx);
    return l->wide ? &((struct tw6 *)p)->c : &((struct tw4 *)p)->c;
}

/* The record's 4-tuple in the PCB layer's form. */
static void tw_tuple(const struct tw_layout *l, uint32_t idx, struct pcb_tuple *t)
{
    const void *p = pool_at(&l->pool, idx);
    if (l->wide) {
        *t = ((const struct tw6 *)p)->t;
        return;
    }
    const struct tw4 *e = p;
    memset(t, 0, sizeof(*t));
    t->faddr.bytes[10] = 0xff;
    t->faddr.bytes[11] = 0xff;
    memcpy(&t->faddr.bytes[12], e->faddr, 4);
    t->laddr = *route_addr_at(&l->tw->stack->rt, e->c.lid);
    t->fport = e->fport;
    t->lport = e->lport;
}

/* --- the PCB layer's view (struct pcb_kind_ops) ------------------------ */

static bool tw4_match(void *ctx, uint32_t idx, const struct pcb_tuple *t)
{
    const struct tw_layout *l = ctx;
    const struct tw4 *e = pool_at(&l->pool, idx);
    return e->fport == t->fport && e->lport == t->lport &&
           memcmp(e->faddr, &t->faddr.bytes[12], 4) == 0 && tcpc_addr_is_v4(&t->faddr) &&
           tcpc_addr_eq(route_addr_at(&l->tw->stack->rt, e->c.lid), &t->laddr);
}

static bool tw6_match(void *ctx, uint32_t idx, const struct pcb_tuple *t)
{
    const struct tw_layout *l = ctx;
    const struct tw6 *e = pool_at(&l->pool, idx);
    return pcb_tuple_eq(&e->t, t);
}

static const void *tw_entry(void *ctx, uint32_t idx)
{
    const struct tw_layout *l = ctx;
    return pool_at(&l->pool, idx);
}

static bool tw_takeover(void *ctx, uint32_t idx);

/* Without SO_REUSEADDR/SO_REUSEPORT a bind is refused while TIME_WAIT holds
 * the port (FreeBSD keeps TIME_WAIT inpcbs in the port hash). Counted per
 * port only, so a bind to one address is also refused for a record on
 * another address of the same port: conservative, and cheap enough for the
 * ephemeral search that asks for every candidate port. */
static bool tw_port_busy(void *ctx, const struct tcpc_addr *laddr, uint16_t lport)
{
    const struct tw_layout *l = ctx;
    (void)laddr;
    return portcount_get(&l->tw->ports, lport) != 0;
}

/* --- the 2 MSL queue ----------------------------------------------------- */

static void tw_queue_unlink(struct tw_layout *l, struct tw_core *c)
{
    if (c->prev != TW_NIL)
        tw_core_at(l, c->prev)->next = c->next;
    else
        l->head = c->next;
    if (c->next != TW_NIL)
        tw_core_at(l, c->next)->prev = c->prev;
    else
        l->tail = c->prev;
}

static void tw_queue_append(struct tw_layout *l, uint32_t idx, struct tw_core *c)
{
    c->next = TW_NIL;
    c->prev = l->tail;
    if (l->tail != TW_NIL)
        tw_core_at(l, l->tail)->next = idx;
    else
        l->head = idx;
    l->tail = idx;
}

static tcpc_time_t tw_2msl(const struct tcpc_stack *stack)
{
    tcpc_time_t t = 2 * (tcpc_time_t)stack->cfg.tun.msl * TCPC_USEC_PER_MSEC;
    return t < TW_2MSL_MAX ? t : TW_2MSL_MAX;
}

/* Is c's 2 MSL over at now? (See "Time in 32 bits" above.) */
static bool tw_due(const struct tw_state *tw, const struct tw_core *c, tcpc_time_t now)
{
    if (now - tw->last_arm >= TW_2MSL_MAX)
        return true;
    return (int32_t)(c->expire - (uint32_t)now) <= 0;
}

/* Time left before c expires at now; 0 when due. */
static tcpc_time_t tw_left(const struct tw_state *tw, const struct tw_core *c, tcpc_time_t now)
{
    if (tw_due(tw, c, now))
        return 0;
    return (uint32_t)(c->expire - (uint32_t)now);
}

/* Gives n records back to the group's count (a record freed). */
static void tw_group_release(const struct tcpc_stack *stack, uint32_t n)
{
    if (stack->group && n)
        group_tw_release(stack->group, n);
}

/* Why a record goes. */
enum tw_close_why { TW_EXPIRED, TW_RECYCLED, TW_REOPENED, TW_TAKEN_OVER, TW_DROPPED };

/* Takes record idx out of the table, its queue and its pool. */
static void tw_close(struct tw_layout *l, uint32_t idx, enum tw_close_why why)
{
    struct tw_state *tw = l->tw;
    struct tcpc_stack *stack = tw->stack;
    struct tw_core *c = tw_core_at(l, idx);
    struct pcb_tuple t;
    tw_tuple(l, idx, &t);
    /* A record the flow hash no longer leads to is found by a scan (and
     * counted); -ENOENT would mean it was never indexed, which tw_start
     * does not allow. Either way nothing of it is left in the table. */
    (void)demux_ref_remove(stack, &t, PCB_REF(l->kind, idx));
    portcount_dec(&tw->ports, t.lport);
    tw_queue_unlink(l, c);
    tcp_due_forget(stack->tcp); /* it may have been the earliest */
    if (!l->wide)
        route_addr_release(&stack->rt, c->lid);
    pool_put(&l->pool, idx);
    tw_group_release(stack, 1);
    switch (why) {
    case TW_EXPIRED:
        STAT_INC(stack, tcps_tw_expired);
        break;
    case TW_RECYCLED:
        STAT_INC(stack, tcps_tw_recycles);
        break;
    case TW_REOPENED:
        STAT_INC(stack, tcps_tw_reopened);
        break;
    case TW_TAKEN_OVER:
        STAT_INC(stack, tcps_tw_reused);
        break;
    case TW_DROPPED:
        break; /* the administrator's act; FreeBSD counts none either */
    }
}

/* Expires what is due at now, in both queues. */
static void tw_expire(struct tw_state *tw, tcpc_time_t now)
{
    for (unsigned k = 0; k < TW_NLAYOUTS; k++) {
        struct tw_layout *l = &tw->lay[k];
        while (l->head != TW_NIL && tw_due(tw, tw_core_at(l, l->head), now))
            tw_close(l, l->head, TW_EXPIRED);
    }
}

/* (Re)arms c for 2 MSL from now at the tail of its queue. The caller has
 * expired what was due (the invariant tw_due relies on). */
static void tw_arm(struct tw_layout *l, uint32_t idx, struct tw_core *c, bool rearm)
{
    struct tcpc_stack *stack = l->tw->stack;
    if (rearm) {
        tw_queue_unlink(l, c);
        tcp_due_forget(stack->tcp); /* it may have been the earliest */
    }
    c->expire = (uint32_t)(stack->now + tw_2msl(stack));
    l->tw->last_arm = stack->now;
    tw_queue_append(l, idx, c);
    tcp_due_lower(stack->tcp, stack->now + tw_2msl(stack));
}

/* The layout with the oldest head, or NULL when both queues are empty. */
static struct tw_layout *tw_oldest(struct tw_state *tw)
{
    struct tw_layout *a = &tw->lay[TW_COMPACT], *b = &tw->lay[TW_WIDE];
    if (a->head == TW_NIL)
        return b->head == TW_NIL ? NULL : b;
    if (b->head == TW_NIL)
        return a;
    uint32_t ea = tw_core_at(a, a->head)->expire, eb = tw_core_at(b, b->head)->expire;
    return (int32_t)(ea - eb) <= 0 ? a : b;
}

uint32_t tw_count(const struct tcpc_stack *stack)
{
    const struct tw_state *tw = tw_of(stack);
    return pool_used(&tw->lay[TW_COMPACT].pool) + pool_used(&tw->lay[TW_WIDE].pool);
}

/* Whether one more record fits under the stack's limit and, in a group, the
 * group's net.inet.tcp.maxtcptw (group_limit), the group's slot being taken
 * when it does. */
static bool tw_room(const struct tcpc_stack *stack, uint32_t limit, uint32_t group_limit)
{
    if (tw_count(stack) >= limit)
        return false;
    return !stack->group || group_tw_reserve(stack->group, group_limit);
}

/* A free record in l, recycling the oldest records while the table is at
 * net.inet.tcp.maxtcptw (tcp_tw_2msl_scan with reuse); TW_NIL if none. */
static uint32_t tw_alloc(struct tw_state *tw, struct tw_layout *l)
{
    struct tcpc_stack *stack = tw->stack;
    int64_t want = sysctl_maxtcptw(&stack->cfg.tun);
    uint32_t limit = want < (int64_t)tw->capacity ? (uint32_t)want : tw->capacity;
    while (!tw_room(stack, limit, (uint32_t)want)) {
        /* In a group the others' records count too, but only our own can
         * be recycled here: with none left, this close goes without one. */
        struct tw_layout *old = tw_oldest(tw);
        if (!old)
            return TW_NIL;
        tw_close(old, old->head, TW_RECYCLED);
    }
    uint32_t idx = pool_get(&l->pool);
    if (idx == POOL_NONE) {
        tw_group_release(stack, 1);
        return TW_NIL;
    }
    return idx;
}

/* --- answering from a record (tcp_twrespond) ----------------------------- */

static struct tw_layout *tw_layout_of(struct tw_state *tw, uint32_t ref);

/*
 * The key of a signed record (RFC 2385). A record has no room for one (40
 * bytes, all spoken for), so it keeps only TWF_SIG and finds the key where
 * it still lives: the listener on the record's local port, with a key for
 * the peer. That covers the connections a listener accepted (the usual
 * BGP-style server side). A signed connection we opened from a port nobody
 * listens on reaches no key once its socket is gone: its record stays
 * silent and drops what arrives (tcps_sig_err_buildsig), which costs the
 * peer at most a retransmitted FIN; an unsigned answer would be dropped by
 * the peer all the same, and a blind RST could not reach it. The final ACK
 * owed when the record is made goes out with the connection's own key.
 */
static const struct tcp_md5_key *tw_md5_key(struct tcpc_stack *stack, const struct pcb_tuple *t)
{
    return tcp_md5_listener_key(stack, &t->laddr, t->lport, &t->faddr, t->fport);
}

bool tw_md5_check(struct tcpc_stack *stack, uint32_t ref, const struct ip_repr *ip,
                  const uint8_t *seg, size_t seglen, const struct tcp_repr *th,
                  const struct tcp_md5_key **key)
{
    struct tw_layout *l = tw_layout_of(tw_of(stack), ref);
    uint32_t idx = PCB_REF_IDX(ref);
    *key = NULL;
    uint8_t flags = tw_core_at(l, idx)->flags;
    if (flags & TWF_AO) {
        /* RFC 5925: a record has room for neither the MKT nor the ISNs
         * and SNEs its MACs need, so it checks nothing and lets nothing
         * through (an unauthenticated RST or SYN least of all), and
         * answers nothing: it still holds the 4-tuple for 2 MSL. */
        stack_drop(stack, TCPC_STAT_tcps_ao_keynotfound,
                   "TIME_WAIT record of a TCP-AO connection cannot check a MAC");
        return false;
    }
    if (!(flags & TWF_SIG))
        return true; /* unsigned: whoever takes the segment on checks it */
    struct pcb_tuple t;
    tw_tuple(l, idx, &t);
    *key = tw_md5_key(stack, &t);
    if (!*key) {
        stack_drop(stack, TCPC_STAT_tcps_sig_err_buildsig,
                   "signed TIME_WAIT record without a reachable key");
        return false;
    }
    return tcp_md5_input(stack, *key, ip, seg, seglen, th);
}

/* An ACK from the record; key overrides the lookup (the record's birth),
 * as ao does for a TCP-AO connection's record, which has no other way to
 * sign. */
static void tw_respond_key(struct tw_layout *l, uint32_t idx, const struct tcp_md5_key *key,
                           const struct tcp_ao_sign *ao)
{
    struct tcpc_stack *stack = l->tw->stack;
    const struct tw_core *c = tw_core_at(l, idx);
    if ((c->flags & TWF_AO) && !ao)
        return;
    struct pcb_tuple t;
    tw_tuple(l, idx, &t);
    if ((c->flags & TWF_SIG) && !key) {
        key = tw_md5_key(stack, &t);
        if (!key) {
            STAT_INC(stack, tcps_sig_err_buildsig);
            return;
        }
    }
    struct tcp_opts o = {0};
    if (c->flags & TWF_TS) {
        /* The timestamp clock of tcp_ts_now, continued for this record. */
        o.present = TOF_TS;
        o.tsval = (uint32_t)(stack->now / TCPC_USEC_PER_MSEC) + c->ts_offset;
        o.tsecr = c->ts_recent;
    }
    if (tcp_respond_opts(stack, &t.laddr, t.lport, &t.faddr, t.fport, c->snd_nxt, c->rcv_nxt,
                         TH_ACK, c->last_win, &o, NULL, key, ao) == 0)
        STAT_INC(stack, tcps_tw_responds);
}

static void tw_respond(struct tw_layout *l, uint32_t idx)
{
    tw_respond_key(l, idx, NULL, NULL);
}

/* --- entering TIME_WAIT (tcp_twstart) ------------------------------------ */

/* Where a 4-tuple's record goes: compact when its local address has a
 * slot in the route table (even a removed address's, still held) and both
 * ends are IPv4. */
static unsigned tw_layout_for(const struct tcpc_stack *stack, const struct pcb_tuple *t,
                              uint8_t *lid)
{
    if (!tcpc_addr_is_v4(&t->faddr) || !tcpc_addr_is_v4(&t->laddr))
        return TW_WIDE;
    int slot = route_addr_slot(&stack->rt, &t->laddr);
    if (slot < 0)
        return TW_WIDE;
    *lid = (uint8_t)slot;
    return TW_COMPACT;
}

/* A connection that enters no TIME_WAIT still gets the ACK it owed. */
static void tw_none(struct tcpc_stack *stack, const struct pcb_tuple *t, const struct tw_core *rec,
                    bool acknow, const struct tcp_md5_key *key, const struct tcp_ao_sign *ao)
{
    if (acknow)
        tcp_respond_opts(stack, &t->laddr, t->lport, &t->faddr, t->fport, rec->snd_nxt,
                         rec->rcv_nxt, TH_ACK, rec->last_win, NULL, NULL, key, ao);
}

static void tw_ao_release(const struct tcp_ao_sign *ao)
{
    if (ao)
        tcp_ao_key_release((struct tcp_ao_key *)ao->key);
}

void tw_start(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tw_state *tw = tw_of(stack);
    if (stack->cfg.tun.nolocaltimewait && tcpc_addr_is_local(stack, &tp->inp->faddr)) {
        STAT_INC(stack, tcps_tw_nolocal);
        tcp_close(stack, tp);
        return;
    }
    struct pcb_tuple t = {.faddr = tp->inp->faddr,
                          .laddr = tp->inp->laddr,
                          .fport = tp->inp->fport,
                          .lport = tp->inp->lport};
    struct tw_core rec = {.snd_nxt = tp->snd_nxt, .rcv_nxt = tp->rcv_nxt};
    /* The window of our last ACK; 0 if rcv_adv fell behind (the 2017 fix). */
    uint32_t win =
        SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? (tp->rcv_adv - tp->rcv_nxt) >> tp->rcv_scale : 0;
    rec.last_win = (uint16_t)(win > TCP_MAXWIN ? TCP_MAXWIN : win);
    if ((tp->t_flags & (TF_REQ_TSTMP | TF_RCVD_TSTMP)) == (TF_REQ_TSTMP | TF_RCVD_TSTMP)) {
        rec.flags |= TWF_TS;
        rec.ts_recent = tp->ts_recent;
        rec.ts_offset = tp->ts_offset;
    }
    bool acknow = (tp->t_flags & TF_ACKNOW) != 0;
    /* Held across tcp_close, for the ACK owed now (tw_md5_key). */
    struct tcp_md5_key *key = tcp_md5_hold(tp->t_md5);
    if (key)
        rec.flags |= TWF_SIG;
    /* RFC 5925: the ACK owed now is the last segment the connection can
     * authenticate; its MKT is held across tcp_close like the MD5 key. */
    struct tcp_ao_sign aos;
    const struct tcp_ao_sign *ao = NULL;
    if (tcp_ao_sign_of(tp, &(struct tcp_repr){.seq = tp->snd_nxt}, &aos)) {
        tcp_ao_key_hold((struct tcp_ao_key *)aos.key);
        ao = &aos;
        rec.flags |= TWF_AO;
    }

    /* The control block leaves the tables first: the record takes its
     * 4-tuple. tp may be freed here; a socket still open on it reports
     * TIME_WAIT while the record lives (tcp_user_state). */
    tp->t_flags |= TF_TIMEWAIT;
    tcp_close(stack, tp);
    tp = NULL;

    tw_expire(tw, stack->now);
    unsigned k = tw_layout_for(stack, &t, &rec.lid);
    struct tw_layout *l = &tw->lay[k];
    uint32_t idx = tw_alloc(tw, l);
    if (idx == TW_NIL) {
        STAT_INC(stack, tcps_tw_nospace);
        tw_none(stack, &t, &rec, acknow, key, ao);
        tcp_md5_release(key);
        tw_ao_release(ao);
        return;
    }
    void *p = pool_at(&l->pool, idx);
    if (l->wide) {
        struct tw6 *e = p;
        e->t = t;
        e->c = rec;
    } else {
        struct tw4 *e = p;
        memcpy(e->faddr, &t.faddr.bytes[12], 4);
        e->fport = t.fport;
        e->lport = t.lport;
        e->c = rec;
    }
    struct tw_core *c = tw_core_at(l, idx);
    /* Refused only if the 4-tuple is held already or the table is full,
     * neither of which its sizing and the insert checks allow; a record the
     * table does not index must not exist, so it goes back. */
    if (demux_ref_insert(stack, &t, PCB_REF(l->kind, idx)) != 0) {
        pool_put(&l->pool, idx);
        STAT_INC(stack, tcps_inshash_fail);
        tw_none(stack, &t, &rec, acknow, key, ao);
        tcp_md5_release(key);
        tw_ao_release(ao);
        return;
    }
    /* The slot keeps its address while the record names it, even if the
     * address is removed meanwhile. */
    if (!l->wide)
        route_addr_hold(&stack->rt, c->lid);
    portcount_inc(&tw->ports, t.lport);
    tw_arm(l, idx, c, false);
    STAT_INC(stack, tcps_tw_added);
    if (acknow)
        tw_respond_key(l, idx, key, ao);
    tcp_md5_release(key);
    tw_ao_release(ao);
}

/* --- segments in TIME_WAIT (tcp_twcheck) --------------------------------- */

/*
 * RFC 6191 section 2: may this SYN start a new incarnation? With timestamps
 * on both incarnations, only a newer timestamp (or the same one with a
 * higher sequence number) says the SYN is not an old duplicate; otherwise
 * the sequence number must be above the old rcv_nxt (RFC 9293's rule, as the
 * seed has it).
 */
static bool tw_syn_acceptable(const struct tcpc_stack *stack, const struct tw_core *c,
                              const struct tcp_repr *th)
{
    bool ts_new = stack->cfg.tun.rfc1323 && (th->opts.present & TOF_TS);
    if ((c->flags & TWF_TS) && ts_new) {
        if (TSTMP_GT(th->opts.tsval, c->ts_recent))
            return true;
        return th->opts.tsval == c->ts_recent && SEQ_GT(th->seq, c->rcv_nxt);
    }
    return SEQ_GT(th->seq, c->rcv_nxt);
}

/* The record's layout and index from an exact-table reference. */
static struct tw_layout *tw_layout_of(struct tw_state *tw, uint32_t ref)
{
    return &tw->lay[PCB_REF_KIND(ref) == PCB_KIND_TIMEWAIT ? TW_COMPACT : TW_WIDE];
}

enum tw_verdict tw_input(struct tcpc_stack *stack, uint32_t ref, const struct ip_repr *ip,
                         const struct tcp_repr *th, struct syncache_reopen *reopen)
{
    struct tw_state *tw = tw_of(stack);
    struct tw_layout *l = tw_layout_of(tw, ref);
    uint32_t idx = PCB_REF_IDX(ref);
    struct tw_core *c = tw_core_at(l, idx);
    uint8_t flags = th->flags;
    uint32_t tlen = (uint32_t)th->payload_len;

    /* A reopen in progress: its handshake's ACK and the client's RST are
     * the SYN cache's; everything else is still the old incarnation's. */
    if ((c->flags & TWF_REOPEN) && !(flags & TH_SYN) && syncache_reopen_wants(stack, ip, th))
        return TW_HANDSHAKE;
    /* RFC 1337: an RST must not cut TIME_WAIT short. */
    if (flags & TH_RST) {
        stack_drop(stack, TCPC_STAT_tcps_tw_resets, "RST in TIME_WAIT (RFC 1337)");
        return TW_CONSUMED;
    }
    /* A new connection request. An acceptable one goes to the listener,
     * numbered above everything this incarnation sent (RFC 9293 3.6.1,
     * RFC 1122 4.2.2.13) and continuing its timestamp clock; the record
     * stays until the new connection completes, which is how RFC 1122's
     * "returns to TIME-WAIT state if the SYN turns out to be an old
     * duplicate" comes about. Any other SYN is dropped without an answer,
     * as FreeBSD's tcp_twcheck drops it: TIME_WAIT has nothing to tell a
     * new connection attempt, and RFC 9293 leaves the reply to RFC 5961,
     * which it does not require. A SYN-ACK is an unacceptable segment and
     * gets RFC 9293's ACK. TIME_WAIT goes on as it was. */
    if (flags & TH_SYN) {
        if (!(flags & TH_ACK) && tw_syn_acceptable(stack, c, th)) {
            c->flags |= TWF_REOPEN;
            reopen->iss = c->snd_nxt + TW_ISS_GAP;
            reopen->ts = (c->flags & TWF_TS) != 0;
            reopen->ts_offset = c->ts_offset;
            return TW_REOPEN;
        }
        STAT_INC(stack, tcps_tw_badsyn);
        if (flags & TH_ACK)
            tw_respond(l, idx);
        return TW_CONSUMED;
    }
    /* RFC 7323 5.3 PAWS, which the seed left under #if 0: a segment older
     * than ts_recent is a duplicate of the old incarnation. ts_recent is
     * never updated: TIME_WAIT accepts no new segments. */
    if ((c->flags & TWF_TS) && (th->opts.present & TOF_TS) &&
        TSTMP_LT(th->opts.tsval, c->ts_recent)) {
        stack_drop(stack, TCPC_STAT_tcps_pawsdrop, "PAWS: old timestamp in TIME_WAIT");
        if (flags & TH_ACK)
            tw_respond(l, idx);
        return TW_CONSUMED;
    }
    if (!(flags & TH_ACK)) {
        stack_drop(stack, TCPC_STAT_tcps_tw_noack, "segment without ACK in TIME_WAIT");
        return TW_CONSUMED;
    }
    /* A retransmitted FIN: our ACK of it was lost, so the peer may resend
     * it for another 2 MSL (RFC 9293 3.10.7.4, TIME-WAIT). */
    if ((flags & TH_FIN) && th->seq + tlen + 1 == c->rcv_nxt) {
        tw_expire(tw, stack->now);
        tw_arm(l, idx, c, true);
        STAT_INC(stack, tcps_tw_finrearm);
    }
    /* Acknowledge anything but a pure duplicate of the final ACK. */
    if ((flags & (TH_SYN | TH_FIN | TH_URG)) != 0 || tlen != 0 || th->seq != c->rcv_nxt ||
        th->ack != c->snd_nxt) {
        tw_respond(l, idx);
        return TW_CONSUMED;
    }
    stack_drop(stack, TCPC_STAT_tcps_tw_dupack, "duplicate ACK in TIME_WAIT");
    return TW_CONSUMED;
}

void tw_reopened(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                 const struct tcpc_addr *faddr, uint16_t fport)
{
    uint32_t ref;
    demux_lookup_tw(stack, faddr, fport, laddr, lport, NULL, &ref);
    if (ref != DEMUX_REF_NONE)
        tw_close(tw_layout_of(tw_of(stack), ref), PCB_REF_IDX(ref), TW_REOPENED);
}

bool tw_drop(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
             const struct tcpc_addr *faddr, uint16_t fport)
{
    uint32_t ref;
    demux_lookup_tw(stack, faddr, fport, laddr, lport, NULL, &ref);
    if (ref == DEMUX_REF_NONE)
        return false;
    tw_close(tw_layout_of(tw_of(stack), ref), PCB_REF_IDX(ref), TW_DROPPED);
    return true;
}

/* --- connect() onto a TIME_WAIT 4-tuple ---------------------------------- */

/*
 * May a new active open take this 4-tuple over before its 2 MSL are out?
 * Only with net.inet.tcp.tw_reuse, and only when the new incarnation's
 * segments cannot be confused with the old one's at either end:
 *  - timestamps were in use: the new connection continues our timestamp
 *    clock (tw_connect_inherit), so the peer's PAWS tells old from new, and
 *    at least TW_REUSE_TS_AGE has passed since the old incarnation last
 *    heard from the peer, so the peer's clock has ticked and our PAWS tells
 *    old from new too; a peer itself in TIME_WAIT accepts our SYN by its
 *    newer timestamp (RFC 6191);
 *  - otherwise the ISN we are about to choose must lie beyond the old
 *    snd_nxt, which a peer in TIME_WAIT requires (SEG.SEQ > RCV.NXT) and
 *    which keeps our old duplicates below the new window.
 */
static bool tw_reuse_safe(struct tw_state *tw, const struct tw_layout *l, uint32_t idx)
{
    struct tcpc_stack *stack = tw->stack;
    const struct tw_core *c = tw_core_at(l, idx);
    if (!stack->cfg.tun.tw_reuse)
        return false;
    if (c->flags & TWF_TS) {
        tcpc_time_t left = tw_left(tw, c, stack->now);
        tcpc_time_t lived = tw_2msl(stack) > left ? tw_2msl(stack) - left : 0;
        return lived >= TW_REUSE_TS_AGE;
    }
    struct pcb_tuple t;
    tw_tuple(l, idx, &t);
    uint32_t isn = tcp_isn_for(stack, &t.laddr, t.lport, &t.faddr, t.fport);
    return SEQ_GT(isn, c->snd_nxt);
}

static bool tw_takeover(void *ctx, uint32_t idx)
{
    struct tw_layout *l = ctx;
    struct tw_state *tw = l->tw;
    if (!tw_reuse_safe(tw, l, idx)) {
        STAT_INC(tw->stack, tcps_tw_reuse_refused);
        return false;
    }
    const struct tw_core *c = tw_core_at(l, idx);
    struct tw_handoff *h = &tw->handoff;
    h->valid = true;
    h->ts = (c->flags & TWF_TS) != 0;
    h->snd_nxt = c->snd_nxt;
    h->ts_offset = c->ts_offset;
    tw_tuple(l, idx, &h->t);
    tw_close(l, idx, TW_TAKEN_OVER);
    return true;
}

void tw_connect_inherit(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tw_handoff *h = &tw_of(stack)->handoff;
    if (!h->valid)
        return;
    h->valid = false;
    if (!tcpc_addr_eq(&h->t.faddr, &tp->inp->faddr) ||
        !tcpc_addr_eq(&h->t.laddr, &tp->inp->laddr) || h->t.fport != tp->inp->fport ||
        h->t.lport != tp->inp->lport)
        return;
    if (h->ts && (tp->t_flags & TF_REQ_TSTMP))
        tp->ts_offset = h->ts_offset;
    if (!SEQ_GT(tp->iss, h->snd_nxt)) {
        tp->iss = h->snd_nxt + TW_ISS_GAP;
        tp->snd_una = tp->snd_nxt = tp->snd_max = tp->snd_recover = tp->iss;
    }
}

/* --- timers and listing -------------------------------------------------- */

/* No TIME_WAIT at all, the usual case when the embedder's loop asks on
 * every turn: answered before the walk over both queues. */
static bool tw_empty(const struct tw_state *tw)
{
    return tw->lay[TW_COMPACT].head == TW_NIL && tw->lay[TW_WIDE].head == TW_NIL;
}

void tw_advance(struct tcpc_stack *stack)
{
    struct tw_state *tw = tw_of(stack);
    if (!tw_empty(tw))
        tw_expire(tw, stack->now);
}

tcpc_time_t tw_next_deadline(const struct tcpc_stack *stack)
{
    const struct tw_state *tw = tw_of(stack);
    if (tw_empty(tw))
        return TCPC_TIME_NEVER;
    tcpc_time_t next = TCPC_TIME_NEVER;
    for (unsigned k = 0; k < TW_NLAYOUTS; k++) {
        const struct tw_layout *l = &tw->lay[k];
        if (l->head == TW_NIL)
            continue;
        tcpc_time_t at = stack->now + tw_left(tw, tw_core_at(l, l->head), stack->now);
        if (at < next)
            next = at;
    }
    return next;
}

int tw_list(struct tcpc_stack *stack, tcpc_conn_fn fn, void *ctx)
{
    struct tw_state *tw = tw_of(stack);
    for (unsigned k = 0; k < TW_NLAYOUTS; k++) {
        const struct tw_layout *l = &tw->lay[k];
        for (uint32_t i = l->head; i != TW_NIL;) {
            const struct tw_core *c = tw_core_at(l, i);
            struct pcb_tuple t;
            tw_tuple(l, i, &t);
            struct tcpc_conninfo ci = {
                .kind = TCPC_CONN_TIMEWAIT,
                .state = TCPS_TIME_WAIT,
                .sd = -1,
                .laddr = t.laddr,
                .faddr = t.faddr,
                .lport = t.lport,
                .fport = t.fport,
                .expires_in = tw_left(tw, c, stack->now),
            };
            int stop = fn(ctx, &ci);
            if (stop)
                return stop;
            i = c->next;
        }
    }
    return 0;
}

/* --- set-up -------------------------------------------------------------- */

uint32_t tw_capacity(const struct tcpc_tunables *tun)
{
    return (uint32_t)sysctl_maxtcptw(tun);
}

size_t tw_entry_bytes(bool v6)
{
    return v6 ? sizeof(struct tw6) : sizeof(struct tw4);
}

int tw_init(struct tcpc_stack *stack)
{
    struct tw_state *tw = mem_get(&stack->cfg.mem, sizeof(*tw), MEM_ALIGN_ANY, true);
    if (!tw)
        return -ENOMEM;
    tw->stack = stack;
    tw->capacity = tw_capacity(&stack->cfg.tun);
    /* Sized for as many ports as there can be records, not for every
     * port: a small stack's counts take a few hundred bytes. */
    int err = portcount_init(&tw->ports, &stack->cfg.mem, tw->capacity);
    static const struct {
        unsigned kind;
        bool wide;
        size_t size;
    } lays[TW_NLAYOUTS] = {
        [TW_COMPACT] = {PCB_KIND_TIMEWAIT, false, sizeof(struct tw4)},
        [TW_WIDE] = {PCB_KIND_TIMEWAIT_WIDE, true, sizeof(struct tw6)},
    };
    for (unsigned k = 0; k < TW_NLAYOUTS && !err; k++) {
        struct tw_layout *l = &tw->lay[k];
        l->tw = tw;
        l->kind = lays[k].kind;
        l->wide = lays[k].wide;
        l->head = l->tail = TW_NIL;
        /* Address space for capacity records; memory as they arrive. */
        err = pool_init(&l->pool, &stack->cfg.mem, lays[k].size, tw->capacity);
        if (err)
            break;
        struct pcb_kind_ops ops = {
            .match = l->wide ? tw6_match : tw4_match,
            .entry = tw_entry,
            .takeover = tw_takeover,
            /* One count serves both layouts: asked once. */
            .port_busy = k == TW_COMPACT ? tw_port_busy : NULL,
            .ctx = l,
        };
        err = demux_register_kind(stack, l->kind, &ops);
    }
    stack->tcp->tw = tw;
    if (err)
        tw_destroy(stack);
    return err;
}

void tw_destroy(struct tcpc_stack *stack)
{
    struct tw_state *tw = stack->tcp ? stack->tcp->tw : NULL;
    if (!tw)
        return;
    tw_group_release(stack, tw_count(stack));
    for (unsigned k = 0; k < TW_NLAYOUTS; k++) {
        struct tw_layout *l = &tw->lay[k];
        if (stack->tcp->pcb && l->kind)
            demux_register_kind(stack, l->kind, &(struct pcb_kind_ops){0});
        pool_free(&l->pool);
    }
    portcount_free(&tw->ports);
    mem_put(&stack->cfg.mem, tw, sizeof(*tw));
    stack->tcp->tw = NULL;
}
