#!/usr/bin/env bash
# Builds the Debian package of BUILD_DIR with cpack into OUT_DIR and checks
# its metadata and contents with dpkg-deb: what `apt-get install ./gptq_*.deb`
# would install, without installing it (CI does that: check_installed.sh).
#
#   tests/package/check_deb.sh BUILD_DIR OUT_DIR VERSION
set -euo pipefail
trap 'echo "$(basename "$0"): failed at line $LINENO" >&2' ERR
build="$1"
out="$2"
version="$3"

fail() {
  echo "check_deb: $*" >&2
  exit 1
}

rm -rf "$out"
mkdir -p "$out"
# cpack installs the build into its staging directory; that must not
# overwrite the install_manifest.txt of the user's `cmake --install`, which
# `cmake --build build --target uninstall` reads.
manifest="$build/install_manifest.txt"
manifest_before="$(cat "$manifest" 2> /dev/null || echo '(none)')"
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$out" > "$out/cpack.log" 2>&1 || {
  cat "$out/cpack.log" >&2
  fail "cpack failed"
}
[ "$(cat "$manifest" 2> /dev/null || echo '(none)')" = "$manifest_before" ] ||
  fail "cpack changed $manifest"
deb="$out/gptq_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || fail "no $deb (cpack made: $(ls "$out"))"

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = gptq ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', not $version"
[ "$(field Architecture)" = "$(dpkg --print-architecture)" ] || fail "Architecture is '$(field Architecture)'"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ "$(field Section)" = utils ] || fail "Section is '$(field Section)'"
case "$(field Description)" in
  *OpenAI-compatible*) ;;
  *) fail "Description: '$(field Description)'" ;;
esac

# Depends names the package of every shared library gptq links, and only
# those: dpkg-shlibdeps' answer for the binary in the package.
depends="$(field Depends)"
tmp="$out/root"
dpkg-deb -x "$deb" "$tmp"
for lib in $(objdump -p "$tmp/usr/bin/gptq" | awk '/NEEDED/ { print $2 }'); do
  path="$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|64bit|AArch64/ && !p { print $NF; p = 1 }')"
  [ -n "$path" ] || path="$(ldconfig -p | awk -v l="$lib" '$1 == l && !p { print $NF; p = 1 }')"
  # dpkg knows the path it unpacked, which merged /usr may have moved.
  owner=""
  for candidate in "$path" "$(readlink -f "$path")" "/usr$path" "${path#/usr}"; do
    owner="$(dpkg -S "$candidate" 2>/dev/null | sed -n "1s/:.*//p" || true)"
    [ -z "$owner" ] || break
  done
  [ -n "$owner" ] || fail "no package owns $path ($lib)"
  case ", $depends" in
    *", $owner "* | *", $owner,"* | *", $owner") ;;
    *) fail "gptq links $lib ($owner), which Depends ('$depends') lacks" ;;
  esac
done
case "$depends" in
  *libssl3*) ;;
  *) fail "Depends ('$depends') lacks libssl3" ;;
esac

for file in usr/bin/gptq usr/share/man/man1/gptq.1 usr/share/doc/gptq/copyright \
  usr/share/bash-completion/completions/gptq usr/share/zsh/site-functions/_gptq \
  usr/share/fish/vendor_completions.d/gptq.fish usr/bin/gptq-filter usr/share/vim/vimfiles/plugin/gptq.vim \
  usr/share/nvim/site/plugin/gptq.vim usr/share/doc/gptq/editors.md; do
  [ -f "$tmp/$file" ] || fail "the package lacks /$file"
done
said="$("$tmp/usr/bin/gptq" --version)"
[ "${said%%$'\n'*}" = "gptq $version" ] || fail "the packaged gptq --version says '$said'"
echo "check_deb: $(basename "$deb"): Depends: $depends"
