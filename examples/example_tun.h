/*
 * What the two TUN examples share: attaching to a TUN device, a stack whose
 * packets go to it, the monotonic clock in the stack's unit, and a timerfd
 * armed at the stack's next deadline. An event loop needs nothing else from
 * the system; everything TCP is in the library.
 */
#ifndef TCPCORE_EXAMPLE_TUN_H
#define TCPCORE_EXAMPLE_TUN_H

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <tcpcore/stack.h>

/* Attaches to the existing TUN device `name` (IP packets, no header):
 * a non-blocking descriptor, or -1 with a message. */
static int tun_open(const char *name)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "cannot attach to TUN device %s: %s\n", name, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* The stack's output: one packet, one write. A full device queue is a lost
 * packet, which TCP recovers from. */
static int tun_output(void *ctx, const uint8_t *pkt, size_t len)
{
    return write(*(const int *)ctx, pkt, len) == (ssize_t)len ? 0 : -ENOBUFS;
}

static tcpc_time_t now_usec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (tcpc_time_t)ts.tv_sec * TCPC_USEC_PER_SEC + (tcpc_time_t)ts.tv_nsec / 1000;
}

/* A stack on the TUN descriptor *fd answering for addr ("198.18.0.2/24"),
 * or NULL with a message. */
static struct tcpc_stack *tun_stack(const int *fd, const char *addr)
{
    char text[64];
    snprintf(text, sizeof(text), "%s", addr);
    char *slash = strchr(text, '/');
    unsigned prefixlen = 0;
    if (slash) {
        *slash = '\0';
        prefixlen = (unsigned)atoi(slash + 1);
    }
    struct tcpc_addr a;
    struct tcpc_config *cfg;
    struct tcpc_stack *stack = NULL;
    const char *why = "out of memory";
    if (tcpc_addr_parse(text, &a) != 0) {
        fprintf(stderr, "not an address: %s\n", addr);
        return NULL;
    }
    if (tcpc_config_new(&cfg) != 0) {
        fprintf(stderr, "cannot make a configuration: %s\n", why);
        return NULL;
    }
    tcpc_config_set_output(cfg, tun_output, (void *)fd);
    if (tcpc_config_add_addr(cfg, &a, prefixlen) != 0 || tcpc_config_check(cfg, &why) != 0 ||
        tcpc_stack_new(cfg, now_usec(), &stack) != 0)
        fprintf(stderr, "cannot make a stack on %s: %s\n", addr, why);
    tcpc_config_del(cfg);
    return stack;
}

/* Feeds every packet waiting on the TUN descriptor to the stack. */
static void tun_input(int fd, struct tcpc_stack *stack)
{
    static uint8_t pkt[65536];
    ssize_t n;
    while ((n = read(fd, pkt, sizeof(pkt))) > 0)
        tcpc_input(stack, now_usec(), pkt, (size_t)n);
}

/* Arms the timerfd (CLOCK_MONOTONIC) at the stack's next deadline. */
static void timer_arm(int tfd, const struct tcpc_stack *stack)
{
    tcpc_time_t at = tcpc_next_deadline(stack);
    struct itimerspec its;
    memset(&its, 0, sizeof(its));
    if (at != TCPC_TIME_NEVER) { /* a zero it_value disarms, so never ask for 0 */
        its.it_value.tv_sec = (time_t)(at / TCPC_USEC_PER_SEC);
        its.it_value.tv_nsec = (long)(at % TCPC_USEC_PER_SEC) * 1000 + 1;
    }
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

#endif
