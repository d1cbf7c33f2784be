#!/usr/bin/env bash
# The library as its users get it: `cmake --install` into a prefix inside the
# build directory, then the examples built against that tree only, through
# pkg-config (examples/Makefile) and through find_package(tcpcore)
# (examples/CMakeLists.txt, shared and static), and the in-memory example
# run from each. tests/examples/tun.sh then runs the TUN examples built
# here.
# Usage: install.sh BUILD_DIR SOURCE_DIR VERSION CC CFLAGS
set -euo pipefail
build=$1 src=$2 version=$3 cc=$4 cflags=$5
major=${version%%.*}
out=$build/examples-installed
prefix=$out/prefix
rm -rf "$out"
mkdir -p "$out/pc"

fail() {
  echo "FAIL: $*"
  exit 1
}

cmake --install "$build" --prefix "$prefix" >"$out/install.log" || {
  cat "$out/install.log"
  fail "cmake --install"
}

libdir=$(dirname "$(find "$prefix" -name tcpcore.pc -path '*/pkgconfig/*')")
libdir=${libdir%/pkgconfig}
for f in include/tcpcore/stack.h include/tcpcore/config.h include/tcpcore/socket.h \
  include/tcpcore/version.h bin/tcpcored bin/tcpcore-stat share/man/man8/tcpcored.8 \
  share/man/man8/tcpcore-stat.8; do
  [ -e "$prefix/$f" ] || fail "$f is not installed"
done
for f in libtcpcore.a "libtcpcore.so.$version" "libtcpcore.so.$major" libtcpcore.so \
  cmake/tcpcore/tcpcoreConfig.cmake cmake/tcpcore/tcpcoreConfigVersion.cmake \
  cmake/tcpcore/tcpcoreTargets.cmake; do
  [ -e "$libdir/$f" ] || fail "${libdir#"$prefix"/}/$f is not installed"
done
# Only the public API: no internal header reaches the prefix.
extra=$(find "$prefix/include" -type f ! -path "*/include/tcpcore/*.h")
[ -z "$extra" ] || fail "headers outside include/tcpcore: $extra"

export PKG_CONFIG_PATH=$libdir/pkgconfig
[ "$(pkg-config --modversion tcpcore)" = "$version" ] || fail "pkg-config --modversion"
echo "pkg-config --cflags --libs tcpcore: $(pkg-config --cflags --libs tcpcore)"

# Through pkg-config, with the user-facing Makefile.
make -s -C "$src/examples" OUT="$out/pc" CC="$cc" CFLAGS="$cflags -Wall -Wextra -Werror" \
  LDFLAGS="-Wl,-rpath,$libdir" || fail "building the examples through pkg-config"
objdump -p "$out/pc/memlink_echo" | grep -q "NEEDED *libtcpcore.so.$major\$" ||
  fail "memlink_echo does not link libtcpcore.so.$major"
"$out/pc/memlink_echo" | tee "$out/pc.log"
grep -q '^done' "$out/pc.log" || fail "memlink_echo (pkg-config build)"

# Through find_package(tcpcore), shared and static.
cmake -S "$src/examples" -B "$out/cmake" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
  "-DCMAKE_C_FLAGS=$cflags -Wall -Wextra -Werror" >"$out/cmake.log" || {
  cat "$out/cmake.log"
  fail "configuring examples/ with find_package(tcpcore)"
}
cmake --build "$out/cmake" >>"$out/cmake.log" || {
  cat "$out/cmake.log"
  fail "building examples/ with find_package(tcpcore)"
}
objdump -p "$out/cmake/memlink_echo_static" | grep -q "NEEDED *libtcpcore" &&
  fail "memlink_echo_static links the shared library"
for prog in memlink_echo memlink_echo_static; do
  "$out/cmake/$prog" | tee "$out/$prog.log"
  grep -q '^done' "$out/$prog.log" || fail "$prog (find_package build)"
done
echo "ok: installed into $prefix; examples built by pkg-config and find_package"
