/*
 * What the kernel-side interop helpers (kpeer, kconns) share: address text
 * to a socket address. One copy, so both accept the same text.
 */
#ifndef TCPCORE_TESTS_KSOCK_H
#define TCPCORE_TESTS_KSOCK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Parses IPv4 or IPv6 text with port into ss and returns its length, or
 * exits 2 naming prog when the text is neither. */
static inline socklen_t ksock_addr(const char *prog, const char *text, unsigned port,
                                   struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        return sizeof(*s4);
    }
    if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        return sizeof(*s6);
    }
    fprintf(stderr, "%s: bad address \"%s\"\n", prog, text);
    exit(2);
}

#endif
