/*
 * An echo server for many connections at once, on a TUN device, driven by
 * one epoll loop: the device, a timerfd at the stack's next deadline and a
 * signalfd for SIGTERM / SIGINT. The stack tells the loop which sockets
 * became ready through its event callback; the loop then serves exactly
 * those, each until it would block.
 *
 *     epoll_echo TUN PORT ADDR/LEN [ADDR/LEN...]
 *     ip tuntap add dev tun0 mode tun && ip addr add 198.18.0.1/24 dev tun0
 *     ip link set tun0 up && epoll_echo tun0 7 198.18.0.2/24 2001:db8::2/64 &
 *     echo hi | nc -N 198.18.0.2 7
 *
 * It prints "listening" once it serves, and on SIGTERM the number of
 * connections it served. Build it against an installed tcpcore with
 *     cc epoll_echo.c $(pkg-config --cflags --libs tcpcore) -o epoll_echo
 */
#define _GNU_SOURCE /* signalfd, timerfd, clock_gettime under -std=c17 */

#include <signal.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include <tcpcore/link.h>
#include <tcpcore/socket.h>

#include "example_tun.h"

/* One connection: what was read and not yet sent back. Reading stops while
 * the buffer is full, so a slow reader holds back its own sender only. */
struct conn {
    size_t len, off;
    bool eof;
    char buf[16384];
};

struct server {
    struct tcpc_stack *stack;
    int listeners[TCPC_MAX_LOCAL_ADDRS];
    int nlisteners;
    struct conn **conns; /* by descriptor */
    int nconns;
    int *ready; /* descriptors the event callback reported, in order */
    int nready, maxready;
    unsigned long served;
};

/* The stack's event callback: it may not close sockets, so it only notes
 * which descriptors to serve once the stack call that fired it returns. */
static void on_event(void *ctx, int sd, uint32_t events)
{
    struct server *s = ctx;
    (void)events;
    if (s->nready == s->maxready) {
        int max = s->maxready ? 2 * s->maxready : 64;
        int *r = realloc(s->ready, (size_t)max * sizeof(*r));
        if (!r)
            return; /* served later by the next event */
        s->ready = r;
        s->maxready = max;
    }
    s->ready[s->nready++] = sd;
}

static void conn_close(struct server *s, int sd)
{
    tcpc_close(s->stack, sd); /* the FIN (after queued data) is the stack's job */
    free(s->conns[sd]);
    s->conns[sd] = NULL;
}

/* Echoes until the socket would block; closes after the peer's FIN. */
static void conn_serve(struct server *s, int sd)
{
    struct conn *c = s->conns[sd];
    for (;;) {
        if (c->off < c->len) {
            ssize_t n = tcpc_send(s->stack, sd, c->buf + c->off, c->len - c->off);
            if (n == -EAGAIN)
                return; /* TCPC_EV_WRITABLE will say when there is room */
            if (n < 0)
                break;
            c->off += (size_t)n;
            continue;
        }
        if (c->eof)
            break;
        ssize_t n = tcpc_recv(s->stack, sd, c->buf, sizeof(c->buf));
        if (n == -EAGAIN)
            return;
        if (n <= 0) {
            c->eof = true; /* end of stream, or an error: nothing more to echo */
            continue;
        }
        c->len = (size_t)n;
        c->off = 0;
    }
    conn_close(s, sd);
}

static void accept_all(struct server *s, int lsd)
{
    int sd;
    while ((sd = tcpc_accept(s->stack, lsd, NULL, NULL)) >= 0) {
        if (sd >= s->nconns) {
            int n = 2 * sd + 16;
            struct conn **cs = realloc(s->conns, (size_t)n * sizeof(*cs));
            if (!cs) {
                tcpc_close(s->stack, sd);
                continue;
            }
            memset(cs + s->nconns, 0, (size_t)(n - s->nconns) * sizeof(*cs));
            s->conns = cs;
            s->nconns = n;
        }
        s->conns[sd] = calloc(1, sizeof(struct conn));
        if (!s->conns[sd]) {
            tcpc_close(s->stack, sd);
            continue;
        }
        s->served++;
        conn_serve(s, sd);
    }
}

static void serve_ready(struct server *s)
{
    for (int i = 0; i < s->nready; i++) { /* serving may append more */
        int sd = s->ready[i];
        bool listener = false;
        for (int l = 0; l < s->nlisteners; l++)
            listener |= s->listeners[l] == sd;
        if (listener)
            accept_all(s, sd);
        else if (sd < s->nconns && s->conns[sd])
            conn_serve(s, sd);
    }
    s->nready = 0;
}

static int listen_on(struct server *s, int family, unsigned port)
{
    int sd = tcpc_socket(s->stack, family);
    if (sd < 0 ||
        (family == TCPC_AF_INET6 && tcpc_setsockopt(s->stack, sd, TCPC_IPV6_V6ONLY, 1) < 0) ||
        tcpc_bind(s->stack, sd, NULL, (uint16_t)port) < 0 || tcpc_listen(s->stack, sd, 1024) < 0)
        return -1;
    s->listeners[s->nlisteners++] = sd;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: epoll_echo TUN PORT ADDR/LEN [ADDR/LEN...]\n");
        return 2;
    }
    static int fd;
    struct server s = {0};
    if ((fd = tun_open(argv[1])) < 0 || !(s.stack = tun_stack(&fd, argv[3])))
        return 1;
    for (int i = 4; i < argc; i++) {
        char text[64];
        snprintf(text, sizeof(text), "%s", argv[i]);
        char *slash = strchr(text, '/');
        if (slash)
            *slash = '\0';
        struct tcpc_addr a;
        if (tcpc_addr_parse(text, &a) != 0 ||
            tcpc_addr_add(s.stack, &a, slash ? (unsigned)atoi(slash + 1) : 0) != 0) {
            fprintf(stderr, "cannot add address %s\n", argv[i]);
            return 1;
        }
    }
    tcpc_set_event_cb(s.stack, on_event, &s);
    unsigned port = (unsigned)atoi(argv[2]);
    if (listen_on(&s, TCPC_AF_INET, port) < 0 || listen_on(&s, TCPC_AF_INET6, port) < 0) {
        fprintf(stderr, "cannot listen on port %u\n", port);
        return 1;
    }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int fds[3] = {fd, tfd, sfd};
    for (int i = 0; i < 3; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
    }
    printf("listening on %s port %u\n", argv[1], port);
    fflush(stdout);

    bool stop = false;
    while (!stop) {
        struct epoll_event evs[3];
        int n = epoll_wait(ep, evs, 3, -1);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == fd) {
                tun_input(fd, s.stack);
            } else if (evs[i].data.fd == tfd) {
                uint64_t expirations;
                if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
                    stop = true;
                tcpc_advance(s.stack, now_usec());
            } else {
                stop = true;
            }
        }
        serve_ready(&s);
        timer_arm(tfd, s.stack);
    }
    printf("served=%lu\n", s.served);
    for (int sd = 0; sd < s.nconns; sd++)
        free(s.conns[sd]);
    free(s.conns);
    free(s.ready);
    tcpc_stack_del(s.stack);
    return 0;
}
