/*
 * The control socket; see control.h. Each client sends one request line
 * and gets one answer line; the daemon then closes. Clients are few (one
 * per tcpcore-stat run) and bounded: when all slots are taken, the oldest
 * client is dropped, so a stuck client cannot lock the others out.
 */
#define _GNU_SOURCE

#include "control.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"
#include "exitcodes.h"
#include "report.h"

#define CTL_MAX_CLIENTS 8

struct ctl_client {
    struct dmn_watch w; /* fd -1: slot free */
    struct dmn_control *ctl;
    uint64_t serial;
    size_t inlen, outlen, outoff;
    char *out;
    char in[CTL_MAX_REQUEST + 1];
};

struct dmn_control {
    struct dmn_watch lw;
    struct dmn *d;
    uint64_t serial;
    struct ctl_client clients[CTL_MAX_CLIENTS];
};

static void client_close(struct ctl_client *c)
{
    if (c->w.fd < 0)
        return;
    dmn_watch_del(c->ctl->d, &c->w);
    close(c->w.fd);
    c->w.fd = -1;
    free(c->out);
    c->out = NULL;
}

/* Writes what is left of the answer; closes when it is all out. */
static void client_flush(struct ctl_client *c)
{
    while (c->outoff < c->outlen) {
        ssize_t n = send(c->w.fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0)
            break;
        c->outoff += (size_t)n;
    }
    client_close(c);
}

static void client_answer(struct ctl_client *c)
{
    char why[256];
    int mask = ctl_request_parse(c->in, c->inlen, why, sizeof(why));
    json_object *o = mask > 0 ? dmn_report(c->ctl->d, (unsigned)mask) : dmn_report_error(why);
    const char *text =
        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    c->outlen = strlen(text) + 1;
    c->out = malloc(c->outlen);
    if (c->out) {
        memcpy(c->out, text, c->outlen - 1);
        c->out[c->outlen - 1] = '\n';
    }
    json_object_put(o);
    if (!c->out)
        return client_close(c);
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = &c->w};
    epoll_ctl(c->ctl->d->epfd, EPOLL_CTL_MOD, c->w.fd, &ev);
    client_flush(c);
}

