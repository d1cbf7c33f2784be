/*
 * The in-memory link and its faults; see memlink.h and docs/simulator.md.
 *
 * Packets in flight sit in one binary heap ordered by due time, ties broken
 * by the order they were scheduled in, so that faults which change a
 * packet's delay (reordering) need nothing special and equal delays keep
 * the sending order. Each direction's bottleneck is a FIFO of the packets
 * not yet fully serialised (when each finishes, and its size), which is
 * all a drop-tail decision needs: a constant-rate FIFO's departure times
 * are known the moment a packet joins it.
 */
#include "memlink.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpcore/format.h"

/* One independent random stream per direction and per kind of choice. */
enum memlink_stream {
    MS_LOSS,
    MS_GE,
    MS_DUP,
    MS_CORRUPT,
    MS_REORDER,
    MS_NSTREAMS,
};

#define PPM 1000000u

struct memlink_pkt {
    struct memlink_pkt *next; /* on the spare list */
    int to_side;
    size_t len;
    uint8_t data[];
};

/* Packets are taken from a short list of delivered ones rather than from
 * malloc each time (an allocation and a free per packet cost more than the
 * stacks spend on a small segment). Spares hold MEMLINK_SPARE_LEN bytes,
 * a full Ethernet-sized packet; larger ones come and go through malloc. */
#define MEMLINK_SPARE_LEN 2048
#define MEMLINK_SPARES    64

struct memlink_slot { /* a heap entry */
    tcpc_time_t due;
    uint64_t order;
    struct memlink_pkt *pkt;
};

struct memlink_backlog { /* a packet at the bottleneck */
    uint64_t done_ns;    /* when its last byte is sent */
    uint32_t len;
};

struct memlink_dir {
    struct tcpc_memlink_faults f;
    struct tcpc_memlink_counters c;
    uint64_t rng[MS_NSTREAMS];
    bool ge_bad;
    /* The bottleneck: a ring of backlog entries, oldest at head. */
    struct memlink_backlog *q;
    size_t q_cap, q_head, q_len;
    uint64_t q_bytes;
    uint64_t busy_ns;  /* when the bottleneck finishes what it holds */
    uint64_t busy_rem; /* the fraction of a nanosecond past busy_ns, in 1/rate_Bps */
};

struct memlink_port {
    struct tcpc_memlink *link;
    int side;
};

struct tcpc_memlink {
    struct memlink_port ports[2];
    struct tcpc_stack *stacks[2];
    struct memlink_dir dirs[2];
    struct memlink_slot *heap;
    size_t heap_len, heap_cap;
    uint64_t order;
    tcpc_time_t now;
    tcpc_memlink_tap_fn tap;
    void *tap_ctx;
    struct memlink_pkt *spares;
    size_t nspares;
};

/* splitmix64: spreads one seed into well-separated stream states. */
static uint64_t memlink_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* xorshift64*: a reproducible 32-bit draw from one stream. */
static uint32_t memlink_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (uint32_t)((*s * 0x2545F4914F6CDD1DULL) >> 32);
}

/* True with probability ppm / 1000000. Draws nothing when ppm is 0, so a
 * fault switched off leaves its stream where it was. */
static bool memlink_chance(uint64_t *s, uint32_t ppm)
{
    if (ppm == 0)
        return false;
    if (ppm >= PPM)
        return true;
    return ((uint64_t)memlink_random(s) * PPM >> 32) < ppm;
}

void tcpc_memlink_faults_init(struct tcpc_memlink_faults *f)
{
    memset(f, 0, sizeof(*f));
    f->size = sizeof(*f);
}

