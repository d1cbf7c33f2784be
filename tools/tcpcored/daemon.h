/*
 * The daemon's shared state and the pieces every module uses: tasks (one
 * per object that reacts to stack events: a listener or a connection),
 * watches (one per descriptor in the epoll set), and the connection base.
 *
 * Flow of one loop turn (loop.c): epoll wakes for the device (TUN or
 * AF_PACKET, device.h), the timer
 * (armed at the stack's next deadline), a signal, the control socket or a
 * kernel socket of a forward; the stack runs; stack events and kernel
 * socket readiness queue tasks; the queued tasks run; finished connections
 * are freed last, so nothing queued ever points to freed memory; what the
 * turn queued on the device is sent.
 */
#ifndef TCPCORED_DAEMON_H
#define TCPCORED_DAEMON_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "af_packet.h"
#include "config.h"
#include "device.h"
#include "fanout.h"
#include "pcap_tap.h"
#include "tcpcore/group.h"
#include "tcpcore/stack.h"
#include "tun.h"

struct dmn;

/*
 * The workers of the daemon (workers.c): with -j N, N threads, each with
 * its own struct dmn (stack, device queue, event loop, listeners and
 * connections), pinned to CPU i mod ncpus, the stacks members of one
 * connection group under the ownership rule of io/fanout.h. Worker 0 runs
 * on the main thread and alone takes the signals and the control socket.
 * With -j 1 there is one worker, no group and no other thread: the daemon
 * as it always was.
 */
struct dmn_host {
    unsigned n;
    struct dmn *w[DMN_MAX_JOBS];
    pthread_t th[DMN_MAX_JOBS];
    struct tcpc_group *group;         /* NULL with -j 1 */
    struct tcpc_afp_fanout_rule rule; /* who owns which packet (n > 1) */
    pthread_mutex_t pcap_mu;          /* the one capture file of every worker */
};

/* Something that reacts when its sockets become ready. */
struct dmn_task {
    void (*step)(struct dmn_task *t);
    struct dmn_task *next_ready;
    bool queued, dead;
};

/* A descriptor in the epoll set. */
struct dmn_watch {
    int fd;
    void (*fn)(struct dmn_watch *w, uint32_t events);
};

/* What every accepted connection has; services embed it first. */
struct dmn_conn {
    struct dmn_task task;
    struct dmn *d;
    const struct dmn_service_conf *svc;
    int sd;                            /* the accepted tcpcore socket */
    bool eof, shut_wr, stopping;       /* peer's FIN read; our FIN queued; shutdown asked */
    void (*stop)(struct dmn_conn *c);  /* the daemon is shutting down */
    void (*abort)(struct dmn_conn *c); /* grace is over: reset and release */
    struct dmn_conn *prev, *next;      /* live connections */
};

struct dmn_listener {
    struct dmn_task task;
    struct dmn *d;
    const struct dmn_service_conf *svc;
    int sd;
    bool v4;
};

struct dmn_control;

struct dmn {
    struct dmn_config conf;
    struct tcpc_stack *stack;
    struct tcpc_pcap *pcap;
    int epfd, timerfd, sigfd;
    tcpc_time_t armed, started, last_flush;
    struct dmn_watch dev_watch, timer_watch, sig_watch;
    struct dmn_task **tasks; /* by tcpcore descriptor */
    unsigned ntasks;
    struct dmn_task *ready_head, *ready_tail;
    struct dmn_conn *graveyard;
    struct dmn_conn *conns;
    unsigned nconns;
    uint64_t accepted;
    struct dmn_listener listeners[2 * DMN_MAX_SERVICES];
    unsigned nlisteners;
    struct dmn_control *control;
    bool stopping;
    int stop_signal;
    tcpc_time_t stop_deadline;
    int exit_code;
    /* Workers (-j): the host, this one's index and CPU, and what the others
     * use to reach it: an eventfd in its epoll set (a group hand-off, a
     * stop), the stop asked for, and the lock it holds while it runs a
     * loop turn (worker 0 takes it to read this stack for a report). */
    struct dmn_host *host;
    unsigned worker;
    int cpu;
    int wakefd;
    struct dmn_watch wake_watch;
    atomic_int stop_req;
    pthread_mutex_t mu;
    atomic_bool lock_wanted; /* worker 0 waits for mu (dmn_worker_borrow) */
    uint8_t scratch[65536];  /* bytes read to be dropped, bytes of a stream to send */
    struct tcpc_afp afp;     /* the device when conf.af_packet */
    struct tcpc_tun tun;     /* otherwise; last: it holds a 64 KB receive buffer */
};

