/*
 * The opaque configuration (include/tcpcore/config.h): allocation and the
 * typed setters. Each setter refuses what is wrong on its own (an MTU out
 * of range, a prefix past the family's width); what depends on several
 * settings together (an IPv6 address on a small MTU, a repeated address)
 * is tcpc_config_check's, run again by tcpc_stack_new.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/stack.h"

int tcpc_config_new(struct tcpc_config **out)
{
    struct tcpc_config *cfg = malloc(sizeof(*cfg));
    if (!cfg)
        return -ENOMEM;
    tcpc_config_init(cfg);
    *out = cfg;
    return 0;
}

void tcpc_config_del(struct tcpc_config *cfg)
{
    free(cfg);
}

void tcpc_config_set_output(struct tcpc_config *cfg, tcpc_output_fn fn, void *ctx)
{
    cfg->output = fn;
    cfg->output_ctx = ctx;
}

void tcpc_config_set_trace(struct tcpc_config *cfg, tcpc_trace_fn fn, void *ctx)
{
    cfg->trace = fn;
    cfg->trace_ctx = fn ? ctx : NULL;
}

void tcpc_config_set_owner(struct tcpc_config *cfg, tcpc_owner_fn fn, void *ctx)
{
    cfg->owner = fn;
    cfg->owner_ctx = fn ? ctx : NULL;
}

void tcpc_config_set_steering(struct tcpc_config *cfg, tcpc_steer_fn fn, void *ctx)
{
    cfg->steer = fn;
    cfg->steer_ctx = fn ? ctx : NULL;
}

void tcpc_config_set_flow_hash(struct tcpc_config *cfg, tcpc_flow_hash_fn fn, void *ctx)
{
    cfg->flow_hash = fn;
    cfg->flow_hash_ctx = fn ? ctx : NULL;
}

int tcpc_config_set_allocator(struct tcpc_config *cfg, tcpc_alloc_fn alloc, tcpc_release_fn release,
                              void *ctx)
{
    if ((alloc == NULL) != (release == NULL))
        return -EINVAL;
    cfg->mem = (struct mem){.alloc = alloc, .release = release, .ctx = alloc ? ctx : NULL};
    return 0;
}

int tcpc_config_add_addr(struct tcpc_config *cfg, const struct tcpc_addr *addr, unsigned prefixlen)
{
    if (prefixlen > (tcpc_addr_is_v4(addr) ? 32u : 128u))
        return -EINVAL;
    if (cfg->nlocal_addrs >= TCPC_MAX_LOCAL_ADDRS)
        return -ENOSPC;
    cfg->local_addrs[cfg->nlocal_addrs] = *addr;
    cfg->local_prefixlens[cfg->nlocal_addrs] = (uint8_t)prefixlen;
    cfg->nlocal_addrs++;
    return 0;
}

int tcpc_config_set_link(struct tcpc_config *cfg, enum tcpc_link_mode mode,
                         const struct tcpc_ether_addr *mac)
{
    static const struct tcpc_ether_addr zero;
    switch (mode) {
    case TCPC_LINK_IP:
        cfg->link = mode;
        cfg->ether_addr = zero;
        return 0;
    case TCPC_LINK_ETHER:
        if (!mac || (mac->bytes[0] & 1) || memcmp(mac, &zero, sizeof(zero)) == 0)
            return -EINVAL;
        cfg->link = mode;
        cfg->ether_addr = *mac;
        return 0;
    }
    return -EINVAL;
}

int tcpc_config_set_mtu(struct tcpc_config *cfg, uint32_t mtu)
{
    if (mtu < TCPC_MTU_MIN || mtu > TCPC_MTU_MAX)
        return -EINVAL;
    cfg->mtu = mtu;
    return 0;
}

void tcpc_config_set_seed(struct tcpc_config *cfg, const uint8_t *seed)
{
    cfg->use_seed = seed != NULL;
    if (seed)
        memcpy(cfg->seed, seed, sizeof(cfg->seed));
    else
        memset(cfg->seed, 0, sizeof(cfg->seed));
}
