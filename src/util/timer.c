/*
 * The hierarchical timer wheel (see timer.h for the contract).
 *
 * Time is counted in ticks (deadline / tick_us). The wheel has a current
 * tick `cur`, split into base-256 digits, one per level. Invariants:
 *
 *  - `ready` holds every armed timer whose tick is < cur, sorted by
 *    (deadline, seq). All other timers have tick >= cur, so the head of
 *    `ready` is the earliest armed timer whenever it exists.
 *  - A timer with tick T >= cur is filed by the highest digit in which T
 *    differs from cur: level L slot digit_L(T) when T ^ cur < 256^(L+1),
 *    else the overflow list. So a level-0 slot holds exactly one tick, and a
 *    level-L slot (L >= 1) has digit_L(T) > digit_L(cur): it lies in a later
 *    part of cur's level-(L+1) block.
 *
 * Filing by differing digit (rather than by distance from cur) means a
 * level-L slot comes due exactly when cur reaches the start of its range,
 * and its timers then move ("cascade") to lower levels. Advancing skips
 * empty stretches with the occupancy bitmaps, so a long idle gap costs a few
 * bitmap scans per level instead of one step per tick.
 *
 * A level-0 slot is sorted only when its tick is collected into `ready`:
 * arming stays O(1) and the sort is O(k log k) in that slot's timers, once.
 * Sorting is needed because the slot's timers differ in their microseconds,
 * and because cascading interleaves timers armed at different times.
 */
#include "util/timer.h"

#include <assert.h>
#include <string.h>

#include "util/seq.h"

/* The overflow list is re-examined each time cur crosses this boundary. */
#define TIMER_SPAN_MASK ((UINT64_C(1) << (TIMER_LEVELS * TIMER_SLOT_BITS)) - 1)

static unsigned timer_digit(uint64_t tick, unsigned level)
{
    return (unsigned)(tick >> (level * TIMER_SLOT_BITS)) & TIMER_SLOT_MASK;
}

/* Strict firing order. seq is compared circularly so that the 32-bit arm
 * counter may wrap (timers armed 2^31 arms apart are not expected to share
 * a deadline). */
static bool timer_before(const struct timer *a, const struct timer *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return seq_lt(a->seq, b->seq);
}

static struct timer_list *timer_list_of(struct timer_wheel *w, uint16_t slot)
{
    if (slot == TIMER_SLOT_READY)
        return &w->ready;
    if (slot == TIMER_SLOT_OVERFLOW)
        return &w->overflow;
    assert(slot < TIMER_SLOT_OVERFLOW);
    return &w->slots[slot / TIMER_SLOTS][slot % TIMER_SLOTS];
}

/* Links t after pos, or at the head when pos is NULL. */
static void timer_list_insert_after(struct timer_list *l, struct timer *pos, struct timer *t)
{
    t->prev = pos;
    t->next = pos ? pos->next : l->head;
    if (t->next)
        t->next->prev = t;
    else
        l->tail = t;
    if (pos)
        pos->next = t;
    else
        l->head = t;
}

static void timer_list_remove(struct timer_list *l, struct timer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        l->tail = t->prev;
    t->next = t->prev = NULL;
}

static void timer_map_set(struct timer_wheel *w, unsigned level, unsigned idx)
{
    w->occupied[level][idx / 64] |= UINT64_C(1) << (idx % 64);
}

static void timer_map_clear(struct timer_wheel *w, unsigned level, unsigned idx)
{
    w->occupied[level][idx / 64] &= ~(UINT64_C(1) << (idx % 64));
}

/* Takes t off whatever list it is on, keeping the bitmaps exact. */
static void timer_unlink(struct timer_wheel *w, struct timer *t)
{
    struct timer_list *l = timer_list_of(w, t->slot);
    timer_list_remove(l, t);
    if (t->slot < TIMER_SLOT_OVERFLOW && l->head == NULL)
        timer_map_clear(w, t->slot / TIMER_SLOTS, t->slot % TIMER_SLOTS);
    t->slot = TIMER_SLOT_NONE;
}

/* Sorted insert into `ready`, searching from the tail: late arms are
 * usually for "now", which sorts at or near the end. */
static void timer_ready_insert(struct timer_wheel *w, struct timer *t)
{
    struct timer *pos = w->ready.tail;
    while (pos && timer_before(t, pos))
        pos = pos->prev;
    timer_list_insert_after(&w->ready, pos, t);
    t->slot = TIMER_SLOT_READY;
}

