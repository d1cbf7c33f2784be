/*
 * libtcpcore_packetdrill.so: packetdrill's shared-object interface
 * (packetdrill.h, extended by ../shared/conformance's so-interface.patch)
 * over one tcpcore stack.
 *
 * The stack runs in IP mode: packetdrill hands whole IP packets to
 * netdev_send and reads whole IP packets from netdev_receive. Time is
 * virtual: it moves only when packetdrill sleeps (usleep), and when
 * packetdrill waits for an outbound packet it jumps to the stack's next
 * deadline, so a 3-second retransmission takes no wall time.
 *
 * packetdrill calls from two threads: its main thread (packets, time,
 * non-blocking calls) and a system-call thread for the calls a script
 * expects to block. One mutex guards the stack (which is single-threaded);
 * a blocking call waits on a condition variable that every change of the
 * stack (a packet in, time moving, a socket call) broadcasts, and re-checks
 * its socket. Every call returns -1 with errno set, as the libc calls it
 * replaces; tcpcore's errors are already the host's errno values.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sock_diag.h>
#include <sys/ioctl.h>
#include <time.h>

#include "packetdrill.h"
#include "pd_command.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "tcpcore/sysctl.h"

/* The virtual clock starts here (a plausible wall-clock time, in µs). */
#define PD_EPOCH ((tcpc_time_t)1700000000 * TCPC_USEC_PER_SEC)
/* packetdrill's FreeBSD-only options, as its patched symbol table numbers them. */
#define PD_TCP_KEEPINIT (0x10000 + 128)
#define PD_TCP_NOOPT    (0x10000 + 8)
/* TCP_CONGESTION names, terminator included (Linux's TCP_CA_NAME_MAX). */
#define PD_CC_NAME_MAX 16
/* How long packetdrill's main thread lets the system-call thread settle
 * (real time) before moving virtual time on. */
/* What one gettimeofday moves the clock by, in µs. */
#define PD_TICK        1
#define PD_SETTLE_NSEC 2000000L
#define PD_SETTLE_MAX  500

struct pd_packet {
    struct pd_packet *next;
    tcpc_time_t time;
    size_t len;
    uint8_t data[];
};

struct pd_sock {
    bool open;
    bool nonblock;
    int family; /* AF_INET or AF_INET6 */
};

struct pd {
    pthread_mutex_t lock;
    pthread_cond_t changed; /* the stack may have changed: re-check */
    pthread_cond_t settled; /* a thread inside the object started waiting or left */
    struct tcpc_stack *stack;
    tcpc_time_t now;
    uint64_t generation; /* bumped by every change */
    int waiting;         /* threads waiting for the current generation to pass */
    int inside;          /* threads inside a blocking call */
    /* System-call threads back from a blocking wait that have not read the
     * clock yet: packetdrill times the call's return by that reading. */
    int returning;
    pthread_t main_thread;
    struct pd_packet *head, **tail;
    struct pd_sock *socks;
    int nsocks;
};

/* ---- locking, change notification and waiting ---- */

static void pd_lock(struct pd *pd)
{
    pthread_mutex_lock(&pd->lock);
}

/* Wakes every waiter to re-check its condition, then unlocks. */
static void pd_unlock_changed(struct pd *pd)
{
    pd->generation++;
    pd->waiting = 0;
    pthread_cond_broadcast(&pd->changed);
    pthread_cond_broadcast(&pd->settled);
    pthread_mutex_unlock(&pd->lock);
}

static bool pd_on_main_thread(const struct pd *pd)
{
    return pthread_equal(pthread_self(), pd->main_thread);
}

/*
 * Before the main thread moves time on, lets a system-call thread that was
 * just woken finish its step (send its data, or wait again, or return and
 * read the clock), so that its packets and its return carry the time they
 * were due at. Bounded in real time.
 */
static void pd_settle(struct pd *pd)
{
    for (int i = 0; i < PD_SETTLE_MAX && (pd->inside > pd->waiting || pd->returning > 0); i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += PD_SETTLE_NSEC;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pd->settled, &pd->lock, &ts);
    }
    pd->returning = 0; /* a thread that never read the clock is not waited for twice */
}

/* Lets the system-call threads see what the last step changed and settle
 * at its time (main thread only, outside a blocking call of its own). */
static void pd_wake_settle(struct pd *pd)
{
    if (pd->inside == 0)
        return;
    pd->generation++;
    pd->waiting = 0;
    pthread_cond_broadcast(&pd->changed);
    pd_settle(pd);
}

/* Runs every timer due up to t, in deadline order, and sets the clock to
 * t. With wake, a blocked call that a deadline ends (TCP_KEEPINIT, a
 * retransmission limit) returns at that deadline, not at t. */
static void pd_advance_to(struct pd *pd, tcpc_time_t t, bool wake)
{
    for (int guard = 0; guard < 100000; guard++) {
        tcpc_time_t d = tcpc_next_deadline(pd->stack);
        if (d > t)
            break;
        if (d > pd->now)
            pd->now = d;
        tcpc_advance(pd->stack, pd->now);
        if (tcpc_next_deadline(pd->stack) <= pd->now && d <= pd->now)
            tcpc_advance(pd->stack, pd->now); /* an early deadline: once more */
        if (wake)
            pd_wake_settle(pd);
        if (tcpc_next_deadline(pd->stack) <= d)
            break;
    }
    if (t > pd->now)
        pd->now = t;
    tcpc_advance(pd->stack, pd->now);
}

/*
 * Waits (lock held) until something changes. Off the main thread, another
 * thread brings the change. On the main thread nobody else can, so the
 * clock moves itself to the stack's next deadline (or to `until`); returns
 * -1 when nothing can ever change (no deadline, no limit).
 */
