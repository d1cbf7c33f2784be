/*
 * The byte relay; see relay.h. Each endpoint operation hides whether the
 * socket is the kernel's or tcpcore's; both report -EAGAIN for "not now".
 */
#define _GNU_SOURCE

#include "relay.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcpcore/socket.h"

static ssize_t end_read(struct tcpc_stack *st, const struct relay_end *e, void *buf, size_t len)
{
    if (!e->kernel)
        return tcpc_recv(st, e->id, buf, len);
    ssize_t n = recv(e->id, buf, len, MSG_DONTWAIT);
    return n >= 0 ? n : (errno == EWOULDBLOCK || errno == EINTR) ? -EAGAIN : -errno;
}

static ssize_t end_write(struct tcpc_stack *st, const struct relay_end *e, const void *buf,
                         size_t len)
{
    if (!e->kernel)
        return tcpc_send(st, e->id, buf, len);
    ssize_t n = send(e->id, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
    return n >= 0 ? n : (errno == EWOULDBLOCK || errno == EINTR) ? -EAGAIN : -errno;
}

static int end_shutdown(struct tcpc_stack *st, const struct relay_end *e)
{
    if (!e->kernel)
        return tcpc_shutdown(st, e->id, TCPC_SHUT_WR);
    return shutdown(e->id, SHUT_WR) == 0 ? 0 : -errno;
}

/* Has an outbound connect finished? 0 connected (or still going, with
 * e->connecting left set), or the negative errno it failed with. */
static int end_connected(struct tcpc_stack *st, struct relay_end *e)
{
    int so_error = 0;
    if (e->kernel) {
        struct pollfd p = {.fd = e->id, .events = POLLOUT};
        if (poll(&p, 1, 0) <= 0)
            return 0;
        socklen_t sl = sizeof(so_error);
        getsockopt(e->id, SOL_SOCKET, SO_ERROR, &so_error, &sl);
        if (so_error)
            return -so_error;
    } else {
        int ev = tcpc_poll(st, e->id);
        if (ev & TCPC_EV_ERROR) {
            tcpc_getsockopt(st, e->id, TCPC_SO_ERROR, &so_error);
            return so_error ? -so_error : -ECONNREFUSED;
        }
        if (!(ev & TCPC_EV_WRITABLE))
            return 0;
    }
    e->connecting = false;
    return 0;
}

/* One direction: src's bytes into b, b's bytes into dst, src's FIN to
 * dst. Returns -1 on an error, else whether anything moved. */
static int relay_dir(struct tcpc_stack *st, struct relay_end *src, struct relay_end *dst,
                     struct relay_buf *b)
{
    int moved = 0;
    if (!dst->connecting && b->off < b->len) {
        ssize_t n = end_write(st, dst, b->data + b->off, b->len - b->off);
        if (n < 0 && n != -EAGAIN)
            return -1;
        if (n > 0) {
            b->off += (size_t)n;
            moved = 1;
        }
    }
    if (b->off == b->len)
        b->off = b->len = 0;
    if (!src->connecting && !src->eof && b->len < sizeof(b->data)) {
        ssize_t n = end_read(st, src, b->data + b->len, sizeof(b->data) - b->len);
        if (n < 0 && n != -EAGAIN)
            return -1;
        if (n == 0)
            src->eof = true;
        if (n >= 0)
            moved = 1;
        if (n > 0)
            b->len += (size_t)n;
    }
    if (src->eof && b->len == 0 && !dst->connecting && !dst->shut) {
        dst->shut = true;
        if (end_shutdown(st, dst) < 0)
            return -1;
        moved = 1;
    }
    return moved;
}

enum relay_state relay_pump(struct relay *r, struct tcpc_stack *stack)
{
    for (int i = 0; i < 2; i++)
        if (r->end[i].connecting && end_connected(stack, &r->end[i]) < 0)
            return RELAY_RESET;
    int moved = 1;
    while (moved > 0) {
        moved = 0;
        for (int i = 0; i < 2; i++) {
            int m = relay_dir(stack, &r->end[i], &r->end[1 - i], &r->buf[i]);
            if (m < 0)
                return RELAY_RESET;
            moved |= m;
        }
    }
    return r->end[0].shut && r->end[1].shut ? RELAY_DONE : RELAY_OPEN;
}

void relay_close(struct relay *r, struct tcpc_stack *stack, bool reset)
{
    for (int i = 0; i < 2; i++) {
        struct relay_end *e = &r->end[i];
        if (e->id < 0)
            continue;
        if (e->kernel) {
            if (reset) {
                struct linger lg = {.l_onoff = 1, .l_linger = 0};
                setsockopt(e->id, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            }
            close(e->id);
        } else {
            if (reset)
                tcpc_setsockopt(stack, e->id, TCPC_SO_LINGER, 0);
            tcpc_close(stack, e->id);
        }
        e->id = -1;
    }
}
