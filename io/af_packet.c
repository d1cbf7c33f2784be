/*
 * The AF_PACKET backend; see af_packet.h.
 */
#define _GNU_SOURCE

#include "af_packet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

/* Frames handed to the stack per receive call before timers get a turn. */
#define AFP_RX_BATCH 256
/* A frame's Ethernet header and an optional VLAN tag, beyond the MTU. */
#define AFP_L2_OVERHEAD 18
/* Where a TX slot's frame starts: after the ring header, aligned, as the
 * kernel expects when the socket does not set PACKET_TX_HAS_OFF. */
#define AFP_TX_DATA_OFF (TPACKET2_HDRLEN - sizeof(struct sockaddr_ll))
/* Room before a received frame in its slot: the header, the link-layer
 * address the kernel puts after it, and alignment of the network header. */
#define AFP_RX_FRAME_OFF (TPACKET_ALIGN(TPACKET2_HDRLEN) + 16)

static int afp_fail(const char *ifname, const char *what, int err)
{
    fprintf(stderr, "af_packet: %s on %s: %s%s\n", what, ifname, strerror(err),
            err == EPERM || err == EACCES ? " (needs CAP_NET_RAW)" : "");
    return -err;
}

static int afp_ifreq(const char *ifname, unsigned long req, struct ifreq *ifr)
{
    if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
        fprintf(stderr, "af_packet: interface name \"%s\" is empty or longer than %d characters\n",
                ifname ? ifname : "", IFNAMSIZ - 1);
        return -EINVAL;
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return afp_fail(ifname, "socket for interface queries", errno);
    memset(ifr, 0, sizeof(*ifr));
    memcpy(ifr->ifr_name, ifname, strlen(ifname));
    int err = ioctl(s, req, ifr) < 0 ? errno : 0;
    close(s);
    if (err)
        return afp_fail(ifname, err == ENODEV ? "no such interface" : "interface query", err);
    return 0;
}

int tcpc_afp_hwaddr(const char *ifname, uint8_t mac[6])
{
    struct ifreq ifr;
    int err = afp_ifreq(ifname, SIOCGIFHWADDR, &ifr);
    if (err)
        return err;
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    return 0;
}

static uint32_t round_pow2(uint32_t v)
{
    uint32_t p = 64;
    while (p < v)
        p <<= 1;
    return p;
}

/* The RX ring: nblocks blocks of block bytes, cut into slots of `slot`
 * bytes (a power of two that divides the block), one frame each. Each slot
 * has its own status word, so a frame is ours as soon as the kernel has
 * written it and poll() wakes for it: a TPACKET_V3 block is handed over only
 * when it is full or its retire timer (a millisecond at the least) fires,
 * which put a millisecond or more on every received segment of a handshake. */