static int pd_wait(struct pd *pd, tcpc_time_t until)
{
    if (pd_on_main_thread(pd)) {
        tcpc_time_t d = tcpc_next_deadline(pd->stack);
        if (until < d)
            d = until;
        if (d == TCPC_TIME_NEVER)
            return -1;
        pd_advance_to(pd, d > pd->now ? d : pd->now, false);
        pd->generation++;
        return 0;
    }
    uint64_t gen = pd->generation;
    pd->waiting++;
    pthread_cond_broadcast(&pd->settled);
    while (gen == pd->generation)
        pthread_cond_wait(&pd->changed, &pd->lock);
    return 0;
}

static int pd_fail(int err)
{
    errno = err;
    return -1;
}

/* ---- descriptors ---- */

static struct pd_sock *pd_sock(struct pd *pd, int fd)
{
    if (fd < 0 || fd >= pd->nsocks || !pd->socks[fd].open)
        return NULL;
    return &pd->socks[fd];
}

static int pd_sock_add(struct pd *pd, int sd, int family, bool nonblock)
{
    if (sd >= pd->nsocks) {
        int n = sd * 2 + 16;
        struct pd_sock *s = realloc(pd->socks, (size_t)n * sizeof(*s));
        if (!s)
            return -ENOMEM;
        memset(s + pd->nsocks, 0, (size_t)(n - pd->nsocks) * sizeof(*s));
        pd->socks = s;
        pd->nsocks = n;
    }
    pd->socks[sd] = (struct pd_sock){.open = true, .nonblock = nonblock, .family = family};
    return sd;
}

/* ---- addresses ---- */

static int pd_from_sockaddr(const struct pd_sock *s, const struct sockaddr *sa, socklen_t len,
                            struct tcpc_addr *addr, uint16_t *port)
{
    if (!sa)
        return -EFAULT;
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        if (s->family != AF_INET)
            return -EAFNOSUPPORT;
        *addr = tcpc_addr_v4(ntohl(sin->sin_addr.s_addr));
        *port = ntohs(sin->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        if (s->family != AF_INET6)
            return -EAFNOSUPPORT;
        /* A v4-mapped address is tcpcore's own IPv4 form: no conversion. */
        *addr = tcpc_addr_v6(sin6->sin6_addr.s6_addr);
        *port = ntohs(sin6->sin6_port);
        return 0;
    }
    return s->family == AF_INET6 && sa->sa_family == AF_INET ? -EAFNOSUPPORT : -EINVAL;
}

/* The address a call names for socket fd: 0, -EBADF or the address's error. */
static int pd_sock_addr(struct pd *pd, int fd, const struct sockaddr *sa, socklen_t len,
                        struct tcpc_addr *addr, uint16_t *port)
{
    const struct pd_sock *s = pd_sock(pd, fd);
    return s ? pd_from_sockaddr(s, sa, len, addr, port) : -EBADF;
}

static void pd_to_sockaddr(int family, const struct tcpc_addr *addr, uint16_t port,
                           struct sockaddr *sa, socklen_t *len)
{
    if (!sa || !len)
        return;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t full;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(tcpc_addr_v4_host(addr));
        sin->sin_port = htons(port);
        full = sizeof(*sin);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        memcpy(sin6->sin6_addr.s6_addr, addr->bytes, 16);
        sin6->sin6_port = htons(port);
        full = sizeof(*sin6);
    }
    memcpy(sa, &ss, *len < full ? *len : full);
    *len = full;
}

/* ---- the stack's output and packetdrill's network device ---- */

static int pd_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct pd *pd = ctx;
    struct pd_packet *p = malloc(sizeof(*p) + len);
    if (!p)
        return -ENOBUFS;
    p->next = NULL;
    p->time = pd->now;
    p->len = len;
    memcpy(p->data, pkt, len);
    *pd->tail = p;
    pd->tail = &p->next;
    return 0;
}

static int pd_netdev_send(void *ud, const void *buf, size_t count)
{
    struct pd *pd = ud;
    pd_lock(pd);
    tcpc_input(pd->stack, pd->now, buf, count);
    pd_unlock_changed(pd);
    return 0;
}

/* Takes the oldest emitted packet into buf; false when there is none. */
static bool pd_take_packet(struct pd *pd, void *buf, size_t *count, long long *time_usecs)
{
    struct pd_packet *p = pd->head;
    if (!p)
        return false;
    pd->head = p->next;
    if (!pd->head)
        pd->tail = &pd->head;
    size_t n = p->len < *count ? p->len : *count;
    memcpy(buf, p->data, n);
    *count = n;
    *time_usecs = (long long)p->time;
    free(p);
    return true;
}

/*
 * The next packet the stack sends, moving virtual time from deadline to
 * deadline until one comes or `limit` passes (count 0: timed out).
 */
static int pd_receive_until(struct pd *pd, void *buf, size_t *count, long long *time_usecs,
                            tcpc_time_t limit)
{
    pd_lock(pd);
    for (;;) {
        pd_settle(pd);
        if (pd_take_packet(pd, buf, count, time_usecs))
            break;
        tcpc_time_t d = tcpc_next_deadline(pd->stack);
        if (d > limit) {
            if (limit != TCPC_TIME_NEVER)
                pd_advance_to(pd, limit, true);
            *count = 0;
            break;
        }
        pd_advance_to(pd, d > pd->now ? d : pd->now, true);
        pd->generation++;
        pd->waiting = 0;
        pthread_cond_broadcast(&pd->changed);
    }
    pd_unlock_changed(pd);
    return 0;
}

static int pd_netdev_receive(void *ud, void *buf, size_t *count, long long *time_usecs)
{
    return pd_receive_until(ud, buf, count, time_usecs, TCPC_TIME_NEVER);
}

