#!/usr/bin/env bash
# Checks gptq as installed from its Debian package (CI: after
# `apt-get install ./gptq_*.deb`): the program, its manual and its bash
# completion and the Vim plugin work from the installed files under /usr.
#
#   tests/package/check_installed.sh VERSION
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO" >&2' ERR
version="$1"

fail() {
  echo "check_installed: $*" >&2
  exit 1
}

dpkg -s gptq > /dev/null || fail "the gptq package is not installed"
[ "$(dpkg-query -W -f '${Version}' gptq)" = "$version" ] || fail "installed version is not $version"
[ "$(dpkg -S /usr/bin/gptq | cut -d: -f1)" = gptq ] || fail "/usr/bin/gptq is not the package's"

said="$(env -i PATH=/usr/bin:/bin /usr/bin/gptq --version)"
[ "${said%%$'\n'*}" = "gptq $version" ] || fail "gptq --version says '$said'"
case "$said" in
  *OpenSSL*) ;;
  *) fail "gptq --version names no OpenSSL: '$said'" ;;
esac

# The manual: the package's own page, by the path dpkg installed. Not by
# `man -w gptq`: after the README's `cmake --install` too, /usr/local's page
# comes first on man's path, as /usr/local/bin/gptq does on PATH, and that is
# right for a user who installed both.
page=/usr/share/man/man1/gptq.1
dpkg -L gptq | grep -qx "$page" || fail "the package did not install $page"
manual="$(MANPAGER=cat MANWIDTH=80 man -l "$page" 2> /dev/null)" || fail "man -l $page failed"
case "$manual" in
  *"EXIT STATUS"*) ;;
  *) fail "man gptq shows no EXIT STATUS section" ;;
esac
# ... and man finds a page for gptq at all.
man -w gptq > /dev/null || fail "man -w gptq finds no page"

# Vim's :Gptq, from the plugin the package put on Vim's default
# 'runtimepath', with nothing in HOME.
if command -v vim > /dev/null; then
  home="$(mktemp -d)"
  env -i HOME="$home" PATH=/usr/bin:/bin TERM=dumb vim -N -u NORC -i NONE -Es \
    -c "if exists(':Gptq') != 2 | cquit | endif" -c 'qall!' < /dev/null ||
    fail "Vim has no :Gptq command from the package"
  rm -rf "$home"
fi

# The bash completion, found by bash-completion's own on-demand loading.
[ -f /usr/share/bash-completion/bash_completion ] || fail "bash-completion is not installed"
spec="$(env -i PATH=/usr/bin:/bin bash --norc --noprofile -c \
  'source /usr/share/bash-completion/bash_completion; __load_completion gptq; complete -p gptq' 2>&1)" ||
  fail "bash-completion does not load a completion for gptq: $spec"
echo "check_installed: gptq $version from the package: --version, man gptq ($page), Vim's :Gptq, bash completion work"
