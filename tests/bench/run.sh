#!/bin/bash
# Benchmarks gptq against curl (and the curl | jq pipelines a shell user
# would write) over TLS on loopback, side by side, and prints one table. See
# tests/bench/README.md for what each row means.
#
# Usage: run.sh [--runs N] [--big-runs N] [--skip-big] [--skip-latency] [--api API] [BUILD_DIR]
#   BUILD_DIR       the CMake build directory, best a Release build [default: build]
#   --runs N        timed runs of each command in cases 1 and 2 [default: 30]
#   --big-runs N    timed runs of each command in cases 3 and 4 [default: 5]
#   --skip-big      skip cases 3 and 4 (large prompt, large reply)
#   --skip-latency  skip case 5 (stream_latency.sh)
#   --api API       chat or responses: the API of cases 2 and 5, for every
#                   client [default: chat]; cases 3 and 4 are Chat Completions
# Needs curl, jq and openssl (Debian: apt-get install -y curl jq openssl).
# Exit status: 0; 1 if a command fails or prints the wrong output; 2 for a
# usage error or a missing tool.
set -eu

runs=30
big_runs=5
skip_big=false
skip_latency=false
api=chat
build=build
while [ "$#" -gt 0 ]; do
    case $1 in
        --runs) runs=${2:?}; shift 2 ;;
        --big-runs) big_runs=${2:?}; shift 2 ;;
        --skip-big) skip_big=true; shift ;;
        --skip-latency) skip_latency=true; shift ;;
        --api) api=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) echo "run.sh: unknown option: $1" >&2; exit 2 ;;
        *) build=$1; shift ;;
    esac
done
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_numbers "--runs and --big-runs take a number of runs" "$runs" "$big_runs"

here=$(cd "$(dirname "$0")" && pwd)
bench_build_dir "$build"
floor=$build/tests/bench/gptq_bench_floor
bench_need_bins "$build/src/gptq" "$build/tests/server/gptq_test_server" "$build/tests/bench/gptq_bench_run" "$floor" \
    "$build/tests/bench/gptq_bench_reader"
bench_need_tools curl jq openssl awk sed
system_bundle=/etc/ssl/certs/ca-certificates.crt
if [ ! -f "$system_bundle" ]; then
    bench_usage_error "no system CA bundle at $system_bundle (apt-get install -y ca-certificates)"
fi

bench_setup gptq-bench
# The binary measured throughout (see bench_copy_gptq).
bench_copy_gptq
# shellcheck disable=SC2119 # no arguments but the defaults
bench_serve

