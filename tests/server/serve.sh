# Sourced (bash) by the shell tests and benchmarks that run gptq_test_server:
#
#   serve_setup NAME      $tmp: a fresh scratch directory (NAME in its name);
#                         when the script ends, however it ends, the server
#                         (if started) stops and $tmp is removed.
#   serve_start SERVER ARGS...
#                         starts SERVER (gptq_test_server) with ARGS, its
#                         stdin a pipe that only this script holds, so that
#                         it dies with the script; sets $port (https) and
#                         $http_port from the ports line it prints. Exits 1,
#                         with the server's stderr, when it does not start.

serve_setup() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    server_pid=
    trap serve_cleanup EXIT
    trap 'exit 130' INT TERM
}

serve_cleanup() {
    # Closing fd 3 is the server's stdin EOF: it exits on its own.
    exec 3>&-
    if [ -n "$server_pid" ]; then
        wait "$server_pid" 2> /dev/null || true
    fi
    rm -rf "$tmp"
}

serve_start() {
    local server=$1 line
    shift
    exec 3> >(exec "$server" "$@" > "$tmp/ports" 2> "$tmp/server.err")
    server_pid=$!
    port=
    http_port=
    for _ in $(seq 100); do
        if read -r line 2> /dev/null < "$tmp/ports" && [ -n "$line" ]; then
            port=$(printf '%s\n' "$line" | tr ' ' '\n' | sed -n 's/^https=//p')
            http_port=$(printf '%s\n' "$line" | tr ' ' '\n' | sed -n 's/^http=//p')
            break
        fi
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "${0##*/}: the test server did not start:" >&2
        cat "$tmp/server.err" >&2
        exit 1
    fi
}
