/*
 * libtcpcore_packetdrill.so driven the way packetdrill drives it: the
 * object is dlopened, packets are injected with netdev_send and read with
 * netdev_receive(_timeout), and the calls a script expects to block (accept,
 * connect, read) run on a second thread while the first moves packets and
 * virtual time. Keeps the interface working without packetdrill itself;
 * segments are built and parsed with the harness's wire helpers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "harness.h"
#include "packetdrill.h"
#include "wire/ip.h"

typedef int (*pd_receive_timeout_fn)(void *, void *, size_t *, long long *, int);
typedef int (*pd_command_fn)(void *, const char *);
typedef int (*pd_blocked_fn)(void *);

struct pdt {
    void *handle;
    struct packetdrill_interface ifc;
    pd_receive_timeout_fn receive_timeout;
    pd_command_fn run_command;
    pd_blocked_fn blocked;
    struct harness *h; /* builds and parses segments; its own stack is idle */
};

static void pdt_open(struct pdt *t, bool v6)
{
    memset(t, 0, sizeof(*t));
    struct h_opts o = {.v6 = v6};
    t->h = h_new(&o);
    t->handle = dlopen(TCPC_PD_SO, RTLD_NOW | RTLD_LOCAL);
    if (!t->handle)
        fail_msg("dlopen %s: %s", TCPC_PD_SO, dlerror());
    packetdrill_interface_init_t init =
        (packetdrill_interface_init_t)dlsym(t->handle, "packetdrill_interface_init");
    t->receive_timeout =
        (pd_receive_timeout_fn)dlsym(t->handle, "packetdrill_netdev_receive_timeout");
    t->run_command = (pd_command_fn)dlsym(t->handle, "packetdrill_run_command");
    t->blocked = (pd_blocked_fn)dlsym(t->handle, "packetdrill_syscall_blocked");
    assert_non_null(init);
    assert_non_null(t->receive_timeout);
    assert_non_null(t->run_command);
    assert_non_null(t->blocked);
    char flags[200];
    snprintf(flags, sizeof(flags), "local_ip=%s,remote_ip=%s,mtu=1500",
             v6 ? "2001:db8::1" : "198.18.0.1", v6 ? "2001:db8::2" : "198.18.0.2");
    init(flags, &t->ifc);
    /* Every entry point is there. */
    void *const *fn = (void *const *)&t->ifc.free;
    void *const *end = (void *const *)(&t->ifc.splice + 1);
    for (; fn < end; fn++)
        assert_non_null(*fn);
}

static void pdt_close(struct pdt *t)
{
    t->ifc.free(t->ifc.userdata);
    dlclose(t->handle);
    h_free(t->h);
}

static void pdt_send(struct pdt *t, struct seg s)
{
    uint8_t buf[2048];
    size_t len = h_build(t->h, s, buf, sizeof(buf));
    assert_int_equal(t->ifc.netdev_send(t->ifc.userdata, buf, len), 0);
}

/* The next packet the stack sends (within timeout_secs), parsed. */
struct pdt_pkt {
    uint8_t buf[2048];
    size_t len;
    long long time;
    struct ip_repr ip;
    struct tcp_repr th;
};

static void pdt_expect(struct pdt *t, struct pdt_pkt *p, uint8_t flags)
{
    p->len = sizeof(p->buf);
    assert_int_equal(t->receive_timeout(t->ifc.userdata, p->buf, &p->len, &p->time, 3), 0);
    if (p->len == 0)
        fail_msg("no packet from the stack (expected flags 0x%x)", flags);
    int hl = ip_parse(p->buf, p->len, &p->ip);
    assert_true(hl > 0);
    assert_int_equal(p->ip.proto, IPPROTO_TCP);
    assert_true(tcp_parse(p->buf + hl, p->ip.payload_len, &p->th) > 0);
    assert_int_equal(p->th.flags, flags);
}

