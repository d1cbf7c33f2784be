/*
 * The backends that spread received packets over per-core queues, against
 * the kernel and without a stack, two queues each:
 *
 *   tun DEV       a multiqueue TUN device (tcpc_tun_open_queues): UDP flows
 *                 the kernel sends into it, IPv4 and IPv6, land on both
 *                 queues, every packet of one flow on one queue;
 *   hash VA VB    AF_PACKET fanout by the kernel's hash (tcpc_afp_open_group
 *                 on VA): TCP frames sent into VB's end spread the same way;
 *   owner VA VB   fanout by the ownership program (fanout.h): a frame to an
 *                 ephemeral local port p lands on socket p mod 2, one to a
 *                 listener's port where tcpc_afp_fanout_queue says, one
 *                 whose TCP header follows an IPv6 extension header on 0,
 *                 an ICMP / ICMPv6 error where the quoted segment's
 *                 replies go.
 *
 * Run by mq_spread.sh inside a namespace it creates.
 */
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "af_packet.h"
#include "clock.h"
#include "fanout.h"
#include "tcp_probe.h"
#include "tun.h"

#define QUEUES     2
#define FLOWS      64 /* per family */
#define PER_FLOW   4
#define FLOW_PORT0 30000 /* flow i uses port FLOW_PORT0 + i */

/* Where the packets of each flow (family f, flow i) arrived. */
struct spread {
    int queue_of[2][FLOWS]; /* -1: none yet */
    unsigned packets[2][FLOWS];
    unsigned flows_on[QUEUES];
    unsigned split; /* packets of a flow seen on a second queue */
};

static void spread_init(struct spread *s)
{
    memset(s, 0, sizeof(*s));
    memset(s->queue_of, -1, sizeof(s->queue_of));
}

static void spread_note(struct spread *s, int fam, uint16_t port, unsigned queue)
{
    if (port < FLOW_PORT0 || port >= FLOW_PORT0 + FLOWS)
        return; /* not ours (router solicitations and the like) */
    unsigned i = port - FLOW_PORT0;
    if (s->queue_of[fam][i] < 0) {
        s->queue_of[fam][i] = (int)queue;
        s->flows_on[queue]++;
    } else if (s->queue_of[fam][i] != (int)queue) {
        s->split++;
    }
    s->packets[fam][i]++;
}

static unsigned spread_count(const struct spread *s)
{
    unsigned n = 0;
    for (int f = 0; f < 2; f++)
        for (int i = 0; i < FLOWS; i++)
            n += s->packets[f][i];
    return n;
}

static int spread_verdict(const char *what, const struct spread *s)
{
    unsigned got = spread_count(s);
    printf("%s: %u of %u packets; flows per queue %u / %u; %u packets off their flow's queue\n",
           what, got, 2 * FLOWS * PER_FLOW, s->flows_on[0], s->flows_on[1], s->split);
    return got == 2 * FLOWS * PER_FLOW && s->split == 0 && s->flows_on[0] > 0 && s->flows_on[1] > 0
               ? 0
               : 1;
}

/* Where an IP packet's transport header starts and its family (0: IPv4,
 * 1: IPv6), or -1 when it is neither or too short. */
