/*
 * The socket-buffer ring (src/tcp/sockbuf.c) at its edges: data that wraps
 * past the end of the storage, data that ends exactly at it (one piece,
 * nothing written at the start), reads that start at the wrap point or
 * cross it, and an append cut to the free room. Every byte outside the
 * held data is checked to be left alone, so a copy that writes a piece it
 * should not (or misses one) fails here before it garbles a stream.
 */
#include <string.h>

#include "harness.h"
#include "tcp/sockbuf.h"

#define CAP       16
#define UNTOUCHED 0xee

struct ring {
    uint8_t store[CAP];
    struct sockbuf sb;
};

/* An empty ring whose first byte sits at head. */
static void ring_init(struct ring *r, uint32_t head)
{
    memset(r->store, UNTOUCHED, sizeof(r->store));
    r->sb = (struct sockbuf){.buf = r->store, .cap = CAP, .head = head, .len = 0};
}

static void fill_from(uint8_t *p, size_t n, uint8_t first)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(first + i);
}

/* Ten bytes from head 10: six to the end, four from the start; the bytes
 * between (4 .. 9) stay as they were. */
static void test_append_wraps(void **state)
{
    (void)state;
    struct ring r;
    uint8_t in[10], out[10];
    ring_init(&r, 10);
    fill_from(in, sizeof(in), 1);
    assert_int_equal(sb_append(&r.sb, in, sizeof(in)), 10);
    assert_memory_equal(r.store + 10, in, 6);
    assert_memory_equal(r.store, in + 6, 4);
    for (unsigned i = 4; i < 10; i++)
        assert_int_equal(r.store[i], UNTOUCHED);
    sb_copy_out(&r.sb, 0, out, sizeof(out));
    assert_memory_equal(out, in, sizeof(in));
    /* From the wrap point itself (off 6 is storage offset 0). */
    sb_copy_out(&r.sb, 6, out, 4);
    assert_memory_equal(out, in + 6, 4);
    /* Across it from inside the first piece. */
    sb_copy_out(&r.sb, 4, out, 5);
    assert_memory_equal(out, in + 4, 5);
}

/* Six bytes from head 10 end exactly at the storage's end: nothing at the
 * start is written, and a read of them takes one piece. */
static void test_append_ends_at_the_end(void **state)
{
    (void)state;
    struct ring r;
    uint8_t in[6], out[6 + 1];
    ring_init(&r, 10);
    fill_from(in, sizeof(in), 0x40);
    assert_int_equal(sb_append(&r.sb, in, sizeof(in)), 6);
    assert_memory_equal(r.store + 10, in, 6);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(r.store[i], UNTOUCHED);
    memset(out, UNTOUCHED, sizeof(out));
    sb_copy_out(&r.sb, 0, out, 6);
    assert_memory_equal(out, in, 6);
    assert_int_equal(out[6], UNTOUCHED); /* nothing past what was asked */
    /* The next append starts at the storage's start. */
    assert_int_equal(sb_append(&r.sb, in, 2), 2);
    assert_memory_equal(r.store, in, 2);
    assert_int_equal(r.store[2], UNTOUCHED);
}

/* An append larger than the room takes what fits, wrapping, and a read
 * drains it in order, leaving the ring empty with its head moved on. */
static void test_append_cut_to_room_then_read(void **state)
{
    (void)state;
    struct ring r;
    uint8_t in[CAP + 4], out[CAP];
    ring_init(&r, 13);
    fill_from(in, sizeof(in), 0x80);
    assert_int_equal(sb_append(&r.sb, in, 5), 5);
    assert_int_equal(sb_append(&r.sb, in + 5, sizeof(in) - 5), CAP - 5);
    assert_int_equal(sb_space(&r.sb), 0);
    assert_int_equal(sb_append(&r.sb, in, 1), 0);
    assert_int_equal(sb_read(&r.sb, out, sizeof(out)), CAP);
    assert_memory_equal(out, in, CAP);
    assert_int_equal(r.sb.len, 0);
    assert_int_equal(r.sb.head, 13);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_wraps),
        cmocka_unit_test(test_append_ends_at_the_end),
        cmocka_unit_test(test_append_cut_to_room_then_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
