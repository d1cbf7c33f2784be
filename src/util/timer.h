/*
 * A hierarchical timer wheel driven by explicit time.
 *
 * Every connection carries several timers (retransmit, delayed ACK,
 * persist, keepalive, TIME_WAIT) that are armed and cancelled far more often
 * than they fire, so arm and cancel must be O(1) and allocation-free. The
 * timers are intrusive: a struct timer lives inside its owner's record and
 * the owner is recovered with container_of (util/container.h).
 *
 * The wheel never reads a clock. The embedder asks timer_wheel_next_deadline
 * when to wake up and then calls timer_wheel_expire(now) in a loop, handling
 * one fired timer per call; between calls it may arm and cancel anything,
 * including the timer just popped.
 *
 * Guarantees: a timer never fires before its deadline (deadline <= now when
 * popped), timers fire in non-decreasing deadline order, and timers with
 * equal deadlines fire in the order they were armed. Deadlines are exact
 * microseconds; the tick only sets the wheel's granularity for bookkeeping
 * and for how early next_deadline may be.
 *
 * Layout: 4 levels of 256 slots cover 2^32 ticks (about 50 days at 1 ms);
 * anything farther waits on an overflow list that is re-examined once per
 * 2^32 ticks. See timer.c for the invariants.
 */
#ifndef TCPCORE_UTIL_TIMER_H
#define TCPCORE_UTIL_TIMER_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpcore/addr.h"

#define TIMER_LEVELS    4
#define TIMER_SLOT_BITS 8
#define TIMER_SLOTS     (1u << TIMER_SLOT_BITS)
#define TIMER_SLOT_MASK (TIMER_SLOTS - 1)
#define TIMER_MAP_WORDS (TIMER_SLOTS / 64)

/* Where a timer is filed (struct timer.slot): level * TIMER_SLOTS + index
 * for wheel slots, or one of these. */
#define TIMER_SLOT_OVERFLOW ((uint16_t)(TIMER_LEVELS * TIMER_SLOTS))
#define TIMER_SLOT_READY    ((uint16_t)(TIMER_SLOT_OVERFLOW + 1))
#define TIMER_SLOT_NONE     ((uint16_t)0xffff)

/* Embed in the owner; initialise with timer_init before first use. The
 * fields are the wheel's; owners only read them through the functions. */
struct timer {
    struct timer *next, *prev;
    tcpc_time_t deadline;
    uint32_t seq;  /* arm order, for FIFO among equal deadlines */
    uint16_t slot; /* TIMER_SLOT_NONE when unarmed */
};

_Static_assert(sizeof(struct timer) <= 32, "struct timer is embedded in every connection");

struct timer_list {
    struct timer *head, *tail;
};

/* All storage is inside the struct (about 16 KiB): nothing is allocated. */
struct timer_wheel {
    tcpc_time_t tick_us;
    tcpc_time_t now;    /* latest time seen, to catch time going backwards */
    uint64_t cur;       /* current tick: timers of earlier ticks are in `ready` */
    tcpc_time_t cur_at; /* cur's first microsecond: expire advances cur from there */
    size_t count;
    uint32_t seq;
    /* What timer_wheel_next_deadline answers, kept so that the embedder's
     * loop, which asks after every packet, reads it instead of scanning
     * the maps; valid while first_ok. Arming lowers it, cancelling or
     * popping the timer that set it clears first_ok, and timer_wheel_expire
     * computes it afresh. */
    tcpc_time_t first;
    bool first_ok;
    uint64_t occupied[TIMER_LEVELS][TIMER_MAP_WORDS]; /* non-empty slots */
    struct timer_list slots[TIMER_LEVELS][TIMER_SLOTS];
    struct timer_list overflow; /* beyond the 2^32-tick span */
    struct timer_list ready;    /* earlier ticks, sorted by (deadline, seq) */
};

/* Starts an empty wheel at time now with a granularity of tick_us (> 0). */
void timer_wheel_init(struct timer_wheel *w, tcpc_time_t now, tcpc_time_t tick_us);

/* Makes t unarmed. Needed once before t is first used. */
void timer_init(struct timer *t);

static inline bool timer_armed(const struct timer *t)
{
    return t->slot != TIMER_SLOT_NONE;
}

/* The deadline t was last armed for; meaningful while armed. */
static inline tcpc_time_t timer_deadline(const struct timer *t)
{
    return t->deadline;
}

/*
 * Schedules t for deadline, moving it if already armed (it then counts as
 * armed now for FIFO purposes). A deadline at or before the latest `now`
 * fires on the next timer_wheel_expire. TCPC_TIME_NEVER cancels. A timer
 * belongs to one wheel at a time: arming it on another while armed corrupts
 * both.
 */
void timer_arm(struct timer_wheel *w, struct timer *t, tcpc_time_t deadline);

/* Unschedules t; a no-op if t is not armed. */
void timer_cancel(struct timer_wheel *w, struct timer *t);

/*
 * Pops the earliest timer with deadline <= now, unarmed, or returns NULL when
 * none is due. now must not be less than in earlier calls. Call in a loop;
 * arming and cancelling between calls is allowed.
 */
struct timer *timer_wheel_expire_due(struct timer_wheel *w, tcpc_time_t now);

static inline struct timer *timer_wheel_expire(struct timer_wheel *w, tcpc_time_t now)
{
    /* Before the cached earliest deadline nothing is due, and before
     * cur_at there is no tick to advance over: the common case (every turn
     * of the embedder's loop asks) costs no call. */
    if (w->first_ok && now < w->first && now < w->cur_at) {
        assert(now >= w->now && "time went backwards");
        w->now = now;
        return NULL;
    }
    return timer_wheel_expire_due(w, now);
}

/*
 * When to call timer_wheel_expire next: TCPC_TIME_NEVER if nothing is armed,
 * otherwise a time no later than the earliest armed deadline. It is exact
 * for timers already due, at most one tick early for timers within the
 * current 256-tick block, and may be earlier (a spurious wakeup, never a late
 * one) for timers farther out. O(1) while the cached answer is valid (see
 * struct timer_wheel); otherwise bounded by the number of slots (the
 * search is timer_wheel_next_deadline_scan).
 */
tcpc_time_t timer_wheel_next_deadline_scan(const struct timer_wheel *w);

static inline tcpc_time_t timer_wheel_next_deadline(const struct timer_wheel *w)
{
    return w->first_ok ? w->first : timer_wheel_next_deadline_scan(w);
}

/* Armed timers. */
size_t timer_wheel_count(const struct timer_wheel *w);

#endif
