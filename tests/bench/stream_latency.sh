#!/bin/bash
# Measures streaming latency: for each piece of a streamed reply, the time
# from the test server's write to the piece becoming readable on the client's
# stdout. See tests/bench/README.md.
#
# Usage: stream_latency.sh [--client gptq|curl] [--api chat|responses] [--pieces N] [--size BYTES] [--gptq BIN] [BUILD_DIR]
#   BUILD_DIR  the CMake build directory [default: build]
#   --client   what reads the stream [default: gptq]; curl prints the raw
#              SSE, a baseline without gptq's parsing
#   --pieces   content events in the reply [default: 400]
#   --size     bytes per content event, at least 8 [default: 64]
#   --gptq     the gptq binary to run [default: BUILD_DIR/src/gptq]
#   --api      the API the reply comes in [default: chat]: responses streams
#              the same pieces as Responses events (gptq --api responses)
set -eu

client=gptq
api=chat
pieces=400
size=64
gptq=
build=build
while [ "$#" -gt 0 ]; do
    case $1 in
        --client) client=${2:?}; shift 2 ;;
        --pieces) pieces=${2:?}; shift 2 ;;
        --size) size=${2:?}; shift 2 ;;
        --gptq) gptq=${2:?}; shift 2 ;;
        --api) api=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,14s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) echo "stream_latency.sh: unknown option: $1" >&2; exit 2 ;;
        *) build=$1; shift ;;
    esac
done
case $client in
    gptq|curl) ;;
    *) echo "stream_latency.sh: --client must be gptq or curl" >&2; exit 2 ;;
esac
# The test server serves sse-bench in Responses events at .../responses.
case $api in
    chat) endpoint=/chat/completions request='{"model":"bench","stream":true,"messages":[{"role":"user","content":"bench"}]}' ;;
    responses) endpoint=/responses request='{"model":"bench","stream":true,"input":"bench"}' ;;
    *) echo "stream_latency.sh: --api must be chat or responses" >&2; exit 2 ;;
esac

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
bench_build_dir "$build"
reader=$build/tests/bench/gptq_bench_reader
gptq=${gptq:-$build/src/gptq}
# shellcheck disable=SC2046 # gptq's path, or no word at all
bench_need_bins "$build/tests/server/gptq_test_server" "$reader" $([ "$client" = gptq ] && echo "$gptq")
if [ "$client" = curl ] && ! command -v curl > /dev/null; then
    bench_usage_error "curl not found"
fi

bench_setup gptq-bench
bench_serve --timestamps "$tmp/timestamps"

base_url=https://127.0.0.1:$port/sse-bench/$pieces/$size/v1
echo "client: $client, api: $api"
echo "reply: $pieces pieces of $size bytes, 2 ms apart ($base_url)"

# Both clients run with a clean environment and fd 3 closed, so that only the
# script holds the server's stdin open.
set +e
if [ "$client" = gptq ]; then
    env -i PATH="$PATH" SSL_CERT_FILE="$ca" \
        "$gptq" --cacert "$ca" --base-url "$base_url" --api "$api" --no-stdin bench \
        2> "$tmp/client.err" 3>&- |
        "$reader" --expect "$pieces" "$tmp/timestamps" 3>&-
else
    env -i PATH="$PATH" \
        curl -sS -N --cacert "$ca" -H 'Content-Type: application/json' \
        -d "$request" "$base_url$endpoint" 2> "$tmp/client.err" 3>&- |
        "$reader" --expect "$pieces" "$tmp/timestamps" 3>&-
fi
status=("${PIPESTATUS[@]}")
set -e

if [ "${status[0]}" -ne 0 ]; then
    echo "stream_latency.sh: $client exited with status ${status[0]}:" >&2
    cat "$tmp/client.err" >&2
fi
if [ "${status[0]}" -ne 0 ] || [ "${status[1]}" -ne 0 ]; then
    exit 1
fi
