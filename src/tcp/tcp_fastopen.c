/*
 * TCP Fast Open: the client's cookie cache and the rules around it, and
 * the server's keys and cookies (tcp_fastopen.h). The cache is one array
 * of buckets, each ccache_bucket_limit entries long, allocated when the
 * stack starts and never grown: a server address hashes (keyed with the
 * stack's secret, so that no peer can aim at one bucket) to its bucket, and
 * a full bucket gives its least recently used entry to a new server.
 */
#include "tcp/tcp_fastopen.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/group.h"
#include "core/rand.h"
#include "core/stack.h"
#include "tcp/tcp_ao.h"
#include "tcp/tcp_subr.h"
#include "util/seq.h"

struct tfo_entry {
    struct tcpc_addr laddr, faddr;
    tcpc_time_t disabled_at; /* when the path was disabled (valid while disabled) */
    uint32_t used_at;        /* the cache's use clock: least recent goes first */
    uint16_t fport;
    uint16_t server_mss; /* the server's MSS when it gave the cookie, 0: unknown */
    uint8_t in_use, disabled, cookie_len;
    uint8_t cookie[TCP_FASTOPEN_MAX_COOKIE_LEN];
};

struct tfo_state {
    struct tfo_entry *entries; /* nbuckets x limit */
    uint32_t nbuckets, limit;
    uint32_t clock;      /* bumped on every use of an entry */
    bool client_enabled; /* client_enable as last seen, to notice it turn off */
    /* Server keys: a ring of TFO_MAX_KEYS, newest at key[newest]. */
    bool server_enabled; /* server_enable as last seen */
    uint8_t newest, numkeys;
    tcpc_time_t key_at; /* when the newest key was made */
    uint8_t key[TFO_MAX_KEYS][TFO_KEY_LEN];
};

_Static_assert(TFO_KEY_LEN == crypto_shorthash_KEYBYTES, "a key is a SipHash key");
_Static_assert(TFO_SERVER_COOKIE_LEN == crypto_shorthash_BYTES, "a cookie is a SipHash value");

static tcpc_time_t tfo_key_life(const struct tcpc_stack *stack)
{
    return (tcpc_time_t)stack->cfg.tun.tfo_autokey * TCPC_USEC_PER_SEC;
}

/* The autokey period now falls in, counted from time zero (in a group). */
static uint64_t tfo_period(const struct tcpc_stack *stack)
{
    return stack->now / tfo_key_life(stack);
}

/* The key of autokey period n in a group: every member derives the same,
 * so a cookie one member gave validates on any other. */
static void tfo_group_key(const struct tcpc_stack *stack, uint64_t n, uint8_t key[TFO_KEY_LEN])
{
    group_secret(stack->group, GROUP_SECRET_TFO, n, key, TFO_KEY_LEN);
}

/* A member of a group holds the keys of the current period and the ones
 * before it, newest in slot 0, and counts periods from time zero rather
 * than from when it made its first key. */
static void tfo_group_keys(struct tcpc_stack *stack, struct tfo_state *t)
{
    assert(stack->cfg.tun.tfo_autokey > 0); /* keys are made only with autokey on */
    uint64_t n = tfo_period(stack);
    t->newest = 0;
    t->numkeys = n + 1 < TFO_MAX_KEYS ? (uint8_t)(n + 1) : TFO_MAX_KEYS;
    for (unsigned i = 0; i < t->numkeys; i++)
        tfo_group_key(stack, n - i, t->key[(TFO_MAX_KEYS - i) % TFO_MAX_KEYS]);
    t->key_at = n * tfo_key_life(stack);
}

static void tfo_addkey(struct tcpc_stack *stack, struct tfo_state *t)
{
    if (stack->group) {
        tfo_group_keys(stack, t);
        return;
    }
    t->newest = (uint8_t)((t->newest + 1) % TFO_MAX_KEYS);
    rand_bytes(&stack->rand, t->key[t->newest], TFO_KEY_LEN);
    if (t->numkeys < TFO_MAX_KEYS)
        t->numkeys++;
    t->key_at = stack->now;
}

/* Server keys follow server_enable: off removes them, on makes the first
 * (autokey permitting). */
static void tfo_server_tunables(struct tcpc_stack *stack, struct tfo_state *t)
{
    bool on = stack->cfg.tun.tfo_server_enable != 0;
    if (t->server_enabled && !on)
        t->numkeys = 0;
    else if (!t->server_enabled && on && stack->cfg.tun.tfo_autokey && t->numkeys == 0)
        tfo_addkey(stack, t);
    t->server_enabled = on;
}

