/*
 * Internal side of the tunables: defaults, whole-set validation, and the
 * effective values of auto-sized tunables.
 */
#ifndef TCPCORE_CORE_SYSCTL_H
#define TCPCORE_CORE_SYSCTL_H

#include "tcpcore/sysctl.h"
#include "core/config.h"

/* The congestion-control algorithms by their net.inet.tcp.cc.algorithm
 * value: tcp_cc.c has one module per entry, in this order. */
#define SYSCTL_CC_ALGOS(X) X(NEWRENO, "newreno") X(CUBIC, "cubic")
enum sysctl_cc_algo {
#define SYSCTL_CC_ENUM_(id, name) SYSCTL_CC_##id,
    SYSCTL_CC_ALGOS(SYSCTL_CC_ENUM_)
#undef SYSCTL_CC_ENUM_
        SYSCTL_CC_COUNT
};

/* The algorithm's name, or NULL past the last. */
const char *sysctl_cc_name(unsigned id);
/* The index of the algorithm called name, or -ENOENT. */
int sysctl_cc_find(const char *name);

void sysctl_defaults(struct tcpc_tunables *tun);

/* 0, or -EINVAL with *why naming the first tunable that is out of bounds or
 * inconsistent with another. */
int sysctl_validate(const struct tcpc_tunables *tun, const char **why);

/* net.inet.tcp.maxtcptw in force (auto-sized when set to 0). */
int64_t sysctl_maxtcptw(const struct tcpc_tunables *tun);

/* net.inet.tcp.syncache.cachelimit in force (hashsize x bucketlimit when 0). */
int64_t sysctl_sc_cachelimit(const struct tcpc_tunables *tun);

#endif
