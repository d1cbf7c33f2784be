/*
 * The daemon's workers (-j N); see daemon.h.
 *
 * Each worker is a whole daemon of one stack: its own device queue (a
 * socket of the AF_PACKET fanout group, or a queue of the multiqueue TUN
 * device), event loop, listeners and connections. The stacks are the
 * members of one connection group, so they share secrets and tunables,
 * and take the ownership rule of io/fanout.h: an active open takes a port
 * whose replies the host steers to it, and a segment that reaches the
 * wrong member anyway goes to its owner through the group's queue. The
 * owner is woken by its eventfd (the group's wake callback).
 *
 * Threads meet only there, in the stop request (an atomic and the same
 * eventfd), in the capture file (a mutex) and in reports: worker 0 answers
 * the control socket, and reads another worker's stack under that worker's
 * lock, which the worker holds for every loop turn but its sleep.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon.h"
#include "exitcodes.h"

#define WHY(...) (snprintf(why, DMN_WHY_LEN, __VA_ARGS__))

/* The group's wake callback: member has packets handed to it. */
static void wake_member(void *ctx, unsigned member)
{
    struct dmn_host *h = ctx;
    uint64_t one = 1;
    /* A full counter (never, in practice) still leaves the worker woken. */
    if (write(h->w[member]->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        perror("tcpcored: wake a worker");
}

/* The n-th CPU this process may run on, wrapping: worker i goes to the
 * (i mod count)-th allowed CPU. */
static int worker_cpu(unsigned i)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) != 0)
        return -1;
    int count = CPU_COUNT(&set);
    if (count <= 0)
        return -1;
    int want = (int)(i % (unsigned)count);
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set) && want-- == 0)
            return cpu;
    return -1;
}

static struct dmn *worker_alloc(const struct dmn *d0, unsigned i)
{
    struct dmn *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->conf = d0->conf;
    d->epfd = d->timerfd = d->sigfd = -1;
    d->tun.fd = d->afp.fd = -1;
    d->worker = i;
    return d;
}

int dmn_workers_new(struct dmn_host *h, struct dmn *d, char *why)
{
    h->n = d->conf.jobs;
    h->w[0] = d;
    d->host = h;
    d->wakefd = -1;
    d->cpu = -1;
    if (h->n == 1)
        return DMN_EXIT_OK;
    for (unsigned i = 1; i < h->n; i++) {
        if (!(h->w[i] = worker_alloc(d, i))) {
            WHY("out of memory for worker %u", i);
            return DMN_EXIT_RUNTIME;
        }
        h->w[i]->host = h;
    }
    pthread_mutex_init(&h->pcap_mu, NULL);
    for (unsigned i = 0; i < h->n; i++) {
        struct dmn *w = h->w[i];
        pthread_mutex_init(&w->mu, NULL);
        atomic_init(&w->stop_req, 0);
        w->cpu = worker_cpu(i);
        w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (w->wakefd < 0) {
            WHY("cannot make worker %u's eventfd: %s", i, strerror(errno));
            return DMN_EXIT_RUNTIME;
        }
    }
    if (tcpc_group_new(h->n, &h->group) != 0) {
        WHY("out of memory for the stacks' group");
        return DMN_EXIT_RUNTIME;
    }
    tcpc_group_set_wake(h->group, wake_member, h);
    return DMN_EXIT_OK;
}

int dmn_worker_config(struct dmn_host *h, unsigned i, struct tcpc_config *cfg, char *why)
{
    int rc = dmn_config_stack(&h->w[i]->conf, cfg, why);
    if (rc || h->n == 1)
        return rc;
    /* The ephemeral range is the daemon's, the same in every worker. */
    if (i == 0 && tcpc_afp_fanout_rule_init(&h->rule, h->n, cfg) != 0) {
        WHY("-j %u: the ownership rule refuses this many workers", h->n);
        return DMN_EXIT_BAD_SETTING;
    }
    tcpc_config_set_group(cfg, h->group, i); /* i < n: cannot fail */
    tcpc_config_set_owner(cfg, tcpc_afp_fanout_member, &h->rule);
    return DMN_EXIT_OK;
}

int workers_open_listeners(struct dmn_host *h, char *why)
{
    /* Worker 0 listens; in a group each listener is then open on every
     * member, and the others take their copies. This runs before the
     * worker threads start, so each stack is still the main thread's. */
    int rc = dmn_listeners_open(h->w[0], why);
    for (unsigned i = 1; i < h->n && !rc; i++)
        rc = dmn_listeners_copy(h->w[i], h->w[0], why);
    return rc;
}

static void begin_stop_requested(struct dmn *d)
{
    int sig = atomic_exchange(&d->stop_req, 0);
    if (sig)
        dmn_loop_stop(d, sig);
}