int tfo_init(struct tcpc_stack *stack)
{
    const struct mem *mem = &stack->cfg.mem;
    struct tfo_state *t = mem_get(mem, sizeof(*t), MEM_ALIGN_ANY, true);
    if (!t)
        return -ENOMEM;
    t->nbuckets = (uint32_t)stack->cfg.tun.tfo_ccache_buckets;
    t->limit = (uint32_t)stack->cfg.tun.tfo_ccache_bucket_limit;
    t->entries = mem_array(mem, (size_t)t->nbuckets * t->limit, sizeof(*t->entries));
    if (!t->entries) {
        mem_put(mem, t, sizeof(*t));
        return -ENOMEM;
    }
    t->client_enabled = stack->cfg.tun.tfo_client_enable != 0;
    stack->tcp->tfo = t;
    tfo_server_tunables(stack, t);
    return 0;
}

void tfo_destroy(struct tcpc_stack *stack)
{
    struct tfo_state *t = stack->tcp->tfo;
    if (!t)
        return;
    mem_put(&stack->cfg.mem, t->entries, (size_t)t->nbuckets * t->limit * sizeof(*t->entries));
    mem_put(&stack->cfg.mem, t, sizeof(*t));
    stack->tcp->tfo = NULL;
}

void tfo_tunables_changed(struct tcpc_stack *stack)
{
    struct tfo_state *t = stack->tcp ? stack->tcp->tfo : NULL;
    if (!t)
        return;
    bool on = stack->cfg.tun.tfo_client_enable != 0;
    if (t->client_enabled && !on)
        memset(t->entries, 0, (size_t)t->nbuckets * t->limit * sizeof(*t->entries));
    t->client_enabled = on;
    tfo_server_tunables(stack, t);
}

static void tfo_make_cookie(const uint8_t key[TFO_KEY_LEN], const struct tcpc_addr *faddr,
                            uint8_t out[TFO_SERVER_COOKIE_LEN]);

static bool tfo_entry_is(const struct tfo_entry *e, const struct inpcb *inp)
{
    return e->in_use && e->fport == inp->fport && tcpc_addr_eq(&e->faddr, &inp->faddr) &&
           tcpc_addr_eq(&e->laddr, &inp->laddr);
}

static struct tfo_entry *tfo_bucket(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    const struct tfo_state *t = stack->tcp->tfo;
    const struct inpcb *inp = tp->inp;
    uint64_t h = tcp_tuple_hash(stack, &inp->laddr, 0, &inp->faddr, inp->fport);
    return &t->entries[(size_t)(h & (t->nbuckets - 1)) * t->limit];
}

/* The entry for tp's path, or NULL, leaving the use clock alone. */
static const struct tfo_entry *tfo_find(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    const struct tfo_entry *b = tfo_bucket(stack, tp);
    for (uint32_t i = 0; i < stack->tcp->tfo->limit; i++)
        if (tfo_entry_is(&b[i], tp->inp))
            return &b[i];
    return NULL;
}

/* The entry for tp's path; with create, a new one (evicting the bucket's
 * least recently used) when there is none. NULL: none and not created. */
static struct tfo_entry *tfo_lookup(struct tcpc_stack *stack, const struct tcpcb *tp, bool create)
{
    struct tfo_state *t = stack->tcp->tfo;
    const struct inpcb *inp = tp->inp;
    struct tfo_entry *b = tfo_bucket(stack, tp);
    struct tfo_entry *victim = &b[0];
    for (uint32_t i = 0; i < t->limit; i++) {
        if (tfo_entry_is(&b[i], inp)) {
            b[i].used_at = ++t->clock;
            return &b[i];
        }
        if (victim->in_use && (!b[i].in_use || (int32_t)(b[i].used_at - victim->used_at) < 0))
            victim = &b[i];
    }
    if (!create)
        return NULL;
    memset(victim, 0, sizeof(*victim));
    victim->in_use = 1;
    victim->laddr = inp->laddr;
    victim->faddr = inp->faddr;
    victim->fport = inp->fport;
    victim->used_at = ++t->clock;
    return victim;
}

static void tfo_disable_path(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tfo_entry *e = tfo_lookup(stack, tp, true);
    e->cookie_len = 0;
    e->server_mss = 0;
    if (!e->disabled) {
        e->disabled = 1;
        e->disabled_at = stack->now; /* a path already off keeps its first time */
    }
    tp->t_tfo = 0;
}

