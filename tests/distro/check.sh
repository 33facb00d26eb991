#!/usr/bin/env bash
# Proves the README's quick start on a fresh Debian: bootstraps a minimal
# system of RELEASE (bookworm, trixie) in a scratch directory, copies a clean
# clone of this repository's HEAD into it, and runs the quick start's two
# commands for that release word for word as root there, one after the
# other, timing each.
# Not run by CTest or CI (it needs the Debian archive and about 15 minutes).
#
#   tests/distro/check.sh RELEASE [SCRATCH]     (as root; SCRATCH defaults
#                                                to /var/tmp/gptq-distro)
#
# The fresh system has Debian's default /etc/hosts (localhost on 127.0.0.1
# and ::1), which is what the development machines lack. Daemons that
# packages would start are not started (policy-rc.d), since a chroot shares
# the host's network. Exits 0 when both commands succeed.
set -euo pipefail

fail() {
  echo "check.sh: $*" >&2
  exit 1
}

release="${1:-}"
[ -n "$release" ] || fail "usage: tests/distro/check.sh RELEASE [SCRATCH]"
[ "$(id -u)" = 0 ] || fail "run as root (debootstrap and chroot need it)"
command -v debootstrap > /dev/null || fail "debootstrap is missing: apt-get install debootstrap"
src="$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
scratch="${2:-/var/tmp/gptq-distro}"
root="$scratch/$release"
log="$scratch/$release.log"
mirror="${GPTQ_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# The quick start's two commands for this release, each one line (the
# README promises one line each): tests/distro/quickstart.sh.
mapfile -t commands < <(bash "$src/tests/distro/quickstart.sh" "$release" "$src/README.md")
[ "${#commands[@]}" = 2 ] || fail "README.md's quick start should have two one-line sh blocks for $release, found ${#commands[@]} lines"

cleanup() {
  # Whatever still runs inside the chroot, then its mounts.
  for p in /proc/[0-9]*; do
    if [ "$(readlink "$p/root" 2> /dev/null)" = "$root" ]; then
      kill -9 "${p#/proc/}" 2> /dev/null || true
    fi
  done
  for m in dev/pts dev proc ""; do
    mountpoint -q "$root/$m" && umount -l "$root/$m" || true
  done
}
trap cleanup EXIT

mkdir -p "$scratch"
cleanup
rm -rf "$root"
: > "$log"
seconds() { date +%s; }

echo "== debootstrap $release (minbase) into $root"
start=$(seconds)
debootstrap --variant=minbase "$release" "$root" "$mirror" >> "$log" 2>&1 || fail "debootstrap failed (see $log)"
echo "   $(($(seconds) - start)) s"

# What a fresh install has and the chroot does not get by itself.
cat > "$root/etc/hosts" << 'HOSTS'
127.0.0.1	localhost
127.0.1.1	debian

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
HOSTS
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
# The root a mount point of its own, as / is on a real system: the tests'
# `unshare -m` (a hosts file of their own) makes / private, which fails on a
# directory that is no mount point.
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"

# A clean clone, as a user would make: only what is committed.
git clone --quiet --no-local "$src" "$root/root/gptq"

# What the commands install and enable, from here on.
packages() { chroot "$root" dpkg-query -W -f '${db:Status-Abbrev}\n' | grep -c '^ii'; }
enabled() { (cd "$root/etc" && ls -1 systemd/system/*.wants rc[2-5].d 2> /dev/null | grep -v ':$' | sort -u); }
packages_before=$(packages)
enabled_before="$(enabled)"

status=0
for i in 0 1; do
  echo "== command $((i + 1)): ${commands[$i]}"
  start=$(seconds)
  if chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 TERM=dumb bash -c "cd /root/gptq && ${commands[$i]}" < /dev/null >> "$log" 2>&1; then
    echo "   ok in $(($(seconds) - start)) s; $(($(packages) - packages_before)) packages installed so far"
  else
    echo "   FAILED (exit $?) after $(($(seconds) - start)) s; the end of $log:"
    tail -n 30 "$log" | sed 's/^/   | /'
    status=1
    break
  fi
  if [ "$i" = 0 ]; then
    # After the first command gptq must run its main job: here, against
    # nothing, it must at least start and say what it is.
    version="$(chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin gptq --version)" ||
      { echo "   gptq --version failed after command 1"; status=1; break; }
    echo "   ${version%%$'\n'*}"
  fi
done
# No service may be enabled (a timer such as man-db's, which rebuilds its
# index, is only reported).
new_units="$(comm -13 <(echo "$enabled_before") <(enabled) | grep . || true)"
if [ -n "$new_units" ]; then
  echo "== units the commands enabled:" $new_units
  if grep -qv '\.timer$' <<< "$new_units"; then
    echo "   (a service: the quick start must not enable one)"
    status=1
  fi
fi
echo "== $release: $([ "$status" = 0 ] && echo passed || echo failed); log in $log"
exit "$status"
