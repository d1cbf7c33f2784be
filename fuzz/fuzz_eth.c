/*
 * Fuzzes the Ethernet header parser: whatever it accepts must describe a
 * header inside the input, re-emit to the same bytes (an 802.1ad tag comes
 * back as 802.1Q, the only tag emitted) and parse back to the same form.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_script.h"
#include "wire/eth.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct eth_repr a, b;
    uint8_t out[ETH_HDR_LEN + ETH_TAG_LEN];
    int r = eth_parse(data, size, &a);

    if (r < 0) {
        CHECK(-r < WIRE_ERROR_COUNT);
        return 0;
    }
    CHECK(r == a.hdrlen && (size_t)r <= size);
    CHECK(r == (a.tagged ? ETH_HDR_LEN + ETH_TAG_LEN : ETH_HDR_LEN));
    CHECK(!eth_addr_is_group(&a.src));
    CHECK(eth_emit(&a, out, sizeof(out)) == r);
    CHECK(memcmp(out, data, 12) == 0 && memcmp(out + r - 2, data + r - 2, 2) == 0);
    CHECK(eth_parse(out, (size_t)r, &b) == r);
    CHECK(eth_addr_eq(&a.dst, &b.dst) && eth_addr_eq(&a.src, &b.src) && a.type == b.type &&
          a.tagged == b.tagged && a.vlan_tci == b.vlan_tci);
    return 0;
}