void tfo_client_connect(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (!(tp->t_tfo & TFO_ON))
        return;
    tp->t_tfo = TFO_ON;
    tp->t_tfo_mss = 0;
    /* A signed SYN (RFC 2385) has no room left for the option beside the
     * others; the connection opens plainly and its data follows the
     * handshake. Nor has a SYN with TCP-AO (RFC 5925): 36 bytes with the
     * timestamps, and a cookie option takes 6 to 18. */
    if (!stack->cfg.tun.tfo_client_enable || tp->t_md5 || tcp_ao_on(tp)) {
        tp->t_tfo = 0;
        return;
    }
    struct tfo_entry *e = tfo_lookup(stack, tp, false);
    if (!e)
        return; /* a cookie request; the SYN-ACK makes the entry */
    if (e->disabled) {
        tcpc_time_t off = (tcpc_time_t)stack->cfg.tun.tfo_path_disable_time * TCPC_USEC_PER_SEC;
        if (stack->now - e->disabled_at < off) {
            tp->t_tfo = 0; /* not towards this server for now */
            return;
        }
        e->disabled = 0; /* time is up: ask for a cookie afresh */
        e->cookie_len = 0;
        e->server_mss = 0;
        return;
    }
    if (e->cookie_len) {
        tp->t_tfo |= TFO_COOKIE;
        tp->t_tfo_mss = e->server_mss;
    }
}

void tfo_syn_option(const struct tcpc_stack *stack, const struct tcpcb *tp, struct tcp_opts *o)
{
    if (tp->state == TCPS_SYN_RECEIVED && (tp->t_tfo & TFO_SERVER) && tp->t_rxtshift == 0) {
        /* The SYN-ACK of a connection a cookie let in carries the newest
         * cookie, on its first transmission only (FreeBSD's choice). */
        const struct tfo_state *t = stack->tcp->tfo;
        if (t->numkeys) {
            o->present |= TOF_FASTOPEN;
            o->tfo_len = TFO_SERVER_COOKIE_LEN;
            tfo_make_cookie(t->key[t->newest], &tp->inp->faddr, o->tfo_cookie);
        }
        return;
    }
    if (!(tp->t_tfo & TFO_ON) || tp->state != TCPS_SYN_SENT || tp->t_rxtshift != 0)
        return;
    o->present |= TOF_FASTOPEN;
    o->tfo_len = 0;
    const struct tfo_entry *e = (tp->t_tfo & TFO_COOKIE) ? tfo_find(stack, tp) : NULL;
    if (e && !e->disabled && e->cookie_len) {
        /* Else the cache lost it since the connect (emptied, or the entry
         * given to another server): a cookie request, without data. */
        o->tfo_len = e->cookie_len;
        memcpy(o->tfo_cookie, e->cookie, e->cookie_len);
    }
}

/* Data went out on our SYN beside the cookie and the SYN-ACK covers it. */
static void tfo_count_data_acked(struct tcpc_stack *stack, const struct tcpcb *tp, uint32_t ack)
{
    if ((tp->t_tfo & TFO_COOKIE) && SEQ_GT(tp->snd_max, tp->iss + 1) && !SEQ_LT(ack, tp->snd_max))
        STAT_INC(stack, tcps_tfo_syn_data_acked);
}

void tfo_client_synack(struct tcpc_stack *stack, struct tcpcb *tp, const struct tcp_opts *o,
                       uint32_t ack)
{
    if (!(tp->t_tfo & TFO_ON))
        return;
    if ((o->present & TOF_FASTOPEN) && tfo_cookie_len_valid(o->tfo_len)) {
        struct tfo_entry *e = tfo_lookup(stack, tp, true);
        e->disabled = 0;
        e->cookie_len = o->tfo_len;
        memcpy(e->cookie, o->tfo_cookie, o->tfo_len);
        e->server_mss = (o->present & TOF_MSS) ? o->mss : 0;
        STAT_INC(stack, tcps_tfo_cookie_rcv);
        tfo_count_data_acked(stack, tp, ack);
        return;
    }
    /* No usable cookie. Where ours was taken (all the SYN's data
     * acknowledged), the server merely did not renew it: it stays. A
     * cookie request unanswered, or data refused without a new cookie,
     * means Fast Open does not work towards this server. */
    if ((tp->t_tfo & TFO_COOKIE) && !SEQ_LT(ack, tp->snd_max)) {
        tfo_count_data_acked(stack, tp, ack);
        return;
    }
    tfo_disable_path(stack, tp);
}

void tfo_client_failed(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if ((tp->t_tfo & TFO_ON) && tp->state == TCPS_SYN_SENT)
        tfo_disable_path(stack, tp);
}

/* ---- Server ------------------------------------------------------------- */