/* Files t by its deadline relative to cur (the invariants at the top). */
static void timer_place(struct timer_wheel *w, struct timer *t)
{
    uint64_t tick = t->deadline / w->tick_us;
    if (tick < w->cur) {
        timer_ready_insert(w, t);
        return;
    }
    uint64_t diff = tick ^ w->cur;
    for (unsigned level = 0; level < TIMER_LEVELS; level++) {
        if (diff >> ((level + 1) * TIMER_SLOT_BITS) != 0)
            continue;
        unsigned idx = timer_digit(tick, level);
        timer_list_insert_after(&w->slots[level][idx], w->slots[level][idx].tail, t);
        timer_map_set(w, level, idx);
        t->slot = (uint16_t)(level * TIMER_SLOTS + idx);
        return;
    }
    timer_list_insert_after(&w->overflow, w->overflow.tail, t);
    t->slot = TIMER_SLOT_OVERFLOW;
}

/* Detaches a whole list and returns its first timer (linked by next). */
static struct timer *timer_list_take(struct timer_list *l)
{
    struct timer *head = l->head;
    l->head = l->tail = NULL;
    return head;
}

static struct timer *timer_merge(struct timer *a, struct timer *b)
{
    struct timer *head = NULL, **link = &head;
    while (a && b) {
        struct timer **from = timer_before(b, a) ? &b : &a;
        *link = *from;
        *from = (*from)->next;
        link = &(*link)->next;
    }
    *link = a ? a : b;
    return head;
}

/* Bottom-up merge sort over the next links, without recursion or
 * allocation: bin[i] holds a sorted run of 2^i timers. prev links are left
 * stale; the caller relinks every timer. */
static struct timer *timer_sort(struct timer *list)
{
    struct timer *bin[64] = {NULL};
    while (list) {
        struct timer *run = list;
        list = list->next;
        run->next = NULL;
        unsigned i = 0;
        for (; bin[i]; i++) {
            run = timer_merge(bin[i], run);
            bin[i] = NULL;
        }
        bin[i] = run;
    }
    struct timer *out = NULL;
    for (unsigned i = 0; i < 64; i++)
        if (bin[i])
            out = timer_merge(bin[i], out);
    return out;
}

/* Moves the level-0 slot of `tick` (== cur) to the end of `ready`: every
 * timer there has a later tick than anything already in `ready`. */
static void timer_collect(struct timer_wheel *w, uint64_t tick)
{
    unsigned idx = timer_digit(tick, 0);
    struct timer *t = timer_sort(timer_list_take(&w->slots[0][idx]));
    timer_map_clear(w, 0, idx);
    while (t) {
        struct timer *next = t->next;
        timer_list_insert_after(&w->ready, w->ready.tail, t);
        t->slot = TIMER_SLOT_READY;
        t = next;
    }
}

/* Re-files every timer of one list; they all land on lower levels (or back
 * on the overflow list) because cur now shares their digit at this level. */
static void timer_refile(struct timer_wheel *w, unsigned level)
{
    struct timer *t;
    if (level == TIMER_LEVELS) {
        t = timer_list_take(&w->overflow);
    } else {
        unsigned idx = timer_digit(w->cur, level);
        t = timer_list_take(&w->slots[level][idx]);
        timer_map_clear(w, level, idx);
    }
    while (t) {
        struct timer *next = t->next;
        timer_place(w, t);
        t = next;
    }
}

/*
 * cur has just reached the start of a level-1 (or larger) block. The
 * lowest non-zero digit above level 0 names the highest level whose slot
 * came due (all-zero digits: the overflow list); every level below it has
 * rolled over to digit 0. Refile top-down so timers pass through each level.
 */
static void timer_cascade(struct timer_wheel *w)
{
    assert(timer_digit(w->cur, 0) == 0);
    unsigned top = 1;
    while (top < TIMER_LEVELS && timer_digit(w->cur, top) == 0)
        top++;
    for (unsigned level = top; level >= 1; level--)
        timer_refile(w, level);
}

/* The first occupied slot index >= from in one level's bitmap, or -1. */
static int timer_map_find(const uint64_t map[TIMER_MAP_WORDS], unsigned from)
{
    for (unsigned word = from / 64; word < TIMER_MAP_WORDS; word++) {
        uint64_t bits = map[word];
        if (word == from / 64)
            bits &= ~UINT64_C(0) << (from % 64);
        if (bits)
            return (int)(word * 64 + (unsigned)__builtin_ctzll(bits));
    }
    return -1;
}

/*
 * The next tick at which the wheel has work, in *tick, and its kind: 0 to
 * collect a level-0 slot, L to cascade a level-L slot, TIMER_LEVELS for the
 * overflow list, -1 when nothing is filed outside `ready`. Lower levels
 * always come due first, so the first level with an eligible slot wins.
 */