static long long pdt_now(struct pdt *t)
{
    struct timeval tv;
    assert_int_equal(t->ifc.gettimeofday(t->ifc.userdata, &tv, NULL), 0);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* packetdrill's system-call thread: one blocking call at a time. */
enum pdt_call { PDT_ACCEPT, PDT_CONNECT, PDT_READ };
struct pdt_call_arg {
    struct pdt *t;
    enum pdt_call call;
    int fd;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char buf[64];
    long result;
    int err;
    long long end; /* the clock read on return, as packetdrill times a call */
    pthread_t thread;
};

static void *pdt_call_thread(void *p)
{
    struct pdt_call_arg *a = p;
    struct packetdrill_interface *ifc = &a->t->ifc;
    if (a->call == PDT_ACCEPT)
        a->result = ifc->accept(ifc->userdata, a->fd, (struct sockaddr *)&a->addr, &a->addrlen);
    else if (a->call == PDT_CONNECT)
        a->result = ifc->connect(ifc->userdata, a->fd, (struct sockaddr *)&a->addr, a->addrlen);
    else
        a->result = ifc->read(ifc->userdata, a->fd, a->buf, sizeof(a->buf));
    a->err = a->result < 0 ? errno : 0;
    a->end = pdt_now(a->t);
    return NULL;
}

/* Starts the call and returns once it waits inside the object. */
static void pdt_call_start(struct pdt_call_arg *a)
{
    assert_int_equal(pthread_create(&a->thread, NULL, pdt_call_thread, a), 0);
    for (int i = 0; i < 100000 && !a->t->blocked(a->t->ifc.userdata); i++) {
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
    assert_true(a->t->blocked(a->t->ifc.userdata));
}

static long pdt_call_end(struct pdt_call_arg *a)
{
    assert_int_equal(pthread_join(a->thread, NULL), 0);
    return a->result;
}

static struct sockaddr_in pdt_sin(const char *addr, uint16_t port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
    return sin;
}

/* Passive open on IPv4 with a blocking accept, data both ways with a
 * blocking read, then the close, as a FreeBSD-suite script does. */
static void test_passive_v4_blocking(void **state)
{
    (void)state;
    struct pdt t;
    pdt_open(&t, false);
    struct packetdrill_interface *ifc = &t.ifc;
    void *ud = ifc->userdata;
    int one = 1;

    int lfd = ifc->socket(ud, AF_INET, SOCK_STREAM, IPPROTO_TCP);
    assert_true(lfd >= 0);
    assert_int_equal(ifc->setsockopt(ud, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
    struct sockaddr_in sin = pdt_sin("198.18.0.1", 80);
    assert_int_equal(ifc->bind(ud, lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(ifc->listen(ud, lfd, 1), 0);

    struct pdt_call_arg acc = {.t = &t, .call = PDT_ACCEPT, .fd = lfd, .addrlen = sizeof(acc.addr)};
    pdt_call_start(&acc);
    long long t0 = pdt_now(&t);
    pdt_send(&t, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460, .win = 65535));
    struct pdt_pkt sa;
    pdt_expect(&t, &sa, TH_SYN | TH_ACK);
    assert_int_equal(sa.th.ack, 1001);
    assert_int_equal(sa.th.sport, 80);
    assert_int_equal(sa.th.dport, 40000);
    assert_true(sa.time >= t0);
    pdt_send(&t, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    int fd = (int)pdt_call_end(&acc);
    assert_true(fd >= 0);
    const struct sockaddr_in *peer = (const struct sockaddr_in *)&acc.addr;
    assert_int_equal(acc.addrlen, sizeof(struct sockaddr_in));
    assert_int_equal(peer->sin_family, AF_INET);
    assert_int_equal(ntohs(peer->sin_port), 40000);
    assert_int_equal(ntohl(peer->sin_addr.s_addr), 0xc6120002);

    struct tcp_info ti;
    socklen_t tilen = sizeof(ti);
    assert_int_equal(ifc->getsockopt(ud, fd, IPPROTO_TCP, TCP_INFO, &ti, &tilen), 0);
    assert_int_equal(ti.tcpi_state, TCP_ESTABLISHED);
    assert_int_equal(ti.tcpi_snd_mss, 1460);

    /* A blocking read waits for the data. */
    struct pdt_call_arg rd = {.t = &t, .call = PDT_READ, .fd = fd};
    pdt_call_start(&rd);
    pdt_send(&t,
             SEG(.flags = TH_ACK | TH_PUSH, .seq = 1001, .ack = sa.th.seq + 1, .data = "hello"));
    assert_int_equal(pdt_call_end(&rd), 5);
    assert_memory_equal(rd.buf, "hello", 5);
    /* The ACK is delayed: waiting for it moves virtual time, not wall time. */
    long long before = pdt_now(&t);
    struct pdt_pkt ack;
    pdt_expect(&t, &ack, TH_ACK);
    assert_int_equal(ack.th.ack, 1006);
    assert_true(ack.time > before);

    assert_int_equal(ifc->write(ud, fd, "world", 5), 5);
    struct pdt_pkt data;
    pdt_expect(&t, &data, TH_ACK | TH_PUSH);
    assert_int_equal(data.th.payload_len, 5);
    assert_memory_equal(data.th.payload, "world", 5);

    /* Nothing to read on a non-blocking socket. */
    assert_int_equal(ifc->fcntl(ud, fd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
    assert_int_equal(ifc->fcntl(ud, fd, F_GETFL), O_RDWR | O_NONBLOCK);
    char buf[16];
    assert_int_equal(ifc->read(ud, fd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);

    /* Our close: FIN, the peer's FIN, the last ACK. */
    assert_int_equal(ifc->close(ud, fd), 0);
    struct pdt_pkt fin;
    pdt_expect(&t, &fin, TH_FIN | TH_ACK);
    assert_int_equal(fin.th.seq, sa.th.seq + 6);
    pdt_send(&t, SEG(.flags = TH_FIN | TH_ACK, .seq = 1006, .ack = fin.th.seq + 1));
    struct pdt_pkt last;
    pdt_expect(&t, &last, TH_ACK);
    assert_int_equal(last.th.ack, 1007);
    assert_int_equal(t.run_command(ud, "sockstat -4 -P tcp -s | grep -c TIME_WAIT | grep 1"), 0);
    /* tcpdrop takes the record away at once. */
    assert_int_equal(t.run_command(ud, "tcpdrop -s TIME_WAIT"), 0);
    assert_int_equal(t.run_command(ud, "sockstat -4 -P tcp -s | grep -c TIME_WAIT | grep 0"), 0);
    assert_int_not_equal(t.run_command(ud, "tcpdrop 198.18.0.1 80"), 0);

    /* usleep moves the clock by what it is told (each reading of the
     * clock adds a microsecond: packetdrill spins on it). */
    long long t1 = pdt_now(&t);
    assert_int_equal(ifc->usleep(ud, 250000), 0);
    assert_in_range(pdt_now(&t) - t1, 250000, 250010);
    assert_int_equal(ifc->close(ud, lfd), 0);
    assert_int_equal(ifc->close(ud, lfd), -1);
    assert_int_equal(errno, EBADF);
    pdt_close(&t);
}

/* Active open on IPv6 with a blocking connect; the SYN's retransmission
 * comes at the stack's deadline, in virtual time. */
static void test_active_v6_blocking_connect(void **state)
{
    (void)state;
    struct pdt t;
    pdt_open(&t, true);
    struct packetdrill_interface *ifc = &t.ifc;
    void *ud = ifc->userdata;
    int fd = ifc->socket(ud, AF_INET6, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct pdt_call_arg con = {.t = &t, .call = PDT_CONNECT, .fd = fd};
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&con.addr;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(80);
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::2", &sin6->sin6_addr), 1);
    con.addrlen = sizeof(*sin6);
    pdt_call_start(&con);
    struct pdt_pkt syn, again;
    pdt_expect(&t, &syn, TH_SYN);
    assert_int_equal(syn.ip.version, 6);
    assert_int_equal(syn.th.dport, 80);
    pdt_expect(&t, &again, TH_SYN);
    assert_int_equal(again.th.seq, syn.th.seq);
    assert_true(again.time - syn.time >= 1000000); /* the initial RTO, 1 s */
    pdt_send(&t, SEG(.flags = TH_SYN | TH_ACK, .seq = 5000, .ack = syn.th.seq + 1, .mss = 1440,
                     .sport = 80, .dport = syn.th.sport));
    struct pdt_pkt ack;
    pdt_expect(&t, &ack, TH_ACK);
    assert_int_equal(ack.th.ack, 5001);
    assert_int_equal(pdt_call_end(&con), 0);
    assert_int_equal(ifc->close(ud, fd), 0);
    pdt_close(&t);
}

/* A blocked connect that TCP_KEEPINIT ends returns at that deadline, even
 * when the main thread sleeps past it in one step: the clock stops at the
 * deadline until the call's thread has returned and read it. */
static void test_blocked_connect_returns_at_keepinit(void **state)
{
    (void)state;
    struct pdt t;
    pdt_open(&t, false);
    struct packetdrill_interface *ifc = &t.ifc;
    void *ud = ifc->userdata;
    int fd = ifc->socket(ud, AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int keepinit = 3; /* seconds */
    assert_int_equal(
        ifc->setsockopt(ud, fd, IPPROTO_TCP, 0x10000 + 128, &keepinit, sizeof(keepinit)), 0);
    struct pdt_call_arg con = {.t = &t, .call = PDT_CONNECT, .fd = fd};
    struct sockaddr_in sin = pdt_sin("198.18.0.2", 80);
    memcpy(&con.addr, &sin, sizeof(sin));
    con.addrlen = sizeof(sin);
    long long start = pdt_now(&t);
    pdt_call_start(&con);
    struct pdt_pkt syn;
    pdt_expect(&t, &syn, TH_SYN);
    assert_int_equal(ifc->usleep(ud, 10000000), 0);
    assert_int_equal(pdt_call_end(&con), -1);
    assert_int_equal(con.err, ETIMEDOUT);
    assert_in_range(con.end - start, 3000000, 3010000);
    assert_int_equal(ifc->close(ud, fd), 0);
    pdt_close(&t);
}

/* An IPv6 listener accepts an IPv4 connection and reports the peer
 * v4-mapped; poll sees the connection before accept takes it. */
static void test_mapped_accept_and_poll(void **state)
{
    (void)state;
    struct pdt t;
    pdt_open(&t, false);
    struct packetdrill_interface *ifc = &t.ifc;
    void *ud = ifc->userdata;
    int lfd = ifc->socket(ud, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    assert_true(lfd >= 0);
    struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
    assert_int_equal(ifc->bind(ud, lfd, (struct sockaddr *)&any, sizeof(any)), 0);
    assert_int_equal(ifc->listen(ud, lfd, 4), 0);
    struct sockaddr_in6 peer;
    socklen_t plen = sizeof(peer);
    assert_int_equal(ifc->accept(ud, lfd, (struct sockaddr *)&peer, &plen), -1);
    assert_int_equal(errno, EAGAIN);

    pdt_send(&t, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    struct pdt_pkt sa;
    pdt_expect(&t, &sa, TH_SYN | TH_ACK);
    assert_int_equal(sa.ip.version, 4);
    pdt_send(&t, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    struct pollfd pfd = {.fd = lfd, .events = POLLIN};
    assert_int_equal(ifc->poll(ud, &pfd, 1, 0), 1);
    assert_true(pfd.revents & POLLIN);
    int fd = ifc->accept(ud, lfd, (struct sockaddr *)&peer, &plen);
    assert_true(fd >= 0);
    assert_int_equal(plen, sizeof(peer));
    assert_int_equal(peer.sin6_family, AF_INET6);
    assert_true(IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr));
    assert_int_equal(peer.sin6_addr.s6_addr[15], 2);
    /* FreeBSD's accept() hands on O_NONBLOCK. */
    assert_int_equal(ifc->fcntl(ud, fd, F_GETFL), O_RDWR | O_NONBLOCK);
    /* poll with a timeout and nothing to read: the virtual clock runs it out. */
    long long t0 = pdt_now(&t);
    pfd = (struct pollfd){.fd = fd, .events = POLLIN};
    assert_int_equal(ifc->poll(ud, &pfd, 1, 500), 0);
    assert_true(pdt_now(&t) - t0 >= 500000);
    assert_int_equal(ifc->close(ud, fd), 0);
    assert_int_equal(ifc->close(ud, lfd), 0);
    pdt_close(&t);
}

/* Urgent data through the socket calls a script makes: send and recv
 * with MSG_OOB, SO_OOBINLINE and the SIOCATMARK ioctl. */
static void test_urgent_data(void **state)
{
    (void)state;
    struct pdt t;
    pdt_open(&t, false);
    struct packetdrill_interface *ifc = &t.ifc;
    void *ud = ifc->userdata;
    int lfd = ifc->socket(ud, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
    assert_true(lfd >= 0);
    struct sockaddr_in sin = pdt_sin("198.18.0.1", 80);
    assert_int_equal(ifc->bind(ud, lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(ifc->listen(ud, lfd, 4), 0);
    pdt_send(&t, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460));
    struct pdt_pkt sa;
    pdt_expect(&t, &sa, TH_SYN | TH_ACK);
    pdt_send(&t, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1));
    int fd = ifc->accept(ud, lfd, NULL, NULL);
    assert_true(fd >= 0);
    int v = -1;
    socklen_t vlen = sizeof(v);
    assert_int_equal(ifc->getsockopt(ud, fd, SOL_SOCKET, SO_OOBINLINE, &v, &vlen), 0);
    assert_int_equal(v, 0);

    pdt_send(&t, SEG(.flags = TH_ACK | TH_URG, .seq = 1001, .ack = sa.th.seq + 1, .data = "abX",
                     .urp = 3));
    char buf[16];
    assert_int_equal(ifc->recv(ud, fd, buf, sizeof(buf), MSG_OOB), 1);
    assert_int_equal(buf[0], 'X');
    assert_int_equal(ifc->recv(ud, fd, buf, sizeof(buf), MSG_OOB), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ifc->ioctl(ud, fd, SIOCATMARK, &v), 0);
    assert_int_equal(v, 0);
    assert_int_equal(ifc->recv(ud, fd, buf, sizeof(buf), 0), 2);
    assert_memory_equal(buf, "ab", 2);
    assert_int_equal(ifc->ioctl(ud, fd, SIOCATMARK, &v), 0);
    assert_int_equal(v, 1);

    assert_int_equal(ifc->send(ud, fd, "u", 1, MSG_OOB), 1);
    struct pdt_pkt u;
    pdt_expect(&t, &u, TH_ACK | TH_PUSH | TH_URG);
    assert_int_equal(u.th.urp, 1);
    assert_int_equal(u.th.ack, 1004);
    assert_int_equal(ifc->close(ud, fd), 0);
    assert_int_equal(ifc->close(ud, lfd), 0);
    pdt_close(&t);
}

/* Shell commands: tunables by FreeBSD name, sockstat from the listing. */
static void test_commands(void **state)
{
    (void)state;
    struct pdt t;
    pdt_open(&t, false);
    struct packetdrill_interface *ifc = &t.ifc;
    void *ud = ifc->userdata;
    assert_int_equal(t.run_command(ud, "sysctl -w net.inet.tcp.syncookies=0"), 0);
    assert_int_not_equal(t.run_command(ud, "sysctl -w net.inet.tcp.no_such_knob=1"), 0);
    assert_int_not_equal(t.run_command(ud, "sysctl -w net.inet.tcp.syncookies=7"), 0);
    /* Fast Open's switches are tcpcore's own tunables. */
    assert_int_equal(t.run_command(ud, "sysctl -w net.inet.tcp.fastopen.client_enable=0"), 0);
    assert_int_equal(t.run_command(ud, "sysctl -w net.inet.tcp.fastopen.client_enable=1"), 0);
    assert_int_equal(t.run_command(ud, "sysctl -w net.inet.tcp.fastopen.server_enable=1"), 0);
    assert_int_equal(t.run_command(ud, "sysctl -w net.inet.tcp.fastopen.server_enable=0"), 0);
    /* A feature tcpcore lacks: "off" is accepted, "on" refused. */
    assert_int_equal(t.run_command(ud, "sysctl -w net.inet.tcp.udp_tunneling_port=0"), 0);
    assert_int_not_equal(t.run_command(ud, "sysctl -w net.inet.tcp.udp_tunneling_port=9899"), 0);
    assert_int_equal(t.run_command(ud, "true"), -1); /* not ours: the host runs it */

    int lfd = ifc->socket(ud, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    /* FreeBSD's TCP_KEEPINIT, as the patched packetdrill numbers it. */
    int keepinit = 15, got = 0;
    socklen_t glen = sizeof(got);
    assert_int_equal(
        ifc->setsockopt(ud, lfd, IPPROTO_TCP, 0x10000 + 128, &keepinit, sizeof(keepinit)), 0);
    assert_int_equal(ifc->getsockopt(ud, lfd, IPPROTO_TCP, 0x10000 + 128, &got, &glen), 0);
    assert_int_equal(got, 15);
    assert_int_equal(ifc->getsockopt(ud, lfd, IPPROTO_TCP, TCP_FASTOPEN, &got, &glen), 0);
    assert_int_equal(got, 0);
    /* Linux's TCP_DEFER_ACCEPT, before listen as Linux takes it. */
    int defer = 7;
    assert_int_equal(ifc->setsockopt(ud, lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer, sizeof(defer)),
                     0);
    assert_int_equal(ifc->getsockopt(ud, lfd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &got, &glen), 0);
    assert_int_equal(got, 7);
    struct sockaddr_in sin = pdt_sin("198.18.0.1", 8080);
    assert_int_equal(ifc->bind(ud, lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(ifc->listen(ud, lfd, 4), 0);
    assert_int_equal(t.run_command(ud, "sockstat -4 -P tcp -p 8080 -s | grep -c SYN_RCVD | grep 0"),
                     0);
    pdt_send(&t, SEG(.flags = TH_SYN, .seq = 1000, .dport = 8080));
    struct pdt_pkt sa;
    pdt_expect(&t, &sa, TH_SYN | TH_ACK);
    assert_int_equal(t.run_command(ud, "sockstat -4 -P tcp -s -p 8080 | grep -c SYN_RCVD | grep 1"),
                     0);
    assert_int_not_equal(
        t.run_command(ud, "sockstat -6 -P tcp -s -p 8080 | grep -c SYN_RCVD | grep 1"), 0);
    assert_int_equal(
        t.run_command(ud, "sockstat -4 -P tcp -s | grep packetdril | grep -c LISTEN | grep 1"), 0);
    assert_int_equal(ifc->close(ud, lfd), 0);
    pdt_close(&t);
}

/* Congestion control through the adapter: the algorithm by name in a
 * sysctl, TCP_CONGESTION by name on a socket (Linux's NUL-padded form),
 * ECN's tunable now real. */
static void test_congestion_control(void **state)
{
    (void)state;
    struct pdt t;
    pdt_open(&t, false);
    struct packetdrill_interface *ifc = &t.ifc;
    void *ud = ifc->userdata;
    assert_int_equal(t.run_command(ud, "sysctl -w net.inet.tcp.cc.algorithm=cubic"), 0);
    assert_int_not_equal(t.run_command(ud, "sysctl -w net.inet.tcp.cc.algorithm=bbr"), 0);
    assert_int_not_equal(t.run_command(ud, "sysctl -w net.inet.tcp.cc.available=newreno"), 0);
    assert_int_equal(t.run_command(ud, "sysctl -w net.inet.tcp.ecn.enable=1"), 0);
    assert_int_not_equal(t.run_command(ud, "sysctl -w net.inet.tcp.ecn.enable=3"), 0);
    int fd = ifc->socket(ud, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    char name[16];
    socklen_t len = sizeof(name);
    assert_int_equal(ifc->getsockopt(ud, fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
    assert_string_equal(name, "cubic"); /* the tunable's */
    assert_int_equal(ifc->setsockopt(ud, fd, IPPROTO_TCP, TCP_CONGESTION, "newreno", 7), 0);
    len = sizeof(name);
    assert_int_equal(ifc->getsockopt(ud, fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
    assert_string_equal(name, "newreno");
    assert_int_equal(ifc->setsockopt(ud, fd, IPPROTO_TCP, TCP_CONGESTION, "vegas", 5), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(ifc->close(ud, fd), 0);
    pdt_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passive_v4_blocking),
        cmocka_unit_test(test_active_v6_blocking_connect),
        cmocka_unit_test(test_blocked_connect_returns_at_keepinit),
        cmocka_unit_test(test_mapped_accept_and_poll),
        cmocka_unit_test(test_urgent_data),
        cmocka_unit_test(test_congestion_control),
        cmocka_unit_test(test_commands),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
