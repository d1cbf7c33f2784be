/*
 * The pcap tap: every packet a backend reads or writes, appended to a
 * capture file that tcpdump and Wireshark read (libpcap's own writer, on a
 * "dead" handle: nothing is captured from the system).
 *
 * The link type follows the stack's mode: bare IP packets (TUN, IP mode)
 * are LINKTYPE_RAW, Ethernet frames (AF_PACKET, Ethernet mode) are
 * LINKTYPE_ETHERNET. Timestamps are wall-clock time: the stack's monotonic
 * microseconds shifted by the offset between the two clocks when the file
 * was opened, so the packets keep the order and spacing the stack saw.
 *
 * A backend calls tcpc_pcap_tap from its tap hook (its signature matches
 * tcpc_tun_tap_fn). Uses only the public API. Not thread-safe.
 */
#ifndef TCPCORE_IO_PCAP_TAP_H
#define TCPCORE_IO_PCAP_TAP_H

#include <stddef.h>
#include <stdint.h>

#include "tcpcore/addr.h"

enum tcpc_pcap_link {
    TCPC_PCAP_RAW_IP,   /* IPv4/IPv6 packets without a link header */
    TCPC_PCAP_ETHERNET, /* Ethernet frames */
};

struct tcpc_pcap;

/*
 * Creates (truncating) the capture file at path, recording at most snaplen
 * bytes of each packet (0: all of it). Returns 0 with the tap in *out, or a
 * negative errno with one sentence in why[0..whylen). The file is written
 * with the caller's privileges at open time: a daemon that drops root
 * afterwards keeps writing to it.
 */
int tcpc_pcap_open(const char *path, enum tcpc_pcap_link link, uint32_t snaplen,
                   struct tcpc_pcap **out, char *why, size_t whylen);

/* Appends one packet seen at monotonic time now (microseconds; 0: now). */
void tcpc_pcap_write(struct tcpc_pcap *p, tcpc_time_t now, const uint8_t *pkt, size_t len);

/* A backend tap hook: ctx is the struct tcpc_pcap; dir is ignored (pcap
 * has no direction field, and tcpdump tells them apart by address). */
void tcpc_pcap_tap(void *ctx, char dir, tcpc_time_t now, const uint8_t *pkt, size_t len);

/* Pushes buffered packets to the file, so that a reader sees them now.
 * Returns 0, or a negative errno when writing failed (disk full...). */
int tcpc_pcap_flush(struct tcpc_pcap *p);

/* Packets written so far. */
uint64_t tcpc_pcap_count(const struct tcpc_pcap *p);

/* Flushes and closes the file. NULL is accepted. */
void tcpc_pcap_close(struct tcpc_pcap *p);

#endif