static int ip_transport(const uint8_t *p, size_t len, uint8_t proto, size_t *off)
{
    if (len >= 20 && p[0] >> 4 == 4 && p[9] == proto) {
        *off = 4u * (p[0] & 0xf);
        return *off + 4 <= len ? 0 : -1;
    }
    if (len >= 44 && p[0] >> 4 == 6 && p[6] == proto) {
        *off = 40;
        return 1;
    }
    return -1;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* --- multiqueue TUN ---------------------------------------------------- */

static void tun_drain(const int *fds, struct spread *s)
{
    uint8_t buf[2048];
    for (unsigned q = 0; q < QUEUES; q++) {
        ssize_t n;
        while ((n = read(fds[q], buf, sizeof(buf))) > 0) {
            size_t off;
            int fam = ip_transport(buf, (size_t)n, IPPROTO_UDP, &off);
            if (fam >= 0)
                spread_note(s, fam, get16(buf + off + 2), q);
        }
    }
}

/* Sends PER_FLOW datagrams to each destination port from one socket per
 * family, so the flows differ in the destination port only. */
static int tun_send(int fam, const int *fds, struct spread *s)
{
    int sd = socket(fam ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sd < 0)
        return perror("mq_selftest: UDP socket"), 1;
    for (unsigned i = 0; i < FLOWS; i++) {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(FLOW_PORT0 + i)};
        struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(FLOW_PORT0 + i)};
        inet_pton(AF_INET, "198.18.0.2", &in.sin_addr);
        inet_pton(AF_INET6, "2001:db8::2", &in6.sin6_addr);
        for (unsigned k = 0; k < PER_FLOW; k++) {
            ssize_t r = fam ? sendto(sd, "x", 1, 0, (struct sockaddr *)&in6, sizeof(in6))
                            : sendto(sd, "x", 1, 0, (struct sockaddr *)&in, sizeof(in));
            if (r < 0)
                return perror("mq_selftest: sendto into the TUN"), close(sd), 1;
        }
        tun_drain(fds, s);
    }
    close(sd);
    return 0;
}

static int test_tun(const char *dev)
{
    int fds[QUEUES];
    char why[256];
    int err = tcpc_tun_open_queues(dev, TCPC_TUN_EXISTING, fds, QUEUES, why, sizeof(why));
    if (err) {
        fprintf(stderr, "mq_selftest: %s\n", why);
        return 1;
    }
    /* A second single-queue attach must be refused, not steal a queue. */
    int extra;
    int refused = tcpc_tun_open_flags(dev, TCPC_TUN_EXISTING, &extra, why, sizeof(why));
    if (!refused)
        close(extra);
    struct spread s;
    spread_init(&s);
    int rc = tcpc_tun_wait_running(dev, 2 * TCPC_USEC_PER_SEC) ? 1 : 0;
    if (!rc)
        rc = tun_send(0, fds, &s) | tun_send(1, fds, &s);
    tcpc_time_t deadline = tcpc_io_now() + TCPC_USEC_PER_SEC;
    while (!rc && spread_count(&s) < 2 * FLOWS * PER_FLOW && tcpc_io_now() < deadline) {
        poll(&(struct pollfd){.fd = fds[0], .events = POLLIN}, 1, 10);
        tun_drain(fds, &s);
    }
    for (unsigned q = 0; q < QUEUES; q++)
        close(fds[q]);
    printf("tun: a single-queue attach to the multiqueue device %s\n",
           refused ? "is refused" : "was ACCEPTED");
    return rc | spread_verdict("tun", &s) | !refused;
}

/* --- AF_PACKET fanout ------------------------------------------------- */

struct afp_seen {
    struct spread *spread;
    unsigned queue;
    unsigned frames;
    size_t last_len; /* the owner mode's check that the frame is the one sent */
};

static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 2};

static void afp_tap(void *ctx, char dir, tcpc_time_t now, const uint8_t *f, size_t len)
{
    (void)now;
    struct afp_seen *seen = ctx;
    if (dir != 'i' || len < 14 + 20 || memcmp(f + 6, peer_mac, 6) != 0)
        return;
    seen->frames++;
    seen->last_len = len;
    size_t off;
    int fam = ip_transport(f + 14, len - 14, IPPROTO_TCP, &off);
    if (seen->spread && fam >= 0)
        spread_note(seen->spread, fam, get16(f + 14 + off), seen->queue);
}

static int peer_socket(const char *ifname)
{
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        perror("mq_selftest: peer socket");
        exit(1);
    }
    return fd;
}

