/*
 * `sysctl`, `sockstat` and `tcpdrop` for packetdrill scripts, answered by
 * tcpcore.
 *
 * sysctl -w NAME=VALUE goes to tcpc_sysctl_set under FreeBSD's name, or to
 * tcpc_sysctl_set_str when VALUE is a name (net.inet.tcp.cc.algorithm=cubic).
 * A few FreeBSD tunables switch on features tcpcore does not have (TCP Fast
 * Open, the host cache, blackholing, UDP tunnelling, RFC 7661): for those, the values
 * that describe what tcpcore does anyway are accepted, and any other value
 * is refused with a sentence, as an unknown name is. A script that needs
 * the feature then fails where the feature shows, not silently.
 *
 * sockstat prints one line per record of the connection listing, in
 * FreeBSD's columns (user, command, pid, fd, proto, local, foreign, state),
 * and the grep stages of the suite's pipelines (`| grep packetdril | grep
 * -c TIME_WAIT | grep 1`) run over those lines as sh would run them.
 *
 * tcpdrop drops what the listing shows (tcpc_drop_connection): every
 * connection, those in one state, or one 4-tuple.
 */
#define _POSIX_C_SOURCE 200809L
#include "pd_command.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpcore/listing.h"
#include "tcpcore/sysctl.h"

#define PD_WORDS     32
#define PD_LINES     512
#define PD_LINE_SIZE 200

/* FreeBSD tunables with no tcpcore counterpart, and the values that say
 * "the feature is off", which is what tcpcore does. */
struct pd_absent {
    const char *name;
    int64_t ok[2];
    int nok; /* 0: every value is accepted (an action with no object) */
    const char *why;
};

static const struct pd_absent pd_absent[] = {
    {"net.inet.tcp.hostcache.purgenow", {0}, 0, "tcpcore keeps no host cache"},
    {"net.inet.tcp.blackhole", {0}, 1, "tcpcore always answers closed ports (RST)"},
    {"net.inet.tcp.newcwv", {0}, 1, "tcpcore restarts idle connections by RFC 5681, not RFC 7661"},
    {"net.inet.tcp.udp_tunneling_port", {0}, 1, "tcpcore has no TCP over UDP tunnelling"},
};

/* Splits s (modified in place) at blanks into at most max words. */
static int pd_split(char *s, char **words, int max)
{
    int n = 0;
    for (char *tok = strtok(s, " \t\n"); tok && n < max; tok = strtok(NULL, " \t\n"))
        words[n++] = tok;
    return n;
}

static int pd_set_absent(const char *name, int64_t value)
{
    for (size_t i = 0; i < sizeof(pd_absent) / sizeof(pd_absent[0]); i++) {
        const struct pd_absent *a = &pd_absent[i];
        if (strcmp(a->name, name) != 0)
            continue;
        for (int k = 0; k < a->nok; k++)
            if (a->ok[k] == value)
                return 0;
        if (a->nok == 0)
            return 0;
        fprintf(stderr, "sysctl: %s=%lld refused: %s; only %lld describes it\n", name,
                (long long)value, a->why, (long long)a->ok[0]);
        return 1;
    }
    fprintf(stderr, "sysctl: unknown oid '%s': tcpcore has no such tunable\n", name);
    return 1;
}

static int pd_sysctl_one(struct tcpc_stack *stack, char *arg, bool write)
{
    char *eq = strchr(arg, '=');
    if (!write || !eq) {
        int64_t v;
        char text[PD_LINE_SIZE];
        if (eq)
            *eq = '\0';
        if (tcpc_sysctl_get_str(stack, arg, text, sizeof(text)) == 0) {
            printf("%s: %s\n", arg, text);
            return 0;
        }
        if (tcpc_sysctl_get(stack, arg, &v) != 0) {
            fprintf(stderr, "sysctl: unknown oid '%s': tcpcore has no such tunable\n", arg);
            return 1;
        }
        printf("%s: %lld\n", arg, (long long)v);
        return 0;
    }
    *eq = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(eq + 1, &end, 0);
    const char *why = NULL;
    if (errno || end == eq + 1 || *end) {
        int err = tcpc_sysctl_set_str(stack, arg, eq + 1, &why);
        if (err == -ENOENT && why == NULL)
            why = "not an integer";
        if (err) {
            fprintf(stderr, "sysctl: %s=%s refused: %s\n", arg, eq + 1, why ? why : strerror(-err));
            return 1;
        }
        return 0;
    }
    int err = tcpc_sysctl_set(stack, arg, v, &why);
    if (err == -ENOENT)
        return pd_set_absent(arg, v);
    if (err) {
        fprintf(stderr, "sysctl: %s=%lld refused: %s\n", arg, v, why ? why : strerror(-err));
        return 1;
    }
    return 0;
}

