#!/usr/bin/env bash
# A wine that runs node.exe of every Node line: Debian 12's wine 8.0 starts
# node.exe 20 and 22, but node.exe 24 and 26 abort at once there ("Fatal
# process out of memory: SegmentedTable::InitializeTable (subspace
# allocation)": V8 reserves its tables with VirtualAlloc2 placeholders).
# Debian 13's wine 10.0 runs all four. It is installed into a Debian 13
# root made by debootstrap (Debian's packages only), kept in /var/cache so a
# machine that keeps it pays the ~2 minutes once; scripts/emulate/wine.mjs runs
# wine in it. As root; prints the variable to export:
#   eval "$(bash scripts/emulate/setup-wine.sh)"
set -euo pipefail

dir=${COWCOPY_WINE_ROOT:-/var/cache/cowcopy-wine/trixie}
here=$(cd "$(dirname "$0")" && pwd)
say() { echo "setup-wine: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "needs root (debootstrap, chroot); the system wine is used instead"
  exit 1
fi
if [ ! -x "$dir/usr/lib/wine/wine64" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  rm -rf "$dir.partial"
  mkdir -p "$(dirname "$dir")"
  say "debootstrap Debian 13 (trixie) with wine64 into $dir (about 2 minutes, 1.4 GB)"
  debootstrap --variant=minbase --include=wine64 trixie "$dir.partial" http://deb.debian.org/debian >/dev/null
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
fi
say "$(cd / && bash "$here/wine-chroot.sh" "$dir" -- /usr/lib/wine/wine64 --version 2>/dev/null || echo 'wine in the chroot does not start')"
echo "export COWCOPY_WINE_ROOT=$dir"
