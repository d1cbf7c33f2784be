/*
 * The connection listing (include/tcpcore/listing.h): control blocks here,
 * with the SYN cache and TIME_WAIT adding their entries through their own
 * walkers; and tcpdrop, which acts on what the listing shows.
 */
#include <errno.h>

#include "core/stack.h"
#include "tcp/tcp_demux.h"
#include "tcp/syncache.h"
#include "tcp/tcp_subr.h"
#include "tcp/timewait.h"
#include "tcpcore/listing.h"

const char *tcpc_state_name(unsigned state)
{
    return tcp_state_name(state);
}

static int tcp_list_pcbs(struct tcpc_stack *stack, tcpc_conn_fn fn, void *ctx)
{
    struct tcp_state *ts = stack->tcp;
    for (struct tcpcb *tp = tcb_deref(ts, ts->all); tp; tp = tcb_deref(ts, tp->all_next)) {
        struct tcpc_conninfo ci = {
            .kind = TCPC_CONN_PCB,
            .state = tcp_user_state(stack, tp),
            .sd = tp->sd,
            .laddr = tp->inp->laddr,
            .faddr = tp->inp->faddr,
            .lport = tp->inp->lport,
            .fport = tp->inp->fport,
            .snd_queue = tp->snd.len,
            .rcv_queue = tp->rcv.len,
        };
        int stop = fn(ctx, &ci);
        if (stop)
            return stop;
    }
    return 0;
}

int tcpc_list_connections(struct tcpc_stack *stack, tcpc_conn_fn fn, void *ctx)
{
    int stop = tcp_list_pcbs(stack, fn, ctx);
    if (stop)
        return stop;
    stop = syncache_pcblist(stack, fn, ctx);
    if (stop)
        return stop;
    return tw_list(stack, fn, ctx);
}

int tcpc_drop_connection(struct tcpc_stack *stack, const struct tcpc_addr *laddr, uint16_t lport,
                         const struct tcpc_addr *faddr, uint16_t fport)
{
    if (!laddr || !faddr || lport == 0 || fport == 0 || tcpc_addr_is_any(laddr) ||
        tcpc_addr_is_any(faddr) || tcpc_addr_is_v4(laddr) != tcpc_addr_is_v4(faddr))
        return -EINVAL;
    if (tw_drop(stack, laddr, lport, faddr, fport))
        return 0;
    struct tcpcb *tp = demux_lookup_exact(stack, faddr, fport, laddr, lport);
    if (!tp)
        return -ENOENT;
    tcp_drop(stack, tp, ECONNABORTED);
    tcp_deliver_events(stack);
    return 0;
}