PD_EXPORT int packetdrill_netdev_receive_timeout(void *ud, void *buf, size_t *count,
                                                 long long *time_usecs, int timeout_secs);
PD_EXPORT int packetdrill_netdev_receive_timeout(void *ud, void *buf, size_t *count,
                                                 long long *time_usecs, int timeout_secs)
{
    struct pd *pd = ud;
    pd_lock(pd);
    tcpc_time_t limit = timeout_secs < 0 ? TCPC_TIME_NEVER
                                         : pd->now + (tcpc_time_t)timeout_secs * TCPC_USEC_PER_SEC;
    pthread_mutex_unlock(&pd->lock);
    return pd_receive_until(pd, buf, count, time_usecs, limit);
}

PD_EXPORT int packetdrill_syscall_blocked(void *ud);
PD_EXPORT int packetdrill_syscall_blocked(void *ud)
{
    struct pd *pd = ud;
    pd_lock(pd);
    int blocked = pd->waiting > 0;
    pthread_mutex_unlock(&pd->lock);
    return blocked;
}

PD_EXPORT int packetdrill_run_command(void *ud, const char *command);
PD_EXPORT int packetdrill_run_command(void *ud, const char *command)
{
    struct pd *pd = ud;
    pd_lock(pd);
    int status = pd_command_run(pd->stack, command);
    pd_unlock_changed(pd);
    return status;
}

/* ---- time ---- */

static int pd_usleep(void *ud, useconds_t usec)
{
    struct pd *pd = ud;
    pd_lock(pd);
    pd_settle(pd);
    pd_advance_to(pd, pd->now + usec, true);
    pd_unlock_changed(pd);
    return 0;
}

static int pd_gettimeofday(void *ud, struct timeval *tv, struct timezone *tz)
{
    struct pd *pd = ud;
    (void)tz;
    pd_lock(pd);
    /* Each reading moves the clock a little: packetdrill spins on
     * gettimeofday for the last stretch before an event. */
    bool main = pd_on_main_thread(pd);
    if (!main && pd->returning > 0)
        pd->returning--; /* the return of a blocking call, timed now */
    pd_advance_to(pd, pd->now + PD_TICK, main);
    tv->tv_sec = (time_t)(pd->now / TCPC_USEC_PER_SEC);
    tv->tv_usec = (suseconds_t)(pd->now % TCPC_USEC_PER_SEC);
    pd_unlock_changed(pd);
    return 0;
}

/* ---- socket calls ---- */

/*
 * Runs op until it stops answering -EAGAIN (or always once, for a
 * non-blocking socket), waiting for the stack in between. Lock held.
 */
typedef long (*pd_op_fn)(struct pd *pd, int fd, void *arg);

static long pd_blocking(struct pd *pd, int fd, bool nonblock, pd_op_fn op, void *arg)
{
    long r = op(pd, fd, arg);
    if (nonblock || r != -EAGAIN)
        return r;
    pd->inside++;
    while (r == -EAGAIN) {
        if (pd_wait(pd, TCPC_TIME_NEVER) != 0) {
            fprintf(stderr,
                    "tcpcore-packetdrill: a blocking call on fd %d from packetdrill's "
                    "main thread would wait forever\n",
                    fd);
            break;
        }
        r = op(pd, fd, arg);
    }
    pd->inside--;
    if (!pd_on_main_thread(pd))
        pd->returning++;
    return r;
}

