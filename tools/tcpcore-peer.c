/*
 * tcpcore-peer: one tcpcore stack on a TUN device, one TCP connection.
 *
 * Listens (accepting one connection) or connects, sends --send-bytes bytes
 * of a deterministic pseudo-random stream while reading everything the peer
 * sends until end of stream, then closes, and prints
 *   sent=N received=M sha256=<of what was received> sent_sha256=<of what was sent>
 * Close order: with --close-first the write side is shut down as soon as
 * everything is queued (our FIN goes first); without it the peer's FIN is
 * awaited before ours is sent. Either way the program waits until the
 * connection has closed (our FIN acknowledged) and fails if it was reset.
 *
 * The TUN device's kernel side (address, link up) is the caller's business:
 *   ip tuntap add dev tun0 mode tun
 *   ip addr add 198.18.0.1/24 dev tun0 && ip link set tun0 up
 *   tcpcore-peer --tun tun0 --addr 198.18.0.2 --listen 5001 --send-bytes 10485760
 * With --send-secs S the sending stops S seconds after the connection
 * opened, whatever is left of --send-bytes (bench/vs_linux_transfer.sh
 * bounds its transfers in time so).
 * Used by the interop tests in tests/interop/, with the Linux kernel as the
 * peer. Exit status: 0 success, 1 failure (with a reason on stderr), 2 usage.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpcore/format.h"
#include "tcpcore/listing.h"
#include "tcpcore/socket.h"
#include "tcpcore/stack.h"
#include "tcpcore/stats.h"
#include "tcpcore/sysctl.h"
#include "tun.h"
#include "peer_stream.h"

#define PEER_CHUNK 65536

#define PEER_MAX_SYSCTLS 16

struct peer_opts {
    const char *tun;
    const char *addr;
    const char *connect_addr;
    int listen_port, connect_port;
    uint64_t send_bytes;
    uint64_t seed;
    bool close_first;
    bool trace;
    bool urgent; /* --urgent: PEER_OOB_BYTE out of band after the stream, and read one */
    int timeout_sec;
    int send_secs;
    const char *congestion; /* --congestion: net.inet.tcp.cc.algorithm, or NULL */
    int bufsize;
    int mtu;
    uint32_t loss_ppm;
    int linger_ms;                         /* --linger-ms, or -1: the default */
    const char *sysctls[PEER_MAX_SYSCTLS]; /* --sysctl NAME=VALUE, in order */
    unsigned nsysctls;
};

struct peer {
    struct peer_opts o;
    struct tcpc_tun tun;
    struct tcpc_stack *stack;
    tcpc_time_t start, deadline, opened;
    int lsd, sd;
    bool connected, shut_wr, eof, closed;
    struct tcpc_addr faddr, laddr;
    uint16_t fport, lport;
    uint64_t sent, received;
    bool oob_sent;
    int oob; /* the byte read out of band, -1: none yet */
    crypto_hash_sha256_state rx_hash, tx_hash;
};

static volatile sig_atomic_t peer_signalled;

static void peer_on_signal(int sig)
{
    peer_signalled = sig;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: tcpcore-peer --addr ADDR (--listen PORT | --connect ADDR PORT) [options]\n"
            "  --addr ADDR        the stack's own address (IPv4 or IPv6)\n"
            "  --tun NAME         TUN device to attach to (default tun0)\n"
            "  --listen PORT      accept one connection on PORT\n"
            "  --connect ADDR PORT  connect to ADDR:PORT\n"
            "  --send-bytes N     bytes to send (default 0)\n"
            "  --seed N           seed of the sent stream (default 1)\n"
            "  --close-first      shut down our side as soon as everything is queued\n"
            "                     (default: wait for the peer's end of stream first)\n"
            "  --timeout SEC      give up after SEC seconds (default 60)\n"
            "  --send-secs S      stop sending S seconds after the connection opened\n"
            "  --congestion NAME  congestion control (net.inet.tcp.cc.algorithm)\n"
            "  --bufsize N        SO_SNDBUF and SO_RCVBUF in bytes (default: the stack's)\n"
            "  --mtu N            link MTU (default 1500)\n"
            "  --sysctl NAME=N    set a tunable before the stack starts (repeatable)\n"
            "  --loss PPM         lose packets in both directions, PPM per million (tests)\n"
            "  --linger-ms MS     keep answering MS ms after the close, for a repeated FIN\n"
            "                     (default 300, 3000 with --loss)\n"
            "  --urgent           send a byte out of band after the stream, read the peer's\n"
            "  --trace            print every packet and every drop on stderr\n");
    exit(2);
}