static int timer_next_event(const struct timer_wheel *w, uint64_t *tick)
{
    for (unsigned level = 0; level < TIMER_LEVELS; level++) {
        unsigned shift = level * TIMER_SLOT_BITS;
        unsigned digit = timer_digit(w->cur, level);
        int idx = timer_map_find(w->occupied[level], level == 0 ? digit : digit + 1);
        if (idx < 0)
            continue;
        uint64_t block = w->cur >> (shift + TIMER_SLOT_BITS) << (shift + TIMER_SLOT_BITS);
        *tick = block | (uint64_t)idx << shift;
        return (int)level;
    }
    if (w->overflow.head == NULL)
        return -1;
    /* Overflow timers lie in a later span, so this cannot wrap. */
    assert((w->cur | TIMER_SPAN_MASK) != UINT64_MAX);
    *tick = (w->cur | TIMER_SPAN_MASK) + 1;
    return TIMER_LEVELS;
}

/* Moves cur up to limit, collecting every tick < limit into `ready` and
 * cascading on the way. Jumping over stretches with no event keeps the
 * invariants: no slot's range is entered without being processed. */
static void timer_advance(struct timer_wheel *w, uint64_t limit)
{
    assert(w->cur <= limit);
    for (;;) {
        uint64_t tick = 0;
        int kind = timer_next_event(w, &tick);
        if (kind == 0 && tick < limit) {
            timer_collect(w, tick);
            w->cur = tick + 1;
            if (timer_digit(w->cur, 0) == 0)
                timer_cascade(w);
        } else if (kind > 0 && tick <= limit) {
            w->cur = tick;
            timer_cascade(w);
        } else {
            w->cur = limit;
            return;
        }
    }
}

/* Keeps cur_at right after cur moved. */
static void timer_set_cur(struct timer_wheel *w, uint64_t cur)
{
    w->cur = cur;
    w->cur_at = cur > UINT64_MAX / w->tick_us ? TCPC_TIME_NEVER : cur * w->tick_us;
}

void timer_wheel_init(struct timer_wheel *w, tcpc_time_t now, tcpc_time_t tick_us)
{
    assert(tick_us > 0);
    memset(w, 0, sizeof(*w));
    w->tick_us = tick_us;
    w->now = now;
    timer_set_cur(w, now / tick_us);
    w->first = TCPC_TIME_NEVER;
    w->first_ok = true;
}

void timer_init(struct timer *t)
{
    t->next = t->prev = NULL;
    t->deadline = TCPC_TIME_NEVER;
    t->seq = 0;
    t->slot = TIMER_SLOT_NONE;
}

void timer_arm(struct timer_wheel *w, struct timer *t, tcpc_time_t deadline)
{
    timer_cancel(w, t);
    if (deadline == TCPC_TIME_NEVER)
        return;
    t->deadline = deadline;
    t->seq = w->seq++;
    timer_place(w, t);
    w->count++;
    if (w->first_ok && deadline < w->first)
        w->first = deadline;
}

void timer_cancel(struct timer_wheel *w, struct timer *t)
{
    if (!timer_armed(t))
        return;
    timer_unlink(w, t);
    w->count--;
    /* t may have been what the cached answer came from (its deadline, or
     * the start of its slot): the next expire computes it again. */
    w->first_ok = false;
}

/* timer_wheel_next_deadline's answer from the lists themselves. */
tcpc_time_t timer_wheel_next_deadline_scan(const struct timer_wheel *w)
{
    if (w->count == 0)
        return TCPC_TIME_NEVER;
    if (w->ready.head)
        return w->ready.head->deadline;
    uint64_t tick = 0;
    if (timer_next_event(w, &tick) < 0)
        return TCPC_TIME_NEVER;
    /* The start of the slot's range: <= every deadline filed there. */
    return tick * w->tick_us;
}

/* timer_wheel_expire past its inline check. */
struct timer *timer_wheel_expire_due(struct timer_wheel *w, tcpc_time_t now)
{
    assert(now >= w->now && "time went backwards");
    assert(now != TCPC_TIME_NEVER);
    w->now = now;
    uint64_t limit = now / w->tick_us + 1;
    if (w->count == 0) {
        /* Nothing filed: what timer_advance would find after scanning
         * every level's map, without the scan (an idle wheel is asked on
         * every turn of the embedder's loop). */
        if (limit > w->cur)
            timer_set_cur(w, limit);
        w->first = TCPC_TIME_NEVER;
        w->first_ok = true;
        return NULL;
    }
    if (limit > w->cur) {
        timer_advance(w, limit);
        timer_set_cur(w, w->cur);
    }
    struct timer *t = w->ready.head;
    if (t == NULL || t->deadline > now) {
        w->first = timer_wheel_next_deadline_scan(w);
        w->first_ok = true;
        return NULL;
    }
    timer_unlink(w, t);
    w->count--;
    w->first_ok = false;
    return t;
}

size_t timer_wheel_count(const struct timer_wheel *w)
{
    return w->count;
}