/* Ends a call: the result, or -1 with errno for a negative errno value. */
static long pd_result(struct pd *pd, long r)
{
    pd_unlock_changed(pd);
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

static int pd_socket(void *ud, int domain, int type, int protocol)
{
    struct pd *pd = ud;
    bool nonblock = (type & SOCK_NONBLOCK) != 0;
    type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (domain != AF_INET && domain != AF_INET6)
        return pd_fail(EAFNOSUPPORT);
    if (type != SOCK_STREAM)
        return pd_fail(EPROTOTYPE);
    if (protocol != 0 && protocol != IPPROTO_TCP)
        return pd_fail(EPROTONOSUPPORT);
    pd_lock(pd);
    long r = tcpc_socket(pd->stack, domain == AF_INET ? TCPC_AF_INET : TCPC_AF_INET6);
    if (r >= 0) {
        int a = pd_sock_add(pd, (int)r, domain, nonblock);
        if (a < 0) {
            tcpc_close(pd->stack, (int)r);
            r = a;
        }
    }
    return (int)pd_result(pd, r);
}

static int pd_bind(void *ud, int fd, const struct sockaddr *sa, socklen_t len)
{
    struct pd *pd = ud;
    pd_lock(pd);
    struct tcpc_addr a;
    uint16_t port;
    long r = pd_sock_addr(pd, fd, sa, len, &a, &port);
    if (r == 0)
        r = tcpc_bind(pd->stack, fd, &a, port);
    return (int)pd_result(pd, r);
}

static int pd_listen(void *ud, int fd, int backlog)
{
    struct pd *pd = ud;
    pd_lock(pd);
    long r = pd_sock(pd, fd) ? tcpc_listen(pd->stack, fd, backlog) : -EBADF;
    return (int)pd_result(pd, r);
}

struct pd_accept_arg {
    struct tcpc_addr peer;
    uint16_t port;
};

static long pd_accept_op(struct pd *pd, int fd, void *arg)
{
    struct pd_accept_arg *a = arg;
    return tcpc_accept(pd->stack, fd, &a->peer, &a->port);
}

static int pd_accept(void *ud, int fd, struct sockaddr *sa, socklen_t *len)
{
    struct pd *pd = ud;
    pd_lock(pd);
    struct pd_sock *s = pd_sock(pd, fd);
    if (!s)
        return (int)pd_result(pd, -EBADF);
    struct pd_accept_arg a;
    long r = pd_blocking(pd, fd, s->nonblock, pd_accept_op, &a);
    if (r >= 0) {
        s = pd_sock(pd, fd); /* the table may have moved */
        int family = s ? s->family : AF_INET6;
        /* FreeBSD's accept() hands on the listener's O_NONBLOCK. */
        long k = s ? pd_sock_add(pd, (int)r, family, s->nonblock) : -EBADF;
        if (k < 0) {
            tcpc_close(pd->stack, (int)r);
            r = k;
        } else {
            pd_to_sockaddr(family, &a.peer, a.port, sa, len);
        }
    }
    return (int)pd_result(pd, r);
}

/* Connection outcome for a connect in progress: 0, -EAGAIN while pending,
 * or the error. */
static long pd_connect_op(struct pd *pd, int fd, void *arg)
{
    (void)arg;
    int ev = tcpc_poll(pd->stack, fd);
    if (ev < 0)
        return ev;
    if (ev & TCPC_EV_ERROR) {
        int err = 0;
        tcpc_getsockopt(pd->stack, fd, TCPC_SO_ERROR, &err);
        return err ? -err : -ECONNREFUSED;
    }
    if (ev & (TCPC_EV_WRITABLE | TCPC_EV_HUP | TCPC_EV_READABLE))
        return 0;
    return -EAGAIN;
}

static int pd_connect(void *ud, int fd, const struct sockaddr *sa, socklen_t len)
{
    struct pd *pd = ud;
    pd_lock(pd);
    struct tcpc_addr a;
    uint16_t port;
    long r = pd_sock_addr(pd, fd, sa, len, &a, &port);
    if (r == 0)
        r = tcpc_connect(pd->stack, fd, &a, port);
    if (r == -EINPROGRESS && !pd_sock(pd, fd)->nonblock)
        r = pd_blocking(pd, fd, false, pd_connect_op, NULL);
    return (int)pd_result(pd, r);
}

struct pd_io_arg {
    const struct iovec *iov;
    int iovcnt;
    size_t done; /* bytes moved so far (a blocking write moves them all) */
    bool write;
    bool all;  /* a blocking write, or a read with MSG_WAITALL: move them all */
    bool peek; /* MSG_PEEK: the bytes stay queued */
    int oob;   /* MSG_OOB: TCPC_MSG_OOB, else 0 */
    bool eof;  /* the read met the end of the stream */
};

static size_t pd_iov_total(const struct iovec *iov, int iovcnt)
{
    size_t n = 0;
    for (int i = 0; i < iovcnt; i++)
        n += iov[i].iov_len;
    return n;
}

/* One step of a read or write over an iovec, from a.done onwards. */
static long pd_io_op(struct pd *pd, int fd, void *arg)
{
    struct pd_io_arg *a = arg;
    size_t skip = a->done, total = pd_iov_total(a->iov, a->iovcnt);
    for (int i = 0; i < a->iovcnt; i++) {
        if (skip >= a->iov[i].iov_len) {
            skip -= a->iov[i].iov_len;
            continue;
        }
        char *base = (char *)a->iov[i].iov_base + skip;
        size_t len = a->iov[i].iov_len - skip;
        ssize_t r = a->write ? tcpc_send_flags(pd->stack, fd, base, len, a->oob)
                             : tcpc_recv_flags(pd->stack, fd, base, len,
                                               (a->peek ? TCPC_MSG_PEEK : 0) | a->oob);
        if (r < 0)
            return a->done > 0 && r != -EAGAIN ? (long)a->done : (long)r;
        a->done += (size_t)r;
        if (r == 0 && !a->write)
            a->eof = true;
        if ((size_t)r < len || (!a->write && !a->all))
            break;
        skip = 0;
    }
    if (a->all && a->done < total && !a->eof)
        return -EAGAIN;
    return (long)a->done;
}

static ssize_t pd_io(struct pd *pd, int fd, const struct iovec *iov, int iovcnt, int flags,
                     bool write)
{
    pd_lock(pd);
    struct pd_sock *s = pd_sock(pd, fd);
    if (!s)
        return pd_result(pd, -EBADF);
    int known = MSG_DONTWAIT | MSG_NOSIGNAL | MSG_WAITALL | MSG_OOB | (write ? 0 : MSG_PEEK);
    if (flags & ~known)
        return pd_result(pd, -EOPNOTSUPP);
    int oob = (flags & MSG_OOB) ? TCPC_MSG_OOB : 0;
    /* An out-of-band read never waits, in BSD as in Linux: EWOULDBLOCK
     * while the byte is announced but not there. */
    bool nonblock = s->nonblock || (flags & MSG_DONTWAIT) || (oob && !write);
    bool peek = flags & MSG_PEEK;
    /* A peek cannot wait for all: each try sees the same bytes again. */
    bool all = !nonblock && (write || ((flags & MSG_WAITALL) && !peek));
    struct pd_io_arg a = {
        .iov = iov, .iovcnt = iovcnt, .write = write, .all = all, .peek = peek, .oob = oob};
    if (pd_iov_total(iov, iovcnt) == 0 && !write)
        return pd_result(pd, 0);
    long r = pd_blocking(pd, fd, nonblock, pd_io_op, &a);
    if (r == -EAGAIN && a.done > 0)
        r = (long)a.done;
    return pd_result(pd, r);
}

static ssize_t pd_read(void *ud, int fd, void *buf, size_t count)
{
    struct iovec iov = {.iov_base = buf, .iov_len = count};
    return pd_io(ud, fd, &iov, 1, 0, false);
}

static ssize_t pd_readv(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
    return pd_io(ud, fd, iov, iovcnt, 0, false);
}

static ssize_t pd_recv(void *ud, int fd, void *buf, size_t len, int flags)
{
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    return pd_io(ud, fd, &iov, 1, flags, false);
}

static ssize_t pd_recvfrom(void *ud, int fd, void *buf, size_t len, int flags, struct sockaddr *src,
                           socklen_t *srclen)
{
    ssize_t r = pd_recv(ud, fd, buf, len, flags);
    if (r >= 0 && src && srclen) {
        struct pd *pd = ud;
        struct tcpc_addr a;
        uint16_t port;
        pd_lock(pd);
        struct pd_sock *s = pd_sock(pd, fd);
        if (s && tcpc_getpeername(pd->stack, fd, &a, &port) == 0)
            pd_to_sockaddr(s->family, &a, port, src, srclen);
        pthread_mutex_unlock(&pd->lock);
    }
    return r;
}

static ssize_t pd_recvmsg(void *ud, int fd, struct msghdr *msg, int flags)
{
    msg->msg_controllen = 0;
    msg->msg_flags = 0;
    return pd_io(ud, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, false);
}

static ssize_t pd_write(void *ud, int fd, const void *buf, size_t count)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = count};
    return pd_io(ud, fd, &iov, 1, 0, true);
}

