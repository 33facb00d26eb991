#!/usr/bin/env bash
# Checks gptq as installed from its Debian package (CI: after
# `apt-get install ./gptq_*.deb`): the program, its manual and its bash
# completion work from the installed files under /usr.
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

# The manual, found by man's own search path, not by a path we give it.
page="$(man -w gptq)" || fail "man -w gptq finds no page"
case "$page" in
  /usr/share/man/man1/gptq.1*) ;;
  *) fail "man -w gptq found '$page', not the package's page" ;;
esac
manual="$(MANPAGER=cat MANWIDTH=80 man gptq 2> /dev/null)" || fail "man gptq failed"
case "$manual" in
  *"EXIT STATUS"*) ;;
  *) fail "man gptq shows no EXIT STATUS section" ;;
esac

# The bash completion, found by bash-completion's own on-demand loading.
[ -f /usr/share/bash-completion/bash_completion ] || fail "bash-completion is not installed"
spec="$(env -i PATH=/usr/bin:/bin bash --norc --noprofile -c \
  'source /usr/share/bash-completion/bash_completion; __load_completion gptq; complete -p gptq' 2>&1)" ||
  fail "bash-completion does not load a completion for gptq: $spec"
echo "check_installed: gptq $version from the package: --version, man gptq ($page), bash completion work"
