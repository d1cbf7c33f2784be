/*
 * The daemon's device, TUN or AF_PACKET; see device.h.
 *
 * AF_PACKET start-up checks, in this order, what the backend would
 * otherwise only report in its own words: that the interface exists, that
 * we may open packet sockets, and that it has an Ethernet address (a TUN or
 * loopback device has none), so each gets one sentence and its exit status.
 */
#define _GNU_SOURCE

#include "device.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "exitcodes.h"

#define WHY(...) (snprintf(why, DMN_WHY_LEN, __VA_ARGS__))

/* The exit status for a failure to open the device. */
static int device_status(int err)
{
    switch (-err) {
    case EPERM:
    case EACCES:
        return DMN_EXIT_NO_PRIVILEGE;
    case EBUSY:
        return DMN_EXIT_IN_USE;
    case ENODEV:
    case EINVAL:
        return DMN_EXIT_NO_DEVICE;
    default:
        return DMN_EXIT_RUNTIME;
    }
}

static int open_tun(struct dmn *d, struct tcpc_config *cfg, char *why)
{
    int fd;
    unsigned flags = TCPC_TUN_EXISTING | (d->conf.multi_queue ? TCPC_TUN_MULTI_QUEUE : 0);
    char reason[DMN_WHY_LEN - 64];
    int err = tcpc_tun_open_flags(d->conf.device, flags, &fd, reason, sizeof(reason));
    if (err) {
        WHY("%s", reason);
        return device_status(err);
    }
    tcpc_tun_init_fd(&d->tun, fd);
    tcpc_tun_configure(&d->tun, cfg);
    return DMN_EXIT_OK;
}

static int check_packet_socket(const char *name, char *why)
{
    if (!if_nametoindex(name)) {
        WHY("there is no network interface named %s", name);
        return DMN_EXIT_NO_DEVICE;
    }
    int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (s < 0) {
        int err = errno;
        WHY("cannot open a packet socket for %s: %s (AF_PACKET needs CAP_NET_RAW)", name,
            strerror(err));
        return device_status(-err);
    }
    close(s);
    return DMN_EXIT_OK;
}

/* The stack's link: the interface's MAC, and its MTU unless --mtu asked
 * for less. */
static int ether_link(struct dmn *d, struct tcpc_config *cfg, const uint8_t mac[6], char *why)
{
    static const uint8_t zero[6];
    const char *name = d->conf.device;
    if (!memcmp(mac, zero, 6) || (mac[0] & 1)) {
        WHY("interface %s has no Ethernet address: AF_PACKET needs an Ethernet interface", name);
        return DMN_EXIT_NO_DEVICE;
    }
    if (d->conf.mtu_given && d->conf.mtu > d->afp.mtu) {
        WHY("MTU %u is larger than interface %s's MTU of %u", d->conf.mtu, name, d->afp.mtu);
        return DMN_EXIT_BAD_SETTING;
    }
    struct tcpc_ether_addr ea;
    memcpy(ea.bytes, mac, 6);
    tcpc_config_set_link(cfg, TCPC_LINK_ETHER, &ea); /* a unicast MAC: checked above */
    if (!d->conf.mtu_given) {
        if (tcpc_config_set_mtu(cfg, d->afp.mtu) != 0) {
            WHY("the stack refuses interface %s: its MTU of %u is not in %d..%d", name, d->afp.mtu,
                TCPC_MTU_MIN, TCPC_MTU_MAX);
            return DMN_EXIT_BAD_SETTING;
        }
        d->conf.mtu = d->afp.mtu;
    }
    tcpc_afp_configure(&d->afp, cfg);
    const char *reason = NULL;
    if (tcpc_config_check(cfg, &reason)) {
        WHY("the stack refuses interface %s: %s", name, reason ? reason : "invalid");
        return DMN_EXIT_BAD_SETTING;
    }
    return DMN_EXIT_OK;
}

static int open_afp(struct dmn *d, struct tcpc_config *cfg, char *why)
{
    const char *name = d->conf.device;
    uint8_t mac[6];
    int rc = check_packet_socket(name, why);
    if (rc)
        return rc;
    int err = tcpc_afp_hwaddr(name, mac);
    if (!err)
        err = tcpc_afp_open(&d->afp, name, &(struct tcpc_afp_opts){0});
    if (err) {
        WHY("cannot open AF_PACKET rings on %s: %s", name, strerror(-err));
        return device_status(err);
    }
    return ether_link(d, cfg, mac, why);
}

static bool on_afp(const struct dmn *d)
{
    return d->conf.af_packet;
}

/* -j N on AF_PACKET: N sockets in one fanout group whose classic BPF
 * program is the workers' ownership rule, socket i for worker i. */
static int open_afp_group(struct dmn_host *h, struct tcpc_config **cfgs, char *why)
{
    const char *name = h->w[0]->conf.device;
    uint8_t mac[6];
    int rc = check_packet_socket(name, why);
    if (rc)
        return rc;
    struct tcpc_afp *afps = calloc(h->n, sizeof(*afps));
    if (!afps) {
        WHY("out of memory for %u AF_PACKET sockets", h->n);
        return DMN_EXIT_RUNTIME;
    }
    int err = tcpc_afp_hwaddr(name, mac);
    if (!err)
        err = tcpc_afp_open_group(afps, h->n, name, &(struct tcpc_afp_opts){0},
                                  TCPC_AFP_FANOUT_OWNER, &h->rule);
    if (err) {
        free(afps);
        WHY("cannot open %u AF_PACKET sockets in a fanout group on %s: %s", h->n, name,
            strerror(-err));
        return device_status(err);
    }
    /* Each socket's state moves into its worker, which closes it. */
    for (unsigned i = 0; i < h->n; i++)
        h->w[i]->afp = afps[i];
    free(afps);
    for (unsigned i = 0; i < h->n && !rc; i++)
        rc = ether_link(h->w[i], cfgs[i], mac, why);
    return rc;
}

