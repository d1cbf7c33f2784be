/*
 * Memory on the packet path (src/tcp/sbpool.c, the control-block pool in
 * tcp_subr.c): tcpc_input allocates nothing, neither to complete a
 * handshake (passive or active) nor to move data; a listener's spare
 * buffers are set aside outside the packet path and topped up by
 * tcpc_accept and tcpc_advance; running out of them, or of control blocks,
 * refuses a completion with a counted drop and a RST, and leaks nothing.
 *
 * This program is linked with -Wl,--wrap for malloc, calloc, realloc and
 * aligned_alloc (tests/CMakeLists.txt), so every allocation the library
 * makes passes through the counters below.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"
#include "harness.h"
#include "tcp/sbpool.h"
#include "tcp/tcp_var.h"
#include "tcpcore/listing.h"
#include "test_tcp_fixture.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_aligned_alloc(size_t align, size_t n);

static unsigned long n_allocs;
/* While set, allocations of at least this many bytes fail (ring buffers;
 * the harness's small packet records still succeed). */
static size_t fail_from;

void *__wrap_malloc(size_t n)
{
    n_allocs++;
    if (fail_from && n >= fail_from)
        return NULL;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    n_allocs++;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    n_allocs++;
    return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    n_allocs++;
    return __real_aligned_alloc(align, n);
}

/*
 * Allocations the stack made while `seg` was injected. The harness keeps
 * each packet the stack emits in one malloc'ed record (h_output, called
 * from inside tcpc_input); those are the test's, not the stack's, and are
 * taken out by counting the packets.
 */
static unsigned long inject_allocs(struct harness *h, struct seg seg)
{
    size_t pending = h_pending(h);
    unsigned long before = n_allocs;
    h_inject(h, seg);
    unsigned long made = n_allocs - before;
    size_t emitted = h_pending(h) - pending;
    assert_true(made >= emitted);
    return made - emitted;
}

/* A passive open completed and data moved both ways: the SYN, the ACK that
 * completes the handshake (control block and rings), data in, data out and
 * its ACK, the FIN: none allocates. Fails on a stack whose completion
 * calloc'ed the control block and malloc'ed its rings in tcpc_input. */
static void test_passive_open_and_transfer_allocate_nothing(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    int lsd = h_listen(h);
    assert_int_equal(inject_allocs(h, SEG(.flags = TH_SYN, .seq = 1000, .mss = 1460)), 0);
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001));
    uint32_t iss = sa.th.seq;
    assert_int_equal(
        inject_allocs(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = iss + 1, .data = "hello")), 0);
    int sd = tcpc_accept(h->stack, lsd, NULL, NULL);
    assert_true(sd >= 0);
    fx_recv_exact(h, sd, "hello", 5);
    assert_int_equal(tcpc_send(h->stack, sd, "world", 5), 5);
    h_flush(h);
    assert_int_equal(inject_allocs(h, SEG(.flags = TH_ACK, .seq = 1006, .ack = iss + 6)), 0);
    assert_int_equal(inject_allocs(h, SEG(.flags = TH_ACK | TH_FIN, .seq = 1006, .ack = iss + 6)),
                     0);
    assert_int_equal(tcpc_close(h->stack, sd), 0);
    h_flush(h);
    /* The last ACK frees the orphan (LAST_ACK -> CLOSED) on the packet path:
     * its buffers go back to the pool, its control block to its pool. */
    assert_int_equal(inject_allocs(h, SEG(.flags = TH_ACK, .seq = 1007, .ack = iss + 7)), 0);
    assert_int_equal(pool_used(&h->stack->tcp->tcbs), 1); /* the listener */
    h_free(h);
}

/* An active open: tcpc_connect (an API call) may allocate its rings; the
 * SYN-ACK and the data after it may not. */
