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

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "af_packet.h"
#include "config.h"
#include "device.h"
#include "pcap_tap.h"
#include "tcpcore/stack.h"
#include "tun.h"

struct dmn;

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
    uint8_t scratch[65536]; /* bytes read to be dropped, bytes of a stream to send */
    struct tcpc_afp afp;    /* the device when conf.af_packet */
    struct tcpc_tun tun;    /* otherwise; last: it holds a 64 KB receive buffer */
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
void dmn_loop_free(struct dmn *d);

/* listener.c: one IPv4 and one IPv6 listener per service. */
int dmn_listeners_open(struct dmn *d, char *why);
void dmn_listeners_close(struct dmn *d);
/* The configured RFC 2385 keys (--md5-key) of one family on socket sd, a
 * listener or a forward's connection to its backend; 0 or a negative errno. */
int dmn_set_md5_keys(struct dmn *d, int sd, bool v4);

#endif
