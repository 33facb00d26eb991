#!/bin/bash
# Benchmarks batch mode (issue 7): many prompts against the loopback TLS test
# server, gptq -L -j 8 versus xargs -P 8 running one curl per prompt and
# versus a while-read loop of single gptq calls; then gptq's peak RSS as the
# number of prompts grows. See tests/bench/README.md.
#
# Usage: batch.sh [--runs N] [--prompts N] [--skip-scale] [BUILD_DIR]
#   BUILD_DIR     the CMake build directory, best a Release build [default: build]
#   --runs N      timed runs of each command [default: 3]
#   --prompts N   prompts of the side-by-side case [default: 1000]
#   --skip-scale  skip gptq alone at 100, 1 000 and 10 000 prompts
# Needs curl, jq, xargs and openssl (Debian: apt-get install -y curl jq openssl).
# Exit status: 0; 1 if a command fails or prints the wrong output; 2 for a
# usage error or a missing tool.
set -eu

runs=3
prompts=1000
skip_scale=false
build=build
while [ "$#" -gt 0 ]; do
    case $1 in
        --runs) runs=${2:?}; shift 2 ;;
        --prompts) prompts=${2:?}; shift 2 ;;
        --skip-scale) skip_scale=true; shift ;;
        -h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) echo "batch.sh: unknown option: $1" >&2; exit 2 ;;
        *) build=$1; shift ;;
    esac
done
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_numbers "--runs and --prompts take a number" "$runs" "$prompts"
if [ "$prompts" -lt 1 ]; then
    bench_usage_error "--prompts must be at least 1"
fi

bench_build_dir "$build"
bench_need_bins "$build/src/gptq" "$build/tests/server/gptq_test_server" "$build/tests/bench/gptq_bench_run"
bench_need_tools curl jq xargs openssl awk sed sort bash

bench_setup gptq-bench-batch
# The binary measured throughout (see bench_copy_gptq).
bench_copy_gptq
# shellcheck disable=SC2119 # no arguments but the defaults
bench_serve

# Every command gets exactly this environment (gptq_bench_run inherits
# nothing): an empty HOME, so that neither ~/.config/gptq/config nor
# ~/.curlrc plays a part, and a key, which both clients send.
mkdir -p "$tmp/home" "$tmp/out"
key=sk-bench-0123456789
env=(--env "PATH=$PATH" --env "HOME=$tmp/home" --env "OPENAI_API_KEY=$key")

# make_prompts N: N prompts, one a line, with quotes and a backslash that
# JSON must escape, in $tmp/prompts-N.
make_prompts() {
    awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
        printf "prompt %d: say \"hello\" to C:\\dir %d in one word, then count to three\n", i, i }' \
        > "$tmp/prompts-$1"
}

# The test server's batch/KEY mode answers each request with its user
# message, as echo does, and counts the requests and connections under KEY
# (stats/KEY), so each command gets a KEY of its own.
url() {
    echo "$base/batch/$1/v1"
}

# stats KEY FIELD: what the server counted under KEY.
stats() {
    curl -s "http://127.0.0.1:$http_port/stats/$1" | jq -r ".$2"
}

results=$tmp/results
: > "$results"

# expect_same NAME FILE: the check output of NAME is FILE byte for byte.
expect_same() {
    cmp -s "$2" "$tmp/out/$1" || {
        echo "batch.sh: $1 printed (first lines):" >&2
        head -n 5 "$tmp/out/$1" >&2
        echo "batch.sh: expected (first lines):" >&2
        head -n 5 "$2" >&2
        exit 1
    }
}

# gptq_spec NAME N: gptq -L -j 8 over the N prompts.
gptq_spec() {
    spec+=(--cmd "$1" "${env[@]}" --stdin "$tmp/prompts-$2" --
           "$gptq" -L -j 8 --cacert "$ca" --base-url "$(url "$1")" \;)
}

# --- 1. N prompts, three ways --------------------------------------------

progress "$prompts prompts: gptq -L -j 8, xargs -P 8 curl, while read gptq"
make_prompts "$prompts"
# One curl per prompt, 8 at a time, each posting a body that jq built from
# its line; the replies come in any order, and jq prints their content.
# shellcheck disable=SC2016 # expanded by that shell, not this one
xargs_script='set -o pipefail
jq -Rc "{model: \"gpt-4o-mini\", messages: [{role: \"user\", content: .}]}" |
  xargs -d "\n" -P 8 -n 1 curl -sS --fail --cacert "$1" -H "Content-Type: application/json" \
    -H "Authorization: Bearer $OPENAI_API_KEY" "$2/chat/completions" -d |
  jq -r ".choices[0].message.content"'