static int pd_sysctl(struct tcpc_stack *stack, char **w, int n)
{
    bool write = false;
    int status = 0, i = 1;
    for (; i < n && w[i][0] == '-'; i++)
        write |= strchr(w[i], 'w') != NULL;
    if (i == n) {
        fprintf(stderr, "sysctl: no variable named\n");
        return 1;
    }
    for (; i < n; i++)
        if (pd_sysctl_one(stack, w[i], write || strchr(w[i], '=')))
            status = 1;
    return status;
}

/* The lines sockstat prints, and what the pipeline has left of them. */
struct pd_lines {
    int n;
    char line[PD_LINES][PD_LINE_SIZE];
};

struct pd_sockstat {
    struct pd_lines *out;
    int family; /* 0, 4 or 6 */
    long port;  /* -1: any */
};

/* FreeBSD's tcpstates[] spelling: SYN_RCVD, not SYN_RECEIVED. */
static const char *pd_state_name(unsigned state)
{
    const char *name = tcpc_state_name(state);
    return strcmp(name, "SYN_RECEIVED") == 0 ? "SYN_RCVD" : name;
}

static int pd_sockstat_record(void *ctx, const struct tcpc_conninfo *ci)
{
    struct pd_sockstat *ss = ctx;
    const struct tcpc_addr *fam =
        ci->kind == TCPC_CONN_PCB && tcpc_addr_is_any(&ci->faddr) ? &ci->laddr : &ci->faddr;
    int family = tcpc_addr_is_v4(fam) ? 4 : 6;
    if (ss->family && ss->family != family)
        return 0;
    if (ss->port >= 0 && ci->lport != ss->port && ci->fport != ss->port)
        return 0;
    if (ss->out->n == PD_LINES)
        return 1;
    char la[TCPC_ADDRSTRLEN], fa[TCPC_ADDRSTRLEN];
    tcpc_addr_format(&ci->laddr, la, sizeof(la));
    tcpc_addr_format(&ci->faddr, fa, sizeof(fa));
    char *line = ss->out->line[ss->out->n++];
    /* A record without a descriptor (SYN cache, TIME_WAIT) belongs to no
     * process, as sockstat shows it. */
    if (ci->sd >= 0)
        snprintf(line, PD_LINE_SIZE, "root     packetdril 1     %-3d tcp%d  %s:%u %s:%u %s", ci->sd,
                 family, la, ci->lport, fa, ci->fport, pd_state_name(ci->state));
    else
        snprintf(line, PD_LINE_SIZE, "?        ?          ?     ?   tcp%d  %s:%u %s:%u %s", family,
                 la, ci->lport, fa, ci->fport, pd_state_name(ci->state));
    return 0;
}

static int pd_sockstat(struct tcpc_stack *stack, char **w, int n, struct pd_lines *out)
{
    struct pd_sockstat ss = {.out = out, .family = 0, .port = -1};
    for (int i = 1; i < n; i++) {
        if (strcmp(w[i], "-4") == 0) {
            ss.family = 4;
        } else if (strcmp(w[i], "-6") == 0) {
            ss.family = 6;
        } else if (strcmp(w[i], "-P") == 0 && i + 1 < n) {
            if (strcmp(w[++i], "tcp") != 0)
                return 0; /* tcpcore has only TCP: nothing to list */
        } else if (strcmp(w[i], "-p") == 0 && i + 1 < n) {
            ss.port = strtol(w[++i], NULL, 10);
        } else if (strcmp(w[i], "-s") != 0 && strcmp(w[i], "-c") != 0 && strcmp(w[i], "-l") != 0) {
            fprintf(stderr, "sockstat: option %s is not emulated by tcpcore's adapter\n", w[i]);
            return 1;
        }
    }
    out->n = 0;
    tcpc_list_connections(stack, pd_sockstat_record, &ss);
    return 0;
}

/* grep [-c] WORD over the lines; sh's status: 0 when a line was selected. */
static int pd_grep(char **w, int n, struct pd_lines *lines)
{
    bool count = n == 3 && strcmp(w[1], "-c") == 0;
    if (n != 2 && !count) {
        fprintf(stderr, "grep: only 'grep WORD' and 'grep -c WORD' are emulated\n");
        return 2;
    }
    const char *word = w[n - 1];
    int kept = 0;
    for (int i = 0; i < lines->n; i++)
        if (strstr(lines->line[i], word))
            memmove(lines->line[kept++], lines->line[i], PD_LINE_SIZE);
    lines->n = kept;
    if (count) {
        snprintf(lines->line[0], PD_LINE_SIZE, "%d", kept);
        lines->n = 1;
    }
    return kept > 0 ? 0 : 1;
}