int tcpc_memlink_faults_check(const struct tcpc_memlink_faults *f, const char **why)
{
    const char *w = NULL;
    if (!f || f->size != sizeof(*f))
        w = "faults: size must be sizeof(struct tcpc_memlink_faults) "
            "(call tcpc_memlink_faults_init first)";
    else if (f->loss_ppm > PPM || f->ge_p_ppm > PPM || f->ge_r_ppm > PPM ||
             f->ge_loss_good_ppm > PPM || f->ge_loss_bad_ppm > PPM || f->reorder_ppm > PPM ||
             f->dup_ppm > PPM || f->corrupt_ppm > PPM)
        w = "faults: probabilities are parts per million, 0..1000000";
    else if (f->delay > TCPC_MEMLINK_DELAY_MAX || f->reorder_delay > TCPC_MEMLINK_DELAY_MAX)
        w = "faults: delay and reorder_delay are at most TCPC_MEMLINK_DELAY_MAX (an hour)";
    else if (f->rate_Bps > TCPC_MEMLINK_RATE_MAX)
        w = "faults: rate_Bps is at most TCPC_MEMLINK_RATE_MAX (10^12 bytes per second)";
    else if (f->reorder_ppm && !f->reorder_delay)
        w = "faults: reordering needs a reorder_delay (how long a packet is held back)";
    else if ((f->queue_bytes || f->queue_pkts) && !f->rate_Bps)
        w = "faults: a queue limit needs a rate limit (rate_Bps) to fill the queue";
    if (!w)
        return 0;
    if (why)
        *why = w;
    return -EINVAL;
}

struct tcpc_memlink *tcpc_memlink_new(uint64_t seed)
{
    struct tcpc_memlink *link = calloc(1, sizeof(*link));
    if (!link)
        return NULL;
    for (int i = 0; i < 2; i++) {
        link->ports[i] = (struct memlink_port){link, i};
        struct memlink_dir *d = &link->dirs[i];
        tcpc_memlink_faults_init(&d->f);
        for (int s = 0; s < MS_NSTREAMS; s++) {
            uint64_t x = memlink_mix(seed ^ memlink_mix((uint64_t)(i * MS_NSTREAMS + s)));
            d->rng[s] = x ? x : 0x9e3779b97f4a7c15ULL; /* xorshift must not start at 0 */
        }
    }
    return link;
}

void tcpc_memlink_del(struct tcpc_memlink *link)
{
    if (!link)
        return;
    for (size_t i = 0; i < link->heap_len; i++)
        free(link->heap[i].pkt);
    free(link->heap);
    while (link->spares) {
        struct memlink_pkt *p = link->spares;
        link->spares = p->next;
        free(p);
    }
    for (int i = 0; i < 2; i++)
        free(link->dirs[i].q);
    free(link);
}

/* --- the heap of packets in flight --- */

static bool memlink_before(const struct memlink_slot *a, const struct memlink_slot *b)
{
    return a->due < b->due || (a->due == b->due && a->order < b->order);
}

static int memlink_push(struct tcpc_memlink *link, tcpc_time_t due, struct memlink_pkt *pkt)
{
    if (link->heap_len == link->heap_cap) {
        size_t cap = link->heap_cap ? 2 * link->heap_cap : 64;
        struct memlink_slot *h = realloc(link->heap, cap * sizeof(*h));
        if (!h)
            return -ENOBUFS;
        link->heap = h;
        link->heap_cap = cap;
    }
    struct memlink_slot s = {due, link->order++, pkt};
    size_t i = link->heap_len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!memlink_before(&s, &link->heap[parent]))
            break;
        link->heap[i] = link->heap[parent];
        i = parent;
    }
    link->heap[i] = s;
    return 0;
}

static struct memlink_pkt *memlink_pop(struct tcpc_memlink *link)
{
    struct memlink_pkt *top = link->heap[0].pkt;
    struct memlink_slot last = link->heap[--link->heap_len];
    size_t i = 0, n = link->heap_len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && memlink_before(&link->heap[c + 1], &link->heap[c]))
            c++;
        if (!memlink_before(&link->heap[c], &last))
            break;
        link->heap[i] = link->heap[c];
        i = c;
    }
    if (n)
        link->heap[i] = last;
    return top;
}

/* --- the bottleneck --- */

/* Forgets the packets the bottleneck has finished sending by now. */
static void memlink_drain(struct memlink_dir *d, uint64_t now_ns)
{
    while (d->q_len && d->q[d->q_head].done_ns <= now_ns) {
        d->q_bytes -= d->q[d->q_head].len;
        d->q_head = (d->q_head + 1) % d->q_cap;
        d->q_len--;
    }
}

