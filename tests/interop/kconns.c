/*
 * kconns: many kernel-side TCP connections to an echo service, for the
 * daemon's interop tests.
 *
 *   kconns --addr SRC --connect ADDR PORT --count N --sequential
 *       N connections one after another: connect, send a line naming the
 *       connection, read it back, shut down, read to end of stream, close.
 *   kconns --addr SRC --connect ADDR PORT --count N --concurrent [--hold S]
 *       N connections open at once: every one connects and gets its line
 *       echoed; then "holding N" is printed and all stay open S seconds
 *       (default 0) before they are closed the same way.
 *   kconns --addr SRC --connect ADDR PORT --count N --syn-only [--hold S]
 *       N SYNs from SRC, which need not be the kernel's own (IP_TRANSPARENT):
 *       the answers to an address not ours go nowhere, so the peer keeps
 *       half-open entries; exits 0 after S seconds.
 * Prints "connections=N ok=M secs=T" and exits 0 only when every
 * connection echoed its own line and closed cleanly; 1 otherwise (the
 * first failure on stderr), 2 for a bad command line.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ksock.h"
#include "peer_stream.h"

struct kc_conn {
    int fd;
    size_t sent, got, len;
    bool echoed, shut, closed;
    char line[32], back[32];
};

struct kc {
    struct sockaddr_storage src, dst;
    socklen_t srclen, dstlen;
    unsigned count, ok;
    bool concurrent, syn_only;
    double hold, deadline;
    struct kc_conn *conns;
};

static double kc_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void kc_fail(const char *what, unsigned i, int err)
{
    fprintf(stderr, "kconns: connection %u: %s%s%s\n", i, what, err ? ": " : "",
            err ? strerror(err) : "");
    exit(1);
}

static void kc_usage(void)
{
    fprintf(stderr, "usage: kconns --addr SRC --connect ADDR PORT --count N "
                    "(--sequential | --concurrent [--hold SECONDS] | --syn-only [--hold SECONDS])\n"
                    "              [--timeout SECONDS]\n");
    exit(2);
}

static void kc_parse(int argc, char **argv, struct kc *k)
{
    const char *src = NULL, *dst = NULL;
    unsigned port = 0, timeout = 120;
    int mode = 0;
    for (int i = 1; i < argc; i++) {
        bool has1 = i + 1 < argc, has2 = i + 2 < argc;
        if (!strcmp(argv[i], "--addr") && has1)
            src = argv[++i];
        else if (!strcmp(argv[i], "--connect") && has2) {
            dst = argv[++i];
            port = (unsigned)peer_parse_num("kconns", "port", argv[++i], 65535);
        } else if (!strcmp(argv[i], "--count") && has1)
            k->count = (unsigned)peer_parse_num("kconns", "count", argv[++i], 100000);
        else if (!strcmp(argv[i], "--sequential"))
            mode = 1;
        else if (!strcmp(argv[i], "--concurrent"))
            mode = 2;
        else if (!strcmp(argv[i], "--syn-only"))
            mode = 3;
        else if (!strcmp(argv[i], "--hold") && has1)
            k->hold = (double)peer_parse_num("kconns", "hold", argv[++i], 3600);
        else if (!strcmp(argv[i], "--timeout") && has1)
            timeout = (unsigned)peer_parse_num("kconns", "timeout", argv[++i], 3600);
        else
            kc_usage();
    }
    if (!src || !dst || !port || !k->count || !mode)
        kc_usage();
    k->concurrent = mode == 2;
    k->syn_only = mode == 3;
    k->srclen = ksock_addr("kconns", src, 0, &k->src);
    k->dstlen = ksock_addr("kconns", dst, port, &k->dst);
    k->deadline = kc_now() + timeout;
}

static void kc_open(struct kc *k, unsigned i)
{
    struct kc_conn *c = &k->conns[i];
    c->fd = socket(k->dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        kc_fail("socket", i, errno);
    int one = 1;
    if (k->syn_only &&
        (k->src.ss_family == AF_INET
             ? setsockopt(c->fd, IPPROTO_IP, IP_TRANSPARENT, &one, sizeof(one))
             : setsockopt(c->fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one, sizeof(one))) < 0)
        kc_fail("IP_TRANSPARENT", i, errno);
    if (bind(c->fd, (struct sockaddr *)&k->src, k->srclen) < 0)
        kc_fail("bind", i, errno);
    if (connect(c->fd, (struct sockaddr *)&k->dst, k->dstlen) < 0 && errno != EINPROGRESS)
        kc_fail("connect", i, errno);
    c->len = (size_t)snprintf(c->line, sizeof(c->line), "kconns %u\n", i);
}

/* Moves connection i on as far as it goes without blocking. Returns true
 * once it is closed; with hold, it stops after its echo came back. */
