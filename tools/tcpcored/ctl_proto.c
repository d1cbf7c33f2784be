/*
 * The control protocol's request side; see ctl_proto.h.
 */
#include "ctl_proto.h"

#include <errno.h>
#include <json.h>
#include <stdio.h>
#include <string.h>

/* Deep enough for {"get": [...]}; anything deeper is refused early. */
#define CTL_MAX_DEPTH 4

static const char *const section_names[] = {"daemon",   "connections", "counters",
                                            "tunables", "neighbours",  "routes"};

const char *ctl_section_name(unsigned section)
{
    for (unsigned i = 0; i < sizeof(section_names) / sizeof(section_names[0]); i++)
        if (section == 1u << i)
            return section_names[i];
    return NULL;
}

static int section_of(const char *name)
{
    for (unsigned i = 0; i < sizeof(section_names) / sizeof(section_names[0]); i++)
        if (!strcmp(name, section_names[i]))
            return 1 << i;
    return 0;
}

static int parse_get(json_object *list, char *why, size_t whylen)
{
    if (!json_object_is_type(list, json_type_array)) {
        snprintf(why, whylen, "\"get\" must be a list of section names");
        return -EINVAL;
    }
    int mask = 0;
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *e = json_object_array_get_idx(list, i);
        int s =
            json_object_is_type(e, json_type_string) ? section_of(json_object_get_string(e)) : 0;
        if (!s) {
            snprintf(why, whylen,
                     "unknown section in \"get\" (known: daemon, connections, counters, "
                     "tunables, neighbours, routes)");
            return -EINVAL;
        }
        mask |= s;
    }
    if (!mask) {
        snprintf(why, whylen, "\"get\" names no section");
        return -EINVAL;
    }
    return mask;
}

int ctl_request_parse(const char *buf, size_t len, char *why, size_t whylen)
{
    if (len > CTL_MAX_REQUEST) {
        snprintf(why, whylen, "request longer than %d bytes", CTL_MAX_REQUEST);
        return -EINVAL;
    }
    json_tokener *tok = json_tokener_new_ex(CTL_MAX_DEPTH);
    if (!tok) {
        snprintf(why, whylen, "out of memory");
        return -ENOMEM;
    }
    json_object *req = json_tokener_parse_ex(tok, buf, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    int rc = -EINVAL;
    if (!req || jerr != json_tokener_success) {
        snprintf(why, whylen, "request is not a complete JSON object: %s",
                 req ? "trailing bytes" : json_tokener_error_desc(jerr));
        goto out;
    }
    for (size_t i = used; i < len; i++)
        if (!strchr(" \t\r\n", buf[i])) {
            snprintf(why, whylen, "request has bytes after its JSON object");
            goto out;
        }
    if (!json_object_is_type(req, json_type_object)) {
        snprintf(why, whylen, "request must be a JSON object: {\"get\": [...]}");
        goto out;
    }
    json_object *get = NULL;
    json_object_object_foreach(req, key, val)
    {
        if (strcmp(key, "get") != 0) {
            snprintf(why, whylen, "unknown request key (known: get)");
            goto out;
        }
        get = val;
    }
    if (!get) {
        snprintf(why, whylen, "request lacks \"get\"");
        goto out;
    }
    rc = parse_get(get, why, whylen);
out:
    json_object_put(req);
    return rc;
}

int ctl_request_format(unsigned mask, char *buf, size_t buflen)
{
    json_object *req = json_object_new_object();
    json_object *list = json_object_new_array();
    for (unsigned s = 1; s <= CTL_ALL; s <<= 1)
        if (mask & s)
            json_object_array_add(list, json_object_new_string(ctl_section_name(s)));
    json_object_object_add(req, "get", list);
    int n =
        snprintf(buf, buflen, "%s\n", json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN));
    json_object_put(req);
    return n < 0 || (size_t)n >= buflen ? -ENOSPC : n;
}