static void tfo_make_cookie(const uint8_t key[TFO_KEY_LEN], const struct tcpc_addr *faddr,
                            uint8_t out[TFO_SERVER_COOKIE_LEN])
{
    /* The address as the family has it: 4 bytes for IPv4, 16 for IPv6. */
    bool v4 = tcpc_addr_is_v4(faddr);
    crypto_shorthash(out, faddr->bytes + (v4 ? 12 : 0), v4 ? 4 : 16, key);
}

/* Children in SYN_RECEIVED that a cookie let in (FreeBSD's t_tfo_pending). */
static uint32_t tfo_pending(const struct tcpc_stack *stack, const struct tcpcb *l)
{
    uint32_t n = 0;
    for (tcb_ref r = l->q_incomp; r; r = tcb_deref(stack->tcp, r)->q_next) {
        const struct tcpcb *c = tcb_deref(stack->tcp, r);
        if ((c->t_tfo & TFO_SERVER) && c->state == TCPS_SYN_RECEIVED)
            n++; /* not one an accept filter holds */
    }
    return n;
}

/* Members read one clock at different moments: another member may have
 * passed a period boundary this one has not reached, and given a cookie
 * under the next period's key. Only in a group, and only for a cookie
 * that failed every key held. */
static bool tfo_from_next_period(const struct tcpc_stack *stack, const struct tcpc_addr *faddr,
                                 const uint8_t cookie[TFO_SERVER_COOKIE_LEN])
{
    if (!stack->group || !stack->cfg.tun.tfo_autokey)
        return false;
    uint8_t key[TFO_KEY_LEN], c[TFO_SERVER_COOKIE_LEN];
    tfo_group_key(stack, tfo_period(stack) + 1, key);
    tfo_make_cookie(key, faddr, c);
    return sodium_memcmp(c, cookie, TFO_SERVER_COOKIE_LEN) == 0;
}

enum tfo_server_verdict tfo_server_check(struct tcpc_stack *stack, const struct tcpcb *l,
                                         const struct tcpc_addr *faddr, const struct tcp_opts *o,
                                         uint8_t cookie[TFO_SERVER_COOKIE_LEN])
{
    struct tfo_state *t = stack->tcp->tfo;
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    if (!(o->present & TOF_FASTOPEN) || !(l->t_tfo & TFO_ON) || !tun->tfo_server_enable)
        return TFO_SRV_NONE;
    /* At most (about) half the backlog pending, as FreeBSD limits it. */
    if (tfo_pending(stack, l) + 1 > l->q_limit / 2)
        return TFO_SRV_NONE;
    if (t->numkeys && tun->tfo_autokey && stack->now - t->key_at >= tfo_key_life(stack))
        tfo_addkey(stack, t); /* the key the timer would have made by now */
    if (tun->tfo_acceptany && o->tfo_len) {
        memset(cookie, 0, TFO_SERVER_COOKIE_LEN);
        if (t->numkeys)
            tfo_make_cookie(t->key[t->newest], faddr, cookie);
        return TFO_SRV_VALID;
    }
    if (t->numkeys == 0)
        return TFO_SRV_NONE; /* no key: nothing to give or check */
    tfo_make_cookie(t->key[t->newest], faddr, cookie);
    if (o->tfo_len == 0) {
        STAT_INC(stack, tcps_tfo_cookie_req_rcv);
        return TFO_SRV_OFFER;
    }
    if (o->tfo_len == TFO_SERVER_COOKIE_LEN)
        for (unsigned i = 0; i < t->numkeys; i++) {
            uint8_t c[TFO_SERVER_COOKIE_LEN];
            tfo_make_cookie(t->key[(t->newest + TFO_MAX_KEYS - i) % TFO_MAX_KEYS], faddr, c);
            if (sodium_memcmp(c, o->tfo_cookie, TFO_SERVER_COOKIE_LEN) == 0)
                return TFO_SRV_VALID;
        }
    if (o->tfo_len == TFO_SERVER_COOKIE_LEN && tfo_from_next_period(stack, faddr, o->tfo_cookie))
        return TFO_SRV_VALID;
    STAT_INC(stack, tcps_tfo_cookie_invalid);
    return TFO_SRV_OFFER;
}

bool tfo_sysctl_state(const struct tcpc_stack *stack, const char *name, int64_t *value)
{
    if (strcmp(name, "net.inet.tcp.fastopen.keylen") == 0)
        *value = TFO_KEY_LEN;
    else if (strcmp(name, "net.inet.tcp.fastopen.maxkeys") == 0)
        *value = TFO_MAX_KEYS;
    else if (strcmp(name, "net.inet.tcp.fastopen.numkeys") == 0)
        *value = stack->tcp->tfo ? stack->tcp->tfo->numkeys : 0;
    else
        return false;
    return true;
}