static void parse_args(int argc, char **argv, struct peer_opts *o)
{
    *o = (struct peer_opts){
        .tun = "tun0", .seed = 1, .timeout_sec = 60, .mtu = 1500, .linger_ms = -1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has1 = i + 1 < argc, has2 = i + 2 < argc;
        if (!strcmp(a, "--addr") && has1)
            o->addr = argv[++i];
        else if (!strcmp(a, "--tun") && has1)
            o->tun = argv[++i];
        else if (!strcmp(a, "--listen") && has1)
            o->listen_port = (int)peer_parse_num("tcpcore-peer", "port", argv[++i], 65535);
        else if (!strcmp(a, "--connect") && has2) {
            o->connect_addr = argv[++i];
            o->connect_port = (int)peer_parse_num("tcpcore-peer", "port", argv[++i], 65535);
        } else if (!strcmp(a, "--send-bytes") && has1)
            o->send_bytes = peer_parse_num("tcpcore-peer", "byte count", argv[++i], UINT64_MAX);
        else if (!strcmp(a, "--seed") && has1)
            o->seed = peer_parse_num("tcpcore-peer", "seed", argv[++i], UINT64_MAX);
        else if (!strcmp(a, "--close-first"))
            o->close_first = true;
        else if (!strcmp(a, "--trace"))
            o->trace = true;
        else if (!strcmp(a, "--urgent"))
            o->urgent = true;
        else if (!strcmp(a, "--timeout") && has1)
            o->timeout_sec = (int)peer_parse_num("tcpcore-peer", "timeout", argv[++i], 86400);
        else if (!strcmp(a, "--congestion") && has1)
            o->congestion = argv[++i];
        else if (!strcmp(a, "--send-secs") && has1)
            o->send_secs = (int)peer_parse_num("tcpcore-peer", "seconds", argv[++i], 86400);
        else if (!strcmp(a, "--bufsize") && has1)
            o->bufsize = (int)peer_parse_num("tcpcore-peer", "buffer size", argv[++i], 1 << 30);
        else if (!strcmp(a, "--linger-ms") && has1)
            o->linger_ms = (int)peer_parse_num("tcpcore-peer", "linger-ms", argv[++i], 600000);
        else if (!strcmp(a, "--loss") && has1)
            o->loss_ppm = (uint32_t)peer_parse_num("tcpcore-peer", "loss", argv[++i], 1000000);
        else if (!strcmp(a, "--mtu") && has1)
            o->mtu = (int)peer_parse_num("tcpcore-peer", "MTU", argv[++i], 65535);
        else if (!strcmp(a, "--sysctl") && has1 && o->nsysctls < PEER_MAX_SYSCTLS)
            o->sysctls[o->nsysctls++] = argv[++i];
        else
            usage();
    }
    bool listen = o->listen_port > 0, connect = o->connect_addr && o->connect_port > 0;
    if (!o->addr || listen == connect)
        usage();
}

static const char *err_name(long err)
{
    return strerror((int)(err < 0 ? -err : err));
}

static void peer_tap(void *ctx, char dir, tcpc_time_t now, const uint8_t *pkt, size_t len)
{
    struct peer *p = ctx;
    char line[512];
    tcpc_time_t t = now > p->start ? now - p->start : 0;
    fprintf(stderr, "%4" PRIu64 ".%06" PRIu64 " %s %s\n", (uint64_t)(t / TCPC_USEC_PER_SEC),
            (uint64_t)(t % TCPC_USEC_PER_SEC), dir == 'i' ? "in " : "out",
            tcpc_format_packet(pkt, len, line, sizeof(line)));
}

static void peer_trace(void *ctx, const char *line)
{
    (void)ctx;
    fprintf(stderr, "tcpcore: %s\n", line);
}

