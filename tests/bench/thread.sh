#!/bin/bash
# Benchmarks -C (issue 17): what a long thread adds to a run. A thread of
# --turns turns (default 10 000, about 50 MB) against one of a single turn
# and against the same bytes as a prompt (the reference): with --dry-run
# (read, check and splice the turns into the body; nothing is sent), with
# --thread-tail 1 (read and check it all, send one turn), and sending to the
# loopback TLS test server (echo mode), which also appends the turn. See
# tests/bench/README.md.
#
# Usage: thread.sh [--runs N] [--turns N] [BUILD_DIR]
#   BUILD_DIR     the CMake build directory, best a Release build [default: build]
#   --runs N      timed runs of each command [default: 5]
#   --turns N     turns of the long thread [default: 10000]
# Needs openssl (the test certificates), awk and bash.
# Exit status: 0; 1 if a command fails; 2 for a usage error or a missing tool.
set -eu

runs=5
turns=10000
build=build
while [ "$#" -gt 0 ]; do
    case $1 in
        --runs) runs=${2:?}; shift 2 ;;
        --turns) turns=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) echo "thread.sh: unknown option: $1" >&2; exit 2 ;;
        *) build=$1; shift ;;
    esac
done
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_numbers "--runs and --turns take a number" "$runs" "$turns"

bench_build_dir "$build"
bench_need_bins "$build/src/gptq" "$build/tests/server/gptq_test_server" "$build/tests/bench/gptq_bench_run"
bench_need_tools openssl awk bash

bench_setup gptq-bench-thread
bench_copy_gptq
# shellcheck disable=SC2119 # no arguments but the defaults
bench_serve

mkdir -p "$tmp/home" "$tmp/out"
env=(--env "PATH=$PATH" --env "HOME=$tmp/home" --env "OPENAI_API_KEY=sk-bench-0123456789")
results=$tmp/results

# make_thread N FILE: N turns of about 5 KB, with quotes, a backslash and
# non-ASCII text that JSON escapes or passes through.
make_thread() {
    awk -v n="$1" 'BEGIN {
        pad = "lorem ipsum dolor sit amet, \\\"quoted\\\" C:\\\\dir caf\303\251 ";
        body = ""; for (i = 0; i < 40; i++) body = body pad;
        for (i = 1; i <= n; i++) {
            printf "{\"role\":\"user\",\"content\":\"question %d: %s\"}\n", i, body;
            printf "{\"role\":\"assistant\",\"content\":\"answer %d: %s\"}\n", i, body;
        } }' > "$2"
}

progress "making a thread of $turns turns"
make_thread 1 "$tmp/small.thread"
make_thread "$turns" "$tmp/long.thread"
size=$(stat -c %s "$tmp/long.thread")

# dry|send NAME THREAD [ARG]...: the words of a timed command.
dry() { echo --cmd "$1" "${env[@]}" -- "$gptq" --dry-run -C "$2" "${@:3}" "the next question" \;; }
send() {
    echo --cmd "$1" "${env[@]}" -- "$gptq" --base-url "$base/echo/v1" --cacert "$ca" --no-stream -C "$2" "${@:3}" \
        "the next question" \;
}
progress "timing --dry-run ($runs runs each)"
# shellcheck disable=SC2046 # the words of each command, split on purpose
# The reference: the same bytes as a prompt on stdin, which is read, checked
# and escaped into the body (the prompt's own target is 500 MB/s too).
# With --thread-tail 1 the long thread is read and checked whole but one
# turn is sent: what is left of sending is the append, whatever the length.
measure "$runs" --cmd cat -- cat "$tmp/long.thread" \; $(dry dry_small "$tmp/small.thread") $(dry dry_long "$tmp/long.thread") \
    $(dry dry_tail "$tmp/long.thread" --thread-tail 1) \
    --cmd dry_prompt "${env[@]}" --stdin "$tmp/long.thread" -- "$gptq" --dry-run "the next question" \;
progress "timing a request that appends ($runs runs each)"
# shellcheck disable=SC2046
measure "$runs" $(send send_small "$tmp/small.thread") $(send send_long "$tmp/long.thread") \
    $(send send_tail "$tmp/long.thread" --thread-tail 1)

long_ms=$(get dry_long wall_ms_median)
small_ms=$(get dry_small wall_ms_median)
echo "long thread: $turns turns, $(fmt "$(awk -v s="$size" 'BEGIN { print s / 1048576 }')") MiB"
echo "| command | wall ms, median (max) | peak RSS MiB |"
echo "|---|---|---|"
for name in cat dry_prompt dry_small dry_long dry_tail send_small send_long send_tail; do
    echo "| $name | $(median_max "$name") | $(rss "$name") |"
done
echo "read and check rate: $(fmt "$(awk -v s="$size" -v l="$long_ms" -v m="$small_ms" \
    'BEGIN { d = (l - m) / 1000; print (d > 0 ? s / 1048576 / d : 0) }')") MiB/s" \
    "(the long thread's size over dry_long - dry_small);" \
    "the same bytes as a prompt: $(fmt "$(awk -v s="$size" -v l="$(get dry_prompt wall_ms_median)" -v m="$small_ms" \
    'BEGIN { d = (l - m) / 1000; print (d > 0 ? s / 1048576 / d : 0) }')") MiB/s"
echo "appending and sending: send_small - dry_small = $(fmt "$(awk -v a="$(get send_small wall_ms_median)" \
    -v b="$small_ms" 'BEGIN { print a - b }')") ms, send_long - dry_long =" \
    "$(fmt "$(awk -v a="$(get send_long wall_ms_median)" -v b="$long_ms" 'BEGIN { print a - b }')") ms," \
    "send_tail - dry_tail = $(fmt "$(awk -v a="$(get send_tail wall_ms_median)" -v b="$(get dry_tail wall_ms_median)" \
    'BEGIN { print a - b }')") ms (the long thread, one turn sent: the append costs as for a short one)"
bench_gptq_line
