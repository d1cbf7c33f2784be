/*
 * tcpcored's settings: what the command line and the configuration file
 * say, checked and in a form the rest of the daemon uses directly.
 *
 * The file is read first (libconfig syntax, see tcpcored.conf.example), then
 * the command line: a scalar on the command line replaces the file's, a list
 * item (--addr, --gateway, --sysctl, --service) adds to the file's list.
 * Every error is one sentence in a caller's buffer plus an exit status from
 * exitcodes.h; nothing here prints or exits, so tests can drive it.
 */
#ifndef TCPCORED_CONFIG_H
#define TCPCORED_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpcore/addr.h"
#include "tcpcore/stack.h"

#define DMN_MAX_GATEWAYS 2
#define DMN_MAX_SYSCTLS  64
#define DMN_MAX_SERVICES 32
#define DMN_WHY_LEN      512
#define DMN_MAX_MD5_KEYS 32
#define DMN_MAX_JOBS     256 /* a fanout group's and a TUN device's most queues */

enum dmn_service_kind {
    DMN_SVC_ECHO = 1,
    DMN_SVC_DISCARD,
    DMN_SVC_SOURCE,
    DMN_SVC_HTTP,
    DMN_SVC_FORWARD,
};

struct dmn_service_conf {
    enum dmn_service_kind kind;
    uint16_t port;
    uint64_t bytes;      /* source: bytes sent per connection */
    struct tcpc_addr to; /* forward: the backend */
    uint16_t to_port;
    bool via_stack; /* forward: reach the backend through tcpcore */
};

struct dmn_prefix {
    struct tcpc_addr addr;
    unsigned len; /* prefix length in bits, of the address's own family */
};

/* An RFC 2385 key for the peers of a prefix, set on every listener. */
struct dmn_md5_key {
    struct dmn_prefix peers;
    uint8_t len;
    char key[80]; /* TCPC_TCP_MD5SIG_MAXKEYLEN bytes at most, not NUL-terminated */
};

/* --tcp-fastopen (RFC 7413): bits of what tcpcored does with Fast Open. */
#define DMN_TFO_SERVER 0x1 /* listeners take data on a SYN with a valid cookie */
#define DMN_TFO_CLIENT 0x2 /* forward,stack sends its first bytes on the SYN */

struct dmn_sysctl {
    char name[64];
    int64_t value;
};

struct dmn_config {
    char device[32]; /* the TUN device or, with af_packet, the Ethernet interface */
    bool af_packet;  /* the device is an interface for an AF_PACKET socket */
    bool multi_queue;
    struct dmn_prefix addrs[TCPC_MAX_LOCAL_ADDRS];
    unsigned naddrs;
    struct tcpc_addr gateways[DMN_MAX_GATEWAYS]; /* at most one per family */
    unsigned ngateways;
    uint32_t mtu;
    bool mtu_given; /* by --mtu or the file: on AF_PACKET, else the interface's */
    struct dmn_sysctl sysctls[DMN_MAX_SYSCTLS];
    unsigned nsysctls;
    struct dmn_service_conf services[DMN_MAX_SERVICES];
    unsigned nservices;
    struct dmn_md5_key md5_keys[DMN_MAX_MD5_KEYS];
    unsigned nmd5_keys;
    char accept_filter[16]; /* the http services' SO_ACCEPTFILTER, "" for none */
    unsigned fastopen;      /* DMN_TFO_* */
    char user[64];
    char control[108]; /* sun_path */
    char pcap[256];
    uint32_t grace_ms; /* how long a shutdown waits for connections to close */
    bool trace;
    unsigned jobs; /* -j: worker threads, one stack (group member) each; 1 by default */
};

/* The most workers -j takes: four per online CPU, and never more than a
 * fanout group or a multiqueue TUN device has queues. */
unsigned dmn_config_max_jobs(void);

/* Defaults: device tun0, MTU 1500, user nobody, control socket
 * /run/tcpcore/tcpcored.sock, 2 s grace, nothing else. */
void dmn_config_defaults(struct dmn_config *c);

/*
 * Fills c from the command line (reading the --config file, when given,
 * first). Returns DMN_EXIT_OK, or an exit status with the reason in
 * why[0..DMN_WHY_LEN). --help sets *help and returns DMN_EXIT_OK.
 */
int dmn_config_parse(struct dmn_config *c, int argc, char **argv, bool *help, char *why);

/* Reads a configuration file into c (adding to what c holds). */
int dmn_config_file(struct dmn_config *c, const char *path, char *why);

/*
 * Puts the settings that the stack takes into cfg (initialised by the
 * caller): addresses, MTU, tunables. Tunable names and values are checked
 * here, by the stack's own validators.
 */
int dmn_config_stack(const struct dmn_config *c, struct tcpc_config *cfg, char *why);

/* The usage text, with the exit statuses. */
void dmn_config_usage(FILE *out);

#endif