/* Every counter that moved, on one line, and the device's packet counts. */
static void peer_counters(const struct peer *p)
{
    const struct tcpc_stats *st = tcpc_stack_stats(p->stack);
    fprintf(stderr, "tcpcore-peer: counters:");
    for (unsigned i = 0; i < TCPC_STAT_COUNT; i++) {
        uint64_t v = tcpc_stat_value(st, i);
        if (v)
            fprintf(stderr, " %s=%" PRIu64, tcpc_stat_name(i), v);
    }
    fprintf(stderr,
            "\ntcpcore-peer: tun rx %" PRIu64 " tx %" PRIu64 " tx-dropped %" PRIu64
            " lost on purpose rx %" PRIu64 " tx %" PRIu64 "\n",
            p->tun.rx_packets, p->tun.tx_packets, p->tun.tx_dropped, p->tun.rx_lost,
            p->tun.tx_lost);
}

/* Says what failed (with the errno value err, unless 0) and exits 1. */
static void peer_fail(struct peer *p, const char *what, long err)
{
    if (err)
        fprintf(stderr, "tcpcore-peer: %s: %s", what, err_name(err));
    else
        fprintf(stderr, "tcpcore-peer: %s", what);
    fprintf(stderr, " (sent %" PRIu64 " of %" PRIu64 ", received %" PRIu64 "%s)\n", p->sent,
            p->o.send_bytes, p->received, p->eof ? " and end of stream" : "");
    if (p->stack)
        peer_counters(p);
    exit(1);
}

/* --sysctl NAME=VALUE on the configuration: a number, or a name for the
 * tunables that take one (net.inet.tcp.cc.algorithm). */
static void peer_sysctl(struct tcpc_config *cfg, const char *arg)
{
    char name[128];
    const char *eq = strchr(arg, '=');
    size_t n = eq ? (size_t)(eq - arg) : 0;
    if (!eq || n == 0 || n >= sizeof(name)) {
        fprintf(stderr, "tcpcore-peer: --sysctl wants NAME=VALUE, not \"%s\"\n", arg);
        exit(2);
    }
    memcpy(name, arg, n);
    name[n] = 0;
    const char *why = NULL, *text = eq + 1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 0);
    bool number = *text && !*end && errno == 0;
    int err = number ? tcpc_config_sysctl(cfg, name, v, &why)
                     : tcpc_config_sysctl_str(cfg, name, text, &why);
    if (err) {
        fprintf(stderr, "tcpcore-peer: --sysctl %s: %s\n", arg, why ? why : strerror(-err));
        exit(2);
    }
}