static bool kc_step(struct kc *k, unsigned i, bool hold)
{
    struct kc_conn *c = &k->conns[i];
    while (!c->closed) {
        if (c->sent < c->len) {
            ssize_t n = send(c->fd, c->line + c->sent, c->len - c->sent, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == ENOTCONN))
                return false;
            if (n < 0)
                kc_fail("send", i, errno);
            c->sent += (size_t)n;
            continue;
        }
        if (c->echoed && hold)
            return false;
        if (c->echoed && !c->shut) {
            if (shutdown(c->fd, SHUT_WR) < 0)
                kc_fail("shutdown", i, errno);
            c->shut = true;
        }
        char buf[64];
        ssize_t n = recv(c->fd, c->echoed ? buf : c->back + c->got,
                         c->echoed ? sizeof(buf) : c->len - c->got, 0);
        if (n < 0 && errno == EAGAIN)
            return false;
        if (n < 0)
            kc_fail("recv", i, errno);
        if (n == 0 && !c->echoed)
            kc_fail("end of stream before the echo", i, 0);
        if (n > 0 && c->echoed)
            kc_fail("bytes after the echo", i, 0);
        if (n == 0) {
            close(c->fd);
            c->closed = true;
            k->ok++;
            return true;
        }
        c->got += (size_t)n;
        if (c->got == c->len) {
            if (memcmp(c->back, c->line, c->len))
                kc_fail("the echo differs from what was sent", i, 0);
            c->echoed = true;
        }
    }
    return true;
}

static void kc_sequential(struct kc *k)
{
    for (unsigned i = 0; i < k->count; i++) {
        kc_open(k, i);
        while (!kc_step(k, i, false)) {
            if (kc_now() > k->deadline)
                kc_fail("timed out", i, 0);
            struct pollfd p = {.fd = k->conns[i].fd, .events = POLLIN | POLLOUT};
            poll(&p, 1, 100);
        }
    }
}

/* Runs every connection until each is echoed (hold) or closed. */
static void kc_run_all(struct kc *k, int ep, bool hold)
{
    unsigned pending = 0;
    for (unsigned i = 0; i < k->count; i++) {
        struct kc_conn *c = &k->conns[i];
        if (!c->closed && !(hold && c->echoed) && !kc_step(k, i, hold) && !(hold && c->echoed))
            pending++;
    }
    struct epoll_event evs[256];
    while (pending) {
        if (kc_now() > k->deadline) {
            fprintf(stderr, "kconns: timed out with %u connections unfinished\n", pending);
            exit(1);
        }
        int n = epoll_wait(ep, evs, 256, 100);
        for (int e = 0; e < n; e++) {
            unsigned i = evs[e].data.u32;
            struct kc_conn *c = &k->conns[i];
            if (c->closed || (hold && c->echoed))
                continue;
            if (kc_step(k, i, hold) || (hold && c->echoed))
                pending--;
        }
    }
}

static void kc_concurrent(struct kc *k)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    for (unsigned i = 0; i < k->count; i++) {
        kc_open(k, i);
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = i};
        epoll_ctl(ep, EPOLL_CTL_ADD, k->conns[i].fd, &ev);
    }
    kc_run_all(k, ep, true);
    printf("holding %u\n", k->count);
    fflush(stdout);
    struct timespec ts = {(time_t)k->hold, 0};
    nanosleep(&ts, NULL);
    kc_run_all(k, ep, false);
    close(ep);
}

int main(int argc, char **argv)
{
    struct kc k;
    memset(&k, 0, sizeof(k));
    kc_parse(argc, argv, &k);
    k.conns = calloc(k.count, sizeof(*k.conns));
    if (!k.conns)
        return 1;
    double t0 = kc_now();
    if (k.syn_only) {
        for (unsigned i = 0; i < k.count; i++)
            kc_open(&k, i);
        struct timespec ts = {(time_t)k.hold, 0};
        nanosleep(&ts, NULL);
        printf("syns=%u held=%.0f\n", k.count, k.hold);
        for (unsigned i = 0; i < k.count; i++)
            close(k.conns[i].fd);
        free(k.conns);
        return 0;
    }
    if (k.concurrent)
        kc_concurrent(&k);
    else
        kc_sequential(&k);
    printf("connections=%u ok=%u secs=%.3f\n", k.count, k.ok, kc_now() - t0);
    free(k.conns);
    return k.ok == k.count ? 0 : 1;
}
