/*
 * Time for the backends: the clock a stack runs on when it meets real
 * packets, and how long a backend may sleep before the stack's next timer.
 */
#ifndef TCPCORE_IO_CLOCK_H
#define TCPCORE_IO_CLOCK_H

#include "tcpcore/stack.h"

/* CLOCK_MONOTONIC in microseconds: never jumps with the wall clock. */
tcpc_time_t tcpc_io_now(void);

/*
 * Milliseconds a poll or epoll_wait may sleep at time now: until deadline
 * (rounded up, so that the timers are due on waking), at most max_wait
 * microseconds. TCPC_TIME_NEVER means no deadline.
 */
int tcpc_io_wait_ms(tcpc_time_t now, tcpc_time_t deadline, tcpc_time_t max_wait);

#endif
