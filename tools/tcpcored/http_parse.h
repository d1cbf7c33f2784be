/*
 * The HTTP/1.1 request-head parser of tcpcored's http service: bytes from
 * the network in, a validated request out. It never allocates, never reads
 * past len, and refuses what RFC 9112 says a server must refuse (a 1.1
 * request without Host, obsolete line folding, whitespace before a header's
 * colon, conflicting Content-Length, Content-Length with Transfer-Encoding)
 * so that the daemon answers 400 and closes instead of guessing. A libFuzzer
 * target (fuzz/fuzz_http.c) runs it on arbitrary bytes.
 */
#ifndef TCPCORED_HTTP_PARSE_H
#define TCPCORED_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest request head (request line and headers) accepted. */
#define HTTP_MAX_HEAD   8192
#define HTTP_MAX_TARGET 1024

enum http_method { HTTP_GET = 1, HTTP_HEAD, HTTP_OTHER };

struct http_request {
    enum http_method method;
    char target[HTTP_MAX_TARGET]; /* origin-form: starts with '/' */
    unsigned minor;               /* HTTP/1.minor */
    bool keep_alive;
    bool has_length;
    uint64_t content_length; /* request body bytes that follow the head */
    bool chunked;            /* Transfer-Encoding given: we take no such body */
};

/*
 * Parses the request head at the start of buf[0..len). Returns the head's
 * length in bytes (the body or the next request starts there) with *req
 * filled; 0 when the head is incomplete and may still fit; or the negated
 * status to answer: -400 (malformed), -414 (target too long), -431 (head
 * longer than HTTP_MAX_HEAD), -501 (Transfer-Encoding), -505 (not 1.x).
 */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

/* The reason phrase of a status we send ("Not Found"). */
const char *http_reason(int status);

#endif
