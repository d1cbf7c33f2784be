/*
 * kpeer: the kernel side of the interop tests, on plain BSD sockets.
 *
 * The same modes and output as tools/tcpcore-peer.c, so the test scripts
 * can pair either with the other: listen (one connection) or connect, send
 * --send-bytes bytes of the same deterministic stream while reading to end
 * of stream, close in the requested order, and print
 *   sent=N received=M sha256=<of what was received> sent_sha256=<of what was sent>
 * With --send-secs S the sending stops S seconds after the connection
 * opened, whatever is left of --send-bytes (a transfer bounded in time);
 * data_secs= on the line is the time from the connection's opening to the
 * end of the transfer (everything sent, the peer's end of stream read),
 * without the close. --congestion NAME sets TCP_CONGESTION on the socket.
 * --md5 PEER=KEY sets Linux's TCP_MD5SIG (RFC 2385) for PEER on the
 * socket (the listener, or the connecting socket before connect).
 * --fastopen uses TCP Fast Open (RFC 7413; net.ipv4.tcp_fastopen must allow
 * it): a listener sets TCP_FASTOPEN, a client opens with sendto(MSG_FASTOPEN)
 * and its first bytes, which ride on the SYN when the kernel holds a cookie
 * for the server (else the SYN asks for one). syn_data=1 on the line says
 * the SYN carried data that the SYN-ACK acknowledged (TCPI_OPT_SYN_DATA, on
 * either side).
 * The socket is kept until the kernel reports it closed (TCP_INFO state
 * CLOSE: our FIN acknowledged, TIME_WAIT handed to the kernel), so a
 * success means the connection closed cleanly, not just that the bytes
 * arrived. Exit status: 0 success, 1 failure (reason on stderr), 2 usage.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "ksock.h"
#include "peer_stream.h" /* tools/: the stream both peers share */

#define KP_CHUNK 65536

struct kp {
    const char *addr; /* --addr: where to listen (or the source to bind) */
    const char *connect_addr;
    int listen_port, connect_port;
    uint64_t send_bytes, seed;
    bool close_first;
    bool urgent; /* --urgent: PEER_OOB_BYTE out of band after the stream, and read one */
    int timeout_sec;
    int bufsize;
    const char *congestion; /* --congestion: TCP_CONGESTION, or NULL */
    double send_secs;       /* --send-secs: stop sending after; 0 never */
    uint64_t stream_sha;    /* --stream-sha256 N: print the stream's hash; else UINT64_MAX */
    const char *md5;        /* --md5 PEER=KEY: Linux's TCP_MD5SIG for PEER, or NULL */
    bool fastopen;          /* --fastopen: TCP_FASTOPEN, or sendto(MSG_FASTOPEN) */

    int fd;
    uint64_t sent, received;
    bool eof, shut_wr, oob_sent;
    int oob; /* the byte read out of band, -1: none yet */
    double start, deadline, opened;
    crypto_hash_sha256_state rx_hash, tx_hash;
};

static double kp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void kp_fail(const struct kp *k, const char *what, int err)
{
    if (err)
        fprintf(stderr, "kpeer: %s: %s", what, strerror(err));
    else
        fprintf(stderr, "kpeer: %s", what);
    fprintf(stderr, " (sent %" PRIu64 " of %" PRIu64 ", received %" PRIu64 "%s)\n", k->sent,
            k->send_bytes, k->received, k->eof ? " and end of stream" : "");
    exit(1);
}

static void usage(void)
{
    fprintf(stderr, "usage: kpeer --addr ADDR (--listen PORT | --connect ADDR PORT)\n"
                    "             [--send-bytes N] [--seed N] [--close-first] [--timeout SEC]\n"
                    "             [--bufsize N] [--congestion NAME] [--send-secs S]\n"
                    "             [--md5 PEER=KEY] [--fastopen] [--urgent]\n"
                    "       kpeer --stream-sha256 N [--seed N]   the hash of the first N bytes\n"
                    "             of the stream (what tcpcored's /bytes/N sends, seed 1)\n");
    exit(2);
}