static void on_wake(struct dmn_watch *w, uint32_t events)
{
    struct dmn *d = (struct dmn *)((char *)w - offsetof(struct dmn, wake_watch));
    uint64_t n;
    (void)events;
    /* The hand-off itself is taken by the loop's tcpc_advance. */
    if (read(w->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
        perror("tcpcored: worker eventfd");
    begin_stop_requested(d);
}

int dmn_worker_loop_init(struct dmn *d, char *why)
{
    if (d->wakefd < 0)
        return 0;
    d->wake_watch = (struct dmn_watch){.fd = d->wakefd, .fn = on_wake};
    int err = dmn_watch_add(d, &d->wake_watch, EPOLLIN);
    if (err)
        WHY("cannot set up worker %u's event loop: %s", d->worker, strerror(-err));
    return err;
}

void dmn_workers_stop(struct dmn *from, int sig)
{
    struct dmn_host *h = from->host;
    for (unsigned i = 0; h && i < h->n; i++) {
        struct dmn *w = h->w[i];
        if (w == from)
            continue;
        atomic_store(&w->stop_req, sig);
        uint64_t one = 1;
        if (write(w->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            perror("tcpcored: stop a worker");
    }
}

static void pin(struct dmn *d)
{
    if (d->cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(d->cpu, &set);
    int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
    if (err)
        fprintf(stderr, "tcpcored: warning: worker %u not pinned to CPU %d: %s\n", d->worker,
                d->cpu, strerror(err));
}

/* One worker's loop; a failure stops the others too. */
static void *worker_main(void *arg)
{
    struct dmn *d = arg;
    pin(d);
    d->exit_code = dmn_loop_run(d);
    if (!d->stop_signal)
        dmn_workers_stop(d, SIGTERM);
    return NULL;
}

int dmn_workers_run(struct dmn_host *h)
{
    if (h->n == 1)
        return dmn_loop_run(h->w[0]);
    unsigned started = 1;
    for (; started < h->n; started++) {
        int err = pthread_create(&h->th[started], NULL, worker_main, h->w[started]);
        if (err) {
            fprintf(stderr, "tcpcored: cannot start worker %u: %s\n", started, strerror(err));
            h->w[0]->exit_code = DMN_EXIT_RUNTIME;
            break;
        }
    }
    if (started == h->n)
        worker_main(h->w[0]);
    else
        dmn_workers_stop(h->w[0], SIGTERM);
    int rc = h->w[0]->exit_code;
    for (unsigned i = 1; i < started; i++) {
        pthread_join(h->th[i], NULL);
        if (!rc)
            rc = h->w[i]->exit_code;
    }
    return rc;
}

void dmn_pcap_tap_locked(void *ctx, char dir, tcpc_time_t now, const uint8_t *pkt, size_t len)
{
    struct dmn_host *h = ctx;
    pthread_mutex_lock(&h->pcap_mu);
    tcpc_pcap_tap(h->w[0]->pcap, dir, now, pkt, len);
    pthread_mutex_unlock(&h->pcap_mu);
}

void dmn_pcap_flush(struct dmn *d)
{
    if (d->host->n > 1)
        pthread_mutex_lock(&d->host->pcap_mu);
    tcpc_pcap_flush(d->pcap);
    if (d->host->n > 1)
        pthread_mutex_unlock(&d->host->pcap_mu);
}

void dmn_worker_lock(struct dmn_host *h, unsigned i)
{
    if (h->n > 1)
        pthread_mutex_lock(&h->w[i]->mu);
}

/* Worker i holds its lock for all of a turn and takes it back as soon as
 * it wakes; mutexes are not fair, so a busy worker could win it every time
 * and keep worker 0's report (and with it SIGTERM) waiting for good. The
 * flag makes it wait for its lock until worker 0 has it. */
void dmn_worker_borrow(struct dmn_host *h, unsigned i)
{
    atomic_store(&h->w[i]->lock_wanted, true);
    pthread_mutex_lock(&h->w[i]->mu);
    atomic_store(&h->w[i]->lock_wanted, false);
}

void dmn_worker_relock(struct dmn *d)
{
    if (d->host->n <= 1)
        return;
    while (atomic_load_explicit(&d->lock_wanted, memory_order_relaxed))
        sched_yield();
    pthread_mutex_lock(&d->mu);
}

void dmn_worker_unlock(struct dmn_host *h, unsigned i)
{
    if (h->n > 1)
        pthread_mutex_unlock(&h->w[i]->mu);
}

void dmn_workers_free(struct dmn_host *h)
{
    for (unsigned i = 0; i < h->n; i++) {
        struct dmn *w = h->w[i];
        if (!w)
            continue;
        if (w->wakefd >= 0)
            close(w->wakefd);
        if (h->n > 1)
            pthread_mutex_destroy(&w->mu);
        if (i > 0)
            free(w);
    }
    if (h->n > 1)
        pthread_mutex_destroy(&h->pcap_mu);
    tcpc_group_del(h->group); /* NULL with -j 1, or when never made */
}
