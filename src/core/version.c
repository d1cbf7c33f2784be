/*
 * The linked library's version (include/tcpcore/version.h): compiled into
 * the library, so a program can tell which one it runs with.
 */
#include "tcpcore/version.h"

unsigned tcpc_version(void)
{
    return TCPC_VERSION;
}

const char *tcpc_version_string(void)
{
    return TCPC_VERSION_STRING;
}
