// The public types. Names are stable: later versions only add to them.

/** What actually happened to a file. */
export type Strategy =
  /** Copy-on-write clone (FICLONE, clonefile, block cloning): O(1), no data copied. */
  | 'reflink'
  /** A new name for the same inode: writes through either name change both. */
  | 'hardlink'
  /** The kernel moved the bytes (copy_file_range, sendfile, CopyFileEx). */
  | 'kernel'
  /** Read and written through a buffer in this process. */
  | 'userspace';

/** What the caller asks for. Anything but `'auto'` is forced: it fails rather than doing something else. */
export type StrategyRequest = 'auto' | 'reflink' | 'hardlink' | 'copy';

export interface CloneOptions {
  /** Default `'auto'`: reflink, else kernel copy, else user-space copy. Never hardlink unless asked. */
  strategy?: StrategyRequest;
  /** Replace an existing destination (default `true`, like fs). `false` fails with EEXIST. */
  overwrite?: boolean;
  /** Give the copy the source's atime and mtime (nanoseconds on the native backend). */
  preserveTimestamps?: boolean;
}

export interface CloneResult {
  strategy: Strategy;
  /** Size of the destination in bytes. */
  bytes: number;
}

export interface ProbeResult {
  platform: NodeJS.Platform;
  /** Filesystem name (`'xfs'`, `'btrfs'`, `'ext4'`, `'apfs'`, ...), or `'unknown (0x...)'`. */
  filesystem: string;
  /** A clone of a scratch file in this directory really succeeded. */
  reflink: boolean;
  /** A hard link of a scratch file in this directory really succeeded. */
  hardlink: boolean;
  /** The kernel can copy between files here (copy_file_range). */
  copyFileRange: boolean;
  /** Whether these answers came from the native backend. */
  native: boolean;
}

export type BackendName = 'native' | 'fallback';