static int memlink_backlog_add(struct memlink_dir *d, uint64_t done_ns, uint32_t len)
{
    if (d->q_len == d->q_cap) {
        size_t cap = d->q_cap ? 2 * d->q_cap : 64;
        struct memlink_backlog *q = malloc(cap * sizeof(*q));
        if (!q)
            return -ENOBUFS;
        for (size_t i = 0; i < d->q_len; i++)
            q[i] = d->q[(d->q_head + i) % d->q_cap];
        free(d->q);
        d->q = q;
        d->q_cap = cap;
        d->q_head = 0;
    }
    d->q[(d->q_head + d->q_len) % d->q_cap] = (struct memlink_backlog){done_ns, len};
    d->q_len++;
    d->q_bytes += len;
    return 0;
}

/*
 * Puts a packet of len bytes through the bottleneck at the link's time:
 * returns 0 with the time its last byte leaves in *out (microseconds,
 * rounded up), 1 when the drop-tail queue refuses it, or -ENOBUFS.
 */
static int memlink_bottleneck(struct tcpc_memlink *link, struct memlink_dir *d, size_t len,
                              tcpc_time_t *out)
{
    if (!d->f.rate_Bps) {
        *out = link->now;
        return 0;
    }
    uint64_t now_ns = link->now * 1000;
    memlink_drain(d, now_ns);
    if ((d->f.queue_pkts && d->q_len + 1 > d->f.queue_pkts) ||
        (d->f.queue_bytes && d->q_bytes + len > d->f.queue_bytes))
        return 1;
    /* Back-to-back packets carry the remainder of each division on, so that
     * a rate which is no whole number of nanoseconds per packet adds up to
     * what it should over a burst. */
    uint64_t start = d->busy_ns, rem = d->busy_rem;
    if (start <= now_ns) {
        start = now_ns;
        rem = 0;
    }
    uint64_t units = (uint64_t)len * 1000000000ULL + rem;
    uint64_t done = start + units / d->f.rate_Bps;
    if (memlink_backlog_add(d, done, (uint32_t)len) < 0)
        return -ENOBUFS;
    d->busy_ns = done;
    d->busy_rem = units % d->f.rate_Bps;
    *out = (done + 999) / 1000;
    return 0;
}

/* --- faults on the wire --- */

static bool memlink_lost(struct memlink_dir *d)
{
    bool lost = memlink_chance(&d->rng[MS_LOSS], d->f.loss_ppm);
    if (d->f.ge_p_ppm || d->f.ge_r_ppm || d->f.ge_loss_good_ppm || d->f.ge_loss_bad_ppm) {
        uint32_t ppm = d->ge_bad ? d->f.ge_loss_bad_ppm : d->f.ge_loss_good_ppm;
        /* The chain draws from its own stream only: its path depends on
         * the seed and the number of packets, not on the other faults. */
        lost |= memlink_chance(&d->rng[MS_GE], ppm);
        if (memlink_chance(&d->rng[MS_GE], d->ge_bad ? d->f.ge_r_ppm : d->f.ge_p_ppm))
            d->ge_bad = !d->ge_bad;
    }
    return lost;
}

/* Where the IP payload starts (the transport header), when the packet is
 * an IPv4 or IPv6 packet, bare or in an Ethernet II frame; 0 otherwise.
 * The lengths must agree with the packet's, so that neither reading is
 * taken by accident. */
static size_t memlink_ip_payload(const uint8_t *p, size_t len)
{
    for (size_t l2 = 0; l2 <= 14; l2 += 14) {
        if (l2 &&
            (len < 14 || !((p[12] == 0x08 && p[13] == 0x00) || (p[12] == 0x86 && p[13] == 0xdd))))
            break;
        const uint8_t *ip = p + l2;
        size_t n = len - l2;
        if (n >= 20 && ip[0] >> 4 == 4) {
            size_t hl = (size_t)(ip[0] & 0x0f) * 4;
            if (hl >= 20 && hl <= n && (((size_t)ip[2] << 8) | ip[3]) == n)
                return l2 + hl;
        }
        if (n >= 40 && ip[0] >> 4 == 6 && (((size_t)ip[4] << 8) | ip[5]) + 40 == n)
            return l2 + 40;
    }
    return 0;
}