# "Default configuration, test CA added to the system store": a copy of the
# system store plus the test CA, as a bundle file and a hashed directory,
# named by SSL_CERT_FILE and SSL_CERT_DIR (honoured by OpenSSL and by curl's
# tool in place of their compiled-in defaults).
mkdir -p "$tmp/store/dir"
cat "$system_bundle" "$ca" > "$tmp/store/bundle.pem"
for pem in /etc/ssl/certs/*.pem; do
    ln -s "$pem" "$tmp/store/dir/"
done
cp "$ca" "$tmp/store/dir/gptq-test-ca.pem"
openssl rehash "$tmp/store/dir" > /dev/null 2>&1

# Every command gets exactly this environment (gptq_bench_run inherits
# nothing): an empty HOME, so that neither ~/.config/gptq/config nor
# ~/.curlrc plays a part; no SSL_CERT_* but in the store case.
mkdir -p "$tmp/home" "$tmp/out"
plain_env=(--env "PATH=$PATH" --env "HOME=$tmp/home")
store_env=("${plain_env[@]}" --env "SSL_CERT_FILE=$tmp/store/bundle.pem" --env "SSL_CERT_DIR=$tmp/store/dir")

# dry_run ARG...: the request body gptq would send (--dry-run); its stderr
# is shown only if it fails.
dry_run() {
    env -i HOME="$tmp/home" "$gptq" --dry-run "$@" 2> "$tmp/dry-run.err" || {
        cat "$tmp/dry-run.err" >&2
        fail "gptq --dry-run $* failed"
    }
}

ctype='Content-Type: application/json'
# What differs between the APIs in case 2: gptq's option, the endpoint, and
# the jq filters that take the text out of a whole reply and a stream event.
case $api in
    chat)
        api_args=()
        endpoint=/chat/completions
        message_text='.choices[0].message.content'
        delta_text='.choices[0].delta.content // empty'
        stream_end='^data: \[DONE\]'
        ;;
    responses)
        api_args=(--api responses)
        endpoint=/responses
        message_text='[.output[] | select(.type == "message") | .content[] | select(.type == "output_text") | .text] | join("")'
        delta_text='select(.type == "response.output_text.delta") | .delta'
        stream_end='^event: response\.completed'
        ;;
    *) bench_usage_error "--api must be chat or responses" ;;
esac
prompt='The quick brown fox jumps over the lazy dog, then asks: how fast was that? Answer in one line.'
# The bodies curl posts are gptq's own (--dry-run), so both send the same bytes.
body=$(dry_run "${api_args[@]}" --no-stream --no-stdin "$prompt")
stream_body=$(dry_run "${api_args[@]}" --no-stdin "$prompt")
# What a shell user would write to print the reply; run as /bin/sh -c
# SCRIPT sh ARGS..., with the rest of curl's arguments as "$@".
extract_message="curl -s \"\$@\" | jq -r '$message_text'"
extract_stream="curl -sN \"\$@\" | sed -n 's/^data: {/{/p' | jq -rj '$delta_text'"
to_body='{model:"m",messages:[{role:"user",content:.}]}'

results=$tmp/results
: > "$results"
rows=() # "CASE;VERSUS;GPTQ_NAME;OTHER_NAME", printed as the table

# expect_text NAME TEXT: the check output of NAME is exactly TEXT.
expect_text() {
    if ! printf '%s' "$2" | cmp -s - "$tmp/out/$1"; then
        echo "run.sh: $1 printed:" >&2
        head -c 2000 "$tmp/out/$1" >&2
        printf '\nrun.sh: expected:\n%s\n' "$2" >&2
        exit 1
    fi
}

# expect_json_reply NAME TEXT: the check output of NAME is a completion whose
# content is TEXT.
expect_json_reply() {
    local got
    got=$(jq -r "$message_text" < "$tmp/out/$1") || fail "$1 did not print a JSON reply"
    [ "$got" = "$2" ] || fail "$1 replied \"$got\", not \"$2\""
}

# expect_stream NAME TEXT: the check output of NAME is an event stream of the
# content TEXT, ending in [DONE] (response.completed).
expect_stream() {
    local got
    got=$(sed -n 's/^data: {/{/p' < "$tmp/out/$1" | jq -rj "$delta_text") ||
        fail "$1 did not print an event stream"
    [ "$got" = "$2" ] || fail "$1 streamed \"$got\", not \"$2\""
    grep -q "$stream_end" "$tmp/out/$1" || fail "$1: no end ($stream_end) in the stream"
}

size_of() {
    wc -c < "$1" | tr -d ' '
}

# --- 1. start-up ---------------------------------------------------------

progress "1: start-up"
spec=(--cmd 1.gptq "${plain_env[@]}" -- "$gptq" --version \;
      --cmd 1.curl "${plain_env[@]}" -- curl --version \;
      --cmd 1.true "${plain_env[@]}" -- /bin/true \;)
check "${spec[@]}"
grep -q '^gptq ' "$tmp/out/1.gptq" || fail "gptq --version printed no version"
grep -q '^curl ' "$tmp/out/1.curl" || fail "curl --version printed no version"
measure "$runs" "${spec[@]}"
rows+=("1   start-up, --version;curl --version;1.gptq;1.curl")

# --- 2. one request over TLS, fresh process and connection ------------------

# request_case TAG LABEL: both clients with the environment $case_env and
# the options $case_trust (--cacert CA, or none); with $case_floor=yes, the C
# floor too (bench_floor.c: the least an OpenSSL client does, trusting $ca).
request_case() {
    local tag=$1 label=$2
    local env=("${case_env[@]}") trust=("${case_trust[@]}")
    progress "$tag: one request, $label"
    local floor_spec=()
    if [ "$case_floor" = yes ]; then
        floor_spec=(--cmd "$tag.ns.floor" "${env[@]}" -- "$floor" "$ca" "$port" "/echo/v1$endpoint" "$body" \;)
    fi
    spec=("${floor_spec[@]}"
          --cmd "$tag.ns.gptq" "${env[@]}" --
              "$gptq" "${api_args[@]}" "${trust[@]}" --base-url "$base/echo/v1" --no-stream --no-stdin "$prompt" \;
          --cmd "$tag.ns.curl" "${env[@]}" --
              curl -s "${trust[@]}" -H "$ctype" -d "$body" "$base/echo/v1$endpoint" \;
          --cmd "$tag.ns.jq" "${env[@]}" --
              /bin/sh -c "$extract_message" sh "${trust[@]}" -H "$ctype" -d "$body"
              "$base/echo/v1$endpoint" \;)
    check "${spec[@]}"
    expect_text "$tag.ns.gptq" "$prompt"$'\n'
    expect_json_reply "$tag.ns.curl" "$prompt"
    expect_text "$tag.ns.jq" "$prompt"$'\n'
    if [ "$case_floor" = yes ]; then
        expect_json_reply "$tag.ns.floor" "$prompt"
    fi
    measure "$runs" "${spec[@]}"
    rows+=("$tag  $label, no-stream;curl;$tag.ns.gptq;$tag.ns.curl"
           "$tag  $label, no-stream;curl | jq;$tag.ns.gptq;$tag.ns.jq")
    if [ "$case_floor" = yes ]; then
        rows+=("$tag  $label, no-stream;C floor;$tag.ns.gptq;$tag.ns.floor")
    fi

    spec=(--cmd "$tag.st.gptq" "${env[@]}" --
              "$gptq" "${api_args[@]}" "${trust[@]}" --base-url "$base/sse/v1" --no-stdin "$prompt" \;
          --cmd "$tag.st.curl" "${env[@]}" --
              curl -sN "${trust[@]}" -H "$ctype" -d "$stream_body" "$base/sse/v1$endpoint" \;
          --cmd "$tag.st.jq" "${env[@]}" --
              /bin/sh -c "$extract_stream" sh "${trust[@]}" -H "$ctype" -d "$stream_body"
              "$base/sse/v1$endpoint" \;)
    check "${spec[@]}"
    expect_text "$tag.st.gptq" "$prompt"$'\n'
    expect_stream "$tag.st.curl" "$prompt"
    expect_text "$tag.st.jq" "$prompt"
    measure "$runs" "${spec[@]}"
    rows+=("$tag  $label, stream;curl -N;$tag.st.gptq;$tag.st.curl"
           "$tag  $label, stream;curl -N | sed | jq;$tag.st.gptq;$tag.st.jq")
}

case_env=("${plain_env[@]}")
case_trust=(--cacert "$ca")
case_floor=yes
request_case 2a "--cacert CA"
case_env=("${store_env[@]}")
case_trust=()
case_floor=no
request_case 2b "system store + CA"

# --- 3. large prompt -------------------------------------------------------

# make_prompt MIB FILE: MIB MiB of text, 1 MiB of varied lines repeated: ASCII
# words, multi-byte UTF-8, quotes, backslashes, tabs and newlines.
make_prompt() {
    if [ ! -f "$tmp/block" ]; then
        LC_ALL=C awk -f "$here/prompt_block.awk" > "$tmp/block"
    fi
    for _ in $(seq "$1"); do
        cat "$tmp/block"
    done > "$2"
}

if [ "$skip_big" = false ]; then
    for mib in 32 64 128; do
        progress "3i: --dry-run, $mib MiB prompt"
        make_prompt "$mib" "$tmp/prompt$mib"
        spec=(--cmd "3i.$mib.gptq" "${plain_env[@]}" --stdin "$tmp/prompt$mib" -- "$gptq" --dry-run \;
              --cmd "3i.$mib.jq" "${plain_env[@]}" --stdin "$tmp/prompt$mib" -- jq -Rs "$to_body" \;)
        check "${spec[@]}"
        if [ "$mib" = 32 ]; then
            # The escaping round-trips, byte for byte (the larger prompts
            # repeat the same block).
            jq -j '.messages[-1].content' < "$tmp/out/3i.32.gptq" | cmp -s - "$tmp/prompt32" ||
                fail "gptq --dry-run: the body's content is not the prompt"
            jq -j '.messages[-1].content' < "$tmp/out/3i.32.jq" | cmp -s - "$tmp/prompt32" ||
                fail "jq -Rs: the body's content is not the prompt"
        fi
        [ "$(size_of "$tmp/out/3i.$mib.gptq")" -gt "$(size_of "$tmp/prompt$mib")" ] ||
            fail "gptq --dry-run printed less than the prompt ($mib MiB)"
        rm -f "$tmp/out/"*
        measure "$big_runs" "${spec[@]}"
        rows+=("3i  --dry-run, $mib MiB prompt;jq -Rs;3i.$mib.gptq;3i.$mib.jq")
        [ "$mib" = 64 ] || rm -f "$tmp/prompt$mib" # 3ii needs the 64 MiB one
    done

    progress "3ii: one request, 64 MiB prompt"
    # shellcheck disable=SC2016 # the single-quoted script expands its own "$1".."$4"
    spec=(--cmd 3ii.gptq "${plain_env[@]}" --stdin "$tmp/prompt64" --
              "$gptq" --cacert "$ca" --base-url "$base/count/v1" --no-stream \;
          --cmd 3ii.jq "${plain_env[@]}" --stdin "$tmp/prompt64" --
              /bin/sh -c 'jq -Rs "$1" | curl -s --cacert "$2" -H "$3" --data-binary @- "$4" |
                          jq -r ".choices[0].message.content"' \
              sh "$to_body" "$ca" "$ctype" "$base/count/v1/chat/completions" \;)
    check "${spec[@]}"
    # The count mode replies with the length of the body it received.
    dry_run --no-stream < "$tmp/prompt64" > "$tmp/body"
    expect_text 3ii.gptq "$(($(size_of "$tmp/body") - 1))"$'\n' # --dry-run adds a newline
    jq -Rs "$to_body" < "$tmp/prompt64" > "$tmp/body"
    expect_text 3ii.jq "$(size_of "$tmp/body")"$'\n'
    rm -f "$tmp/body"
    measure "$big_runs" "${spec[@]}"
    rows+=("3ii 64 MiB prompt, one request;jq -Rs | curl | jq;3ii.gptq;3ii.jq")
    rm -f "$tmp/prompt64"

    # --- 4. large reply ----------------------------------------------------

    big_body=$(dry_run --no-stdin big)
    for mib in 4 16; do
        progress "4: $mib MiB streamed reply"
        bytes=$((mib * 1024 * 1024))
        url=$base/sse-big/$bytes/v1
        spec=(--cmd "4.$mib.gptq" "${plain_env[@]}" -- "$gptq" --cacert "$ca" --base-url "$url" --no-stdin big \;
              --cmd "4.$mib.curl" "${plain_env[@]}" --
                  curl -sN --cacert "$ca" -H "$ctype" -d "$big_body" "$url/chat/completions" \;
              --cmd "4.$mib.jq" "${plain_env[@]}" --
                  /bin/sh -c "$extract_stream" sh --cacert "$ca" -H "$ctype" -d "$big_body"
                  "$url/chat/completions" \;)
        check "${spec[@]}"
        [ "$(size_of "$tmp/out/4.$mib.jq")" = "$bytes" ] || fail "curl | sed | jq: not $bytes bytes"
        { cat "$tmp/out/4.$mib.jq"; echo; } | cmp -s - "$tmp/out/4.$mib.gptq" ||
            fail "gptq and curl | sed | jq printed different replies ($mib MiB)"
        tail -c 100 "$tmp/out/4.$mib.curl" | grep -q '^data: \[DONE\]' || fail "curl -N: no [DONE] ($mib MiB)"
        rm -f "$tmp/out/"*
        measure "$big_runs" "${spec[@]}"
        rows+=("4   $mib MiB reply, stream;curl -N;4.$mib.gptq;4.$mib.curl"
               "4   $mib MiB reply, stream;curl -N | sed | jq;4.$mib.gptq;4.$mib.jq")
    done
fi

# --- 5. per-piece streaming latency ----------------------------------------

# latency CLIENT: stream_latency.sh's "latency ms:" figures as NAME lines in
# $results, and its whole output in $tmp/latency.CLIENT.
latency() {
    local out=$tmp/latency.$1
    bash "$here/stream_latency.sh" --client "$1" --api "$api" --gptq "$gptq" "$build" > "$out" 2> "$out.err" || {
        cat "$out.err" >&2
        cat "$out" >&2
        fail "stream_latency.sh --client $1 failed"
    }
    awk -v n="5.$1" '/^latency ms:/ { printf "%s wall_ms_median=%s wall_ms_p90=%s wall_ms_max=%s\n", n, $4, $6, $8 }
                     /^stdout reads:/ { reads = $3 }
                     END { printf "%s.reads reads=%s\n", n, reads }' "$out" >> "$results"
    [ -n "$(get "5.$1" wall_ms_median)" ] || fail "stream_latency.sh --client $1 printed no latency"
}

if [ "$skip_latency" = false ]; then
    progress "5: per-piece latency (stream_latency.sh)"
    latency gptq
    latency curl
    rows+=("5   stream latency per piece;curl -N;5.gptq;5.curl")
fi

# --- the table -------------------------------------------------------------

bench_gptq_line
echo "curl: $(curl --version | head -n 1 | cut -d' ' -f1-5)"
echo "jq: $(jq --version); $(uname -sr), $(nproc) CPUs"
echo "times in ms, median (max) of $runs runs (cases 3 and 4: $big_runs), each after one warm-up;"
echo "ratio = gptq median / other median (below 1: gptq is faster); RSS = median peak RSS in MiB"
echo
printf '%-36s %-18s %17s %17s %6s %9s %9s\n' case "vs other" "gptq ms" "other ms" ratio "gptq RSS" "other RSS"
for row in "${rows[@]}"; do
    IFS=";" read -r label versus g o <<< "$row"
    gm=$(get "$g" wall_ms_median)
    om=$(get "$o" wall_ms_median)
    ratio=$(awk -v a="$gm" -v b="$om" 'BEGIN { if (a == "" || b + 0 == 0) print "-"; else printf "%.2f", a / b }')
    if [ "$g" = 5.gptq ]; then
        grss=-
        orss=-
    else
        grss=$(rss "$g")
        orss=$(rss "$o")
    fi
    printf '%-36s %-18s %17s %17s %6s %9s %9s\n' "$label" "$versus" "$(median_max "$g")" "$(median_max "$o")" \
        "$ratio" "$grss" "$orss"
done
echo

echo "1   /bin/true run the same way (the floor of every figure): $(median_max 1.true) ms, $(rss 1.true) MiB"
echo "2a  the C floor (bench_floor.c) over curl: $(awk -v a="$(get 2a.ns.floor wall_ms_median)" \
    -v b="$(get 2a.ns.curl wall_ms_median)" 'BEGIN { printf "%.2f", a / b }')"
if [ "$skip_big" = false ]; then
    # throughput NAME MIB: MiB/s of NAME's median time.
    throughput() {
        awk -v t="$(get "$1" wall_ms_median)" -v m="$2" 'BEGIN { printf "%.0f", m / (t / 1000) }'
    }
    # doubling A B: B's median time over A's.
    doubling() {
        awk -v a="$(get "$1" wall_ms_median)" -v b="$(get "$2" wall_ms_median)" 'BEGIN { printf "%.2f", b / a }'
    }
    for tool in gptq jq; do
        name=$([ "$tool" = gptq ] && echo "gptq --dry-run" || echo "jq -Rs")
        printf '3i  %-14s MiB/s: %s (32 MiB), %s (64 MiB), %s (128 MiB); time x%s for 32->64 MiB, x%s for 64->128 MiB\n' \
            "$name" "$(throughput "3i.32.$tool" 32)" "$(throughput "3i.64.$tool" 64)" \
            "$(throughput "3i.128.$tool" 128)" "$(doubling "3i.32.$tool" "3i.64.$tool")" \
            "$(doubling "3i.64.$tool" "3i.128.$tool")"
    done
    echo "3i  peak RSS MiB, gptq --dry-run: $(rss 3i.32.gptq) (32 MiB), $(rss 3i.64.gptq) (64 MiB), $(rss 3i.128.gptq) (128 MiB);" \
        "jq -Rs: $(rss 3i.32.jq), $(rss 3i.64.jq), $(rss 3i.128.jq)"
    echo "4   peak RSS MiB, gptq: $(rss 4.4.gptq) (4 MiB reply), $(rss 4.16.gptq) (16 MiB reply);" \
        "curl -N: $(rss 4.4.curl), $(rss 4.16.curl); curl | sed | jq: $(rss 4.4.jq), $(rss 4.16.jq)"
fi
if [ "$skip_latency" = false ]; then
    for client in gptq curl; do
        printf '5   latency ms, %-4s: median %s p90 %s max %s (%s stdout reads for 400 pieces)\n' "$client" \
            "$(get "5.$client" wall_ms_median)" "$(get "5.$client" wall_ms_p90)" "$(get "5.$client" wall_ms_max)" \
            "$(get "5.$client.reads" reads)"
    done
fi
