#!/bin/bash
# The test server's modes as its header comment documents them are the modes
# of its table (modes() in test_server.cpp, which --help lists): none
# documented and missing, none served and undocumented.
#
# Usage: check_modes.sh SERVER SOURCE
#   SERVER  the built gptq_test_server; SOURCE  tests/server/test_server.cpp
set -eu

server=$1
source=$2

# A documented mode is a line "//   NAME[/ARG...] ..." between the paragraph
# that introduces the modes and the proxy refusals; "anything else" (the
# 404) and "usage chunk" (a part of the standard stream) read the same way.
documented=$(sed -n '/^\/\/ The mode of a request is/,/^\/\/ Proxy refusals/p' "$source" |
    grep -oE '^//   [a-z][a-z0-9-]*(/[A-Z][A-Z.]*)*( |$)' | sed 's|^//   ||; s/ $//' |
    grep -vxE 'anything|usage' | sort)
served=$("$server" --help | sed -n '/^  Modes/,$p' | tail -n +2 | tr ' ' '\n' | grep . | sort)

if [ "$documented" != "$served" ]; then
    echo "check_modes.sh: the header comment (<) and the table of modes (>) differ:" >&2
    diff <(printf '%s\n' "$documented") <(printf '%s\n' "$served") >&2 || true
    exit 1
fi
echo "check_modes.sh: $(printf '%s\n' "$served" | wc -l) modes, documented and served"
