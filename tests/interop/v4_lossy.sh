#!/usr/bin/env bash
# Interop, IPv4, with packets lost on purpose (0.2% each way, inside
# tcpcore-peer): the kernel connects to a tcpcore listener, 10 MB each way.
# Exercises retransmission and out-of-order reassembly against the kernel's
# TCP; the bytes must still match and both sides close cleanly.
# Usage: bash $0 BUILD_DIR (CTest passes it). See interop-lib.bash.
source "$(dirname "$0")/interop-lib.bash"

interop_case v4 kernel kernel 2000
interop_case v4 tcpcore tcpcore 2000
interop_finish
