#!/usr/bin/env bash
# Prints the two commands of README.md's "## Quick start" for one Debian
# release, one a line: the ```sh blocks whose label (the last text line
# before the block) names "Debian 12" for bookworm or "Debian 13" for
# trixie, in order. tests/distro/check.sh runs them on a fresh system and
# .ci/run runs them in CI, so that neither can drift from the README.
#
#   tests/distro/quickstart.sh RELEASE [README]
set -euo pipefail
case "${1:-}" in
  bookworm) label="Debian 12" ;;
  trixie) label="Debian 13" ;;
  *)
    echo "usage: tests/distro/quickstart.sh bookworm|trixie [README]" >&2
    exit 2
    ;;
esac
readme="${2:-$(dirname "$0")/../../README.md}"
awk -v label="$label" '
  /^## Quick start/ { in_section = 1; next }
  in_section && /^## / { exit }
  in_section && /^```sh$/ { in_block = 1; mine = index(last, label) > 0; next }
  in_block && /^```$/ { in_block = 0; next }
  in_block { if (mine) print; next }
  in_section && NF { last = $0 }
' "$readme"