/* Sends an IP packet framed to mac from the peer's address. */
static int send_packet(int peer, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
    uint8_t f[14 + PROBE_MAX];
    memcpy(f, mac, 6);
    memcpy(f + 6, peer_mac, 6);
    f[12] = pkt[0] >> 4 == 4 ? 0x08 : 0x86;
    f[13] = pkt[0] >> 4 == 4 ? 0x00 : 0xdd;
    memcpy(f + 14, pkt, len);
    if (send(peer, f, 14 + len, 0) != (ssize_t)(14 + len))
        return perror("mq_selftest: send from the peer"), 1;
    return 0;
}

static int send_probe(int peer, const uint8_t mac[6], const struct probe *pr)
{
    uint8_t pkt[PROBE_MAX];
    return send_packet(peer, mac, pkt, probe_build(pkt, pr));
}

/* Receives on every socket until `frames` have arrived in all or a second
 * has passed. */
static void afp_wait(struct tcpc_afp *afps, struct afp_seen *seen, unsigned frames)
{
    tcpc_time_t deadline = tcpc_io_now() + TCPC_USEC_PER_SEC;
    for (;;) {
        unsigned got = 0;
        for (unsigned q = 0; q < QUEUES; q++) {
            tcpc_afp_receive(&afps[q]);
            got += seen[q].frames;
        }
        if (got >= frames || tcpc_io_now() >= deadline)
            return;
        struct pollfd pfd[QUEUES];
        for (unsigned q = 0; q < QUEUES; q++)
            pfd[q] = (struct pollfd){.fd = afps[q].fd, .events = POLLIN};
        poll(pfd, QUEUES, 10);
    }
}

static struct tcpc_addr addr_of(const char *text)
{
    struct tcpc_addr a;
    if (tcpc_addr_parse(text, &a) != 0)
        abort();
    return a;
}

/* The two families' addresses: the peer and us. */
static const char *const peer_addr[2] = {"198.18.0.2", "2001:db8::2"};
static const char *const our_addr[2] = {"198.18.0.1", "2001:db8::1"};

static int test_hash(struct tcpc_afp *afps, struct afp_seen *seen, int peer, const uint8_t mac[6])
{
    struct spread s;
    spread_init(&s);
    unsigned sent = 0;
    for (unsigned q = 0; q < QUEUES; q++)
        seen[q] = (struct afp_seen){.spread = &s, .queue = q};
    for (int fam = 0; fam < 2; fam++)
        for (unsigned i = 0; i < FLOWS; i++) {
            struct probe pr = {.src = addr_of(peer_addr[fam]),
                               .dst = addr_of(our_addr[fam]),
                               .sport = (uint16_t)(FLOW_PORT0 + i),
                               .dport = 80,
                               .proto = IPPROTO_TCP};
            for (unsigned k = 0; k < PER_FLOW; k++, sent++)
                if (send_probe(peer, mac, &pr))
                    return 1;
            afp_wait(afps, seen, sent);
        }
    return spread_verdict("fanout hash", &s);
}

/* Sends one packet and says on which socket it arrived (-1: none, or on
 * more than one). */
static int owner_send(struct tcpc_afp *afps, struct afp_seen *seen, int peer, const uint8_t mac[6],
                      const uint8_t *pkt, size_t len)
{
    for (unsigned q = 0; q < QUEUES; q++)
        seen[q] = (struct afp_seen){.queue = q};
    if (send_packet(peer, mac, pkt, len))
        return -1;
    afp_wait(afps, seen, 1);
    int where = -1;
    for (unsigned q = 0; q < QUEUES; q++)
        if (seen[q].frames == 1 && seen[q].last_len == 14 + len && where < 0)
            where = (int)q;
        else if (seen[q].frames)
            return -1;
    return where;
}

static int owner_probe(struct tcpc_afp *afps, struct afp_seen *seen, int peer, const uint8_t mac[6],
                       const struct probe *pr)
{
    uint8_t pkt[PROBE_MAX];
    return owner_send(afps, seen, peer, mac, pkt, probe_build(pkt, pr));
}

/* ICMP errors from a router about segments we sent, from ephemeral ports
 * and from a listener's: each must land where the segment's replies do.
 * Returns the number on the wrong socket. */
