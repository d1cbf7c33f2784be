/*
 * tcpcore-stat's side of the control protocol (tools/tcpcored/ctl_proto.h):
 * connect to the daemon's unix socket, send one request, read one JSON
 * answer. Failures are one sentence saying what is wrong with the socket
 * (missing, stale, not permitted, not a socket, not tcpcored).
 */
#ifndef TCPCORE_STAT_CLIENT_H
#define TCPCORE_STAT_CLIENT_H

#include <json.h>
#include <stddef.h>

/* Asks the daemon at path for the sections in mask. Returns the answer
 * (the caller puts it), or NULL with the reason in why[0..whylen). */
json_object *stat_query(const char *path, unsigned mask, char *why, size_t whylen);

/* The answer's member key, or NULL; a number member as uint64 (0 if absent). */
json_object *stat_get(json_object *o, const char *key);
uint64_t stat_u64(json_object *o, const char *key);

#endif
