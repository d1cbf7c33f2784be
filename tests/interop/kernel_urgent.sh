#!/usr/bin/env bash
# Interop, urgent data: after its stream, each side sends one byte with
# MSG_OOB and reads the other's with MSG_OOB, the Linux kernel on one end and
# tcpcore on the other, either one connecting; the streams (1 MB each way)
# still match by SHA-256, the out-of-band byte being outside them. IPv6 once
# too: the path is the same. Usage: bash $0 BUILD_DIR. See interop-lib.bash.
export TCPC_INTEROP_BYTES=${TCPC_INTEROP_BYTES:-1048576}
export TCPC_INTEROP_URGENT=1
source "$(dirname "$0")/interop-lib.bash"

interop_case v4 kernel tcpcore
interop_case v4 tcpcore kernel
interop_case v6 kernel kernel
interop_finish
