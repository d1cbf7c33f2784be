/*
 * The smallest tcpcore program worth reading: two stacks in one process,
 * joined by an in-memory link, no root and no device. Stack A runs an echo
 * server on port 7; stack B connects, sends a line, reads it back and
 * closes. Time is virtual: the loop jumps to the next deadline whenever the
 * link is idle, so timers (delayed ACKs, retransmissions) take no real time.
 *
 * Build it against an installed tcpcore:
 *     cc memlink_echo.c $(pkg-config --cflags --libs tcpcore) -o memlink_echo
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpcore/socket.h>
#include <tcpcore/stack.h>

/* The link: a queue of packets per direction, copied out of the stacks. */
struct pkt {
    struct pkt *next;
    int to; /* 0: stack A, 1: stack B */
    size_t len;
    unsigned char data[];
};
static struct pkt *head, **tail = &head;

static int send_to(void *ctx, const uint8_t *data, size_t len)
{
    struct pkt *p = malloc(sizeof(*p) + len);
    if (!p)
        return -1; /* the stack counts it as lost and retransmits */
    p->next = NULL;
    p->to = *(const int *)ctx;
    p->len = len;
    memcpy(p->data, data, len);
    *tail = p;
    tail = &p->next;
    return 0;
}

static struct tcpc_stack *make_stack(const char *addr, const int *peer)
{
    struct tcpc_config *cfg;
    struct tcpc_addr a;
    struct tcpc_stack *s = NULL;
    if (tcpc_config_new(&cfg) != 0)
        return NULL;
    tcpc_config_set_output(cfg, send_to, (void *)peer);
    if (tcpc_addr_parse(addr, &a) == 0 && tcpc_config_add_addr(cfg, &a, 24) == 0)
        tcpc_stack_new(cfg, 0, &s); /* the configuration is copied */
    tcpc_config_del(cfg);
    return s;
}

int main(void)
{
    static const int to_a = 0, to_b = 1;
    struct tcpc_stack *st[2] = {make_stack("198.18.0.1", &to_b), make_stack("198.18.0.2", &to_a)};
    if (!st[0] || !st[1]) {
        fprintf(stderr, "memlink_echo: cannot create the stacks\n");
        return 1;
    }
    int lsd = tcpc_socket(st[0], TCPC_AF_INET);
    tcpc_bind(st[0], lsd, NULL, 7);
    tcpc_listen(st[0], lsd, 16);

    struct tcpc_addr server;
    tcpc_addr_parse("198.18.0.1", &server);
    int csd = tcpc_socket(st[1], TCPC_AF_INET);
    tcpc_connect(st[1], csd, &server, 7);

    const char line[] = "hello over an in-memory link\n";
    char got[64] = "";
    size_t have = 0;
    int ssd = -1, sent = 0, done = 0; /* ssd: -1 before accept, -2 after close */
    tcpc_time_t now = 0;
    while (now < 120 * TCPC_USEC_PER_SEC) {
        /* Deliver every queued packet; each may make the stacks send more. */
        while (head) {
            struct pkt *p = head;
            head = p->next;
            if (!head)
                tail = &head;
            tcpc_input(st[p->to], now, p->data, p->len);
            free(p);
        }
        /* The applications: the server echoes, the client checks. */
        if (ssd == -1 && (ssd = tcpc_accept(st[0], lsd, NULL, NULL)) < 0)
            ssd = -1; /* not yet: -EAGAIN */
        if (ssd >= 0) {
            char buf[256];
            ssize_t n = tcpc_recv(st[0], ssd, buf, sizeof(buf));
            if (n > 0) {
                tcpc_send(st[0], ssd, buf, (size_t)n);
            } else if (n == 0) { /* the client's FIN: close ours */
                tcpc_close(st[0], ssd);
                ssd = -2;
            }
        }
        if (!sent && (tcpc_poll(st[1], csd) & TCPC_EV_WRITABLE))
            sent = tcpc_send(st[1], csd, line, strlen(line)) > 0;
        if (sent && !done) {
            ssize_t n = tcpc_recv(st[1], csd, got + have, sizeof(got) - 1 - have);
            if (n > 0)
                have += (size_t)n;
            if (have == strlen(line)) {
                printf("echoed: %s", got);
                tcpc_close(st[1], csd); /* FIN; the server answers with its own */
                done = 1;
            }
        }
        if (head)
            continue;
        if (done && ssd == -2)
            break; /* both FINs sent and acknowledged: the client keeps TIME_WAIT */
        /* Idle: jump to the earlier of the two stacks' deadlines. */
        tcpc_time_t next = tcpc_next_deadline(st[0]);
        if (tcpc_next_deadline(st[1]) < next)
            next = tcpc_next_deadline(st[1]);
        now = next > now ? next : now;
        tcpc_advance(st[0], now);
        tcpc_advance(st[1], now);
    }
    int ok = done && strcmp(got, line) == 0;
    printf("%s after %.1f virtual seconds\n", ok ? "done" : "FAILED", (double)now / 1e6);
    tcpc_stack_del(st[0]);
    tcpc_stack_del(st[1]);
    return ok ? 0 : 1;
}