static ssize_t pd_writev(void *ud, int fd, const struct iovec *iov, int iovcnt)
{
    return pd_io(ud, fd, iov, iovcnt, 0, true);
}

static ssize_t pd_send(void *ud, int fd, const void *buf, size_t len, int flags)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    return pd_io(ud, fd, &iov, 1, flags, true);
}

/* A destination on an unconnected TCP socket: FreeBSD's implied connect,
 * tcpc_sendto, which queues the data before the SYN is built (a Fast Open
 * SYN carries it) and returns without waiting for the handshake, as
 * FreeBSD's does. A connected socket sends as send does. */
static ssize_t pd_sendto(void *ud, int fd, const void *buf, size_t len, int flags,
                         const struct sockaddr *dst, socklen_t dstlen)
{
    struct pd *pd = ud;
    if (dst) {
        pd_lock(pd);
        struct tcpc_addr a, peer;
        uint16_t port, pport;
        long r = pd_sock_addr(pd, fd, dst, dstlen, &a, &port);
        if (r != 0 || tcpc_getpeername(pd->stack, fd, &peer, &pport) != 0) {
            if (r == 0 && (flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)))
                r = -EOPNOTSUPP;
            if (r == 0)
                r = tcpc_sendto(pd->stack, fd, buf, len, &a, port);
            return pd_result(pd, r);
        }
        pd_unlock_changed(pd);
    }
    return pd_send(ud, fd, buf, len, flags);
}

static ssize_t pd_sendmsg(void *ud, int fd, const struct msghdr *msg, int flags)
{
    return pd_io(ud, fd, msg->msg_iov, (int)msg->msg_iovlen, flags, true);
}

static int pd_fcntl(void *ud, int fd, int cmd, ...)
{
    struct pd *pd = ud;
    va_list ap;
    va_start(ap, cmd);
    long arg = cmd == F_SETFL ? va_arg(ap, long) : 0;
    va_end(ap);
    pd_lock(pd);
    struct pd_sock *s = pd_sock(pd, fd);
    long r = 0;
    if (!s)
        r = -EBADF;
    else if (cmd == F_GETFL)
        r = O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
    else if (cmd == F_SETFL)
        s->nonblock = (arg & O_NONBLOCK) != 0;
    else
        r = -EINVAL;
    return (int)pd_result(pd, r);
}

static int pd_ioctl(void *ud, int fd, unsigned long request, ...)
{
    struct pd *pd = ud;
    va_list ap;
    va_start(ap, request);
    int *argp = va_arg(ap, int *);
    va_end(ap);
    pd_lock(pd);
    struct pd_sock *s = pd_sock(pd, fd);
    struct tcpc_info info;
    long r = 0;
    if (!s)
        r = -EBADF;
    else if (request == FIONBIO)
        s->nonblock = *argp != 0;
    else if (request == FIONREAD && (r = tcpc_getinfo(pd->stack, fd, &info)) == 0)
        *argp = (int)info.rcv_queue;
    else if (request == SIOCATMARK && (r = tcpc_sockatmark(pd->stack, fd)) >= 0) {
        *argp = (int)r;
        r = 0;
    } else if (request != FIONREAD && request != SIOCATMARK)
        r = -ENOTTY;
    return (int)pd_result(pd, r);
}

static int pd_close(void *ud, int fd)
{
    struct pd *pd = ud;
    pd_lock(pd);
    struct pd_sock *s = pd_sock(pd, fd);
    long r = s ? tcpc_close(pd->stack, fd) : -EBADF;
    if (s)
        s->open = false;
    return (int)pd_result(pd, r);
}

static int pd_shutdown(void *ud, int fd, int how)
{
    struct pd *pd = ud;
    pd_lock(pd);
    long r = !pd_sock(pd, fd)                   ? -EBADF
             : how < SHUT_RD || how > SHUT_RDWR ? -EINVAL
                                                : tcpc_shutdown(pd->stack, fd, how);
    return (int)pd_result(pd, r);
}

/* ---- socket options ---- */

