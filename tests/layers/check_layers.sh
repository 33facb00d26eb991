#!/usr/bin/env bash
# The dependency rule of ARCHITECTURE.md, checked where the compiler cannot:
# every layer's include directory is its own (src/CMakeLists.txt), so a core
# file cannot find a net or app header, but Asio, Beast and OpenSSL live in
# /usr/include, which every file can reach. A core file must not include
# them, an app file only Asio's event loop; no core or net file may name a
# header of a layer above it.
#
#   check_layers.sh SRC_DIR
set -euo pipefail
src=${1:?usage: check_layers.sh SRC_DIR}
status=0

fail() {
  echo "$1" >&2
  status=1
}

# Prints FILE:LINE:TEXT for each #include in the files under DIR that
# matches the extended regular expression PATTERN.
includes() {
  local dir=$1 pattern=$2
  grep -rnE --include='*.cpp' --include='*.hpp' "^[[:space:]]*#[[:space:]]*include[[:space:]]*$pattern" "$dir" || true
}

for layer in core net app; do
  [ -d "$src/$layer" ] || fail "layers: $src/$layer: no such directory"
done

while IFS= read -r hit; do
  [ -n "$hit" ] && fail "layers: ${hit#"$src"/}: the core includes Asio, Beast or OpenSSL; that belongs in src/net"
done < <(includes "$src/core" '<(boost/asio|boost/beast|openssl/)')

# The app may run Asio's event loop (batch mode's worker coroutines and
# timers, stdin as a stream descriptor), but sockets, TLS and HTTP are the
# network layer's.
event_loop='<boost/asio/(any_io_executor|as_tuple|awaitable|co_spawn|detached|io_context|posix/stream_descriptor|steady_timer|this_coro|use_awaitable)[.]hpp>'
while IFS= read -r hit; do
  [ -n "$hit" ] && fail "layers: ${hit#"$src"/}: the app includes the network's Asio, Beast or OpenSSL; that belongs in src/net"
done < <(includes "$src/app" '<(boost/asio|boost/beast|openssl/)' | grep -Ev "$event_loop" || true)

# Headers by name: those of net and app, which a lower layer must not name.
headers_of() {
  find "$src/$1" -name '*.hpp' -printf '%f\n' | sed 's/[.]/[.]/g' | paste -sd '|'
}
net_headers=$(headers_of net)
app_headers=$(headers_of app)
while IFS= read -r hit; do
  [ -n "$hit" ] && fail "layers: ${hit#"$src"/}: the core names a header of a layer above it"
done < <(includes "$src/core" "\"($net_headers|$app_headers)\"")
while IFS= read -r hit; do
  [ -n "$hit" ] && fail "layers: ${hit#"$src"/}: the network layer names an app header"
done < <(includes "$src/net" "\"($app_headers)\"")

# Nothing may sit beside the layers, where no rule reaches it.
while IFS= read -r stray; do
  fail "layers: ${stray#"$src"/}: a source file outside src/core, src/net and src/app"
done < <(find "$src" -maxdepth 1 -type f \( -name '*.cpp' -o -name '*.hpp' \))

[ "$status" = 0 ] && echo "layers: core, net and app keep the dependency rule"
exit "$status"
