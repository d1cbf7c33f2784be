/*
 * Running as an unprivileged user: the daemon opens its device, capture
 * file and sockets as root, then switches to --user for good.
 */
#ifndef TCPCORED_PRIVDROP_H
#define TCPCORED_PRIVDROP_H

#include <sys/types.h>

struct dmn_user {
    uid_t uid;
    gid_t gid;
};

/* Looks the account up. DMN_EXIT_BAD_USER when it does not exist or is
 * root (switching to root drops nothing). */
int dmn_user_lookup(const char *name, struct dmn_user *u, char *why);

/*
 * Switches the whole process to u: no supplementary groups, its group, its
 * user, no new privileges through exec; then checks that root cannot be
 * regained. Already running as u: nothing to do. DMN_EXIT_NO_PRIVILEGE
 * when the switch is not permitted or did not hold.
 */
int dmn_drop_privileges(const struct dmn_user *u, const char *name, char *why);

#endif