/* The tcpcore option for a Linux (level, name) pair; 0 when there is none. */
static int pd_sockopt(int level, int name)
{
    static const struct {
        int level, name, opt;
    } map[] = {
        {SOL_SOCKET, SO_REUSEADDR, TCPC_SO_REUSEADDR},
        {SOL_SOCKET, SO_REUSEPORT, TCPC_SO_REUSEPORT},
        {SOL_SOCKET, SO_LINGER, TCPC_SO_LINGER},
        {SOL_SOCKET, SO_RCVBUF, TCPC_SO_RCVBUF},
        {SOL_SOCKET, SO_SNDBUF, TCPC_SO_SNDBUF},
        {SOL_SOCKET, SO_ERROR, TCPC_SO_ERROR},
        {IPPROTO_TCP, TCP_NODELAY, TCPC_TCP_NODELAY},
        {IPPROTO_TCP, TCP_MAXSEG, TCPC_TCP_MAXSEG},
        {IPPROTO_IPV6, IPV6_V6ONLY, TCPC_IPV6_V6ONLY},
        {IPPROTO_IP, IP_FREEBIND, TCPC_IP_BINDANY},
        {IPPROTO_TCP, PD_TCP_NOOPT, TCPC_TCP_NOOPT},
        {IPPROTO_TCP, PD_TCP_KEEPINIT, TCPC_TCP_KEEPINIT},
        {IPPROTO_TCP, TCP_CORK, TCPC_TCP_CORK},
        {IPPROTO_IP, IP_TTL, TCPC_IP_TTL},
        {IPPROTO_IP, IP_TOS, TCPC_IP_TOS},
        {IPPROTO_IPV6, IPV6_UNICAST_HOPS, TCPC_IPV6_UNICAST_HOPS},
        {IPPROTO_IPV6, IPV6_TCLASS, TCPC_IPV6_TCLASS},
        {SOL_SOCKET, SO_KEEPALIVE, TCPC_SO_KEEPALIVE},
        {SOL_SOCKET, SO_OOBINLINE, TCPC_SO_OOBINLINE},
        {IPPROTO_TCP, TCP_KEEPIDLE, TCPC_TCP_KEEPIDLE},
        {IPPROTO_TCP, TCP_KEEPINTVL, TCPC_TCP_KEEPINTVL},
        {IPPROTO_TCP, TCP_KEEPCNT, TCPC_TCP_KEEPCNT},
        {IPPROTO_TCP, TCP_USER_TIMEOUT, TCPC_TCP_USER_TIMEOUT},
        {IPPROTO_TCP, TCP_FASTOPEN, TCPC_TCP_FASTOPEN},
        /* SO_ACCEPTFILTER has no name in packetdrill's Linux symbol table
         * (nor in the patch's FreeBSD additions), so no script can set it. */
        {IPPROTO_TCP, TCP_DEFER_ACCEPT, TCPC_TCP_DEFER_ACCEPT},
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (map[i].level == level && map[i].name == name)
            return map[i].opt;
    return 0;
}

/* Linux's tcpi_state numbers, indexed by tcpcore's (RFC 9293 order). */
static const uint8_t pd_linux_state[] = {
    7 /* CLOSED: TCP_CLOSE */, 10 /* LISTEN */,    2 /* SYN_SENT */,  3 /* SYN_RECV */,
    1 /* ESTABLISHED */,       8 /* CLOSE_WAIT */, 4 /* FIN_WAIT1 */, 11 /* CLOSING */,
    9 /* LAST_ACK */,          5 /* FIN_WAIT2 */,  6 /* TIME_WAIT */,
};

static void pd_tcp_info(const struct tcpc_info *in, struct tcp_info *out)
{
    memset(out, 0, sizeof(*out));
    out->tcpi_state = in->state < sizeof(pd_linux_state) ? pd_linux_state[in->state] : 7;
    out->tcpi_retransmits = (uint8_t)in->retransmits;
    out->tcpi_backoff = (uint8_t)in->backoff;
    out->tcpi_options = (in->options & TCPC_INFO_TIMESTAMPS ? TCPI_OPT_TIMESTAMPS : 0) |
                        (in->options & TCPC_INFO_SACK ? TCPI_OPT_SACK : 0) |
                        (in->options & TCPC_INFO_WSCALE ? TCPI_OPT_WSCALE : 0) |
                        (in->options & TCPC_INFO_ECN ? TCPI_OPT_ECN : 0);
    out->tcpi_snd_wscale = in->snd_wscale & 0xf;
    out->tcpi_rcv_wscale = in->rcv_wscale & 0xf;
    out->tcpi_rto = (uint32_t)in->rto;
    out->tcpi_snd_mss = in->snd_mss;
    out->tcpi_rcv_mss = in->snd_mss;
    uint32_t mss = in->snd_mss ? in->snd_mss : 1;
    out->tcpi_unacked = (in->snd_max - in->snd_una + mss - 1) / mss;
    out->tcpi_rtt = (uint32_t)in->srtt;
    out->tcpi_rttvar = (uint32_t)in->rttvar;
    out->tcpi_snd_ssthresh = in->snd_ssthresh;
    out->tcpi_snd_cwnd = (in->snd_cwnd + mss - 1) / mss;
    out->tcpi_rcv_space = in->rcv_wnd;
    out->tcpi_total_retrans = in->retransmits;
}

/* Linux's SO_MEMINFO: queued bytes and buffer sizes, as far as tcpcore
 * knows them (SK_MEMINFO_RMEM_ALLOC, RCVBUF, WMEM_ALLOC, SNDBUF first). */
static long pd_meminfo(struct pd *pd, int fd, void *val, socklen_t *len)
{
    struct tcpc_info in;
    uint32_t mem[SK_MEMINFO_VARS] = {0};
    int rcvbuf = 0, sndbuf = 0;
    long r = tcpc_getinfo(pd->stack, fd, &in);
    if (r == 0)
        r = tcpc_getsockopt(pd->stack, fd, TCPC_SO_RCVBUF, &rcvbuf);
    if (r == 0)
        r = tcpc_getsockopt(pd->stack, fd, TCPC_SO_SNDBUF, &sndbuf);
    if (r != 0)
        return r;
    mem[SK_MEMINFO_RMEM_ALLOC] = in.rcv_queue;
    mem[SK_MEMINFO_RCVBUF] = (uint32_t)rcvbuf;
    mem[SK_MEMINFO_WMEM_ALLOC] = in.snd_queue;
    mem[SK_MEMINFO_SNDBUF] = (uint32_t)sndbuf;
    mem[SK_MEMINFO_WMEM_QUEUED] = in.snd_queue;
    *len = *len < sizeof(mem) ? *len : (socklen_t)sizeof(mem);
    memcpy(val, mem, *len);
    return 0;
}

static int pd_getsockopt(void *ud, int fd, int level, int name, void *val, socklen_t *len)
{
    struct pd *pd = ud;
    pd_lock(pd);
    struct pd_sock *s = pd_sock(pd, fd);
    long r = 0;
    int opt = pd_sockopt(level, name), v = 0;
    if (!s) {
        r = -EBADF;
    } else if (level == IPPROTO_TCP && name == TCP_INFO) {
        struct tcpc_info in;
        struct tcp_info out;
        r = tcpc_getinfo(pd->stack, fd, &in);
        if (r == 0) {
            pd_tcp_info(&in, &out);
            /* packetdrill's copy of the structure may be newer (longer)
             * than the C library's: the fields neither knows read 0. */
            memset(val, 0, *len);
            memcpy(val, &out, *len < sizeof(out) ? *len : sizeof(out));
        }
    } else if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
        /* The algorithm's name, NUL-padded to the length asked, as Linux
         * answers. */
        char cc[PD_CC_NAME_MAX] = {0};
        r = tcpc_getsockopt_str(pd->stack, fd, TCPC_TCP_CONGESTION, cc, sizeof(cc));
        if (r == 0) {
            *len = *len < sizeof(cc) ? *len : (socklen_t)sizeof(cc);
            memcpy(val, cc, *len);
        }
        opt = -1;
    } else if (level == IPPROTO_TCP && name == TCP_CC_INFO) {
        /* Neither NewReno nor CUBIC has algorithm-specific information to
         * report: all zero, as Linux reports for them. packetdrill's %{ }%
         * reads it with TCP_INFO. */
        memset(val, 0, *len);
        opt = -1;
    } else if (level == SOL_SOCKET && name == SO_MEMINFO) {
        r = pd_meminfo(pd, fd, val, len);
        opt = -1;
    } else if (level == SOL_SOCKET && name == SO_TYPE) {
        v = SOCK_STREAM;
    } else if (opt == 0) {
        r = -ENOPROTOOPT;
    } else {
        r = tcpc_getsockopt(pd->stack, fd, opt, &v);
    }
    if (r == 0 && opt != -1 && !(level == IPPROTO_TCP && name == TCP_INFO)) {
        if (opt == TCPC_SO_LINGER) {
            struct linger l = {.l_onoff = v >= 0, .l_linger = v >= 0 ? v : 0};
            *len = *len < sizeof(l) ? *len : (socklen_t)sizeof(l);
            memcpy(val, &l, *len);
        } else {
            *len = *len < sizeof(v) ? *len : (socklen_t)sizeof(v);
            memcpy(val, &v, *len);
        }
    }
    return (int)pd_result(pd, r);
}