static void peer_setup(struct peer *p)
{
    struct tcpc_config *cfg;
    struct tcpc_addr addr;
    if (tcpc_config_new(&cfg) != 0) {
        fprintf(stderr, "tcpcore-peer: out of memory\n");
        exit(1);
    }
    if (tcpc_addr_parse(p->o.addr, &addr) != 0 || tcpc_config_add_addr(cfg, &addr, 0) != 0) {
        fprintf(stderr, "tcpcore-peer: bad address \"%s\"\n", p->o.addr);
        exit(2);
    }
    if (tcpc_config_set_mtu(cfg, (uint32_t)p->o.mtu) != 0) {
        fprintf(stderr, "tcpcore-peer: the MTU must be %d..%d\n", TCPC_MTU_MIN, TCPC_MTU_MAX);
        exit(2);
    }
    if (p->o.trace)
        tcpc_config_set_trace(cfg, peer_trace, p);
    for (unsigned i = 0; i < p->o.nsysctls; i++)
        peer_sysctl(cfg, p->o.sysctls[i]);
    int err = tcpc_tun_init(&p->tun, p->o.tun);
    if (err) {
        fprintf(stderr, "tcpcore-peer: cannot use TUN device %s: %s\n", p->o.tun, err_name(err));
        exit(1);
    }
    if (p->o.trace) {
        p->tun.tap = peer_tap;
        p->tun.tap_ctx = p;
    }
    p->tun.loss_ppm = p->o.loss_ppm;
    p->tun.loss_seed = p->o.seed;
    tcpc_tun_configure(&p->tun, cfg);
    p->start = tcpc_tun_now();
    p->deadline = p->start + (tcpc_time_t)p->o.timeout_sec * TCPC_USEC_PER_SEC;
    const char *why = NULL;
    if (tcpc_config_check(cfg, &why) != 0) {
        fprintf(stderr, "tcpcore-peer: %s\n", why);
        exit(2);
    }
    err = tcpc_stack_new(cfg, p->start, &p->stack);
    tcpc_config_del(cfg);
    if (err) {
        fprintf(stderr, "tcpcore-peer: tcpc_stack_new: %s\n", err_name(err));
        exit(1);
    }
    if (p->o.congestion &&
        tcpc_sysctl_set_str(p->stack, "net.inet.tcp.cc.algorithm", p->o.congestion, &why) != 0) {
        fprintf(stderr, "tcpcore-peer: --congestion %s: %s\n", p->o.congestion,
                why ? why : "refused");
        exit(2);
    }
    tcpc_tun_attach(&p->tun, p->stack);
    /* Until the kernel has seen the carrier that attaching raised, it drops
     * what it sends on the device: a first SYN-ACK would be lost. */
    err = tcpc_tun_wait_running(p->o.tun, 5 * TCPC_USEC_PER_SEC);
    if (err)
        peer_fail(p, "TUN device not running", err);
    crypto_hash_sha256_init(&p->rx_hash);
    crypto_hash_sha256_init(&p->tx_hash);
}

static int peer_socket(struct peer *p, bool v4)
{
    int sd = tcpc_socket(p->stack, v4 ? TCPC_AF_INET : TCPC_AF_INET6);
    if (sd < 0)
        peer_fail(p, "socket", sd);
    if (p->o.bufsize) {
        int err = tcpc_setsockopt(p->stack, sd, TCPC_SO_SNDBUF, p->o.bufsize);
        if (!err)
            err = tcpc_setsockopt(p->stack, sd, TCPC_SO_RCVBUF, p->o.bufsize);
        if (err)
            peer_fail(p, "setting the buffer size", err);
    }
    return sd;
}

static void peer_start(struct peer *p)
{
    p->lsd = p->sd = -1;
    struct tcpc_addr self;
    tcpc_addr_parse(p->o.addr, &self);
    char text[TCPC_ADDRSTRLEN];
    if (p->o.listen_port) {
        p->lsd = peer_socket(p, tcpc_addr_is_v4(&self));
        int err = tcpc_bind(p->stack, p->lsd, &self, (uint16_t)p->o.listen_port);
        if (!err)
            err = tcpc_listen(p->stack, p->lsd, 1);
        if (err)
            peer_fail(p, "bind/listen", err);
        printf("listening on %s port %d\n", tcpc_addr_format(&self, text, sizeof(text)),
               p->o.listen_port);
        fflush(stdout);
        return;
    }
    struct tcpc_addr to;
    if (tcpc_addr_parse(p->o.connect_addr, &to) != 0) {
        fprintf(stderr, "tcpcore-peer: bad address \"%s\"\n", p->o.connect_addr);
        exit(2);
    }
    if (tcpc_addr_is_v4(&to) != tcpc_addr_is_v4(&self)) {
        fprintf(stderr, "tcpcore-peer: --addr and --connect are of different families\n");
        exit(2);
    }
    p->sd = peer_socket(p, tcpc_addr_is_v4(&to));
    int err = tcpc_connect(p->stack, p->sd, &to, (uint16_t)p->o.connect_port);
    if (err != -EINPROGRESS)
        peer_fail(p, "connect", err);
}

/* Is the connection still on its way to closed? TIME_WAIT counts as done:
 * both FINs are through and acknowledged. */
static int peer_find_conn(void *ctx, const struct tcpc_conninfo *ci)
{
    const struct peer *p = ctx;
    if (ci->lport != p->lport || ci->fport != p->fport || !tcpc_addr_eq(&ci->faddr, &p->faddr))
        return 0;
    const char *name = tcpc_state_name(ci->state);
    return strcmp(name, "TIME_WAIT") != 0 && strcmp(name, "CLOSED") != 0;
}

