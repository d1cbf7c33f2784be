/*
 * A client that opens many connections at once through one stack on a TUN
 * device: each sends its own pattern of BYTES bytes to an echo server,
 * reads them back, checks them and closes. One epoll loop (device and
 * timerfd) drives them all; the stack's event callback says which
 * connection can make progress.
 *
 *     many_clients TUN ADDR/LEN SERVER PORT CONNS BYTES
 *     many_clients tun1 198.18.1.2/24 198.18.0.2 7 200 4096
 *
 * Prints "connections=N ok=K failed=F" and exits 0 when every connection
 * got its bytes back, 1 otherwise (or after 60 seconds). Build it against
 * an installed tcpcore with
 *     cc many_clients.c $(pkg-config --cflags --libs tcpcore) -o many_clients
 */
#define _GNU_SOURCE /* signalfd, timerfd, clock_gettime under -std=c17 */

#include <stdbool.h>
#include <sys/epoll.h>

#include <tcpcore/socket.h>

#include "example_tun.h"

struct client {
    int sd;
    size_t sent, got;
    bool done, ok, queued;
};

struct run {
    struct tcpc_stack *stack;
    struct client *c;
    int n, *by_sd, nsd; /* descriptor -> client index, -1 for none */
    int *ready, nready; /* clients the event callback reported */
    size_t bytes;
    int finished, ok;
};

/* Byte k of connection i's stream: differs per connection, so that an
 * answer delivered to the wrong connection fails the check. */
static uint8_t pattern(int i, size_t k)
{
    return (uint8_t)(i * 131 + k * 7 + (k >> 8));
}

static void finish(struct run *r, struct client *c, bool ok)
{
    c->done = true;
    c->ok = ok;
    r->finished++;
    r->ok += ok;
    tcpc_close(r->stack, c->sd);
}

/* Sends what the send buffer takes, reads and checks what came back. */
static void client_step(struct run *r, struct client *c)
{
    int i = (int)(c - r->c);
    uint8_t buf[4096];
    while (!c->done && c->sent < r->bytes) {
        size_t len = r->bytes - c->sent < sizeof(buf) ? r->bytes - c->sent : sizeof(buf);
        for (size_t k = 0; k < len; k++)
            buf[k] = pattern(i, c->sent + k);
        ssize_t n = tcpc_send(r->stack, c->sd, buf, len);
        if (n == -EAGAIN || n == -ENOTCONN)
            break; /* full, or still connecting: TCPC_EV_WRITABLE comes */
        if (n < 0) {
            finish(r, c, false);
            return;
        }
        c->sent += (size_t)n;
    }
    while (!c->done) {
        ssize_t n = tcpc_recv(r->stack, c->sd, buf, sizeof(buf));
        if (n == -EAGAIN || n == -ENOTCONN)
            return;
        if (n <= 0) {
            finish(r, c, false); /* reset, or closed before the echo */
            return;
        }
        for (ssize_t k = 0; k < n; k++)
            if (buf[k] != pattern(i, c->got + (size_t)k)) {
                finish(r, c, false);
                return;
            }
        c->got += (size_t)n;
        if (c->got == r->bytes)
            finish(r, c, true);
    }
}

/* The stack's event callback runs inside a stack call: it only notes the
 * client, served once that call returns (serve_ready). */
static void on_event(void *ctx, int sd, uint32_t events)
{
    struct run *r = ctx;
    (void)events;
    if (sd < r->nsd && r->by_sd[sd] >= 0 && !r->c[r->by_sd[sd]].queued) {
        r->c[r->by_sd[sd]].queued = true;
        r->ready[r->nready++] = r->by_sd[sd];
    }
}

static void serve_ready(struct run *r)
{
    for (int i = 0; i < r->nready; i++) { /* serving may append others */
        struct client *c = &r->c[r->ready[i]];
        if (!c->done)
            client_step(r, c); /* until it would block: events meanwhile add nothing */
        c->queued = false;
    }
    r->nready = 0;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: many_clients TUN ADDR/LEN SERVER PORT CONNS BYTES\n");
        return 2;
    }
    static int fd;
    struct run r = {.n = atoi(argv[5]), .bytes = (size_t)atol(argv[6])};
    struct tcpc_addr server;
    if (tcpc_addr_parse(argv[3], &server) != 0 || r.n <= 0) {
        fprintf(stderr, "bad server address or connection count\n");
        return 2;
    }
    if ((fd = tun_open(argv[1])) < 0 || !(r.stack = tun_stack(&fd, argv[2])))
        return 1;
    r.c = calloc((size_t)r.n, sizeof(*r.c));
    r.nsd = 2 * r.n + 16;
    r.by_sd = malloc((size_t)r.nsd * sizeof(int));
    r.ready = malloc((size_t)r.n * sizeof(int));
    if (!r.c || !r.by_sd || !r.ready)
        return 1;
    for (int sd = 0; sd < r.nsd; sd++)
        r.by_sd[sd] = -1;
    int family = tcpc_addr_is_v4(&server) ? TCPC_AF_INET : TCPC_AF_INET6;
    for (int i = 0; i < r.n; i++) {
        int sd = tcpc_socket(r.stack, family);
        int err = sd < 0 ? sd : tcpc_connect(r.stack, sd, &server, (uint16_t)atoi(argv[4]));
        if (err != -EINPROGRESS || sd >= r.nsd) {
            fprintf(stderr, "connection %d: cannot connect: %s\n", i, strerror(-err));
            return 1;
        }
        r.c[i].sd = sd;
        r.by_sd[sd] = i;
    }
    tcpc_set_event_cb(r.stack, on_event, &r);

    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    ev.data.fd = tfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
    tcpc_time_t give_up = now_usec() + 60 * TCPC_USEC_PER_SEC;
    timer_arm(tfd, r.stack);
    while (r.finished < r.n && now_usec() < give_up) {
        struct epoll_event evs[2];
        int n = epoll_wait(ep, evs, 2, 1000);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == fd) {
                tun_input(fd, r.stack);
            } else {
                uint64_t expirations;
                if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
                    return 1;
                tcpc_advance(r.stack, now_usec());
            }
        }
        serve_ready(&r);
        timer_arm(tfd, r.stack);
    }
    /* Let the last FINs and ACKs leave before the stack goes. */
    for (tcpc_time_t end = now_usec() + 200 * TCPC_USEC_PER_MSEC; now_usec() < end;) {
        struct epoll_event evs[2];
        if (epoll_wait(ep, evs, 2, 10) > 0)
            tun_input(fd, r.stack);
        tcpc_advance(r.stack, now_usec());
    }
    printf("connections=%d ok=%d failed=%d\n", r.n, r.ok, r.n - r.ok);
    tcpc_stack_del(r.stack);
    free(r.c);
    free(r.by_sd);
    free(r.ready);
    return r.ok == r.n ? 0 : 1;
}
