/*
 * The HTTP/1.1 request-head parser; see http_parse.h. Grammar from RFC 9112
 * (request-line, field-line) and RFC 9110 (token, field values).
 */
#include "http_parse.h"

#include <string.h>

/* tchar of RFC 9110 5.6.2. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Visible characters, space and tab: what a field value may hold. */
static bool is_field_char(unsigned char c)
{
    return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

/* The end of the head: the offset just past the empty line, or 0. Lines
 * may end in CRLF or, leniently, in a bare LF (RFC 9112 2.2). */
static size_t head_end(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* A cursor over one line at a time. */
struct cursor {
    const char *p, *end;
};

/* The next line without its terminator, in [*s, *e); false past the head. */
static bool next_line(struct cursor *c, const char **s, const char **e)
{
    if (c->p >= c->end)
        return false;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    if (!nl)
        return false;
    *s = c->p;
    *e = nl > c->p && nl[-1] == '\r' ? nl - 1 : nl;
    c->p = nl + 1;
    return true;
}

static bool span_is(const char *s, const char *e, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(e - s) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char a = s[i], b = word[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    return true;
}

static int parse_request_line(const char *s, const char *e, struct http_request *req)
{
    const char *sp1 = memchr(s, ' ', (size_t)(e - s));
    if (!sp1 || sp1 == s)
        return -400;
    for (const char *p = s; p < sp1; p++)
        if (!is_tchar((unsigned char)*p))
            return -400;
    size_t mlen = (size_t)(sp1 - s);
    req->method = mlen == 3 && !memcmp(s, "GET", 3)    ? HTTP_GET
                  : mlen == 4 && !memcmp(s, "HEAD", 4) ? HTTP_HEAD
                                                       : HTTP_OTHER;
    const char *t = sp1 + 1;
    const char *sp2 = memchr(t, ' ', (size_t)(e - t));
    if (!sp2 || sp2 == t || *t != '/')
        return -400;
    for (const char *p = t; p < sp2; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return -400;
    if ((size_t)(sp2 - t) >= sizeof(req->target))
        return -414;
    memcpy(req->target, t, (size_t)(sp2 - t));
    req->target[sp2 - t] = 0;
    const char *v = sp2 + 1;
    if (e - v != 8 || memcmp(v, "HTTP/", 5) || v[6] != '.' || v[5] < '0' || v[5] > '9' ||
        v[7] < '0' || v[7] > '9')
        return -400;
    if (v[5] != '1')
        return -505;
    req->minor = (unsigned)(v[7] - '0');
    req->keep_alive = req->minor >= 1;
    return 0;
}

/* Connection: a comma-separated token list; "close" and "keep-alive". */
static void parse_connection(const char *s, const char *e, struct http_request *req)
{
    while (s < e) {
        while (s < e && (*s == ' ' || *s == '\t' || *s == ','))
            s++;
        const char *t = s;
        while (t < e && *t != ',' && *t != ' ' && *t != '\t')
            t++;
        if (span_is(s, t, "close"))
            req->keep_alive = false;
        else if (span_is(s, t, "keep-alive") && req->minor == 0)
            req->keep_alive = true;
        s = t;
    }
}

static int parse_length(const char *s, const char *e, struct http_request *req)
{
    if (s == e)
        return -400;
    uint64_t v = 0;
    for (const char *p = s; p < e; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
            return -400;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (req->has_length && req->content_length != v)
        return -400;
    req->has_length = true;
    req->content_length = v;
    return 0;
}

static int parse_field(const char *s, const char *e, struct http_request *req, bool *host)
{
    if (*s == ' ' || *s == '\t')
        return -400; /* obsolete line folding */
    const char *colon = memchr(s, ':', (size_t)(e - s));
    if (!colon || colon == s)
        return -400;
    for (const char *p = s; p < colon; p++)
        if (!is_tchar((unsigned char)*p))
            return -400; /* includes whitespace before the colon */
    const char *v = colon + 1, *ve = e;
    for (const char *p = v; p < ve; p++)
        if (!is_field_char((unsigned char)*p))
            return -400;
    while (v < ve && (*v == ' ' || *v == '\t'))
        v++;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    if (span_is(s, colon, "host"))
        *host = true;
    else if (span_is(s, colon, "connection"))
        parse_connection(v, ve, req);
    else if (span_is(s, colon, "content-length"))
        return parse_length(v, ve, req);
    else if (span_is(s, colon, "transfer-encoding"))
        req->chunked = true;
    return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
    size_t skip = 0;
    /* Empty lines before a request are ignored (RFC 9112 2.2). */
    while (skip < len && (buf[skip] == '\r' || buf[skip] == '\n'))
        skip++;
    size_t end = head_end(buf + skip, len - skip);
    if (!end)
        return len >= HTTP_MAX_HEAD ? -431 : 0;
    if (skip + end > HTTP_MAX_HEAD)
        return -431;
    memset(req, 0, sizeof(*req));
    struct cursor c = {buf + skip, buf + skip + end};
    const char *s, *e;
    if (!next_line(&c, &s, &e))
        return -400;
    for (const char *p = s; p < e; p++)
        if (*p == '\r' || *p == 0)
            return -400;
    int rc = parse_request_line(s, e, req);
    bool host = false;
    while (!rc && next_line(&c, &s, &e) && s < e) {
        for (const char *p = s; p < e && !rc; p++)
            if (*p == '\r' || *p == 0)
                rc = -400;
        if (!rc)
            rc = parse_field(s, e, req, &host);
    }
    if (rc)
        return rc;
    if (req->chunked)
        return req->has_length ? -400 : -501;
    if (req->minor >= 1 && !host)
        return -400; /* RFC 9112 3.2: a 1.1 request without Host */
    return (int)(skip + end);
}

const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}