static unsigned owner_icmp(struct tcpc_afp *afps, struct afp_seen *seen, int peer,
                           const uint8_t mac[6], const struct tcpc_afp_fanout_rule *rule,
                           unsigned *sent)
{
    static const char *const router[2] = {"198.18.0.254", "2001:db8::fe"};
    unsigned wrong = 0;
    uint32_t x = 777;
    for (int fam = 0; fam < 2; fam++)
        for (unsigned i = 0; i < 32; i++, (*sent)++) {
            x = x * 1103515245u + 12345u;
            bool from_listener = i % 2;
            struct probe ours = {.src = addr_of(our_addr[fam]),
                                 .dst = addr_of(peer_addr[fam]),
                                 .sport = from_listener ? 80 : (uint16_t)(10000 + (x >> 8) % 55536),
                                 .dport =
                                     from_listener ? (uint16_t)(10000 + (x >> 8) % 50000) : 443,
                                 .proto = IPPROTO_TCP};
            struct tcpc_addr r = addr_of(router[fam]);
            uint8_t pkt[PROBE_MAX];
            size_t len = probe_icmp_error(pkt, &r, &ours, 0);
            unsigned want =
                tcpc_afp_fanout_queue(rule, &ours.dst, ours.dport, &ours.src, ours.sport);
            int got = owner_send(afps, seen, peer, mac, pkt, len);
            if (got != (int)want) {
                wrong++;
                printf("owner: %s error about port %u on socket %d, not %u\n",
                       fam ? "ICMPv6" : "ICMP", ours.sport, got, want);
            }
        }
    return wrong;
}

static int test_owner(struct tcpc_afp *afps, struct afp_seen *seen, int peer, const uint8_t mac[6],
                      const struct tcpc_afp_fanout_rule *rule)
{
    unsigned wrong = 0, ports = 0, listener = 0, on[QUEUES] = {0};
    uint32_t x = 12345;
    for (int fam = 0; fam < 2; fam++)
        for (unsigned i = 0; i < 2 * FLOWS; i++) {
            x = x * 1103515245u + 12345u;
            bool to_listener = i % 2;
            struct probe pr = {.src = addr_of(peer_addr[fam]),
                               .dst = addr_of(our_addr[fam]),
                               .sport = to_listener ? (uint16_t)(10000 + (x >> 8) % 50000) : 443,
                               .dport = to_listener ? 80 : (uint16_t)(10000 + (x >> 8) % 55536),
                               .proto = IPPROTO_TCP};
            unsigned want = to_listener
                                ? tcpc_afp_fanout_queue(rule, &pr.src, pr.sport, &pr.dst, pr.dport)
                                : pr.dport % QUEUES;
            int got = owner_probe(afps, seen, peer, mac, &pr);
            if (got != (int)want) {
                wrong++;
                printf("owner: %s port %u from %u on socket %d, not %u\n", fam ? "IPv6" : "IPv4",
                       pr.dport, pr.sport, got, want);
            } else {
                on[got]++;
            }
            to_listener ? listener++ : ports++;
        }
    /* An IPv6 extension header hides the ports from the program: queue 0,
     * whatever the port says. */
    struct probe ext = {.src = addr_of(peer_addr[1]),
                        .dst = addr_of(our_addr[1]),
                        .sport = 443,
                        .dport = 40001,
                        .proto = IPPROTO_TCP,
                        .v6_next = 60};
    int got = owner_probe(afps, seen, peer, mac, &ext);
    unsigned icmp = 0, icmp_wrong = owner_icmp(afps, seen, peer, mac, rule, &icmp);
    printf("owner: %u ephemeral-port and %u listener frames, %u on the wrong socket; per socket "
           "%u / %u; extension header on socket %d; %u of %u ICMP errors on the wrong socket\n",
           ports, listener, wrong, on[0], on[1], got, icmp_wrong, icmp);
    return wrong == 0 && on[0] > 0 && on[1] > 0 && got == 0 && icmp_wrong == 0 ? 0 : 1;
}