# One gptq per prompt, one after another.
# shellcheck disable=SC2016 # expanded by that shell, not this one
while_script='while IFS= read -r line; do
  "$1" --cacert "$2" --base-url "$3" --no-stream --no-stdin -- "$line" || exit 1
done'
spec=()
gptq_spec batch "$prompts"
spec+=(--cmd xargs "${env[@]}" --stdin "$tmp/prompts-$prompts" --
           bash -c "$xargs_script" sh "$ca" "$(url xargs)" \;
       --cmd while "${env[@]}" --stdin "$tmp/prompts-$prompts" --
           bash -c "$while_script" sh "$gptq" "$ca" "$(url while)" \;)
check "${spec[@]}"
expect_same batch "$tmp/prompts-$prompts"
expect_same while "$tmp/prompts-$prompts"
sort "$tmp/out/xargs" > "$tmp/xargs.sorted"
sort "$tmp/prompts-$prompts" > "$tmp/prompts.sorted"
# xargs + curl loses the order: its replies are checked as a set.
cmp -s "$tmp/xargs.sorted" "$tmp/prompts.sorted" || fail "xargs + curl did not print every reply once"
connections=()
for name in batch xargs while; do
    requests=$(stats "$name" requests)
    [ "$requests" = "$prompts" ] || fail "$name sent $requests requests for $prompts prompts"
    connections+=("$(stats "$name" connections)")
done
measure "$runs" "${spec[@]}"

# --- 2. gptq alone, 100 to 10 000 prompts ---------------------------------

sizes=()
if [ "$skip_scale" = false ]; then
    sizes=(100 1000 10000)
    spec=()
    for n in "${sizes[@]}"; do
        progress "gptq -L -j 8 over $n prompts"
        [ -f "$tmp/prompts-$n" ] || make_prompts "$n"
        gptq_spec "scale$n" "$n"
    done
    check "${spec[@]}"
    for n in "${sizes[@]}"; do
        expect_same "scale$n" "$tmp/prompts-$n"
    done
    measure "$runs" "${spec[@]}"
fi

# --- The table ------------------------------------------------------------

bench_gptq_line
echo "curl: $(curl --version | head -n 1 | cut -d' ' -f1-5); jq: $(jq --version); $(xargs --version | head -n 1)"
echo "$(uname -sr), $(nproc) CPUs; $prompts prompts of about 80 bytes, TLS on loopback, the batch/KEY mode (echo)"
echo "times in ms, median (max) of $runs runs, each command after one warm-up; RSS = median peak RSS in MiB;"
echo "ratio = gptq -L median / other median (below 1: gptq is faster); speed-up = its inverse"
echo
printf '%-44s %17s %6s %8s %8s %12s\n' command "wall ms" ratio speed-up "RSS MiB" connections
labels=("gptq -L -j 8" "xargs -P 8 curl, jq -Rc before, jq -r after" "while read: gptq --no-stream per prompt")
names=(batch xargs while)
gm=$(get batch wall_ms_median)
for i in 0 1 2; do
    om=$(get "${names[$i]}" wall_ms_median)
    ratio=$(awk -v a="$gm" -v b="$om" 'BEGIN { printf "%.3f", a / b }')
    speedup=$(awk -v a="$gm" -v b="$om" 'BEGIN { printf "%.1fx", b / a }')
    printf '%-44s %17s %6s %8s %8s %12s\n' "${labels[$i]}" "$(median_max "${names[$i]}")" "$ratio" "$speedup" \
        "$(rss "${names[$i]}")" "${connections[$i]}"
done
echo
per_prompt() {
    awk -v t="$(get "$1" wall_ms_median)" -v n="$2" 'BEGIN { printf "%.3f", t / n }'
}
echo "ms per prompt: gptq -L $(per_prompt batch "$prompts"), xargs + curl $(per_prompt xargs "$prompts")," \
    "while + gptq $(per_prompt while "$prompts")"
if [ "${#sizes[@]}" -gt 0 ]; then
    line="gptq -L -j 8 alone:"
    for n in "${sizes[@]}"; do
        line+=" $n prompts $(median_max "scale$n") ms, $(rss "scale$n") MiB;"
    done
    echo "${line%;}"
fi
