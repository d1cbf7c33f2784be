/*
 * Accept filters; see tcp_accf.h and docs/accf.md.
 */
#include "tcp/tcp_accf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/stack.h"
#include "tcp/tcp_sbuf.h"
#include "tcp/tcp_subr.h"

static_assert(ACCF_HTTP < 4, "tcpcb.t_accf holds an ACCF_* value in 2 bits");

static const char *const accf_names[] = {
    [ACCF_DATA] = "dataready",
    [ACCF_HTTP] = "httpready",
};

static enum accf_kind accf_find(const char *name)
{
    for (unsigned k = ACCF_DATA; k < sizeof(accf_names) / sizeof(accf_names[0]); k++)
        if (strcmp(name, accf_names[k]) == 0)
            return (enum accf_kind)k;
    return ACCF_NONE;
}

/* ---- httpready's test ---------------------------------------------------- */

/* The in-order bytes of a ring, in its two pieces. */
struct accf_bytes {
    const uint8_t *p0, *p1;
    size_t n0, n1;
};

static size_t ab_len(const struct accf_bytes *b)
{
    return b->n0 + b->n1;
}

static uint8_t ab_at(const struct accf_bytes *b, size_t i)
{
    return i < b->n0 ? b->p0[i] : b->p1[i - b->n0];
}

/* The offset of the first c at or after from, or ab_len when none. */
static size_t ab_find(const struct accf_bytes *b, uint8_t c, size_t from)
{
    if (from < b->n0) {
        const uint8_t *q = memchr(b->p0 + from, c, b->n0 - from);
        if (q)
            return (size_t)(q - b->p0);
        from = b->n0;
    }
    const uint8_t *q =
        from < ab_len(b) ? memchr(b->p1 + (from - b->n0), c, ab_len(b) - from) : NULL;
    return q ? b->n0 + (size_t)(q - b->p1) : ab_len(b);
}

/* Whether the bytes at off are s (all of it present). */
static bool ab_is(const struct accf_bytes *b, size_t off, const char *s)
{
    size_t n = strlen(s);
    if (off + n > ab_len(b))
        return false;
    for (size_t i = 0; i < n; i++)
        if (ab_at(b, off + i) != (uint8_t)s[i])
            return false;
    return true;
}

enum { HTTP_WAIT, HTTP_PASS, HTTP_METHOD };

/* The request starts with "GET " or "HEAD ": HTTP_METHOD with the
 * method's length and its space in *len, HTTP_WAIT while the bytes are a
 * beginning of one, HTTP_PASS when they are something else. */
static int accf_http_method(const struct accf_bytes *b, size_t *len)
{
    static const char *const methods[] = {"GET ", "HEAD "};
    for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
        size_t n = strlen(methods[m]), have = ab_len(b) < n ? ab_len(b) : n;
        size_t i = 0;
        while (i < have && ab_at(b, i) == (uint8_t)methods[m][i])
            i++;
        if (i < have)
            continue;
        if (have < n)
            return HTTP_WAIT;
        *len = n;
        return HTTP_METHOD;
    }
    return HTTP_PASS;
}

/* The request line [0, end) (its LF excluded) ends in a space and an
 * HTTP/1.0 or HTTP/1.1 version, after a target, as RFC 9112 3 has it; the
 * version is the last token, so its test looks at the end only, and the
 * test costs the same for a long target as for a short one. */
static bool accf_http_version(const struct accf_bytes *b, size_t method, size_t end)
{
    static const char version[] = "HTTP/1.";
    size_t vlen = sizeof(version) - 1 + 1; /* and the minor digit */
    if (end > 0 && ab_at(b, end - 1) == '\r')
        end--;
    if (end < method + 1 + 1 + vlen) /* a target and the space after it */
        return false;
    size_t v = end - vlen;
    uint8_t minor = ab_at(b, end - 1);
    return ab_at(b, v - 1) == ' ' && ab_is(b, v, version) && (minor == '0' || minor == '1');
}

/* The end of the header block: an empty line (LF LF, or LF CR LF) whose
 * first LF is at or after from. */
