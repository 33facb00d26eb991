# shellcheck shell=bash
# Sourced (bash) by the benchmark scripts (run.sh, batch.sh,
# stream_latency.sh): what each of them needs before and after its own cases.
# Messages start with the script's name (${0##*/}); exit status 2 is a usage
# error or something missing, 1 a failed run.
#
#   bench_usage_error MESSAGE   says MESSAGE and exits 2.
#   bench_numbers MESSAGE N...  exits 2 with MESSAGE unless each N is a number.
#   bench_build_dir DIR         $build: DIR made absolute; exits 2 without it.
#   bench_need_bins BIN...      exits 2 naming the first BIN not built.
#   bench_need_tools TOOL...    exits 2 naming the first TOOL not on PATH.
#   bench_setup NAME            $tmp (serve.sh's serve_setup NAME) and test
#                               certificates in $tmp/certs ($ca).
#   bench_serve [ARG...]        the test server started with those
#                               certificates and ARGs ($port, $http_port, $base
#                               the https URL).
#   bench_copy_gptq             $gptq: a copy of the built gptq in $tmp, so that
#                               a rebuild while the benchmark runs cannot mix
#                               two versions in one table.
#   progress WORDS, fail WORDS  say WORDS on stderr; fail then exits 1.
#
# With $results (a file) and $tmp/out, gptq_bench_run's figures:
#   check SPEC...               one run of each command of SPEC (gptq_bench_run's
#                               COMMAND words), its stdout in $tmp/out/NAME.
#   measure RUNS SPEC...        times the commands of SPEC, alternating; the
#                               figures go to $results.
#   get NAME FIELD              FIELD of NAME's line in $results.
#   fmt X, median_max NAME, rss NAME
#                               a figure, NAME's "MEDIAN (MAX)" wall time, and
#                               its median peak RSS, as the tables show them.
#   bench_gptq_line             the table's first line: gptq's version and build.

# The variables set here are the sourcing script's to read, and $results is
# its to set.
# shellcheck disable=SC2034,SC2154

bench_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../server/serve.sh
source "$bench_lib_dir/../server/serve.sh"

bench_usage_error() {
    echo "${0##*/}: $*" >&2
    exit 2
}

bench_numbers() {
    local message=$1 n
    shift
    for n in "$@"; do
        case $n in
            ''|*[!0-9]*) bench_usage_error "$message" ;;
        esac
    done
}

bench_build_dir() {
    [ -d "$1" ] || bench_usage_error "no build directory: $1"
    build=$(cd "$1" && pwd)
}

bench_need_bins() {
    local bin
    for bin in "$@"; do
        [ -x "$bin" ] || bench_usage_error "not built: $bin (cmake --build $build)"
    done
}

bench_need_tools() {
    local tool
    for tool in "$@"; do
        command -v "$tool" > /dev/null ||
            bench_usage_error "$tool not found (Debian: apt-get install -y curl jq openssl)"
    done
}

bench_setup() {
    serve_setup "$1"
    bash "$bench_lib_dir/../certs/make_certs.sh" "$tmp/certs" > /dev/null
    ca=$tmp/certs/ca.pem
}

bench_serve() {
    serve_start "$build/tests/server/gptq_test_server" --certs "$tmp/certs" "$@"
    base=https://127.0.0.1:$port
}

bench_copy_gptq() {
    cp "$build/src/gptq" "$tmp/gptq"
    gptq=$tmp/gptq
}

progress() {
    echo "${0##*/}: $*" >&2
}

fail() {
    echo "${0##*/}: $*" >&2
    exit 1
}

check() {
    rm -f "$tmp/out/"*
    "$build/tests/bench/gptq_bench_run" --runs 0 --out-dir "$tmp/out" "$@" > /dev/null ||
        fail "a check run failed (above)"
}

measure() {
    local n=$1
    shift
    "$build/tests/bench/gptq_bench_run" --runs "$n" "$@" >> "$results" || fail "a timed run failed (above)"
}

get() {
    awk -v n="$1" -v f="$2" '$1 == n { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }' \
        "$results"
}

fmt() {
    awk -v x="$1" 'BEGIN { if (x == "") print "-"; else if (x < 1) printf "%.3f\n", x; else if (x < 10) printf "%.2f\n", x;
                           else if (x < 1000) printf "%.1f\n", x; else printf "%.0f\n", x }'
}

median_max() {
    echo "$(fmt "$(get "$1" wall_ms_median)") ($(fmt "$(get "$1" wall_ms_max)"))"
}

rss() {
    fmt "$(get "$1" rss_mib_median)"
}

bench_gptq_line() {
    echo "gptq: $("$gptq" --version 2> /dev/null | head -n 1) ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt") build, $build/src/gptq)"
}