static void parse_args(int argc, char **argv, struct kp *k)
{
    k->seed = 1;
    k->timeout_sec = 60;
    k->stream_sha = UINT64_MAX;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has1 = i + 1 < argc, has2 = i + 2 < argc;
        if (!strcmp(a, "--addr") && has1)
            k->addr = argv[++i];
        else if (!strcmp(a, "--listen") && has1)
            k->listen_port = (int)peer_parse_num("kpeer", "port", argv[++i], 65535);
        else if (!strcmp(a, "--connect") && has2) {
            k->connect_addr = argv[++i];
            k->connect_port = (int)peer_parse_num("kpeer", "port", argv[++i], 65535);
        } else if (!strcmp(a, "--send-bytes") && has1)
            k->send_bytes = peer_parse_num("kpeer", "byte count", argv[++i], UINT64_MAX);
        else if (!strcmp(a, "--seed") && has1)
            k->seed = peer_parse_num("kpeer", "seed", argv[++i], UINT64_MAX);
        else if (!strcmp(a, "--close-first"))
            k->close_first = true;
        else if (!strcmp(a, "--urgent"))
            k->urgent = true;
        else if (!strcmp(a, "--timeout") && has1)
            k->timeout_sec = (int)peer_parse_num("kpeer", "timeout", argv[++i], 86400);
        else if (!strcmp(a, "--bufsize") && has1)
            k->bufsize = (int)peer_parse_num("kpeer", "buffer size", argv[++i], 1 << 30);
        else if (!strcmp(a, "--congestion") && has1)
            k->congestion = argv[++i];
        else if (!strcmp(a, "--send-secs") && has1)
            k->send_secs = (double)peer_parse_num("kpeer", "seconds", argv[++i], 86400);
        else if (!strcmp(a, "--md5") && has1)
            k->md5 = argv[++i];
        else if (!strcmp(a, "--fastopen"))
            k->fastopen = true;
        else if (!strcmp(a, "--stream-sha256") && has1)
            k->stream_sha = peer_parse_num("kpeer", "byte count", argv[++i], UINT64_MAX);
        else
            usage();
    }
    if (k->stream_sha != UINT64_MAX)
        return;
    bool listen = k->listen_port > 0, connect = k->connect_addr && k->connect_port > 0;
    if (!k->addr || listen == connect)
        usage();
}

/* --md5 PEER=KEY: the kernel signs and checks segments to and from PEER. */
static void kp_md5(const struct kp *k, int fd)
{
    char peer[64];
    const char *eq = strchr(k->md5, '=');
    size_t n = eq ? (size_t)(eq - k->md5) : 0;
    struct tcp_md5sig m;
    memset(&m, 0, sizeof(m));
    size_t keylen = eq ? strlen(eq + 1) : 0;
    if (!eq || n == 0 || n >= sizeof(peer) || keylen == 0 || keylen > TCP_MD5SIG_MAXKEYLEN) {
        fprintf(stderr, "kpeer: --md5 wants PEER=KEY (1 to %d bytes of key)\n",
                TCP_MD5SIG_MAXKEYLEN);
        exit(2);
    }
    memcpy(peer, k->md5, n);
    peer[n] = 0;
    ksock_addr("kpeer", peer, 0, &m.tcpm_addr);
    m.tcpm_keylen = (uint16_t)keylen;
    memcpy(m.tcpm_key, eq + 1, keylen);
    if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &m, sizeof(m)) < 0)
        kp_fail(k, "setting TCP_MD5SIG", errno);
}

static int kp_socket(const struct kp *k, int family)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        kp_fail(k, "socket", errno);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (k->bufsize) {
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &k->bufsize, sizeof(k->bufsize)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &k->bufsize, sizeof(k->bufsize)) < 0)
            kp_fail(k, "setting the buffer size", errno);
    }
    if (k->congestion && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, k->congestion,
                                    (socklen_t)strlen(k->congestion)) < 0)
        kp_fail(k, "setting the congestion control", errno);
    if (k->md5)
        kp_md5(k, fd);
    return fd;
}

