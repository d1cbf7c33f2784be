/*
 * Memory on the packet path (src/tcp/sbpool.c, the control-block pool in
 * tcp_subr.c): tcpc_input allocates nothing, neither to complete a
 * handshake (passive or active) nor to move data; the spare buffers data
 * arriving needs are set aside outside the packet path and topped up by
 * tcpc_listen, tcpc_accept and tcpc_advance; running out of them closes
 * the window with a counted drop until the next refill; running out of
 * control blocks refuses a completion with a counted drop and a RST; and
 * nothing leaks.
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
#include "libc_wrap.h"
#include "tcp/sbpool.h"
#include "tcp/tcp_var.h"
#include "test_tcp_fixture.h"

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

/* The spares a receive buffer of the default limit may use: those of the
 * classes up to the one holding its reach (65,700 + 1,459 bytes). */
static uint32_t spares(struct harness *h)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i <= sbpool_class_for(65700 + 1459); i++)
        n += h->stack->tcp->sbpool.cls[i].nfree;
    return n;
}

/* A completion needs no buffer (storage comes with the first byte), so
 * with a single spare set aside every handshake completes. Data then takes
 * spares; once none is left, the segment that needs one is dropped
 * (tcps_rcvmemdrop) and answered at once with the window the storage
 * holds: 0 for a connection without storage (the offered window shrinks).
 * The deadline says a refill is due; tcpc_advance makes it and reopens
 * the window with an update; the retransmission is taken. Nothing is
 * allocated on the packet path throughout. */
static void test_exhausted_spares_close_the_window(void **state)
{
    (void)state;
    const char *sys[] = {"kern.ipc.sockbuf_reserve=1", "net.inet.tcp.delayed_ack=0", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    int lsd = fx_socket(h);
    assert_int_equal(tcpc_bind(h->stack, lsd, NULL, h->lport), 0);
    assert_int_equal(tcpc_listen(h->stack, lsd, 64), 0); /* room for every child */
    uint32_t n = spares(h) + 1;
    assert_true(n < 64);
    uint32_t iss[64];
    for (uint16_t p = 1; p <= n; p++) {
        iss[p - 1] = handshake(h, p);
        h_expect_nothing(h);
    }
    assert_int_equal(h_stat(h, "tcps_sc_completed"), n);
    assert_int_equal(h_stat(h, "tcps_sc_sbfail"), 0);
    for (uint16_t p = 1; p < n; p++) {
        assert_int_equal(inject_allocs(h, SEG(.flags = TH_ACK | TH_PSH, .seq = 1001,
                                              .ack = iss[p - 1] + 1, .sport = p, .data = "x")),
                         0);
        h_expect(h, SEG(.flags = TH_ACK, .ack = 1002, .sport = p));
    }
    assert_int_equal(spares(h), 0);
    assert_int_equal(h_stat(h, "tcps_rcvmemdrop"), 0);
    assert_int_equal(inject_allocs(h, SEG(.flags = TH_ACK | TH_PSH, .seq = 1001,
                                          .ack = iss[n - 1] + 1, .sport = n, .data = "x")),
                     0);
    h_expect(h, SEG(.flags = TH_ACK, .ack = 1001, .win = 0, .sport = n));
    h_expect_nothing(h);
    assert_int_equal(h_stat(h, "tcps_rcvmemdrop"), 1);
    assert_int_equal(tcpc_next_deadline(h->stack), h->now); /* a refill is due */
    h_advance(h, 0);
    struct h_seg up = h_expect(h, SEG(.flags = TH_ACK, .ack = 1001, .sport = n));
    assert_true(up.th.win > 0);
    assert_int_equal(inject_allocs(h, SEG(.flags = TH_ACK | TH_PSH, .seq = 1001,
                                          .ack = iss[n - 1] + 1, .sport = n, .data = "x")),
                     0);
    h_expect(h, SEG(.flags = TH_ACK, .ack = 1002, .sport = n));
    assert_int_equal(h_stat(h, "tcps_rcvmemdrop"), 1);
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
    const char *sys[] = {"kern.ipc.sockbuf_reserve=2", "net.inet.tcp.delayed_ack=0", NULL};
    struct h_opts o = {.sysctls = sys};
    struct harness *h = h_new(&o);
    h_listen(h);
    uint32_t iss = handshake(h, 1);
    h_expect_nothing(h);
    /* Data takes a spare: the pool owes one. */
    h_inject(h,
             SEG(.flags = TH_ACK | TH_PSH, .seq = 1001, .ack = iss + 1, .sport = 1, .data = "x"));
    h_expect(h, SEG(.flags = TH_ACK, .ack = 1002, .sport = 1));
    fail_from = 2048;
    tcpc_advance(h->stack, h->now);
    tcpc_time_t next = tcpc_next_deadline(h->stack);
    assert_true(next > h->now);
    assert_true(next <= h->now + 100 * TCPC_USEC_PER_MSEC);
    fail_from = 0;
    h_advance(h, next - h->now);
    assert_false(sbpool_pending(&h->stack->tcp->sbpool));
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
        cmocka_unit_test(test_exhausted_spares_close_the_window),
        cmocka_unit_test(test_accept_refills_spares),
        cmocka_unit_test(test_exhausted_control_blocks_refuse_with_rst),
        cmocka_unit_test(test_failed_refill_backs_off),
        cmocka_unit_test(test_reserve_tunable_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
