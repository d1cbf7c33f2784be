/*
 * The event loop: one epoll set holding the device, a timerfd armed at
 * the stack's next deadline (so the daemon sleeps exactly until a timer is
 * due, with microsecond precision), a signalfd for SIGTERM/SIGINT, the
 * control socket and the kernel sockets of forward connections.
 *
 * A signal starts the shutdown: listeners close, every connection is asked
 * to finish (stop), and the loop goes on until the stack holds nothing but
 * TIME_WAIT entries or the grace time is over, when what is left is reset.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "control.h"
#include "daemon.h"
#include "tcpcore/listing.h"

#define LOOP_EVENTS 256
#define FLUSH_EVERY (200 * TCPC_USEC_PER_MSEC)

int dmn_watch_add(struct dmn *d, struct dmn_watch *w, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = w};
    return epoll_ctl(d->epfd, EPOLL_CTL_ADD, w->fd, &ev) == 0 ? 0 : -errno;
}

void dmn_watch_del(struct dmn *d, struct dmn_watch *w)
{
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

static void on_device(struct dmn_watch *w, uint32_t events)
{
    struct dmn *d = (struct dmn *)((char *)w - offsetof(struct dmn, dev_watch));
    if (events & (EPOLLERR | EPOLLHUP)) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        fprintf(stderr, "tcpcored: the device %s failed (events %#x): %s\n", d->conf.device, events,
                strerror(err));
        d->exit_code = 1;
        d->stopping = true;
        return;
    }
    /* More may be waiting past the batch: level-triggered epoll says so. */
    if (dmn_device_input(d) < 0) {
        d->exit_code = 1;
        d->stopping = true;
    }
}

static void on_timer(struct dmn_watch *w, uint32_t events)
{
    uint64_t ticks;
    (void)events;
    if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
        perror("tcpcored: timerfd");
}

static void on_signal(struct dmn_watch *w, uint32_t events)
{
    struct dmn *d = (struct dmn *)((char *)w - offsetof(struct dmn, sig_watch));
    struct signalfd_siginfo si;
    (void)events;
    while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        dmn_loop_stop(d, (int)si.ssi_signo);
        dmn_workers_stop(d, (int)si.ssi_signo);
    }
}

int dmn_loop_init(struct dmn *d, char *why)
{
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    /* Blocked in every thread (the workers start after this); worker 0
     * alone reads them and tells the others. */
    sigprocmask(SIG_BLOCK, &set, NULL);
    if (d->worker == 0)
        d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN); /* a kernel peer that went away is an EPIPE */
    if (d->epfd < 0 || d->timerfd < 0 || (d->worker == 0 && d->sigfd < 0)) {
        snprintf(why, DMN_WHY_LEN, "cannot set up the event loop: %s", strerror(errno));
        return -errno;
    }
    d->dev_watch = (struct dmn_watch){.fd = dmn_device_fd(d), .fn = on_device};
    d->timer_watch = (struct dmn_watch){.fd = d->timerfd, .fn = on_timer};
    d->sig_watch = (struct dmn_watch){.fd = d->sigfd, .fn = on_signal};
    int err = dmn_watch_add(d, &d->dev_watch, EPOLLIN);
    if (!err)
        err = dmn_watch_add(d, &d->timer_watch, EPOLLIN);
    if (!err && d->sigfd >= 0)
        err = dmn_watch_add(d, &d->sig_watch, EPOLLIN);
    if (err)
        snprintf(why, DMN_WHY_LEN, "cannot set up the event loop: %s", strerror(-err));
    d->armed = TCPC_TIME_NEVER;
    return err ? err : dmn_worker_loop_init(d, why);
}

void dmn_loop_free(struct dmn *d)
{
    if (d->epfd >= 0)
        close(d->epfd);
    if (d->timerfd >= 0)
        close(d->timerfd);
    if (d->sigfd >= 0)
        close(d->sigfd);
}

/* Arms the timer for the earliest of the stack's deadline and, while
 * stopping, the end of the grace time. */
