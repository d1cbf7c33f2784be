#!/usr/bin/env bash
# Interop, IPv6: the kernel connects to a tcpcore listener over TUN; 10 MB
# each way, verified by SHA-256 at both ends, once with each side closing
# first. Usage: bash $0 BUILD_DIR (CTest passes it). See interop-lib.bash.
source "$(dirname "$0")/interop-lib.bash"

interop_case v6 kernel tcpcore
interop_case v6 kernel kernel
interop_finish
