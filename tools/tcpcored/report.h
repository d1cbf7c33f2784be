/*
 * The daemon's answers to control requests (ctl_proto.h), built with json-c
 * from the stack's public listing, counter and tunable interfaces.
 */
#ifndef TCPCORED_REPORT_H
#define TCPCORED_REPORT_H

#include <json.h>

#include "daemon.h"

/* A new answer object holding the sections in mask; the caller puts it. */
json_object *dmn_report(struct dmn *d, unsigned mask);

/* An error answer. */
json_object *dmn_report_error(const char *why);

#endif
