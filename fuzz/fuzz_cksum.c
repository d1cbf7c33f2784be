/*
 * Compares the wide checksum (cksum_add: native-order 64-bit words with
 * end-around carry) with the definition, word by word
 * (tests/harness/cksum_ref.h), on any bytes: the input's first four bytes
 * are a running sum to start from, the fifth says where the data is cut in
 * two pieces (chained, the first of even length) and the sixth how the data
 * is misaligned in memory; the rest is the data.
 */
#include <stdlib.h>
#include <string.h>

#include "../tests/harness/cksum_ref.h"
#include "wire/bytes.h"
#include "wire/cksum.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 6)
        return 0;
    uint32_t start = get_be32(data);
    size_t misalign = data[5] % 8;
    size_t len = size - 6;
    size_t cut = (len ? data[4] % (len + 1) : 0) & ~(size_t)1;
    /* A copy at the chosen misalignment, exactly as long as the data, so
     * that ASan sees a read past either end. */
    uint8_t *buf = malloc(len + misalign + 1);
    if (!buf)
        return 0;
    uint8_t *in = buf + misalign;
    memcpy(in, data + 6, len);
    uint16_t want = cksum_reference(start, in, len);

    if (cksum_finish(cksum_add(start, in, len)) != want)
        abort();
    if (cksum_finish(cksum_add(cksum_add(start, in, cut), in + cut, len - cut)) != want)
        abort();
    free(buf);
    return 0;
}