static int kp_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Waits for fd to become ready for events, at most until the deadline. */
static short kp_wait(const struct kp *k, int fd, short events, const char *what)
{
    for (;;) {
        double left = k->deadline - kp_now();
        if (left <= 0) {
            fprintf(stderr, "kpeer: timed out after %d s\n", k->timeout_sec);
            kp_fail(k, what, 0);
        }
        struct pollfd pfd = {.fd = fd, .events = events};
        int n = poll(&pfd, 1, left > 1 ? 1000 : (int)(left * 1000) + 1);
        if (n < 0 && errno != EINTR)
            kp_fail(k, "poll", errno);
        if (n > 0)
            return pfd.revents;
    }
}

/* The open by sendto(MSG_FASTOPEN): the bytes it took (those on the SYN)
 * count as sent; EINPROGRESS: a cookie request, nothing taken yet. */
static void kp_fastopen(struct kp *k, const struct sockaddr_storage *ss, socklen_t len)
{
    static uint8_t buf[KP_CHUNK];
    size_t n = k->send_bytes < sizeof(buf) ? (size_t)k->send_bytes : sizeof(buf);
    peer_stream_fill(k->seed, 0, buf, n);
    ssize_t sent =
        sendto(k->fd, buf, n, MSG_FASTOPEN | MSG_NOSIGNAL, (const struct sockaddr *)ss, len);
    if (sent < 0 && errno != EINPROGRESS)
        kp_fail(k, "sendto(MSG_FASTOPEN)", errno);
    if (sent > 0) {
        crypto_hash_sha256_update(&k->tx_hash, buf, (unsigned long long)sent);
        k->sent = (uint64_t)sent;
    }
}

