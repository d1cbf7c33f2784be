#!/usr/bin/env bash
# daemon_bulk.sh over AF_PACKET: tcpcored owns one end of a veth pair
# (--af-packet t0), the kernel the other, addressed (daemon-lib.bash), so
# every case also runs ARP and neighbour discovery against the kernel.
# Usage: bash $0 BUILD_DIR (CTest passes it).
DMN_LINK=afp
source "$(dirname "$0")/daemon_bulk.sh"
