/*
 * impair-relay: a path with delay, a bottleneck and random loss between
 * two TUN devices, for a kernel without netem (bench/vs_linux_transfer.sh).
 *
 * What the kernel routes out of device A comes in at device B after the
 * a2b impairment, and the other way round after b2a (impair.h says what
 * one direction does). The devices may sit in two network namespaces:
 * --netns-a/--netns-b name the namespace (a /run/netns/NAME file) in
 * which each is attached. Devices that exist are attached (ip tuntap add
 * ... mode tun); others are created and vanish when the relay exits.
 * Packets are forwarded as they are, whatever they hold: only their
 * lengths are used.
 *
 * Options apply to both directions, or to one after --a2b or --b2a (and
 * to both again after --both). The loss decisions come from a PRNG seeded
 * with --seed (drawn when not given, and printed either way): the n-th
 * packet of a direction is lost or not as a function of the seed alone.
 *
 * Prints "impair-relay: ready ..." once both devices are attached, and at
 * SIGTERM or SIGINT one line per direction:
 *   impair-relay dir=a2b packets=.. bytes=.. lost=.. queue_drops=..
 *     too_big=.. delivered=.. max_queue_bytes=.. write_errors=..
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "impair.h"

#define RELAY_BATCH 64 /* packets read from one device per wakeup */

struct relay {
    const char *dev[2], *netns[2];
    struct impair_conf conf[2]; /* [0] a2b, [1] b2a */
    uint32_t nslots;
    uint64_t seed;
    int fd[2], timer, ep;
    struct impair_dir dir[2];
    uint64_t write_errors[2];
    uint64_t armed; /* the timer's expiry, or IMPAIR_NEVER */
};

static volatile sig_atomic_t relay_stop;

static void on_signal(int sig)
{
    (void)sig;
    relay_stop = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
    fprintf(stderr, "usage: impair-relay [options] DEV_A DEV_B\n"
                    "  --netns-a PATH, --netns-b PATH  attach the device in this namespace\n"
                    "                     (a file such as /run/netns/NAME)\n"
                    "  --seed N           seed of the loss decisions (default: drawn, printed)\n"
                    "  --slots N          packets held per direction (default 4096)\n"
                    "  --a2b, --b2a, --both  the options that follow apply to that direction\n"
                    "  --delay-ms X       one-way delay (default 0)\n"
                    "  --rate-mbit X      bottleneck rate in Mbit/s (default 0: none)\n"
                    "  --queue BYTES      drop-tail queue before the bottleneck (default 250000)\n"
                    "  --burst BYTES      token bucket size (default 4096; at least one packet)\n"
                    "  --loss PERCENT     random loss of arriving packets (default 0)\n");
    exit(2);
}

static double parse_real(const char *what, const char *text, double max)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !(v >= 0 && v <= max)) {
        fprintf(stderr, "impair-relay: bad %s \"%s\" (0 to %g)\n", what, text, max);
        exit(2);
    }
    return v;
}

static uint64_t parse_uint(const char *what, const char *text, uint64_t max)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno || end == text || *end || text[0] == '-' || v > max) {
        fprintf(stderr, "impair-relay: bad %s \"%s\" (0 to %" PRIu64 ")\n", what, text, max);
        exit(2);
    }
    return v;
}

