/*
 * The AF_PACKET backend's rings against the kernel, without a stack:
 * frames sent into one end of a veth pair with a plain packet socket must
 * arrive whole through the backend's RX ring, frames the backend queues in
 * its TX ring must come out of the other end whole and in order, and a TX
 * ring whose frames the kernel cannot take (a tiny socket send buffer
 * behind a slow qdisc) must refuse frames with -ENOBUFS rather than lose
 * them silently. Run by afp_rings.sh inside a namespace it creates.
 *
 * usage: afp_selftest IF_BACKEND IF_PEER MODE   (MODE: rxtx or full)
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "af_packet.h"
#include "clock.h"

#define FRAMES    200
#define RX_BURST  25
#define ETHERTYPE 0x88b5 /* IEEE 802 local experimental */

struct seen {
    unsigned count;
    unsigned bad;
};

static void build_frame(uint8_t *f, size_t len, unsigned seq)
{
    memset(f, 0xff, 6);                                  /* broadcast */
    memcpy(f + 6, (uint8_t[6]){0x02, 0, 0, 0, 0, 1}, 6); /* local MAC */
    f[12] = ETHERTYPE >> 8;
    f[13] = ETHERTYPE & 0xff;
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)(seq * 31 + i);
    f[14] = (uint8_t)(seq >> 8);
    f[15] = (uint8_t)seq;
}

static size_t frame_len(unsigned seq)
{
    return 60 + (seq * 37) % 1400;
}

static bool frame_ok(const uint8_t *f, size_t len, unsigned seq)
{
    uint8_t want[1514];
    if (len != frame_len(seq))
        return false;
    build_frame(want, len, seq);
    return memcmp(f, want, len) == 0;
}

static void rx_tap(void *ctx, char dir, tcpc_time_t now, const uint8_t *f, size_t len)
{
    (void)now;
    struct seen *s = ctx;
    if (dir != 'i' || len < 16 || f[12] != ETHERTYPE >> 8 || f[13] != (ETHERTYPE & 0xff))
        return; /* IPv6 router solicitations and the like */
    if (!frame_ok(f, len, s->count))
        s->bad++;
    s->count++;
}

static int raw_socket(const char *ifname)
{
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE));
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = htons(ETHERTYPE),
                              .sll_ifindex = (int)if_nametoindex(ifname)};
    int one = 1, rcvbuf = 8 << 20;
    /* It must not read back the frames it sends itself, and must hold every
     * frame of a burst: it reads them only after the whole burst is sent. */
    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 ||
        bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        perror("afp_selftest: peer socket");
        exit(1);
    }
    return fd;
}

static int test_rx(struct tcpc_afp *afp, int peer)
{
    struct seen s = {0};
    afp->tap = rx_tap;
    afp->tap_ctx = &s;
    uint8_t f[1514];
    /* Bursts that fit the small ring, so that the ring wraps several times
     * without the kernel dropping frames for want of a free block. */
    for (unsigned i = 0; i < FRAMES; i++) {
        build_frame(f, frame_len(i), i);
        if (send(peer, f, frame_len(i), 0) < 0) {
            perror("afp_selftest: send from the peer");
            return 1;
        }
        if ((i + 1) % RX_BURST)
            continue;
        tcpc_time_t deadline = tcpc_io_now() + 2 * TCPC_USEC_PER_SEC;
        while (s.count <= i && tcpc_io_now() < deadline) {
            poll(&(struct pollfd){.fd = afp->fd, .events = POLLIN}, 1, 10);
            tcpc_afp_receive(afp);
        }
    }
    afp->tap = NULL;
    printf("rx: %u of %d frames through the ring, %u wrong\n", s.count, FRAMES, s.bad);
    return s.count == FRAMES && s.bad == 0 ? 0 : 1;
}

