#!/bin/bash
# Runs the shell completions of completions/ in real shells against the
# built gptq: bash (with bash-completion), fish and zsh.
#
# Usage: test_completions.sh GPTQ_BINARY COMPLETIONS_DIR
# Run it with a clean environment (CTest does: env -i); it makes its own HOME
# with a config file of known roles and profiles.
set -u

gptq_bin=$1
completions=$2
failures=0
here=$(cd "$(dirname "$0")" && pwd)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export HOME=$tmp/home
unset XDG_CONFIG_HOME GPTQ_CONFIG GPTQ_PROFILE
export PATH=$(dirname "$gptq_bin"):/usr/local/bin:/usr/bin:/bin
mkdir -p "$HOME/.config/gptq" "$tmp/files/subdir" "$tmp/empty"
cat > "$HOME/.config/gptq/config" <<'INI'
model = m
[role.shell]
system = s
[role.fr]
system = f
[profile.local]
model = l
[profile.azure]
model = a
INI
printf '[role.elsewhere]\n[profile.other]\n' > "$tmp/other.ini"
cp "$tmp/other.ini" "$HOME/other.ini"
printf '[role.a]\ntemperature = hot\n' > "$tmp/broken.ini"
touch "$tmp/files/notes.txt" "$tmp/files/schema.json"

# check NAME EXPECTED ACTUAL
check() {
    if [[ $2 == "$3" ]]; then
        echo "ok: $1"
    else
        echo "FAIL: $1"
        echo "  expected: $(printf '%q' "$2")"
        echo "  actual:   $(printf '%q' "$3")"
        failures=$((failures + 1))
    fi
}

check "gptq on PATH is the one under test" "$gptq_bin" "$(command -v gptq)"

# --- bash ----------------------------------------------------------------