static void test_active_open_input_allocates_nothing(void **state)
{
    (void)state;
    struct harness *h = h_new(NULL);
    struct h_seg syn;
    int sd = fx_connect(h, &syn);
    uint32_t iss = syn.th.seq;
    assert_int_equal(
        inject_allocs(h, SEG(.flags = TH_SYN | TH_ACK, .seq = 5000, .ack = iss + 1, .mss = 1460)),
        0);
    h_expect(h, SEG(.flags = TH_ACK, .ack = 5001));
    assert_int_equal(
        inject_allocs(h, SEG(.flags = TH_ACK | TH_PSH, .seq = 5001, .ack = iss + 1, .data = "abc")),
        0);
    fx_recv_exact(h, sd, "abc", 3);
    h_free(h);
}

/* A handshake from peer port `port`; returns the SYN-ACK's ISS. */
static uint32_t handshake(struct harness *h, uint16_t port)
{
    h_inject(h, SEG(.flags = TH_SYN, .seq = 1000, .sport = port, .mss = 1460));
    struct h_seg sa = h_expect(h, SEG(.flags = TH_SYN | TH_ACK, .ack = 1001, .sport = port));
    h_inject(h, SEG(.flags = TH_ACK, .seq = 1001, .ack = sa.th.seq + 1, .sport = port));
    return sa.th.seq;
}

static int count_cb(void *ctx, const struct tcpc_conninfo *ci)
{
    unsigned *n = ctx;
    if (ci->kind == TCPC_CONN_PCB)
        (*n)++;
    return 0;
}

static unsigned count_pcbs(struct harness *h)
{
    unsigned n = 0;
    assert_int_equal(tcpc_list_connections(h->stack, count_cb, &n), 0);
    return n;
}

/* With kern.ipc.sockbuf_reserve=2, a listener keeps two spare pairs. Two
 * completions take them; the third finds none and is refused the way a
 * full accept queue is (FreeBSD's sonewconn failing with
 * net.inet.tcp.sc_rst_sock_fail): counted in tcps_sc_sbfail,
 * tcps_sc_aborted and tcps_listendrop, answered with a RST, and nothing of
 * it is left. The deadline says a refill is due; tcpc_advance makes it and
 * the next handshake completes. */
static void test_exhausted_buffers_refuse_with_rst(void **state)
{
    (void)state;
    const char *sys[] = {"kern.ipc.sockbuf_reserve=2", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    int lsd = h_listen(h);
    assert_true(tcpc_next_deadline(h->stack) > h->now); /* the spares are there */
    handshake(h, 1);
    handshake(h, 2);
    h_expect_nothing(h);
    assert_int_equal(tcpc_next_deadline(h->stack), h->now); /* a refill is due */
    uint32_t iss = handshake(h, 3);
    h_expect(h, SEG(.flags = TH_RST, .seq = iss + 1, .sport = 3));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sc_sbfail"), 1);
    assert_int_equal(h_stat(h, "tcps_sc_aborted"), 1);
    assert_int_equal(h_stat(h, "tcps_listendrop"), 1);
    assert_int_equal(h_stat(h, "tcps_sc_completed"), 2);
    assert_int_equal(count_pcbs(h), 3); /* the listener and two children */
    assert_int_equal(pool_used(&h->stack->tcp->tcbs), 3);
    assert_int_equal(h->stack->tcp->pcb->count, 3);

    h_advance(h, 0);
    assert_true(tcpc_next_deadline(h->stack) > h->now);
    handshake(h, 4);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sc_completed"), 3);
    /* Closing the listener drops its three children; every buffer is back
     * in the pool, and the spares are given back at the next refill. */
    assert_int_equal(tcpc_close(h->stack, lsd), 0);
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .sport = 1)); /* oldest first */
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .sport = 2));
    h_expect(h, SEG(.flags = TH_RST | TH_ACK, .sport = 4));
    assert_int_equal(pool_used(&h->stack->tcp->tcbs), 0);
    assert_int_equal(h->stack->tcp->pcb->count, 0);
    while (tcpc_next_deadline(h->stack) <= h->now)
        h_advance(h, 0);
    const struct sbpool *p = &h->stack->tcp->sbpool;
    for (uint32_t i = 0; i < p->ncls; i++) {
        assert_int_equal(p->cls[i].out, 0);
        assert_int_equal(p->cls[i].want, 0);
        assert_int_equal(p->cls[i].nfree, 0);
    }
    h_free(h);
}

