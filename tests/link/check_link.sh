#!/usr/bin/env bash
# Checks how gptq is linked, which decides what every run pays before main
# and how hardened the binary is (src/CMakeLists.txt, tests/bench/README.md):
#
# - position-independent (ASLR) and full RELRO (-z relro -z now);
# - no libgcc CPUID probe (__builtin_cpu_supports): each CPUID is a VM exit;
# - with the static runtime, no shared library but libc, libssl and
#   libcrypto (libm too when lld was not found: GNU ld keeps it).
#
#   tests/link/check_link.sh GPTQ_BINARY STATIC_RUNTIME(ON|OFF) LINKED_WITH_LLD(ON|OFF)
set -euo pipefail
bin="$1"
static_runtime="$2"
with_lld="$3"

fail() {
  echo "check_link: $*" >&2
  exit 1
}

[ -x "$bin" ] || fail "no binary at $bin"
dynamic="$(readelf -d "$bin")"
needed="$(awk '/\(NEEDED\)/ { gsub(/[][]/, "", $NF); print $NF }' <<< "$dynamic")"
headers="$(readelf -h -l "$bin")"

grep -q 'Type:.*DYN' <<< "$headers" || fail "not position-independent (ELF type is not DYN)"
grep -Eq 'FLAGS_1.*\bPIE\b' <<< "$dynamic" || fail "no PIE flag"
grep -q 'GNU_RELRO' <<< "$headers" || fail "no RELRO segment"
grep -Eq '\(FLAGS\).*BIND_NOW|FLAGS_1.*\bNOW\b' <<< "$dynamic" || fail "symbols are bound lazily (no -z now)"

if nm "$bin" 2> /dev/null | grep -Eq ' (__cpu_indicator_init|__cpu_model)$'; then
  fail "links libgcc's CPUID probe (__builtin_cpu_supports); check once when first needed, as src/core/utf8_simd.cpp does"
fi

if [ "$static_runtime" = ON ]; then
  allowed="libc.so.6 libssl.so.3 libcrypto.so.3 ld-linux-x86-64.so.2 ld-linux-aarch64.so.1"
  if [ "$with_lld" != ON ]; then
    allowed="$allowed libm.so.6"
  fi
  for lib in $needed; do
    case " $allowed " in
      *" $lib "*) ;;
      *) fail "links $lib; the static runtime needs only: $allowed" ;;
    esac
  done
fi
echo "check_link: $bin: PIE, full RELRO, no CPUID probe, NEEDED: $(echo $needed)"