/* task.c: stack events to tasks, the ready queue, connection lifetime. */
int dmn_tasks_init(struct dmn *d);
void dmn_tasks_free(struct dmn *d);
void dmn_task_map(struct dmn *d, int sd, struct dmn_task *t);
void dmn_task_unmap(struct dmn *d, int sd);
void dmn_task_ready(struct dmn *d, struct dmn_task *t);
void dmn_run_ready(struct dmn *d);
/* A zeroed connection of `size` bytes (a service's struct), mapped to sd and
 * queued once so that it looks at what is already there. NULL: no memory. */
struct dmn_conn *dmn_conn_new(struct dmn *d, size_t size, const struct dmn_service_conf *svc,
                              int sd, void (*step)(struct dmn_task *t));
/* Unmaps the connection (its sockets must be closed or handed to the
 * stack); it is freed at the end of the loop turn. */
void dmn_conn_release(struct dmn_conn *c);
void dmn_free_released(struct dmn *d);

/* loop.c: epoll, timer, signals. */
int dmn_loop_init(struct dmn *d, char *why);
int dmn_watch_add(struct dmn *d, struct dmn_watch *w, uint32_t events);
void dmn_watch_del(struct dmn *d, struct dmn_watch *w);
/* Runs until a signal's shutdown is complete; returns the exit status. */
int dmn_loop_run(struct dmn *d);
/* Starts the shutdown after signal sig: listeners close, connections are
 * asked to finish. */
void dmn_loop_stop(struct dmn *d, int sig);
void dmn_loop_free(struct dmn *d);

/* workers.c: the -j workers. */
/* Makes workers 1..n-1 beside d (worker 0), their group and rule: an exit
 * status. */
int dmn_workers_new(struct dmn_host *h, struct dmn *d, char *why);
/* Worker i's stack configuration: the daemon's settings, and with -j > 1
 * its group membership and the ownership rule. An exit status. */
int dmn_worker_config(struct dmn_host *h, unsigned i, struct tcpc_config *cfg, char *why);
/* Opens every service's listeners in every worker. The one place that
 * does: listeners shared by a group would replace it. */
int workers_open_listeners(struct dmn_host *h, char *why);
/* The per-worker parts of the event loop (the wake eventfd). */
int dmn_worker_loop_init(struct dmn *d, char *why);
/* Runs every worker until each has shut down; worker 0 on this thread.
 * The exit status: the first failure, else 0. */
int dmn_workers_run(struct dmn_host *h);
/* Asks every other worker to shut down as after signal sig. */
void dmn_workers_stop(struct dmn *from, int sig);
/* The capture file's lock around tcpc_pcap_tap, as a tap of any worker. */
void dmn_pcap_tap_locked(void *ctx, char dir, tcpc_time_t now, const uint8_t *pkt, size_t len);
/* Flushes the capture file (worker 0), under its lock with -j > 1. */
void dmn_pcap_flush(struct dmn *d);
/* Worker i's own lock, held by worker i for each loop turn but its sleep. */
void dmn_worker_lock(struct dmn_host *h, unsigned i);
/* Worker 0 takes worker i's lock (for a report). */
void dmn_worker_borrow(struct dmn_host *h, unsigned i);
/* Worker d takes its own lock back after its sleep, after any borrower. */
void dmn_worker_relock(struct dmn *d);
void dmn_worker_unlock(struct dmn_host *h, unsigned i);
/* Frees workers 1..n-1 (after dmn_worker_cleanup of each) and the group. */
void dmn_workers_free(struct dmn_host *h);

/* listener.c: one IPv4 and one IPv6 listener per service. */
int dmn_listeners_open(struct dmn *d, char *why);
/* Worker d's copies of origin's listeners (a group member's copies of the
 * group listeners origin opened); an exit status. */
int dmn_listeners_copy(struct dmn *d, const struct dmn *origin, char *why);
void dmn_listeners_close(struct dmn *d);
/* The configured RFC 2385 keys (--md5-key) of one family on socket sd, a
 * listener or a forward's connection to its backend; 0 or a negative errno. */
int dmn_set_md5_keys(struct dmn *d, int sd, bool v4);

#endif
