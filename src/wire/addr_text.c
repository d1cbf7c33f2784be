/*
 * Text forms of addresses: strict parsing and canonical (RFC 5952) printing.
 *
 * Written out by hand because the core may not include the socket headers
 * that declare inet_pton/inet_ntop, and because the libc versions differ in
 * what they accept (octal-looking octets, zone suffixes). The parser accepts
 * exactly dotted-quad IPv4 and RFC 4291 section 2.2 IPv6 text; nothing else.
 */
#include <errno.h>
#include <string.h>

#include "tcpcore/addr.h"

#define V6_GROUPS 8

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * One decimal octet: 1-3 digits, at most 255, no leading zero (it would read
 * as octal to inet_aton and friends, so the text is ambiguous). Returns the
 * character after it, or NULL.
 */
static const char *parse_octet(const char *s, uint8_t *out)
{
    unsigned v = 0;
    int digits = 0;

    while (*s >= '0' && *s <= '9' && digits < 4) {
        v = v * 10 + (unsigned)(*s++ - '0');
        digits++;
    }
    if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[-digits] == '0'))
        return NULL;
    *out = (uint8_t)v;
    return s;
}

/* Exactly four dot-separated octets running to the end of the string. */
static int parse_v4(const char *s, uint8_t out[4])
{
    for (int i = 0; i < 4; i++) {
        if (i > 0 && *s++ != '.')
            return -1;
        s = parse_octet(s, &out[i]);
        if (s == NULL)
            return -1;
    }
    return *s == '\0' ? 0 : -1;
}

/* Places the groups parsed before and after "::" (at index gap) into out. */
static void v6_expand(const uint16_t *g, int n, int gap, uint8_t out[16])
{
    int zeros = V6_GROUPS - n;
    int j = 0;

    for (int i = 0; i < n; i++) {
        if (i == gap)
            j += zeros;
        out[2 * (i + j)] = (uint8_t)(g[i] >> 8);
        out[2 * (i + j) + 1] = (uint8_t)g[i];
    }
}

/*
 * Reads one group at *sp: up to 4 hex digits, or a dotted-quad tail that
 * fills two groups. Returns the number of groups stored (0 on error).
 */
static int v6_group(const char **sp, uint16_t *g, int room)
{
    const char *s = *sp;
    unsigned v = 0;
    int digits = 0;

    while (hex_value(*s) >= 0 && digits < 5) {
        v = v << 4 | (unsigned)hex_value(*s++);
        digits++;
    }
    if (*s == '.') {
        uint8_t q[4];

        if (room < 2 || parse_v4(*sp, q) != 0)
            return 0;
        g[0] = (uint16_t)(q[0] << 8 | q[1]);
        g[1] = (uint16_t)(q[2] << 8 | q[3]);
        *sp += strlen(*sp);
        return 2;
    }
    if (digits == 0 || digits > 4 || room < 1)
        return 0;
    g[0] = (uint16_t)v;
    *sp = s;
    return 1;
}

static int parse_v6(const char *s, uint8_t out[16])
{
    uint16_t g[V6_GROUPS];
    int n = 0, gap = -1;

    if (s[0] == ':') {
        if (s[1] != ':')
            return -1;
        gap = 0;
        s += 2;
    }
    while (*s != '\0') {
        int got = v6_group(&s, g + n, V6_GROUPS - n);

        if (got == 0)
            return -1;
        n += got;
        if (*s == '\0')
            break;
        if (*s++ != ':' || got == 2)
            return -1;
        if (*s == ':') {
            if (gap >= 0)
                return -1;
            gap = n;
            s++;
        } else if (*s == '\0') {
            return -1; /* a single trailing colon */
        }
    }
    /* "::" stands for at least one group (RFC 4291 2.2). */
    if ((gap < 0 && n != V6_GROUPS) || (gap >= 0 && n == V6_GROUPS))
        return -1;
    memset(out, 0, 16);
    v6_expand(g, n, gap < 0 ? n : gap, out);
    return 0;
}

int tcpc_addr_parse(const char *text, struct tcpc_addr *out)
{
    uint8_t b[16];

    if (text == NULL || out == NULL)
        return -EINVAL;
    if (strchr(text, ':') != NULL) {
        if (parse_v6(text, b) != 0)
            return -EINVAL;
        *out = tcpc_addr_v6(b);
        return 0;
    }
    if (parse_v4(text, b) != 0)
        return -EINVAL;
    *out = tcpc_addr_v4((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
    return 0;
}

static char *put_dec(char *p, unsigned v)
{
    if (v >= 100)
        *p++ = (char)('0' + v / 100);
    if (v >= 10)
        *p++ = (char)('0' + v / 10 % 10);
    *p++ = (char)('0' + v % 10);
    return p;
}

/* A group in lowercase hex without leading zeros (RFC 5952 4.1, 4.3). */
static char *put_hex(char *p, unsigned v)
{
    static const char digits[] = "0123456789abcdef";
    int shift = 12;

    while (shift > 0 && (v >> shift) == 0)
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        *p++ = digits[(v >> shift) & 0xf];
    return p;
}

/* The first longest run of two or more zero groups (RFC 5952 4.2). */
static void v6_longest_zero_run(const uint16_t *g, int *start, int *len)
{
    *start = -1;
    *len = 1;
    for (int i = 0; i < V6_GROUPS;) {
        int j = i;

        while (j < V6_GROUPS && g[j] == 0)
            j++;
        if (j - i > *len) {
            *start = i;
            *len = j - i;
        }
        i = j > i ? j : i + 1;
    }
}

static char *format_v6(const struct tcpc_addr *a, char *p)
{
    uint16_t g[V6_GROUPS];
    int zstart, zlen;

    for (int i = 0; i < V6_GROUPS; i++)
        g[i] = (uint16_t)(a->bytes[2 * i] << 8 | a->bytes[2 * i + 1]);
    v6_longest_zero_run(g, &zstart, &zlen);
    for (int i = 0; i < V6_GROUPS; i++) {
        if (i == zstart) {
            *p++ = ':';
            *p++ = ':';
            i += zlen - 1;
            continue;
        }
        if (i > 0 && i != zstart + zlen)
            *p++ = ':';
        p = put_hex(p, g[i]);
    }
    return p;
}

const char *tcpc_addr_format(const struct tcpc_addr *a, char *buf, size_t buflen)
{
    char text[TCPC_ADDRSTRLEN];
    char *p = text;
    size_t len;

    if (tcpc_addr_is_v4(a)) {
        for (int i = 12; i < 16; i++) {
            if (i > 12)
                *p++ = '.';
            p = put_dec(p, a->bytes[i]);
        }
    } else {
        p = format_v6(a, p);
    }
    if (buflen == 0)
        return buf;
    /* Truncate rather than overrun a buffer smaller than TCPC_ADDRSTRLEN. */
    len = (size_t)(p - text);
    if (len > buflen - 1)
        len = buflen - 1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return buf;
}
