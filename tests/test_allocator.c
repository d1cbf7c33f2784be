/*
 * The embedder's allocator (tcpc_config_set_allocator): every block a stack
 * takes comes from it and goes back to it with the size it was asked for,
 * a stack that lives on its memory moves data as on the C library's, and a
 * stack whose allocator runs dry at any point of its creation says -ENOMEM
 * and leaves nothing behind.
 *
 * The allocator here keeps a header before each block (size, alignment,
 * a check word), fills every block it is not asked to zero with 0xa5, so
 * that a reader of memory it did not write sees garbage rather than the
 * zeros the C library often happens to give, and fails the n-th request on
 * demand.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hsim.h"
#include "libc_wrap.h"
#include "tcpcore/config.h"
#include "tcpcore/stack.h"

/* The C library's entry points are wrapped in this program (CMakeLists):
 * while `watching`, a call counts as the stack reaching past its
 * allocator. */
static bool watching;
static unsigned long libc_calls;

void *__wrap_malloc(size_t n)
{
    libc_calls += watching;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    libc_calls += watching;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    libc_calls += watching;
    return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
    libc_calls += watching;
    return __real_aligned_alloc(align, n);
}

#define HDR     64 /* keeps the block itself aligned to 64 */
#define CHECKED 0x7463706361UL

struct hdr {
    unsigned long check;
    size_t size;
    size_t align;
};

struct counting {
    size_t allocs, releases, live;
    size_t fail_at;   /* the request (1-based) that fails; 0: none */
    size_t fail_from; /* every request from this one on fails; 0: none */
    size_t max_align;
};

static void *counting_alloc(void *ctx, size_t size, size_t align, bool zero)
{
    struct counting *c = ctx;
    assert_true(size > 0);
    assert_true(align == 16 || align == 64);
    size_t n = c->allocs + 1;
    if (n == c->fail_at || (c->fail_from && n >= c->fail_from)) {
        c->allocs++;
        return NULL;
    }
    uint8_t *base = __real_aligned_alloc(HDR, HDR + ((size + HDR - 1) & ~(size_t)(HDR - 1)));
    assert_non_null(base);
    struct hdr *h = (struct hdr *)base;
    *h = (struct hdr){.check = CHECKED, .size = size, .align = align};
    memset(base + HDR, zero ? 0 : 0xa5, size);
    c->allocs++;
    c->live++;
    if (align > c->max_align)
        c->max_align = align;
    return base + HDR;
}

static void counting_release(void *ctx, void *ptr, size_t size)
{
    struct counting *c = ctx;
    assert_non_null(ptr);
    uint8_t *base = (uint8_t *)ptr - HDR;
    struct hdr *h = (struct hdr *)base;
    assert_true(h->check == CHECKED); /* ours, and not given back twice */
    assert_int_equal(size, h->size);  /* with the size it was asked for */
    h->check = 0;
    assert_true(c->live > 0);
    c->live--;
    c->releases++;
    free(base);
}

static int out_nothing(void *ctx, const uint8_t *pkt, size_t len)
{
    (void)ctx, (void)pkt, (void)len;
    return 0;
}

static struct tcpc_config *config_with(struct counting *c, bool ether)
{
    struct tcpc_config *cfg;
    assert_int_equal(tcpc_config_new(&cfg), 0);
    tcpc_config_set_output(cfg, out_nothing, NULL);
    struct tcpc_addr a;
    assert_int_equal(tcpc_addr_parse("198.18.0.1", &a), 0);
    assert_int_equal(tcpc_config_add_addr(cfg, &a, 24), 0);
    if (ether) {
        struct tcpc_ether_addr mac = {{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}};
        assert_int_equal(tcpc_config_set_link(cfg, TCPC_LINK_ETHER, &mac), 0);
    }
    assert_int_equal(tcpc_config_set_allocator(cfg, counting_alloc, counting_release, c), 0);
    return cfg;
}

/* A transfer both ways under loss on two stacks that live on the counting
 * allocator: intact, and at the end every block is back, each with its
 * size (counting_release checks). */
static void test_allocator_serves_a_transfer(void **state)
{
    (void)state;
    struct counting c = {0};
    struct hsim_opts o;
    hsim_opts_init(&o, hsim_seed(0xa110c, "test_allocator_serves_a_transfer"));
    o.bytes[0] = o.bytes[1] = 2 * 1000 * 1000;
    for (int i = 0; i < 2; i++) {
        o.path[i].delay = 5000;
        o.path[i].loss_ppm = 10000; /* 1% */
    }
    o.alloc = counting_alloc;
    o.release = counting_release;
    o.alloc_ctx = &c;
    struct hsim_result r;
    hsim_run(&o, &r);
    hsim_check_intact(&o, &r);
    /* Tables, control blocks and the rings the buffers grew through. */
    assert_true(c.allocs > 40);
    assert_int_equal(c.live, 0);
    assert_int_equal(c.releases, c.allocs);
    assert_int_equal(c.max_align, 64); /* the tables laid out in lines */
}

