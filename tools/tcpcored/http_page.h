/*
 * The page the http service answers GET / with. Shared with the kernel
 * responder of the side-by-side benchmark (bench/vs_linux/khttpd.c), so
 * that both servers send the same bytes and differ only in the TCP stack
 * underneath.
 */
#ifndef TCPCORE_TOOLS_TCPCORED_HTTP_PAGE_H
#define TCPCORE_TOOLS_TCPCORED_HTTP_PAGE_H

static const char http_page[] =
    "<!DOCTYPE html>\n"
    "<html><head><title>tcpcore</title></head>\n"
    "<body><h1>Hello from tcpcore</h1>\n"
    "<p>This page came over TCP from tcpcored, a userspace TCP/IP stack.</p>\n"
    "<p>Try /bytes/1000000 for a million bytes.</p></body></html>\n";

#endif