/* Frames leaving the interface must not come back to the group as
 * received ones, as they do not to a lone socket (PACKET_IGNORE_OUTGOING):
 * neither the group's own (the kernel skips the sender's group) nor those
 * of another sender on the interface (PACKET_FANOUT_FLAG_IGNORE_OUTGOING). */
static int test_no_echo(struct tcpc_afp *afps, struct afp_seen *seen, const char *va,
                        const uint8_t mac[6])
{
    for (unsigned q = 0; q < QUEUES; q++)
        seen[q] = (struct afp_seen){.queue = q};
    struct probe pr = {.src = addr_of(peer_addr[0]),
                       .dst = addr_of(our_addr[0]),
                       .sport = 443,
                       .dport = 40000,
                       .proto = IPPROTO_TCP};
    uint8_t f[14 + PROBE_MAX];
    memcpy(f, mac, 6);
    memcpy(f + 6, peer_mac, 6); /* what the tap counts */
    f[12] = 0x08;
    f[13] = 0x00;
    size_t len = 14 + probe_build(f + 14, &pr);
    for (unsigned q = 0; q < QUEUES; q++)
        if (tcpc_afp_output(&afps[q], f, len) || tcpc_afp_flush(&afps[q]))
            return printf("no echo: sending failed\n"), 1;
    int other = peer_socket(va);
    if (send(other, f, len, 0) != (ssize_t)len)
        return perror("mq_selftest: send out of the group's interface"), close(other), 1;
    close(other);
    tcpc_time_t deadline = tcpc_io_now() + 200 * TCPC_USEC_PER_MSEC;
    while (tcpc_io_now() < deadline) {
        for (unsigned q = 0; q < QUEUES; q++)
            tcpc_afp_receive(&afps[q]);
        poll(NULL, 0, 10);
    }
    unsigned back = seen[0].frames + seen[1].frames;
    printf("no echo: %u of %u frames sent out of the interface came back to the group\n", back,
           QUEUES + 1);
    return back == 0 ? 0 : 1;
}

static int test_fanout(const char *va, const char *vb, bool owner)
{
    uint8_t mac[6];
    if (tcpc_afp_hwaddr(va, mac))
        return 1;
    struct tcpc_config *cfg;
    struct tcpc_afp_fanout_rule rule;
    if (tcpc_config_new(&cfg) || tcpc_afp_fanout_rule_init(&rule, QUEUES, cfg))
        return 1;
    tcpc_config_del(cfg);
    struct tcpc_afp_opts opts = {.rx_block_size = 65536, .rx_blocks = 8, .tx_slots = 32};
    struct tcpc_afp afps[QUEUES];
    if (tcpc_afp_open_group(afps, QUEUES, va, &opts,
                            owner ? TCPC_AFP_FANOUT_OWNER : TCPC_AFP_FANOUT_HASH, &rule))
        return 1;
    struct afp_seen seen[QUEUES] = {0};
    for (unsigned q = 0; q < QUEUES; q++) {
        afps[q].tap = afp_tap;
        afps[q].tap_ctx = &seen[q];
        while (tcpc_afp_receive(&afps[q]) > 0) /* whatever came before the group */
            ;
    }
    int peer = peer_socket(vb);
    int rc = owner ? test_owner(afps, seen, peer, mac, &rule) : test_hash(afps, seen, peer, mac);
    rc |= test_no_echo(afps, seen, va, mac);
    close(peer);
    for (unsigned q = 0; q < QUEUES; q++)
        tcpc_afp_close(&afps[q]);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "tun"))
        return test_tun(argv[2]);
    if (argc == 4 && (!strcmp(argv[1], "hash") || !strcmp(argv[1], "owner")))
        return test_fanout(argv[2], argv[3], !strcmp(argv[1], "owner"));
    fprintf(stderr, "usage: mq_selftest tun DEV | hash VA VB | owner VA VB\n");
    return 2;
}
