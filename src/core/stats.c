/*
 * Counter names and descriptions, generated from the one list in
 * include/tcpcore/stats.h.
 */
#include <errno.h>
#include <string.h>

#include "core/stack.h"

static const char *const stat_names[TCPC_STAT_COUNT] = {
#define STAT_NAME_(name, desc) #name,
    TCPC_STATS(STAT_NAME_)
#undef STAT_NAME_
};

static const char *const stat_descs[TCPC_STAT_COUNT] = {
#define STAT_DESC_(name, desc) desc,
    TCPC_STATS(STAT_DESC_)
#undef STAT_DESC_
};

const struct tcpc_stats *tcpc_stack_stats(const struct tcpc_stack *stack)
{
    return &stack->stats.s;
}

const char *tcpc_stat_name(unsigned id)
{
    return id < TCPC_STAT_COUNT ? stat_names[id] : NULL;
}

const char *tcpc_stat_desc(unsigned id)
{
    return id < TCPC_STAT_COUNT ? stat_descs[id] : NULL;
}

uint64_t tcpc_stat_value(const struct tcpc_stats *stats, unsigned id)
{
    static const size_t offsets[TCPC_STAT_COUNT] = {
#define STAT_OFF_(name, desc) offsetof(struct tcpc_stats, name),
        TCPC_STATS(STAT_OFF_)
#undef STAT_OFF_
    };
    if (id >= TCPC_STAT_COUNT)
        return 0;
    uint64_t v;
    memcpy(&v, (const char *)stats + offsets[id], sizeof(v));
    return v;
}

int tcpc_stat_lookup(const char *name)
{
    for (unsigned i = 0; i < TCPC_STAT_COUNT; i++)
        if (strcmp(stat_names[i], name) == 0)
            return (int)i;
    return -ENOENT;
}
