/*
 * The connection listing (include/tcpcore/listing.h): control blocks here,
 * with the SYN cache and TIME_WAIT adding their entries through their own
 * walkers.
 */
#include "core/stack.h"
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
