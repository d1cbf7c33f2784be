/*
 * Fuzzes the ARP parser: an accepted packet is Ethernet/IPv4 with a
 * request or reply, a unicast sender MAC and an IPv4 sender address, and
 * emits back to exactly the 28 bytes it was parsed from.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_script.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arp_repr a;
    uint8_t out[ARP_LEN];
    int r = arp_parse(data, size, &a);

    if (r < 0) {
        CHECK(-r < WIRE_ERROR_COUNT);
        return 0;
    }
    CHECK(r == ARP_LEN && size >= ARP_LEN);
    CHECK(a.op == ARPOP_REQUEST || a.op == ARPOP_REPLY);
    CHECK(!eth_addr_is_group(&a.sha));
    CHECK(tcpc_addr_is_v4(&a.spa) && tcpc_addr_is_v4(&a.tpa));
    CHECK(arp_emit(&a, out, sizeof(out)) == ARP_LEN);
    CHECK(memcmp(out, data, ARP_LEN) == 0);
    return 0;
}
