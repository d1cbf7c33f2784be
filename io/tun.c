/*
 * The TUN backend; see tun.h.
 */
#define _GNU_SOURCE

#include "tun.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h> /* before linux/if.h, which defers to it */
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Packets handled per wakeup before timers get their turn. */
#define TUN_BATCH 256

int tcpc_tun_open(const char *name, int *fd)
{
    char why[256];
    int err = tcpc_tun_open_flags(name, 0, fd, why, sizeof(why));
    if (err)
        fprintf(stderr, "tun: %s\n", why);
    return err;
}

static const char *tun_attach_hint(int err, unsigned flags)
{
    switch (err) {
    case EBUSY:
        return " (another process holds it)";
    case EINVAL:
        return flags & TCPC_TUN_MULTI_QUEUE
                   ? " (exists but is not a multiqueue TUN device without packet info?)"
                   : " (exists but is not a TUN device without packet info, or is multiqueue?)";
    case EPERM:
        return " (needs CAP_NET_ADMIN, or owned by another user)";
    default:
        return "";
    }
}

int tcpc_tun_open_flags(const char *name, unsigned flags, int *fd, char *why, size_t whylen)
{
    if (!name || !*name || strlen(name) >= IFNAMSIZ) {
        snprintf(why, whylen, "device name \"%s\" is empty or longer than %d characters",
                 name ? name : "", IFNAMSIZ - 1);
        return -EINVAL;
    }
    if ((flags & TCPC_TUN_EXISTING) && if_nametoindex(name) == 0) {
        snprintf(why, whylen,
                 "there is no network interface named %s (create it first: ip tuntap add dev %s "
                 "mode tun%s)",
                 name, name, flags & TCPC_TUN_MULTI_QUEUE ? " multi_queue" : "");
        return -ENODEV;
    }
    int tfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (tfd < 0) {
        int err = errno;
        snprintf(why, whylen, "cannot open /dev/net/tun: %s%s", strerror(err),
                 err == ENOENT                   ? " (is the tun module loaded?)"
                 : err == EACCES || err == EPERM ? " (needs CAP_NET_ADMIN)"
                                                 : "");
        return err == ENOENT || err == ENXIO ? -ENODEV : -err;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (flags & TCPC_TUN_MULTI_QUEUE)
        ifr.ifr_flags |= IFF_MULTI_QUEUE;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(tfd, TUNSETIFF, &ifr) < 0) {
        int err = errno;
        snprintf(why, whylen, "cannot attach to TUN device %s: %s%s", name, strerror(err),
                 tun_attach_hint(err, flags));
        close(tfd);
        /* An interface of that name that is not a TUN device is not there
         * as far as we are concerned; a queue-flag mismatch stays EINVAL. */
        return err == EINVAL && !(flags & TCPC_TUN_MULTI_QUEUE) ? -ENODEV : -err;
    }
    *fd = tfd;
    return 0;
}

int tcpc_tun_open_queues(const char *name, unsigned flags, int *fds, unsigned n, char *why,
                         size_t whylen)
{
    if (n == 0 || n > TCPC_TUN_MAX_QUEUES) {
        snprintf(why, whylen, "%u queues asked of TUN device %s: 1 to %d", n, name ? name : "",
                 TCPC_TUN_MAX_QUEUES);
        return -EINVAL;
    }
    for (unsigned i = 0; i < n; i++) {
        /* Queues after the first attach to the device the first made. */
        unsigned f = flags | TCPC_TUN_MULTI_QUEUE | (i ? TCPC_TUN_EXISTING : 0);
        int err = tcpc_tun_open_flags(name, f, &fds[i], why, whylen);
        if (err) {
            while (i > 0)
                close(fds[--i]);
            return err;
        }
    }
    return 0;
}

/* IFF_RUNNING follows the kernel's operational state, which turns up when
 * the link watcher has handled the carrier (and started the device's
 * transmit queue); IFF_LOWER_UP is the raw carrier and turns up too soon. */
int tcpc_tun_wait_running(const char *name, tcpc_time_t timeout)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        int err = errno;
        fprintf(stderr, "tun: socket for interface flags: %s\n", strerror(err));
        return -err;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
    tcpc_time_t deadline = tcpc_tun_now() + timeout;
    int err = 0;
    for (;;) {
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
            err = -errno;
            fprintf(stderr, "tun: flags of %s: %s\n", name, strerror(errno));
            break;
        }
        if ((ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING)) {
            /* The flag turns before the queue starts, in the same step. */
            nanosleep(&(struct timespec){.tv_nsec = 2000000}, NULL);
            break;
        }
        if (tcpc_tun_now() >= deadline) {
            err = -ETIMEDOUT;
            fprintf(stderr, "tun: %s is not running after %llu ms%s%s%s\n", name,
                    (unsigned long long)(timeout / TCPC_USEC_PER_MSEC),
                    ifr.ifr_flags & IFF_UP ? "" : " (the link is down: ip link set dev ",
                    ifr.ifr_flags & IFF_UP ? "" : name, ifr.ifr_flags & IFF_UP ? "" : " up)");
            break;
        }
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    close(s);
    return err;
}