static int test_tx(struct tcpc_afp *afp, int peer)
{
    uint8_t f[1514];
    for (unsigned i = 0; i < FRAMES; i++) {
        build_frame(f, frame_len(i), i);
        int err = tcpc_afp_output(afp, f, frame_len(i));
        if (err) {
            printf("tx: frame %u refused: %s\n", i, strerror(-err));
            return 1;
        }
    }
    tcpc_afp_flush(afp);
    unsigned got = 0, bad = 0;
    while (got < FRAMES) {
        if (poll(&(struct pollfd){.fd = peer, .events = POLLIN}, 1, 2000) <= 0)
            break;
        ssize_t n = recv(peer, f, sizeof(f), 0);
        if (n < 0)
            break;
        if (!frame_ok(f, (size_t)n, got))
            bad++;
        got++;
    }
    printf("tx: %u of %d frames out of the ring, %u wrong\n", got, FRAMES, bad);
    return got == FRAMES && bad == 0 ? 0 : 1;
}

/* Counts our frames, in whatever numbering the drops left. */
static void overrun_tap(void *ctx, char dir, tcpc_time_t now, const uint8_t *f, size_t len)
{
    (void)now;
    struct seen *s = ctx;
    if (dir == 'i' && len == 1400 && f[12] == ETHERTYPE >> 8 && f[13] == (ETHERTYPE & 0xff))
        s->count++;
}

/* Frames sent while nobody reads overrun the RX ring: every one is either
 * received or counted in rx_dropped (PACKET_STATISTICS), none vanishes. */
static int test_overrun(struct tcpc_afp *afp, int peer)
{
    struct seen s = {0};
    uint8_t f[1514];
    uint64_t before = tcpc_afp_sync_drops(afp);
    for (unsigned i = 0; i < FRAMES; i++) {
        build_frame(f, 1400, i);
        if (send(peer, f, 1400, 0) < 0) {
            perror("afp_selftest: send from the peer");
            return 1;
        }
    }
    afp->tap = overrun_tap;
    afp->tap_ctx = &s;
    while (tcpc_afp_receive(afp) > 0)
        ;
    afp->tap = NULL;
    uint64_t dropped = tcpc_afp_sync_drops(afp) - before;
    printf("overrun: %u of %d frames received, %llu counted as dropped by the full ring\n", s.count,
           FRAMES, (unsigned long long)dropped);
    return dropped > 0 && s.count + dropped == FRAMES ? 0 : 1;
}

/* The qdisc behind the backend holds few frames and the send buffer lets
 * only a few be in flight, so the ring must fill and say so. */
static int test_full(struct tcpc_afp *afp)
{
    uint8_t f[1514];
    unsigned refused = 0, sent = 0;
    for (unsigned i = 0; i < 4 * afp->tx.nslots; i++) {
        build_frame(f, 1400, i);
        int err = tcpc_afp_output(afp, f, 1400);
        if (err == -ENOBUFS)
            refused++;
        else if (err == 0)
            sent++;
        else
            return printf("full: unexpected error %s\n", strerror(-err)), 1;
    }
    printf("full: %u frames queued, %u refused with ENOBUFS (tx_ring_full=%llu)\n", sent, refused,
           (unsigned long long)afp->tx_ring_full);
    return refused > 0 && refused == afp->tx_ring_full ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: afp_selftest IF_BACKEND IF_PEER rxtx|full\n");
        return 2;
    }
    bool full = strcmp(argv[3], "full") == 0;
    /* Rings small enough that 200 frames wrap each several times. */
    struct tcpc_afp_opts opts = {
        .rx_block_size = 16384, .rx_blocks = 4, .tx_slots = 32, .sndbuf = full ? 4096 : 0};
    struct tcpc_afp afp;
    if (tcpc_afp_open(&afp, argv[1], &opts) < 0)
        return 1;
    int rc;
    if (full) {
        rc = test_full(&afp);
    } else {
        int peer = raw_socket(argv[2]);
        rc = test_rx(&afp, peer) | test_tx(&afp, peer) | test_overrun(&afp, peer);
        close(peer);
    }
    tcpc_afp_close(&afp);
    return rc;
}
