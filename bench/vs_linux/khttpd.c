/*
 * khttpd: the kernel-stack half of the side-by-side benchmark
 * (bench/vs_linux.sh). A single-threaded epoll HTTP/1.1 responder that
 * answers every request with tcpcored's page (tools/tcpcored/http_page.h)
 * and the same head, so that it and tcpcored's http service differ only in
 * the TCP stack underneath: the same event-loop shape (one thread, one
 * readiness loop), the same bytes on the wire.
 *
 * Usage: khttpd [--peer-closes] ADDR PORT
 * With --peer-closes, an answer that says "Connection: close" is not
 * followed by our close: the client closes first, so that its side, not
 * ours, holds the connection's TIME_WAIT (the connect-rate case).
 * Serves until SIGTERM or SIGINT, then prints one line
 *   khttpd accepted=N requests=M
 * which the forward-under-attack run compares with what the clients sent.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_page.h"

#define KH_MAX_HEAD 8192
#define KH_MAX_OUT  4096
#define KH_EVENTS   256

struct kh_conn {
    int fd;
    size_t inlen;
    size_t outlen, outoff;
    bool close_after;
    char in[KH_MAX_HEAD];
    char out[KH_MAX_OUT];
};

static volatile sig_atomic_t kh_stop;
static bool kh_peer_closes;

static void kh_on_signal(int sig)
{
    (void)sig;
    kh_stop = 1;
}

/* The listening socket, bound and non-blocking; exits with a message. */
static int kh_listen(const char *addr, const char *port)
{
    struct sockaddr_storage ss = {0};
    socklen_t sslen;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    int p = atoi(port);
    if (p <= 0 || p > 65535) {
        fprintf(stderr, "khttpd: bad port %s\n", port);
        exit(2);
    }
    if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)p);
        sslen = sizeof(*sin);
    } else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)p);
        sslen = sizeof(*sin6);
    } else {
        fprintf(stderr, "khttpd: bad address %s\n", addr);
        exit(2);
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 4096) < 0) {
        fprintf(stderr, "khttpd: %s:%s: %s\n", addr, port, strerror(errno));
        exit(9);
    }
    return fd;
}

/* Whether the head asks for the connection to close after the answer: an
 * HTTP/1.0 request without keep-alive, or a Connection header saying close. */
static bool kh_wants_close(const char *head, size_t len)
{
    bool v10 = false, close = false, keep = false;
    const char *eol = memchr(head, '\n', len);
    if (eol && eol - head >= 9 && memcmp(eol - 9, "HTTP/1.0", 8) == 0)
        v10 = true;
    for (const char *l = eol ? eol + 1 : head + len; l < head + len;) {
        const char *e = memchr(l, '\n', (size_t)(head + len - l));
        size_t n = e ? (size_t)(e - l) : (size_t)(head + len - l);
        if (n > 11 && strncasecmp(l, "connection:", 11) == 0) {
            close |= memmem(l, n, "close", 5) != NULL;
            keep |= memmem(l, n, "keep-alive", 10) != NULL;
        }
        l += n + 1;
    }
    return close || (v10 && !keep);
}

/* Queues the answer to one request: the head tcpcored's http service
 * sends for its page, with another Server name of the same length. */
static void kh_answer(struct kh_conn *c, bool close_after)
{
    int n = snprintf(c->out + c->outlen, sizeof(c->out) - c->outlen,
                     "HTTP/1.1 200 OK\r\nServer: linuxtcp\r\nContent-Type: text/html; "
                     "charset=utf-8\r\nContent-Length: %zu\r\nConnection: %s\r\n\r\n%s",
                     sizeof(http_page) - 1, close_after ? "close" : "keep-alive", http_page);
    if (n > 0 && (size_t)n < sizeof(c->out) - c->outlen)
        c->outlen += (size_t)n;
    c->close_after |= close_after;
}

/* Answers the complete requests held, as long as their answers fit. */
static void kh_answer_held(struct kh_conn *c, unsigned long *requests)
{
    char *end;
    while (!c->close_after && c->outlen + 512 + sizeof(http_page) <= sizeof(c->out) &&
           (end = memmem(c->in, c->inlen, "\r\n\r\n", 4)) != NULL) {
        size_t hl = (size_t)(end - c->in) + 4;
        kh_answer(c, kh_wants_close(c->in, hl));
        (*requests)++;
        memmove(c->in, c->in + hl, c->inlen - hl);
        c->inlen -= hl;
    }
}

/* Writes what is queued, answering held (pipelined) requests as room
 * frees; false when the connection is done (closed). */
static bool kh_flush(struct kh_conn *c, unsigned long *requests)
{
    for (;;) {
        kh_answer_held(c, requests);
        if (c->outoff == c->outlen) /* all sent; with --peer-closes, wait for its FIN */
            return !c->close_after || kh_peer_closes;
        while (c->outoff < c->outlen) {
            ssize_t w = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL);
            if (w < 0 && errno == EAGAIN)
                return true;
            if (w <= 0)
                return false;
            c->outoff += (size_t)w;
        }
        c->outlen = c->outoff = 0;
    }
}

/* Reads everything the socket holds and answers it; false when done. */
static bool kh_readable(struct kh_conn *c, unsigned long *requests)
{
    for (;;) {
        if (c->inlen == sizeof(c->in)) {
            kh_answer_held(c, requests);
            if (c->inlen == sizeof(c->in))
                return false; /* a head too large for us: drop it */
        }
        ssize_t r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
        if (r < 0 && errno == EAGAIN)
            break;
        if (r <= 0)
            return false;
        c->inlen += (size_t)r;
    }
    return kh_flush(c, requests);
}

static void kh_close(int ep, struct kh_conn *c)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c);
}

static void kh_accept(int ep, int lfd, unsigned long *accepted)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or out of descriptors until some close */
        struct kh_conn *c = calloc(1, sizeof(*c));
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
        if (c == NULL || (c->fd = fd, epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)) {
            close(fd);
            free(c);
            continue;
        }
        (*accepted)++;
    }
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--peer-closes") == 0) {
        kh_peer_closes = true;
        argv++, argc--;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: khttpd [--peer-closes] ADDR PORT\n");
        return 2;
    }
    int lfd = kh_listen(argv[1], argv[2]);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) {
        perror("khttpd: epoll");
        return 1;
    }
    struct sigaction sa = {.sa_handler = kh_on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    printf("khttpd: ready on %s port %s%s\n", argv[1], argv[2],
           kh_peer_closes ? " (the peer closes first)" : "");
    fflush(stdout);
    unsigned long accepted = 0, requests = 0;
    struct epoll_event evs[KH_EVENTS];
    while (!kh_stop) {
        int n = epoll_wait(ep, evs, KH_EVENTS, 200);
        for (int i = 0; i < n; i++) {
            struct kh_conn *c = evs[i].data.ptr;
            if (c == NULL) {
                kh_accept(ep, lfd, &accepted);
                continue;
            }
            bool alive = (evs[i].events & (EPOLLERR | EPOLLHUP)) == 0;
            if (alive && (evs[i].events & EPOLLIN))
                alive = kh_readable(c, &requests);
            else if (alive && (evs[i].events & EPOLLOUT))
                alive = kh_flush(c, &requests);
            if (!alive)
                kh_close(ep, c);
        }
    }
    printf("khttpd accepted=%lu requests=%lu\n", accepted, requests);
    return 0;
}
