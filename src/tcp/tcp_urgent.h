/*
 * Urgent data (RFC 9293 3.8.5, RFC 6093), as BSD sockets present it: one
 * out-of-band byte per urgent pointer.
 *
 * The urgent pointer is taken with the BSD meaning every deployed stack
 * uses and RFC 6093 recommends: it names the byte after the last urgent
 * one. Sending with TCPC_MSG_OOB puts SND.UP after the last byte queued;
 * every segment that starts before it carries URG and the offset to it
 * (65,535 at most: a pointer further on is reached by later segments),
 * retransmissions included, until the peer acknowledges past it.
 *
 * On receipt, RCV.UP only moves forward, and the byte before it, the
 * out-of-band byte, is copied to the control block when it arrives in
 * order (t_iobc) for one TCPC_MSG_OOB read. It stays in the receive ring
 * (no byte is moved out of the middle of a ring) but stream reads step
 * over it unless SO_OOBINLINE; reads stop at the mark, so that
 * tcpc_sockatmark tells when the next byte read is the one after it.
 */
#ifndef TCPCORE_TCP_TCP_URGENT_H
#define TCPCORE_TCP_TCP_URGENT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcp/tcp_var.h"
#include "util/seq.h"
#include "wire/tcp.h"

struct tcpc_stack;

/* t_oobflags */
#define TCPOOB_SNDURG   0x01 /* snd_up is ahead of snd_una: our segments carry URG */
#define TCPOOB_MARK     0x02 /* rcv_up marks a byte the reader has not passed */
#define TCPOOB_HAVEDATA 0x04 /* that byte arrived and waits in t_iobc */
#define TCPOOB_HADDATA  0x08 /* ... and a TCPC_MSG_OOB read took it */
#define TCPOOB_INLINE   0x10 /* SO_OOBINLINE: the byte stays in the stream */
#define URG_CAUGHT      (TCPOOB_HAVEDATA | TCPOOB_HADDATA)

/* The checks every segment makes are inline here, each one test of
 * t_oobflags while no urgent data is about; the work is in tcp_urgent.c. */

/* Send side. The application's urgent byte is the last one queued. */
void urg_send_mark(struct tcpcb *tp);
/* snd_una moved: urgent mode ends once the pointer is acknowledged. */
static inline void urg_acked(struct tcpcb *tp)
{
    if ((tp->t_oobflags & TCPOOB_SNDURG) && SEQ_GEQ(tp->snd_una, tp->snd_up))
        tp->t_oobflags &= (uint8_t)~TCPOOB_SNDURG;
}
/* Whether the urgent pointer lies past seq (data there is sent at once,
 * Nagle and TCP_NOPUSH notwithstanding, as FreeBSD sends it). */
static inline bool urg_ahead_of(const struct tcpcb *tp, uint32_t seq)
{
    return (tp->t_oobflags & TCPOOB_SNDURG) && SEQ_GT(tp->snd_up, seq);
}
/* URG and the pointer's offset on th (urg_output, the pointer ahead). */
void urg_output_mark(const struct tcpcb *tp, struct tcp_repr *th);
/* URG and the pointer's offset on a segment starting at th->seq. */
static inline void urg_output(const struct tcpcb *tp, struct tcp_repr *th)
{
    if (!(th->flags & TH_SYN) && urg_ahead_of(tp, th->seq))
        urg_output_mark(tp, th);
}

/* Receive side. A segment's URG, before its text is taken (RFC 9293
 * 3.10.7.4, sixth check); seq is the segment's own SEQ, before trimming. */
void urg_input(struct tcpc_stack *stack, struct tcpcb *tp, uint32_t seq, uint8_t flags,
               uint16_t urp);
/* urg_arrived with a mark whose byte is not yet kept. */
void urg_arrived_marked(struct tcpcb *tp);
/* rcv_nxt moved: the out-of-band byte is kept once it is in order. */
static inline void urg_arrived(struct tcpcb *tp)
{
    if ((tp->t_oobflags & (TCPOOB_MARK | URG_CAUGHT)) == TCPOOB_MARK)
        urg_arrived_marked(tp);
}
/* A stream read of n bytes, ended at the mark when one lies ahead; *skip
 * is 1 when the read starts at the mark and steps over the out-of-band
 * byte first. */
uint32_t urg_read_limit(const struct tcpcb *tp, uint32_t n, uint32_t *skip);
/* The out-of-band byte is in the ring and stream reads do not see it. */
static inline bool urg_hidden(const struct tcpcb *tp)
{
    return (tp->t_oobflags & (TCPOOB_MARK | TCPOOB_INLINE)) == TCPOOB_MARK &&
           (tp->t_oobflags & URG_CAUGHT);
}
/* Bytes held for stream reads: rcv.len less an out-of-band byte. */
static inline uint32_t urg_unread(const struct tcpcb *tp)
{
    return tp->rcv.len - (urg_hidden(tp) ? 1 : 0);
}
/* After bytes were consumed from the receive buffer, or all of it was
 * dropped by a read shutdown. */
void urg_consumed(struct tcpcb *tp);
/* A TCPC_MSG_OOB read: 0 with the byte, -EINVAL (no mark, SO_OOBINLINE,
 * already read) or -EAGAIN (announced, not yet arrived). */
int urg_recv_oob(struct tcpcb *tp, uint8_t *byte, bool peek);
/* Whether the next byte a stream read returns follows the mark. */
bool urg_atmark(const struct tcpcb *tp);

#endif
