/*
 * Recovering an owner from an embedded member.
 *
 * Intrusive structures (timers, list links) are embedded in the record that
 * owns them so that arming a timer or queueing a record allocates nothing.
 * Callbacks and pops hand back the member; container_of walks back to the
 * owner by the member's offset.
 */
#ifndef TCPCORE_UTIL_CONTAINER_H
#define TCPCORE_UTIL_CONTAINER_H

#include <stddef.h>

/*
 * The `type` that embeds `*ptr` as its field `member`. C17 has no typeof, so
 * unlike the Linux macro this cannot check that ptr's type matches the
 * member; the (void *) step keeps -Wcast-align quiet because the owner is
 * known to be suitably aligned. ptr must not be NULL.
 */
#define container_of(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

#endif