/* A sockstat pipeline. Returns -1 when a stage is not one we emulate. */
static int pd_pipeline(struct tcpc_stack *stack, char *command)
{
    char *stages[PD_WORDS];
    int nstages = 0;
    for (char *s = command, *bar; s && nstages < PD_WORDS; s = bar) {
        bar = strchr(s, '|');
        if (bar)
            *bar++ = '\0';
        stages[nstages++] = s;
    }
    struct pd_lines *lines = calloc(1, sizeof(*lines));
    if (!lines)
        return 1;
    int status = 0;
    for (int i = 0; i < nstages; i++) {
        char *w[PD_WORDS];
        int n = pd_split(stages[i], w, PD_WORDS);
        if (n == 0) {
            status = 2;
            break;
        }
        if (i == 0)
            status = pd_sockstat(stack, w, n, lines);
        else if (strcmp(w[0], "grep") == 0)
            status = pd_grep(w, n, lines);
        else {
            fprintf(stderr, "sockstat: pipeline stage '%s' is not emulated\n", w[0]);
            status = 2;
            break;
        }
    }
    free(lines);
    return status;
}

/* What tcpdrop -a / -s picks from the listing, dropped after the walk (the
 * listing's callback must not change the stack). */
struct pd_drops {
    const char *state; /* NULL: every connection (-a) */
    int n;
    struct tcpc_conninfo ci[PD_LINES];
};

static int pd_drop_pick(void *ctx, const struct tcpc_conninfo *ci)
{
    struct pd_drops *d = ctx;
    if (ci->kind == TCPC_CONN_SYNCACHE || ci->fport == 0)
        return 0; /* not a connection tcpdrop reaches */
    if (d->state && strcmp(d->state, pd_state_name(ci->state)) != 0)
        return 0;
    /* An open socket whose connection is in TIME_WAIT is listed as well as
     * the record holding the 4-tuple: one connection, dropped once. */
    for (int i = 0; i < d->n; i++)
        if (d->ci[i].lport == ci->lport && d->ci[i].fport == ci->fport &&
            tcpc_addr_eq(&d->ci[i].laddr, &ci->laddr) && tcpc_addr_eq(&d->ci[i].faddr, &ci->faddr))
            return 0;
    if (d->n == PD_LINES)
        return 1;
    d->ci[d->n++] = *ci;
    return 0;
}

/* FreeBSD's tcpdrop(8): `-a`, `-s STATE` or `laddr lport faddr fport`. */
static int pd_tcpdrop(struct tcpc_stack *stack, char **w, int n)
{
    struct pd_drops *d = calloc(1, sizeof(*d));
    if (!d)
        return 1;
    int status = 0;
    if (n == 2 && strcmp(w[1], "-a") == 0) {
        tcpc_list_connections(stack, pd_drop_pick, d);
    } else if (n == 3 && strcmp(w[1], "-s") == 0) {
        d->state = w[2];
        tcpc_list_connections(stack, pd_drop_pick, d);
    } else if (n == 5) {
        struct tcpc_conninfo *ci = &d->ci[0];
        char *end1, *end2;
        ci->lport = (uint16_t)strtoul(w[2], &end1, 10);
        ci->fport = (uint16_t)strtoul(w[4], &end2, 10);
        if (tcpc_addr_parse(w[1], &ci->laddr) < 0 || tcpc_addr_parse(w[3], &ci->faddr) < 0 ||
            *end1 || *end2) {
            fprintf(stderr, "tcpdrop: cannot read the 4-tuple '%s %s %s %s'\n", w[1], w[2], w[3],
                    w[4]);
            status = 1;
        } else {
            d->n = 1;
        }
    } else {
        fprintf(stderr, "tcpdrop: only -a, -s STATE and 'laddr lport faddr fport' are emulated\n");
        status = 1;
    }
    for (int i = 0; i < d->n; i++) {
        const struct tcpc_conninfo *ci = &d->ci[i];
        int err = tcpc_drop_connection(stack, &ci->laddr, ci->lport, &ci->faddr, ci->fport);
        if (err < 0) {
            fprintf(stderr, "tcpdrop: %u -> %u: %s\n", ci->lport, ci->fport, strerror(-err));
            status = 1;
        }
    }
    free(d);
    return status;
}

int pd_command_run(struct tcpc_stack *stack, const char *command)
{
    char *copy = strdup(command);
    if (!copy)
        return 1;
    char first[32] = "";
    sscanf(copy, " %31s", first);
    int status = -1;
    if (strcmp(first, "sysctl") == 0) {
        char *w[PD_WORDS];
        int n = pd_split(copy, w, PD_WORDS);
        status = pd_sysctl(stack, w, n);
    } else if (strcmp(first, "sockstat") == 0) {
        status = pd_pipeline(stack, copy);
    } else if (strcmp(first, "tcpdrop") == 0) {
        char *w[PD_WORDS];
        int n = pd_split(copy, w, PD_WORDS);
        status = pd_tcpdrop(stack, w, n);
    }
    free(copy);
    return status;
}