/* TCP_CONGESTION: a name of up to len bytes, not necessarily terminated. */
static long pd_set_congestion(struct pd *pd, int fd, const void *val, socklen_t len)
{
    char cc[PD_CC_NAME_MAX];
    if (len == 0 || len >= (socklen_t)sizeof(cc))
        return -EINVAL;
    memcpy(cc, val, len);
    cc[len] = '\0';
    return tcpc_setsockopt_str(pd->stack, fd, TCPC_TCP_CONGESTION, cc);
}

static int pd_setsockopt(void *ud, int fd, int level, int name, const void *val, socklen_t len)
{
    struct pd *pd = ud;
    pd_lock(pd);
    struct pd_sock *s = pd_sock(pd, fd);
    int opt = pd_sockopt(level, name), v = 0;
    long r = 0;
    if (!s)
        r = -EBADF;
    else if (level == IPPROTO_TCP && name == TCP_CONGESTION)
        return (int)pd_result(pd, pd_set_congestion(pd, fd, val, len));
    else if (opt == 0)
        r = -ENOPROTOOPT; /* TCP_MD5SIG...: not in tcpcore */
    else if (opt == TCPC_SO_LINGER && len >= (socklen_t)sizeof(struct linger)) {
        const struct linger *l = val;
        v = l->l_onoff ? l->l_linger : -1;
    } else if (opt != TCPC_SO_LINGER && len >= (socklen_t)sizeof(int))
        memcpy(&v, val, sizeof(v));
    else
        r = -EINVAL;
    if (r == 0)
        r = tcpc_setsockopt(pd->stack, fd, opt, v);
    return (int)pd_result(pd, r);
}

/* ---- poll ---- */

static short pd_revents(struct pd *pd, int fd, short events)
{
    int ev = pd_sock(pd, fd) ? tcpc_poll(pd->stack, fd) : -EBADF;
    if (ev < 0)
        return POLLNVAL;
    short r = 0;
    if (ev & (TCPC_EV_READABLE | TCPC_EV_ACCEPTABLE))
        r |= POLLIN | POLLRDNORM;
    if (ev & TCPC_EV_WRITABLE)
        r |= POLLOUT | POLLWRNORM;
    if (ev & TCPC_EV_ERROR)
        r |= POLLERR;
    if (ev & TCPC_EV_HUP)
        r |= POLLHUP;
    return r & (events | POLLERR | POLLHUP | POLLNVAL);
}

static int pd_poll(void *ud, struct pollfd *fds, nfds_t nfds, int timeout)
{
    struct pd *pd = ud;
    pd_lock(pd);
    tcpc_time_t until =
        timeout < 0 ? TCPC_TIME_NEVER : pd->now + (tcpc_time_t)timeout * TCPC_USEC_PER_MSEC;
    int ready;
    pd->inside++;
    for (;;) {
        ready = 0;
        for (nfds_t i = 0; i < nfds; i++) {
            fds[i].revents = fds[i].fd < 0 ? 0 : pd_revents(pd, fds[i].fd, fds[i].events);
            ready += fds[i].revents != 0;
        }
        if (ready || pd->now >= until || pd_wait(pd, until) != 0)
            break;
    }
    pd->inside--;
    return (int)pd_result(pd, ready);
}

