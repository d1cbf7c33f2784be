/*
 * The counters as `netstat -s -p tcp` would word them (with ip and icmp
 * sections): FreeBSD's line structure and phrasing, our table. A counter
 * the table does not word is still printed, by name, at the end, so a new
 * counter in the core is never hidden.
 */
#ifndef TCPCORE_STAT_COUNTERS_H
#define TCPCORE_STAT_COUNTERS_H

#include <json.h>
#include <stdio.h>

/* counters: the answer's "counters" object; connections: its listing (for
 * the count by state), or NULL. */
void stat_print_counters(FILE *out, json_object *counters, json_object *connections);

#endif
