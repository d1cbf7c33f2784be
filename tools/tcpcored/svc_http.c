/*
 * The http service: a small HTTP/1.1 responder.
 *   GET /          a fixed page
 *   GET /bytes/N   N bytes of the peer stream (seed SVC_STREAM_SEED), so a
 *                  client can check what it got against a hash
 *   HEAD           the same heads without bodies
 * Keep-alive and pipelining: requests on one connection are answered in
 * order, each with Content-Length. A request body (Content-Length) is read
 * and dropped. A malformed or oversized head gets 400 (414, 431, 501, 505
 * where they fit) and the connection is closed after the answer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_page.h"
#include "http_parse.h"
#include "peer_stream.h"
#include "services.h"
#include "tcpcore/socket.h"

#define HTTP_MAX_BYTES (1ULL << 40) /* /bytes/N: at most 1 TiB */
#define HTTP_CHUNK     16384

enum body_kind { BODY_TEXT, BODY_PAGE, BODY_STREAM };

struct http_conn {
    struct dmn_conn c;
    size_t inlen;
    uint64_t skip;    /* request body bytes still to drop */
    bool responding;  /* a response is being sent */
    bool close_after; /* ... and the connection closes after it */
    enum body_kind body;
    size_t head_len, head_off;
    uint64_t body_len, body_off;
    char head[256];
    char text[64]; /* BODY_TEXT */
    struct http_request req;
    char in[HTTP_MAX_HEAD];
};

static void respond(struct http_conn *h, int status, const char *type, enum body_kind body,
                    uint64_t body_len, bool with_body)
{
    h->head_len = (size_t)snprintf(
        h->head, sizeof(h->head),
        "HTTP/1.1 %d %s\r\nServer: tcpcored\r\nContent-Type: %s\r\nContent-Length: %" PRIu64
        "\r\n%sConnection: %s\r\n\r\n",
        status, http_reason(status), type, body_len, status == 405 ? "Allow: GET, HEAD\r\n" : "",
        h->close_after ? "close" : "keep-alive");
    h->head_off = 0;
    h->body = body;
    h->body_len = with_body ? body_len : 0;
    h->body_off = 0;
    h->responding = true;
}

/* An error answer: its status line as a one-line text body. */
static void respond_error(struct http_conn *h, int status, bool with_body)
{
    int n = snprintf(h->text, sizeof(h->text), "%d %s\n", status, http_reason(status));
    respond(h, status, "text/plain", BODY_TEXT, (uint64_t)n, with_body);
}

/* /bytes/N: N, or -1 when the path is not of that form or N is too big. */
static int64_t bytes_count(const char *path)
{
    const char *p = path + 7;
    if (strncmp(path, "/bytes/", 7) != 0 || !*p)
        return -1;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > HTTP_MAX_BYTES)
            return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v > HTTP_MAX_BYTES ? -1 : (int64_t)v;
}

static void answer(struct http_conn *h, const struct http_request *req)
{
    h->close_after = !req->keep_alive || h->c.stopping;
    h->skip = req->content_length;
    bool body = req->method == HTTP_GET;
    if (req->method == HTTP_OTHER)
        return respond_error(h, 405, true);
    char path[HTTP_MAX_TARGET];
    snprintf(path, sizeof(path), "%s", req->target);
    path[strcspn(path, "?#")] = 0;
    if (!strcmp(path, "/"))
        return respond(h, 200, "text/html; charset=utf-8", BODY_PAGE, sizeof(http_page) - 1, body);
    int64_t n = bytes_count(path);
    if (n >= 0)
        return respond(h, 200, "application/octet-stream", BODY_STREAM, (uint64_t)n, body);
    respond_error(h, 404, body);
}

/* The next piece of the body at body_off, at most HTTP_CHUNK bytes. */
static const void *body_piece(struct http_conn *h, size_t *len)
{
    uint64_t left = h->body_len - h->body_off;
    *len = left < HTTP_CHUNK ? (size_t)left : HTTP_CHUNK;
    switch (h->body) {
    case BODY_TEXT:
        return h->text + h->body_off;
    case BODY_PAGE:
        return http_page + h->body_off;
    case BODY_STREAM:
        break;
    }
    peer_stream_fill(SVC_STREAM_SEED, h->body_off, h->c.d->scratch, *len);
    return h->c.d->scratch;
}

