/*
 * What every benchmark reads from the system: the monotonic clock and the
 * process's resident memory (memory figures are measured growth of the
 * latter, never sums of struct sizes).
 */
#ifndef TCPCORE_BENCH_BENCH_H
#define TCPCORE_BENCH_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* The monotonic clock in nanoseconds. */
static inline double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Resident bytes of this process (/proc/self/statm), 0 if unknown. */
static inline uint64_t bench_resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long size = 0, resident = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

#endif
