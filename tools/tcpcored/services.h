/*
 * The services: each starts on a connection its listener accepted and
 * owns it from then on (see daemon.h for the connection base).
 *   echo     sends back what it receives; closes after the peer's FIN
 *   discard  reads and drops; closes after the peer's FIN
 *   source   sends svc->bytes bytes of the peer stream (tools/peer_stream.h,
 *            seed 1), then its FIN first; drops what it receives
 *   http     svc_http.c
 *   forward  svc_forward.c
 * A start function returns 0, or a negative errno when it could not take
 * the connection (no memory): the listener then resets it.
 */
#ifndef TCPCORED_SERVICES_H
#define TCPCORED_SERVICES_H

#include "daemon.h"

int svc_echo_start(struct dmn *d, const struct dmn_service_conf *svc, int sd);
int svc_discard_start(struct dmn *d, const struct dmn_service_conf *svc, int sd);
int svc_source_start(struct dmn *d, const struct dmn_service_conf *svc, int sd);
int svc_http_start(struct dmn *d, const struct dmn_service_conf *svc, int sd);
int svc_forward_start(struct dmn *d, const struct dmn_service_conf *svc, int sd);

/* The seed of the bytes that source and http's /bytes/N send. */
#define SVC_STREAM_SEED 1

/* Closes sd with a reset (SO_LINGER 0), for aborts. */
void svc_reset(struct dmn *d, int sd);

/*
 * How the simple services end a connection: our FIN after what is queued,
 * then whatever the peer still sends is read and dropped until its FIN (or
 * an error), then the descriptor is closed and the connection released.
 * Returns true once released. Closing only after the peer's FIN means
 * unread data never turns our close into a reset.
 */
bool svc_drain(struct dmn_conn *c);

/* Reads and drops what is readable; true at end of stream or on an error. */
bool svc_discard_input(struct dmn_conn *c);

/* stop and abort for connections that need nothing special. */
void svc_stop(struct dmn_conn *c);
void svc_abort(struct dmn_conn *c);

/* Closes an errored connection (the stack has dropped it) and releases it. */
void svc_fail(struct dmn_conn *c);

#endif