/* With --urgent, before every read: the out-of-band byte once it is
 * there. Returns false while the reader stands at the mark and the byte
 * has yet to come: reading on would step over it. */
static bool peer_receive_oob(struct peer *p)
{
    if (!p->o.urgent || p->oob >= 0)
        return true;
    uint8_t b;
    ssize_t n = tcpc_recv_flags(p->stack, p->sd, &b, 1, TCPC_MSG_OOB);
    if (n == 1) {
        p->oob = b;
        return true;
    }
    if (n != -EAGAIN && n != -EINVAL)
        peer_fail(p, "recv MSG_OOB", n);
    return tcpc_sockatmark(p->stack, p->sd) != 1;
}

static void peer_receive(struct peer *p)
{
    static uint8_t buf[PEER_CHUNK];
    while (!p->eof && peer_receive_oob(p)) {
        ssize_t n = tcpc_recv(p->stack, p->sd, buf, sizeof(buf));
        if (n == -EAGAIN)
            return;
        if (n < 0)
            peer_fail(p, "recv", n);
        if (n == 0) {
            p->eof = true;
            return;
        }
        crypto_hash_sha256_update(&p->rx_hash, buf, (unsigned long long)n);
        p->received += (uint64_t)n;
    }
}

static void peer_send(struct peer *p)
{
    static uint8_t buf[PEER_CHUNK];
    if (p->o.send_secs &&
        tcpc_tun_now() - p->opened >= (tcpc_time_t)p->o.send_secs * TCPC_USEC_PER_SEC)
        p->o.send_bytes = p->sent; /* the time is up: end the stream here */
    while (p->sent < p->o.send_bytes) {
        uint64_t left = p->o.send_bytes - p->sent;
        size_t len = left < sizeof(buf) ? (size_t)left : sizeof(buf);
        peer_stream_fill(p->o.seed, p->sent, buf, len);
        ssize_t n = tcpc_send(p->stack, p->sd, buf, len);
        if (n == -EAGAIN)
            return;
        if (n < 0)
            peer_fail(p, "send", n);
        crypto_hash_sha256_update(&p->tx_hash, buf, (unsigned long long)n);
        p->sent += (uint64_t)n;
    }
    if (p->o.urgent && !p->oob_sent && p->sent == p->o.send_bytes) {
        uint8_t b = PEER_OOB_BYTE;
        ssize_t n = tcpc_send_flags(p->stack, p->sd, &b, 1, TCPC_MSG_OOB);
        if (n < 0 && n != -EAGAIN)
            peer_fail(p, "send MSG_OOB", n);
        p->oob_sent = n == 1;
    }
}

/* One pass over the application's state after the stack has run. Returns
 * true when the connection is finished. */
static bool peer_step(struct peer *p)
{
    if (p->closed)
        return tcpc_list_connections(p->stack, peer_find_conn, p) == 0;
    if (p->sd < 0) {
        int sd = tcpc_accept(p->stack, p->lsd, NULL, NULL);
        if (sd == -EAGAIN)
            return false;
        if (sd < 0)
            peer_fail(p, "accept", sd);
        p->sd = sd;
        tcpc_close(p->stack, p->lsd); /* one connection only */
        p->lsd = -1;
    }
    if (!p->connected) {
        int ev = tcpc_poll(p->stack, p->sd);
        if (ev & TCPC_EV_ERROR) {
            int so_error = 0;
            tcpc_getsockopt(p->stack, p->sd, TCPC_SO_ERROR, &so_error);
            peer_fail(p, "connect", so_error);
        }
        if (!(ev & TCPC_EV_WRITABLE))
            return false;
        p->connected = true;
        p->opened = tcpc_tun_now();
        tcpc_getsockname(p->stack, p->sd, &p->laddr, &p->lport);
        tcpc_getpeername(p->stack, p->sd, &p->faddr, &p->fport);
        char l[TCPC_ADDRSTRLEN], f[TCPC_ADDRSTRLEN];
        fprintf(stderr, "tcpcore-peer: connected %s.%u > %s.%u\n",
                tcpc_addr_format(&p->laddr, l, sizeof(l)), p->lport,
                tcpc_addr_format(&p->faddr, f, sizeof(f)), p->fport);
    }
    peer_receive(p);
    peer_send(p);
    bool all_queued = p->sent == p->o.send_bytes && (!p->o.urgent || p->oob_sent);
    if (p->o.close_first && all_queued && !p->shut_wr) {
        int err = tcpc_shutdown(p->stack, p->sd, TCPC_SHUT_WR);
        if (err)
            peer_fail(p, "shutdown", err);
        p->shut_wr = true;
    }
    if (p->eof && all_queued) {
        /* Nothing unread is left, so this is an orderly close (a FIN after
         * the queued data), never a reset. */
        int err = tcpc_close(p->stack, p->sd);
        if (err)
            peer_fail(p, "close", err);
        p->sd = -1; /* released; the connection finishes on its own */
        p->closed = true;
        return tcpc_list_connections(p->stack, peer_find_conn, p) == 0;
    }
    return false;
}

