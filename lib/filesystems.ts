// statfs(2) f_type magic numbers (linux/magic.h) to the names `df -T` prints.
// Only for display: whether a volume can clone is always found by trying.
const LINUX_MAGIC: ReadonlyMap<number, string> = new Map([
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0xef53, 'ext4'], // ext2/ext3/ext4 share the magic
  [0x01021994, 'tmpfs'],
  [0x794c7630, 'overlay'],
  [0x6969, 'nfs'],
  [0xff534d42, 'cifs'],
  [0xfe534d42, 'smb2'],
  [0x2fc12fc1, 'zfs'],
  [0xf2f52010, 'f2fs'],
  [0xca451a4e, 'bcachefs'],
  [0x65735546, 'fuse'],
  [0x4d44, 'vfat'],
  [0x2011bab0, 'exfat'],
  [0x5346544e, 'ntfs'],
  [0x7366746e, 'ntfs3'],
  [0x3153464a, 'jfs'],
  [0x52654973, 'reiserfs'],
  [0x73717368, 'squashfs'],
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x858458f6, 'ramfs'],
  [0xe0f5e1e2, 'erofs'],
  [0x01161970, 'gfs2'],
  [0x7461636f, 'ocfs2'],
  [0x00c36400, 'ceph'],
  [0x6a656a63, 'fakeowner'],
  [0x61756673, 'aufs'],
  [0x9660, 'iso9660'],
]);

export function filesystemName(type: number | bigint): string {
  const magic = Number(type);
  return LINUX_MAGIC.get(magic) ?? `unknown (0x${magic.toString(16)})`;
}
