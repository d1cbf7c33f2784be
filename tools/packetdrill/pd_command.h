/*
 * The shell commands of packetdrill scripts that describe the stack under
 * test rather than the host: `sysctl -w NAME=VALUE` and the `sockstat`
 * pipelines FreeBSD's suite uses to read connection states. They are
 * answered from the tcpcore stack the adapter runs, never from the host.
 */
#ifndef TCPC_PD_COMMAND_H
#define TCPC_PD_COMMAND_H

struct tcpc_stack;

/*
 * Runs command against stack. Returns its exit status (0 success, non-zero
 * failure, with a sentence on stderr saying why), or -1 when the command is
 * not one of ours and packetdrill should run it on the host as usual.
 */
int pd_command_run(struct tcpc_stack *stack, const char *command);

#endif