static void parse_args(int argc, char **argv, struct relay *r)
{
    for (int d = 0; d < 2; d++)
        r->conf[d] = (struct impair_conf){.queue_bytes = 250000, .burst_bytes = 4096};
    r->nslots = 4096;
    bool seeded = false, on[2] = {true, true};
    int ndev = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        double x = 0;
        if (!strcmp(a, "--a2b") || !strcmp(a, "--b2a") || !strcmp(a, "--both")) {
            on[0] = strcmp(a, "--b2a") != 0;
            on[1] = strcmp(a, "--a2b") != 0;
            continue;
        }
        if (a[0] != '-') {
            if (ndev == 2)
                usage();
            r->dev[ndev++] = a;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (!strcmp(a, "--netns-a") || !strcmp(a, "--netns-b")) {
            r->netns[a[8] == 'b'] = v;
            continue;
        } else if (!strcmp(a, "--seed")) {
            r->seed = parse_uint("seed", v, UINT64_MAX);
            seeded = true;
            continue;
        } else if (!strcmp(a, "--slots")) {
            r->nslots = (uint32_t)parse_uint("slot count", v, 1 << 20);
            continue;
        }
        for (int d = 0; d < 2; d++) {
            struct impair_conf *c = &r->conf[d];
            if (!on[d])
                continue;
            if (!strcmp(a, "--delay-ms"))
                x = parse_real("delay", v, 10000), c->delay_ns = (uint64_t)(x * 1e6 + 0.5);
            else if (!strcmp(a, "--rate-mbit"))
                x = parse_real("rate", v, 1e6), c->rate_bps = (uint64_t)(x * 1e6 + 0.5);
            else if (!strcmp(a, "--queue"))
                c->queue_bytes = (uint32_t)parse_uint("queue size", v, 1 << 30);
            else if (!strcmp(a, "--burst"))
                c->burst_bytes = (uint32_t)parse_uint("burst size", v, 1 << 30);
            else if (!strcmp(a, "--loss"))
                x = parse_real("loss", v, 100), c->loss_ppm = (uint32_t)(x * 1e4 + 0.5);
            else
                usage();
        }
    }
    if (ndev != 2)
        usage();
    if (!seeded && getrandom(&r->seed, sizeof(r->seed), 0) != sizeof(r->seed))
        r->seed = now_ns();
}

/* Attaches TUN device name (in namespace netns, when given). */
static int tun_attach(const char *name, const char *netns)
{
    if (netns) {
        int nfd = open(netns, O_RDONLY | O_CLOEXEC);
        if (nfd < 0 || setns(nfd, CLONE_NEWNET) < 0) {
            fprintf(stderr, "impair-relay: namespace %s: %s\n", netns, strerror(errno));
            exit(1);
        }
        close(nfd);
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (strlen(name) >= sizeof(ifr.ifr_name)) {
        fprintf(stderr, "impair-relay: device name %s too long\n", name);
        exit(2);
    }
    strcpy(ifr.ifr_name, name);
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "impair-relay: TUN device %s: %s\n", name, strerror(errno));
        exit(1);
    }
    return fd;
}

