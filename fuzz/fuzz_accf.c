/*
 * httpready's test (accf_http_ready) on any bytes, as the receive ring
 * gives them: the input's first byte says where the data is cut in two
 * pieces, each in its own allocation of exactly its size (ASan sees a read
 * past either end); the rest is the data. Three properties hold:
 *   - the cut does not matter: the pieces answer as the whole does;
 *   - once ready, always ready: a request that is whole, or that cannot
 *     become one, stays so whatever follows (the prefix before the cut
 *     answering ready means the whole does);
 *   - resuming is exact: when the prefix answered not ready, the whole
 *     tested as seen up to the cut answers as it does tested afresh.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp_accf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t len = size - 1;
    size_t cut = len ? data[0] % (len + 1) : 0;
    uint8_t *a = dup_exact(data + 1, cut), *b = dup_exact(data + 1 + cut, len - cut);
    uint8_t *whole = dup_exact(data + 1, len);
    if (!a || !b || !whole)
        abort();
    bool ready = accf_http_ready(whole, len, NULL, 0, 0);
    if (accf_http_ready(a, cut, b, len - cut, 0) != ready)
        abort();
    bool prefix = accf_http_ready(a, cut, NULL, 0, 0);
    if (prefix && !ready)
        abort();
    if (!prefix && accf_http_ready(a, cut, b, len - cut, cut) != ready)
        abort();
    free(a);
    free(b);
    free(whole);
    return 0;
}
