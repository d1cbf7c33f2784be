#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the fuzzers need,
# only those that are missing. Needs root to install; says what is missing
# otherwise.
set -euo pipefail

packages=(
  cmake make gcc clang clang-format pkg-config
  libsodium-dev libcmocka-dev libpcap-dev
  libssl-dev # libcrypto: MD5 for TCP signatures (RFC 2385)
  libjson-c-dev libconfig-dev # tcpcored's control answers and configuration file
  libclang-rt-14-dev # libFuzzer and the sanitizer runtimes for clang
  bison flex         # make conformance: building packetdrill
  clang-19 libclang-rt-19-dev # make fuzz: a libFuzzer whose bookkeeping stays fast
  iproute2           # interop tests and the demo: ip netns, ip tuntap
  curl netcat-openbsd tcpdump # the demo's and the interop tests' kernel clients
  iputils-ping ethtool # interop: ping the stack; veth offloads off for AF_PACKET
  wrk hping3         # bench/vs_linux.sh: HTTP load and a bounded SYN flood
  valgrind
  doxygen # make docs: the API reference, also checked by make check (api_docs)
  binutils groff-base # the ABI tests read the shared library; the manual pages are checked
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
