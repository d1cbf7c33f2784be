/*
 * Fuzzes the control protocol's request parser (tools/tcpcored/ctl_proto.c),
 * what tcpcored reads from its control socket: any bytes give either a
 * mask of known sections or a refusal with a reason, and an accepted mask
 * formats to a request that parses back to itself.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256] = "";
    int rc = ctl_request_parse((const char *)data, size, why, sizeof(why));
    if (rc < 0) {
        if ((rc != -EINVAL && rc != -ENOMEM) || !why[0])
            abort();
        return 0;
    }
    if (rc == 0 || (rc & ~CTL_ALL))
        abort();
    char buf[256];
    int n = ctl_request_format((unsigned)rc, buf, sizeof(buf));
    if (n < 0 || ctl_request_parse(buf, (size_t)n, why, sizeof(why)) != rc)
        abort();
    return 0;
}