static void on_client(struct dmn_watch *w, uint32_t events)
{
    struct ctl_client *c = (struct ctl_client *)w;
    if (c->out)
        return client_flush(c);
    if (events & EPOLLERR)
        return client_close(c);
    for (;;) {
        ssize_t n = recv(c->w.fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
        if (n < 0 && errno == EAGAIN)
            return;
        if (n < 0)
            return client_close(c);
        c->inlen += (size_t)n;
        /* A newline, the end of the client's stream, or a full buffer (the
         * parser refuses it as too long) all end the request. */
        if (n == 0 || memchr(c->in + c->inlen - (size_t)n, '\n', (size_t)n) ||
            c->inlen == sizeof(c->in))
            return client_answer(c);
    }
}

static struct ctl_client *client_slot(struct dmn_control *ctl)
{
    struct ctl_client *oldest = &ctl->clients[0];
    for (int i = 0; i < CTL_MAX_CLIENTS; i++) {
        if (ctl->clients[i].w.fd < 0)
            return &ctl->clients[i];
        if (ctl->clients[i].serial < oldest->serial)
            oldest = &ctl->clients[i];
    }
    client_close(oldest);
    return oldest;
}

static void on_listen(struct dmn_watch *w, uint32_t events)
{
    struct dmn_control *ctl = (struct dmn_control *)w;
    (void)events;
    for (;;) {
        int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct ctl_client *c = client_slot(ctl);
        c->w = (struct dmn_watch){.fd = fd, .fn = on_client};
        c->ctl = ctl;
        c->serial = ++ctl->serial;
        c->inlen = c->outlen = c->outoff = 0;
        if (dmn_watch_add(ctl->d, &c->w, EPOLLIN) < 0) {
            close(fd);
            c->w.fd = -1;
        }
    }
}

/* Makes the socket's directory for the daemon's user when it is missing. */
static int make_dir(const char *path, uid_t uid, gid_t gid, char *why)
{
    char copy[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(copy, sizeof(copy), "%s", path);
    const char *dir = dirname(copy);
    struct stat st;
    if (stat(dir, &st) == 0)
        return DMN_EXIT_OK;
    if (mkdir(dir, 0700) < 0 || chown(dir, uid, gid) < 0) {
        int err = errno;
        snprintf(why, DMN_WHY_LEN, "cannot create the control socket's directory %s: %s", dir,
                 strerror(err));
        return err == EACCES || err == EPERM ? DMN_EXIT_NO_PRIVILEGE : DMN_EXIT_BAD_SETTING;
    }
    return DMN_EXIT_OK;
}

/* A socket already at the path: in use when a daemon answers, else stale. */
static int clear_path(const struct sockaddr_un *sun, char *why)
{
    struct stat st;
    if (lstat(sun->sun_path, &st) < 0)
        return DMN_EXIT_OK;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(why, DMN_WHY_LEN, "control socket path %s exists and is not a socket",
                 sun->sun_path);
        return DMN_EXIT_BAD_SETTING;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool live = fd >= 0 && connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
    if (fd >= 0)
        close(fd);
    if (live) {
        snprintf(why, DMN_WHY_LEN, "control socket %s is in use: another tcpcored is running",
                 sun->sun_path);
        return DMN_EXIT_IN_USE;
    }
    unlink(sun->sun_path);
    return DMN_EXIT_OK;
}

static int bind_socket(const struct sockaddr_un *sun, uid_t uid, gid_t gid, char *why)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        snprintf(why, DMN_WHY_LEN, "cannot create the control socket: %s", strerror(err));
        return -err;
    }
    mode_t old = umask(0177);
    int rc = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
    umask(old);
    if (rc < 0 || chown(sun->sun_path, uid, gid) < 0 || chmod(sun->sun_path, 0600) < 0 ||
        listen(fd, 16) < 0) {
        int err = errno;
        snprintf(why, DMN_WHY_LEN, "cannot create the control socket %s: %s", sun->sun_path,
                 strerror(err));
        close(fd);
        return -err;
    }
    return fd;
}

int dmn_control_open(struct dmn *d, uid_t uid, gid_t gid, char *why)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", d->conf.control);
    int rc = make_dir(sun.sun_path, uid, gid, why);
    if (!rc)
        rc = clear_path(&sun, why);
    if (rc)
        return rc;
    int fd = bind_socket(&sun, uid, gid, why);
    if (fd < 0)
        return fd == -EACCES || fd == -EPERM ? DMN_EXIT_NO_PRIVILEGE : DMN_EXIT_BAD_SETTING;
    struct dmn_control *ctl = calloc(1, sizeof(*ctl));
    if (!ctl) {
        close(fd);
        snprintf(why, DMN_WHY_LEN, "no memory for the control socket");
        return DMN_EXIT_RUNTIME;
    }
    ctl->d = d;
    ctl->lw = (struct dmn_watch){.fd = fd, .fn = on_listen};
    for (int i = 0; i < CTL_MAX_CLIENTS; i++)
        ctl->clients[i].w.fd = -1;
    d->control = ctl;
    if (dmn_watch_add(d, &ctl->lw, EPOLLIN) < 0) {
        snprintf(why, DMN_WHY_LEN, "cannot watch the control socket: %s", strerror(errno));
        return DMN_EXIT_RUNTIME;
    }
    return DMN_EXIT_OK;
}

void dmn_control_close(struct dmn *d)
{
    struct dmn_control *ctl = d->control;
    if (!ctl)
        return;
    for (int i = 0; i < CTL_MAX_CLIENTS; i++)
        client_close(&ctl->clients[i]);
    close(ctl->lw.fd);
    /* Fails when the directory is not the daemon user's: the next start
     * finds the socket stale and replaces it. */
    unlink(d->conf.control);
    free(ctl);
    d->control = NULL;
}
