/*
 * Parsers for single setting values, shared by the command line and the
 * configuration file so that both accept exactly the same text: addresses
 * with prefixes, host:port, "name=value" tunables, service specifications
 * and bounded numbers. Each returns DMN_EXIT_OK or the exit status of its
 * kind of error, with one sentence in why[0..DMN_WHY_LEN).
 */
#ifndef TCPCORED_CONFIG_VALUES_H
#define TCPCORED_CONFIG_VALUES_H

#include "config.h"

/* A decimal number in [0, max]; `what` names it in the error. */
int dmn_parse_u64(const char *text, uint64_t max, const char *what, uint64_t *out, char *why);

/* "198.18.0.2/24", "2001:db8::2/64"; without "/len" a host prefix. */
int dmn_parse_prefix(const char *text, struct dmn_prefix *out, char *why);

/* "198.18.0.1:8000" or "[2001:db8::1]:8000". */
int dmn_parse_hostport(const char *text, struct tcpc_addr *addr, uint16_t *port, char *why);

/* "echo", "discard", "source", "http", "forward": the kind, or 0. */
enum dmn_service_kind dmn_service_kind(const char *name);
const char *dmn_service_name(enum dmn_service_kind kind);

/* The list adders: check the value, its family and the list's room. */
int dmn_config_add_addr(struct dmn_config *c, const char *text, char *why);
int dmn_config_add_gateway(struct dmn_config *c, const char *text, char *why);
int dmn_config_add_sysctl(struct dmn_config *c, const char *name, int64_t value, char *why);
/* "NAME=VALUE" */
int dmn_config_add_sysctl_text(struct dmn_config *c, const char *text, char *why);
int dmn_config_add_service(struct dmn_config *c, const struct dmn_service_conf *s, char *why);
/* "KIND:PORT", "source:PORT:BYTES", "forward:PORT:HOST:PORT[,stack]" */
int dmn_config_add_service_text(struct dmn_config *c, const char *text, char *why);

/* "PREFIX=KEY": an RFC 2385 key (1 to 80 bytes of text) for the peers in
 * PREFIX ("198.18.0.1", "2001:db8::/32=..."). */
int dmn_config_add_md5_key(struct dmn_config *c, const char *text, char *why);

/* "server", "client", "both" or "off": --tcp-fastopen, tcp_fastopen. */
int dmn_config_set_fastopen(struct dmn_config *c, const char *text, char *why);

/* The link MTU: TCPC_MTU_MIN to TCPC_MTU_MAX. */
int dmn_config_set_mtu(struct dmn_config *c, uint64_t mtu, char *why);
/* -j N or jobs = N: 1..dmn_config_max_jobs(). */
int dmn_config_set_jobs(struct dmn_config *c, uint64_t jobs, char *why);

/* Copies text into a fixed field; DMN_EXIT_BAD_SETTING if it does not fit. */
int dmn_set_string(char *field, size_t size, const char *text, const char *what, char *why);

/* The accept filter of the http services: "dataready" or "httpready". */
int dmn_config_set_accept_filter(struct dmn_config *c, const char *name, char *why);

/* Checks what can only be checked on the whole: gateways inside a prefix,
 * at least one address and one service. */
int dmn_config_check(const struct dmn_config *c, char *why);

#endif
