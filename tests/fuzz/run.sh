#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang and runs each for a bounded time
# on a copy of its seed corpus (corpus/<name>/ is never written to).
#
#   tests/fuzz/run.sh [SECONDS] [HARNESS...]
#
# SECONDS is the time per harness (default 60); HARNESS names pick some of
# sse, chat_stream, responses_stream, json_surrogates, response, text, url, batch_format, batch_api, config, socks5, thread, media (default all). Exits non-zero when a
# harness fails to build, crashes, leaks, breaks an invariant or trips a
# sanitizer. The input that did it is kept under tests/fuzz/crashes/<name>/
# (not committed); replay it with build-fuzz/fuzz_<name> <file>.
#
# Environment: CXX (default clang++-14), BUILD_DIR (default build-fuzz in the
# repository root), JOBS for the build (default 2).
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
seconds="${1:-60}"
shift || true
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  harnesses=(sse chat_stream responses_stream json_surrogates response text url batch_format batch_api config socks5 thread media)
fi
build="${BUILD_DIR:-$root/build-fuzz}"
cxx="${CXX:-clang++-14}"

case "$seconds" in
  '' | *[!0-9]*) echo "run.sh: SECONDS must be a whole number, not '$seconds'" >&2; exit 2 ;;
esac

# The dictionaries each harness gets (libFuzzer takes one file: they are joined).
dicts_for() {
  case "$1" in
    sse) echo sse.dict ;;
    chat_stream | responses_stream) echo sse.dict json.dict ;;
    response | json_surrogates | batch_format | batch_api | thread) echo json.dict ;;
    url) echo url.dict ;;
    config) echo config.dict ;;
    *) ;;
  esac
}

generator=()
if command -v ninja > /dev/null; then
  generator=(-G Ninja)
fi
if ! cmake -S "$here" -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER="$cxx" > "$build.configure.log" 2>&1; then
  cat "$build.configure.log" >&2
  echo "run.sh: configuring the fuzz build failed" >&2
  exit 1
fi
rm -f "$build.configure.log"

# UBSan prints where it tripped (it stops at the first report either way).
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

failed=()
for name in "${harnesses[@]}"; do
  echo "== fuzz_$name: build"
  if ! cmake --build "$build" -j"${JOBS:-2}" --target "fuzz_$name"; then
    failed+=("$name (build)")
    continue
  fi

  corpus="$work/corpus/$name"
  mkdir -p "$corpus" "$here/crashes/$name"
  cp "$here/corpus/$name"/* "$corpus"/
  dict=()
  files="$(dicts_for "$name")"
  if [ -n "$files" ]; then
    (cd "$here/dict" && cat $files) > "$work/$name.dict"
    dict=(-dict="$work/$name.dict")
  fi

  echo "== fuzz_$name: ${seconds}s"
  # -rss_limit_mb and -timeout make runaway memory and hangs failures too;
  # -max_len is well above the largest seed (about 1 KB).
  if "$build/fuzz_$name" "$corpus" "${dict[@]}" \
      -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$here/crashes/$name/" \
      > "$work/$name.log" 2>&1; then
    grep -E '^(#[0-9]+[[:space:]]+DONE|stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb))' \
      "$work/$name.log" || true
    rmdir "$here/crashes/$name" 2> /dev/null || true
  else
    tail -n 60 "$work/$name.log"
    failed+=("$name")
  fi
done
rmdir "$here/crashes" 2> /dev/null || true

if [ ${#failed[@]} -ne 0 ]; then
  echo "run.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "run.sh: all harnesses ran ${seconds}s without a finding"
