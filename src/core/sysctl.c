/*
 * Tunables by FreeBSD sysctl name, validated in one place.
 *
 * The table is generated from TCPC_TUNABLES in include/tcpcore/sysctl.h; the
 * same check runs for a configuration and for a live stack, so a value that
 * would be refused later is refused at once, with a sentence saying why.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/stack.h"
#include "core/sysctl.h"

struct tunable {
    const char *name;
    const char *desc;
    size_t offset;
    int64_t def, min, max;
    unsigned flags;
};

static const struct tunable tunables[] = {
#define TUNABLE_ROW_(field, sname, def_, min_, max_, flags_, desc_)                                \
    {sname, desc_, offsetof(struct tcpc_tunables, field), def_, min_, max_, flags_},
    TCPC_TUNABLES(TUNABLE_ROW_)
#undef TUNABLE_ROW_
};
#define NTUNABLES (sizeof(tunables) / sizeof(tunables[0]))

static const struct tunable *tunable_find(const char *name)
{
    for (size_t i = 0; i < NTUNABLES; i++)
        if (strcmp(tunables[i].name, name) == 0)
            return &tunables[i];
    return NULL;
}

static int64_t *tunable_field(struct tcpc_tunables *tun, const struct tunable *t)
{
    return (int64_t *)((char *)tun + t->offset);
}

void sysctl_defaults(struct tcpc_tunables *tun)
{
    for (size_t i = 0; i < NTUNABLES; i++)
        *tunable_field(tun, &tunables[i]) = tunables[i].def;
}

/* Checks that hold between tunables rather than within one. */
static int sysctl_check_pairs(const struct tcpc_tunables *tun, const char **why)
{
    if (tun->portrange_first > tun->portrange_last) {
        *why = "net.inet.ip.portrange.first must not exceed net.inet.ip.portrange.last";
        return -EINVAL;
    }
    if (tun->minmss > tun->mssdflt) {
        *why = "net.inet.tcp.minmss must not exceed net.inet.tcp.mssdflt";
        return -EINVAL;
    }
    if (tun->rexmit_min > tun->rexmit_max) {
        *why = "net.inet.tcp.rexmit_min must not exceed net.inet.tcp.rexmit_max";
        return -EINVAL;
    }
    if (tun->hystart_minrtt_thresh > tun->hystart_maxrtt_thresh) {
        *why = "net.inet.tcp.cc.hystartplusplus.minrtt_thresh must not exceed its maxrtt_thresh";
        return -EINVAL;
    }
    return 0;
}

static int sysctl_check_value(const struct tunable *t, int64_t value, const char **why)
{
    if ((t->flags & TCPC_TUN_AUTO0) && value == 0)
        return 0;
    if (value < t->min || value > t->max) {
        *why = t->desc; /* the description states the accepted range */
        return -EINVAL;
    }
    if ((t->flags & TCPC_TUN_POW2) && (value & (value - 1)) != 0) {
        *why = t->desc;
        return -EINVAL;
    }
    return 0;
}

int sysctl_validate(const struct tcpc_tunables *tun, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    for (size_t i = 0; i < NTUNABLES; i++) {
        int64_t v = *tunable_field((struct tcpc_tunables *)tun, &tunables[i]);
        int err = sysctl_check_value(&tunables[i], v, why);
        if (err)
            return err;
    }
    return sysctl_check_pairs(tun, why);
}

/* Sets name in tun after every check; leaves tun untouched on refusal. */
static int sysctl_apply(struct tcpc_tunables *tun, const char *name, int64_t value, bool live,
                        const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    const struct tunable *t = tunable_find(name);
    if (!t) {
        *why = "no tunable by that name (tcpc_sysctl_describe lists them)";
        return -ENOENT;
    }
    if (t->flags & TCPC_TUN_RDONLY) {
        *why = "this tunable is read-only: it reports the stack's state";
        return -EPERM;
    }
    if (live && (t->flags & TCPC_TUN_BOOT)) {
        *why = "this tunable sizes memory and is fixed once the stack exists; set it in the "
               "configuration";
        return -EPERM;
    }
    int err = sysctl_check_value(t, value, why);
    if (err)
        return err;
    struct tcpc_tunables next = *tun;
    *tunable_field(&next, t) = value;
    err = sysctl_check_pairs(&next, why);
    if (err)
        return err;
    *tun = next;
    return 0;
}

int tcpc_config_sysctl(struct tcpc_config *cfg, const char *name, int64_t value, const char **why)
{
    return sysctl_apply(&cfg->tun, name, value, false, why);
}

int tcpc_config_sysctl_get(const struct tcpc_config *cfg, const char *name, int64_t *value)
{
    const struct tunable *t = tunable_find(name);
    if (!t)
        return -ENOENT;
    *value = *tunable_field((struct tcpc_tunables *)&cfg->tun, t);
    return 0;
}