/* tcpc_accept tops the spares up again (off the packet path), so a server
 * that accepts as it goes never runs dry even without tcpc_advance. */
static void test_accept_refills_spares(void **state)
{
    (void)state;
    const char *sys[] = {"kern.ipc.sockbuf_reserve=1", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    int lsd = h_listen(h);
    for (uint16_t p = 1; p <= 5; p++) {
        handshake(h, p);
        h_expect_nothing(h);
        int sd = tcpc_accept(h->stack, lsd, NULL, NULL);
        assert_true(sd >= 0);
    }
    assert_int_equal(h_stat(h, "tcps_sc_completed"), 5);
    assert_int_equal(h_stat(h, "tcps_sc_sbfail"), 0);
    h_free(h);
}

/* Out of control blocks (kern.ipc.maxsockets): the same refusal, counted
 * in tcps_listendrop, with a RST; closing one socket makes room again. */
static void test_exhausted_control_blocks_refuse_with_rst(void **state)
{
    (void)state;
    const char *sys[] = {"kern.ipc.maxsockets=64", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    h_listen(h);
    int sd = -1;
    for (int i = 0; i < 63; i++)
        sd = fx_socket(h);
    assert_int_equal(tcpc_socket(h->stack, TCPC_AF_INET), -ENOBUFS);
    uint32_t iss = handshake(h, 1);
    h_expect(h, SEG(.flags = TH_RST, .seq = iss + 1, .sport = 1));
    assert_int_equal(h_stat(h, "tcps_listendrop"), 1);
    assert_int_equal(h_stat(h, "tcps_sc_sbfail"), 0);
    assert_int_equal(pool_used(&h->stack->tcp->tcbs), 64);
    assert_int_equal(tcpc_close(h->stack, sd), 0);
    handshake(h, 2);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sc_completed"), 1);
    h_free(h);
}

/* A refill that cannot allocate waits before trying again: were the
 * deadline "now" while memory is short, the embedder's loop would spin.
 * Once memory is back, the spares are set aside at the retry. */
static void test_failed_refill_backs_off(void **state)
{
    (void)state;
    const char *sys[] = {"kern.ipc.sockbuf_reserve=2", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    h_listen(h);
    handshake(h, 1); /* takes a spare: the pool owes one */
    h_expect_nothing(h);
    fail_from = 4096;
    tcpc_advance(h->stack, h->now);
    tcpc_time_t next = tcpc_next_deadline(h->stack);
    assert_true(next > h->now);
    assert_true(next <= h->now + 100 * TCPC_USEC_PER_MSEC);
    fail_from = 0;
    h_advance(h, next - h->now);
    assert_false(sbpool_pending(&h->stack->tcp->sbpool));
    handshake(h, 2);
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_sc_sbfail"), 0);
    h_free(h);
}

/* The tunable is validated like every other, with a sentence. */
static void test_reserve_tunable_validated(void **state)
{
    (void)state;
    struct tcpc_config cfg;
    tcpc_config_init(&cfg);
    const char *why = NULL;
    assert_int_equal(tcpc_config_sysctl(&cfg, "kern.ipc.sockbuf_reserve", 0, &why), -EINVAL);
    assert_non_null(why);
    assert_int_equal(tcpc_config_sysctl(&cfg, "kern.ipc.sockbuf_reserve", 64, &why), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passive_open_and_transfer_allocate_nothing),
        cmocka_unit_test(test_active_open_input_allocates_nothing),
        cmocka_unit_test(test_exhausted_buffers_refuse_with_rst),
        cmocka_unit_test(test_accept_refills_spares),
        cmocka_unit_test(test_exhausted_control_blocks_refuse_with_rst),
        cmocka_unit_test(test_failed_refill_backs_off),
        cmocka_unit_test(test_reserve_tunable_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
