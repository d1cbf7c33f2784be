/*
 * The forward service: each accepted connection is relayed (relay.c) to the
 * backend svc->to:to_port. By default through an ordinary kernel socket,
 * non-blocking and in the daemon's epoll set, so that tcpcore stands in
 * front of an existing service; with via = stack, through a second tcpcore
 * connection, which makes tcpcore the client of the backend. A backend that
 * refuses, or a side that resets, resets the other side.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "relay.h"
#include "services.h"
#include "tcpcore/socket.h"

struct fwd_conn {
    struct dmn_conn c;
    struct dmn_watch kw; /* the kernel socket, when via kernel */
    struct relay r;      /* end[0]: the accepted side; end[1]: the backend */
};

static void fwd_finish(struct fwd_conn *f, bool reset)
{
    if (f->r.end[1].kernel && f->r.end[1].id >= 0)
        dmn_watch_del(f->c.d, &f->kw);
    if (!f->r.end[1].kernel)
        dmn_task_unmap(f->c.d, f->r.end[1].id);
    relay_close(&f->r, f->c.d->stack, reset);
    dmn_conn_release(&f->c);
}

static void fwd_step(struct dmn_task *t)
{
    struct fwd_conn *f = (struct fwd_conn *)t;
    enum relay_state s = relay_pump(&f->r, f->c.d->stack);
    if (s != RELAY_OPEN)
        fwd_finish(f, s == RELAY_RESET);
}

/* Shutting down: read no more from either side, pass on what is buffered,
 * then both FINs; the relay finishes by itself. */
static void fwd_stop(struct dmn_conn *c)
{
    struct fwd_conn *f = (struct fwd_conn *)c;
    f->r.end[0].eof = f->r.end[1].eof = true;
    dmn_task_ready(c->d, &c->task);
}

static void fwd_abort(struct dmn_conn *c)
{
    fwd_finish((struct fwd_conn *)c, true);
}

static void fwd_on_kernel(struct dmn_watch *w, uint32_t events)
{
    struct fwd_conn *f = (struct fwd_conn *)((char *)w - offsetof(struct fwd_conn, kw));
    (void)events;
    dmn_task_ready(f->c.d, &f->c.task);
}

static socklen_t to_sockaddr(const struct tcpc_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (tcpc_addr_is_v4(a)) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, a->bytes + 12, 4);
        return sizeof(*s4);
    }
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    memcpy(&s6->sin6_addr, a->bytes, 16);
    return sizeof(*s6);
}

/* Starts the kernel-side connect; the descriptor or a negative errno. */
static int connect_kernel(struct fwd_conn *f)
{
    const struct dmn_service_conf *svc = f->c.svc;
    struct sockaddr_storage ss;
    socklen_t sl = to_sockaddr(&svc->to, svc->to_port, &ss);
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
        int err = -errno;
        close(fd);
        return err;
    }
    f->kw = (struct dmn_watch){.fd = fd, .fn = fwd_on_kernel};
    int err = dmn_watch_add(f->c.d, &f->kw, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
    if (err) {
        close(fd);
        return err;
    }
    return fd;
}

/*
 * --tcp-fastopen client: the backend's SYN carries what the client has sent
 * by the time its connection was accepted (with a Fast Open client of our
 * own, its SYN's data), when the stack holds a cookie for the backend; else
 * the SYN asks for one and the bytes follow the handshake. The open is
 * tcpc_sendto's implied connect, or a plain one when nothing is there yet.
 * 0 (-EINPROGRESS) or the negative errno of the open.
 */
static int open_fastopen(struct fwd_conn *f, int sd)
{
    const struct dmn_service_conf *svc = f->c.svc;
    struct tcpc_stack *st = f->c.d->stack;
    struct relay_buf *b = &f->r.buf[0];
    /* Refused only while net.inet.tcp.fastopen.client_enable is 0: a plain
     * open then, as for a signed backend (docs/tfo.md). */
    tcpc_setsockopt(st, sd, TCPC_TCP_FASTOPEN, 1);
    ssize_t n = tcpc_recv(st, f->r.end[0].id, b->data, sizeof(b->data));
    if (n == 0)
        f->r.end[0].eof = true;
    if (n <= 0)
        return tcpc_connect(st, sd, &svc->to, svc->to_port);
    b->len = (size_t)n;
    n = tcpc_sendto(st, sd, b->data, b->len, &svc->to, svc->to_port);
    if (n < 0)
        return (int)n;
    b->off = (size_t)n; /* the relay writes the rest once connected */
    return -EINPROGRESS;
}

/* Starts the connect through the stack; the descriptor or a negative errno. */
static int connect_stack(struct fwd_conn *f)
{
    const struct dmn_service_conf *svc = f->c.svc;
    struct tcpc_stack *st = f->c.d->stack;
    int sd = tcpc_socket(st, tcpc_addr_is_v4(&svc->to) ? TCPC_AF_INET : TCPC_AF_INET6);
    if (sd < 0)
        return sd;
    dmn_task_map(f->c.d, sd, &f->c.task);
    /* A backend among the --md5-key peers is reached signed. */
    int err = dmn_set_md5_keys(f->c.d, sd, tcpc_addr_is_v4(&svc->to));
    if (!err)
        err = (f->c.d->conf.fastopen & DMN_TFO_CLIENT)
                  ? open_fastopen(f, sd)
                  : tcpc_connect(st, sd, &svc->to, svc->to_port);
    if (err != -EINPROGRESS && err != 0) {
        dmn_task_unmap(f->c.d, sd);
        tcpc_close(st, sd);
        return err;
    }
    return sd;
}

int svc_forward_start(struct dmn *d, const struct dmn_service_conf *svc, int sd)
{
    struct fwd_conn *f =
        (struct fwd_conn *)dmn_conn_new(d, sizeof(struct fwd_conn), svc, sd, fwd_step);
    if (!f)
        return -ENOMEM;
    f->c.stop = fwd_stop;
    f->c.abort = fwd_abort;
    f->r.end[0] = (struct relay_end){.id = sd};
    f->r.end[1] = (struct relay_end){.kernel = !svc->via_stack, .id = -1, .connecting = true};
    int id = svc->via_stack ? connect_stack(f) : connect_kernel(f);
    if (id < 0) {
        /* The listener resets the accepted side. */
        f->r.end[0].id = -1;
        dmn_conn_release(&f->c);
        return id;
    }
    f->r.end[1].id = id;
    return 0;
}