int tcpc_sysctl_set(struct tcpc_stack *stack, const char *name, int64_t value, const char **why)
{
    int err = sysctl_apply(&stack->cfg.tun, name, value, true, why);
    if (err)
        return err;
    stack_tunables_changed(stack);
    /* A group has one set of tunables: the others take it on their next
     * entry (stack_group_sync). */
    if (stack->group)
        group_tun_publish(stack->group, tunable_find(name)->offset / sizeof(int64_t), value);
    return 0;
}

int64_t sysctl_maxtcptw(const struct tcpc_tunables *tun)
{
    if (tun->maxtcptw != 0)
        return tun->maxtcptw;
    /* As FreeBSD sizes it: half the ephemeral range, so TIME_WAIT cannot tie
     * up every port, at least 32, and at most a fifth of the sockets. */
    int64_t half = (tun->portrange_last - tun->portrange_first) / 2;
    if (half < 32)
        half = 32;
    int64_t fifth = tun->maxsockets / 5;
    return half < fifth ? half : fifth;
}

int64_t sysctl_sc_cachelimit(const struct tcpc_tunables *tun)
{
    if (tun->sc_cachelimit != 0)
        return tun->sc_cachelimit;
    return tun->sc_hashsize * tun->sc_bucketlimit;
}

int tcpc_sysctl_get(const struct tcpc_stack *stack, const char *name, int64_t *value)
{
    const struct tunable *t = tunable_find(name);
    if (!t)
        return -ENOENT;
    const struct tcpc_tunables *tun = &stack->cfg.tun;
    if (strcmp(name, "net.inet.tcp.maxtcptw") == 0)
        *value = sysctl_maxtcptw(tun);
    else if (strcmp(name, "net.inet.tcp.syncache.cachelimit") == 0)
        *value = sysctl_sc_cachelimit(tun);
    else if (t->flags & TCPC_TUN_RDONLY)
        *value = stack_sysctl_state(stack, name);
    else
        *value = *tunable_field((struct tcpc_tunables *)tun, t);
    return 0;
}

int tcpc_sysctl_describe(unsigned i, const char **name, const char **desc)
{
    if (i >= NTUNABLES)
        return -ENOENT;
    if (name)
        *name = tunables[i].name;
    if (desc)
        *desc = tunables[i].desc;
    return 0;
}

/* ---- Tunables whose values are names ------------------------------------ */

static const char *const cc_names[] = {
#define SYSCTL_CC_NAME_(id, name) name,
    SYSCTL_CC_ALGOS(SYSCTL_CC_NAME_)
#undef SYSCTL_CC_NAME_
};

const char *sysctl_cc_name(unsigned id)
{
    return id < SYSCTL_CC_COUNT ? cc_names[id] : NULL;
}

int sysctl_cc_find(const char *name)
{
    for (unsigned i = 0; i < SYSCTL_CC_COUNT; i++)
        if (strcmp(cc_names[i], name) == 0)
            return (int)i;
    return -ENOENT;
}

#define SYSCTL_CC_ALGORITHM "net.inet.tcp.cc.algorithm"
#define SYSCTL_CC_AVAILABLE "net.inet.tcp.cc.available"

/* The integer a name stands for, for the tunable called `name`. */
static int sysctl_str_value(const char *name, const char *value, int64_t *out, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (strcmp(name, SYSCTL_CC_AVAILABLE) == 0) {
        *why = "net.inet.tcp.cc.available is read-only: it lists the algorithms there are";
        return -EPERM;
    }
    if (strcmp(name, SYSCTL_CC_ALGORITHM) != 0) {
        *why = "no tunable by that name takes a name (tcpc_sysctl_set takes numbers)";
        return -ENOENT;
    }
    int id = sysctl_cc_find(value);
    if (id < 0) {
        *why = "no such congestion-control algorithm (net.inet.tcp.cc.available lists them: "
               "newreno, cubic)";
        return -EINVAL;
    }
    *out = id;
    return 0;
}

int tcpc_config_sysctl_str(struct tcpc_config *cfg, const char *name, const char *value,
                           const char **why)
{
    int64_t v;
    int err = sysctl_str_value(name, value, &v, why);
    return err ? err : tcpc_config_sysctl(cfg, name, v, why);
}

int tcpc_sysctl_set_str(struct tcpc_stack *stack, const char *name, const char *value,
                        const char **why)
{
    int64_t v;
    int err = sysctl_str_value(name, value, &v, why);
    return err ? err : tcpc_sysctl_set(stack, name, v, why);
}

int tcpc_sysctl_get_str(const struct tcpc_stack *stack, const char *name, char *buf, size_t len)
{
    if (len == 0)
        return -EINVAL;
    buf[0] = '\0';
    if (strcmp(name, SYSCTL_CC_ALGORITHM) == 0) {
        const char *n = sysctl_cc_name((unsigned)stack->cfg.tun.cc_algorithm);
        snprintf(buf, len, "%s", n ? n : "");
        return 0;
    }
    if (strcmp(name, SYSCTL_CC_AVAILABLE) != 0)
        return -ENOENT;
    size_t used = 0;
    for (unsigned i = 0; i < SYSCTL_CC_COUNT && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", cc_names[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return 0;
}
