/*
 * The network device under the stack, one of two kinds:
 *   - a TUN device (--tun): IP packets, the stack on an IP-level link;
 *   - an AF_PACKET socket on an Ethernet interface (--af-packet), such as
 *     one end of a veth pair: whole frames, the stack on an Ethernet link
 *     with the interface's MAC address, running ARP and neighbour
 *     discovery itself, with the interface's MTU unless --mtu says less.
 * The rest of the daemon sees one descriptor to watch, one call to read
 * what arrived, one to push out what the stack queued and one set of
 * counters.
 */
#ifndef TCPCORED_DEVICE_H
#define TCPCORED_DEVICE_H

#include <stdint.h>

#include "tcpcore/stack.h"

struct dmn;
struct dmn_host;

struct dmn_dev_counters {
    uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
    uint64_t tx_dropped; /* not sent: TUN write failures, AF_PACKET ring full or too long */
    uint64_t rx_dropped; /* lost before we read them: AF_PACKET RX ring full */
};

/* Opens the device (and the capture file), puts the link settings and the
 * output callback into cfg. An exit status, with the reason in why. */
int dmn_device_open(struct dmn *d, struct tcpc_config *cfg, char *why);

/* The devices of every worker (cfgs[i] for worker i): with one worker,
 * dmn_device_open; with N, the N sockets of an AF_PACKET fanout group
 * under the workers' ownership rule, or N queues of a multiqueue TUN
 * device. One capture file for all. */
int dmn_devices_open(struct dmn_host *h, struct tcpc_config **cfgs, char *why);

/* Hands the device's packets to the stack d->stack. */
void dmn_device_attach(struct dmn *d);

/* Waits (briefly) until the kernel sends on the device; says so if not. */
void dmn_device_wait_running(struct dmn *d);

/* The descriptor to watch for input. */
int dmn_device_fd(const struct dmn *d);

/* Gives what arrived to the stack. Negative: the device failed. */
int dmn_device_input(struct dmn *d);

/* Sends what the stack queued during this loop turn (AF_PACKET's TX ring;
 * TUN writes at once). */
void dmn_device_flush(struct dmn *d);

/* "tun" or "af_packet"; "ip" or "ether". */
const char *dmn_device_backend(const struct dmn *d);
const char *dmn_device_mode(const struct dmn *d);

void dmn_device_counters(const struct dmn *d, struct dmn_dev_counters *out);

/* Brings the counters the kernel keeps for us (AF_PACKET receive drops) up
 * to date: before a report, not on the packet path. */
void dmn_device_sync(struct dmn *d);

void dmn_device_close(struct dmn *d);

#endif
