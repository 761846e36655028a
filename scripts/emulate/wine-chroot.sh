#!/usr/bin/env bash
# Runs a command inside the Debian 13 root that scripts/emulate/setup-wine.sh
# made, in a mount namespace of its own: /proc, /dev and each DIR given are
# bound at the same paths inside, the working directory is kept. Nothing
# stays mounted afterwards.
#   wine-chroot.sh ROOT DIR... -- COMMAND ARG...
set -euo pipefail
if [ "${1:-}" != "--inside" ]; then
  exec unshare --mount "$0" --inside "$@"
fi
shift
root=$1
shift
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
while [ "$1" != "--" ]; do
  mkdir -p "$root$1"
  mount --rbind "$1" "$root$1"
  shift
done
shift
exec chroot "$root" /usr/bin/env -C "$PWD" "$@"