static void relay_setup(struct relay *r)
{
    for (int d = 0; d < 2; d++)
        r->fd[d] = tun_attach(r->dev[d], r->netns[d]);
    uint64_t now = now_ns();
    for (int d = 0; d < 2; d++) {
        /* Each direction its own stream, both from the one seed. */
        uint64_t seed = d ? r->seed ^ 0x5bd1e9955bd1e995ull : r->seed;
        int err = impair_init(&r->dir[d], &r->conf[d], r->nslots, seed, now);
        if (err) {
            fprintf(stderr, "impair-relay: %s\n",
                    err == -ENOMEM ? "out of memory" : "bad settings (a rate needs a burst)");
            exit(2);
        }
    }
    /* The timer wakes us for the next departure: ask for it to the
     * nanosecond, not within the default 50 us slack. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    r->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    if (r->timer < 0 || r->ep < 0) {
        perror("impair-relay: timer");
        exit(1);
    }
    r->armed = IMPAIR_NEVER;
    for (int i = 0; i < 3; i++) {
        int fd = i < 2 ? r->fd[i] : r->timer;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            perror("impair-relay: epoll");
            exit(1);
        }
    }
}

/* Reads what device d holds (up to a batch) into its direction. */
static void relay_read(struct relay *r, int d)
{
    static uint8_t scratch[IMPAIR_SLOT];
    for (int i = 0; i < RELAY_BATCH; i++) {
        uint8_t *buf = impair_slot(&r->dir[d]);
        ssize_t n = read(r->fd[d], buf ? buf : scratch, IMPAIR_SLOT);
        if (n <= 0)
            return; /* EAGAIN: drained */
        impair_offer(&r->dir[d], (size_t)n, buf != NULL, now_ns());
    }
}

/* Writes every packet of direction d that is due into the other device. */
static void relay_deliver(struct relay *r, int d, uint64_t now)
{
    const uint8_t *p;
    size_t len;
    while ((p = impair_due(&r->dir[d], now, &len)) != NULL) {
        if (write(r->fd[!d], p, len) != (ssize_t)len)
            r->write_errors[d]++;
        impair_pop(&r->dir[d]);
    }
}

/* Sets the timer for the next event; the epoll timeout (0 when it is due). */
static int relay_arm(struct relay *r, uint64_t now)
{
    uint64_t a = impair_next(&r->dir[0]), b = impair_next(&r->dir[1]);
    uint64_t next = a < b ? a : b;
    if (next != IMPAIR_NEVER && next <= now)
        return 0;
    if (next != r->armed) {
        struct itimerspec its = {0};
        if (next != IMPAIR_NEVER) {
            its.it_value.tv_sec = (time_t)(next / 1000000000ull);
            its.it_value.tv_nsec = (long)(next % 1000000000ull);
        }
        timerfd_settime(r->timer, TFD_TIMER_ABSTIME, &its, NULL);
        r->armed = next;
    }
    return -1;
}

static void relay_run(struct relay *r)
{
    struct epoll_event evs[3];
    while (!relay_stop) {
        uint64_t now = now_ns();
        relay_deliver(r, 0, now);
        relay_deliver(r, 1, now);
        int n = epoll_wait(r->ep, evs, 3, relay_arm(r, now));
        if (n < 0 && errno != EINTR) {
            perror("impair-relay: epoll_wait");
            exit(1);
        }
        for (int i = 0; i < n; i++) {
            uint32_t what = evs[i].data.u32;
            if (what < 2) {
                relay_read(r, (int)what);
            } else {
                uint64_t expiries;
                if (read(r->timer, &expiries, sizeof(expiries)) > 0)
                    r->armed = IMPAIR_NEVER;
            }
        }
    }
}

static void print_conf(const char *name, const struct impair_conf *c)
{
    printf(" %s: delay_ms=%.3f rate_mbit=%.3f queue=%" PRIu32 " burst=%" PRIu32
           " loss_ppm=%" PRIu32,
           name, (double)c->delay_ns / 1e6, (double)c->rate_bps / 1e6, c->queue_bytes,
           c->burst_bytes, c->loss_ppm);
}

int main(int argc, char **argv)
{
    static struct relay r;
    parse_args(argc, argv, &r);
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: epoll_wait returns */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    relay_setup(&r);
    printf("impair-relay: seed=%" PRIu64, r.seed);
    print_conf("a2b", &r.conf[0]);
    print_conf("b2a", &r.conf[1]);
    printf("\nimpair-relay: ready %s %s\n", r.dev[0], r.dev[1]);
    fflush(stdout);
    relay_run(&r);
    for (int d = 0; d < 2; d++) {
        const struct impair_counts *c = &r.dir[d].n;
        printf("impair-relay dir=%s packets=%" PRIu64 " bytes=%" PRIu64 " lost=%" PRIu64
               " queue_drops=%" PRIu64 " too_big=%" PRIu64 " delivered=%" PRIu64
               " max_queue_bytes=%" PRIu32 " write_errors=%" PRIu64 "\n",
               d ? "b2a" : "a2b", c->packets, c->bytes, c->lost, c->queue_drops, c->too_big,
               c->delivered, c->max_queue_bytes, r.write_errors[d]);
        impair_free(&r.dir[d]);
    }
    return 0;
}