tcpc_time_t tcpc_tun_now(void)
{
    return tcpc_io_now();
}

int tcpc_tun_init(struct tcpc_tun *tun, const char *name)
{
    tcpc_tun_init_fd(tun, -1);
    return tcpc_tun_open(name, &tun->fd);
}

void tcpc_tun_init_fd(struct tcpc_tun *tun, int fd)
{
    memset(tun, 0, offsetof(struct tcpc_tun, rxbuf));
    tun->fd = fd;
}

void tcpc_tun_configure(struct tcpc_tun *tun, struct tcpc_config *cfg)
{
    tcpc_config_set_output(cfg, tcpc_tun_output, tun);
}

void tcpc_tun_attach(struct tcpc_tun *tun, struct tcpc_stack *stack)
{
    tun->stack = stack;
}

/* True when fault injection says to lose this packet. */
static bool tun_lose(struct tcpc_tun *tun)
{
    if (!tun->loss_ppm)
        return false;
    uint64_t x = tun->loss_seed ? tun->loss_seed : 0x9e3779b97f4a7c15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    tun->loss_seed = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32) % 1000000u < tun->loss_ppm;
}

int tcpc_tun_output(void *ctx, const uint8_t *pkt, size_t len)
{
    struct tcpc_tun *tun = ctx;
    if (tun_lose(tun)) {
        tun->tx_lost++;
        return 0;
    }
    ssize_t n;
    do
        n = write(tun->fd, pkt, len);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) {
        tun->tx_dropped++;
        tun->tx_errno = n < 0 ? errno : EMSGSIZE;
        return -ENOBUFS;
    }
    tun->tx_packets++;
    tun->tx_bytes += len;
    /* After the write: a trace shows what reached the device, not what the
     * stack hoped to send (a refused packet shows as ips_odropped). */
    if (tun->tap)
        tun->tap(tun->tap_ctx, 'o', tun->stack ? tcpc_now(tun->stack) : 0, pkt, len);
    return 0;
}

int tcpc_tun_drain(struct tcpc_tun *tun)
{
    int count = 0;
    while (count < TUN_BATCH) {
        ssize_t n = read(tun->fd, tun->rxbuf, sizeof(tun->rxbuf));
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                break;
            int err = errno;
            fprintf(stderr, "tun: read: %s\n", strerror(err));
            return -err;
        }
        if (tun_lose(tun)) {
            tun->rx_lost++;
            continue;
        }
        tcpc_time_t now = tcpc_tun_now();
        tun->rx_packets++;
        tun->rx_bytes += (uint64_t)n;
        if (tun->tap)
            tun->tap(tun->tap_ctx, 'i', now, tun->rxbuf, (size_t)n);
        tcpc_input(tun->stack, now, tun->rxbuf, (size_t)n);
        count++;
    }
    /* Always, not only when a timer is due: it also moves the stack's clock,
     * which the socket calls the application makes next run on. */
    tcpc_advance(tun->stack, tcpc_tun_now());
    return count;
}

int tcpc_tun_run_once(struct tcpc_tun *tun, tcpc_time_t max_wait)
{
    tcpc_time_t now = tcpc_tun_now();
    struct pollfd pfd = {.fd = tun->fd, .events = POLLIN};
    int timeout = tcpc_io_wait_ms(now, tcpc_next_deadline(tun->stack), max_wait);
    int ready = poll(&pfd, 1, timeout);
    if (ready < 0 && errno != EINTR) {
        int err = errno;
        fprintf(stderr, "tun: poll: %s\n", strerror(err));
        return -err;
    }
    if (ready > 0 && (pfd.revents & (POLLERR | POLLNVAL))) {
        fprintf(stderr, "tun: device descriptor failed (revents 0x%x)\n", (unsigned)pfd.revents);
        return -EIO;
    }
    if (ready <= 0) {
        tcpc_advance(tun->stack, tcpc_tun_now());
        return 0;
    }
    return tcpc_tun_drain(tun);
}

void tcpc_tun_close(struct tcpc_tun *tun)
{
    if (tun->fd >= 0)
        close(tun->fd);
    tun->fd = -1;
}