/*
 * Sends what is pending of the response; false on an error. The response
 * is corked (TCP_NOPUSH) while it is queued and uncorked once all of it
 * is: head and body then leave in full segments, and a short response in
 * one. Sent uncorked, a body shorter than a segment waited behind the head
 * for the client's ACK (Nagle's rule, RFC 9293 3.7.4): a round trip added
 * to every response, which under a flood meant the time it took that ACK
 * to get through the receive ring.
 */
static bool send_response(struct http_conn *h)
{
    struct tcpc_stack *st = h->c.d->stack;
    if (h->head_off == 0)
        tcpc_setsockopt(st, h->c.sd, TCPC_TCP_NOPUSH, 1);
    while (h->head_off < h->head_len) {
        ssize_t n = tcpc_send(st, h->c.sd, h->head + h->head_off, h->head_len - h->head_off);
        if (n == -EAGAIN)
            return true;
        if (n < 0)
            return false;
        h->head_off += (size_t)n;
    }
    while (h->body_off < h->body_len) {
        size_t len;
        const void *piece = body_piece(h, &len);
        ssize_t n = tcpc_send(st, h->c.sd, piece, len);
        if (n == -EAGAIN)
            return true;
        if (n < 0)
            return false;
        h->body_off += (uint64_t)n;
    }
    h->responding = false;
    return tcpc_setsockopt(st, h->c.sd, TCPC_TCP_NOPUSH, 0) == 0;
}

/* Drops request-body bytes, first from the buffer, then from the socket.
 * Returns 1 when done, 0 when more must arrive, -1 at end or on error. */
static int skip_body(struct http_conn *h)
{
    size_t n = h->skip < h->inlen ? (size_t)h->skip : h->inlen;
    memmove(h->in, h->in + n, h->inlen - n);
    h->inlen -= n;
    h->skip -= n;
    while (h->skip) {
        size_t want = h->skip < sizeof(h->c.d->scratch) ? (size_t)h->skip : sizeof(h->c.d->scratch);
        ssize_t got = tcpc_recv(h->c.d->stack, h->c.sd, h->c.d->scratch, want);
        if (got == -EAGAIN)
            return 0;
        if (got <= 0)
            return -1;
        h->skip -= (uint64_t)got;
    }
    return 1;
}

/* Reads more of the head; 1 got bytes, 0 nothing yet, -1 end or error. */
static int read_more(struct http_conn *h)
{
    ssize_t n = tcpc_recv(h->c.d->stack, h->c.sd, h->in + h->inlen, sizeof(h->in) - h->inlen);
    if (n == -EAGAIN)
        return 0;
    if (n <= 0) {
        h->c.eof = true;
        return -1;
    }
    h->inlen += (size_t)n;
    return 1;
}

/* Parses and answers the next request in the buffer, reading as needed.
 * Returns true when a response was started. */
static bool next_request(struct http_conn *h, bool *wait)
{
    for (;;) {
        int rc = http_parse_request(h->in, h->inlen, &h->req);
        if (rc > 0) {
            memmove(h->in, h->in + rc, h->inlen - (size_t)rc);
            h->inlen -= (size_t)rc;
            answer(h, &h->req);
            return true;
        }
        if (rc < 0) {
            h->close_after = true;
            respond_error(h, -rc, true);
            return true;
        }
        int more = read_more(h);
        if (more <= 0) {
            *wait = more == 0;
            return false;
        }
    }
}

static void http_step(struct dmn_task *t)
{
    struct http_conn *h = (struct http_conn *)t;
    for (;;) {
        if (h->responding && !send_response(h))
            return svc_fail(&h->c);
        if (h->responding)
            return; /* the send buffer is full: WRITABLE brings us back */
        if (h->close_after || h->c.stopping || h->c.eof) {
            svc_drain(&h->c);
            return;
        }
        int skipped = h->skip ? skip_body(h) : 1;
        if (skipped == 0)
            return; /* more of the body to come */
        if (skipped < 0) {
            h->c.eof = true;
            continue;
        }
        bool wait = false;
        if (!next_request(h, &wait) && wait)
            return; /* an incomplete head: READABLE brings us back */
    }
}

int svc_http_start(struct dmn *d, const struct dmn_service_conf *svc, int sd)
{
    struct dmn_conn *c = dmn_conn_new(d, sizeof(struct http_conn), svc, sd, http_step);
    if (!c)
        return -ENOMEM;
    c->stop = svc_stop;
    c->abort = svc_abort;
    return 0;
}