/* Changes one byte past the IP header (the transport's checksum covers
 * it): returns false when there is no such byte. */
static bool memlink_corrupt(struct memlink_dir *d, uint8_t *p, size_t len)
{
    size_t off = memlink_ip_payload(p, len);
    if (off >= len)
        return false;
    size_t at = off + (size_t)((uint64_t)memlink_random(&d->rng[MS_CORRUPT]) * (len - off) >> 32);
    uint8_t x = (uint8_t)(1 + memlink_random(&d->rng[MS_CORRUPT]) % 255); /* never 0 */
    p[at] ^= x;
    return true;
}

/* A packet of len bytes: a spare when one is there and it fits. */
static struct memlink_pkt *memlink_pkt_get(struct tcpc_memlink *link, size_t len)
{
    if (len <= MEMLINK_SPARE_LEN && link->spares) {
        struct memlink_pkt *p = link->spares;
        link->spares = p->next;
        link->nspares--;
        return p;
    }
    return malloc(sizeof(struct memlink_pkt) + (len > MEMLINK_SPARE_LEN ? len : MEMLINK_SPARE_LEN));
}

static void memlink_pkt_put(struct tcpc_memlink *link, struct memlink_pkt *p)
{
    if (p->len > MEMLINK_SPARE_LEN || link->nspares >= MEMLINK_SPARES) {
        free(p);
        return;
    }
    p->next = link->spares;
    link->spares = p;
    link->nspares++;
}

/* Schedules one copy of a packet that survived the bottleneck and loss. */
static int memlink_schedule(struct tcpc_memlink *link, struct memlink_dir *d, int to_side,
                            tcpc_time_t sent, const uint8_t *pkt, size_t len)
{
    struct memlink_pkt *p = memlink_pkt_get(link, len);
    if (!p)
        return -ENOBUFS;
    p->to_side = to_side;
    p->len = len;
    memcpy(p->data, pkt, len);
    if (memlink_chance(&d->rng[MS_CORRUPT], d->f.corrupt_ppm) && memlink_corrupt(d, p->data, len))
        d->c.corrupted++;
    tcpc_time_t due = sent + d->f.delay;
    if (memlink_chance(&d->rng[MS_REORDER], d->f.reorder_ppm)) {
        due += d->f.reorder_delay;
        d->c.reordered++;
    }
    if (memlink_push(link, due, p) < 0) {
        memlink_pkt_put(link, p);
        return -ENOBUFS;
    }
    return 0;
}

static int memlink_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct memlink_port *port = ctx;
    struct tcpc_memlink *link = port->link;
    struct memlink_dir *d = &link->dirs[port->side];
    d->c.sent++;
    tcpc_time_t sent;
    int r = memlink_bottleneck(link, d, len, &sent);
    if (r < 0)
        return r; /* our own memory is short: say so */
    /* Drops past this point are silent: the sender believes the packet
     * went, as on a real path. */
    if (r > 0) {
        d->c.queue_drops++;
        return 0;
    }
    if (memlink_lost(d)) {
        d->c.lost++;
        return 0;
    }
    int copies = 1;
    if (memlink_chance(&d->rng[MS_DUP], d->f.dup_ppm)) {
        copies = 2;
        d->c.duplicated++;
    }
    for (int i = 0; i < copies; i++)
        if (memlink_schedule(link, d, 1 - port->side, sent, pkt, len) < 0)
            return i ? 0 : -ENOBUFS;
    return 0;
}

void tcpc_memlink_configure(struct tcpc_memlink *link, int side, struct tcpc_config *cfg)
{
    tcpc_config_set_output(cfg, memlink_output, &link->ports[side & 1]);
}

void tcpc_memlink_attach(struct tcpc_memlink *link, int side, struct tcpc_stack *stack)
{
    link->stacks[side & 1] = stack;
}

