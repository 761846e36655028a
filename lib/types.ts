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
/** What cp() does with a file or symlink that exists at dest, where force lets it replace one (GNU cp's --update). */
export type UpdateRule = 'all' | 'none' | 'older';
export const UPDATE_RULES: readonly UpdateRule[] = ['all', 'none', 'older'];
/**
 * What cp() keeps of each entry beyond fs.cp's copy when asked, by GNU cp's
 * `--preserve` names: 'links' (entries sharing an inode in the source share
 * one in the destination), 'xattr' (extended attributes, POSIX ACLs and file
 * capabilities among them), 'timestamps' (atime and mtime of every entry,
 * symlinks and directories that were there included), 'mode' (directories
 * that were there get the source's mode too: files always do), 'ownership'
 * (owner and group: as root; otherwise what the OS lets this user give).
 */
export type PreserveAttribute = 'links' | 'xattr' | 'timestamps' | 'mode' | 'ownership';
export const PRESERVE_ATTRIBUTES: readonly PreserveAttribute[] = ['links', 'xattr', 'timestamps', 'mode', 'ownership'];
/** What cp() does with a FIFO, a socket or a device in the source: fs.cp's error (default), skip it (counted), or make it again (devices as root only). */
export type SpecialRule = 'error' | 'skip' | 'recreate';
export const SPECIAL_RULES: readonly SpecialRule[] = ['error', 'skip', 'recreate'];
/** Every StrategyRequest (not exported by the package: for checks and messages). */
export const STRATEGY_REQUESTS: readonly StrategyRequest[] = ['auto', 'reflink', 'hardlink', 'copy'];

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

/** Options of cp(): fs.promises.cp's, with the same meaning, plus cowcopy's own. */
export interface CpOptions {
  /** Copy directories (default false: a directory is an ERR_FS_EISDIR error, as in fs.cp). */
  recursive?: boolean;
  /** Replace existing files and symlinks (default true). */
  force?: boolean;
  /** With `force: false`, an existing destination is an error instead of being skipped. */
  errorOnExist?: boolean;
  /**
   * Which existing files and symlinks `force` replaces, as GNU cp's `--update`: 'all' (default),
   * 'none' (skipped, counted), 'older' (only those whose modification time is older than the source's).
   */
  update?: UpdateRule;
  /** Follow symlinks in the source (copy what they point to). */
  dereference?: boolean;
  /**
   * Keep more of each entry than fs.cp does (default none: fs.cp's copy): a
   * list of PreserveAttribute names, or 'all' (what `cp -a` keeps).
   */
  preserve?: readonly PreserveAttribute[] | 'all';
  /** FIFOs, sockets and devices in the tree: 'error' (default, as fs.cp), 'skip' (counted in `skipped`), 'recreate' (as `cp -a`; devices as root only). */
  special?: SpecialRule;
  /** Give files (and the directories cp creates) the source's atime and mtime. */
  preserveTimestamps?: boolean;
  /**
   * Copy link targets as they are (default **true**, unlike fs.cp). `false`:
   * relative targets are made absolute, pointing into the source, as fs.cp does.
   */
  verbatimSymlinks?: boolean;
  /** Called for every entry (and the top level): return false to skip it (and everything below). */
  filter?: (source: string, destination: string) => boolean | Promise<boolean>;
  /** copyFile mode flags for the files (fs.constants.COPYFILE_*). */
  mode?: number;
  /** As in clone(): 'auto' (default), or a forced 'reflink' | 'hardlink' | 'copy'. */
  strategy?: StrategyRequest;
  /** Worker threads of the walk, 1-64 (default: one per core, at least 2, and one on btrfs, where a second measured slower; the fallback keeps 8 operations in flight). */
  concurrency?: number;
  /**
   * Aborts the copy: the promise rejects with an AbortError. A tree stops between files (natively on
   * Linux also within a file's byte copy, every 64 MiB, removing that file); a single file (src not a
   * directory) whose copy has begun is finished.
   */
  signal?: AbortSignal;
  /** Called about every 100 ms during a copy, and once at the end. */
  onProgress?: (progress: CpProgress) => void;
}

export interface CpProgress {
  files: number;
  bytes: number;
  /** Not known in advance: the walk does not count the tree first. */
  totalFiles?: number;
}

export interface TreeResult {
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
  /** Entries not copied: filtered out, existing with `force: false` or kept by `update`, special files with `special: 'skip'`. */
  skipped: number;
  /** FIFOs, sockets and devices made again (`special: 'recreate'`). */
  specials: number;
  /** How many files took each strategy (a file hard-linked to one copied before it, preserve 'links': 'hardlink', no bytes). */
  strategies: Record<Strategy, number>;
}

/** How snapshot() made a workspace: a btrfs snapshot, an APFS directory clone (both at once, whatever the size), or the walk. */
export type SnapshotStrategy = 'snapshot' | 'clonefile' | 'walk';

export interface SnapshotOptions {
  /** A read-only btrfs snapshot. Nothing else is made read-only at once: there `result.readOnly` is false. */
  readOnly?: boolean;
  /** Default true. false: fail with ENOTSUP, saying why, where no whole-tree clone is possible, instead of walking. */
  walk?: boolean;
  /** For the walk, as cp()'s. */
  concurrency?: number;
  /** For the walk, as cp()'s (a whole-tree clone is one call and is not stopped). */
  signal?: AbortSignal;
  /** For the walk, as cp()'s. */
  onProgress?: (progress: CpProgress) => void;
}

interface SnapshotCommon {
  strategy: SnapshotStrategy;
  /** Why no whole-tree clone was made (strategy 'walk'); null when one was. */
  reason: string | null;
  /** Whether the workspace was made read-only (a btrfs snapshot asked to be). */
  readOnly: boolean;
  /** The subvolumes inside src (paths relative to it), which a btrfs snapshot holds as empty directories; [] otherwise. */
  nestedSubvolumes: string[];
}

/** Made at once: no entry was visited, so there are no counts. */
export interface WholeTreeSnapshot extends SnapshotCommon {
  strategy: 'snapshot' | 'clonefile';
}

/** Made by the walk (cp() with preserve 'all' and special 'recreate'): its counts. */
export interface WalkedSnapshot extends SnapshotCommon, TreeResult {
  strategy: 'walk';
}

export type SnapshotResult = WholeTreeSnapshot | WalkedSnapshot;

export interface TemplateResult {
  /** 'subvolume': the directory is now a btrfs subvolume with the same contents; 'none': nothing was needed, or nothing is possible. */
  made: 'subvolume' | 'none';
  /** What snapshot() of the directory uses from now on. */
  strategy: SnapshotStrategy;
  /** Why snapshot() will walk (strategy 'walk'); else null. */
  reason: string | null;
  /** made 'subvolume': the copy of the contents into it (clones where the volume has them). */
  copied: TreeResult | null;
  /**
   * Where the old directory was kept: something in it changed while it was
   * copied, so the template may lack that change (a COWCOPY_TEMPLATE_CHANGED
   * warning says what). null when it was removed, or nothing was made.
   */
  kept: string | null;
}

export interface RemoveResult {
  /** 'subvolume': deleted whole by btrfs (as root, or with user_subvol_rm_allowed); 'walk': entry by entry. */
  strategy: 'subvolume' | 'walk';
}
