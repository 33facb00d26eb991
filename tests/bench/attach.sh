#!/bin/bash
# Benchmarks -f with binary files (issue 18): a 16 MiB PNG and a 64 MiB PDF
# (--max-attachment 80M) encoded into the body, with --dry-run=full (the
# whole body printed) and sent to the loopback TLS test server (count mode,
# which reads the body without parsing it). The reference: coreutils'
# base64 -w0 of the same file. Prints wall time, the rate of input encoded
# and peak RSS beside the file's size. See tests/bench/README.md.
#
# Usage: attach.sh [--runs N] [BUILD_DIR]
#   BUILD_DIR     the CMake build directory, best a Release build [default: build]
#   --runs N      timed runs of each command [default: 5]
# Needs openssl (the test certificates), base64, head, awk and bash.
# Exit status: 0; 1 if a command fails; 2 for a usage error or a missing tool.
set -eu

runs=5
build=build
while [ "$#" -gt 0 ]; do
    case $1 in
        --runs) runs=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,13s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) echo "attach.sh: unknown option: $1" >&2; exit 2 ;;
        *) build=$1; shift ;;
    esac
done
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_numbers "--runs takes a number" "$runs"

bench_build_dir "$build"
bench_need_bins "$build/src/gptq" "$build/tests/server/gptq_test_server" "$build/tests/bench/gptq_bench_run"
bench_need_tools openssl base64 head awk bash

bench_setup gptq-bench-attach
bench_copy_gptq
# shellcheck disable=SC2119 # no arguments but the defaults
bench_serve

mkdir -p "$tmp/home" "$tmp/out"
env=(--env "PATH=$PATH" --env "HOME=$tmp/home" --env "OPENAI_API_KEY=sk-bench-0123456789")
results=$tmp/results

progress "making a 16 MiB PNG and a 64 MiB PDF (random bytes behind their headers)"
{ printf '\211PNG\r\n\032\n'; head -c $((16 * 1048576 - 8)) /dev/urandom; } > "$tmp/big.png"
{ printf '%%PDF-1.7\n%%\342\343\317\323\n'; head -c $((64 * 1048576 - 15)) /dev/urandom; } > "$tmp/big.pdf"

# dry NAME FILE [=full]: a dry run, its payloads shortened or whole.
dry() {
    echo --cmd "$1" "${env[@]}" -- "$gptq" --dry-run"${3:-}" --max-attachment 80M -f "$2" "describe it" \;
}
send() {
    echo --cmd "$1" "${env[@]}" -- "$gptq" --base-url "$base/count/v1" --cacert "$ca" --no-stream \
        --max-attachment 80M -f "$2" "describe it" \;
}
progress "timing ($runs runs each)"
# shellcheck disable=SC2046 # the words of each command, split on purpose
measure "$runs" --cmd b64_png -- base64 -w0 "$tmp/big.png" \; --cmd b64_pdf -- base64 -w0 "$tmp/big.pdf" \; \
    --cmd tiny "${env[@]}" -- "$gptq" --dry-run "describe it" \; \
    $(dry short_png "$tmp/big.png") $(dry dry_png "$tmp/big.png" =full) $(send send_png "$tmp/big.png") \
    $(dry short_pdf "$tmp/big.pdf") $(dry dry_pdf "$tmp/big.pdf" =full) $(send send_pdf "$tmp/big.pdf")

rate() { # NAME FILE: MB/s of the file's bytes over the command's median
    awk -v s="$(stat -c %s "$2")" -v ms="$(get "$1" wall_ms_median)" 'BEGIN { printf "%.0f\n", s / 1e6 / (ms / 1000) }'
}
ratio() { # NAME FILE: peak RSS over the file's size, and without what a tiny run takes
    awk -v s="$(stat -c %s "$2")" -v r="$(get "$1" rss_mib_median)" -v t="$(get tiny rss_mib_median)" \
        'BEGIN { printf "%.2f (%.2f)\n", r * 1048576 / s, (r - t) * 1048576 / s }'
}
encoded() { # TYPE: MB/s of the file encoded and written, dry_TYPE - short_TYPE
    awk -v s="$(stat -c %s "$tmp/big.$1")" -v a="$(get "dry_$1" wall_ms_median)" -v b="$(get "short_$1" wall_ms_median)" \
        'BEGIN { d = (a - b) / 1000; if (d > 0) printf "%.0f\n", s / 1e6 / d; else print "-" }'
}
echo "| command | file | wall ms, median (max) | input MB/s | peak RSS MiB | RSS / file (less a tiny run's) |"
echo "|---|---|---|---|---|---|"
echo "| tiny | - | $(median_max tiny) | - | $(rss tiny) | - |"
for name in b64_png short_png dry_png send_png b64_pdf short_pdf dry_pdf send_pdf; do
    file=$tmp/big.${name#*_}
    echo "| $name | $(basename "$file") | $(median_max "$name") | $(rate "$name" "$file") | $(rss "$name") |" \
        "$(ratio "$name" "$file") |"
done
echo "encoded and written (dry_X - short_X): PNG $(encoded png) MB/s, PDF $(encoded pdf) MB/s"
bench_gptq_line