/* -j N on a TUN device made with multi_queue: queue i for worker i. */
static int open_tun_queues(struct dmn_host *h, struct tcpc_config **cfgs, char *why)
{
    int fds[DMN_MAX_JOBS];
    char reason[DMN_WHY_LEN - 64];
    int err = tcpc_tun_open_queues(h->w[0]->conf.device, TCPC_TUN_EXISTING | TCPC_TUN_MULTI_QUEUE,
                                   fds, h->n, reason, sizeof(reason));
    if (err) {
        WHY("%s", reason);
        return device_status(err);
    }
    for (unsigned i = 0; i < h->n; i++) {
        tcpc_tun_init_fd(&h->w[i]->tun, fds[i]);
        tcpc_tun_configure(&h->w[i]->tun, cfgs[i]);
    }
    return DMN_EXIT_OK;
}

static int open_pcap(struct dmn *d, char *why)
{
    char reason[DMN_WHY_LEN - 64];
    int err = tcpc_pcap_open(d->conf.pcap, on_afp(d) ? TCPC_PCAP_ETHERNET : TCPC_PCAP_RAW_IP, 0,
                             &d->pcap, reason, sizeof(reason));
    if (err) {
        WHY("%s", reason);
        return err == -EACCES || err == -EPERM ? DMN_EXIT_NO_PRIVILEGE : DMN_EXIT_BAD_SETTING;
    }
    if (on_afp(d)) {
        d->afp.tap = tcpc_pcap_tap;
        d->afp.tap_ctx = d->pcap;
    } else {
        d->tun.tap = tcpc_pcap_tap;
        d->tun.tap_ctx = d->pcap;
    }
    return DMN_EXIT_OK;
}

int dmn_device_open(struct dmn *d, struct tcpc_config *cfg, char *why)
{
    int rc = on_afp(d) ? open_afp(d, cfg, why) : open_tun(d, cfg, why);
    if (rc || !d->conf.pcap[0])
        return rc;
    return open_pcap(d, why);
}

int dmn_devices_open(struct dmn_host *h, struct tcpc_config **cfgs, char *why)
{
    struct dmn *d = h->w[0];
    if (h->n == 1)
        return dmn_device_open(d, cfgs[0], why);
    int rc = on_afp(d) ? open_afp_group(h, cfgs, why) : open_tun_queues(h, cfgs, why);
    if (rc || !d->conf.pcap[0])
        return rc;
    rc = open_pcap(d, why);
    if (rc)
        return rc;
    /* One file for every worker: each writes under the file's lock. */
    for (unsigned i = 0; i < h->n; i++) {
        struct dmn *w = h->w[i];
        if (on_afp(w)) {
            w->afp.tap = dmn_pcap_tap_locked;
            w->afp.tap_ctx = h;
        } else {
            w->tun.tap = dmn_pcap_tap_locked;
            w->tun.tap_ctx = h;
        }
    }
    return DMN_EXIT_OK;
}

void dmn_device_attach(struct dmn *d)
{
    if (on_afp(d))
        tcpc_afp_attach(&d->afp, d->stack);
    else
        tcpc_tun_attach(&d->tun, d->stack);
}

void dmn_device_wait_running(struct dmn *d)
{
    /* Attaching raised the TUN carrier; the kernel sends on the device only
     * once it has seen that. An interface still down is not an error. */
    if (!on_afp(d) && tcpc_tun_wait_running(d->conf.device, 2 * TCPC_USEC_PER_SEC) < 0)
        fprintf(stderr, "tcpcored: warning: %s is not up yet; serving anyway\n", d->conf.device);
}

int dmn_device_fd(const struct dmn *d)
{
    return on_afp(d) ? d->afp.fd : d->tun.fd;
}

int dmn_device_input(struct dmn *d)
{
    /* Both take a bounded batch; level-triggered epoll calls again for the
     * rest. */
    return on_afp(d) ? tcpc_afp_receive(&d->afp) : tcpc_tun_drain(&d->tun);
}

void dmn_device_flush(struct dmn *d)
{
    if (on_afp(d) && d->afp.tx_pending)
        tcpc_afp_flush(&d->afp);
}

const char *dmn_device_backend(const struct dmn *d)
{
    return on_afp(d) ? "af_packet" : "tun";
}

const char *dmn_device_mode(const struct dmn *d)
{
    return on_afp(d) ? "ether" : "ip";
}

void dmn_device_sync(struct dmn *d)
{
    if (on_afp(d))
        tcpc_afp_sync_drops(&d->afp);
}

void dmn_device_counters(const struct dmn *d, struct dmn_dev_counters *out)
{
    if (on_afp(d)) {
        const struct tcpc_afp *a = &d->afp;
        *out = (struct dmn_dev_counters){a->rx_packets,
                                         a->rx_bytes,
                                         a->tx_packets,
                                         a->tx_bytes,
                                         a->tx_ring_full + a->tx_too_big + a->tx_bad_format,
                                         a->rx_dropped};
    } else {
        const struct tcpc_tun *t = &d->tun;
        *out = (struct dmn_dev_counters){
            t->rx_packets, t->rx_bytes,   t->tx_packets,
            t->tx_bytes,   t->tx_dropped, 0 /* the kernel's tun queue counts its own */};
    }
}

void dmn_device_close(struct dmn *d)
{
    if (on_afp(d))
        tcpc_afp_close(&d->afp);
    else
        tcpc_tun_close(&d->tun);
}