static void kp_open(struct kp *k)
{
    struct sockaddr_storage ss;
    if (k->listen_port) {
        socklen_t len = ksock_addr("kpeer", k->addr, (unsigned)k->listen_port, &ss);
        int lfd = kp_socket(k, ss.ss_family);
        if (bind(lfd, (struct sockaddr *)&ss, len) < 0)
            kp_fail(k, "bind", errno);
        /* The queue of Fast Open children not yet acknowledged. */
        int qlen = 16;
        if (k->fastopen && setsockopt(lfd, IPPROTO_TCP, TCP_FASTOPEN, &qlen, sizeof(qlen)) < 0)
            kp_fail(k, "setting TCP_FASTOPEN", errno);
        if (listen(lfd, 1) < 0)
            kp_fail(k, "listen", errno);
        printf("listening on %s port %d\n", k->addr, k->listen_port);
        fflush(stdout);
        kp_wait(k, lfd, POLLIN, "no connection");
        k->fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (k->fd < 0)
            kp_fail(k, "accept", errno);
        close(lfd);
    } else {
        struct sockaddr_storage src;
        socklen_t slen = ksock_addr("kpeer", k->addr, 0, &src);
        socklen_t len = ksock_addr("kpeer", k->connect_addr, (unsigned)k->connect_port, &ss);
        if (src.ss_family != ss.ss_family) {
            fprintf(stderr, "kpeer: --addr and --connect are of different families\n");
            exit(2);
        }
        k->fd = kp_socket(k, ss.ss_family);
        if (bind(k->fd, (struct sockaddr *)&src, slen) < 0)
            kp_fail(k, "bind", errno);
        /* A blocking connect would ignore our deadline: connect in the
         * background and wait for the outcome. */
        if (kp_nonblock(k->fd) < 0)
            kp_fail(k, "non-blocking mode", errno);
        if (k->fastopen && k->send_bytes)
            kp_fastopen(k, &ss, len);
        else if (connect(k->fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)
            kp_fail(k, "connect", errno);
        kp_wait(k, k->fd, POLLOUT, "connect did not complete");
        int err = 0;
        socklen_t elen = sizeof(err);
        getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
        if (err)
            kp_fail(k, "connect", err);
    }
    if (kp_nonblock(k->fd) < 0)
        kp_fail(k, "non-blocking mode", errno);
    k->opened = kp_now();
}

/* With --urgent, before every read: the out-of-band byte once it is
 * there. Returns false while the reader stands at the mark and the byte
 * has yet to come: a read would step over it, and Linux then forgets it. */
static bool kp_receive_oob(struct kp *k)
{
    if (!k->urgent || k->oob >= 0)
        return true;
    uint8_t b;
    ssize_t n = recv(k->fd, &b, 1, MSG_OOB);
    if (n == 1) {
        k->oob = b;
        return true;
    }
    if (n < 0 && errno != EAGAIN && errno != EINVAL)
        kp_fail(k, "recv MSG_OOB", errno);
    int at = 0;
    if (ioctl(k->fd, SIOCATMARK, &at) < 0)
        kp_fail(k, "SIOCATMARK", errno);
    return !at;
}

static void kp_receive(struct kp *k)
{
    static uint8_t buf[KP_CHUNK];
    while (!k->eof && kp_receive_oob(k)) {
        ssize_t n = read(k->fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n < 0)
            kp_fail(k, "read", errno);
        if (n == 0) {
            k->eof = true;
            return;
        }
        crypto_hash_sha256_update(&k->rx_hash, buf, (unsigned long long)n);
        k->received += (uint64_t)n;
    }
}

static void kp_send(struct kp *k)
{
    static uint8_t buf[KP_CHUNK];
    if (k->send_secs > 0 && kp_now() - k->opened >= k->send_secs)
        k->send_bytes = k->sent; /* the time is up: end the stream here */
    while (k->sent < k->send_bytes) {
        uint64_t left = k->send_bytes - k->sent;
        size_t len = left < sizeof(buf) ? (size_t)left : sizeof(buf);
        peer_stream_fill(k->seed, k->sent, buf, len);
        ssize_t n = send(k->fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (n < 0)
            kp_fail(k, "send", errno);
        crypto_hash_sha256_update(&k->tx_hash, buf, (unsigned long long)n);
        k->sent += (uint64_t)n;
    }
    if (k->urgent && !k->oob_sent && k->sent == k->send_bytes) {
        uint8_t b = PEER_OOB_BYTE;
        ssize_t n = send(k->fd, &b, 1, MSG_OOB | MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            kp_fail(k, "send MSG_OOB", errno);
        k->oob_sent = n == 1;
    }
}

static void kp_shutdown(struct kp *k)
{
    if (k->shut_wr)
        return;
    if (shutdown(k->fd, SHUT_WR) < 0)
        kp_fail(k, "shutdown", errno);
    k->shut_wr = true;
}

/* Moves both streams; shuts our side down when the close order says so. */
static void kp_transfer(struct kp *k)
{
    for (;;) {
        kp_receive(k);
        kp_send(k);
        bool all_sent = k->sent == k->send_bytes && (!k->urgent || k->oob_sent);
        if (all_sent && (k->close_first || k->eof))
            kp_shutdown(k);
        if (all_sent && k->eof)
            return;
        short ev = POLLIN | (all_sent ? 0 : POLLOUT) | (k->urgent && k->oob < 0 ? POLLPRI : 0);
        kp_wait(k, k->fd, ev, "transfer did not finish");
    }
}

static void kp_report_info(const struct tcp_info *ti)
{
    fprintf(stderr,
            "kpeer: options%s%s wscale %u/%u, mss %u, rtt %u us, retransmits %u, "
            "lost %u, reordering %u\n",
            ti->tcpi_options & TCPI_OPT_TIMESTAMPS ? " ts" : "",
            ti->tcpi_options & TCPI_OPT_SACK ? " sack" : "", ti->tcpi_snd_wscale,
            ti->tcpi_rcv_wscale, ti->tcpi_snd_mss, ti->tcpi_rtt, ti->tcpi_total_retrans,
            ti->tcpi_lost, ti->tcpi_reordering);
}

/* Keeps the socket until the kernel has finished with the connection: our
 * FIN is acknowledged and the peer's received (the full socket shows CLOSE
 * once TIME_WAIT is handed to a timewait socket, or after LAST_ACK). */
static void kp_wait_closed(struct kp *k)
{
    static const char *names[] = {"?",          "ESTABLISHED", "SYN_SENT",  "SYN_RECV",
                                  "FIN_WAIT1",  "FIN_WAIT2",   "TIME_WAIT", "CLOSE",
                                  "CLOSE_WAIT", "LAST_ACK",    "LISTEN",    "CLOSING"};
    struct tcp_info ti;
    for (;;) {
        socklen_t len = sizeof(ti);
        if (getsockopt(k->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
            kp_fail(k, "TCP_INFO", errno);
        if (ti.tcpi_state == TCP_CLOSE)
            break;
        if (kp_now() > k->deadline) {
            fprintf(stderr, "kpeer: connection still in %s at the deadline\n",
                    ti.tcpi_state < sizeof(names) / sizeof(names[0]) ? names[ti.tcpi_state] : "?");
            kp_fail(k, "close did not complete", 0);
        }
        usleep(2000);
    }
    int err = 0;
    socklen_t elen = sizeof(err);
    getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err)
        kp_fail(k, "connection error at close", err);
    if (close(k->fd) < 0)
        kp_fail(k, "close", errno);
}

/* The SHA-256 of stream bytes [0, n) for seed, in hex on stdout. */
static void kp_stream_sha(uint64_t seed, uint64_t n)
{
    static uint8_t buf[KP_CHUNK];
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    for (uint64_t off = 0; off < n;) {
        size_t len = n - off < sizeof(buf) ? (size_t)(n - off) : sizeof(buf);
        peer_stream_fill(seed, off, buf, len);
        crypto_hash_sha256_update(&h, buf, len);
        off += len;
    }
    uint8_t d[crypto_hash_sha256_BYTES];
    char hex[2 * sizeof(d) + 1];
    crypto_hash_sha256_final(&h, d);
    peer_hex(d, sizeof(d), hex);
    printf("%s\n", hex);
}

int main(int argc, char **argv)
{
    struct kp k;
    memset(&k, 0, sizeof(k));
    k.oob = -1;
    parse_args(argc, argv, &k);
    if (sodium_init() < 0) {
        fprintf(stderr, "kpeer: libsodium failed to initialise\n");
        return 1;
    }
    if (k.stream_sha != UINT64_MAX) {
        kp_stream_sha(k.seed, k.stream_sha);
        return 0;
    }
    crypto_hash_sha256_init(&k.rx_hash);
    crypto_hash_sha256_init(&k.tx_hash);
    k.start = kp_now();
    k.deadline = k.start + k.timeout_sec;
    kp_open(&k);
    kp_transfer(&k);
    double data_secs = kp_now() - k.opened;
    struct tcp_info ti;
    socklen_t tlen = sizeof(ti);
    memset(&ti, 0, sizeof(ti));
    getsockopt(k.fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen);
    kp_wait_closed(&k);
    double secs = kp_now() - k.start;
    uint8_t rx[crypto_hash_sha256_BYTES], tx[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&k.rx_hash, rx);
    crypto_hash_sha256_final(&k.tx_hash, tx);
    char rxh[2 * sizeof(rx) + 1], txh[2 * sizeof(tx) + 1];
    peer_hex(rx, sizeof(rx), rxh);
    peer_hex(tx, sizeof(tx), txh);
    char oobh[3];
    printf("sent=%" PRIu64 " received=%" PRIu64 " sha256=%s sent_sha256=%s close=%s secs=%.3f"
           " data_secs=%.3f syn_data=%d oob=%s\n",
           k.sent, k.received, rxh, txh, k.close_first ? "first" : "second", secs, data_secs,
           (ti.tcpi_options & TCPI_OPT_SYN_DATA) != 0, peer_oob_text(k.oob, oobh));
    fflush(stdout);
    kp_report_info(&ti);
    return 0;
}
