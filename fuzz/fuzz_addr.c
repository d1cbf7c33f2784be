/*
 * Fuzzes address text: whatever tcpc_addr_parse accepts must format to
 * text that parses back to the same address, and formatting must be a
 * fixed point (canonical text formats to itself). Also formats the first
 * 16 input bytes as an address, to cover every zero-run pattern.
 */
#include <stdlib.h>
#include <string.h>

#include "tcpcore/addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_format(const struct tcpc_addr *a)
{
    char text[TCPC_ADDRSTRLEN], again[TCPC_ADDRSTRLEN];
    struct tcpc_addr b;

    tcpc_addr_format(a, text, sizeof(text));
    if (strlen(text) >= TCPC_ADDRSTRLEN || tcpc_addr_parse(text, &b) != 0 || !tcpc_addr_eq(a, &b))
        abort();
    tcpc_addr_format(&b, again, sizeof(again));
    if (strcmp(text, again) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct tcpc_addr a;

    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (tcpc_addr_parse(text, &a) == 0)
        check_format(&a);
    free(text);
    if (size >= 16) {
        a = tcpc_addr_v6(data);
        check_format(&a);
    }
    return 0;
}
