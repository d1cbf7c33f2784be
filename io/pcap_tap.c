/*
 * The pcap tap; see pcap_tap.h.
 */
#define _GNU_SOURCE

#include "pcap_tap.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tcpc_pcap {
    pcap_t *dead;
    pcap_dumper_t *dumper;
    uint32_t snaplen;
    int64_t wall_offset; /* wall-clock minus monotonic, microseconds */
    uint64_t count;
};

static int64_t pcap_clock_usec(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * (int64_t)TCPC_USEC_PER_SEC + ts.tv_nsec / 1000;
}

int tcpc_pcap_open(const char *path, enum tcpc_pcap_link link, uint32_t snaplen,
                   struct tcpc_pcap **out, char *why, size_t whylen)
{
    struct tcpc_pcap *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(why, whylen, "no memory for the capture of %s", path);
        return -ENOMEM;
    }
    p->snaplen = snaplen ? snaplen : 262144;
    p->dead = pcap_open_dead(link == TCPC_PCAP_ETHERNET ? DLT_EN10MB : DLT_RAW, (int)p->snaplen);
    if (!p->dead) {
        snprintf(why, whylen, "libpcap cannot make a capture handle");
        free(p);
        return -ENOMEM;
    }
    errno = 0;
    p->dumper = pcap_dump_open(p->dead, path);
    if (!p->dumper) {
        int err = errno ? errno : EIO;
        snprintf(why, whylen, "cannot write the capture file %s: %s", path, pcap_geterr(p->dead));
        pcap_close(p->dead);
        free(p);
        return -err;
    }
    p->wall_offset = pcap_clock_usec(CLOCK_REALTIME) - pcap_clock_usec(CLOCK_MONOTONIC);
    *out = p;
    return 0;
}

void tcpc_pcap_write(struct tcpc_pcap *p, tcpc_time_t now, const uint8_t *pkt, size_t len)
{
    int64_t wall = now ? (int64_t)now + p->wall_offset : pcap_clock_usec(CLOCK_REALTIME);
    struct pcap_pkthdr h = {
        .ts = {.tv_sec = (time_t)(wall / (int64_t)TCPC_USEC_PER_SEC),
               .tv_usec = (suseconds_t)(wall % (int64_t)TCPC_USEC_PER_SEC)},
        .caplen = (bpf_u_int32)(len < p->snaplen ? len : p->snaplen),
        .len = (bpf_u_int32)len,
    };
    pcap_dump((u_char *)p->dumper, &h, pkt);
    p->count++;
}

void tcpc_pcap_tap(void *ctx, char dir, tcpc_time_t now, const uint8_t *pkt, size_t len)
{
    (void)dir;
    tcpc_pcap_write(ctx, now, pkt, len);
}

int tcpc_pcap_flush(struct tcpc_pcap *p)
{
    return pcap_dump_flush(p->dumper) == 0 ? 0 : -EIO;
}

uint64_t tcpc_pcap_count(const struct tcpc_pcap *p)
{
    return p->count;
}

void tcpc_pcap_close(struct tcpc_pcap *p)
{
    if (!p)
        return;
    pcap_dump_close(p->dumper);
    pcap_close(p->dead);
    free(p);
}
