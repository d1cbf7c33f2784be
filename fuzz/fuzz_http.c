/*
 * Fuzzes tcpcored's HTTP request-head parser (tools/tcpcored/http_parse.c)
 * with arbitrary bytes from the network: it must never read past the
 * input, must answer only with the statuses it documents, and a head it
 * accepts must lie inside the input with a bounded, origin-form target.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_request req;
    int rc = http_parse_request((const char *)data, size, &req);
    if (rc > 0) {
        size_t tlen = strnlen(req.target, sizeof(req.target));
        if ((size_t)rc > size || rc > HTTP_MAX_HEAD || tlen == sizeof(req.target) ||
            req.target[0] != '/' || req.method < HTTP_GET || req.method > HTTP_OTHER)
            abort();
        /* The same head again, alone, parses the same way. */
        struct http_request again;
        if (http_parse_request((const char *)data, (size_t)rc, &again) != rc ||
            strcmp(again.target, req.target) != 0 || again.keep_alive != req.keep_alive)
            abort();
        return 0;
    }
    if (rc == 0 && size >= HTTP_MAX_HEAD)
        abort(); /* a full buffer must be refused, never waited on */
    if (rc != 0 && rc != -400 && rc != -414 && rc != -431 && rc != -501 && rc != -505)
        abort();
    return 0;
}