static bool accf_http_header_end(const struct accf_bytes *b, size_t from)
{
    for (size_t i = ab_find(b, '\n', from); i < ab_len(b); i = ab_find(b, '\n', i + 1)) {
        if (i + 1 < ab_len(b) && ab_at(b, i + 1) == '\n')
            return true;
        if (i + 2 < ab_len(b) && ab_at(b, i + 1) == '\r' && ab_at(b, i + 2) == '\n')
            return true;
    }
    return false;
}

/*
 * The method and the request line are looked at again at each arrival (a
 * memchr for the line's LF, then its last bytes); the empty line is looked
 * for in the bytes that arrived only, and the two before them, where one
 * that ends in them may begin: a header sent a line a segment costs its
 * length once, not once per line. Unlike FreeBSD's filter, which looks at
 * the last three bytes only, the empty line is found wherever it is in
 * what arrived: a header followed in the same segment by a body or a
 * pipelined request is seen whole.
 */
bool accf_http_ready(const uint8_t *p0, size_t n0, const uint8_t *p1, size_t n1, size_t seen)
{
    const struct accf_bytes b = {.p0 = p0, .n0 = n0, .p1 = p1, .n1 = n1};
    size_t method = 0;
    int v = accf_http_method(&b, &method);
    if (v != HTTP_METHOD)
        return v == HTTP_PASS;
    size_t lf = ab_find(&b, '\n', method);
    if (lf == ab_len(&b))
        return false; /* the request line goes on */
    if (!accf_http_version(&b, method, lf))
        return true; /* HTTP/0.9 (no header follows) or a version we cannot judge */
    size_t from = seen > 2 ? seen - 2 : 0;
    return accf_http_header_end(&b, from > lf ? from : lf);
}

/* ---- holding and handing over ------------------------------------------ */

/* No more can arrive before the application reads: the filter must let go,
 * or the connection would wait for ever. */
static bool accf_stuck(const struct tcpc_stack *stack, const struct tcpcb *tp)
{
    return (tp->t_flags & TF_RCVDFIN) || tp->so_error || tcp_rcv_room(stack, tp) == 0;
}

/* httpready on the receive buffer, the first seen bytes tested before. */
static bool accf_http_rcv_ready(const struct tcpcb *tp, uint32_t seen)
{
    const struct sockbuf *sb = &tp->rcv;
    if (sb->len == 0)
        return false;
    size_t first = sb->cap - sb->head < sb->len ? sb->cap - sb->head : sb->len;
    return accf_http_ready(sb->buf + sb->head, first, sb->buf, sb->len - first, seen);
}

/* What lets any filter's connection go without looking at the bytes:
 * EOF, an error, a full buffer; for dataready, any byte. */
static bool accf_ready_now(const struct tcpc_stack *stack, const struct tcpcb *tp,
                           enum accf_kind kind)
{
    return accf_stuck(stack, tp) || (kind == ACCF_DATA && tp->rcv.len > 0);
}

static void accf_complete(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tcpcb *l = tcb_deref(stack->tcp, tp->parent);
    tcb_child_complete(stack->tcp, tp);
    tcp_notify(stack, l);
}

/* A held child goes to the accept queue; its keep timer, which measured a
 * TCP_DEFER_ACCEPT hold, is the keepalive timer again. */
static void accf_release(struct tcpc_stack *stack, struct tcpcb *tp)
{
    tp->t_accf = ACCF_NONE;
    if (tp->t_defer_accept) {
        tp->t_defer_accept = 0;
        tcp_keep_start(stack, tp);
    }
    accf_complete(stack, tp);
}

/* More held (and half-open) children than the backlog: the oldest go, as
 * FreeBSD's sonewconn aborts the head of so_incomp. tp, just held, stays
 * (its segment is still being processed): a Fast Open child may be older
 * than others, and then the next oldest goes in its place. There is one
 * besides tp whenever there are more than the backlog, which is 1 or more. */
static void accf_trim(struct tcpc_stack *stack, struct tcpcb *l, struct tcpcb *tp)
{
    while (l->q_incqlen > l->q_limit) {
        struct tcpcb *old = tcb_deref(stack->tcp, l->q_incomp_tail);
        if (old == tp)
            old = tcb_deref(stack->tcp, old->q_prev);
        STAT_INC(stack, tcps_accf_dropped);
        tcp_drop(stack, old, ECONNABORTED);
    }
}

