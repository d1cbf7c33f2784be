/*
 * The backends' clock; see clock.h.
 */
#define _POSIX_C_SOURCE 200809L

#include "clock.h"

#include <time.h>

tcpc_time_t tcpc_io_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (tcpc_time_t)ts.tv_sec * TCPC_USEC_PER_SEC + (tcpc_time_t)ts.tv_nsec / 1000;
}

int tcpc_io_wait_ms(tcpc_time_t now, tcpc_time_t deadline, tcpc_time_t max_wait)
{
    tcpc_time_t wait = max_wait;
    if (deadline != TCPC_TIME_NEVER)
        wait = deadline <= now ? 0 : (deadline - now < wait ? deadline - now : wait);
    tcpc_time_t ms = (wait + TCPC_USEC_PER_MSEC - 1) / TCPC_USEC_PER_MSEC;
    /* An hour is longer than any timer the stack arms while idle. */
    return ms > 3600 * 1000 ? 3600 * 1000 : (int)ms;
}
