/*
 * echo, discard and source (services.h), and the ending every simple
 * service shares.
 */
#include <errno.h>

#include "peer_stream.h"
#include "services.h"
#include "tcpcore/socket.h"

#define ECHO_BUF     16384
#define SOURCE_CHUNK 16384

bool svc_discard_input(struct dmn_conn *c)
{
    for (;;) {
        ssize_t n = tcpc_recv(c->d->stack, c->sd, c->d->scratch, sizeof(c->d->scratch));
        if (n == -EAGAIN)
            return false;
        if (n <= 0) {
            c->eof = true;
            return true;
        }
    }
}

void svc_fail(struct dmn_conn *c)
{
    tcpc_close(c->d->stack, c->sd);
    dmn_conn_release(c);
}

bool svc_drain(struct dmn_conn *c)
{
    if (!c->shut_wr) {
        c->shut_wr = true;
        if (tcpc_shutdown(c->d->stack, c->sd, TCPC_SHUT_WR) < 0) {
            svc_fail(c);
            return true;
        }
    }
    if (!c->eof && !svc_discard_input(c))
        return false;
    tcpc_close(c->d->stack, c->sd);
    dmn_conn_release(c);
    return true;
}

void svc_stop(struct dmn_conn *c)
{
    c->stopping = true;
    dmn_task_ready(c->d, &c->task);
}

void svc_abort(struct dmn_conn *c)
{
    svc_reset(c->d, c->sd);
    dmn_conn_release(c);
}

/* A new simple connection: base set up, stop and abort the generic ones. */
static struct dmn_conn *basic_new(struct dmn *d, size_t size, const struct dmn_service_conf *svc,
                                  int sd, void (*step)(struct dmn_task *))
{
    struct dmn_conn *c = dmn_conn_new(d, size, svc, sd, step);
    if (c) {
        c->stop = svc_stop;
        c->abort = svc_abort;
    }
    return c;
}

struct echo_conn {
    struct dmn_conn c;
    size_t len, off; /* bytes in buf; bytes of them sent */
    uint8_t buf[ECHO_BUF];
};

/* Sends what buf holds; false on an error (the connection is gone). */
static bool echo_flush(struct echo_conn *e, bool *progress)
{
    while (e->off < e->len) {
        ssize_t n = tcpc_send(e->c.d->stack, e->c.sd, e->buf + e->off, e->len - e->off);
        if (n == -EAGAIN)
            return true;
        if (n < 0)
            return false;
        e->off += (size_t)n;
        *progress = true;
    }
    e->off = e->len = 0;
    return true;
}

static void echo_step(struct dmn_task *t)
{
    struct echo_conn *e = (struct echo_conn *)t;
    bool progress = true;
    while (progress) {
        progress = false;
        if (!echo_flush(e, &progress))
            return svc_fail(&e->c);
        /* Read only into an empty buffer: while the peer's own data cannot
         * go back out, it stays in the stack and closes the window. */
        if (e->len || e->c.eof || e->c.stopping)
            break;
        ssize_t n = tcpc_recv(e->c.d->stack, e->c.sd, e->buf, sizeof(e->buf));
        if (n > 0) {
            e->len = (size_t)n;
            progress = true;
        } else if (n == 0) {
            e->c.eof = true;
        } else if (n != -EAGAIN) {
            return svc_fail(&e->c);
        }
    }
    if (e->len == 0 && (e->c.eof || e->c.stopping))
        svc_drain(&e->c);
}

int svc_echo_start(struct dmn *d, const struct dmn_service_conf *svc, int sd)
{
    return basic_new(d, sizeof(struct echo_conn), svc, sd, echo_step) ? 0 : -ENOMEM;
}

static void discard_step(struct dmn_task *t)
{
    struct dmn_conn *c = (struct dmn_conn *)t;
    if (svc_discard_input(c) || c->stopping)
        svc_drain(c);
}

int svc_discard_start(struct dmn *d, const struct dmn_service_conf *svc, int sd)
{
    return basic_new(d, sizeof(struct dmn_conn), svc, sd, discard_step) ? 0 : -ENOMEM;
}

struct source_conn {
    struct dmn_conn c;
    uint64_t sent;
};

static void source_step(struct dmn_task *t)
{
    struct source_conn *s = (struct source_conn *)t;
    struct dmn *d = s->c.d;
    if (s->c.shut_wr || s->c.stopping) {
        svc_drain(&s->c);
        return;
    }
    while (s->sent < s->c.svc->bytes) {
        uint64_t left = s->c.svc->bytes - s->sent;
        /* Chunks smaller than the buffer: a send that takes only part of
         * one wastes the rest of what was generated. */
        size_t len = left < SOURCE_CHUNK ? (size_t)left : SOURCE_CHUNK;
        peer_stream_fill(SVC_STREAM_SEED, s->sent, d->scratch, len);
        ssize_t n = tcpc_send(d->stack, s->c.sd, d->scratch, len);
        if (n == -EAGAIN)
            break;
        if (n < 0)
            return svc_fail(&s->c);
        s->sent += (uint64_t)n;
    }
    /* The peer's FIN is only its half-close: keep sending. A reset shows
     * in the next send. */
    svc_discard_input(&s->c);
    if (s->sent == s->c.svc->bytes)
        svc_drain(&s->c);
}

int svc_source_start(struct dmn *d, const struct dmn_service_conf *svc, int sd)
{
    return basic_new(d, sizeof(struct source_conn), svc, sd, source_step) ? 0 : -ENOMEM;
}
