/*
 * The counters in netstat -s wording; see stat_counters.h.
 *
 * Each line is a template: "{name}" is a counter's value, "{s}" is "s"
 * unless the last value was 1, "{ies}" is "y" or "ies" likewise. The tab
 * depth says whether a line is a total or a part of the one above.
 */
#include "stat_counters.h"

#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "stat_client.h"
#include "tcpcore/listing.h"
#include "tcpcore/stats.h"

struct line {
    int depth;
    const char *text;
};

static const struct line tcp_lines[] = {
    {1, "{tcps_sndtotal} packet{s} sent"},
    {2, "{tcps_sndpack} data packet{s} ({tcps_sndbyte} byte{s})"},
    {2, "{tcps_sndrexmitpack} data packet{s} ({tcps_sndrexmitbyte} byte{s}) retransmitted"},
    {2, "{tcps_sndacks} ack-only packet{s} ({tcps_delack} delayed)"},
    {2, "{tcps_sndprobe} window probe packet{s}"},
    {2, "{tcps_sndwinup} window update packet{s}"},
    {2, "{tcps_sndctrl} control packet{s}, of which {tcps_sndrst} reset{s}"},
    {1, "{tcps_rcvtotal} packet{s} received"},
    {2, "{tcps_rcvackpack} ack{s} (for {tcps_rcvackbyte} byte{s})"},
    {2, "{tcps_rcvdupack} duplicate ack{s}"},
    {2, "{tcps_rcvacktoomuch} ack{s} for unsent data"},
    {2, "{tcps_rcvpack} packet{s} ({tcps_rcvbyte} byte{s}) received in-sequence"},
    {2, "{tcps_rcvduppack} completely duplicate packet{s} ({tcps_rcvdupbyte} byte{s})"},
    {2, "{tcps_pawsdrop} old duplicate packet{s} (PAWS)"},
    {2, "{tcps_rcvpartduppack} packet{s} with some duplicate data"},
    {2, "{tcps_rcvoopack} out-of-order packet{s} ({tcps_rcvoobyte} byte{s})"},
    {2, "{tcps_rcvpackafterwin} packet{s} of data after window"},
    {2, "{tcps_rcvwinprobe} window probe{s}"},
    {2, "{tcps_rcvwinupd} window update packet{s}"},
    {2, "{tcps_rcvafterclose} packet{s} received after close"},
    {2, "{tcps_rcvbadsum} discarded for bad checksum{s}"},
    {2, "{tcps_rcvbadoff} discarded for bad header offset field{s}"},
    {2, "{tcps_rcvshort} discarded because packet too short"},
    {2, "{tcps_rcvbadopt} discarded for malformed options"},
    {2, "{tcps_rcvreassfull} discarded because the reassembly queue was full"},
    {1, "{tcps_connattempt} connection request{s}"},
    {1, "{tcps_accepts} connection accept{s}"},
    {1, "{tcps_badsyn} bad connection attempt{s}"},
    {1, "{tcps_listendrop} listen queue overflow{s}"},
    {1, "{tcps_badrst} ignored RST{s} in the window"},
    {1, "{tcps_connects} connection{s} established (including accepts)"},
    {1, "{tcps_closed} connection{s} closed (including {tcps_drops} drop{s})"},
    {1, "{tcps_conndrops} embryonic connection{s} dropped"},
    {1, "{tcps_rttupdated} segment{s} updated rtt (of {tcps_segstimed} attempt{s})"},
    {1, "{tcps_rexmttimeo} retransmit timeout{s}"},
    {2, "{tcps_timeoutdrop} connection{s} dropped by rexmit timeout"},
    {1, "{tcps_persisttimeo} persist timeout{s}"},
    {1, "{tcps_keeptimeo} keepalive timeout{s}"},
    {1, "{tcps_challenge_ack} challenge ACK{s} sent ({tcps_challenge_ack_limited} rate-limited)"},
    {1, "{tcps_noport} packet{s} for a port nobody listens on"},
    {1, "{tcps_dropped_noconn} packet{s} dropped for lack of a connection"},
    {1, "{tcps_sc_added} syncache entr{ies} added"},
    {2, "{tcps_sc_retransmitted} retransmitted"},
    {2, "{tcps_sc_dupsyn} dupsyn"},
    {2, "{tcps_sc_dropped} dropped"},
    {2, "{tcps_sc_completed} completed"},
    {2, "{tcps_sc_bucketoverflow} bucket overflow"},
    {2, "{tcps_sc_cacheoverflow} cache overflow"},
    {2, "{tcps_sc_reset} reset"},
    {2, "{tcps_sc_stale} stale"},
    {2, "{tcps_sc_aborted} aborted"},
    {2, "{tcps_sc_badack} badack"},
    {2, "{tcps_sc_unreach} unreach"},
    {2, "{tcps_sc_zonefail} zone failure{s}"},
    {2, "{tcps_sc_sbfail} completion{s} refused: no spare socket buffers"},
    {1, "{tcps_sc_sendcookie} cookie{s} sent"},
    {1, "{tcps_sc_recvcookie} cookie{s} received"},
    {2, "{tcps_sc_spurcookie} ignored: cookies not in use"},
    {2, "{tcps_sc_failcookie} failed validation"},
    {1, "{tcps_sc_paused} time{s} a SYN flood switched the syncache to cookies only"},
    {1, "{tcps_tw_added} connection{s} entered TIME_WAIT"},
    {2, "{tcps_tw_expired} expired after 2MSL"},
    {2, "{tcps_tw_recycles} recycled because the table was full"},
    {2, "{tcps_tw_reopened} closed by a new SYN"},
    {2, "{tcps_tw_reused} taken over by connect ({tcps_tw_reuse_refused} refused)"},
    {2, "{tcps_tw_nospace} closed without TIME_WAIT: table full"},
    {2, "{tcps_tw_nolocal} closed without TIME_WAIT: local peer"},
    {2, "{tcps_tw_responds} ack{s} sent from TIME_WAIT"},
    {2, "{tcps_tw_finrearm} retransmitted FIN{s} restarted 2MSL"},
    {2, "{tcps_tw_resets} RST{s} ignored (RFC 1337)"},
    {2, "{tcps_tw_badsyn} SYN{s} not starting a new connection"},
    {2, "{tcps_tw_noack} segment{s} without ACK dropped"},
    {2, "{tcps_tw_dupack} duplicate ack{s} dropped"},
    {1, "{tcps_ecn_ce} packet{s} with ECN CE bit set"},
    {1, "{tcps_ecn_ect0} packet{s} with ECN ECT(0) bit set"},
    {1, "{tcps_ecn_ect1} packet{s} with ECN ECT(1) bit set"},
    {1, "{tcps_ecn_sndect0} packet{s} sent with ECN ECT(0) bit set"},
    {1, "{tcps_ecn_shs} successful ECN handshake{s}"},
    {1, "{tcps_ecn_rcwnd} time{s} ECN reduced the congestion window"},
    {0, NULL},
};

