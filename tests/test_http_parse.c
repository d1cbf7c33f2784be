/*
 * Unit tests for tcpcored's HTTP request-head parser (tools/tcpcored/
 * http_parse.c): what it accepts, and the status it answers to each kind
 * of malformed head.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "http_parse.h"

static int parse(const char *text, struct http_request *req)
{
    return http_parse_request(text, strlen(text), req);
}

static void test_get_keep_alive(void **state)
{
    (void)state;
    struct http_request r;
    const char *t = "GET /bytes/10?x=1 HTTP/1.1\r\nHost: 198.18.0.2\r\nAccept: */*\r\n\r\n";
    assert_int_equal(parse(t, &r), (int)strlen(t));
    assert_int_equal(r.method, HTTP_GET);
    assert_string_equal(r.target, "/bytes/10?x=1");
    assert_int_equal(r.minor, 1);
    assert_true(r.keep_alive);
    assert_false(r.has_length);
}

static void test_connection_header(void **state)
{
    (void)state;
    struct http_request r;
    assert_true(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n", &r) >
                0);
    assert_false(r.keep_alive);
    assert_true(parse("GET / HTTP/1.0\r\n\r\n", &r) > 0);
    assert_false(r.keep_alive);
    assert_true(parse("HEAD / HTTP/1.0\r\nconnection:keep-alive\r\n\r\n", &r) > 0);
    assert_true(r.keep_alive);
    assert_int_equal(r.method, HTTP_HEAD);
}

static void test_incomplete(void **state)
{
    (void)state;
    struct http_request r;
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n", &r), 0);
    assert_int_equal(parse("", &r), 0);
    assert_int_equal(parse("\r\n\r\n", &r), 0); /* empty lines before a request are skipped */
}

static void test_lenient_line_ends(void **state)
{
    (void)state;
    struct http_request r;
    const char *t = "\r\nGET / HTTP/1.1\nHost: a\n\n";
    assert_int_equal(parse(t, &r), (int)strlen(t));
}

static void test_pipelined(void **state)
{
    (void)state;
    struct http_request r;
    const char *first = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
    char two[128];
    snprintf(two, sizeof(two), "%sGET /b HTTP/1.1\r\nHost: a\r\n\r\n", first);
    assert_int_equal(parse(two, &r), (int)strlen(first));
    assert_string_equal(r.target, "/a");
}

static void test_malformed(void **state)
{
    (void)state;
    struct http_request r;
    assert_int_equal(parse("GET / HTTP/1.1\r\n\r\n", &r), -400); /* no Host */
    assert_int_equal(parse("NOT HTTP\r\n\r\n", &r), -400);
    assert_int_equal(parse("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", &r), -400);
    assert_int_equal(parse("GET x HTTP/1.1\r\nHost: a\r\n\r\n", &r), -400);
    assert_int_equal(parse("GET / HTTP/1\r\nHost: a\r\n\r\n", &r), -400);
    assert_int_equal(parse("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", &r), -400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n", &r), -400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", &r), -400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", &r), -400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", &r), -400);
    assert_int_equal(http_parse_request("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 31, &r), -400);
}

static void test_lengths(void **state)
{
    (void)state;
    struct http_request r;
    assert_true(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n", &r) > 0);
    assert_int_equal(r.method, HTTP_OTHER);
    assert_int_equal(r.content_length, 5);
    assert_int_equal(
        parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", &r),
        -400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", &r), -400);
    assert_int_equal(
        parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", &r),
        -400);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r),
                     -501);
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                           "Content-Length: 3\r\n\r\n",
                           &r),
                     -400);
}

static void test_version(void **state)
{
    (void)state;
    struct http_request r;
    assert_int_equal(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &r), -505);
    assert_int_equal(parse("GET / HTTP/1.9\r\nHost: a\r\n\r\n", &r) > 0, 1);
}

static void test_sizes(void **state)
{
    (void)state;
    struct http_request r;
    static char big[HTTP_MAX_HEAD + 64];
    /* A head that has not ended by the size limit. */
    memset(big, 'a', sizeof(big));
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    assert_int_equal(http_parse_request(big, HTTP_MAX_HEAD, &r), -431);
    assert_int_equal(http_parse_request(big, HTTP_MAX_HEAD - 1, &r), 0);
    /* A target past its limit, in a head that fits. */
    memset(big, 0, sizeof(big));
    memcpy(big, "GET /", 5);
    memset(big + 5, 'x', HTTP_MAX_TARGET);
    strcat(big, " HTTP/1.1\r\nHost: a\r\n\r\n");
    assert_int_equal(parse(big, &r), -414);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_keep_alive), cmocka_unit_test(test_connection_header),
        cmocka_unit_test(test_incomplete),     cmocka_unit_test(test_lenient_line_ends),
        cmocka_unit_test(test_pipelined),      cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_lengths),        cmocka_unit_test(test_version),
        cmocka_unit_test(test_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