/* The n-th request fails, for every n creation makes: -ENOMEM each time
 * and nothing left held, until a run needs no more than it was given. On
 * both links (an Ethernet one has its neighbour cache besides). */
static void check_creation_failures(bool ether)
{
    size_t failed = 0;
    for (size_t n = 1;; n++) {
        struct counting c = {.fail_at = n};
        struct tcpc_config *cfg = config_with(&c, ether);
        struct tcpc_stack *stack = NULL;
        libc_calls = 0;
        watching = true;
        int err = tcpc_stack_new(cfg, 0, &stack);
        watching = false;
        tcpc_config_del(cfg);
        assert_int_equal(libc_calls, 0); /* everything from the allocator */
        if (err == 0) {
            watching = true;
            tcpc_stack_del(stack);
            watching = false;
            assert_int_equal(libc_calls, 0);
            assert_int_equal(c.live, 0);
            assert_true(c.allocs < n); /* it never got to the failing one */
            break;
        }
        assert_int_equal(err, -ENOMEM);
        assert_int_equal(c.live, 0);
        failed++;
    }
    assert_true(failed > 10);
}

static void test_allocator_creation_failure_leaks_nothing(void **state)
{
    (void)state;
    check_creation_failures(false);
}

static void test_allocator_creation_failure_leaks_nothing_ether(void **state)
{
    (void)state;
    check_creation_failures(true);
}

/* Socket options that allocate (a TCP-MD5 key) say -ENOMEM when the
 * allocator is dry, and the key they do get is given back at close. */
static void test_allocator_socket_option_keys(void **state)
{
    (void)state;
    struct counting c = {0};
    struct tcpc_config *cfg = config_with(&c, false);
    struct tcpc_stack *stack;
    assert_int_equal(tcpc_stack_new(cfg, 0, &stack), 0);
    tcpc_config_del(cfg);
    int sd = tcpc_socket(stack, TCPC_AF_INET);
    assert_true(sd >= 0);
    struct tcpc_md5sig sig = {.keylen = 8};
    assert_int_equal(tcpc_addr_parse("198.18.0.2", &sig.addr), 0);
    memcpy(sig.key, "password", 8);
    size_t held = c.live;
    c.fail_from = c.allocs + 1;
    assert_int_equal(tcpc_setsockopt_buf(stack, sd, TCPC_TCP_MD5SIG, &sig, sizeof(sig)), -ENOMEM);
    assert_int_equal(c.live, held);
    c.fail_from = 0;
    assert_int_equal(tcpc_setsockopt_buf(stack, sd, TCPC_TCP_MD5SIG, &sig, sizeof(sig)), 0);
    assert_int_equal(c.live, held + 1);
    tcpc_close(stack, sd);
    tcpc_stack_del(stack);
    assert_int_equal(c.live, 0);
}

/* Half an allocator is refused, by the setter and by the check. */
static void test_allocator_needs_both_functions(void **state)
{
    (void)state;
    struct counting c = {0};
    struct tcpc_config *cfg;
    assert_int_equal(tcpc_config_new(&cfg), 0);
    assert_int_equal(tcpc_config_set_allocator(cfg, counting_alloc, NULL, &c), -EINVAL);
    assert_int_equal(tcpc_config_set_allocator(cfg, NULL, counting_release, &c), -EINVAL);
    assert_int_equal(tcpc_config_set_allocator(cfg, NULL, NULL, NULL), 0); /* the C library's */
    tcpc_config_del(cfg);

    struct tcpc_config raw;
    tcpc_config_init(&raw);
    raw.output = out_nothing;
    raw.mem.alloc = counting_alloc; /* as a program reaching past the setter would */
    const char *why = NULL;
    assert_int_equal(tcpc_config_check(&raw, &why), -EINVAL);
    assert_non_null(strstr(why, "allocator"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allocator_serves_a_transfer),
        cmocka_unit_test(test_allocator_creation_failure_leaks_nothing),
        cmocka_unit_test(test_allocator_creation_failure_leaks_nothing_ether),
        cmocka_unit_test(test_allocator_socket_option_keys),
        cmocka_unit_test(test_allocator_needs_both_functions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
