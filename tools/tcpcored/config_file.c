/*
 * The configuration file, read with libconfig: one setting per tcpcored
 * option, lists for the repeatable ones, a list of groups for services.
 * tcpcored.conf.example (next to this file) shows every setting. Unknown
 * settings and wrong types are errors, with the file's line number, so a
 * typo never silently leaves a default in force.
 */
#include <errno.h>
#include <libconfig.h>
#include <string.h>

#include "config.h"
#include "config_values.h"
#include "exitcodes.h"

#define WHY(...) (snprintf(why, DMN_WHY_LEN, __VA_ARGS__))

struct file_ctx {
    const char *path;
    struct dmn_config *c;
    char *why;
    bool tun, afp; /* which device settings the file has */
};

/* Prefixes a value error with where it is; keeps its exit status. */
static int at(const struct file_ctx *f, const config_setting_t *s, int rc)
{
    if (rc) {
        char inner[DMN_WHY_LEN];
        memcpy(inner, f->why, DMN_WHY_LEN);
        int n =
            snprintf(f->why, DMN_WHY_LEN, "%s line %d: ", f->path, config_setting_source_line(s));
        if (n > 0 && n < DMN_WHY_LEN)
            strncat(f->why, inner, (size_t)(DMN_WHY_LEN - n - 1));
    }
    return rc;
}

static int type_error(const struct file_ctx *f, const config_setting_t *s, const char *want)
{
    snprintf(f->why, DMN_WHY_LEN, "%s line %d: %s must be %s", f->path,
             config_setting_source_line(s), config_setting_name(s), want);
    return DMN_EXIT_BAD_SETTING;
}

static int string_of(const struct file_ctx *f, const config_setting_t *s, const char **out)
{
    *out = config_setting_get_string(s);
    return *out ? DMN_EXIT_OK : type_error(f, s, "a string in double quotes");
}

static int number_of(const struct file_ctx *f, const config_setting_t *s, long long min,
                     long long max, long long *out)
{
    int t = config_setting_type(s);
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
        return type_error(f, s, "an integer");
    *out = config_setting_get_int64(s);
    if (*out < min || *out > max) {
        snprintf(f->why, DMN_WHY_LEN, "%s line %d: %s %lld is not from %lld to %lld", f->path,
                 config_setting_source_line(s), config_setting_name(s), *out, min, max);
        return DMN_EXIT_BAD_SETTING;
    }
    return DMN_EXIT_OK;
}

/* A list or array of strings, each handed to add. */
static int strings(const struct file_ctx *f, const config_setting_t *s,
                   int (*add)(struct dmn_config *, const char *, char *))
{
    if (!config_setting_is_aggregate(s))
        return type_error(f, s, "a list of strings: [ \"...\", ... ]");
    for (int i = 0; i < config_setting_length(s); i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        const char *text = config_setting_get_string(e);
        if (!text)
            return type_error(f, s, "a list of strings: [ \"...\", ... ]");
        int rc = add(f->c, text, f->why);
        if (rc)
            return at(f, e, rc);
    }
    return DMN_EXIT_OK;
}

/* One service group: kind, port, and bytes / to / via by kind. */
static int service(const struct file_ctx *f, const config_setting_t *g)
{
    if (!config_setting_is_group(g))
        return type_error(f, config_setting_parent(g),
                          "a list of groups: ( { kind = \"http\"; port = 80; }, ... )");
    struct dmn_service_conf s = {0};
    const char *kind = NULL, *to = NULL, *via = NULL;
    long long port = 0, bytes = 0;
    int rc = 0;
    for (int i = 0; i < config_setting_length(g) && !rc; i++) {
        const config_setting_t *e = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(e);
        if (!strcmp(name, "kind"))
            rc = string_of(f, e, &kind);
        else if (!strcmp(name, "port"))
            rc = number_of(f, e, 1, 65535, &port);
        else if (!strcmp(name, "bytes"))
            rc = number_of(f, e, 0, INT64_MAX / 2, &bytes);
        else if (!strcmp(name, "to"))
            rc = string_of(f, e, &to);
        else if (!strcmp(name, "via"))
            rc = string_of(f, e, &via);
        else {
            snprintf(f->why, DMN_WHY_LEN, "%s line %d: a service has no setting \"%s\"", f->path,
                     config_setting_source_line(e), name);
            rc = DMN_EXIT_BAD_SETTING;
        }
    }
    if (rc)
        return rc;
    s.kind = kind ? dmn_service_kind(kind) : 0;
    if (!s.kind) {
        snprintf(f->why, DMN_WHY_LEN,
                 "%s line %d: a service needs kind = one of \"echo\", \"discard\", \"source\", "
                 "\"http\", \"forward\"",
                 f->path, config_setting_source_line(g));
        return DMN_EXIT_BAD_SETTING;
    }
    s.port = (uint16_t)port;
    s.bytes = (uint64_t)bytes;
    if ((s.kind == DMN_SVC_FORWARD) != (to != NULL)) {
        snprintf(f->why, DMN_WHY_LEN, "%s line %d: %s", f->path, config_setting_source_line(g),
                 to ? "only a forward service has a \"to\" backend"
                    : "a forward service needs to = \"ADDRESS:PORT\"");
        return DMN_EXIT_BAD_SETTING;
    }
    if (to && (rc = dmn_parse_hostport(to, &s.to, &s.to_port, f->why)))
        return at(f, g, rc);
    if (via && strcmp(via, "stack") && strcmp(via, "kernel")) {
        snprintf(f->why, DMN_WHY_LEN, "%s line %d: via must be \"kernel\" or \"stack\"", f->path,
                 config_setting_source_line(g));
        return DMN_EXIT_BAD_SETTING;
    }
    s.via_stack = via && !strcmp(via, "stack");
    return at(f, g, dmn_config_add_service(f->c, &s, f->why));
}