void tcpc_memlink_set_tap(struct tcpc_memlink *link, tcpc_memlink_tap_fn fn, void *ctx)
{
    link->tap = fn;
    link->tap_ctx = ctx;
}

void tcpc_memlink_tap_print(void *ctx, int from_side, tcpc_time_t now, const uint8_t *pkt,
                            size_t len)
{
    char line[512];
    fprintf(ctx ? ctx : stdout, "%4llu.%06llu %s %s\n",
            (unsigned long long)(now / TCPC_USEC_PER_SEC),
            (unsigned long long)(now % TCPC_USEC_PER_SEC), from_side ? "B>" : "A>",
            tcpc_format_packet(pkt, len, line, sizeof(line)));
}

int tcpc_memlink_set_path(struct tcpc_memlink *link, int from_side,
                          const struct tcpc_memlink_faults *f, const char **why)
{
    if (from_side != 0 && from_side != 1) {
        if (why)
            *why = "faults: the side is 0 or 1";
        return -EINVAL;
    }
    int err = tcpc_memlink_faults_check(f, why);
    if (err)
        return err;
    link->dirs[from_side].f = *f;
    link->dirs[from_side].busy_rem = 0; /* a fraction of the old rate's unit */
    return 0;
}

void tcpc_memlink_get_path(const struct tcpc_memlink *link, int from_side,
                           struct tcpc_memlink_faults *f)
{
    *f = link->dirs[from_side & 1].f;
}

void tcpc_memlink_set_faults(struct tcpc_memlink *link, tcpc_time_t delay, uint32_t loss_ppm)
{
    for (int i = 0; i < 2; i++) {
        struct tcpc_memlink_faults *f = &link->dirs[i].f;
        f->delay = delay < TCPC_MEMLINK_DELAY_MAX ? delay : TCPC_MEMLINK_DELAY_MAX;
        f->loss_ppm = loss_ppm < PPM ? loss_ppm : PPM;
    }
}

const struct tcpc_memlink_counters *tcpc_memlink_counters(const struct tcpc_memlink *link,
                                                          int from_side)
{
    return &link->dirs[from_side & 1].c;
}

size_t tcpc_memlink_pending(const struct tcpc_memlink *link)
{
    return link->heap_len;
}

tcpc_time_t tcpc_memlink_now(const struct tcpc_memlink *link)
{
    return link->now;
}

static bool memlink_due(const struct tcpc_memlink *link)
{
    return link->heap_len && link->heap[0].due <= link->now;
}

static void memlink_deliver_one(struct tcpc_memlink *link)
{
    struct memlink_pkt *p = memlink_pop(link);
    link->dirs[1 - p->to_side].c.delivered++;
    if (link->tap)
        link->tap(link->tap_ctx, 1 - p->to_side, link->now, p->data, p->len);
    struct tcpc_stack *to = link->stacks[p->to_side];
    if (to)
        tcpc_input(to, link->now, p->data, p->len);
    memlink_pkt_put(link, p);
}

static tcpc_time_t memlink_next_event(const struct tcpc_memlink *link)
{
    tcpc_time_t next = link->heap_len ? link->heap[0].due : TCPC_TIME_NEVER;
    for (int i = 0; i < 2; i++) {
        if (!link->stacks[i])
            continue;
        tcpc_time_t d = tcpc_next_deadline(link->stacks[i]);
        if (d < next)
            next = d;
    }
    return next;
}

tcpc_time_t tcpc_memlink_run(struct tcpc_memlink *link, tcpc_time_t now, tcpc_time_t limit)
{
    if (now > link->now)
        link->now = now;
    for (;;) {
        while (memlink_due(link))
            memlink_deliver_one(link);
        for (int i = 0; i < 2; i++)
            if (link->stacks[i])
                tcpc_advance(link->stacks[i], link->now);
        if (memlink_due(link))
            continue;
        tcpc_time_t next = memlink_next_event(link);
        if (next > limit || next == TCPC_TIME_NEVER)
            return link->now;
        /* A deadline may be reported early, never late; stepping past it
         * guarantees progress either way. */
        link->now = next > link->now ? next : link->now + 1;
    }
}
