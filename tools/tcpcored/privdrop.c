/*
 * Running as an unprivileged user; see privdrop.h.
 */
#define _GNU_SOURCE

#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"
#include "exitcodes.h"

int dmn_user_lookup(const char *name, struct dmn_user *u, char *why)
{
    errno = 0;
    struct passwd *pw = getpwnam(name);
    if (!pw) {
        snprintf(why, DMN_WHY_LEN, "there is no user named %s to run as (--user)", name);
        return DMN_EXIT_BAD_USER;
    }
    if (pw->pw_uid == 0) {
        snprintf(why, DMN_WHY_LEN,
                 "user %s has uid 0: running as it would drop nothing; pick an unprivileged user",
                 name);
        return DMN_EXIT_BAD_USER;
    }
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    return DMN_EXIT_OK;
}

/* Could the process get root back? */
static bool can_regain_root(void)
{
    return setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 || setegid(0) == 0 ||
           geteuid() == 0 || getuid() == 0;
}

int dmn_drop_privileges(const struct dmn_user *u, const char *name, char *why)
{
    if (geteuid() == u->uid && getuid() == u->uid && !can_regain_root())
        return DMN_EXIT_OK;
    if (setgroups(1, &u->gid) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
        setresuid(u->uid, u->uid, u->uid) < 0) {
        snprintf(why, DMN_WHY_LEN, "cannot switch to user %s: %s", name, strerror(errno));
        return DMN_EXIT_NO_PRIVILEGE;
    }
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (can_regain_root()) {
        snprintf(why, DMN_WHY_LEN, "switched to user %s but could still become root; stopping",
                 name);
        return DMN_EXIT_NO_PRIVILEGE;
    }
    return DMN_EXIT_OK;
}