void accf_offer(struct tcpc_stack *stack, struct tcpcb *tp)
{
    struct tcpcb *l = tcb_deref(stack->tcp, tp->parent);
    enum accf_kind kind = (enum accf_kind)l->t_accf;
    if (kind == ACCF_NONE || accf_ready_now(stack, tp, kind) ||
        (kind == ACCF_HTTP && accf_http_rcv_ready(tp, 0))) {
        accf_complete(stack, tp);
        return;
    }
    tp->t_accf = (uint8_t)kind;
    STAT_INC(stack, tcps_accf_held);
    if (l->t_defer_accept) {
        tp->t_defer_accept = l->t_defer_accept;
        tcp_timer_set(stack, tp, TT_KEEP, (tcpc_time_t)tp->t_defer_accept * TCPC_USEC_PER_SEC);
    }
    accf_trim(stack, l, tp);
}

void accf_recheck(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (!accf_ready_now(stack, tp, (enum accf_kind)tp->t_accf))
        return;
    STAT_INC(stack, tcps_accf_ready);
    accf_release(stack, tp);
}

void accf_arrived(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t n)
{
    if (tp->t_accf != ACCF_HTTP || !accf_http_rcv_ready(tp, tp->rcv.len - n))
        return;
    STAT_INC(stack, tcps_accf_ready);
    accf_release(stack, tp);
}

bool accf_timer(struct tcpc_stack *stack, struct tcpcb *tp)
{
    if (!accf_held(tp) || !tp->t_defer_accept)
        return false;
    STAT_INC(stack, tcps_accf_timeout);
    accf_release(stack, tp);
    return true;
}

/* Every held child to the accept queue, oldest first (the list's tail). */
static void accf_release_all(struct tcpc_stack *stack, struct tcpcb *l)
{
    struct tcp_state *ts = stack->tcp;
    tcb_ref r = l->q_incomp_tail;
    while (r) {
        struct tcpcb *c = tcb_deref(ts, r);
        r = c->q_prev; /* before c leaves the list */
        if (accf_held(c)) {
            STAT_INC(stack, tcps_accf_ready);
            accf_release(stack, c);
        }
    }
}

static void accf_remove(struct tcpc_stack *stack, struct tcpcb *l)
{
    l->t_accf = ACCF_NONE;
    l->t_defer_accept = 0;
    accf_release_all(stack, l);
}

int accf_setopt(struct tcpc_stack *stack, struct tcpcb *l, const char *name)
{
    bool removal = !name || !*name;
    enum accf_kind kind = removal ? ACCF_NONE : accf_find(name);
    /* FreeBSD's order: an unknown name before the socket's state. */
    if (!removal && kind == ACCF_NONE)
        return -ENOENT;
    if (l->state != TCPS_LISTEN)
        return -EINVAL;
    if (removal) {
        accf_remove(stack, l);
        return 0;
    }
    if (l->t_accf != ACCF_NONE)
        return -EINVAL; /* replacing one takes its removal first */
    l->t_accf = (uint8_t)kind;
    return 0;
}

int accf_getopt(const struct tcpcb *l, char *buf, size_t len)
{
    if (l->state != TCPS_LISTEN || l->t_accf == ACCF_NONE)
        return -EINVAL;
    snprintf(buf, len, "%s", accf_names[l->t_accf]);
    return 0;
}

int accf_set_defer(struct tcpc_stack *stack, struct tcpcb *tp, int secs)
{
    bool listener = tp->state == TCPS_LISTEN;
    if (secs < 0 || secs > UINT16_MAX)
        return -EINVAL;
    if (!listener && (tp->state != TCPS_CLOSED || tp->inp->fport))
        return -EINVAL;
    /* An SO_ACCEPTFILTER filter is its own: TCP_DEFER_ACCEPT changes only
     * the one it set (a data filter with a limit). */
    if (tp->t_accf != ACCF_NONE && !tp->t_defer_accept)
        return -EINVAL;
    if (secs == 0) {
        if (listener)
            accf_remove(stack, tp);
        tp->t_accf = ACCF_NONE;
        tp->t_defer_accept = 0;
        return 0;
    }
    /* A new limit applies to connections held from now on. */
    tp->t_accf = ACCF_DATA;
    tp->t_defer_accept = (uint16_t)secs;
    return 0;
}
