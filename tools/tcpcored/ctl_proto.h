/*
 * The control protocol between tcpcored and tcpcore-stat, over a unix
 * stream socket (mode 0600, owned by the daemon's user).
 *
 * The client sends one request line, a JSON object naming the sections it
 * wants:
 *     {"get": ["daemon", "connections", "counters"]}\n
 * and the daemon answers with one JSON line and closes the connection:
 *     {"protocol": 1, "time_us": ..., "daemon": {...}, "connections": [...],
 *      "counters": {...}}\n
 * or {"protocol": 1, "error": "sentence"} for a request it refuses. Both
 * sides build and read JSON with json-c. The request is the only input the
 * daemon takes from the socket; its parser has a libFuzzer target
 * (fuzz/fuzz_ctl.c).
 */
#ifndef TCPCORED_CTL_PROTO_H
#define TCPCORED_CTL_PROTO_H

#include <stddef.h>

#define CTL_PROTOCOL    1
#define CTL_MAX_REQUEST 4096 /* bytes, newline included */

/* Sections of an answer. */
enum ctl_section {
    CTL_DAEMON = 0x01,      /* pid, uptime, device, addresses, services, device counters */
    CTL_CONNECTIONS = 0x02, /* the listing: sockets, SYN cache, TIME_WAIT */
    CTL_COUNTERS = 0x04,    /* every counter by its FreeBSD name */
    CTL_TUNABLES = 0x08,    /* every tunable by its sysctl name */
    CTL_NEIGHBOURS = 0x10,  /* the neighbour cache (ARP and ND), empty on TUN */
    CTL_ROUTES = 0x20,      /* the routing table: connected prefixes, default routes */
};
#define CTL_ALL 0x3f

/* The section's name in requests and answers ("connections"), or NULL. */
const char *ctl_section_name(unsigned section);

/*
 * Parses a request of len bytes (a trailing newline and whitespace are
 * allowed). Returns the mask of sections asked for (never 0), or -EINVAL
 * with a sentence in why[0..whylen): not JSON, not an object, an unknown
 * key or section, a list that is not of strings, too long.
 */
int ctl_request_parse(const char *buf, size_t len, char *why, size_t whylen);

/* The request line for a mask, newline-terminated, in buf; its length, or
 * -ENOSPC. */
int ctl_request_format(unsigned mask, char *buf, size_t buflen);

#endif
