/*
 * The control socket tcpcore-stat talks to (protocol: ctl_proto.h). It is
 * created while the daemon still runs as root, in a directory that is made
 * (mode 0700) for and owned by the daemon's user when missing, and given to
 * that user with mode 0600: only that user and root can connect.
 */
#ifndef TCPCORED_CONTROL_H
#define TCPCORED_CONTROL_H

#include <sys/types.h>

#include "daemon.h"

/* Binds and listens at d->conf.control. Returns an exit status: a socket a
 * running daemon answers on is DMN_EXIT_IN_USE; a stale one is replaced. */
int dmn_control_open(struct dmn *d, uid_t uid, gid_t gid, char *why);

/* Closes every client and the socket, and removes its path when allowed. */
void dmn_control_close(struct dmn *d);

#endif