static int afp_rx_ring(struct tcpc_afp *afp, const char *ifname, uint32_t block, uint32_t nblocks,
                       uint32_t slot)
{
    struct tpacket_req req = {
        .tp_block_size = block,
        .tp_block_nr = nblocks,
        .tp_frame_size = slot,
        .tp_frame_nr = block / slot * nblocks,
    };
    if (setsockopt(afp->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0)
        return afp_fail(ifname, "RX ring", errno);
    afp->rx = (struct tcpc_afp_ring){
        .block_size = slot, .nslots = req.tp_frame_nr, .map_len = (size_t)block * nblocks};
    return 0;
}

/* The TX ring: nslots fixed slots of slot bytes (a power of two), packed
 * into page-sized (or larger) blocks, so slot i sits at i * slot. */
static int afp_tx_ring(struct tcpc_afp *afp, const char *ifname, uint32_t slot, uint32_t nslots)
{
    uint32_t page = (uint32_t)getpagesize();
    uint32_t block = slot > page ? slot : page;
    uint32_t per_block = block / slot;
    nslots = (nslots + per_block - 1) / per_block * per_block;
    struct tpacket_req req = {
        .tp_block_size = block,
        .tp_block_nr = nslots / per_block,
        .tp_frame_size = slot,
        .tp_frame_nr = nslots,
    };
    if (setsockopt(afp->fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof(req)) < 0)
        return afp_fail(ifname, "TX ring", errno);
    afp->tx = (struct tcpc_afp_ring){
        .block_size = slot, .nslots = nslots, .map_len = (size_t)slot * nslots};
    return 0;
}

static int afp_socket(struct tcpc_afp *afp, const char *ifname, const struct tcpc_afp_opts *o)
{
    afp->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (afp->fd < 0)
        return afp_fail(ifname, "AF_PACKET socket", errno);
    int v2 = TPACKET_V2, one = 1;
    if (setsockopt(afp->fd, SOL_PACKET, PACKET_VERSION, &v2, sizeof(v2)) < 0)
        return afp_fail(ifname, "TPACKET_V2", errno);
    if (o->sndbuf && setsockopt(afp->fd, SOL_SOCKET, SO_SNDBUF, &o->sndbuf, sizeof(o->sndbuf)) < 0)
        return afp_fail(ifname, "SO_SNDBUF", errno);
    /* Our own frames must not come back to us as received ones. */
    if (setsockopt(afp->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
        return afp_fail(ifname, "PACKET_IGNORE_OUTGOING", errno);
    uint32_t largest = round_pow2(afp->mtu + AFP_L2_OVERHEAD + AFP_RX_FRAME_OFF);
    uint32_t rx_block = o->rx_block_size ? o->rx_block_size : 256 * 1024;
    if (rx_block < largest || rx_block % (uint32_t)getpagesize()) {
        fprintf(stderr,
                "af_packet: RX block of %u bytes: must be a page multiple and hold a "
                "%u-byte frame\n",
                rx_block, largest);
        return -EINVAL;
    }
    int err = afp_rx_ring(afp, ifname, rx_block, o->rx_blocks ? o->rx_blocks : 64, largest);
    if (!err)
        err = afp_tx_ring(afp, ifname, largest, o->tx_slots ? o->tx_slots : 512);
    return err;
}

static int afp_map_and_bind(struct tcpc_afp *afp, const char *ifname)
{
    /* One mapping holds the RX ring, then the TX ring. */
    size_t len = afp->rx.map_len + afp->tx.map_len;
    uint8_t *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, afp->fd, 0);
    if (map == MAP_FAILED)
        return afp_fail(ifname, "mmap of the rings", errno);
    afp->rx.map = map;
    afp->tx.map = map + afp->rx.map_len;
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = afp->ifindex};
    if (bind(afp->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
        return afp_fail(ifname, "bind", errno);
    return 0;
}

int tcpc_afp_open(struct tcpc_afp *afp, const char *ifname, const struct tcpc_afp_opts *opts)
{
    static const struct tcpc_afp_opts defaults;
    memset(afp, 0, sizeof(*afp));
    afp->fd = -1;
    struct ifreq ifr;
    int err = afp_ifreq(ifname, SIOCGIFINDEX, &ifr);
    if (err)
        return err;
    afp->ifindex = ifr.ifr_ifindex;
    err = afp_ifreq(ifname, SIOCGIFMTU, &ifr);
    if (err)
        return err;
    afp->mtu = (uint32_t)ifr.ifr_mtu;
    err = afp_socket(afp, ifname, opts ? opts : &defaults);
    if (!err)
        err = afp_map_and_bind(afp, ifname);
    if (err)
        tcpc_afp_close(afp);
    return err;
}

/* Older kernel headers lack the name (the value is the kernel's). */
#ifndef PACKET_FANOUT_FLAG_IGNORE_OUTGOING
#define PACKET_FANOUT_FLAG_IGNORE_OUTGOING 0x4000
#endif

/* Joins afp to fanout group id (0 with PACKET_FANOUT_FLAG_UNIQUEID: a new
 * one) with the group's type and flags. */
static int afp_join(struct tcpc_afp *afp, const char *ifname, uint16_t id, uint16_t type_flags)
{
    uint32_t arg = id | (uint32_t)type_flags << 16;
    if (setsockopt(afp->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) < 0)
        return afp_fail(ifname, "joining the fanout group", errno);
    return 0;
}

/* Makes afp the first member of a new group; *id is the group's number,
 * which the other members join by. */
static int afp_found_group(struct tcpc_afp *afp, const char *ifname, uint16_t type_flags,
                           const struct tcpc_afp_fanout_rule *rule, uint16_t *id)
{
    int err = afp_join(afp, ifname, 0, type_flags | PACKET_FANOUT_FLAG_UNIQUEID);
    if (err)
        return err;
    uint32_t val = 0;
    socklen_t len = sizeof(val);
    if (getsockopt(afp->fd, SOL_PACKET, PACKET_FANOUT, &val, &len) < 0)
        return afp_fail(ifname, "reading the fanout group", errno);
    *id = (uint16_t)val;
    if ((type_flags & 0xff) != PACKET_FANOUT_CBPF)
        return 0;
    struct sock_filter prog[TCPC_AFP_FANOUT_PROG_LEN];
    int n = tcpc_afp_fanout_program(rule, prog);
    if (n < 0)
        return n;
    struct sock_fprog fprog = {.len = (unsigned short)n, .filter = prog};
    if (setsockopt(afp->fd, SOL_PACKET, PACKET_FANOUT_DATA, &fprog, sizeof(fprog)) < 0)
        return afp_fail(ifname, "the fanout program", errno);
    return 0;
}

int tcpc_afp_open_group(struct tcpc_afp *afps, unsigned n, const char *ifname,
                        const struct tcpc_afp_opts *opts, enum tcpc_afp_fanout_mode mode,
                        const struct tcpc_afp_fanout_rule *rule)
{
    bool owner = mode == TCPC_AFP_FANOUT_OWNER;
    if (n == 0 || n > TCPC_AFP_FANOUT_MAX || (owner && (!rule || rule->nqueues != n))) {
        fprintf(stderr, "af_packet: a fanout group of %u sockets%s\n", n,
                owner ? " needs a rule for as many queues" : " is not possible");
        return -EINVAL;
    }
    uint16_t type_flags =
        (owner ? PACKET_FANOUT_CBPF : PACKET_FANOUT_HASH) | PACKET_FANOUT_FLAG_IGNORE_OUTGOING;
    uint16_t id = 0;
    for (unsigned i = 0; i < n; i++) {
        int err = tcpc_afp_open(&afps[i], ifname, opts);
        /* Members are numbered in the order they join: queue i is afps[i]. */
        if (!err)
            err = i == 0 ? afp_found_group(&afps[0], ifname, type_flags, rule, &id)
                         : afp_join(&afps[i], ifname, id, type_flags);
        if (err) {
            /* A failed open has closed its own; closing it again is harmless. */
            for (unsigned j = 0; j <= i; j++)
                tcpc_afp_close(&afps[j]);
            return err;
        }
    }
    return 0;
}

uint64_t tcpc_afp_sync_drops(struct tcpc_afp *afp)
{
    struct tpacket_stats st;
    socklen_t len = sizeof(st);
    if (afp->fd >= 0 && getsockopt(afp->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
        afp->rx_dropped += st.tp_drops;
    return afp->rx_dropped;
}

void tcpc_afp_configure(struct tcpc_afp *afp, struct tcpc_config *cfg)
{
    tcpc_config_set_output(cfg, tcpc_afp_output, afp);
}

void tcpc_afp_attach(struct tcpc_afp *afp, struct tcpc_stack *stack)
{
    afp->stack = stack;
}

/* Slot i of a ring: slots are a power of two that divides the block, so
 * they sit back to back across blocks. */
static struct tpacket2_hdr *afp_slot(const struct tcpc_afp_ring *r, uint32_t i)
{
    return (struct tpacket2_hdr *)(r->map + (size_t)i * r->block_size);
}

/* True when slot h may be filled. A frame the kernel refused as malformed
 * (TP_STATUS_WRONG_FORMAT) is counted and its slot taken back, or the
 * ring would stay blocked behind it. */
static bool afp_slot_free(struct tcpc_afp *afp, struct tpacket2_hdr *h)
{
    uint32_t status = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
    if (status == TP_STATUS_WRONG_FORMAT) {
        afp->tx_bad_format++;
        return true;
    }
    return status == TP_STATUS_AVAILABLE;
}

int tcpc_afp_output(void *ctx, const uint8_t *frame, size_t len)
{
    struct tcpc_afp *afp = ctx;
    if (len > afp->tx.block_size - AFP_TX_DATA_OFF) {
        afp->tx_too_big++;
        return -EMSGSIZE;
    }
    struct tpacket2_hdr *h = afp_slot(&afp->tx, afp->tx.next);
    if (!afp_slot_free(afp, h)) {
        /* The kernel has not sent the oldest slot yet: kick and look again. */
        tcpc_afp_flush(afp);
        if (!afp_slot_free(afp, h)) {
            afp->tx_ring_full++;
            return -ENOBUFS;
        }
    }
    memcpy((uint8_t *)h + AFP_TX_DATA_OFF, frame, len);
    h->tp_len = (uint32_t)len;
    __atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
    afp->tx.next = (afp->tx.next + 1) % afp->tx.nslots;
    afp->tx_packets++;
    afp->tx_bytes += len;
    if (afp->tap)
        afp->tap(afp->tap_ctx, 'o', afp->stack ? tcpc_now(afp->stack) : 0, frame, len);
    /* A full batch goes out at once, so the ring never waits for the loop. */
    if (++afp->tx_pending >= afp->tx.nslots / 2)
        tcpc_afp_flush(afp);
    return 0;
}

int tcpc_afp_flush(struct tcpc_afp *afp)
{
    if (!afp->tx_pending)
        return 0;
    if (send(afp->fd, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != ENOBUFS) {
        afp->tx_kick_errors++;
        afp->tx_errno = errno;
        return -errno;
    }
    afp->tx_pending = 0;
    return 0;
}

static void afp_deliver(struct tcpc_afp *afp, const struct tpacket2_hdr *h)
{
    const uint8_t *frame = (const uint8_t *)h + h->tp_mac;
    tcpc_time_t now = tcpc_io_now();
    afp->rx_packets++;
    afp->rx_bytes += h->tp_snaplen;
    if (afp->tap)
        afp->tap(afp->tap_ctx, 'i', now, frame, h->tp_snaplen);
    if (afp->stack)
        tcpc_input(afp->stack, now, frame, h->tp_snaplen);
}

int tcpc_afp_receive(struct tcpc_afp *afp)
{
    int count = 0;
    while (count < AFP_RX_BATCH) {
        struct tpacket2_hdr *h = afp_slot(&afp->rx, afp->rx.next);
        if (!(__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
            break;
        afp_deliver(afp, h);
        count++;
        __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        afp->rx.next = (afp->rx.next + 1) % afp->rx.nslots;
    }
    return count;
}

int tcpc_afp_run_once(struct tcpc_afp *afp, tcpc_time_t max_wait)
{
    struct pollfd pfd = {.fd = afp->fd, .events = POLLIN};
    int timeout = tcpc_io_wait_ms(tcpc_io_now(), tcpc_next_deadline(afp->stack), max_wait);
    if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
        int err = errno;
        fprintf(stderr, "af_packet: poll: %s\n", strerror(err));
        return -err;
    }
    int count = tcpc_afp_receive(afp);
    tcpc_advance(afp->stack, tcpc_io_now());
    tcpc_afp_flush(afp);
    return count;
}

void tcpc_afp_close(struct tcpc_afp *afp)
{
    if (afp->rx.map)
        munmap(afp->rx.map, afp->rx.map_len + afp->tx.map_len);
    afp->rx.map = afp->tx.map = NULL;
    if (afp->fd >= 0)
        close(afp->fd);
    afp->fd = -1;
}