int main(int argc, char **argv)
{
    struct peer p;
    memset(&p, 0, sizeof(p));
    p.oob = -1;
    parse_args(argc, argv, &p.o);
    if (sodium_init() < 0) {
        fprintf(stderr, "tcpcore-peer: libsodium failed to initialise\n");
        return 1;
    }
    signal(SIGINT, peer_on_signal);
    signal(SIGTERM, peer_on_signal);
    peer_setup(&p);
    peer_start(&p);
    bool done = false;
    while (!done) {
        if (peer_signalled)
            peer_fail(&p, "interrupted by a signal", 0);
        if (tcpc_tun_now() > p.deadline) {
            fprintf(stderr, "tcpcore-peer: timed out after %d s\n", p.o.timeout_sec);
            peer_fail(&p, p.connected ? "transfer did not finish" : "no connection", 0);
        }
        int n = tcpc_tun_run_once(&p.tun, 100 * TCPC_USEC_PER_MSEC);
        if (n < 0)
            peer_fail(&p, "TUN device", n);
        done = peer_step(&p);
    }
    /* The connection is closed or in TIME_WAIT. Keep answering a little
     * longer, in case our last ACK was lost and the peer repeats its FIN
     * (longer where packets are lost, here or on the path: the repeat
     * waits for the peer's backed-off retransmission timeout). */
    int linger_ms = p.o.linger_ms >= 0 ? p.o.linger_ms : p.o.loss_ppm ? 3000 : 300;
    tcpc_time_t grace = tcpc_tun_now() + (tcpc_time_t)linger_ms * TCPC_USEC_PER_MSEC;
    while (tcpc_tun_now() < grace)
        if (tcpc_tun_run_once(&p.tun, grace - tcpc_tun_now()) < 0)
            break;
    double secs = (double)(tcpc_tun_now() - p.start) / 1e6;
    const struct tcpc_stats *st = tcpc_stack_stats(p.stack);
    if (st->tcps_drops || st->tcps_sndrst)
        peer_fail(&p, "the connection was reset, not closed", 0);
    if (p.tun.tx_errno)
        fprintf(stderr, "tcpcore-peer: %" PRIu64 " packets could not be written: %s\n",
                p.tun.tx_dropped, strerror(p.tun.tx_errno));
    uint8_t rx[crypto_hash_sha256_BYTES], tx[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&p.rx_hash, rx);
    crypto_hash_sha256_final(&p.tx_hash, tx);
    char rxh[2 * sizeof(rx) + 1], txh[2 * sizeof(tx) + 1];
    peer_hex(rx, sizeof(rx), rxh);
    peer_hex(tx, sizeof(tx), txh);
    char oobh[3];
    printf("sent=%" PRIu64 " received=%" PRIu64 " sha256=%s sent_sha256=%s close=%s secs=%.3f"
           " oob=%s\n",
           p.sent, p.received, rxh, txh, p.o.close_first ? "first" : "second", secs,
           peer_oob_text(p.oob, oobh));
    fflush(stdout);
    peer_counters(&p);
    tcpc_stack_del(p.stack);
    tcpc_tun_close(&p.tun);
    return 0;
}