/* ---- calls tcpcore has no object for ---- */

static int pd_epoll_create(void *ud, int size)
{
    (void)ud;
    (void)size;
    return pd_fail(ENOSYS);
}

static int pd_epoll_ctl(void *ud, int epfd, int op, int fd, struct epoll_event *event)
{
    (void)ud, (void)epfd, (void)op, (void)fd, (void)event;
    return pd_fail(ENOSYS);
}

static int pd_epoll_wait(void *ud, int epfd, struct epoll_event *events, int max, int timeout)
{
    (void)ud, (void)epfd, (void)events, (void)max, (void)timeout;
    return pd_fail(ENOSYS);
}

static int pd_pipe(void *ud, int pipefd[2])
{
    (void)ud, (void)pipefd;
    return pd_fail(ENOSYS);
}

static int pd_splice(void *ud, int fd_in, loff_t *off_in, int fd_out, loff_t *off_out, size_t len,
                     unsigned int flags)
{
    (void)ud, (void)fd_in, (void)off_in, (void)fd_out, (void)off_out, (void)len, (void)flags;
    return pd_fail(ENOSYS);
}

/* ---- life cycle ---- */

static void pd_free(void *ud)
{
    struct pd *pd = ud;
    if (!pd)
        return;
    tcpc_stack_del(pd->stack);
    while (pd->head) {
        struct pd_packet *p = pd->head;
        pd->head = p->next;
        free(p);
    }
    free(pd->socks);
    pthread_cond_destroy(&pd->changed);
    pthread_cond_destroy(&pd->settled);
    pthread_mutex_destroy(&pd->lock);
    free(pd);
}

/* Reads "local_ip=A,remote_ip=B,mtu=N[,...]" into cfg. */
static int pd_parse_flags(const char *flags, struct tcpc_config *cfg, const char **why)
{
    char *copy = strdup(flags ? flags : "");
    if (!copy)
        return -ENOMEM;
    int err = 0;
    char *save = NULL;
    for (char *kv = strtok_r(copy, ",", &save); kv && !err; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *v = eq + 1;
        if (strcmp(kv, "local_ip") == 0) {
            struct tcpc_addr a;
            err = tcpc_addr_parse(v, &a);
            if (!err)
                err = tcpc_config_add_addr(cfg, &a, 0);
        } else if (strcmp(kv, "mtu") == 0) {
            err = tcpc_config_set_mtu(cfg, (uint32_t)strtoul(v, NULL, 10));
            if (err)
                *why = "mtu must be 576..65536";
        }
    }
    free(copy);
    return err;
}

PD_EXPORT void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc);
PD_EXPORT void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
    struct pd *pd = calloc(1, sizeof(*pd));
    if (!pd) {
        fprintf(stderr, "tcpcore-packetdrill: out of memory\n");
        exit(1);
    }
    pthread_mutex_init(&pd->lock, NULL);
    pthread_cond_init(&pd->changed, NULL);
    pthread_cond_init(&pd->settled, NULL);
    pd->tail = &pd->head;
    pd->now = PD_EPOCH;
    pd->main_thread = pthread_self();

    struct tcpc_config *cfg = NULL;
    const char *why = NULL;
    int err = tcpc_config_new(&cfg);
    if (err == 0) {
        tcpc_config_set_output(cfg, pd_output, pd);
        err = pd_parse_flags(flags, cfg, &why);
    }
    if (err == 0)
        err = tcpc_config_check(cfg, &why);
    if (err == 0)
        err = tcpc_stack_new(cfg, pd->now, &pd->stack);
    tcpc_config_del(cfg);
    if (err) {
        fprintf(stderr, "tcpcore-packetdrill: cannot start a stack from '%s': %s\n",
                flags ? flags : "", why ? why : strerror(-err));
        exit(1);
    }
    /* The scripts are FreeBSD's and expect its base stack, which has no
     * RACK-TLP: a tail loss there waits for the retransmission timeout,
     * not a probe two round trips after the last segment. A script may
     * still turn it on with sysctl -w. */
    (void)tcpc_sysctl_set(pd->stack, "net.inet.tcp.rack.enable", 0, &why);

    *ifc = (struct packetdrill_interface){
        .userdata = pd,
        .free = pd_free,
        .socket = pd_socket,
        .bind = pd_bind,
        .listen = pd_listen,
        .accept = pd_accept,
        .connect = pd_connect,
        .read = pd_read,
        .readv = pd_readv,
        .recv = pd_recv,
        .recvfrom = pd_recvfrom,
        .recvmsg = pd_recvmsg,
        .write = pd_write,
        .writev = pd_writev,
        .send = pd_send,
        .sendto = pd_sendto,
        .sendmsg = pd_sendmsg,
        .fcntl = pd_fcntl,
        .ioctl = pd_ioctl,
        .close = pd_close,
        .shutdown = pd_shutdown,
        .getsockopt = pd_getsockopt,
        .setsockopt = pd_setsockopt,
        .poll = pd_poll,
        .netdev_send = pd_netdev_send,
        .netdev_receive = pd_netdev_receive,
        .usleep = pd_usleep,
        .gettimeofday = pd_gettimeofday,
        .epoll_create = pd_epoll_create,
        .epoll_ctl = pd_epoll_ctl,
        .epoll_wait = pd_epoll_wait,
        .pipe = pd_pipe,
        .splice = pd_splice,
    };
}