static void arm_timer(struct dmn *d)
{
    tcpc_time_t when = tcpc_next_deadline(d->stack);
    if (d->stopping && d->stop_deadline < when)
        when = d->stop_deadline;
    if (d->pcap && d->last_flush + FLUSH_EVERY < when)
        when = d->last_flush + FLUSH_EVERY;
    if (when == d->armed)
        return;
    d->armed = when;
    struct itimerspec its = {{0, 0}, {0, 0}};
    if (when != TCPC_TIME_NEVER) {
        /* 0 would disarm: a deadline already past fires at once. */
        tcpc_time_t t = when ? when : 1;
        its.it_value.tv_sec = (time_t)(t / TCPC_USEC_PER_SEC);
        its.it_value.tv_nsec = (long)(t % TCPC_USEC_PER_SEC) * 1000;
    }
    timerfd_settime(d->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

void dmn_loop_stop(struct dmn *d, int sig)
{
    if (d->stopping && d->stop_signal)
        return;
    if (d->host && d->host->n > 1)
        fprintf(stderr, "tcpcored: worker %u: %s: closing %u connection%s\n", d->worker,
                strsignal(sig), d->nconns, d->nconns == 1 ? "" : "s");
    else
        fprintf(stderr, "tcpcored: %s: closing %u connection%s\n", strsignal(sig), d->nconns,
                d->nconns == 1 ? "" : "s");
    d->stop_signal = sig;
    d->stopping = true;
    d->stop_deadline = tcpc_tun_now() + (tcpc_time_t)d->conf.grace_ms * TCPC_USEC_PER_MSEC;
    dmn_listeners_close(d);
    for (struct dmn_conn *c = d->conns; c; c = c->next)
        c->stop(c);
}

/* Is anything but TIME_WAIT left in the stack? */
static int busy_conn(void *ctx, const struct tcpc_conninfo *ci)
{
    (void)ctx;
    return strcmp(tcpc_state_name(ci->state), "TIME_WAIT") != 0;
}

static bool stop_done(struct dmn *d)
{
    if (d->nconns == 0 && tcpc_list_connections(d->stack, busy_conn, NULL) == 0)
        return true;
    if (tcpc_tun_now() < d->stop_deadline)
        return false;
    if (d->nconns)
        fprintf(stderr, "tcpcored: grace time over, resetting %u connection%s\n", d->nconns,
                d->nconns == 1 ? "" : "s");
    while (d->conns)
        d->conns->abort(d->conns);
    return true;
}

/* One turn: what woke the loop, the stack's timers and hand-offs, the
 * tasks. Returns true when the loop is over, with d->exit_code set. */
static bool loop_turn(struct dmn *d, struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        struct dmn_watch *w = evs[i].data.ptr;
        w->fn(w, evs[i].events);
    }
    tcpc_time_t now = tcpc_tun_now();
    /* Timers, and what other workers handed this one. */
    tcpc_advance(d->stack, now);
    dmn_run_ready(d);
    dmn_free_released(d);
    /* One kick for everything this turn queued on an AF_PACKET ring. */
    dmn_device_flush(d);
    if (d->pcap && now >= d->last_flush + FLUSH_EVERY) {
        dmn_pcap_flush(d);
        d->last_flush = now;
    }
    if (d->stopping && !d->stop_signal) /* a device failure */
        return true;
    if (d->stopping && stop_done(d)) {
        dmn_run_ready(d);
        dmn_free_released(d);
        dmn_device_flush(d);
        return true;
    }
    return false;
}

int dmn_loop_run(struct dmn *d)
{
    struct epoll_event evs[LOOP_EVENTS];
    /* The worker's lock is held but while it sleeps: worker 0 reads this
     * stack for a report only then. */
    dmn_worker_lock(d->host, d->worker);
    for (;;) {
        arm_timer(d);
        dmn_worker_unlock(d->host, d->worker);
        int n = epoll_wait(d->epfd, evs, LOOP_EVENTS, -1);
        int err = errno;
        dmn_worker_relock(d);
        if (n < 0 && err != EINTR) {
            errno = err;
            perror("tcpcored: epoll_wait");
            dmn_worker_unlock(d->host, d->worker);
            return 1;
        }
        if (loop_turn(d, evs, n)) {
            dmn_worker_unlock(d->host, d->worker);
            return d->exit_code;
        }
    }
}
