#!/bin/bash
# Runs a real Vim (or Neovim) in batch mode with editors/gptq.vim sourced,
# against gptq_test_server, and checks the exact bytes of the files it
# writes: :Gptq replaces only its range, :GptqBelow inserts below it, the
# reply ends in one newline, and on failure the buffer is untouched and the
# error is reported, not put in the text.
#
# Usage: test_vim.sh EDITOR GPTQ SERVER CERTS_DIR SOURCE_DIR
#   EDITOR is vim or nvim (a path or a name on PATH); CERTS_DIR is made by
#   tests/certs/make_certs.sh. Exit status 0 when every check passes.
set -u

if [ "$#" -ne 5 ]; then
    echo "usage: test_vim.sh EDITOR GPTQ SERVER CERTS_DIR SOURCE_DIR" >&2
    exit 2
fi
editor=$1 gptq=$2 server=$3 certs=$4 source_dir=$5
plugin=$source_dir/editors/gptq.vim
editor_path=$(command -v "$editor") || { echo "test_vim.sh: $editor not found" >&2; exit 2; }

# shellcheck source=../server/serve.sh
source "$source_dir/tests/server/serve.sh"
serve_setup gptq-editors

serve_start "$server" --certs "$certs"

failures=0
fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# run_editor NAME MODE RANGE-COMMAND: edits $tmp/NAME.txt in the editor,
# runs RANGE-COMMAND (e.g. "2,3Gptq fix this") with the base URL of MODE,
# writes the file, and saves v:errmsg and the messages in NAME.errmsg and
# NAME.messages. The environment is exactly this one: no proxy variables,
# an empty HOME, a fake key.
run_editor() {
    local name=$1 mode=$2 command=$3
    mkdir -p "$tmp/home"
    cat > "$tmp/$name.vim" <<VIM
set nomore
source $plugin
let g:gptq_command = shellescape('$gptq') . ' --cacert ' . shellescape('$certs/ca.pem') . ' --retries 0'
edit $tmp/$name.txt
$command
call writefile([v:errmsg], '$tmp/$name.errmsg')
call writefile(split(execute('messages'), "\n"), '$tmp/$name.messages')
write
qall!
VIM
    env -i PATH=/usr/bin:/bin HOME="$tmp/home" TERM=dumb OPENAI_API_KEY=sk-test-fake \
        OPENAI_BASE_URL="https://127.0.0.1:$port/$mode/v1" \
        timeout 60 "$editor_path" -N -u NONE -i NONE -Es -S "$tmp/$name.vim" \
        < /dev/null > "$tmp/$name.out" 2>&1
    local status=$?
    if [ "$status" -ne 0 ]; then
        fail "$name: $editor exited with $status:"
        cat "$tmp/$name.out" >&2
    fi
}

# expect_file NAME EXPECTED: the file's bytes are exactly EXPECTED (printf %b).
expect_file() {
    local name=$1
    printf '%b' "$2" > "$tmp/$name.expected"
    if ! cmp -s "$tmp/$name.expected" "$tmp/$name.txt"; then
        fail "$name: the file is not as expected; expected, then actual:"
        od -c "$tmp/$name.expected" >&2
        od -c "$tmp/$name.txt" >&2
    fi
}

# 1. :Gptq replaces lines 2-4; the echo server returns the prompt words, a
#    blank line and the lines, whose two trailing blank lines gptq drops.
printf '%b' 'keep: first\ntab\there "q" back\\slash h\xc3\xa9 100% $HOME\n\n\nkeep: last\n' > "$tmp/replace.txt"
run_editor replace echo '2,4Gptq fix this'
expect_file replace 'keep: first\nfix this\n\ntab\there "q" back\\slash h\xc3\xa9 100% $HOME\nkeep: last\n'
if [ -s "$tmp/replace.errmsg" ] && [ "$(cat "$tmp/replace.errmsg")" != "" ]; then
    fail "replace: an error was reported: $(cat "$tmp/replace.errmsg")"
fi

# 2. The same through the streaming mode: the reply arrives in pieces.
printf 'keep\nline two\n\n\n' > "$tmp/stream.txt"
run_editor stream sse '2,$Gptq'
expect_file stream 'keep\nline two\n'

# 3. :GptqBelow inserts the reply below line 2 and keeps the lines.
printf 'keep: first\nline two\nkeep: last\n' > "$tmp/below.txt"
run_editor below echo '2GptqBelow fix this'
expect_file below 'keep: first\nline two\nfix this\n\nline two\nkeep: last\n'

# 3b. --usage writes a line on stderr after a good reply: not a failure, the
#     reply replaces the line and the usage is among the messages.
printf 'keep: first\nline two\nkeep: last\n' > "$tmp/usage.txt"
run_editor usage echo '2Gptq --usage fix this'
expect_file usage 'keep: first\nfix this\n\nline two\nkeep: last\n'
if ! grep -q '^gptq: usage:' "$tmp/usage.messages"; then
    fail "usage: the usage line is not among the messages:"
    cat "$tmp/usage.messages" >&2
fi

# 4. A server error: the file is unchanged, the error reported, not in it.
printf 'keep: first\nline two\nkeep: last\n' > "$tmp/failure.txt"
run_editor failure status/500 '2Gptq fix this'
expect_file failure 'keep: first\nline two\nkeep: last\n'
if ! grep -q '^gptq: api: .*test error 500' "$tmp/failure.errmsg"; then
    fail "failure: v:errmsg is not gptq's error: $(cat "$tmp/failure.errmsg")"
fi
if ! grep -q 'test error 500' "$tmp/failure.messages"; then
    fail "failure: the error is not among the messages:"
    cat "$tmp/failure.messages" >&2
fi
if grep -q 'gptq' "$tmp/failure.txt"; then
    fail "failure: the error is in the text"
fi

# 5. The same for :GptqBelow.
printf 'keep: first\nline two\nkeep: last\n' > "$tmp/below-failure.txt"
run_editor below-failure status/500 '2GptqBelow fix this'
expect_file below-failure 'keep: first\nline two\nkeep: last\n'
if ! grep -q '^gptq: api: .*test error 500' "$tmp/below-failure.errmsg"; then
    fail "below-failure: v:errmsg is not gptq's error: $(cat "$tmp/below-failure.errmsg")"
fi

# 6. A stream that breaks off after some text: gptq keeps that text on its
#    stdout but fails (exit 8), so the buffer must stay as it was.
printf 'keep: first\nsome words to echo\nkeep: last\n' > "$tmp/broken.txt"
run_editor broken sse-error '2Gptq'
expect_file broken 'keep: first\nsome words to echo\nkeep: last\n'
if ! grep -q '^gptq: .*incomplete' "$tmp/broken.errmsg"; then
    fail "broken: v:errmsg is not gptq's error: $(cat "$tmp/broken.errmsg")"
fi

if [ "$failures" -ne 0 ]; then
    echo "test_vim.sh ($editor): $failures check(s) failed" >&2
    exit 1
fi
echo "test_vim.sh ($editor): all checks passed"
