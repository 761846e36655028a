#!/usr/bin/env bash
# Creates and loop-mounts the filesystems the tests run on, as root:
#   xfs (reflink=1), btrfs  - clones really happen there
#   ext4                    - no reflink: kernel copy, holes
#   small ext4 (16 MiB)     - runs out of space on purpose (ENOSPC)
#   coarse (ext4, 128-byte inodes) - keeps times in whole seconds, as HFS+
#                             does: the suites there honour the granularity
#   eio (btrfs, read-only)  - a tree whose file d5/f5 fails to read (EIO): its
#                             data blocks were overwritten behind btrfs's back,
#                             so their checksums no longer match
# Images are sparse files: they take only the space written into them.
# Idempotent: mounted ones are left alone, existing images are reused. Each
# holds a marker, .cowcopy-test-fs (its name), by which the tests know it from
# a directory that merely has its path; --unmount removes the mount points.
# Prints the environment the tests read, ready for eval:
#   eval "$(sudo bash scripts/mount-test-fs.sh)"
#   bash scripts/mount-test-fs.sh --unmount
set -euo pipefail

images=${COWCOPY_FS_IMAGES:-/var/tmp/cowcopy-fs}
mounts=${COWCOPY_FS_MOUNTS:-/mnt/cowcopy}

say() { echo "mount-test-fs: $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  say "needs root (loop devices and mount); the filesystem suites skip without it"
  exit 1
fi

if [ "${1:-}" = "--unmount" ]; then
  for name in xfs btrfs ext4 small coarse eio; do
    if mountpoint -q "$mounts/$name"; then umount "$mounts/$name" && say "unmounted $mounts/$name"; fi
    # An empty mount point left behind would look like the filesystem to a
    # later run; one that is not empty is someone's data and stays.
    if [ -d "$mounts/$name" ] && ! mountpoint -q "$mounts/$name" && ! rmdir "$mounts/$name" 2>/dev/null; then
      say "left $mounts/$name: not empty"
    fi
  done
  if [ -d "$mounts" ] && ! rmdir "$mounts" 2>/dev/null; then say "left $mounts: not empty"; fi
  exit 0
fi

need() {
  command -v "$1" >/dev/null 2>&1 || { say "missing $1 (apt-get install -y $2)"; exit 1; }
}
need mkfs.xfs xfsprogs
need mkfs.btrfs btrfs-progs
need mkfs.ext4 e2fsprogs
need btrfs-map-logical btrfs-progs
need filefrag e2fsprogs

# name size mkfs-command...
setup() {
  local name=$1 size=$2; shift 2
  local image="$images/$name.img" dir="$mounts/$name"
  mkdir -p "$images" "$dir"
  if mountpoint -q "$dir"; then
    say "$dir already mounted"
  else
    if [ ! -f "$image" ]; then
      truncate -s "$size" "$image"
      "$@" "$image" >/dev/null
      say "created $image ($size)"
    fi
    mount -o loop "$image" "$dir"
    say "mounted $image on $dir"
  fi
  # Tests may run as any user; they work in their own subdirectories.
  chmod 1777 "$dir"
  echo "$name" >"$dir/.cowcopy-test-fs"
}

setup_eio() {
  local image="$images/eio.img" dir="$mounts/eio"
  mkdir -p "$images" "$dir"
  if mountpoint -q "$dir"; then
    say "$dir already mounted"
    return
  fi
  rm -f "$image"
  truncate -s 200M "$image"
  mkfs.btrfs -q -f "$image" >/dev/null
  mount -o loop "$image" "$dir"
  echo eio >"$dir/.cowcopy-test-fs"
  for d in 0 1 2 3 4 5 6 7 8 9; do
    mkdir -p "$dir/tree/d$d"
    for f in 0 1 2 3 4 5 6 7 8 9; do head -c 65536 /dev/urandom >"$dir/tree/d$d/f$f"; done
  done
  sync
  local logical physical
  logical=$(filefrag -v -b1 "$dir/tree/d5/f5" | awk '$1 == "0:" { sub(/\.\./, "", $4); print $4 }')
  umount "$dir"
  physical=$(btrfs-map-logical -l "$logical" "$image" | awk '/physical/ { print $6; exit }')
  dd if=/dev/urandom of="$image" bs=4096 seek=$((physical / 4096)) count=1 conv=notrunc,fsync status=none
  # The loop device btrfs wrote through can outlive the umount, its cache
  # still holding f5's good block; a mount that reused it would read no
  # error. Detach it, and make sure the new mount reads the bad block.
  local dev tries=0
  for dev in $(losetup -n -O NAME -j "$image"); do losetup -d "$dev" 2>/dev/null; done
  while [ -n "$(losetup -j "$image")" ] && [ $((tries += 1)) -le 100 ]; do sleep 0.1; done
  mount -o loop,ro "$image" "$dir"
  if cat "$dir/tree/d5/f5" >/dev/null 2>&1; then
    echo "mount-test-fs: $dir/tree/d5/f5 reads without an error" >&2
    exit 1
  fi
  say "mounted $image on $dir (read-only; tree/d5/f5 reads fail)"
}

setup xfs 2G mkfs.xfs -q -f -m reflink=1
setup btrfs 2G mkfs.btrfs -q -f
setup ext4 2G mkfs.ext4 -q -F
setup small 16M mkfs.ext4 -q -F -m 0
setup coarse 1G mkfs.ext4 -q -F -I 128
setup_eio

echo "export COWCOPY_TEST_XFS=$mounts/xfs"
echo "export COWCOPY_TEST_BTRFS=$mounts/btrfs"
echo "export COWCOPY_TEST_EXT4=$mounts/ext4"
echo "export COWCOPY_TEST_SMALL=$mounts/small"
echo "export COWCOPY_TEST_COARSE=$mounts/coarse"
echo "export COWCOPY_TEST_EIO=$mounts/eio"