static const struct line ip_lines[] = {
    {1, "{ips_total} total packet{s} received"},
    {2, "{ips_toosmall} with size smaller than minimum"},
    {2, "{ips_tooshort} with data size < data length"},
    {2, "{ips_badvers} with incorrect version number"},
    {2, "{ips_badhlen} with bad header length"},
    {2, "{ips_badsum} bad header checksum{s}"},
    {2, "{ips_fragments} fragment{s} dropped (no reassembly)"},
    {2, "{ips_badaddr} with a multicast, broadcast or unspecified source"},
    {2, "{ips_notlocal} packet{s} not for this host"},
    {2, "{ips_noproto} packet{s} for unknown/unsupported protocol"},
    {2, "{ip6s_toomanyhdr} IPv6 packet{s} with too many extension headers"},
    {2, "{ip6s_exthdrtooshort} IPv6 packet{s} with extension headers past the end"},
    {1, "{ips_localout} packet{s} sent from this host"},
    {2, "{ips_odropped} output packet{s} dropped: the link refused them"},
    {0, NULL},
};

static const struct line icmp_lines[] = {
    {1, "{icps_tooshort} message{s} too short"},
    {1, "{icps_checksum} bad checksum{s}"},
    {1, "{icps_ignored} message{s} of a type TCP does not act on"},
    {1, "{icps_unreach} unreachable or too-big error{s} delivered to TCP"},
    {0, NULL},
};

/* Prints one template line; marks the counters it used. */
static void print_line(FILE *out, const struct line *l, json_object *counters, bool *used)
{
    char buf[512];
    size_t n = 0;
    uint64_t last = 0;
    for (const char *p = l->text; *p && n < sizeof(buf) - 32;) {
        const char *close = *p == '{' ? strchr(p, '}') : NULL;
        if (!close) {
            buf[n++] = *p++;
            continue;
        }
        char name[64];
        size_t len = (size_t)(close - p - 1);
        snprintf(name, sizeof(name), "%.*s", (int)len, p + 1);
        p = close + 1;
        if (!strcmp(name, "s")) {
            if (last != 1)
                buf[n++] = 's';
        } else if (!strcmp(name, "ies")) {
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", last == 1 ? "y" : "ies");
        } else {
            last = stat_u64(counters, name);
            int id = tcpc_stat_lookup(name);
            if (id >= 0)
                used[id] = true;
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%" PRIu64, last);
        }
    }
    buf[n] = 0;
    fprintf(out, "%.*s%s\n", l->depth, "\t\t", buf);
}

static void print_section(FILE *out, const char *title, const struct line *lines,
                          json_object *counters, bool *used)
{
    fprintf(out, "%s:\n", title);
    for (const struct line *l = lines; l->text; l++)
        print_line(out, l, counters, used);
}

static void print_states(FILE *out, json_object *connections)
{
    fprintf(out, "TCP connection count by state:\n");
    size_t n = json_object_array_length(connections);
    for (unsigned s = 0; strcmp(tcpc_state_name(s), "?") != 0; s++) {
        uint64_t count = 0;
        for (size_t i = 0; i < n; i++) {
            json_object *state = stat_get(json_object_array_get_idx(connections, i), "state");
            if (state && !strcmp(json_object_get_string(state), tcpc_state_name(s)))
                count++;
        }
        fprintf(out, "\t%" PRIu64 " connection%s in %s state\n", count, count == 1 ? "" : "s",
                tcpc_state_name(s));
    }
}

void stat_print_counters(FILE *out, json_object *counters, json_object *connections)
{
    bool used[TCPC_STAT_COUNT] = {false};
    print_section(out, "tcp", tcp_lines, counters, used);
    if (connections)
        print_states(out, connections);
    print_section(out, "ip", ip_lines, counters, used);
    print_section(out, "icmp", icmp_lines, counters, used);
    bool header = false;
    for (unsigned i = 0; i < TCPC_STAT_COUNT; i++) {
        if (used[i])
            continue;
        if (!header)
            fprintf(out, "other:\n");
        header = true;
        fprintf(out, "\t%" PRIu64 " %s (%s)\n", stat_u64(counters, tcpc_stat_name(i)),
                tcpc_stat_desc(i), tcpc_stat_name(i));
    }
}
