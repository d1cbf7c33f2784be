/*
 * The socket-buffer pool; see sbpool.h.
 */
#include "tcp/sbpool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sbpool_init(struct sbpool *p)
{
    memset(p, 0, sizeof(*p));
}

/* The free list is threaded through the spares themselves; the link is
 * copied, not cast, so a buffer needs no particular alignment for it. */
static void *sbpool_next(const void *buf)
{
    void *next;
    memcpy(&next, buf, sizeof(next));
    return next;
}

static void sbpool_push(struct sbpool_class *c, void *buf)
{
    memcpy(buf, &c->free, sizeof(c->free));
    c->free = buf;
    c->nfree++;
}

static void *sbpool_pop(struct sbpool_class *c)
{
    void *buf = c->free;
    if (buf) {
        c->free = sbpool_next(buf);
        c->nfree--;
    }
    return buf;
}

void sbpool_destroy(struct sbpool *p)
{
    for (uint32_t i = 0; i < p->ncls; i++) {
        void *buf;
        while ((buf = sbpool_pop(&p->cls[i])) != NULL)
            free(buf);
    }
    free(p->cls);
    memset(p, 0, sizeof(*p));
}

static bool sbpool_idle(const struct sbpool_class *c)
{
    return c->want == 0 && c->out == 0 && c->nfree == 0;
}

uint32_t sbpool_class(struct sbpool *p, uint32_t size)
{
    uint32_t idle = SBPOOL_NONE;
    for (uint32_t i = 0; i < p->ncls; i++) {
        if (p->cls[i].size == size)
            return i;
        if (idle == SBPOOL_NONE && sbpool_idle(&p->cls[i]))
            idle = i;
    }
    if (idle == SBPOOL_NONE) {
        if (p->ncls == p->cap) {
            uint32_t cap = p->cap ? p->cap * 2 : 4;
            struct sbpool_class *c = realloc(p->cls, cap * sizeof(*c));
            if (!c)
                return SBPOOL_NONE;
            p->cls = c;
            p->cap = cap;
        }
        idle = p->ncls++;
    }
    p->cls[idle] = (struct sbpool_class){.size = size};
    return idle;
}

void sbpool_want(struct sbpool *p, uint32_t cls, int64_t share)
{
    p->cls[cls].want = (uint32_t)((int64_t)p->cls[cls].want + share);
}

static void sbpool_attach(struct sbpool_class *c, uint32_t cls, void *buf, struct sockbuf *sb)
{
    memset(sb, 0, sizeof(*sb));
    sb->buf = buf;
    sb->cap = c->size;
    sb->cls = cls;
    c->out++;
}

int sbpool_take(struct sbpool *p, uint32_t cls, struct sockbuf *sb)
{
    void *buf = sbpool_pop(&p->cls[cls]);
    if (!buf)
        return -ENOBUFS;
    sbpool_attach(&p->cls[cls], cls, buf, sb);
    return 0;
}

int sbpool_alloc(struct sbpool *p, uint32_t size, struct sockbuf *sb)
{
    uint32_t cls = sbpool_class(p, size);
    if (cls == SBPOOL_NONE)
        return -ENOMEM;
    if (sbpool_take(p, cls, sb) == 0)
        return 0;
    void *buf = malloc(size);
    if (!buf)
        return -ENOMEM;
    sbpool_attach(&p->cls[cls], cls, buf, sb);
    return 0;
}

void sbpool_put(struct sbpool *p, struct sockbuf *sb)
{
    if (!sb->buf)
        return;
    struct sbpool_class *c = &p->cls[sb->cls];
    c->out--;
    sbpool_push(c, sb->buf);
    memset(sb, 0, sizeof(*sb));
}

/* Spares past this are given back to the C library. The slack keeps a
 * server whose connections come and go from freeing and allocating the same
 * buffers on every refill. */
static uint32_t sbpool_ceiling(const struct sbpool_class *c)
{
    return c->want * 2;
}

int sbpool_refill(struct sbpool *p, uint32_t budget)
{
    for (uint32_t i = 0; i < p->ncls; i++) {
        struct sbpool_class *c = &p->cls[i];
        while (c->nfree < c->want && budget > 0) {
            void *buf = malloc(c->size);
            if (!buf)
                return -ENOMEM;
            sbpool_push(c, buf);
            budget--;
        }
        while (c->nfree > sbpool_ceiling(c) && budget > 0) {
            free(sbpool_pop(c));
            budget--;
        }
    }
    return sbpool_pending(p) ? 1 : 0;
}

bool sbpool_pending(const struct sbpool *p)
{
    for (uint32_t i = 0; i < p->ncls; i++) {
        const struct sbpool_class *c = &p->cls[i];
        if (c->nfree < c->want || c->nfree > sbpool_ceiling(c))
            return true;
    }
    return false;
}
