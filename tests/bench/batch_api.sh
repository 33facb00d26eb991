#!/bin/bash
# Benchmarks the Batch API round trip (issue 19) against the loopback TLS
# test server's batchapi mode: (a) gptq -L --batch-submit (request lines
# built, uploaded, the batch created) of 50 000 short prompts and of a
# 100 MB input, beside --emit-batch (the lines built, nothing sent) and curl
# uploading the same request file; (b) gptq --batch-wait of a finished batch
# whose output file is about 200 MB, beside curl downloading that file to
# /dev/null. Prints wall time and peak RSS. See tests/bench/README.md.
#
# Usage: batch_api.sh [--runs N] [BUILD_DIR]
#   BUILD_DIR     the CMake build directory, best a Release build [default: build]
#   --runs N      timed runs of each command [default: 3]
# Needs curl and openssl (Debian: apt-get install -y curl openssl), awk, bash.
# Exit status: 0; 1 if a command fails or prints the wrong output; 2 for a
# usage error or a missing tool.
set -eu

runs=3
build=build
while [ "$#" -gt 0 ]; do
    case $1 in
        --runs) runs=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,15s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) echo "batch_api.sh: unknown option: $1" >&2; exit 2 ;;
        *) build=$1; shift ;;
    esac
done
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_numbers "--runs takes a number" "$runs"

bench_build_dir "$build"
bench_need_bins "$build/src/gptq" "$build/tests/server/gptq_test_server" "$build/tests/bench/gptq_bench_run"
bench_need_tools curl openssl awk bash wc head

bench_setup gptq-bench-batch-api
bench_copy_gptq
# shellcheck disable=SC2119 # no arguments but the defaults
bench_serve

# Every command gets exactly this environment: an empty HOME (no config, no
# ~/.curlrc) and a key, which both clients send.
mkdir -p "$tmp/home" "$tmp/out"
key=sk-bench-0123456789
env=(--env "PATH=$PATH" --env "HOME=$tmp/home" --env "OPENAI_API_KEY=$key" --env "TMPDIR=$tmp")
results=$tmp/results
: > "$results"

# The server keeps files and batches per KEY (batchapi/KEY/ok), so each
# command gets a KEY of its own.
api() {
    echo "$base/batchapi/$1/ok/v1"
}

# prompts N SIZE: N prompts of about SIZE bytes, one a line, in $tmp/prompts-N-SIZE.
prompts() {
    awk -v n="$1" -v size="$2" 'BEGIN {
        pad = "say hello in one word; "
        while (length(pad) < size) pad = pad pad
        for (i = 1; i <= n; i++) { p = "prompt " i ": " pad; print substr(p, 1, size - 1) "." } }' > "$tmp/prompts-$1-$2"
}

# submit NAME N SIZE: gptq -L --batch-submit of those prompts, and the same
# lines from --emit-batch for curl (emit_NAME) to upload (curl_NAME).
submit_spec() {
    "$gptq" -L --emit-batch "$tmp/requests-$1.jsonl" < "$tmp/prompts-$2-$3"
    spec+=(--cmd "submit_$1" "${env[@]}" --stdin "$tmp/prompts-$2-$3" --
           "$gptq" -L --batch-submit --cacert "$ca" --base-url "$(api "submit_$1")" \;
           --cmd "emit_$1" "${env[@]}" --stdin "$tmp/prompts-$2-$3" --
           "$gptq" -L --emit-batch /dev/null \;
           --cmd "curl_$1" "${env[@]}" -- curl -sS --fail --cacert "$ca" -H "Authorization: Bearer $key"
           -F purpose=batch -F "file=@$tmp/requests-$1.jsonl" -o /dev/null "$(api "curl_$1")/files" \;)
}

# --- (a) building and uploading -------------------------------------------

progress "making 50 000 prompts of 80 bytes and 50 000 of 2 000 bytes (100 MB)"
prompts 50000 80
prompts 50000 2000
spec=()
submit_spec 50k 50000 80
submit_spec 100m 50000 2000
check "${spec[@]}"
for name in 50k 100m; do
    [ "$(cat "$tmp/out/submit_$name")" = batch_1 ] || fail "submit_$name printed: $(head -c 200 "$tmp/out/submit_$name")"
done
progress "timing the uploads ($runs runs each)"
measure "$runs" "${spec[@]}"

# --- (b) waiting and downloading ------------------------------------------

# 40 000 prompts of 4 600 bytes: a request file under 200 MB, and an output
# file (echo repeats each prompt) of about 200 MB.
progress "making a batch whose output file is about 200 MB"
prompts 40000 4600
"$gptq" -L --batch-submit --cacert "$ca" --base-url "$(api wait)" < "$tmp/prompts-40000-4600" > /dev/null
# Polled to its end once, so that every timed wait finds it completed.
"$gptq" --batch-wait batch_1 --cacert "$ca" --base-url "$(api wait)" > "$tmp/waited"
cmp -s "$tmp/waited" "$tmp/prompts-40000-4600" ||
    fail "--batch-wait did not print the 40 000 prompts in order"
rm -f "$tmp/waited"
output_bytes=$(curl -sS --fail --cacert "$ca" -H "Authorization: Bearer $key" -o /dev/null -w '%{size_download}' \
    "$(api wait)/files/file-2/content")
spec=(--cmd wait_200m "${env[@]}" -- "$gptq" --batch-wait batch_1 --cacert "$ca" --base-url "$(api wait)" \;
      --cmd curl_200m "${env[@]}" -- curl -sS --fail --cacert "$ca" -H "Authorization: Bearer $key"
      -o /dev/null "$(api wait)/files/file-2/content" \;)
progress "timing the waits ($runs runs each)"
measure "$runs" "${spec[@]}"

# --- The table ------------------------------------------------------------

size() { # FILE: its size in MB
    awk -v s="$(wc -c < "$1")" 'BEGIN { printf "%.1f\n", s / 1e6 }'
}
echo "| command | what | wall ms, median (max) | peak RSS MiB |"
echo "|---|---|---|---|"
row() { # NAME PROMPTS: the three rows of one input
    echo "| emit_$1 | $(size "$2") MB of prompts, $(size "$tmp/requests-$1.jsonl") MB of requests: built |" \
        "$(median_max "emit_$1") | $(rss "emit_$1") |"
    echo "| submit_$1 | built, uploaded, created | $(median_max "submit_$1") | $(rss "submit_$1") |"
    echo "| curl_$1 | the request file uploaded | $(median_max "curl_$1") | $(rss "curl_$1") |"
}
row 50k "$tmp/prompts-50000-80"
row 100m "$tmp/prompts-50000-2000"
echo "| wait_200m | $(awk -v s="$output_bytes" 'BEGIN { printf "%.1f", s / 1e6 }') MB output file: polled, downloaded, printed |" \
    "$(median_max wait_200m) | $(rss wait_200m) |"
echo "| curl_200m | the output file to /dev/null | $(median_max curl_200m) | $(rss curl_200m) |"
bench_gptq_line
echo "curl: $(curl --version | head -n 1 | cut -d' ' -f1-5); $(uname -sr), $(nproc) CPUs; TLS on loopback; $runs runs"