static int services(const struct file_ctx *f, const config_setting_t *s)
{
    if (config_setting_type(s) != CONFIG_TYPE_LIST)
        return type_error(f, s, "a list of groups: ( { kind = \"http\"; port = 80; }, ... )");
    int rc = 0;
    for (int i = 0; i < config_setting_length(s) && !rc; i++)
        rc = service(f, config_setting_get_elem(s, (unsigned)i));
    return rc;
}

/* A string setting copied into a fixed field. */
static int field(const struct file_ctx *f, const config_setting_t *s, char *dst, size_t size)
{
    const char *text;
    int rc = string_of(f, s, &text);
    return rc ? rc : at(f, s, dmn_set_string(dst, size, text, config_setting_name(s), f->why));
}

static int flag(const struct file_ctx *f, const config_setting_t *s, bool *dst)
{
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return type_error(f, s, "true or false");
    *dst = config_setting_get_bool(s);
    return DMN_EXIT_OK;
}

/* device = "tun0" or af_packet = "veth1": one of them. */
static int device(struct file_ctx *f, const config_setting_t *s, bool afp)
{
    *(afp ? &f->afp : &f->tun) = true;
    if (f->tun && f->afp) {
        snprintf(f->why, DMN_WHY_LEN,
                 "%s line %d: device and af_packet exclude each other: the stack runs on one "
                 "device",
                 f->path, config_setting_source_line(s));
        return DMN_EXIT_BAD_SETTING;
    }
    f->c->af_packet = afp;
    return field(f, s, f->c->device, 16);
}

static int setting(struct file_ctx *f, const config_setting_t *s)
{
    struct dmn_config *c = f->c;
    const char *name = config_setting_name(s);
    long long v = 0;
    int rc;
    if (!strcmp(name, "device") || !strcmp(name, "af_packet"))
        return device(f, s, name[0] == 'a');
    if (!strcmp(name, "multi_queue"))
        return flag(f, s, &c->multi_queue);
    if (!strcmp(name, "addresses"))
        return strings(f, s, dmn_config_add_addr);
    if (!strcmp(name, "gateways"))
        return strings(f, s, dmn_config_add_gateway);
    if (!strcmp(name, "sysctl"))
        return strings(f, s, dmn_config_add_sysctl_text);
    if (!strcmp(name, "md5_keys"))
        return strings(f, s, dmn_config_add_md5_key);
    if (!strcmp(name, "services"))
        return services(f, s);
    if (!strcmp(name, "tcp_fastopen")) {
        const char *text;
        return (rc = string_of(f, s, &text)) ? rc
                                             : at(f, s, dmn_config_set_fastopen(c, text, f->why));
    }
    if (!strcmp(name, "mtu"))
        return (rc = number_of(f, s, 0, TCPC_MTU_MAX, &v))
                   ? rc
                   : at(f, s, dmn_config_set_mtu(c, (uint64_t)v, f->why));
    if (!strcmp(name, "jobs"))
        return (rc = number_of(f, s, 0, UINT32_MAX, &v))
                   ? rc
                   : at(f, s, dmn_config_set_jobs(c, (uint64_t)v, f->why));
    if (!strcmp(name, "grace_ms")) {
        if ((rc = number_of(f, s, 0, 600000, &v)) == 0)
            c->grace_ms = (uint32_t)v;
        return rc;
    }
    if (!strcmp(name, "user"))
        return field(f, s, c->user, sizeof(c->user));
    if (!strcmp(name, "control"))
        return field(f, s, c->control, sizeof(c->control));
    if (!strcmp(name, "pcap"))
        return field(f, s, c->pcap, sizeof(c->pcap));
    if (!strcmp(name, "trace"))
        return flag(f, s, &c->trace);
    if (!strcmp(name, "accept_filter")) {
        const char *text;
        return (rc = string_of(f, s, &text))
                   ? rc
                   : at(f, s, dmn_config_set_accept_filter(c, text, f->why));
    }
    snprintf(f->why, DMN_WHY_LEN, "%s line %d: unknown setting \"%s\"", f->path,
             config_setting_source_line(s), name);
    return DMN_EXIT_BAD_SETTING;
}

int dmn_config_file(struct dmn_config *c, const char *path, char *why)
{
    config_t cf;
    config_init(&cf);
    struct file_ctx f = {.path = path, .c = c, .why = why};
    int rc = DMN_EXIT_OK;
    errno = 0;
    if (config_read_file(&cf, path) != CONFIG_TRUE) {
        int err = errno;
        if (config_error_type(&cf) == CONFIG_ERR_FILE_IO)
            WHY("cannot read configuration file %s: %s", path,
                err ? strerror(err) : "input/output error");
        else
            WHY("%s line %d: %s", path, config_error_line(&cf), config_error_text(&cf));
        rc = DMN_EXIT_CONFIG_FILE;
    } else {
        const config_setting_t *root = config_root_setting(&cf);
        for (int i = 0; i < config_setting_length(root) && !rc; i++)
            rc = setting(&f, config_setting_get_elem(root, (unsigned)i));
    }
    config_destroy(&cf);
    return rc;
}
