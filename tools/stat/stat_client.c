/*
 * tcpcore-stat's side of the control protocol; see stat_client.h.
 */
#define _GNU_SOURCE

#include "stat_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_proto.h"

#define ANSWER_TIMEOUT_MS 5000
#define ANSWER_MAX        (256u << 20) /* a listing of millions of connections */

json_object *stat_get(json_object *o, const char *key)
{
    json_object *v = NULL;
    return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

uint64_t stat_u64(json_object *o, const char *key)
{
    json_object *v = stat_get(o, key);
    return v ? json_object_get_uint64(v) : 0;
}

static void connect_error(const char *path, int err, char *why, size_t whylen)
{
    switch (err) {
    case ENOENT:
        snprintf(why, whylen,
                 "no control socket at %s: is tcpcored running? (its --control sets the path; "
                 "so does -S here)",
                 path);
        break;
    case ECONNREFUSED:
        snprintf(why, whylen, "nothing answers on %s: tcpcored is not running (stale socket)",
                 path);
        break;
    case EACCES:
    case EPERM:
        snprintf(why, whylen,
                 "permission denied on %s: the socket is mode 0600 for the daemon's user; run as "
                 "root or as that user",
                 path);
        break;
    default:
        snprintf(why, whylen, "cannot connect to %s: %s", path, strerror(err));
    }
}

static int dial(const char *path, char *why, size_t whylen)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path)) {
        snprintf(why, whylen, "control socket path %s is too long", path);
        return -1;
    }
    strcpy(sun.sun_path, path);
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
        snprintf(why, whylen, "%s is not a socket: give tcpcored's control socket with -S", path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        connect_error(path, errno, why, whylen);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Reads until the peer closes (or a newline ends the answer). */
static char *read_answer(int fd, const char *path, size_t *len, char *why, size_t whylen)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, ANSWER_TIMEOUT_MS) <= 0) {
            snprintf(why, whylen, "no answer from %s within %d s", path, ANSWER_TIMEOUT_MS / 1000);
            break;
        }
        if (n == cap) {
            char *bigger = cap < ANSWER_MAX ? realloc(buf, cap * 2) : NULL;
            if (!bigger) {
                snprintf(why, whylen, "the answer from %s is too large", path);
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0) {
            snprintf(why, whylen, "reading from %s: %s", path, strerror(errno));
            break;
        }
        n += (size_t)got;
        if (got == 0 || memchr(buf + n - (size_t)got, '\n', (size_t)got)) {
            *len = n;
            return buf;
        }
    }
    free(buf);
    return NULL;
}

json_object *stat_query(const char *path, unsigned mask, char *why, size_t whylen)
{
    int fd = dial(path, why, whylen);
    if (fd < 0)
        return NULL;
    char req[256];
    int reqlen = ctl_request_format(mask, req, sizeof(req));
    json_object *answer = NULL;
    size_t len = 0;
    char *text = NULL;
    if (reqlen < 0 || send(fd, req, (size_t)reqlen, MSG_NOSIGNAL) != reqlen)
        snprintf(why, whylen, "cannot send the request to %s: %s", path, strerror(errno));
    else
        text = read_answer(fd, path, &len, why, whylen);
    close(fd);
    if (!text)
        return NULL;
    json_tokener *tok = json_tokener_new();
    answer = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
    json_tokener_free(tok);
    free(text);
    if (!answer || stat_u64(answer, "protocol") != CTL_PROTOCOL) {
        snprintf(why, whylen, "%s did not answer as tcpcored does (protocol %d JSON)", path,
                 CTL_PROTOCOL);
        json_object_put(answer);
        return NULL;
    }
    json_object *err = stat_get(answer, "error");
    if (err) {
        snprintf(why, whylen, "tcpcored refused the request: %s", json_object_get_string(err));
        json_object_put(answer);
        return NULL;
    }
    return answer;
}