# bash_complete WORD... : completes the last WORD (may be empty) of the
# command line of these words, split as bash splits them, in a fresh bash with bash-completion and
# gptq.bash loaded; prints the candidates sorted, one per line, and anything
# the completion wrote to stderr.
bash_complete() {
    bash --norc --noprofile -c '
        source /usr/share/bash-completion/bash_completion
        source "$1"
        shift
        function=$(complete -p gptq | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        # The line as typed: a lone "=" is a word of its own in COMP_WORDS
        # (bash splits words at it) but has no spaces around it.
        COMP_LINE=
        for word in "$@"; do
            if [[ $word == = || ${last-} == = ]]; then COMP_LINE+=$word; else COMP_LINE+="${last+ }$word"; fi
            last=$word
        done
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        "$function" gptq "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf "%s\n" "${COMPREPLY[@]}" | sort
    ' bash "$completions/gptq.bash" "$@" 2>&1
}

if [[ -f /usr/share/bash-completion/bash_completion ]]; then
    check "bash: complete -p gptq" "complete -F _gptq gptq" \
        "$(bash --norc --noprofile -c 'source /usr/share/bash-completion/bash_completion; source "$1"; complete -p gptq' \
            bash "$completions/gptq.bash" 2>&1)"
    check "bash: -r completes the roles" $'fr\nshell' "$(bash_complete gptq -r '')"
    check "bash: --role s completes the roles starting with s" "shell" "$(bash_complete gptq --role s)"
    check "bash: -P completes the profiles" $'azure\nlocal' "$(bash_complete gptq -m x -P '')"
    check "bash: --config FILE -P uses that file" "other" "$(bash_complete gptq --config "$tmp/other.ini" -P '')"
    # bash splits --config=FILE at the = into three words.
    check "bash: --config=FILE -r uses that file" "elsewhere" "$(bash_complete gptq --config = "$tmp/other.ini" -r '')"
    check "bash: --config ~/FILE -r uses that file" "elsewhere" "$(bash_complete gptq --config '~/other.ini' -r '')"
    check "bash: -r with a broken config: nothing" "" "$(bash_complete gptq --config "$tmp/broken.ini" -r '')"
    check "bash: -r without a config: nothing" "" "$(HOME=$tmp/empty bash_complete gptq -r '')"
    check "bash: --sch completes --schema" "--schema" "$(bash_complete gptq --sch)"
    check "bash: --list- completes both lists" $'--list-profiles\n--list-roles' "$(bash_complete gptq --list-)"
    check "bash: -f completes file names" $'notes.txt\nschema.json\nsubdir' \
        "$(cd "$tmp/files" && bash_complete gptq -f '')"
    check "bash: --schema completes file names" "schema.json" "$(cd "$tmp/files" && bash_complete gptq --schema sch)"
    check "bash: -s takes free text" "" "$(cd "$tmp/files" && bash_complete gptq -s '')"
    check "bash: the word after -s is its value, not an option" "" "$(bash_complete gptq -s -)"
    check "bash: PROMPT words are free text" "" "$(cd "$tmp/files" && bash_complete gptq hello '')"
    check "bash: --file-type completes the MIME types" $'image/gif\nimage/jpeg\nimage/png\nimage/webp' \
        "$(bash_complete gptq --file-type image/)"
    check "bash: --detail completes the levels" $'auto\nhigh\nlow' "$(bash_complete gptq --detail '')"
    check "bash: --attachments completes the kinds or none" $'audio\nimage\nnone\npdf' \
        "$(bash_complete gptq --attachments '')"
    check "bash: --attachments completes the kinds not yet in the list" $'image,audio\nimage,pdf' \
        "$(bash_complete gptq --attachments image,)"
    check "bash: --max-attachment takes a size" "" "$(cd "$tmp/files" && bash_complete gptq --max-attachment '')"
    check "bash: --dry-run= completes full" "full" "$(bash_complete gptq --dry-run = '')"
    check "bash: the word after --dry-run is free" "" "$(cd "$tmp/files" && bash_complete gptq --dry-run '')"
    check "bash: --batch-wait takes a batch id" "" "$(cd "$tmp/files" && bash_complete gptq --batch-wait '')"
    check "bash: --batch-cancel takes a batch id" "" "$(cd "$tmp/files" && bash_complete gptq --batch-cancel '')"
    check "bash: --batch-l completes --batch-list" "--batch-list" "$(bash_complete gptq --batch-l)"
else
    echo "skip: bash-completion is not installed"
fi

# check_lines SHELL COMPLETE SUBDIR: the checks that fish and zsh share,
# with COMPLETE the function that completes a command LINE in SHELL, and
# SUBDIR how that shell offers the directory subdir.
check_lines() {
    local shell=$1 complete=$2 subdir=$3
    check "$shell: -r completes the roles" $'fr\nshell' "$($complete 'gptq -r ')"
    check "$shell: -P completes the profiles" $'azure\nlocal' "$($complete 'gptq -P ')"
    check "$shell: --config FILE -P uses that file" "other" "$($complete "gptq --config $tmp/other.ini -P ")"
    check "$shell: --config ~/FILE -r uses that file" "elsewhere" "$($complete "gptq --config ~/other.ini -r ")"
    check "$shell: -r with a broken config: nothing" "" "$($complete "gptq --config $tmp/broken.ini -r ")"
    check "$shell: -r without a config: nothing" "" "$(HOME=$tmp/empty $complete 'gptq -r ')"
    check "$shell: --sch completes --schema" "--schema" "$($complete 'gptq --sch')"
    check "$shell: -f completes file names" $'notes.txt\nschema.json\n'"$subdir" \
        "$(cd "$tmp/files" && $complete 'gptq -f ')"
    check "$shell: -s takes free text" "" "$(cd "$tmp/files" && $complete 'gptq -s ')"
    check "$shell: PROMPT words are free text" "" "$(cd "$tmp/files" && $complete 'gptq hello ')"
    check "$shell: --file-type completes the MIME types" $'image/gif\nimage/jpeg\nimage/png\nimage/webp' \
        "$($complete 'gptq --file-type image/')"
    check "$shell: --detail completes the levels" $'auto\nhigh\nlow' "$($complete 'gptq --detail ')"
    check "$shell: --attachments completes the kinds or none" $'audio\nimage\nnone\npdf' \
        "$($complete 'gptq --attachments ')"
    check "$shell: --max-attachment takes a size" "" "$(cd "$tmp/files" && $complete 'gptq --max-attachment ')"
    check "$shell: the word after --dry-run is free" "" "$(cd "$tmp/files" && $complete 'gptq --dry-run ')"
    check "$shell: --batch-wait takes a batch id" "" "$(cd "$tmp/files" && $complete 'gptq --batch-wait ')"
    check "$shell: --batch-cancel takes a batch id" "" "$(cd "$tmp/files" && $complete 'gptq --batch-cancel ')"
    # --batch-li, not --batch-l: fish 4 (Debian 13) also offers what matches
    # as a subsequence, and --batch-l is one of --batch-cancel.
    check "$shell: --batch-li completes --batch-list" "--batch-list" "$($complete 'gptq --batch-li')"
}

# --- fish ----------------------------------------------------------------

# fish_complete LINE: the candidates fish offers for LINE, sorted, without
# their descriptions.
fish_complete() {
    fish --no-config -c 'set -p fish_complete_path $argv[1]; complete -C $argv[2]' \
        "$completions" "$1" 2>&1 | cut -f1 | sort
}

if command -v fish > /dev/null; then
    check_lines fish fish_complete subdir/
    check "fish: --config=FILE -r uses that file" "elsewhere" "$(fish_complete "gptq --config=$tmp/other.ini -r ")"
    check "fish: --dry-run= completes full" "--dry-run=full" "$(fish_complete 'gptq --dry-run=')"
    # (fish offers options for a word starting with "-" even where a value is
    # due: its own design, so not checked here.)
else
    echo "skip: fish is not installed"
fi

# --- zsh -----------------------------------------------------------------

# zsh_complete LINE: the candidates zsh offers for LINE, sorted (see
# zsh_complete.zsh); gives up after 20 seconds.
zsh_complete() {
    timeout 20 zsh -f "$here/zsh_complete.zsh" "$completions" "$1" 2>&1 | sort
}

if command -v zsh > /dev/null; then
    check "zsh: _gptq parses" "" "$(zsh -n "$completions/_gptq" 2>&1)"
    check "zsh: compinit binds gptq to _gptq" "_gptq" "$(zsh -f -c '
        fpath=($1 $fpath); autoload -U compinit; compinit -u -D; print -r -- $_comps[gptq]
        autoload +X _gptq' zsh "$completions" 2>&1)"
    check_lines zsh zsh_complete subdir
    check "zsh: --role=s completes the roles starting with s" "shell" "$(zsh_complete 'gptq --role=s')"
    check "zsh: the word after -s is its value, not an option" "" "$(zsh_complete 'gptq -s -')"
    check "zsh: --dry-run= completes full" "full" "$(zsh_complete 'gptq --dry-run=')"
else
    echo "skip: zsh is not installed"
fi

if ((failures)); then
    echo "$failures check(s) failed"
    exit 1
fi
