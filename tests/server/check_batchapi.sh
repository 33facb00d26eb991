#!/bin/bash
# A smoke test of the test server's Batch API (batchapi/KEY/SCENARIO, see
# test_server.cpp): each route and scenario once, over plain HTTP with bash's
# /dev/tcp (no curl in CI). gptq's own use of it is in the integration tests.
#
# Usage: check_batchapi.sh SERVER CERTS
#   SERVER  the built gptq_test_server; CERTS  the dir make_certs.sh made
set -eu

# shellcheck source=SCRIPTDIR/serve.sh
source "$(dirname "$0")/serve.sh"
serve_setup gptq-batchapi
serve_start "$1" --certs "$2"

failures=0
fail() {
    echo "check_batchapi.sh: $*" >&2
    failures=$((failures + 1))
}

# request METHOD TARGET [CONTENT_TYPE BODY_FILE]: sets $status and $body
# (empty when the connection was reset before a reply).
request() {
    exec 5<> "/dev/tcp/127.0.0.1/$http_port"
    {
        printf '%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n' "$1" "$2"
        if [ $# -ge 4 ]; then
            printf 'Content-Type: %s\r\nContent-Length: %s\r\n' "$3" "$(wc -c < "$4")"
        fi
        printf '\r\n'
        if [ $# -ge 4 ]; then
            cat "$4"
        fi
    } >&5
    cat <&5 > "$tmp/reply" 2> /dev/null || true
    exec 5<&-
    status=$(head -n 1 "$tmp/reply" | cut -d ' ' -f 2)
    body=$(sed '1,/^\r$/d' "$tmp/reply")
}

# expect WHAT STATUS PATTERN: the last reply had STATUS and a body matching
# the extended regular expression PATTERN.
expect() {
    if [ "$status" != "$2" ] || ! printf '%s' "$body" | grep -qE -- "$3"; then
        fail "$1: expected $2 and /$3/, got ${status:-no reply}: $body"
    fi
}

line() { # N TEXT: a chat request line
    printf '{"custom_id":"line-%s","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"%s"}]}}\n' "$1" "$2"
}
{ line 1 one; line 2 "two FAIL"; line 3 three; line 4 four; } > "$tmp/input.jsonl"

# upload BASE: posts input.jsonl as multipart/form-data to BASE/files.
upload() {
    {
        printf -- '--XyZ\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
        printf -- '--XyZ\r\nContent-Disposition: form-data; name="file"; filename="in.jsonl"\r\n'
        printf 'Content-Type: application/jsonl\r\n\r\n'
        cat "$tmp/input.jsonl"
        printf '\r\n--XyZ--\r\n'
    } > "$tmp/form"
    request POST "$1/files" "multipart/form-data; boundary=XyZ" "$tmp/form"
}

# start SCENARIO KEY: uploads and creates a batch; $base is its base URL.
start() {
    base=/batchapi/$2/$1/v1
    upload "$base"
    expect "$1 upload" 200 '"id":"file-1","object":"file","bytes":[0-9]+,.*"filename":"in.jsonl","purpose":"batch"'
    printf '{"input_file_id":"file-1","endpoint":"/v1/chat/completions","completion_window":"24h","metadata":{"by":"t"}}' > "$tmp/create"
    request POST "$base/batches" application/json "$tmp/create"
    expect "$1 create" 200 '"id":"batch_1","object":"batch".*"status":"validating".*"metadata":\{"by":"t"\}'
}

start ok k-ok
request GET "$base/batches/batch_1/request"
expect "request" 200 '^\{"input_file_id":"file-1","endpoint":"/v1/chat/completions"'
request GET "$base/files/file-1/content"
expect "content" 200 '"custom_id":"line-4"'
request GET "$base/batches/batch_1"
expect "poll 1" 200 '"status":"in_progress".*"request_counts":\{"total":4,"completed":0,"failed":0\}'
request GET "$base/batches/batch_1"
expect "poll 2" 200 '"status":"finalizing".*"request_counts":\{"total":4,"completed":4,"failed":0\}'
request GET "$base/batches/batch_1"
expect "poll 3" 200 '"status":"completed","output_file_id":"file-2","error_file_id":null'
request GET "$base/files/file-2/content"
expect "output" 200 '"custom_id":"line-2","response":\{"status_code":200,"request_id":"req_[0-9]+","body":\{"id":"chatcmpl-test".*"content":"two FAIL"'
order=$(printf '%s\n' "$body" | grep -oE '"custom_id":"line-[0-9]+"' | tr -dc '0-9\n' | tr '\n' ' ')
if [ "$order" = "1 2 3 4 " ] || [ "$(printf '%s' "$order" | wc -w)" != 4 ]; then
    fail "output: expected the 4 lines shuffled, got: $order"
fi
request GET "$base/batches?limit=1"
expect "list" 200 '^\{"object":"list","data":\[\{"id":"batch_1".*"first_id":"batch_1","last_id":"batch_1","has_more":false\}$'
request GET "$base/batches/batch_9"
expect "unknown batch" 404 '"error":\{"message":'
request GET "$base/files/file-9/content"
expect "unknown file" 404 '"error":\{"message":'

start errors k-errors
for _ in 1 2 3; do request GET "$base/batches/batch_1"; done
expect "errors" 200 '"status":"completed","output_file_id":"file-2","error_file_id":"file-3".*"completed":3,"failed":1'
request GET "$base/files/file-3/content"
expect "error file" 200 '^\{"id":"batch_req_[0-9]+","custom_id":"line-2","response":\{"status_code":400,.*"message":"bad line"'

start expire k-expire
for _ in 1 2; do request GET "$base/batches/batch_1"; done
expect "expire" 200 '"status":"expired".*"completed":2,"failed":2'
request GET "$base/files/file-3/content"
expect "expired lines" 200 '"custom_id":"line-3","response":null,"error":\{"code":"batch_expired"'

start failed k-failed
request GET "$base/batches/batch_1"
expect "failed" 200 '"errors":\{"object":"list","data":\[\{"code":"invalid_json","line":2,.*"status":"failed","output_file_id":null'

start ok k-cancel
request POST "$base/batches/batch_1/cancel"
expect "cancel" 200 '"status":"cancelling"'
request GET "$base/batches/batch_1"
expect "cancelled" 200 '"status":"cancelled".*"completed":2,"failed":2'

base=/batchapi/k-reset/reset-upload/v1
upload "$base"
if [ -n "$status" ]; then
    fail "reset-upload: expected a reset, got $status"
fi
upload "$base"
expect "upload after reset" 200 '"id":"file-1"'
request GET /attempts/k-reset
expect "attempts" 200 '"attempts":2'

start hold k-hold
for _ in 1 2 3; do request GET "$base/batches/batch_1"; done
expect "hold" 200 '"status":"in_progress".*"completed":0,"failed":0'
if ! grep -qi '^Retry-After: 1' "$tmp/reply"; then
    fail "hold: expected Retry-After: 1"
fi
base=/batchapi/k-hold/ok/openai/v1
for _ in 1 2; do request GET "$base/batches/batch_1"; done
expect "hold, polled through ok" 200 '"status":"completed".*"completed":4,"failed":0'
request GET "$base/requests"
expect "requests" 200 '^\{"object":"list","data":\[\{"method":"POST","target":"/batchapi/k-hold/hold/v1/files","headers":\{"host":"127.0.0.1".*"target":"/batchapi/k-hold/ok/openai/v1/batches/batch_1",'
if printf '%s' "$body" | grep -q '/requests"'; then
    fail "requests: lists itself: $body"
fi
request GET /attempts/k-hold
expect "hold attempts" 200 '"attempts":7'

printf 'not a form' > "$tmp/bad"
request POST /batchapi/k-bad/ok/v1/files "multipart/form-data; boundary=XyZ" "$tmp/bad"
expect "malformed upload" 400 'multipart'

if [ "$failures" -ne 0 ]; then
    exit 1
fi
echo "check_batchapi.sh: all routes and scenarios answered as documented"
